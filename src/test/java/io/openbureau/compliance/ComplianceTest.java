package io.openbureau.compliance;

import io.openbureau.cli.MaintenanceCommand;
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

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Compliance: officers review, export and get alerts from the access log; people see who looked at them")
class ComplianceTest {
  private static final AtomicInteger PEOPLE = new AtomicInteger();
  private static final String LO = "LOAN_ORIGINATION";
  private static final String LOG = "/v1/compliance/access-log";
  private static TestBureau bureau;
  private static Api api;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("compliance", new JsonObject().put("compliance", new JsonObject()
      .put("alerts", new JsonObject().put("overBorrowingLenders", 3).put("fishingDeniedCount", 6)
        .put("fishingDeniedShare", 0.95).put("fishingMinInquiries", 6).put("fishingPeopleWithoutConsent", 5))));
    api = bureau.api;
    for (String id : List.of("cl-a", "cl-b", "cl-c", "cl-d", "cl-fish", "cl-quiet", "cl-list", "cl-list2", "cl-type")) {
      assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", id).put("name", id)).status());
    }
  }

  @AfterAll
  static void stop() {
    bureau.close();
  }

  static String newPerson() {
    return NationalId.of("320102", LocalDate.of(1980, 1, 1).plusDays(PEOPLE.incrementAndGet() * 3L), 31);
  }

  static String hex(String nationalId) {
    return BorrowerKeys.hex(new BorrowerKeys(bureau.config().identity().hmacKeyId(),
      bureau.config().identity().hmacSecret()).key(nationalId));
  }

  static void consent(String person, String lender) {
    assertEquals(201, api.post("/v1/me/consents", Tokens.borrower(person),
      new JsonObject().put("lenderId", lender).put("purpose", LO).put("scope", "SCORE")).status());
  }

  static int inquire(String lender, String person) {
    return api.post("/v1/inquiries", Tokens.lender(lender),
      new JsonObject().put("nationalId", person).put("purpose", LO)).status();
  }

  static Api.Res get(String path, String token, String requestId) {
    return api.send(api.builder(path, token).header("X-Request-Id", requestId).GET().build());
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** Every page of a listing; asserts pages never overlap. */
  static List<JsonObject> all(String query, int limit) {
    List<JsonObject> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    String cursor = null;
    do {
      Api.Res r = api.get(LOG + "?" + query + "&limit=" + limit + (cursor == null ? "" : "&cursor=" + cursor),
        Tokens.compliance());
      assertEquals(200, r.status(), r.toString());
      for (Object o : r.items()) {
        JsonObject item = (JsonObject) o;
        assertTrue(seen.add(item.getString("id")), "pages overlap at " + item.getString("id"));
        out.add(item);
      }
      assertTrue(r.items().size() <= limit);
      cursor = r.json().getString("nextCursor");
    } while (cursor != null);
    return out;
  }

  @Test
  @DisplayName("filters by lender, person, decision and purpose; pages newest first with no overlap and no gap")
  void filtersAndPagination() {
    String p1 = newPerson();
    String p2 = newPerson();
    consent(p1, "cl-list");
    for (int i = 0; i < 4; i++) {
      assertEquals(200, inquire("cl-list", p1));
    }
    assertEquals(403, inquire("cl-list", p2));
    assertEquals(403, inquire("cl-list", p2));
    assertEquals(403, inquire("cl-list2", p1));

    List<JsonObject> byLender = all("lenderId=cl-list", 2);
    assertEquals(bureau.count("SELECT count(*) FROM access_log WHERE lender_id = 'cl-list'"), byLender.size());
    assertEquals(6, byLender.size());
    for (int i = 1; i < byLender.size(); i++) {
      JsonObject a = byLender.get(i - 1);
      JsonObject b = byLender.get(i);
      int c = a.getString("at").compareTo(b.getString("at"));
      assertTrue(c > 0 || (c == 0 && Long.parseLong(a.getString("id")) > Long.parseLong(b.getString("id"))),
        "newest first");
    }
    JsonObject first = byLender.get(0);
    for (String field : List.of("id", "at", "lenderId", "borrowerKey", "purpose", "scope", "decision", "reason",
      "consentId", "requestId")) {
      assertTrue(first.containsKey(field), field);
    }

    List<JsonObject> denied = all("lenderId=cl-list&decision=DENIED", 1);
    assertEquals(2, denied.size());
    denied.forEach(d -> assertEquals(hex(p2), d.getString("borrowerKey")));

    List<JsonObject> person = all("nationalId=" + p1, 3);
    assertEquals(5, person.size(), "4 granted by cl-list, 1 denied by cl-list2");
    person.forEach(d -> assertEquals(hex(p1), d.getString("borrowerKey")));
    assertEquals(4, all("nationalId=" + p1 + "&decision=GRANTED&purpose=" + LO, 1000).size());
    assertEquals(0, all("nationalId=" + p1 + "&purpose=ACCOUNT_REVIEW", 1000).size());

    Api.Res r = api.get(LOG + "?lenderId=cl-list&limit=1000", Tokens.compliance());
    assertNull(r.json().getValue("nextCursor"));
    JsonObject range = r.json().getJsonObject("range");
    assertFalse(range.getBoolean("capped"));
  }

  @Test
  @DisplayName("inquiryType filters the list and the export to HARD or SOFT purposes, and must agree with purpose")
  void filtersByInquiryType() {
    String p = newPerson();
    consent(p, "cl-type");
    assertEquals(200, inquire("cl-type", p));
    assertEquals(200, inquire("cl-type", p));
    // a SOFT inquiry without an account or consent for it: denied, logged with its purpose
    assertEquals(403, api.post("/v1/inquiries", Tokens.lender("cl-type"),
      new JsonObject().put("nationalId", p).put("purpose", "ACCOUNT_REVIEW")).status());
    assertEquals(3, all("lenderId=cl-type", 10).size());
    List<JsonObject> hard = all("lenderId=cl-type&inquiryType=HARD", 1);
    assertEquals(2, hard.size());
    hard.forEach(r -> assertEquals(LO, r.getString("purpose")));
    List<JsonObject> soft = all("lenderId=cl-type&inquiryType=SOFT", 10);
    assertEquals(1, soft.size());
    assertEquals("ACCOUNT_REVIEW", soft.get(0).getString("purpose"));
    Api.Res nd = api.get(LOG + "/export?lenderId=cl-type&inquiryType=HARD", Tokens.compliance());
    assertEquals(200, nd.status(), nd.toString());
    assertEquals(2, nd.body().split("\n").length);
    Api.Res clash = api.get(LOG + "?inquiryType=SOFT&purpose=" + LO, Tokens.compliance());
    assertEquals(400, clash.status(), clash.toString());
    assertTrue(clash.body().contains("inquiryType"), clash.body());
    assertEquals(400, api.get(LOG + "?inquiryType=MEDIUM", Tokens.compliance()).status());
  }

  @Test
  @DisplayName("export streams exactly the rows the list shows, as NDJSON and as CSV")
  void exportMatchesList() {
    String p = newPerson();
    consent(p, "cl-d");
    for (int i = 0; i < 7; i++) {
      assertEquals(200, inquire("cl-d", p));
    }
    assertEquals(403, inquire("cl-d", newPerson()));
    List<JsonObject> listed = all("lenderId=cl-d", 3);
    assertEquals(8, listed.size());

    Api.Res nd = api.get(LOG + "/export?lenderId=cl-d", Tokens.compliance());
    assertEquals(200, nd.status(), nd.toString());
    assertTrue(nd.header("Content-Type").startsWith("application/x-ndjson"));
    String[] lines = nd.body().split("\n");
    assertEquals(listed.size(), lines.length);
    for (int i = 0; i < lines.length; i++) {
      assertEquals(listed.get(i), new JsonObject(lines[i]));
    }

    Api.Res csv = api.send(api.builder(LOG + "/export?lenderId=cl-d", Tokens.compliance())
      .header("Accept", "text/csv").GET().build());
    assertEquals(200, csv.status());
    assertTrue(csv.header("Content-Type").startsWith("text/csv"));
    String[] rows = csv.body().split("\n");
    assertEquals("id,at,action,lenderId,borrowerKey,purpose,scope,decision,reason,consentId,requestId", rows[0]);
    assertEquals(listed.size(), rows.length - 1);
    assertTrue(rows[1].startsWith(listed.get(0).getString("id") + ","));

    // the export is logged before and after, with the row count at the end
    assertEquals(2, bureau.count("SELECT count(*) FROM access_log WHERE action = 'COMPLIANCE_EXPORT'"
      + " AND details->>'lenderId' = 'cl-d'"));
    assertEquals(2, bureau.count("SELECT count(*) FROM access_log WHERE action = 'COMPLIANCE_EXPORT_END'"
      + " AND (details->>'rows')::int = 8 AND details->>'aborted' = 'false'"));
  }

  @Test
  @DisplayName("a large export streams in full (more rows than the cursor fetch and the response chunk)")
  void largeExport() {
    bureau.sql("INSERT INTO access_log (id, at, chain_id, chain_seq, action, actor_role, actor_id, lender_id, decision,"
      + " reason, request_id, prev_hash, row_hash) SELECT nextval('access_log_id_seq'), now() - interval '1 hour',"
      + " 'bulk-export', g, 'INQUIRY', 'lender', 'cl-quiet', 'cl-quiet', 'DENIED', 'no_consent', 'bulk-' || g,"
      + " '\\x00', '\\x00' FROM generate_series(1, 5000) g");
    Api.Res nd = api.get(LOG + "/export?lenderId=cl-quiet", Tokens.compliance());
    assertEquals(200, nd.status());
    assertEquals(5000, nd.body().split("\n").length);
  }

  @Test
  @DisplayName("compliance reads are themselves logged: who, what filter (no raw national id), how many rows")
  void readsAreLogged() {
    String p = newPerson();
    Api.Res r = get(LOG + "?nationalId=" + p + "&limit=5", Tokens.compliance(), "watch-1");
    assertEquals(200, r.status(), r.toString());
    assertEquals(1, bureau.count("SELECT count(*) FROM access_log WHERE request_id = 'watch-1'"
      + " AND action = 'COMPLIANCE_READ' AND actor_role = 'compliance' AND actor_id = 'officer-1'"
      + " AND details->>'borrowerKey' = '" + hex(p) + "' AND (details->>'rows')::int = 0 AND borrower_key IS NULL"));
    assertEquals(200, get(LOG + "/verify", Tokens.compliance(), "watch-2").status());
    assertEquals(1, bureau.count("SELECT count(*) FROM access_log WHERE request_id = 'watch-2'"
      + " AND action = 'COMPLIANCE_VERIFY' AND details ? 'checked'"));
    assertEquals(200, get("/v1/compliance/alerts", Tokens.compliance(), "watch-3").status());
    assertEquals(1, bureau.count("SELECT count(*) FROM access_log WHERE request_id = 'watch-3'"
      + " AND action = 'COMPLIANCE_ALERTS'"));
    assertEquals(0, bureau.count("SELECT count(*) FROM access_log WHERE row_to_json(access_log)::text LIKE '%"
      + p + "%'"), "the raw national id is never in the access log");
  }

  @Test
  @DisplayName("alerts: a person queried by many lenders, and a member fishing without consent, with evidence")
  void alerts() {
    String hopper = newPerson();
    for (String lender : List.of("cl-a", "cl-b", "cl-c")) {
      consent(hopper, lender);
      assertEquals(200, inquire(lender, hopper));
    }
    List<String> fished = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      String victim = newPerson();
      fished.add(hex(victim));
      assertEquals(403, inquire("cl-fish", victim));
    }
    Api.Res r = api.get("/v1/compliance/alerts", Tokens.compliance());
    assertEquals(200, r.status(), r.toString());
    JsonObject over = find(r.json().getJsonArray("overBorrowing"), "borrowerKey", hex(hopper));
    assertNotNull(over, r.body());
    assertEquals(3, over.getInteger("distinctLenders"));
    assertEquals(new JsonArray(List.of("cl-a", "cl-b", "cl-c")), over.getJsonArray("lenderIds"));
    assertEquals(3, over.getJsonArray("sampleIds").size());
    for (Object id : over.getJsonArray("sampleIds")) {
      assertEquals(1, bureau.count("SELECT count(*) FROM access_log WHERE id = " + id + " AND borrower_key = '\\x"
        + hex(hopper) + "' AND decision = 'GRANTED'"));
    }
    assertNotNull(over.getJsonObject("window").getString("from"));

    JsonObject fish = find(r.json().getJsonArray("suspiciousLenders"), "lenderId", "cl-fish");
    assertNotNull(fish, r.body());
    assertEquals(6, fish.getInteger("denied"));
    assertEquals(6, fish.getInteger("peopleWithoutConsent"));
    assertEquals(1.0, fish.getDouble("deniedShare"));
    assertEquals(new JsonArray(List.of("DENIED_COUNT", "DENIED_SHARE", "PEOPLE_WITHOUT_CONSENT")), fish.getJsonArray("triggers"));
    assertEquals(5, fish.getJsonArray("sampleIds").size(), "sampleSize");
    fish.getJsonArray("sampleBorrowerKeys").forEach(k -> assertTrue(fished.contains(k)));
    assertNull(find(r.json().getJsonArray("suspiciousLenders"), "lenderId", "cl-c"), "a member in good standing");
  }

  static JsonObject find(JsonArray items, String field, String value) {
    for (Object o : items) {
      if (value.equals(((JsonObject) o).getString(field))) {
        return (JsonObject) o;
      }
    }
    return null;
  }

  @Test
  @DisplayName("a person sees every access about them and only them, newest first, and the look is logged")
  void myInquiries() {
    String me = newPerson();
    String other = newPerson();
    consent(me, "cl-b");
    assertEquals(200, inquire("cl-b", me));
    assertEquals(403, inquire("cl-c", me));
    assertEquals(403, inquire("cl-a", other));

    Api.Res page1 = get("/v1/me/inquiries?limit=1", Tokens.borrower(me), "self-1");
    assertEquals(200, page1.status(), page1.toString());
    JsonObject newest = page1.items().getJsonObject(0);
    assertEquals("cl-c", newest.getString("lenderId"));
    assertEquals("DENIED", newest.getString("decision"));
    assertEquals(LO, newest.getString("purpose"));
    assertEquals("SCORE", newest.getString("scope"));
    assertNotNull(newest.getString("at"));
    Api.Res page2 = api.get("/v1/me/inquiries?limit=1&cursor=" + page1.json().getString("nextCursor"), Tokens.borrower(me));
    assertEquals("cl-b", page2.items().getJsonObject(0).getString("lenderId"));
    assertEquals("GRANTED", page2.items().getJsonObject(0).getString("decision"));

    Api.Res theirs = api.get("/v1/me/inquiries?limit=1000", Tokens.borrower(other));
    for (Object o : theirs.items()) {
      JsonObject e = (JsonObject) o;
      assertTrue(e.getString("lenderId") == null || e.getString("lenderId").equals("cl-a"), e.encode());
    }
    assertEquals(bureau.count("SELECT count(*) FROM access_log WHERE borrower_key = '\\x" + hex(other) + "'") - 1,
      theirs.items().size(), "everything about them, except the row of this very look");
    assertEquals(1, bureau.count("SELECT count(*) FROM access_log WHERE request_id = 'self-1' AND action = 'SELF_INQUIRIES'"
      + " AND borrower_key = '\\x" + hex(me) + "' AND actor_id IS NULL"));
  }

  @Test
  @DisplayName("a person gets their own full report free, and the read is logged")
  void myReport() {
    String me = newPerson();
    JsonObject loan = new JsonObject().put("nationalId", me).put("productType", "CONSUMER_LOAN")
      .put("openedAt", "2024-03-15").put("principal", "9000.00").put("status", "OPEN").put("balance", "4000.00")
      .put("daysPastDue", 0);
    assertEquals(201, api.put("/v1/tradelines/ME-1", Tokens.lender("cl-a"), loan).status());
    Api.Res r = get("/v1/me/report", Tokens.borrower(me), "self-report-1");
    assertEquals(200, r.status(), r.toString());
    JsonArray tradelines = r.json().getJsonArray("tradelines");
    assertEquals(1, tradelines.size());
    assertEquals("cl-a", tradelines.getJsonObject(0).getString("lenderId"));
    assertNotNull(r.json().getJsonObject("score").getInteger("value"));
    assertEquals(1, r.json().getJsonObject("overBorrowing").getInteger("activeLoans"));
    assertEquals(1, bureau.count("SELECT count(*) FROM access_log WHERE request_id = 'self-report-1'"
      + " AND action = 'SELF_REPORT' AND borrower_key = '\\x" + hex(me) + "'"));
    Api.Res empty = api.get("/v1/me/report", Tokens.borrower(newPerson()));
    assertEquals(200, empty.status());
    assertNull(empty.json().getValue("score"), "a thin file is an answer");
    assertEquals("NO_TRADELINES", empty.json().getJsonObject("noScoreReason").getString("code"), "and says why");
  }

  @Test
  @DisplayName("lender, borrower and admin tokens on compliance routes are 403; officers on /v1/me are 403")
  void roles() {
    for (String path : List.of(LOG, LOG + "/export", LOG + "/verify", "/v1/compliance/alerts")) {
      for (String token : List.of(Tokens.lender("cl-a"), Tokens.borrower(newPerson()), Tokens.admin())) {
        Api.Res r = api.get(path, token);
        assertEquals(403, r.status(), path + " " + r);
        assertEquals("forbidden", r.code());
      }
      assertEquals(401, api.get(path, null).status());
    }
    assertEquals(403, api.get("/v1/me/inquiries", Tokens.compliance()).status());
    assertEquals(403, api.get("/v1/me/report", Tokens.lender("cl-a")).status());
  }

  @Test
  @DisplayName("bad input is 400 problem+json naming the field: cursor, limit, inverted or malformed range, person, lender")
  void badInput() {
    assertField(LOG + "?cursor=not-a-cursor", "cursor");
    assertField(LOG + "?cursor=" + io.openbureau.http.Cursors.encode(new JsonObject().put("x", 1)), "cursor");
    assertField(LOG + "?limit=0", "limit");
    assertField(LOG + "?limit=1001", "limit");
    assertField(LOG + "?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from");
    assertField(LOG + "/verify?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from");
    assertField("/v1/compliance/alerts?from=yesterday", "from");
    assertField(LOG + "/export?to=2026-13-45", "to");
    assertField(LOG + "?nationalId=123456789012345678", "nationalId");
    assertField(LOG + "?lenderId=no-such-member", "lenderId");
    assertField(LOG + "/export?lenderId=no-such-member", "lenderId");
    assertField(LOG + "?decision=MAYBE", "decision");
    Api.Res mine = api.get("/v1/me/inquiries?cursor=%25%25", Tokens.borrower(newPerson()));
    assertEquals(400, mine.status(), mine.toString());
  }

  static void assertField(String path, String field) {
    Api.Res r = api.get(path, Tokens.compliance());
    assertEquals(400, r.status(), path + " " + r);
    assertTrue(r.header("Content-Type").startsWith("application/problem+json"));
    assertEquals("invalid_request", r.code());
    assertEquals(field, r.json().getJsonArray("errors").getJsonObject(0).getString("field"), r.body());
  }

  @Test
  @DisplayName("an unbounded range is capped to compliance.maxRangeDays and the answer says so")
  void capped() {
    Api.Res r = api.get(LOG + "?from=2000-01-01T00:00:00Z&limit=1", Tokens.compliance());
    assertEquals(200, r.status(), r.toString());
    JsonObject range = r.json().getJsonObject("range");
    assertTrue(range.getBoolean("capped"));
    assertTrue(OffsetDateTime.parse(range.getString("from")).isAfter(OffsetDateTime.now().minusDays(367)));
    Api.Res export = api.get(LOG + "/export?from=2000-01-01T00:00:00.000Z&lenderId=cl-a", Tokens.compliance());
    assertEquals(200, export.status(), export.toString());
    assertEquals("true", export.header("X-Range-Capped"));
  }

  @Test
  @DisplayName("retention drops only partitions past the retention period, anchors their chains and logs each drop")
  void retention() throws Exception {
    bureau.sql("SELECT audit_ensure_partitions(80, 0)");
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    String old = partition(now.minusMonths(70));
    String young = partition(now.minusMonths(30));
    for (OffsetDateTime at : List.of(now.minusMonths(70), now.minusMonths(30))) {
      bureau.sql("INSERT INTO access_log (id, at, chain_id, chain_seq, action, actor_role, decision, prev_hash, row_hash)"
        + " VALUES (nextval('access_log_id_seq'), '" + at + "', 'ancient', " + at.getYear() + ", 'INQUIRY', 'lender',"
        + " 'DENIED', '\\x00', '\\x01')");
    }
    String dry = MaintenanceCommand.retention(bureau.config(), 60, true, now);
    assertTrue(dry.contains("would drop " + old + " (1 rows"), dry);
    assertNotNull(bureau.sqlString("SELECT to_regclass('" + old + "')"), "a dry run changes nothing");

    String done = MaintenanceCommand.retention(bureau.config(), 60, false, now);
    assertTrue(done.contains("dropped " + old), done);
    assertFalse(done.contains(young), done);
    assertNull(bureau.sqlString("SELECT to_regclass('" + old + "')"));
    assertNull(bureau.sqlString("SELECT to_regclass('" + partition(now.minusMonths(61)) + "')"));
    assertNotNull(bureau.sqlString("SELECT to_regclass('" + young + "')"));
    assertNotNull(bureau.sqlString("SELECT to_regclass('" + partition(now.minusMonths(59)) + "')"));
    assertEquals(1, bureau.count("SELECT count(*) FROM access_log WHERE chain_id = 'ancient'"));
    assertEquals(1, bureau.count("SELECT count(*) FROM maintenance_log WHERE action = 'ACCESS_LOG_RETENTION_DROP'"
      + " AND details->>'partition' = '" + old + "' AND (details->>'rows')::int = 1"));
    assertEquals(1, bureau.count("SELECT count(*) FROM audit_anchors WHERE chain_id = 'ancient' AND partition = '" + old + "'"));
    String again = MaintenanceCommand.retention(bureau.config(), 60, false, now);
    assertTrue(again.contains("dropped 0 partition(s)"), again);
  }

  static String partition(OffsetDateTime at) {
    return String.format("access_log_%04d_%02d", at.getYear(), at.getMonthValue());
  }
}
