package io.openbureau.furnishing;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.ConfigException;
import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TcpProxy;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scores committed in Postgres always reach the cache: after a kill -9 between a chunk's commit
 * and its publish, after a publish Redis could not take, and never half a batch when Postgres is
 * cut. "The cache equals Postgres" is checked person by person: the Redis entry's version and
 * outstanding balance against the scores row.
 */
@DisplayName("Score publication: what Postgres holds reaches Redis through crashes and outages")
class ScorePublishRepairTest {
  private static final String MEMBER = "lender-s";
  private static final String TOKEN = Tokens.lender(MEMBER);
  /** More than one chunk of a batch, so the crash comes after the first commit with a second one under way. */
  private static final int PEOPLE = BatchIngest.CHUNK_LINES + 500;
  /** No pass of the repair loop during the test: the re-send alone must repair. */
  private static final long NO_REPAIR_LOOP = 3_600_000;

  private static String person(int i) {
    return NationalId.of("320102", LocalDate.of(1970, 1, 1).plusDays(i), i % 997 + 1);
  }

  private static String line(int i, String balance) {
    return new JsonObject().put("type", "tradeline").put("accountRef", "S-" + i).put("nationalId", person(i))
      .put("productType", "CONSUMER_LOAN").put("openedAt", "2021-03-01").put("principal", "20000.00")
      .put("status", "OPEN").put("balance", balance).put("daysPastDue", balance.equals("9001.00") ? 45 : 0).encode();
  }

  private static String batch(int from, int to, String balance) {
    StringBuilder b = new StringBuilder();
    for (int i = from; i < to; i++) {
      b.append(line(i, balance)).append('\n');
    }
    return b.toString();
  }

  private static Api.Res postBatch(Api api, String ndjson) {
    return api.send(api.builder("/v1/furnishing/batches", TOKEN).header("Content-Type", "application/x-ndjson")
      .POST(HttpRequest.BodyPublishers.ofString(ndjson)).build());
  }

  private static void member(TestBureau bureau) {
    assertEquals(201, bureau.api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", MEMBER).put("name", "S"))
      .status());
  }

  @Test
  @DisplayName("kill -9 between a chunk's commit and its publish, restart, re-send the batch: every cached score equals Postgres")
  void crashThenResend() throws Exception {
    try (TestBureau bureau = TestBureau.start("scorecrash", repairEvery(NO_REPAIR_LOOP))) {
      member(bureau);
      Api.Res seeded = postBatch(bureau.api, batch(0, PEOPLE, "1000.00"));
      assertEquals(200, seeded.status(), seeded.toString());
      assertEquals(PEOPLE, seeded.json().getLong("accepted"));
      assertEquals(0, stale(bureau).size(), "the seeded scores are all in Redis");
      String resend = batch(0, PEOPLE, "9001.00");

      crash(bureau, resend, "score-crash-1");

      Process restarted = serverProcess(bureau.config(), false, "score-crash-2");
      try {
        Api api = awaitReady(restarted.port, restarted);
        Api.Res again = postBatch(api, resend);
        assertEquals(200, again.status(), again.toString());
        assertEquals(PEOPLE, again.json().getLong("accepted"), again.toString());
        assertEquals(0, again.json().getLong("rejected"), again.toString());
      } finally {
        restarted.process.destroyForcibly();
        restarted.process.waitFor(10, TimeUnit.SECONDS);
      }
      List<String> left = stale(bureau);
      assertEquals(List.of(), left.subList(0, Math.min(5, left.size())),
        left.size() + " people's cached score differs from Postgres after the re-send");
      assertEquals(PEOPLE, bureau.count("SELECT count(*) FROM scores WHERE outstanding_balance = 9001.00"));
    }
  }

