package io.openbureau.furnishing;

import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Furnishing: members report loans and repayments; every accepted change refreshes the score")
class FurnishingTest {
  private static TestBureau bureau;
  private static TestBureau sibling;
  private static Api api;
  private static final String A = Tokens.lender("lender-a");
  private static final String B = Tokens.lender("lender-b");
  private static int seq = 100;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("furnish");
    sibling = bureau.sibling();
    api = bureau.api;
    for (String m : List.of("lender-a", "lender-b", "lender-c")) {
      api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", m).put("name", m));
    }
  }

  @AfterAll
  static void stop() {
    sibling.stop();
    bureau.close();
  }

  static synchronized String person() {
    return NationalId.of("110105", LocalDate.of(1985, 1, 1).plusDays(seq), seq++);
  }

  static JsonObject loan(String id) {
    return new JsonObject().put("nationalId", id).put("productType", "CONSUMER_LOAN").put("openedAt", "2020-01-15")
      .put("principal", "20000.00").put("status", "OPEN").put("balance", "15000.00").put("daysPastDue", 0);
  }

  private static String field(Api.Res r) {
    return r.json().getJsonArray("errors").getJsonObject(0).getString("field");
  }

  /** The score as the bureau serves it: the report endpoint is not here yet, so read the cache-backed store via SQL + Redis. */
  private static JsonObject storedScore(String nationalId) {
    byte[] key = new io.openbureau.identity.BorrowerKeys(bureau.config().identity().hmacKeyId(),
      bureau.config().identity().hmacSecret()).key(nationalId);
    String hex = io.openbureau.identity.BorrowerKeys.hex(key);
    long value = bureau.count("SELECT coalesce((SELECT value FROM scores WHERE borrower_key = '\\x" + hex + "'), -1)");
    long version = bureau.count("SELECT coalesce((SELECT version FROM scores WHERE borrower_key = '\\x" + hex + "'), -1)");
    String cached = RedisProbe.get(bureau, bureau.config().redis().keyPrefix() + "{b:" + hex + "}:score");
    return new JsonObject().put("value", value).put("version", version).put("cached", cached);
  }

  @Test
  @DisplayName("PUT creates a tradeline (201), the same body again changes nothing (200), a change updates it")
  void putIdempotent() {
    String id = person();
    Api.Res created = api.put("/v1/tradelines/L-1", A, loan(id));
    assertEquals(201, created.status(), created.toString());
    assertEquals("15000.00", created.json().getString("balance"));
    assertFalse(created.body().contains(id), "the national id is never echoed");
    long version = storedScore(id).getLong("version");
    assertEquals(200, api.put("/v1/tradelines/L-1", A, loan(id)).status());
    assertEquals(version, storedScore(id).getLong("version"), "an unchanged tradeline does not rescore");
    Api.Res updated = api.put("/v1/tradelines/L-1", A, loan(id).put("balance", "14000.00"));
    assertEquals(200, updated.status());
    assertEquals("14000.00", updated.json().getString("balance"));
    assertTrue(storedScore(id).getLong("version") > version);
  }

  @Test
  @DisplayName("the score is in Postgres and in Redis before the response is sent")
  void scoreFreshBeforeResponse() {
    String id = person();
    api.put("/v1/tradelines/F-1", A, loan(id));
    JsonObject s = storedScore(id);
    assertTrue(s.getLong("value") >= 300 && s.getLong("value") <= 850, s.encode());
    assertNotNull(s.getString("cached"));
    assertTrue(s.getString("cached").startsWith(s.getLong("version") + "|"), s.encode());
    int before = new JsonObject(s.getString("cached").substring(s.getString("cached").indexOf('|') + 1)).getInteger("value");
    api.put("/v1/tradelines/F-1", A, loan(id).put("daysPastDue", 95).put("status", "DEFAULTED"));
    String cached = storedScore(id).getString("cached");
    int after = new JsonObject(cached.substring(cached.indexOf('|') + 1)).getInteger("value");
    assertTrue(after < before, before + " -> " + after);
  }

  @Test
  @DisplayName("the same accountRef from two members is two accounts, and a member cannot move an account to another person")
  void memberIsolation() {
    String p1 = person();
    String p2 = person();
    assertEquals(201, api.put("/v1/tradelines/SHARED-1", A, loan(p1)).status());
    assertEquals(201, api.put("/v1/tradelines/SHARED-1", B, loan(p2)).status());
    assertEquals(2, bureau.count("SELECT count(*) FROM tradelines WHERE account_ref = 'SHARED-1'"));
    Api.Res moved = api.put("/v1/tradelines/SHARED-1", A, loan(p2));
    assertEquals(409, moved.status());
    assertEquals("account_person_mismatch", moved.code());
    Api.Res foreignRepayment = api.post("/v1/tradelines/L-ONLY-A/repayments", B,
      new JsonObject().put("period", "2026-01").put("amountDue", "100.00").put("amountPaid", "100.00").put("daysPastDue", 0));
    assertEquals(404, foreignRepayment.status());
  }

  @Test
  @DisplayName("two racing creates of one new account for two people: one wins, the other is 409, never a mix")
  void racingCreatesOfOneAccount() throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    for (int round = 0; round < 15; round++) {
      String ref = "RACE-" + round;
      String p1 = person();
      String p2 = person();
      List<java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<String>>> both = new ArrayList<>();
      for (String p : List.of(p1, p2)) {
        both.add(http.sendAsync(api.builder("/v1/tradelines/" + ref, A).header("Content-Type", "application/json")
            .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(loan(p).put("balance", p == p1 ? "1000.00" : "2000.00")
              .encode())).build(), java.net.http.HttpResponse.BodyHandlers.ofString()));
      }
      List<Integer> statuses = new ArrayList<>();
      for (var f : both) {
        statuses.add(f.get().statusCode());
      }
      statuses.sort(null);
      assertEquals(List.of(201, 409), statuses, "round " + round);
      // the stored account is wholly the winner's: its person and its balance
      String winner = both.get(0).get().statusCode() == 201 ? p1 : p2;
      String balance = winner.equals(p1) ? "1000.00" : "2000.00";
      String hex = io.openbureau.identity.BorrowerKeys.hex(new io.openbureau.identity.BorrowerKeys(
        bureau.config().identity().hmacKeyId(), bureau.config().identity().hmacSecret()).key(winner));
      assertEquals(1, bureau.count("SELECT count(*) FROM tradelines WHERE account_ref = '" + ref
        + "' AND borrower_key = '\\x" + hex + "' AND balance = " + balance), "round " + round);
    }
  }

  @Test
  @DisplayName("repayments: 201, the same period twice replaces it, an unknown account is 404")
  void repayments() {
    String id = person();
    api.put("/v1/tradelines/R-1", A, loan(id));
    JsonObject rep = new JsonObject().put("period", "2026-09").put("amountDue", "1000.00").put("amountPaid", "0.00")
      .put("daysPastDue", 30);
    assertEquals(201, api.post("/v1/tradelines/R-1/repayments", A, rep).status());
    assertEquals(201, api.post("/v1/tradelines/R-1/repayments", A, rep.copy().put("amountPaid", "1000.00").put("daysPastDue", 0)).status());
    assertEquals(1, bureau.count("SELECT count(*) FROM repayments WHERE account_ref = 'R-1'"));
    assertEquals(0, bureau.count("SELECT days_past_due FROM repayments WHERE account_ref = 'R-1'"));
    Api.Res unknown = api.post("/v1/tradelines/NOPE/repayments", A, rep);
    assertEquals(404, unknown.status());
    assertEquals("unknown_account", unknown.code());
  }

  @Test
  @DisplayName("bad input is 400 naming the field, and nothing is written")
  void validation() {
    String id = person();
    String bad = id.substring(0, 17) + (id.charAt(17) == '0' ? '1' : '0');
    record Case(JsonObject body, String field) {
    }
    List<Case> cases = List.of(
      new Case(loan(bad), "nationalId"),
      new Case(loan("1101051985010112AB"), "nationalId"),
      new Case(loan(id).put("principal", "-5.00"), "principal"),
      new Case(loan(id).put("principal", 20000.5), "principal"),
      new Case(loan(id).put("balance", "12.345"), "balance"),
      new Case(loan(id).put("productType", "YACHT"), "productType"),
      new Case(loan(id).put("openedAt", LocalDate.now().plusDays(3).toString()), "openedAt"),
      new Case(loan(id).put("openedAt", "2021-02-30"), "openedAt"),
      new Case(loan(id).put("daysPastDue", 4000), "daysPastDue"),
      new Case(loan(id).put("balance", "90000.00"), "balance"),
      new Case(loan(id).put("productType", "CREDIT_CARD"), "creditLimit"));
    for (Case c : cases) {
      Api.Res r = api.put("/v1/tradelines/V-1", A, c.body());
      assertEquals(400, r.status(), c + " -> " + r);
      assertTrue(r.json().getJsonArray("errors").stream().anyMatch(e -> ((JsonObject) e).getString("field").equals(c.field())),
        c.field() + " named in " + r.body());
      assertFalse(r.body().contains(id.substring(0, 14)), "no id echoed");
    }
    assertEquals(0, bureau.count("SELECT count(*) FROM tradelines WHERE account_ref = 'V-1'"));
    Api.Res period = api.post("/v1/tradelines/V-1/repayments", A,
      new JsonObject().put("period", "2026-13").put("amountDue", "1.00").put("amountPaid", "1.00").put("daysPastDue", 0));
    assertEquals(400, period.status());
    assertEquals("period", field(period));
  }

  @Test
  @DisplayName("a batch applies valid lines, rejects the others with their exact line numbers, and is idempotent")
  void batch() {
    String p1 = person();
    String p2 = person();
    StringBuilder nd = new StringBuilder();
    nd.append(loan(p1).put("type", "tradeline").put("accountRef", "BT-1").encode()).append('\n');          // 1
    nd.append("{not json\n");                                                                               // 2
    nd.append(loan(p2).put("type", "tradeline").put("accountRef", "BT-2").put("principal", "-1").encode()).append('\n'); // 3
    nd.append(new JsonObject().put("type", "repayment").put("accountRef", "BT-1").put("period", "2026-10")
      .put("amountDue", "500.00").put("amountPaid", "500.00").put("daysPastDue", 0).encode()).append('\n'); // 4
    nd.append(new JsonObject().put("type", "repayment").put("accountRef", "BT-404").put("period", "2026-10")
      .put("amountDue", "500.00").put("amountPaid", "500.00").put("daysPastDue", 0).encode()).append('\n'); // 5
    nd.append(new JsonObject().put("type", "merger").encode()).append('\n');                               // 6
    nd.append(loan(p2).put("type", "tradeline").put("accountRef", "BT-3").encode()).append('\n');           // 7
    Api.Res r = batch(nd.toString());
    assertEquals(200, r.status(), r.toString());
    assertEquals(3, r.json().getLong("accepted"));
    assertEquals(4, r.json().getLong("rejected"));
    List<Integer> lines = new ArrayList<>();
    r.json().getJsonArray("errors").forEach(e -> lines.add(((JsonObject) e).getInteger("line")));
    assertEquals(List.of(2, 3, 5, 6), lines);
    assertEquals("principal", r.json().getJsonArray("errors").getJsonObject(1).getString("field"));
    assertEquals("unknown_account", r.json().getJsonArray("errors").getJsonObject(2).getString("code"));
    assertEquals(2, bureau.count("SELECT count(*) FROM tradelines WHERE account_ref IN ('BT-1','BT-2','BT-3')"));
    Api.Res again = batch(nd.toString());
    assertEquals(3, again.json().getLong("accepted"));
    assertEquals(2, bureau.count("SELECT count(*) FROM tradelines WHERE account_ref IN ('BT-1','BT-2','BT-3')"));
    assertEquals(1, bureau.count("SELECT count(*) FROM repayments WHERE account_ref = 'BT-1'"));
  }

  @Test
  @DisplayName("a batch with the wrong content type is 415")
  void batchContentType() {
    assertEquals(415, api.raw("POST", "/v1/furnishing/batches", A, "application/json", "{}").status());
  }

  @Test
  @DisplayName("after a Redis flush the next read rebuilds the same score from Postgres")
  void rebuildAfterFlush() {
    String id = person();
    api.put("/v1/tradelines/FL-1", A, loan(id));
    String before = storedScore(id).getString("cached");
    bureau.flushRedis();
    byte[] key = new io.openbureau.identity.BorrowerKeys(bureau.config().identity().hmacKeyId(),
      bureau.config().identity().hmacSecret()).key(id);
    try (ScoreProbe probe = ScoreProbe.open(bureau)) {
      var rebuilt = TestBureau.await(probe.store().get(key).toCompletionStage().toCompletableFuture());
      assertEquals(before.substring(before.indexOf('|') + 1), rebuilt.toCacheJson().encode());
    }
    assertEquals(before, storedScore(id).getString("cached"), "the fill wrote the same entry back");
  }

  @Test
  @DisplayName("concurrent updates about one person from several members, on two instances, leave the latest score in the cache")
  void concurrentUpdates() throws Exception {
    String id = person();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Future<Integer>> results = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      int n = i;
      String token = List.of(A, B, Tokens.lender("lender-c")).get(n % 3);
      Api target = n % 2 == 0 ? api : sibling.api;
      results.add(pool.submit(() -> target.put("/v1/tradelines/C-" + (n % 5), token,
        loan(id).put("balance", (1000 + n) + ".00").put("daysPastDue", n % 4 == 0 ? 40 : 0)).status()));
    }
    for (Future<Integer> f : results) {
      int s = f.get();
      assertTrue(s == 200 || s == 201, "status " + s);
    }
    pool.shutdown();
    JsonObject stored = storedScore(id);
    String cached = stored.getString("cached");
    assertEquals(stored.getLong("version"), Long.parseLong(cached.substring(0, cached.indexOf('|'))),
      "the cache holds the last committed version");
    assertEquals(stored.getLong("value").intValue(), new JsonObject(cached.substring(cached.indexOf('|') + 1)).getInteger("value"));
    // and the stored score is what a fresh recomputation gives
    byte[] key = new io.openbureau.identity.BorrowerKeys(bureau.config().identity().hmacKeyId(),
      bureau.config().identity().hmacSecret()).key(id);
    bureau.flushRedis();
    try (ScoreProbe probe = ScoreProbe.open(bureau)) {
      assertEquals(stored.getLong("value").intValue(),
        TestBureau.await(probe.store().get(key).toCompletionStage().toCompletableFuture()).value());
    }
  }

  private static Api.Res batch(String ndjson) {
    return api.send(api.builder("/v1/furnishing/batches", A).header("Content-Type", "application/x-ndjson")
      .POST(HttpRequest.BodyPublishers.ofString(ndjson)).build());
  }
}
