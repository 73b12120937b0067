package io.openbureau.cli;

import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Import command: a member's NDJSON file goes through the batch path, with a summary and an exit status")
class ImportCommandTest {
  private static TestBureau bureau;
  private static int seq = 300;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("import");
    for (String m : List.of("lender-a", "lender-s")) {
      assertEquals(201, bureau.api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", m).put("name", m)).status());
    }
    assertEquals(200, bureau.api.post("/v1/members/lender-s/suspend", Tokens.admin(), null).status());
  }

  @AfterAll
  static void stop() {
    bureau.close();
  }

  private record Run(int status, String out, String err) {
  }

  private static Run importFile(String member, Path file) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = ImportCommand.run(bureau.config(), new String[] {"--member", member, file.toString()},
      new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static synchronized String person() {
    return NationalId.of("310104", LocalDate.of(1990, 1, 1).plusDays(seq), seq++);
  }

  static String tradeline(String ref, String id, String balance) {
    return new JsonObject().put("type", "tradeline").put("accountRef", ref).put("nationalId", id)
      .put("productType", "CONSUMER_LOAN").put("openedAt", "2020-01-15").put("principal", "20000.00").put("status", "OPEN")
      .put("balance", balance).put("daysPastDue", 0).encode();
  }

  static String repayment(String ref, String period, int dpd) {
    return new JsonObject().put("type", "repayment").put("accountRef", ref).put("period", period)
      .put("amountDue", "500.00").put("amountPaid", dpd == 0 ? "500.00" : "0.00").put("daysPastDue", dpd).encode();
  }

  private static String hex(String nationalId) {
    return BorrowerKeys.hex(new BorrowerKeys(bureau.config().identity().hmacKeyId(),
      bureau.config().identity().hmacSecret()).key(nationalId));
  }

  private static long scoreVersion(String nationalId) {
    return bureau.count("SELECT coalesce((SELECT version FROM scores WHERE borrower_key = '\\x" + hex(nationalId) + "'), -1)");
  }

  private static String cached(String nationalId) {
    Redis redis = Redis.createClient(bureau.bureau().vertx(), bureau.config().redis().endpoints().get(0));
    try {
      var r = TestBureau.await(redis.send(Request.cmd(Command.GET)
        .arg(bureau.config().redis().keyPrefix() + "{b:" + hex(nationalId) + "}:score")).toCompletionStage().toCompletableFuture());
      return r == null ? null : r.toString();
    } finally {
      redis.close();
    }
  }

  /** The stored state of the accounts these tests write (everything but timestamps). */
  private static String snapshot(String refPrefix) {
    return bureau.count("SELECT count(*) FROM tradelines WHERE account_ref LIKE '" + refPrefix + "%'") + "/"
      + bureau.count("SELECT coalesce(sum(balance), 0) FROM tradelines WHERE account_ref LIKE '" + refPrefix + "%'") + "/"
      + bureau.count("SELECT count(*) FROM repayments WHERE account_ref LIKE '" + refPrefix + "%'");
  }

  @Test
  @DisplayName("an import applies the valid lines, reports the rejected ones by line number, and a re-import changes nothing")
  void importsValidLinesAndIsIdempotent(@TempDir Path dir) throws IOException {
    String p1 = person();
    String p2 = person();
    String bad = p2.substring(0, 17) + (p2.charAt(17) == '0' ? '1' : '0');
    Path file = dir.resolve("book.ndjson");
    Files.writeString(file, String.join("\n",
      tradeline("IMP-1", p1, "1000.00"),                               // 1
      "{not json",                                                     // 2
      tradeline("IMP-2", p2, "2000.00"),                               // 3
      tradeline("IMP-9", bad, "2000.00"),                              // 4 bad national id
      repayment("IMP-1", "2026-01", 30),                               // 5
      repayment("IMP-404", "2026-01", 0),                              // 6 unknown account
      "",                                                              // 7 blank: skipped
      tradeline("IMP-3", p1, "3000.00")) + "\n");                      // 8

    Run first = importFile("lender-a", file);
    assertEquals(ImportCommand.REJECTED_LINES, first.status(), first.toString());
    assertTrue(first.out().contains("accepted  4"), first.out());
    assertTrue(first.out().contains("rejected  3"), first.out());
    assertTrue(first.out().contains("line 2: invalid_request"), first.out());
    assertTrue(first.out().contains("line 4: invalid_request: nationalId"), first.out());
    assertTrue(first.out().contains("line 6: unknown_account"), first.out());
    assertFalse(first.out().contains(bad) || first.err().contains(bad), "the national id is never printed");
    assertTrue(first.err().contains("100.0%"), "a final progress line: " + first.err());
    assertEquals("3/6000/1", snapshot("IMP-"));
    assertEquals(0, bureau.count("SELECT count(*) FROM tradelines WHERE account_ref = 'IMP-9'"));
    // the scores are in Postgres and Redis when the command returns
    assertTrue(cached(p1).startsWith(scoreVersion(p1) + "|"), cached(p1));
    assertTrue(cached(p2).startsWith(scoreVersion(p2) + "|"), cached(p2));

    long p2Version = scoreVersion(p2);
    Run again = importFile("lender-a", file);
    assertEquals(ImportCommand.REJECTED_LINES, again.status(), again.toString());
    assertTrue(again.out().contains("accepted  4"), again.out());
    assertTrue(again.out().contains("rejected  3"), again.out());
    assertEquals("3/6000/1", snapshot("IMP-"));
    assertEquals(p2Version, scoreVersion(p2), "an unchanged tradeline does not rescore");
  }

  @Test
  @DisplayName("lines spread over several chunks are applied in file order, also when chunks overlap: a later line about an account wins")
  void ordersAcrossChunks(@TempDir Path dir) throws IOException {
    String p = person();
    String q = person();
    String r = person();
    StringBuilder nd = new StringBuilder();
    nd.append(tradeline("ORD-0", p, "100.00")).append('\n');                 // line 1
    for (int i = 2; i <= 1999; i++) {
      nd.append(tradeline("ORD-" + i, person(), "100.00")).append('\n');
    }
    nd.append(tradeline("ORD-Q1", q, "100.00")).append('\n');                // line 2000, last of chunk 1
    nd.append(tradeline("ORD-Q2", q, "100.00")).append('\n');                // line 2001: chunk 2 overlaps chunk 1, q in both
    for (int i = 2002; i <= 4000; i++) {
      nd.append(tradeline("ORD-" + i, person(), "100.00")).append('\n');
    }
    nd.append(tradeline("ORD-Q2", r, "100.00")).append('\n');                // line 4001: ORD-Q2 is q's, not r's
    for (int i = 4002; i <= 6000; i++) {
      nd.append(tradeline("ORD-" + i, person(), "100.00")).append('\n');
    }
    nd.append(repayment("ORD-0", "2026-02", 60)).append('\n');               // line 6001: a later chunk repays ORD-0
    nd.append(tradeline("ORD-0", p, "200.00")).append('\n');                 // line 6002: and updates it
    Path file = dir.resolve("big.ndjson");
    Files.writeString(file, nd.toString());

    Run run = importFile("lender-a", file);
    assertEquals(ImportCommand.REJECTED_LINES, run.status(), run.toString());
    assertTrue(run.out().contains("accepted  6,001"), run.out());
    assertTrue(run.out().contains("line 4001: account_person_mismatch"), run.out());
    assertEquals(200, bureau.count("SELECT balance FROM tradelines WHERE member_id = 'lender-a' AND account_ref = 'ORD-0'"));
    assertEquals(60, bureau.count("SELECT days_past_due FROM repayments WHERE account_ref = 'ORD-0'"));
    assertEquals(5999, bureau.count("SELECT count(*) FROM tradelines WHERE account_ref LIKE 'ORD-%'"));
    assertEquals(2, bureau.count("SELECT active_loans FROM scores WHERE borrower_key = '\\x" + hex(q) + "'"),
      "q's score counts its accounts from both chunks");
    assertEquals(-1, scoreVersion(r), "r has no account");
    assertTrue(cached(p).startsWith(scoreVersion(p) + "|"), cached(p));
    assertTrue(cached(q).startsWith(scoreVersion(q) + "|"), cached(q));
  }

  @Test
  @DisplayName("a line over 64 KiB is rejected by its number; one too long to buffer stops the import after the lines before it")
  void longLines(@TempDir Path dir) throws IOException {
    String pad = "x".repeat(100 * 1024);
    String huge = "y".repeat(300 * 1024);
    Path file = dir.resolve("long.ndjson");
    Files.writeString(file, String.join("\n",
      tradeline("LONG-1", person(), "100.00"),                                          // 1
      "{\"type\":\"tradeline\",\"accountRef\":\"LONG-2\",\"pad\":\"" + pad + "\"}",     // 2: rejected
      tradeline("LONG-3", person(), "100.00"),                                          // 3
      huge,                                                                             // 4: stops
      tradeline("LONG-5", person(), "100.00")) + "\n");                                // 5
    Run run = importFile("lender-a", file);
    assertEquals(ImportCommand.FAILED, run.status(), run.toString());
    assertTrue(run.err().contains("line 4"), run.err());
    assertEquals(2, bureau.count("SELECT count(*) FROM tradelines WHERE account_ref IN ('LONG-1', 'LONG-3')"));
    assertEquals(0, bureau.count("SELECT count(*) FROM tradelines WHERE account_ref IN ('LONG-2', 'LONG-5')"));
  }

  @Test
  @DisplayName("an unknown or suspended member is refused with status 3 and nothing is written")
  void refusesUnknownOrSuspendedMember(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("one.ndjson");
    Files.writeString(file, tradeline("REF-1", person(), "100.00") + "\n");
    Run unknown = importFile("lender-nobody", file);
    assertEquals(ImportCommand.FAILED, unknown.status());
    assertTrue(unknown.err().contains("member lender-nobody does not exist"), unknown.err());
    Run suspended = importFile("lender-s", file);
    assertEquals(ImportCommand.FAILED, suspended.status());
    assertTrue(suspended.err().contains("SUSPENDED"), suspended.err());
    assertEquals(0, bureau.count("SELECT count(*) FROM tradelines WHERE account_ref = 'REF-1'"));
    assertEquals(ImportCommand.FAILED, importFile("lender-a", dir.resolve("missing.ndjson")).status());
  }
}
