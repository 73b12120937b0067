package io.openbureau.disputes;

import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

@DisplayName("Disputes: the person contests a tradeline, the furnisher answers by dueBy, the clock turns silence into OVERDUE")
class DisputeTest {
  private static TestBureau bureau;
  private static TestBureau sibling;
  private static Api api;
  private static final String A = Tokens.lender("lender-a");
  private static final String B = Tokens.lender("lender-b");
  private static int seq = 300;

  @BeforeAll
  static void start() {
    // the overdue pass every second: the tests move due_by into the past and wait on the pass (with a deadline)
    bureau = TestBureau.start("disputes", new JsonObject().put("disputes", new JsonObject().put("overdueCheckSeconds", 1)));
    sibling = bureau.sibling();
    api = bureau.api;
    for (String m : List.of("lender-a", "lender-b")) {
      assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", m).put("name", m)).status());
    }
  }

  @AfterAll
  static void stop() {
    sibling.stop();
    bureau.close();
  }

  static synchronized String person() {
    return NationalId.of("110105", LocalDate.of(1980, 1, 1).plusDays(seq), seq++);
  }

  static JsonObject loan(String id) {
    return new JsonObject().put("nationalId", id).put("productType", "CONSUMER_LOAN").put("openedAt", "2021-03-15")
      .put("principal", "20000.00").put("status", "OPEN").put("balance", "12000.00").put("daysPastDue", 0);
  }

  static JsonObject defaulted(String id) {
    return loan(id).put("status", "DEFAULTED").put("daysPastDue", 180);
  }

  static void furnish(String lender, String ref, JsonObject body) {
    Api.Res r = api.put("/v1/tradelines/" + ref, lender, body);
    assertTrue(r.status() == 200 || r.status() == 201, r.toString());
  }

  static void repay(String lender, String ref, String period, int dpd) {
    Api.Res r = api.post("/v1/tradelines/" + ref + "/repayments", lender, new JsonObject().put("period", period)
      .put("amountDue", "500.00").put("amountPaid", dpd == 0 ? "500.00" : "0.00").put("daysPastDue", dpd));
    assertEquals(201, r.status(), r.toString());
  }

  static JsonObject dispute(String lender, String ref, String period) {
    JsonObject d = new JsonObject().put("lenderId", lender).put("accountRef", ref).put("reason", "WRONG_STATUS")
      .put("statement", "I repaid this loan in full in 2023; the bank confirmed it in writing.");
    return period == null ? d : d.put("period", period);
  }

  static Api.Res open(String person, JsonObject body) {
    return api.post("/v1/me/disputes", Tokens.borrower(person), body);
  }

  static String opened(String person, JsonObject body) {
    Api.Res r = open(person, body);
    assertEquals(201, r.status(), r.toString());
    return r.json().getString("disputeId");
  }

  static Api.Res resolve(String lender, String id, String outcome) {
    return api.post("/v1/furnishing/disputes/" + id + "/resolution", lender,
      new JsonObject().put("outcome", outcome).put("note", "checked against our ledger"));
  }

  static JsonObject report(String person) {
    Api.Res r = api.get("/v1/me/report", Tokens.borrower(person));
    assertEquals(200, r.status(), r.toString());
    return r.json();
  }

  static JsonObject tradeline(JsonObject report, String lender, String ref) {
    for (Object o : report.getJsonArray("tradelines")) {
      JsonObject t = (JsonObject) o;
      if (t.getString("lenderId").equals(lender) && t.getString("accountRef").equals(ref)) {
        return t;
      }
    }
    return null;
  }

  static String field(Api.Res r) {
    return r.json().getJsonArray("errors").getJsonObject(0).getString("field");
  }

  static String hex(String nationalId) {
    return BorrowerKeys.hex(new BorrowerKeys(bureau.config().identity().hmacKeyId(),
      bureau.config().identity().hmacSecret()).key(nationalId));
  }

  /** The score in Postgres (-1 when none or null). */
  static long storedScore(String nationalId) {
    return bureau.count("SELECT coalesce((SELECT value FROM scores WHERE borrower_key = '\\x" + hex(nationalId) + "'), -1)");
  }

  /** The score in Redis, as the inquiry path reads it. */
  static long cachedScore(String nationalId) {
    Redis redis = Redis.createClient(bureau.bureau().vertx(), bureau.config().redis().endpoints().get(0));
    try {
      var r = TestBureau.await(redis.send(Request.cmd(Command.GET)
        .arg(bureau.config().redis().keyPrefix() + "{b:" + hex(nationalId) + "}:score")).toCompletionStage().toCompletableFuture());
      assertNotNull(r, "a score in Redis");
      String s = r.toString();
      Integer v = new JsonObject(s.substring(s.indexOf('|') + 1)).getInteger("value");
      return v == null ? -1 : v;
    } finally {
      redis.close();
    }
  }

