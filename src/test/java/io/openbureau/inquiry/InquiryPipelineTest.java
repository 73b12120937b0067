package io.openbureau.inquiry;

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
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Inquiry pipeline (issue 12): the gate first, one counting rule, a bounded window, inquiry types, harmless input")
class InquiryPipelineTest {
  private static final AtomicInteger PEOPLE = new AtomicInteger();
  private static final String LO = "LOAN_ORIGINATION";
  private static final String CARD = "CARD_APPLICATION";
  private static final String GUARANTOR = "GUARANTOR_CHECK";
  private static final String REVIEW = "ACCOUNT_REVIEW";
  /** Bodies that break the contract in different ways (each would be an INVALID row past the gate). */
  private static final List<String> BAD_BODIES = List.of("not json", "[]", "{\"evil\":1}",
    "{\"nationalId\":\"\\u0000\",\"purpose\":\"LOAN_ORIGINATION\"}", "{\"purpose\":\"BOGUS\"}");
  private static TestBureau bureau;
  private static Api api;
  private static Redis redis;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("inqpipeline");
    api = bureau.api;
    for (String id : List.of("lender-a", "lender-b", "lender-c", "lender-d", "lender-e", "lender-rate", "lender-susp",
      "lender-s3", "lender-rate2")) {
      assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", id).put("name", id)).status());
    }
    assertEquals(200, api.post("/v1/members/lender-susp/suspend", Tokens.admin(), null).status());
    redis = Redis.createClient(bureau.bureau().vertx(), bureau.config().redis().endpoints().get(0));
  }

  @AfterAll
  static void stop() {
    redis.close();
    bureau.close();
  }

  static String newPerson() {
    return NationalId.of("320102", LocalDate.of(1980, 1, 1).plusDays(PEOPLE.incrementAndGet()), 41);
  }

  static String hex(String nationalId) {
    return BorrowerKeys.hex(new BorrowerKeys(bureau.config().identity().hmacKeyId(),
      bureau.config().identity().hmacSecret()).key(nationalId));
  }

  static Response redis(Request r) {
    return TestBureau.await(redis.send(r).toCompletionStage().toCompletableFuture());
  }

  static String key(String tag, String suffix) {
    return bureau.config().redis().keyPrefix() + "{" + tag + "}:" + suffix;
  }

  /** The number of entries of the person's window key, whatever its type (0 when absent). */
  static long windowSize(String person) {
    String k = key("b:" + hex(person), "inq");
    String type = redis(Request.cmd(Command.TYPE).arg(k)).toString();
    return switch (type) {
      case "none" -> 0;
      case "hash" -> redis(Request.cmd(Command.HLEN).arg(k)).toLong();
      case "zset" -> redis(Request.cmd(Command.ZCARD).arg(k)).toLong();
      default -> throw new AssertionError("unexpected window type " + type);
    };
  }

  /** Empties a member's token bucket for the next hour (the gate then answers 429). */
  static void drainBucket(String member) {
    long future = (System.currentTimeMillis() + 3_600_000L) * 1000L;
    redis(Request.cmd(Command.HSET).arg(key("m:" + member, "rl")).arg("tokens").arg("0").arg("ts").arg(Long.toString(future)));
  }

  static void furnish(String lender, String ref, String person, String status, String balance) {
    JsonObject loan = new JsonObject().put("nationalId", person).put("productType", "CONSUMER_LOAN")
      .put("openedAt", "2022-03-15").put("principal", "9000.00").put("status", status).put("balance", balance)
      .put("daysPastDue", 0);
    Api.Res r = api.put("/v1/tradelines/" + ref, Tokens.lender(lender), loan);
    assertTrue(r.status() == 201 || r.status() == 200, r.toString());
  }

  static String consent(String person, String lender, String purpose) {
    Api.Res r = api.post("/v1/me/consents", Tokens.borrower(person),
      new JsonObject().put("lenderId", lender).put("purpose", purpose).put("scope", "SCORE"));
    assertEquals(201, r.status(), r.toString());
    return r.json().getString("consentId");
  }

  static Api.Res inquire(String lender, String person, String purpose) {
    return api.post("/v1/inquiries", Tokens.lender(lender), new JsonObject().put("nationalId", person).put("purpose", purpose));
  }

  static Api.Res raw(String lender, String body) {
    return api.raw("POST", "/v1/inquiries", Tokens.lender(lender), "application/json", body);
  }

  static long rowsBy(String lender) {
    return bureau.count("SELECT count(*) FROM access_log WHERE action = 'INQUIRY' AND lender_id = '" + lender + "'");
  }

  /** The person's counts as the bureau serves them without recording anything (their own report). */
  static JsonObject counts(String person) {
    Api.Res r = api.get("/v1/me/report", Tokens.borrower(person));
    assertEquals(200, r.status(), r.toString());
    JsonObject over = r.json().getJsonObject("overBorrowing").copy();
    over.remove("flags");
    over.remove("activeLoans");
    over.remove("outstandingBalance");
    return over;
  }

  static JsonObject expected(int d7, int d30, int d90, int inquiries30d) {
    return new JsonObject().put("distinctLenders7d", d7).put("distinctLenders30d", d30).put("distinctLenders90d", d90)
      .put("inquiries30d", inquiries30d);
  }

  @Test
  @DisplayName("a non-member's and a suspended member's token get 403 forbidden whatever the body, and write no access-log row")
  void refusedMembersWriteNoRow() {
    String person = newPerson();
    List<String> bodies = new ArrayList<>(BAD_BODIES);
    bodies.add(new JsonObject().put("nationalId", person).put("purpose", LO).encode());
    for (String lender : List.of("lender-ghost", "lender-susp")) {
      for (String body : bodies) {
        Api.Res r = raw(lender, body);
        assertEquals(403, r.status(), lender + " " + body + " -> " + r);
        assertEquals("forbidden", r.code(), r.toString());
      }
      Api.Res unsupported = api.raw("POST", "/v1/inquiries", Tokens.lender(lender), "text/plain", "x");
      assertEquals(403, unsupported.status(), unsupported.toString());
      assertEquals(0, rowsBy(lender), "no access-log row for a refused " + lender);
    }
  }

  @Test
  @DisplayName("a member over its rate gets 429 rate_limited with Retry-After whatever the body, and writes no access-log row")
  void rateLimitedWritesNoRow() {
    drainBucket("lender-rate");
    for (String body : BAD_BODIES) {
      Api.Res r = raw("lender-rate", body);
      assertEquals(429, r.status(), body + " -> " + r);
      assertEquals("rate_limited", r.code());
      assertTrue(Integer.parseInt(r.header("Retry-After")) >= 1, r.header("Retry-After"));
    }
    assertEquals(0, rowsBy("lender-rate"));
  }

  @Test
  @DisplayName("live counts equal the counts after a forced rebuild over a mixed history (granted HARD and SOFT, denied, suspended, non-member, rate-limited, invalid)")
  void liveEqualsRebuild() {
    String person = newPerson();
    furnish("lender-b", "MIX-1", person, "OPEN", "4000.00");
    // every answer is checked at the end, after the counts: the counts are what this test is about
    List<String> wrong = new ArrayList<>();
    java.util.function.BiConsumer<Integer, Api.Res> expect = (status, r) -> {
      if (r.status() != status) {
        wrong.add("expected " + status + ": " + r);
      }
    };
    for (String[] c : new String[][] {{"lender-a", LO}, {"lender-c", CARD}, {"lender-d", GUARANTOR}, {"lender-s3", LO},
      {"lender-rate2", LO}}) {
      expect.accept(201, api.post("/v1/me/consents", Tokens.borrower(person),
        new JsonObject().put("lenderId", c[0]).put("purpose", c[1]).put("scope", "SCORE")));
    }
    assertEquals(200, api.post("/v1/members/lender-s3/suspend", Tokens.admin(), null).status());
    expect.accept(200, inquire("lender-rate2", person, LO)); // one granted before its bucket runs dry
    drainBucket("lender-rate2");

    expect.accept(200, inquire("lender-a", person, LO));
    expect.accept(200, inquire("lender-a", person, LO));
    expect.accept(200, inquire("lender-c", person, CARD));
    expect.accept(200, inquire("lender-d", person, GUARANTOR));
    expect.accept(200, inquire("lender-b", person, REVIEW)); // SOFT, on its existing account
    expect.accept(200, inquire("lender-b", person, REVIEW));
    for (int i = 0; i < 3; i++) {
      expect.accept(403, inquire("lender-e", person, LO)); // denied: no consent
      expect.accept(403, inquire("lender-a", person, CARD)); // denied: a consent of another purpose
      expect.accept(403, inquire("lender-s3", person, LO)); // suspended
      expect.accept(403, inquire("lender-ghost", person, LO)); // not a member
      expect.accept(429, inquire("lender-rate2", person, LO)); // rate-limited
      expect.accept(400, raw("lender-e", "{\"nationalId\":\"" + person + "\",\"purpose\":\"BOGUS\"}"));
    }

    JsonObject live = counts(person);
    redis(Request.cmd(Command.DEL).arg(key("b:" + hex(person), "inq")).arg(key("b:" + hex(person), "inq:ready")));
    JsonObject rebuilt = counts(person);
    assertEquals(live, rebuilt, "the counts rebuilt from the access log equal the live ones");
    assertTrue(windowSize(person) > 0, "the rebuild filled the window");
    // granted HARD only: lender-a twice, lender-c, lender-d, lender-rate2 once
    assertEquals(expected(4, 4, 4, 5), live, "live counts");
    assertEquals(List.of(), wrong);
  }

  @Test
  @DisplayName("flooding denials about one person by one lender leaves the window bounded and another lender's counts unchanged")
  void denialFloodIsBounded() {
    String person = newPerson();
    consent(person, "lender-a", LO);
    assertEquals(200, inquire("lender-a", person, LO).status());
    long size = windowSize(person);
    assertTrue(size > 0 && size <= 2, "one lender, one day: " + size);
    for (int i = 0; i < 150; i++) {
      assertEquals(403, inquire("lender-e", person, LO).status());
    }
    assertEquals(size, windowSize(person), "denials never enter the window");
    JsonObject over = inquire("lender-a", person, LO).json().getJsonObject("overBorrowing");
    assertEquals(1, over.getInteger("distinctLenders30d"), over.encode());
    assertEquals(2, over.getInteger("inquiries30d"), over.encode());

    // denials about many people leave no window at all
    List<String> others = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      String other = newPerson();
      others.add(other);
      assertEquals(403, inquire("lender-e", other, LO).status());
    }
    for (String other : others) {
      assertEquals(0, windowSize(other), "no window for a person only ever denied");
    }
  }

  @Test
  @DisplayName("ACCOUNT_REVIEW without consent is 200 SOFT on an existing account (OPEN, or with a balance), and 403 once it is closed at zero")
  void accountReviewOnExistingAccount() {
    String person = newPerson();
    furnish("lender-b", "AR-1", person, "OPEN", "2500.00");
    Api.Res r = inquire("lender-b", person, REVIEW);
    assertEquals(200, r.status(), r.toString());
    JsonObject body = r.json();
    assertEquals("SOFT", body.getString("inquiryType"));
    assertEquals("EXISTING_ACCOUNT", body.getString("basis"));
    assertTrue(body.containsKey("consentId") && body.getValue("consentId") == null, body.encode());
    assertNotNull(body.getJsonObject("score"));
    JsonObject over = body.getJsonObject("overBorrowing");
    assertEquals(0, over.getInteger("inquiries30d"), "SOFT never counts");
    assertEquals(0, over.getInteger("distinctLenders30d"));
    assertEquals(1, bureau.count("SELECT count(*) FROM access_log WHERE id = " + body.getString("inquiryId")
      + " AND decision = 'GRANTED' AND purpose = 'ACCOUNT_REVIEW' AND consent_id IS NULL"
      + " AND details->>'basis' = 'EXISTING_ACCOUNT'"));

    assertEquals(403, inquire("lender-a", person, REVIEW).status(), "no account of lender-a: a consent is needed");
    furnish("lender-b", "AR-1", person, "DEFAULTED", "700.00");
    assertEquals(200, inquire("lender-b", person, REVIEW).status(), "not OPEN but a balance above zero");
    furnish("lender-b", "AR-1", person, "CLOSED", "0.00");
    Api.Res closed = inquire("lender-b", person, REVIEW);
    assertEquals(403, closed.status(), closed.toString());
    assertEquals("consent_required", closed.code());
    assertEquals(403, inquire("lender-b", person, LO).status(), "an account never stands in for a HARD purpose's consent");
    consent(person, "lender-b", REVIEW);
    Api.Res withConsent = inquire("lender-b", person, REVIEW);
    assertEquals(200, withConsent.status());
    assertEquals("CONSENT", withConsent.json().getString("basis"));
    assertNotNull(withConsent.json().getString("consentId"));
  }

  @Test
  @DisplayName("CARD_APPLICATION and GUARANTOR_CHECK need a consent of their own purpose and count as HARD; SOFT does not move the counts")
  void newPurposes() {
    String person = newPerson();
    furnish("lender-b", "NP-1", person, "OPEN", "100.00");
    assertEquals(403, inquire("lender-a", person, CARD).status());
    consent(person, "lender-a", CARD);
    Api.Res card = inquire("lender-a", person, CARD);
    assertEquals(200, card.status(), card.toString());
    assertEquals("HARD", card.json().getString("inquiryType"));
    assertEquals("CONSENT", card.json().getString("basis"));
    assertEquals(1, card.json().getJsonObject("overBorrowing").getInteger("inquiries30d"));
    assertEquals(403, inquire("lender-c", person, GUARANTOR).status());
    consent(person, "lender-c", GUARANTOR);
    JsonObject over = inquire("lender-c", person, GUARANTOR).json().getJsonObject("overBorrowing");
    assertEquals(2, over.getInteger("distinctLenders7d"), over.encode());
    assertEquals(2, over.getInteger("inquiries30d"), over.encode());
    consent(person, "lender-d", REVIEW);
    JsonObject soft = inquire("lender-d", person, REVIEW).json();
    assertEquals("SOFT", soft.getString("inquiryType"));
    assertEquals(2, soft.getJsonObject("overBorrowing").getInteger("inquiries30d"), "SOFT does not count");
    assertEquals(2, soft.getJsonObject("overBorrowing").getInteger("distinctLenders7d"));
    assertEquals(expected(2, 2, 2, 2), counts(person));

    JsonArray items = api.get("/v1/me/inquiries", Tokens.borrower(person)).items();
    int hard = 0;
    int softs = 0;
    for (Object o : items) {
      JsonObject item = (JsonObject) o;
      if (!"INQUIRY".equals(item.getString("action"))) {
        continue;
      }
      String purpose = item.getString("purpose");
      assertEquals(REVIEW.equals(purpose) ? "SOFT" : "HARD", item.getString("inquiryType"), item.encode());
      if (REVIEW.equals(purpose)) {
        softs++;
      } else {
        hard++;
      }
    }
    assertTrue(hard >= 4 && softs >= 1, items.encode());
  }

  @Test
  @DisplayName("an INVALID row for a body with unknown fields holds none of the client's text")
  void invalidRowsHoldNoClientText() {
    String person = newPerson();
    List<String> bodies = List.of(
      "{\"nationalId\":\"" + person + "\",\"purpose\":\"LOAN_ORIGINATION\",\"evil\\u0001name\":1}",
      "{\"nationalId\":\"" + person + "\",\"purpose\":\"LOAN_ORIGINATION\",\"evilname42\":\"evilvalue42\"}",
      "{\"nationalId\":\"evilid42\",\"purpose\":\"evilpurpose42\",\"scope\":\"evilscope42\"}");
    for (String body : bodies) {
      Api.Res r = raw("lender-d", body);
      assertEquals(400, r.status(), r.toString());
      String requestId = r.header("X-Request-Id");
      assertEquals(1, bureau.count("SELECT count(*) FROM access_log WHERE decision = 'INVALID' AND request_id = '"
        + requestId + "'"), "the attempt is logged");
      String row = bureau.sqlString("SELECT row_to_json(a)::text FROM access_log a WHERE request_id = '" + requestId + "'");
      assertFalse(row.toLowerCase().contains("evil"), row);
      assertFalse(row.contains(person), row);
    }
    String unknown = bureau.sqlString("SELECT details::text FROM access_log WHERE decision = 'INVALID'"
      + " AND lender_id = 'lender-d' AND details::text LIKE '%(unknown)%' LIMIT 1");
    assertNotNull(unknown, "an unknown name is recorded as (unknown)");
    String known = bureau.sqlString("SELECT details::text FROM access_log WHERE decision = 'INVALID'"
      + " AND lender_id = 'lender-d' AND details::text LIKE '%purpose%' LIMIT 1");
    assertNotNull(known, "a name the schema knows is recorded as it is");
    assertNull(bureau.sqlString("SELECT details::text FROM access_log WHERE lender_id = 'lender-d'"
      + " AND details::text LIKE '%evil%' LIMIT 1"));
  }
}