  @Test
  @DisplayName("kill -9 between a chunk's commit and its publish, restart: the restarted process repairs Redis with no request")
  void crashThenRepairLoop() throws Exception {
    try (TestBureau bureau = TestBureau.start("scorecrashloop", repairEvery(NO_REPAIR_LOOP))) {
      member(bureau);
      assertEquals(200, postBatch(bureau.api, batch(0, PEOPLE, "1000.00")).status());
      crash(bureau, batch(0, PEOPLE, "9001.00"), "score-crash-loop-1");
      Process restarted = serverProcess(bureau.config(), false, "score-crash-loop-2", 200);
      try {
        awaitReady(restarted.port, restarted);
        awaitTrue(() -> stale(bureau).isEmpty(), "the restarted process republished every committed score");
      } finally {
        restarted.process.destroyForcibly();
        restarted.process.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  @DisplayName("a publish that failed because Redis was cut mid-batch repairs itself once Redis is back, with no further request")
  void failedPublishRepairsItself() throws Exception {
    try (TcpProxy redis = new TcpProxy(6379)) {
      JsonObject overrides = repairEvery(200).put("redis",
        new JsonObject().put("endpoints", new JsonArray().add("redis://127.0.0.1:" + redis.port())));
      try (TestBureau bureau = TestBureau.start("scorerepair", overrides)) {
        member(bureau);
        Api.Res seeded = postBatch(bureau.api, batch(0, PEOPLE, "1000.00"));
        assertEquals(200, seeded.status(), seeded.toString());
        assertEquals(0, stale(bureau).size());

        // stream the batch: the first chunk commits and publishes, then Redis is cut, then the rest
        String answer;
        try (Socket socket = new Socket("127.0.0.1", bureau.config().http().port())) {
          OutputStream body = socket.getOutputStream();
          write(body, "POST /v1/furnishing/batches HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + TOKEN
            + "\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
          chunk(body, batch(0, BatchIngest.CHUNK_LINES, "9001.00"));
          awaitTrue(() -> bureau.count("SELECT count(*) FROM tradelines WHERE balance = 9001.00")
            == BatchIngest.CHUNK_LINES, "the first chunk committed");
          awaitTrue(() -> stale(bureau).isEmpty(), "the first chunk published");
          redis.cut();
          chunk(body, batch(BatchIngest.CHUNK_LINES, PEOPLE, "9001.00"));
          write(body, "0\r\n\r\n");
          socket.setSoTimeout(60_000);
          answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
          assertEquals(PEOPLE, bureau.count("SELECT count(*) FROM tradelines WHERE balance = 9001.00"),
            "every line was applied in Postgres");
          assertEquals(PEOPLE - BatchIngest.CHUNK_LINES, stale(bureau).size(),
            "the second chunk's scores are committed and not in Redis while it is cut");
        } finally {
          redis.restore();
        }
        // no request from now on: the repair loop alone must bring Redis level with Postgres
        awaitTrue(() -> stale(bureau).isEmpty(), "every cached score equals Postgres again without a request");
        assertEquals(0, bureau.count("SELECT count(*) FROM scores WHERE published_version < version"));
        // and the batch was told: 503 problem+json naming the cache (the lines themselves were applied)
        String status = answer.substring(0, answer.indexOf("\r\n"));
        String json = answer.substring(answer.indexOf('{'), answer.lastIndexOf('}') + 1);
        assertEquals("HTTP/1.1 503 Service Unavailable", status, answer);
        assertTrue(answer.toLowerCase(java.util.Locale.ROOT).contains("content-type: application/problem+json"), answer);
        assertEquals("unavailable", new JsonObject(json).getString("code"), answer);
        assertTrue(new JsonObject(json).getString("detail").contains("cache"), answer);
      }
    }
  }

  @Test
  @DisplayName("a batch while Postgres is cut answers 503 problem+json naming the database: no line rejected, nothing half-applied")
  void postgresCutIs503() throws Exception {
    try (TcpProxy pg = new TcpProxy(5432)) {
      JsonObject overrides = repairEvery(200).put("postgres", new JsonObject().put("port", pg.port()));
      try (TestBureau bureau = TestBureau.start("scorepgcut", overrides)) {
        member(bureau);
        Api.Res seeded = postBatch(bureau.api, batch(0, 3, "1000.00"));
        assertEquals(200, seeded.status(), seeded.toString());
        pg.cut();
        try {
          for (String nd : List.of(batch(0, 1, "9001.00"), batch(0, 3, "9001.00"))) {
            Api.Res r = postBatch(bureau.api, nd);
            assertEquals(503, r.status(), r.toString());
            assertTrue(r.header("Content-Type").startsWith("application/problem+json"), r.toString());
            assertEquals("unavailable", r.code(), r.toString());
            assertTrue(r.json().getString("detail").contains("database"), r.toString());
            assertFalse(r.body().contains("not_applied"), r.toString());
          }
          JsonObject tradeline = new JsonObject(line(0, "9001.00"));
          tradeline.remove("type");
          tradeline.remove("accountRef");
          Api.Res put = bureau.api.put("/v1/tradelines/S-0", TOKEN, tradeline);
          assertEquals(503, put.status(), put.toString());
          assertEquals("unavailable", put.code(), put.toString());
        } finally {
          pg.restore();
        }
        // nothing of the refused batches is in Postgres, and Redis agrees with it
        awaitTrue(() -> bureau.api.get("/health/ready", null).status() == 200, "Postgres is back");
        assertEquals(3, bureau.count("SELECT count(*) FROM tradelines WHERE balance = 1000.00"));
        assertEquals(0, bureau.count("SELECT count(*) FROM tradelines WHERE balance = 9001.00"));
        assertEquals(List.of(), stale(bureau));
      }
    }
  }

  @Test
  @DisplayName("the crash hook is refused outside env test")
  void crashHookOnlyInTests() {
    BureauConfig development = BureauConfig.from(TestBureau.testConfig("hook").put("env", "development"));
    System.setProperty(CrashHook.PROPERTY, "true");
    try {
      ConfigException refused = assertThrows(ConfigException.class, () -> CrashHook.arm(development));
      assertTrue(refused.getMessage().contains("env: test"), refused.getMessage());
    } finally {
      System.clearProperty(CrashHook.PROPERTY);
    }
  }

  /** Sends the batch to a server process armed with the crash hook; checks it died between a commit and its publish. */
  private static void crash(TestBureau bureau, String ndjson, String name) throws Exception {
    Process crashing = serverProcess(bureau.config(), true, name);
    try {
      Api api = awaitReady(crashing.port, crashing);
      try {
        Api.Res r = postBatch(api, ndjson);
        assertTrue(r.status() != 200, "the process should have halted mid-batch: " + r);
      } catch (IllegalStateException expected) {
        // the connection died with the process
      }
      assertTrue(crashing.process.waitFor(30, TimeUnit.SECONDS), "the process halted");
      assertEquals(137, crashing.process.exitValue(), "halted by the test hook; see " + crashing.log);
    } finally {
      crashing.process.destroyForcibly();
    }
    List<String> staleAfterCrash = stale(bureau);
    // the two chunks' transactions overlap, so one or both may have committed: all of what did is
    // in Postgres and none of it in Redis
    assertFalse(staleAfterCrash.isEmpty(), "the crash left a chunk committed and not published");
    assertEquals(bureau.count("SELECT count(*) FROM tradelines WHERE balance = 9001.00"), staleAfterCrash.size(),
      "every line committed before the crash has its score stale in Redis");
  }

  // ---- helpers

  private static JsonObject repairEvery(long millis) {
    return new JsonObject().put("scoring", new JsonObject().put("republish", new JsonObject().put("intervalMillis", millis)));
  }

  /** One HTTP/1.1 chunk. */
  private static void chunk(OutputStream out, String text) throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    write(out, Integer.toHexString(bytes.length) + "\r\n");
    out.write(bytes);
    write(out, "\r\n");
  }

  private static void write(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  /**
   * The people whose Redis score is not Postgres's (missing, another version or another balance),
   * as hex keys; Postgres read as the superuser, Redis with pipelined GETs.
   */
  private static List<String> stale(TestBureau bureau) {
    Map<String, String[]> stored = new LinkedHashMap<>();
    try (Connection c = bureau.superuserConnection(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT encode(borrower_key, 'hex'), version, outstanding_balance FROM scores")) {
      while (rs.next()) {
        stored.put(rs.getString(1), new String[] {Long.toString(rs.getLong(2)), rs.getBigDecimal(3).toPlainString()});
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    String prefix = bureau.config().redis().keyPrefix();
    List<String> keys = new ArrayList<>(stored.keySet());
    Redis redis = Redis.createClient(bureau.bureau().vertx(), "redis://127.0.0.1:6379");
    try {
      // standalone Redis: one MGET per slice of keys
      List<Response> cached = new ArrayList<>();
      for (int from = 0; from < keys.size(); from += 500) {
        Request mget = Request.cmd(Command.MGET);
        keys.subList(from, Math.min(keys.size(), from + 500)).forEach(hex -> mget.arg(prefix + "{b:" + hex + "}:score"));
        TestBureau.await(redis.send(mget).toCompletionStage().toCompletableFuture()).forEach(cached::add);
      }
      List<String> stale = new ArrayList<>();
      for (int i = 0; i < keys.size(); i++) {
        String[] want = stored.get(keys.get(i));
        Response got = cached.get(i);
        String raw = got == null ? null : got.toString();
        if (raw == null || !raw.startsWith(want[0] + "|")
          || new BigDecimal(new JsonObject(raw.substring(raw.indexOf('|') + 1)).getString("outstandingBalance"))
            .compareTo(new BigDecimal(want[1])) != 0) {
          stale.add(keys.get(i));
        }
      }
      return stale;
    } finally {
      redis.close();
    }
  }

  private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
      Thread.sleep(50);
    }
  }

  /** A bureau server process over the test's database and Redis prefix (like InquiryCrashTest's). */
  private record Process(java.lang.Process process, int port, File log) {
  }

  private static Process serverProcess(BureauConfig cfg, boolean haltBeforePublish, String name) throws IOException {
    return serverProcess(cfg, haltBeforePublish, name, NO_REPAIR_LOOP);
  }

  private static Process serverProcess(BureauConfig cfg, boolean haltBeforePublish, String name, long repairMillis)
    throws IOException {
    int port = TestBureau.freePort();
    List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx256m"));
    if (haltBeforePublish) {
      command.add("-D" + CrashHook.PROPERTY + "=true");
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.openbureau.Main", "serve"));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().put("PORT", Integer.toString(port));
    pb.environment().put("BUREAU_ENV", "test");
    pb.environment().put("BUREAU_HTTP_INSTANCES", "2");
    pb.environment().put("BUREAU_POSTGRES_DATABASE", cfg.postgres().database());
    pb.environment().put("BUREAU_REDIS_KEY_PREFIX", cfg.redis().keyPrefix());
    pb.environment().put("BUREAU_SCORING_REPUBLISH_INTERVAL_MILLIS", Long.toString(repairMillis));
    File log = new File("target/" + name + "-server.log");
    pb.redirectErrorStream(true).redirectOutput(log);
    return new Process(pb.start(), port, log);
  }

  private static Api awaitReady(int port, Process server) throws InterruptedException {
    Api api = new Api("http://127.0.0.1:" + port);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      assertTrue(server.process().isAlive(), "the server process died at start-up; see " + server.log());
      try {
        if (api.get("/health/ready", null).status() == 200) {
          return api;
        }
      } catch (RuntimeException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the server process did not become ready; see " + server.log());
  }
}
