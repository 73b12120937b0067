package io.openbureau.inquiry;

import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.LocalDate;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Inquiry: lenders get a consent-gated score with over-borrowing signals, every attempt logged first")
class InquiryTest {
  private static final AtomicInteger PEOPLE = new AtomicInteger();
  private static final String LO = "LOAN_ORIGINATION";
  private static TestBureau bureau;
  private static Api api;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("inquiry", new JsonObject().put("overBorrowing", new JsonObject()
      .put("multiLendingLenders30d", 4).put("rapidInquiryLenders7d", 3).put("manyActiveLoans", 2)
      .put("delinquencyDays", 10)));
    api = bureau.api;
    for (String id : List.of("lender-a", "lender-b", "lender-c", "lender-d", "lender-s")) {
      assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", id).put("name", id)).status());
    }
  }

  @AfterAll
  static void stop() {
    bureau.close();
  }

  static String newPerson() {
    return NationalId.of("310101", LocalDate.of(1975, 1, 1).plusDays(PEOPLE.incrementAndGet()), 23);
  }

  static String hex(String nationalId) {
    return BorrowerKeys.hex(new BorrowerKeys(bureau.config().identity().hmacKeyId(),
      bureau.config().identity().hmacSecret()).key(nationalId));
  }

  static void furnish(String lender, String ref, String person, String balance, int daysPastDue) {
    JsonObject loan = new JsonObject().put("nationalId", person).put("productType", "CONSUMER_LOAN")
      .put("openedAt", "2021-03-15").put("principal", "20000.00").put("status", "OPEN").put("balance", balance)
      .put("daysPastDue", daysPastDue);
    Api.Res r = api.put("/v1/tradelines/" + ref, Tokens.lender(lender), loan);
    assertTrue(r.status() == 201 || r.status() == 200, r.toString());
  }

  static String consent(String person, String lender, String purpose, String scope) {
    Api.Res r = api.post("/v1/me/consents", Tokens.borrower(person),
      new JsonObject().put("lenderId", lender).put("purpose", purpose).put("scope", scope));
    assertEquals(201, r.status(), r.toString());
    return r.json().getString("consentId");
  }

  static Api.Res inquire(String lender, String person, String purpose, String scope) {
    JsonObject body = new JsonObject().put("nationalId", person).put("purpose", purpose);
    if (scope != null) {
      body.put("scope", scope);
    }
    return api.post("/v1/inquiries", Tokens.lender(lender), body);
  }

  static long logged(String where) {
    return bureau.count("SELECT count(*) FROM access_log WHERE action = 'INQUIRY' AND " + where);
  }

  static JsonObject withoutRequestId(Api.Res r) {
    JsonObject j = r.json().copy();
    j.remove("requestId");
    return j;
  }

  @Test
  @DisplayName("a lender with consent gets the score, reasons and over-borrowing block, and the row is in the log")
  void granted() {
    String person = newPerson();
    furnish("lender-b", "G-1", person, "15000.00", 0);
    String consentId = consent(person, "lender-a", LO, "SCORE");
    Api.Res r = inquire("lender-a", person, LO, null);
    assertEquals(200, r.status(), r.toString());
    JsonObject body = r.json();
    assertEquals(consentId, body.getString("consentId"));
    JsonObject score = body.getJsonObject("score");
    int value = score.getInteger("value");
    assertTrue(value >= 300 && value <= 850, score.encode());
    assertNotNull(score.getString("band"));
    assertNotNull(score.getString("modelVersion"));
    assertNotNull(score.getJsonArray("reasons"));
    JsonObject over = body.getJsonObject("overBorrowing");
    assertEquals(1, over.getInteger("distinctLenders30d"));
    assertEquals(1, over.getInteger("inquiries30d"));
    assertEquals(1, over.getInteger("activeLoans"));
    assertEquals("15000.00", over.getString("outstandingBalance"));
    assertNull(body.getValue("report"), "no report for scope SCORE");

    String row = "id = " + body.getString("inquiryId");
    assertEquals(1, logged(row + " AND decision = 'GRANTED' AND lender_id = 'lender-a' AND purpose = '" + LO
      + "' AND scope = 'SCORE' AND consent_id = '" + consentId + "' AND score_value = " + value
      + " AND borrower_key = '\\x" + hex(person) + "' AND request_id = '" + r.header("X-Request-Id") + "'"));
    assertEquals(0, bureau.count("SELECT count(*) FROM access_log WHERE row_to_json(access_log)::text LIKE '%"
      + person + "%'"), "the raw national id is never in the access log");
  }

  @Test
  @DisplayName("denials: no consent, wrong purpose, scope not covered, expired, revoked, each logged; a suspended member is refused unlogged")
  void denials() {
    String person = newPerson();
    furnish("lender-b", "D-1", person, "1000.00", 0);
    String key = hex(person);

    Api.Res none = inquire("lender-a", person, LO, "SCORE");
    assertEquals(403, none.status(), none.toString());
    assertEquals("consent_required", none.code());

    consent(person, "lender-a", LO, "SCORE");
    Api.Res purpose = inquire("lender-a", person, "ACCOUNT_REVIEW", "SCORE");
    assertEquals("consent_required", purpose.code(), purpose.toString());
    Api.Res scope = inquire("lender-a", person, LO, "REPORT");
    assertEquals("consent_required", scope.code(), scope.toString());
    assertEquals(200, inquire("lender-a", person, LO, "SCORE").status());

    // expired: moved into the past in the system of record, then the derived cache is rebuilt
    bureau.sql("UPDATE consents SET granted_at = now() - interval '40 days', expires_at = now() - interval '10 days'"
      + " WHERE lender_id = 'lender-a' AND borrower_key = '\\x" + key + "'");
    bureau.flushRedis();
    Api.Res expired = inquire("lender-a", person, LO, "SCORE");
    assertEquals("consent_required", expired.code(), expired.toString());

    String revokedId = consent(person, "lender-c", LO, "SCORE");
    assertEquals(200, inquire("lender-c", person, LO, "SCORE").status());
    assertEquals(200, api.delete("/v1/me/consents/" + revokedId, Tokens.borrower(person)).status());
    Api.Res revoked = inquire("lender-c", person, LO, "SCORE");
    assertEquals("consent_required", revoked.code(), revoked.toString());

    consent(person, "lender-s", LO, "SCORE");
    assertEquals(200, api.post("/v1/members/lender-s/suspend", Tokens.admin(), null).status());
    Api.Res suspended = inquire("lender-s", person, LO, "SCORE");
    assertEquals(403, suspended.status(), suspended.toString());
    assertEquals("forbidden", suspended.code());
    assertEquals(200, api.post("/v1/members/lender-s/reinstate", Tokens.admin(), null).status());
    assertEquals(200, inquire("lender-s", person, LO, "SCORE").status(), "reinstated members are served again");

    String mine = "borrower_key = '\\x" + key + "' AND decision = 'DENIED'";
    assertEquals(1, logged(mine + " AND lender_id = 'lender-a' AND reason = 'no_consent' AND purpose = '" + LO + "'"));
    assertEquals(1, logged(mine + " AND lender_id = 'lender-a' AND reason = 'no_consent' AND purpose = 'ACCOUNT_REVIEW'"));
    assertEquals(1, logged(mine + " AND lender_id = 'lender-a' AND reason = 'scope'"));
    assertEquals(1, logged(mine + " AND lender_id = 'lender-a' AND reason = 'expired'"));
    assertEquals(1, logged(mine + " AND lender_id = 'lender-c' AND reason = 'no_consent'"));
    // API.md v1.1: a suspended member is refused at the gate and writes no row
    assertEquals(0, logged("borrower_key = '\\x" + key + "' AND lender_id = 'lender-s' AND decision <> 'GRANTED'"));
  }

  @Test
  @DisplayName("an unknown person and a known person without consent get the identical 403 body")
  void denialsLookAlike() {
    String known = newPerson();
    furnish("lender-b", "K-1", known, "5000.00", 0);
    consent(known, "lender-b", LO, "SCORE");
    String unknown = newPerson();
    Api.Res a = inquire("lender-a", known, LO, "SCORE");
    Api.Res b = inquire("lender-a", unknown, LO, "SCORE");
    assertEquals(403, a.status());
    assertEquals(403, b.status());
    assertEquals(withoutRequestId(a), withoutRequestId(b));
    assertEquals(a.header("Content-Type"), b.header("Content-Type"));
    assertFalse(a.body().contains("no_consent") || a.body().contains(known), a.body());
  }

  @Test
  @DisplayName("a person with no loans gets 200 with score null and the over-borrowing block (a thin file)")
  void thinFile() {
    String person = newPerson();
    consent(person, "lender-a", LO, "SCORE");
    Api.Res r = inquire("lender-a", person, LO, "SCORE");
    assertEquals(200, r.status(), r.toString());
    assertTrue(r.json().containsKey("score"));
    assertNull(r.json().getValue("score"));
    // and it says why, in words the person understands
    assertEquals("NO_TRADELINES", r.json().getJsonObject("noScoreReason").getString("code"), r.toString());
    assertFalse(r.json().getJsonObject("noScoreReason").getString("description").isBlank());
    JsonObject over = r.json().getJsonObject("overBorrowing");
    assertEquals(0, over.getInteger("activeLoans"));
    assertEquals("0", new java.math.BigDecimal(over.getString("outstandingBalance")).stripTrailingZeros().toPlainString());
    assertEquals(new JsonArray(), over.getJsonArray("flags"));
    assertEquals(1, logged("id = " + r.json().getString("inquiryId") + " AND decision = 'GRANTED' AND score_value IS NULL"));
  }

  @Test
  @DisplayName("scope REPORT returns every member's tradelines with repayment history; REPORT consent also covers SCORE")
  void report() {
    String person = newPerson();
    furnish("lender-b", "R-1", person, "9000.00", 0);
    furnish("lender-c", "R-2", person, "3000.00", 0);
    Api.Res rep = api.post("/v1/tradelines/R-1/repayments", Tokens.lender("lender-b"), new JsonObject()
      .put("period", "2026-09").put("amountDue", "1000.00").put("amountPaid", "1000.00").put("daysPastDue", 0));
    assertEquals(201, rep.status(), rep.toString());
    consent(person, "lender-a", LO, "REPORT");

    Api.Res r = inquire("lender-a", person, LO, "REPORT");
    assertEquals(200, r.status(), r.toString());
    JsonObject report = r.json().getJsonObject("report");
    JsonArray lines = report.getJsonArray("tradelines");
    assertEquals(2, lines.size(), report.encode());
    JsonObject r1 = lines.stream().map(o -> (JsonObject) o).filter(t -> "R-1".equals(t.getString("accountRef")))
      .findFirst().orElseThrow();
    assertEquals("lender-b", r1.getString("lenderId"));
    assertEquals("9000.00", r1.getString("balance"));
    assertEquals("2026-09", r1.getJsonArray("repayments").getJsonObject(0).getString("period"));
    assertEquals("1000.00", r1.getJsonArray("repayments").getJsonObject(0).getString("amountPaid"));
    assertEquals(r.json().getJsonObject("score"), report.getJsonObject("score"));
    assertFalse(r.body().contains(person), "the report never carries the raw national id");

    Api.Res s = inquire("lender-a", person, LO, "SCORE");
    assertEquals(200, s.status(), s.toString());
    assertNull(s.json().getValue("report"));
  }

  @Test
  @DisplayName("over-borrowing counts distinct lenders per window across members, exactly, with the configured flags")
  void overBorrowing() {
    String person = newPerson();
    String key = hex(person);
    furnish("lender-b", "O-1", person, "8000.00", 0);
    furnish("lender-c", "O-2", person, "2000.00", 15);
    // two older granted inquiries by other lenders, 20 and 60 days ago, straight into the system of record
    for (String[] old : new String[][] {{"lender-x", "20"}, {"lender-y", "60"}}) {
      bureau.sql("INSERT INTO access_log (id, at, chain_id, chain_seq, action, actor_role, actor_id, lender_id,"
        + " borrower_key, purpose, scope, decision, prev_hash, row_hash) VALUES (nextval('access_log_id_seq'),"
        + " now() - interval '" + old[1] + " days', 'seed', 1, 'INQUIRY', 'lender', '" + old[0] + "', '" + old[0]
        + "', '\\x" + key + "', '" + LO + "', 'SCORE', 'GRANTED', '\\x00', '\\x00')");
    }
    bureau.flushRedis(); // the window is rebuilt from the log
    for (String lender : List.of("lender-a", "lender-b", "lender-c")) {
      consent(person, lender, LO, "SCORE");
    }
    assertEquals(403, inquire("lender-d", person, LO, "SCORE").status()); // denied: never counts
    assertEquals(200, inquire("lender-a", person, LO, "SCORE").status());
    assertEquals(200, inquire("lender-b", person, LO, "SCORE").status());
    Api.Res r = inquire("lender-c", person, LO, "SCORE");
    assertEquals(200, r.status(), r.toString());
    JsonObject over = r.json().getJsonObject("overBorrowing");
    assertEquals(3, over.getInteger("distinctLenders7d"), over.encode());
    assertEquals(4, over.getInteger("distinctLenders30d"), over.encode());
    assertEquals(5, over.getInteger("distinctLenders90d"), over.encode());
    assertEquals(4, over.getInteger("inquiries30d"), over.encode()); // 3 now and lender-x's 20 days ago
    assertEquals(2, over.getInteger("activeLoans"));
    assertEquals("10000.00", over.getString("outstandingBalance"));
    assertEquals(new JsonArray().add("MULTI_LENDING").add("RAPID_INQUIRIES").add("MANY_ACTIVE_LOANS")
      .add("CURRENT_DELINQUENCY"), over.getJsonArray("flags"));

    // the same lender again adds an inquiry but not a lender
    JsonObject again = inquire("lender-a", person, LO, "SCORE").json().getJsonObject("overBorrowing");
    assertEquals(3, again.getInteger("distinctLenders7d"));
    assertEquals(5, again.getInteger("inquiries30d"));
  }

  @Test
  @DisplayName("after a Redis flush the answers are identical: consent, score and windows are rebuilt from Postgres")
  void flushChangesNoAnswer() {
    String person = newPerson();
    furnish("lender-b", "F-1", person, "4000.00", 0);
    consent(person, "lender-a", LO, "SCORE");
    consent(person, "lender-b", LO, "SCORE");
    assertEquals(200, inquire("lender-b", person, LO, "SCORE").status());
    JsonObject before = inquire("lender-a", person, LO, "SCORE").json();
    bureau.flushRedis();
    JsonObject after = inquire("lender-a", person, LO, "SCORE").json();
    assertEquals(before.getString("consentId"), after.getString("consentId"));
    assertEquals(before.getJsonObject("score"), after.getJsonObject("score"));
    JsonObject b = before.getJsonObject("overBorrowing");
    JsonObject a = after.getJsonObject("overBorrowing");
    assertEquals(b.getInteger("distinctLenders7d"), a.getInteger("distinctLenders7d"));
    assertEquals(2, a.getInteger("distinctLenders30d"));
    assertEquals(b.getInteger("inquiries30d") + 1, a.getInteger("inquiries30d"), "only the new inquiry is added");
    assertEquals(b.getJsonArray("flags"), a.getJsonArray("flags"));
  }

  @Test
  @DisplayName("bad input is a 4xx naming the field and is still logged as an INVALID attempt by that lender")
  void badInput() {
    String lender = "lender-d";
    String token = Tokens.lender(lender);
    long before = logged("lender_id = '" + lender + "' AND decision = 'INVALID'");

    Api.Res badId = api.post("/v1/inquiries", token, new JsonObject().put("nationalId", "11010119900307123X")
      .put("purpose", LO));
    assertEquals(400, badId.status(), badId.toString());
    assertEquals("nationalId", badId.json().getJsonArray("errors").getJsonObject(0).getString("field"));

    Api.Res badPurpose = api.post("/v1/inquiries", token, new JsonObject().put("nationalId", newPerson())
      .put("purpose", "MARKETING"));
    assertEquals(400, badPurpose.status());
    assertEquals("purpose", badPurpose.json().getJsonArray("errors").getJsonObject(0).getString("field"));

    Api.Res badScope = api.post("/v1/inquiries", token, new JsonObject().put("nationalId", newPerson())
      .put("purpose", LO).put("scope", "EVERYTHING"));
    assertEquals("scope", badScope.json().getJsonArray("errors").getJsonObject(0).getString("field"));

    Api.Res extra = api.post("/v1/inquiries", token, new JsonObject().put("nationalId", newPerson())
      .put("purpose", LO).put("phone", "123"));
    assertEquals("phone", extra.json().getJsonArray("errors").getJsonObject(0).getString("field"));

    Api.Res malformed = api.raw("POST", "/v1/inquiries", token, "application/json", "{\"nationalId\": ");
    assertEquals(400, malformed.status(), malformed.toString());
    assertEquals("body", malformed.json().getJsonArray("errors").getJsonObject(0).getString("field"));
    Api.Res empty = api.raw("POST", "/v1/inquiries", token, "application/json", "");
    assertEquals(400, empty.status(), empty.toString());
    Api.Res array = api.raw("POST", "/v1/inquiries", token, "application/json", "[1,2]");
    assertEquals(400, array.status(), array.toString());
    Api.Res huge = api.raw("POST", "/v1/inquiries", token, "application/json",
      "{\"nationalId\": \"" + "1".repeat(200_000) + "\"}");
    assertEquals(413, huge.status(), huge.toString());
    Api.Res text = api.raw("POST", "/v1/inquiries", token, "text/plain", "hello");
    assertEquals(415, text.status(), text.toString());
    for (Api.Res r : List.of(badId, badPurpose, badScope, extra, malformed, empty, array, huge, text)) {
      assertEquals("application/problem+json", r.header("Content-Type"), r.toString());
    }
    assertEquals(before + 9, logged("lender_id = '" + lender + "' AND decision = 'INVALID'"));

    String person = newPerson();
    for (String other : List.of(Tokens.borrower(person), Tokens.compliance())) {
      Api.Res r = api.post("/v1/inquiries", other, new JsonObject().put("nationalId", person).put("purpose", LO));
      assertEquals(403, r.status(), r.toString());
      assertEquals("forbidden", r.code());
    }
    assertEquals(401, api.post("/v1/inquiries", null, new JsonObject().put("nationalId", person).put("purpose", LO)).status());
  }

  @Test
  @DisplayName("metrics count inquiries by outcome and expose latency, audit batch and cache hit figures")
  void metrics() {
    String person = newPerson();
    consent(person, "lender-a", LO, "SCORE");
    assertEquals(200, inquire("lender-a", person, LO, "SCORE").status());
    String text = api.get("/metrics", null).body();
    assertTrue(text.contains("bureau_inquiries_total{outcome=\"GRANTED\"}"), "inquiry counter");
    assertTrue(text.contains("bureau_inquiry_duration_seconds_bucket"), "latency histogram");
    assertTrue(text.contains("bureau_audit_batch_rows_count"), "audit batch size");
    assertTrue(text.contains("bureau_audit_commit_seconds_count"), "audit commit latency");
    assertTrue(text.contains("bureau_inquiry_cache_total{result=\"miss\"}"), "cache hit ratio");
    assertFalse(text.contains(person), "no national id in metrics");
  }
}
