package io.openbureau.furnishing;

import io.openbureau.config.BusinessTime;
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

import java.net.http.HttpRequest;
import java.time.LocalDate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("closedAt: an optional day the account ended, validated, stored and returned")
class ClosedAtTest {
  private static TestBureau bureau;
  private static Api api;
  private static final String A = Tokens.lender("lender-a");
  private static final LocalDate TODAY = BusinessTime.today();
  private static int seq = 700;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("closedat", new JsonObject().put("ageing", new JsonObject().put("scheduled", false)));
    api = bureau.api;
    assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", "lender-a").put("name", "A")).status());
  }

  @AfterAll
  static void stop() {
    bureau.close();
  }

  static synchronized String person() {
    return NationalId.of("110105", LocalDate.of(1986, 1, 1).plusDays(seq), seq++);
  }

  static JsonObject closed(String id, String closedAt) {
    return new JsonObject().put("nationalId", id).put("productType", "CONSUMER_LOAN").put("openedAt", "2020-01-15")
      .put("principal", "20000.00").put("status", "CLOSED").put("balance", "0.00").put("daysPastDue", 0)
      .put("closedAt", closedAt);
  }

  private static String field(Api.Res r) {
    return r.json().getJsonArray("errors").getJsonObject(0).getString("field");
  }

  @Test
  @DisplayName("PUT stores closedAt and answers it; a change of closedAt alone is an update; the same body again changes nothing")
  void storedAndReturned() {
    String id = person();
    Api.Res created = api.put("/v1/tradelines/C-1", A, closed(id, "2024-06-30"));
    assertEquals(201, created.status(), created.toString());
    assertEquals("2024-06-30", created.json().getString("closedAt"));
    assertEquals("2024-06-30", bureau.sqlString("SELECT closed_at::text FROM tradelines WHERE account_ref = 'C-1'"));
    assertEquals(200, api.put("/v1/tradelines/C-1", A, closed(id, "2024-06-30")).status());
    Api.Res moved = api.put("/v1/tradelines/C-1", A, closed(id, "2024-07-01"));
    assertEquals(200, moved.status());
    assertEquals("2024-07-01", bureau.sqlString("SELECT closed_at::text FROM tradelines WHERE account_ref = 'C-1'"));
    Api.Res open = api.put("/v1/tradelines/C-2", A, closed(id, null).put("status", "OPEN").put("balance", "100.00"));
    assertEquals(201, open.status(), open.toString());
    assertEquals(null, open.json().getValue("closedAt"));
    // the person's own report shows when each account ended
    io.vertx.core.json.JsonArray lines = api.get("/v1/me/report", io.openbureau.support.Tokens.borrower(id)).json()
      .getJsonArray("tradelines");
    java.util.Map<String, Object> byRef = new java.util.HashMap<>();
    lines.forEach(t -> byRef.put(((JsonObject) t).getString("accountRef"), ((JsonObject) t).getValue("closedAt")));
    assertEquals("2024-07-01", byRef.get("C-1"), lines.encode());
    assertEquals(null, byRef.get("C-2"));
  }

  @Test
  @DisplayName("closedAt before openedAt, after today (business zone), malformed or on an OPEN account: 400 naming closedAt")
  void invalid() {
    String id = person();
    for (JsonObject body : new JsonObject[] {closed(id, "2020-01-14"), closed(id, TODAY.plusDays(1).toString()),
      closed(id, "2024-13-01"), closed(id, "2024-06-30").put("status", "OPEN").put("balance", "100.00")}) {
      Api.Res r = api.put("/v1/tradelines/C-BAD", A, body);
      assertEquals(400, r.status(), body.encode() + " -> " + r);
      assertEquals("closedAt", field(r), r.toString());
    }
    assertEquals(201, api.put("/v1/tradelines/C-TODAY", A, closed(id, TODAY.toString())).status(),
      "today in the business time zone is not in the future");
    assertEquals(0, bureau.count("SELECT count(*) FROM tradelines WHERE account_ref = 'C-BAD'"));
  }

  @Test
  @DisplayName("a batch line with a bad closedAt is rejected naming closedAt; a good one is stored")
  void batch() {
    String id = person();
    String body = new JsonObject().put("type", "tradeline").put("accountRef", "CB-1").mergeIn(closed(id, "2023-03-31")).encode()
      + "\n" + new JsonObject().put("type", "tradeline").put("accountRef", "CB-2").mergeIn(closed(id, "2019-12-31")).encode()
      + "\n";
    HttpRequest req = api.builder("/v1/furnishing/batches", A).header("Content-Type", "application/x-ndjson")
      .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    Api.Res r = api.send(req);
    assertEquals(200, r.status(), r.toString());
    assertEquals(1, r.json().getInteger("accepted"), r.toString());
    JsonArray errors = r.json().getJsonArray("errors");
    assertEquals(1, errors.size(), r.toString());
    assertTrue(errors.getJsonObject(0).encode().contains("closedAt"), r.toString());
    assertEquals("2023-03-31", bureau.sqlString("SELECT closed_at::text FROM tradelines WHERE account_ref = 'CB-1'"));
  }
}
