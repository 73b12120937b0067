package io.openbureau.cli;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.ConfigLoader;
import io.openbureau.identity.NationalId;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("The CLI runs from any directory, mints only tokens the server accepts, and keeps stdout for results")
class CliTest {
  @TempDir
  Path elsewhere;

  record Run(int status, String out, String err) {
  }

  /** The jar's entry point in a process of its own, in {@code cwd}, with only {@code env} set (plus PATH). */
  static Run main(Path cwd, Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
      "-cp", classPath(), "io.openbureau.Main"));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("BUREAU_") || k.equals("PORT"));
    pb.environment().putAll(env);
    Path out = Files.createTempFile("cli", ".out");
    Path err = Files.createTempFile("cli", ".err");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the CLI did not finish");
    Run run = new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    Files.delete(out);
    Files.delete(err);
    return run;
  }

  /** The test class path with every relative entry made absolute (the child runs elsewhere). */
  private static String classPath() {
    List<String> entries = new ArrayList<>();
    for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
      entries.add(Path.of(e).toAbsolutePath().toString());
    }
    return String.join(File.pathSeparator, entries);
  }

  @Test
  @DisplayName("token and config check work from another working directory (home from the code's location)")
  void fromAnotherDirectory() throws Exception {
    Run token = main(elsewhere, Map.of(), "token", "--role", "lender", "--sub", "lender-a");
    assertEquals(0, token.status(), token.err());
    assertEquals(3, token.out().trim().split("\\.").length, "stdout is the token alone: " + token.out());

    Run check = main(elsewhere, Map.of(), "config", "check");
    assertEquals(0, check.status(), check.err());
    assertTrue(check.out().contains("postgres.host: \"127.0.0.1\""), check.out());
    assertTrue(check.out().contains("identity.hmacSecret: " + ConfigCheckCommand.MASK), check.out());
    assertFalse(check.out().contains("dev-only-hmac-secret"), "the secret is masked");
    assertTrue(check.out().contains("compliance.verifyParallelism: "), "keys the YAML does not hold are listed too");
  }

  @Test
  @DisplayName("config check exits non-zero listing every problem")
  void configCheckListsProblems() throws Exception {
    Run check = main(elsewhere, Map.of("BUREAU_HTTP_PROT", "1", "BUREAU_AUDIT_MAX_BATCH_ROWS", "0"), "config", "check");
    assertEquals(2, check.status(), check.err());
    assertTrue(check.err().contains("BUREAU_HTTP_PROT names no configuration key; did you mean BUREAU_HTTP_PORT"), check.err());
    assertTrue(check.err().contains("audit.maxBatchRows must be between 1 and 10000, got 0"), check.err());
  }

  @Test
  @DisplayName("config check parses the key files as start-up does: a file that is not the key is a problem, named")
  void configCheckParsesKeyFiles() throws Exception {
    Path bad = elsewhere.resolve("bad.pem");
    Files.writeString(bad, "not a key\n");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = ConfigCheckCommand.run(ConfigLoader.DEFAULT_FILE, Map.of("BUREAU_SIGNING_PUBLIC_KEY_PEM", bad.toString()),
      new String[] {"check"}, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(ConfigCheckCommand.INVALID, status);
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("signing.publicKeyPem"), err.toString(StandardCharsets.UTF_8));
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("signing.publicKeyPem: \"" + bad + "\""), out.toString(StandardCharsets.UTF_8));
  }

  @Test
  @DisplayName("token --sub is refused when the server would refuse it for the role (a borrower's must be a national id)")
  void tokenSubjectValidated() {
    BureauConfig config = ConfigLoader.load(ConfigLoader.DEFAULT_FILE, Map.of());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
      () -> TokenCommand.run(config, new String[] {"--sub", "12345", "--role", "borrower"}));
    assertTrue(e.getMessage().contains("national id"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
      () -> TokenCommand.run(config, new String[] {"--sub", "Lender A", "--role", "lender"}));
    String id = NationalId.of("110105", LocalDate.of(1980, 1, 1), 7);
    assertThrows(IllegalArgumentException.class, () -> TokenCommand.run(config, new String[] {"--sub", id, "--role", "lender"}),
      "a national id is never a member id");
    assertEquals(3, TokenCommand.run(config, new String[] {"--sub", id, "--role", "borrower"}).split("\\.").length);
  }

  @Test
  @DisplayName("import keeps stdout for the summary (log lines go to stderr) and says why a file cannot be read")
  void importStdoutAndMissingFile() throws Exception {
    try (TestBureau bureau = TestBureau.start("cliimport")) {
      assertEquals(201, bureau.api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", "lender-c")
        .put("name", "lender-c")).status());
      Path book = elsewhere.resolve("book.ndjson");
      Files.writeString(book, ImportCommandTest.tradeline("C-1", NationalId.of("310104", LocalDate.of(1991, 2, 3), 11), "100.00")
        + "\n");
      Map<String, String> env = Map.of("BUREAU_POSTGRES_DATABASE", bureau.config().postgres().database(),
        "BUREAU_REDIS_KEY_PREFIX", bureau.config().redis().keyPrefix(), "BUREAU_ENV", "test",
        // a cold JVM on a busy machine: its first connections may take longer than the 2 s default
        "BUREAU_POSTGRES_ACQUIRE_TIMEOUT_MILLIS", "30000", "BUREAU_POSTGRES_STATEMENT_TIMEOUT_MILLIS", "60000");
      Run run = main(elsewhere, env, "import", "--member", "lender-c", "book.ndjson");
      assertEquals(0, run.status(), run.err());
      String[] lines = run.out().strip().split("\n");
      assertTrue(lines[0].startsWith("import of book.ndjson for member lender-c"), run.out());
      for (String line : lines) {
        assertTrue(line.startsWith("import of") || line.matches("(lines|accepted|rejected|seconds|lines/s) +.*"),
          "not a summary line on stdout: " + line);
      }

      Run missing = main(elsewhere, env, "import", "--member", "lender-c", "gone.ndjson");
      assertEquals(ImportCommand.FAILED, missing.status());
      assertTrue(missing.err().contains("cannot read gone.ndjson: no such file"), missing.err());
      assertEquals("", missing.out());
    }
  }

  @Test
  @DisplayName("a missing import file says why, in process too")
  void missingFileReason() {
    BureauConfig config = ConfigLoader.load(ConfigLoader.DEFAULT_FILE, Map.of());
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = ImportCommand.run(config, new String[] {"--member", "lender-a", elsewhere.resolve("x.ndjson").toString()},
      new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(ImportCommand.FAILED, status);
    assertTrue(err.toString(StandardCharsets.UTF_8).contains(": no such file"), err.toString(StandardCharsets.UTF_8));
  }
}