  static void eventually(String what, BooleanSupplier condition) {
    long deadline = System.currentTimeMillis() + 20_000;
    while (System.currentTimeMillis() < deadline) {
      if (condition.getAsBoolean()) {
        return;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    fail("not within 20 s: " + what);
  }

  /** What the clock does after dueBy: due_by moved into the past as the superuser, as if 21 days had passed. */
  static void fallDue(String disputeId) {
    bureau.sql("UPDATE disputes SET opened_at = now() - interval '21 days', due_by = now() - interval '1 day'"
      + " WHERE id = '" + disputeId + "'");
  }

  static String status(String disputeId) {
    return bureau.sqlString("SELECT status FROM disputes WHERE id = '" + disputeId + "'");
  }

  static long logged(String action, String disputeId) {
    return bureau.count("SELECT count(*) FROM access_log WHERE action = '" + action + "' AND details->>'disputeId' = '"
      + disputeId + "'");
  }

  @Test
  @DisplayName("opening answers 201 OPEN with dueBy 20 days on, and the tradeline is marked in /v1/me/report at once")
  void opensAndMarks() {
    String p = person();
    furnish(A, "OPEN-1", loan(p));
    Api.Res r = open(p, dispute("lender-a", "OPEN-1", null));
    assertEquals(201, r.status(), r.toString());
    JsonObject d = r.json();
    assertEquals("OPEN", d.getString("status"));
    assertEquals("lender-a", d.getString("lenderId"));
    assertEquals("OPEN-1", d.getString("accountRef"));
    assertNull(d.getString("period"));
    assertEquals("WRONG_STATUS", d.getString("reason"));
    assertEquals(Duration.ofDays(20), Duration.between(Instant.parse(d.getString("openedAt")), Instant.parse(d.getString("dueBy"))));
    assertFalse(r.body().contains(p), "no national id in the answer");
    JsonObject mark = tradeline(report(p), "lender-a", "OPEN-1").getJsonObject("dispute");
    assertNotNull(mark, "the tradeline carries the dispute");
    assertEquals(new JsonObject().put("disputeId", d.getString("disputeId")).put("status", "OPEN")
      .put("statement", d.getString("statement")), mark);
    assertEquals(1, logged("DISPUTE_OPENED", d.getString("disputeId")), "the opening is in the access log");
  }

  @Test
  @DisplayName("a REPORT inquiry answer carries the same dispute mark on the tradeline and on the disputed period")
  void reportInquiryMarked() {
    String p = person();
    furnish(A, "REP-1", loan(p));
    repay(A, "REP-1", "2026-01", 0);
    repay(A, "REP-1", "2026-02", 45);
    String id = opened(p, dispute("lender-a", "REP-1", "2026-02").put("reason", "WRONG_DELINQUENCY"));
    assertEquals(201, api.post("/v1/me/consents", Tokens.borrower(p), new JsonObject().put("lenderId", "lender-a")
      .put("purpose", "LOAN_ORIGINATION").put("scope", "REPORT")).status());
    Api.Res inquiry = api.post("/v1/inquiries", A, new JsonObject().put("nationalId", p).put("purpose", "LOAN_ORIGINATION")
      .put("scope", "REPORT"));
    assertEquals(200, inquiry.status(), inquiry.toString());
    JsonArray tradelines = inquiry.json().getJsonObject("report").getJsonArray("tradelines");
    JsonObject t = tradelines.getJsonObject(0);
    assertNull(t.getJsonObject("dispute"), "a period dispute marks the period, not the tradeline");
    JsonArray periods = t.getJsonArray("repayments");
    for (Object o : periods) {
      JsonObject period = (JsonObject) o;
      if (period.getString("period").equals("2026-02")) {
        assertEquals(id, period.getJsonObject("dispute").getString("disputeId"));
        assertEquals("OPEN", period.getJsonObject("dispute").getString("status"));
      } else {
        assertNull(period.getJsonObject("dispute"), "only the disputed period is marked");
      }
    }
  }

  @Test
  @DisplayName("another person's account, an unknown account and an unreported period are 404; a second open dispute is 409")
  void notFoundAndConflict() {
    String p = person();
    String other = person();
    furnish(A, "NF-1", loan(p));
    repay(A, "NF-1", "2026-03", 0);
    furnish(A, "NF-OTHER", loan(other));
    Api.Res foreign = open(p, dispute("lender-a", "NF-OTHER", null));
    assertEquals(404, foreign.status(), foreign.toString());
    assertEquals("unknown_account", foreign.code());
    assertEquals("unknown_account", open(p, dispute("lender-b", "NF-1", null)).code(), "same ref, another member");
    assertEquals("unknown_account", open(p, dispute("nobody", "NF-1", null)).code());
    Api.Res period = open(p, dispute("lender-a", "NF-1", "2025-12"));
    assertEquals(404, period.status(), period.toString());
    opened(p, dispute("lender-a", "NF-1", null));
    Api.Res again = open(p, dispute("lender-a", "NF-1", null));
    assertEquals(409, again.status(), again.toString());
    assertEquals("dispute_open", again.code());
    opened(p, dispute("lender-a", "NF-1", "2026-03")); // one period is another subject
    assertEquals("dispute_open", open(p, dispute("lender-a", "NF-1", "2026-03")).code());
    assertEquals(0, bureau.count("SELECT count(*) FROM disputes WHERE account_ref = 'NF-OTHER'"));
  }

  @Test
  @DisplayName("bad input is 400 naming the field: unknown fields, reasons, periods, blank, over-long or control-character statements")
  void badInput() {
    String p = person();
    furnish(A, "BAD-1", loan(p));
    record Case(String field, JsonObject body) {
    }
    List<Case> cases = List.of(
      new Case("extra", dispute("lender-a", "BAD-1", null).put("extra", 1)),
      new Case("reason", dispute("lender-a", "BAD-1", null).put("reason", "BECAUSE")),
      new Case("period", dispute("lender-a", "BAD-1", null).put("period", "2026-13")),
      new Case("statement", dispute("lender-a", "BAD-1", null).put("statement", "x".repeat(1001))),
      new Case("statement", dispute("lender-a", "BAD-1", null).put("statement", "")),
      new Case("statement", dispute("lender-a", "BAD-1", null).put("statement", "   ")),
      new Case("statement", dispute("lender-a", "BAD-1", null).put("statement", "bell\u0007")),
      new Case("statement", dispute("lender-a", "BAD-1", null).put("statement", 42)),
      new Case("accountRef", dispute("lender-a", "BAD 1", null)),
      new Case("lenderId", dispute("lender-a", "BAD-1", null).put("lenderId", "")));
    for (Case c : cases) {
      Api.Res r = open(p, c.body());
      assertEquals(400, r.status(), c + " -> " + r);
      assertTrue(r.body().contains("\"" + c.field() + "\""), c.field() + " named in " + r.body());
    }
    Api.Res missing = open(p, new JsonObject().put("lenderId", "lender-a").put("accountRef", "BAD-1").put("reason", "OTHER"));
    assertEquals(400, missing.status(), missing.toString());
    assertTrue(missing.body().contains("statement"), missing.body());
    assertEquals(201, open(p, dispute("lender-a", "BAD-1", null).put("statement", "\u4e2d".repeat(1000))).status(),
      "1000 characters (not bytes) are allowed");
    String id = bureau.sqlString("SELECT id FROM disputes WHERE account_ref = 'BAD-1'");
    Api.Res note = api.post("/v1/furnishing/disputes/" + id + "/resolution", A,
      new JsonObject().put("outcome", "VERIFIED").put("note", "y".repeat(1001)));
    assertEquals(400, note.status(), note.toString());
    assertTrue(note.body().contains("\"note\""), note.body());
    Api.Res outcome = api.post("/v1/furnishing/disputes/" + id + "/resolution", A,
      new JsonObject().put("outcome", "IGNORED").put("note", "n"));
    assertEquals(400, outcome.status());
    assertTrue(outcome.body().contains("\"outcome\""), outcome.body());
    assertEquals("OPEN", status(id), "nothing applied by refused input");
  }

  @Test
  @DisplayName("the person lists their disputes newest first, every status, page by page")
  void myList() {
    String p = person();
    furnish(A, "MY-1", loan(p));
    furnish(A, "MY-2", loan(p));
    furnish(B, "MY-3", loan(p));
    String first = opened(p, dispute("lender-a", "MY-1", null));
    String second = opened(p, dispute("lender-a", "MY-2", null));
    String third = opened(p, dispute("lender-b", "MY-3", null));
    assertEquals(200, resolve(A, first, "VERIFIED").status());
    Api.Res page1 = api.get("/v1/me/disputes?limit=2", Tokens.borrower(p));
    assertEquals(200, page1.status(), page1.toString());
    assertEquals(List.of(third, second), ids(page1.items()));
    Api.Res page2 = api.get("/v1/me/disputes?limit=2&cursor=" + page1.json().getString("nextCursor"), Tokens.borrower(p));
    assertEquals(List.of(first), ids(page2.items()));
    assertEquals("RESOLVED", page2.items().getJsonObject(0).getString("status"));
    assertEquals("VERIFIED", page2.items().getJsonObject(0).getString("outcome"));
    assertNull(page2.json().getString("nextCursor"));
    assertEquals(0, api.get("/v1/me/disputes", Tokens.borrower(person())).items().size(), "another person sees none");
    assertEquals(400, api.get("/v1/me/disputes?cursor=bm90LWEtY3Vyc29y", Tokens.borrower(p)).status());
  }

  static List<String> ids(JsonArray items) {
    List<String> out = new ArrayList<>();
    items.forEach(o -> out.add(((JsonObject) o).getString("disputeId")));
    return out;
  }

  @Test
  @DisplayName("the furnisher lists only disputes about its own accounts, soonest dueBy first, without any national id")
  void furnisherList() {
    String p = person();
    furnish(B, "FL-1", loan(p));
    furnish(B, "FL-2", loan(p));
    furnish(B, "FL-3", loan(p));
    String late = opened(p, dispute("lender-b", "FL-1", null));
    String soon = opened(p, dispute("lender-b", "FL-2", null));
    String done = opened(p, dispute("lender-b", "FL-3", null));
    bureau.sql("UPDATE disputes SET due_by = opened_at + interval '3 days' WHERE id = '" + soon + "'");
    assertEquals(200, resolve(B, done, "VERIFIED").status());
    // page by page, one item a page: the keyset cursor walks every unanswered dispute of lender-b once
    List<String> seen = new ArrayList<>();
    List<String> dueBys = new ArrayList<>();
    JsonObject item = null;
    String cursor = null;
    do {
      Api.Res page = api.get("/v1/furnishing/disputes?status=OPEN&limit=1" + (cursor == null ? "" : "&cursor=" + cursor), B);
      assertEquals(200, page.status(), page.toString());
      assertFalse(page.body().contains(p), "no national id");
      page.items().forEach(o -> dueBys.add(((JsonObject) o).getString("dueBy")));
      seen.addAll(ids(page.items()));
      if (ids(page.items()).contains(soon)) {
        item = page.items().getJsonObject(0);
      }
      cursor = page.json().getString("nextCursor");
    } while (cursor != null);
    assertEquals(new HashSet<>(seen).size(), seen.size(), "no item twice");
    List<String> sorted = new ArrayList<>(dueBys);
    sorted.sort(java.util.Comparator.comparing(Instant::parse));
    assertEquals(sorted, dueBys, "soonest dueBy first");
    assertTrue(seen.indexOf(soon) < seen.indexOf(late), seen.toString());
    assertFalse(seen.contains(done), "status=OPEN: not yet answered only");
    assertNotNull(item);
    for (String f : List.of("disputeId", "accountRef", "period", "reason", "statement", "openedAt", "dueBy", "status", "outcome")) {
      assertTrue(item.containsKey(f), f + " in " + item);
    }
    List<String> resolvedIds = ids(api.get("/v1/furnishing/disputes?status=RESOLVED&limit=1000", B).items());
    assertTrue(resolvedIds.contains(done) && !resolvedIds.contains(soon) && !resolvedIds.contains(late), resolvedIds.toString());
    assertTrue(ids(api.get("/v1/furnishing/disputes", A).items()).stream().noneMatch(List.of(late, soon, done)::contains),
      "lender-a sees none of lender-b's");
    assertEquals(400, api.get("/v1/furnishing/disputes?status=MAYBE", B).status());
  }

  @Test
  @DisplayName("another member's dispute, an unknown id and a non-UUID are 404; resolving twice is 409 dispute_resolved")
  void resolveBolaAndTwice() {
    String p = person();
    furnish(A, "RB-1", loan(p));
    String id = opened(p, dispute("lender-a", "RB-1", null));
    Api.Res foreign = resolve(B, id, "DELETED");
    assertEquals(404, foreign.status(), foreign.toString());
    assertEquals("dispute_not_found", foreign.code());
    assertEquals(404, resolve(A, java.util.UUID.randomUUID().toString(), "VERIFIED").status());
    assertEquals(404, resolve(A, "not-a-uuid", "VERIFIED").status());
    assertEquals("OPEN", status(id), "another member's answer changed nothing");
    assertEquals(403, api.post("/v1/furnishing/disputes/" + id + "/resolution", Tokens.borrower(p),
      new JsonObject().put("outcome", "DELETED").put("note", "n")).status(), "the person cannot answer their own dispute");
    Api.Res ok = resolve(A, id, "VERIFIED");
    assertEquals(200, ok.status(), ok.toString());
    assertEquals("RESOLVED", ok.json().getString("status"));
    assertEquals("VERIFIED", ok.json().getString("outcome"));
    assertEquals("checked against our ledger", ok.json().getString("note"));
    assertNotNull(ok.json().getString("resolvedAt"));
    Api.Res twice = resolve(A, id, "DELETED");
    assertEquals(409, twice.status(), twice.toString());
    assertEquals("dispute_resolved", twice.code());
    assertEquals("VERIFIED", bureau.sqlString("SELECT outcome FROM disputes WHERE id = '" + id + "'"));
    assertEquals(1, logged("DISPUTE_RESOLVED", id));
    assertEquals("RESOLVED", tradeline(report(p), "lender-a", "RB-1").getJsonObject("dispute").getString("status"),
      "the statement still travels with the report");
  }

  @Test
  @DisplayName("CORRECTED before the account is re-furnished is 409 not_corrected; after re-furnishing it resolves")
  void correctedNeedsRefurnishing() {
    String p = person();
    furnish(A, "CO-1", defaulted(p));
    repay(A, "CO-1", "2026-04", 90);
    String whole = opened(p, dispute("lender-a", "CO-1", null));
    String period = opened(p, dispute("lender-a", "CO-1", "2026-04"));
    Api.Res early = resolve(A, whole, "CORRECTED");
    assertEquals(409, early.status(), early.toString());
    assertEquals("not_corrected", early.code());
    furnish(A, "CO-1", defaulted(p)); // the same data again changes nothing: not a correction
    assertEquals("not_corrected", resolve(A, whole, "CORRECTED").code());
    assertEquals("not_corrected", resolve(A, period, "CORRECTED").code());
    furnish(A, "CO-1", loan(p));
    assertEquals(200, resolve(A, whole, "CORRECTED").status(), "the account was re-furnished");
    assertEquals("not_corrected", resolve(A, period, "CORRECTED").code(), "the period itself was not");
    repay(A, "CO-1", "2026-04", 0);
    Api.Res fixed = resolve(A, period, "CORRECTED");
    assertEquals(200, fixed.status(), fixed.toString());
    assertEquals("CORRECTED", fixed.json().getString("outcome"));
  }

  @Test
  @DisplayName("DELETED removes the tradeline from every report and from the score, in Postgres and Redis, before it answers")
  void deletedRescoresBeforeAnswer() {
    String p = person();
    furnish(A, "DEL-CLEAN", loan(p));
    furnish(B, "DEL-BAD", defaulted(p));
    long before = storedScore(p);
    assertEquals(before, cachedScore(p));
    String id = opened(p, dispute("lender-b", "DEL-BAD", null).put("reason", "NOT_MINE"));
    assertEquals(before, storedScore(p), "opening a dispute does not change the score");
    Api.Res r = resolve(B, id, "DELETED");
    assertEquals(200, r.status(), r.toString());
    long after = storedScore(p);
    assertTrue(after > before, before + " -> " + after);
    assertEquals(after, cachedScore(p), "Redis has the new score when the answer arrives");
    assertNull(tradeline(report(p), "lender-b", "DEL-BAD"), "gone from the report");
    assertNotNull(tradeline(report(p), "lender-a", "DEL-CLEAN"));
    furnish(B, "DEL-BAD", defaulted(p).put("balance", "11000.00")); // a later re-send does not bring it back
    assertNull(tradeline(report(p), "lender-b", "DEL-BAD"));
    assertEquals(after, storedScore(p));
    assertEquals(404, open(p, dispute("lender-b", "DEL-BAD", null)).status(), "a deleted account cannot be disputed");
  }

  @Test
  @DisplayName("DELETED on one period removes only that period from the report and its lateness from the score")
  void deletedPeriod() {
    String p = person();
    furnish(A, "DP-1", loan(p));
    String month = LocalDate.now().minusMonths(2).toString().substring(0, 7);
    String earlier = LocalDate.now().minusMonths(3).toString().substring(0, 7);
    repay(A, "DP-1", earlier, 0);
    repay(A, "DP-1", month, 60);
    long before = storedScore(p);
    String id = opened(p, dispute("lender-a", "DP-1", month).put("reason", "WRONG_DELINQUENCY"));
    assertEquals(200, resolve(A, id, "DELETED").status());
    JsonArray periods = tradeline(report(p), "lender-a", "DP-1").getJsonArray("repayments");
    assertEquals(1, periods.size(), periods.encode());
    assertEquals(earlier, periods.getJsonObject(0).getString("period"));
    assertTrue(storedScore(p) > before, before + " -> " + storedScore(p));
    assertEquals(storedScore(p), cachedScore(p));
  }

  @Test
  @DisplayName("the overdue clock: past dueBy the dispute turns OVERDUE, its data leaves the score, and a resolution brings it back")
  void overdueClock() {
    String p = person();
    furnish(A, "OD-CLEAN", loan(p));
    furnish(B, "OD-BAD", defaulted(p));
    long base = storedScore(p);
    long activeBefore = bureau.count("SELECT active_loans FROM scores WHERE borrower_key = '\\x" + hex(p) + "'");
    String id = opened(p, dispute("lender-b", "OD-BAD", null));
    // not yet due: a pass leaves it alone
    TestBureau.await(passOf(bureau).toCompletionStage().toCompletableFuture());
    assertEquals("OPEN", status(id));
    fallDue(id);
    eventually("the dispute turns OVERDUE", () -> "OVERDUE".equals(status(id)));
    eventually("the overdue event is logged", () -> logged("DISPUTE_OVERDUE", id) == 1);
    long overdue = storedScore(p);
    assertTrue(overdue > base, "the unverified default is left out: " + base + " -> " + overdue);
    assertEquals(overdue, cachedScore(p), "and Redis has it");
    assertEquals("OVERDUE", tradeline(report(p), "lender-b", "OD-BAD").getJsonObject("dispute").getString("status"),
      "still shown, marked OVERDUE");
    assertEquals(activeBefore, bureau.count("SELECT active_loans FROM scores WHERE borrower_key = '\\x" + hex(p) + "'"),
      "figures are of the undisputed data");
    assertEquals(200, resolve(B, id, "VERIFIED").status());
    assertEquals(base, storedScore(p), "verified: the data counts again");
    assertEquals(base, cachedScore(p));
    assertEquals(1, logged("DISPUTE_OVERDUE", id), "turned once");
  }

  @Test
  @DisplayName("an overdue dispute's data leaves the over-borrowing figures: outstanding balance without the disputed loan")
  void overdueLeavesFigures() {
    String p = person();
    furnish(A, "FIG-1", loan(p));
    furnish(B, "FIG-2", loan(p).put("balance", "7000.00"));
    String before = bureau.sqlString("SELECT outstanding_balance::text FROM scores WHERE borrower_key = '\\x" + hex(p) + "'");
    assertEquals("19000.00", before);
    String id = opened(p, dispute("lender-b", "FIG-2", null).put("reason", "WRONG_BALANCE"));
    fallDue(id);
    eventually("overdue", () -> "OVERDUE".equals(status(id)));
    assertEquals("12000.00", bureau.sqlString("SELECT outstanding_balance::text FROM scores WHERE borrower_key = '\\x"
      + hex(p) + "'"));
    JsonObject over = report(p).getJsonObject("overBorrowing");
    assertEquals(1, over.getInteger("activeLoans"), over.encode());
  }

  static io.vertx.core.Future<Integer> passOf(TestBureau b) {
    var vertx = b.bureau().vertx();
    io.vertx.sqlclient.Pool pool = io.openbureau.db.Database.pool(vertx, b.config().postgres(), 4);
    var redis = io.openbureau.cache.RedisStore.create(vertx, b.config().redis());
    var scores = new io.openbureau.scoring.ScoreStore(io.openbureau.scoring.Scorecard.load(
      java.nio.file.Path.of("config/scorecard.yaml")), redis, pool);
    var audit = new io.openbureau.audit.AuditWriter(vertx, pool, io.openbureau.audit.AuditSettings.from(b.config()),
      new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
    OverdueProcessor p = new OverdueProcessor(vertx, new DisputeRepository(pool), scores, audit, DisputeSettings.from(b.config()));
    return p.pass().eventually(() -> audit.close().eventually(pool::close).eventually(redis::close));
  }

  @Test
  @DisplayName("with two instances and their passes every second, each dispute turns overdue once and is logged once")
  void overdueOnceAcrossInstances() {
    String p = person();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      furnish(A, "ONCE-" + i, loan(p));
      ids.add(opened(p, dispute("lender-a", "ONCE-" + i, null)));
    }
    ids.forEach(DisputeTest::fallDue);
    // and a few more passes racing the timers of both instances
    List<io.vertx.core.Future<Integer>> extra = List.of(passOf(bureau), passOf(sibling), passOf(bureau));
    extra.forEach(f -> TestBureau.await(f.toCompletionStage().toCompletableFuture()));
    for (String id : ids) {
      eventually("overdue " + id, () -> "OVERDUE".equals(status(id)) && logged("DISPUTE_OVERDUE", id) >= 1);
      assertEquals(1, logged("DISPUTE_OVERDUE", id), id);
    }
  }

  @Test
  @DisplayName("an overdue event whose access-log row a crash lost (committed, not logged) is logged by a later pass, once")
  void lostOverdueRowIsWrittenLater() {
    String p = person();
    furnish(A, "LOST-1", loan(p));
    String id = opened(p, dispute("lender-a", "LOST-1", null));
    assertEquals(0, logged("DISPUTE_OVERDUE", id));
    // what a crash between the pass's commit and its access-log write leaves behind (the pass runs
    // every second: it may write the lost row at once, so nothing is asserted in between)
    bureau.sql("UPDATE disputes SET status = 'OVERDUE', overdue_at = now() - interval '1 minute', overdue_logged = false,"
      + " opened_at = now() - interval '21 days', due_by = now() - interval '1 day' WHERE id = '" + id + "'");
    eventually("the lost row is written", () -> logged("DISPUTE_OVERDUE", id) == 1
      && bureau.count("SELECT count(*) FROM disputes WHERE overdue_logged AND id = '" + id + "'") == 1);
    TestBureau.await(passOf(bureau).toCompletionStage().toCompletableFuture());
    assertEquals(1, logged("DISPUTE_OVERDUE", id), "written once");
  }

  @Test
  @DisplayName("two resolutions at once: one wins, the other is 409, and one resolution is stored and logged")
  void twoResolutionsRace() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      for (int round = 0; round < 5; round++) {
        String p = person();
        furnish(A, "RACE-" + round, defaulted(p));
        String id = opened(p, dispute("lender-a", "RACE-" + round, null));
        List<Callable<Api.Res>> calls = List.of(() -> resolve(A, id, "VERIFIED"), () -> resolve(A, id, "DELETED"),
          () -> sibling.api.post("/v1/furnishing/disputes/" + id + "/resolution", A,
            new JsonObject().put("outcome", "VERIFIED").put("note", "other")));
        List<Integer> statuses = new ArrayList<>();
        for (Future<Api.Res> f : pool.invokeAll(calls)) {
          statuses.add(f.get().status());
          if (f.get().status() == 409) {
            assertEquals("dispute_resolved", f.get().code());
          }
        }
        assertEquals(1, statuses.stream().filter(s -> s == 200).count(), statuses.toString());
        assertEquals(2, statuses.stream().filter(s -> s == 409).count(), statuses.toString());
        assertEquals(1, logged("DISPUTE_RESOLVED", id));
        String outcome = bureau.sqlString("SELECT outcome FROM disputes WHERE id = '" + id + "'");
        assertEquals("DELETED".equals(outcome), tradeline(report(p), "lender-a", "RACE-" + round) == null,
          "the report follows the winning outcome: " + outcome);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  @DisplayName("two identical disputes at once: one 201, one 409 dispute_open; a dispute opened during a re-furnishing sees it whole")
  void openRaces() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      String p = person();
      furnish(A, "OR-1", loan(p));
      List<Callable<Api.Res>> two = List.of(() -> open(p, dispute("lender-a", "OR-1", null)),
        () -> sibling.api.post("/v1/me/disputes", Tokens.borrower(p), dispute("lender-a", "OR-1", null)));
      Set<Integer> statuses = new HashSet<>();
      for (Future<Api.Res> f : pool.invokeAll(two)) {
        statuses.add(f.get().status());
      }
      assertEquals(Set.of(201, 409), statuses);
      assertEquals(1, bureau.count("SELECT count(*) FROM disputes WHERE account_ref = 'OR-1'"));
      // a dispute about a period being furnished right now: either the period is there (201) or not yet (404)
      for (int i = 0; i < 5; i++) {
        String q = person();
        String ref = "ORF-" + i;
        furnish(A, ref, loan(q));
        String month = "2025-0" + (i + 1);
        List<Callable<Api.Res>> race = List.of(
          () -> api.post("/v1/tradelines/" + ref + "/repayments", A, new JsonObject().put("period", month)
            .put("amountDue", "500.00").put("amountPaid", "0.00").put("daysPastDue", 30)),
          () -> open(q, dispute("lender-a", ref, month)));
        List<Future<Api.Res>> done = pool.invokeAll(race);
        assertEquals(201, done.get(0).get().status());
        int opened = done.get(1).get().status();
        assertTrue(opened == 201 || opened == 404, done.get(1).get().toString());
        assertEquals(opened == 201 ? 1 : 0, bureau.count("SELECT count(*) FROM disputes WHERE account_ref = 'ORF-" + i + "'"));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  @DisplayName("DELETED while the account is being re-furnished: the score ends as if the account had never been there")
  void deletedRacesRefurnishing() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      for (int round = 0; round < 4; round++) {
        String p = person();
        String control = person();
        furnish(A, "DR-CLEAN-" + round, loan(p));
        furnish(A, "DR-CTRL-" + round, loan(control));
        furnish(B, "DR-BAD-" + round, defaulted(p));
        String id = opened(p, dispute("lender-b", "DR-BAD-" + round, null).put("reason", "NOT_MINE"));
        String ref = "DR-BAD-" + round;
        List<Callable<Api.Res>> race = List.of(() -> resolve(B, id, "DELETED"),
          () -> sibling.api.put("/v1/tradelines/" + ref, B, defaulted(p).put("daysPastDue", 200).put("balance", "13000.00")));
        List<Future<Api.Res>> done = pool.invokeAll(race);
        assertEquals(200, done.get(0).get().status(), done.get(0).get().toString());
        assertEquals(200, done.get(1).get().status(), done.get(1).get().toString());
        assertEquals(storedScore(control), storedScore(p), "only the clean loan counts, whichever committed first");
        assertEquals(storedScore(p), cachedScore(p));
        assertNull(tradeline(report(p), "lender-b", ref));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  @DisplayName("the disputes section is validated at start-up: out-of-range values and unknown keys are refused, naming the key")
  void settingsValidated() {
    JsonObject raw = TestBureau.testConfig("disputecfg");
    raw.put("disputes", new JsonObject().put("answerDays", 0).put("overdueCheckSecs", 5));
    io.openbureau.config.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(
      io.openbureau.config.ConfigException.class, () -> DisputeSettings.from(io.openbureau.config.BureauConfig.from(raw)));
    assertTrue(e.getMessage().contains("disputes.answerDays"), e.getMessage());
    assertTrue(e.getMessage().contains("disputes.overdueCheckSecs is not a known key"), e.getMessage());
    assertEquals(20, DisputeSettings.from(io.openbureau.config.BureauConfig.from(TestBureau.testConfig("disputecfg2")))
      .answerDays(), "20 days by default");
  }

  @Test
  @DisplayName("compliance lists disputes by status and member and a per-member summary with the median days to resolve")
  void complianceViews() {
    String p = person();
    furnish(A, "CP-1", loan(p));
    furnish(A, "CP-2", loan(p));
    String resolved = opened(p, dispute("lender-a", "CP-1", null));
    String overdue = opened(p, dispute("lender-a", "CP-2", null));
    bureau.sql("UPDATE disputes SET opened_at = opened_at - interval '4 days', due_by = due_by - interval '4 days'"
      + " WHERE id = '" + resolved + "'");
    assertEquals(200, resolve(A, resolved, "VERIFIED").status());
    fallDue(overdue);
    eventually("overdue", () -> "OVERDUE".equals(status(overdue)));
    Api.Res list = api.get("/v1/compliance/disputes?status=OVERDUE&lenderId=lender-a", Tokens.compliance());
    assertEquals(200, list.status(), list.toString());
    assertTrue(ids(list.items()).contains(overdue));
    assertFalse(ids(list.items()).contains(resolved));
    assertEquals("lender-a", list.items().getJsonObject(0).getString("lenderId"));
    assertTrue(ids(api.get("/v1/compliance/disputes?status=RESOLVED", Tokens.compliance()).items()).contains(resolved));
    assertEquals(403, api.get("/v1/compliance/disputes", A).status());
    Api.Res summary = api.get("/v1/compliance/disputes/summary", Tokens.compliance());
    assertEquals(200, summary.status(), summary.toString());
    JsonObject a = null;
    for (Object o : summary.items()) {
      if ("lender-a".equals(((JsonObject) o).getString("lenderId"))) {
        a = (JsonObject) o;
      }
    }
    assertNotNull(a, summary.body());
    assertTrue(a.getLong("overdue") >= 1 && a.getLong("resolved") >= 1, a.encode());
    assertNotNull(a.getValue("medianDaysToResolve"));
    // every event is visible to the person and to compliance
    Api.Res mine = api.get("/v1/me/inquiries?limit=100", Tokens.borrower(p));
    List<String> actions = new ArrayList<>();
    mine.items().forEach(o -> actions.add(((JsonObject) o).getString("action")));
    assertTrue(actions.containsAll(List.of("DISPUTE_OPENED", "DISPUTE_RESOLVED", "DISPUTE_OVERDUE")), actions.toString());
    Api.Res log = api.get("/v1/compliance/access-log?action=DISPUTE_OVERDUE&limit=1000", Tokens.compliance());
    assertEquals(200, log.status(), log.toString());
    assertNotEquals(0, log.items().size(), "compliance sees the overdue events");
    log.items().forEach(o -> assertEquals("DISPUTE_OVERDUE", ((JsonObject) o).getString("action")));
  }
}
