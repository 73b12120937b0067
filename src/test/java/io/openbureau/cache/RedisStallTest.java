package io.openbureau.cache;

import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TcpProxy;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Redis frozen for ~10 s with its TCP connections open (the proxy lets no byte through until the
 * thaw): inquiries, revokes, grants and tradeline updates each answer within the command timeout
 * plus a margin (503 naming redis, or success where the design allows it), never after the freeze;
 * once Redis answers again the same requests succeed on the same server, and a consent revoked
 * during the freeze is never served.
 */
@DisplayName("Redis frozen: every request answers within the timeout, and the bureau recovers without a restart")
class RedisStallTest {
  private static final String LO = "LOAN_ORIGINATION";
  private static final String LENDER = "lender-z";
  private static final int COMMAND_TIMEOUT_MS = 500;
  private static final long BOUND_MS = 2000;
  private static final long FREEZE_MS = 10_000;
  private static TcpProxy redisProxy;
  private static TestBureau bureau;
  private static Api api;
  private static int people;

  /** One request of the run: what it was, what came back, how long it took. */
  record Answer(String what, int status, String body, long millis) {
  }

  @BeforeAll
  static void start() {
    redisProxy = new TcpProxy(6379);
    bureau = TestBureau.start("redisstall", new JsonObject()
      .put("redis", new JsonObject().put("endpoints", new JsonArray().add("redis://127.0.0.1:" + redisProxy.port()))
        .put("commandTimeoutMillis", COMMAND_TIMEOUT_MS).put("connectTimeoutMillis", COMMAND_TIMEOUT_MS))
      .put("inquiry", new JsonObject().put("rateLimit", new JsonObject().put("perSecond", 100_000).put("burst", 100_000))));
    api = bureau.api;
    assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", LENDER).put("name", "Z")).status());
  }

  @AfterAll
  static void stop() {
    if (redisProxy != null) {
      redisProxy.restore();
    }
    if (bureau != null) {
      bureau.close();
    }
    if (redisProxy != null) {
      redisProxy.close();
    }
  }

  private static String newPerson() {
    people++;
    return NationalId.of("320102", LocalDate.of(1970, 1, 1).plusDays(people * 37L), people);
  }

  private static Api.Res furnish(String ref, String person) {
    return api.put("/v1/tradelines/" + ref, Tokens.lender(LENDER), new JsonObject().put("nationalId", person)
      .put("productType", "MICRO_LOAN").put("openedAt", "2024-02-01").put("principal", "3000.00").put("status", "OPEN")
      .put("balance", "1200.00").put("daysPastDue", 0));
  }

  private static Api.Res grant(String person) {
    return api.post("/v1/me/consents", Tokens.borrower(person), new JsonObject().put("lenderId", LENDER).put("purpose", LO));
  }

  private static Api.Res revoke(String person, String consentId) {
    return api.delete("/v1/me/consents/" + consentId, Tokens.borrower(person));
  }

  private static Api.Res inquire(String person) {
    return api.send(api.builder("/v1/inquiries", Tokens.lender(LENDER)).timeout(Duration.ofSeconds(20))
      .header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("nationalId", person).put("purpose", LO).encode()))
      .build());
  }

  private static Answer timed(String what, Supplier<Api.Res> request) {
    long sent = System.nanoTime();
    Api.Res r;
    try {
      r = request.get();
    } catch (IllegalStateException e) {
      return new Answer(what, -1, e.toString(), (System.nanoTime() - sent) / 1_000_000);
    }
    return new Answer(what, r.status(), r.body(), (System.nanoTime() - sent) / 1_000_000);
  }

  /**
   * A 503 names redis (the only dependency that is down) in its problem body; a consent change says
   * it was saved and not yet published (its cache), which the bureau repairs by itself.
   */
  private static boolean namesRedis(Answer a) {
    if (a.status() != 503) {
      return false;
    }
    JsonObject problem = new JsonObject(a.body());
    String detail = problem.getString("detail", "");
    return "unavailable".equals(problem.getString("code")) && (detail.startsWith("redis")
      || ((a.what().equals("revoke") || a.what().equals("grant")) && detail.contains("could not be published")));
  }

  @Test
  @DisplayName("inquiries, revokes, grants and tradeline updates answer within 2 s during a 10 s freeze, then succeed again")
  void frozenRedis() throws Exception {
    String warm = newPerson();
    assertEquals(201, furnish("W-1", warm).status());
    assertEquals(201, grant(warm).status());
    assertEquals(200, inquire(warm).status(), "warm: consent, score and window in Redis");
    // consents to revoke during the freeze, each already served once (so its ALLOW is cached)
    List<String[]> toRevoke = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      String person = newPerson();
      assertEquals(201, furnish("R-" + i, person).status());
      Api.Res g = grant(person);
      assertEquals(201, g.status(), g.toString());
      assertEquals(200, inquire(person).status());
      toRevoke.add(new String[] {person, g.json().getString("consentId")});
    }

    List<Answer> during = new ArrayList<>();
    List<String[]> revokedDuring = new ArrayList<>();
    redisProxy.freeze();
    long until = System.nanoTime() + FREEZE_MS * 1_000_000;
    try {
      int round = 0;
      while (System.nanoTime() < until) {
        String fresh = newPerson();
        during.add(timed("inquiry (cached person)", () -> inquire(warm)));
        during.add(timed("inquiry (new person)", () -> inquire(fresh)));
        if (round < toRevoke.size()) {
          String[] r = toRevoke.get(round);
          revokedDuring.add(r);
          during.add(timed("revoke", () -> revoke(r[0], r[1])));
        }
        during.add(timed("grant", () -> grant(fresh)));
        int n = round;
        during.add(timed("PUT tradeline", () -> furnish("F-" + n, fresh)));
        round++;
      }
    } finally {
      redisProxy.thaw();
    }
    System.out.println("RedisStallTest answers during the freeze (what, status, ms): "
      + during.stream().map(a -> a.what() + " " + a.status() + " " + a.millis()).toList());
    System.out.println("RedisStallTest bodies: " + during.stream().map(a -> a.what() + " " + a.body()).distinct().limit(12).toList());

    for (Answer a : during) {
      assertTrue(a.millis() < BOUND_MS, a.what() + " took " + a.millis() + " ms during the freeze: " + a.status() + " " + a.body());
      assertTrue(a.status() / 100 == 2 || namesRedis(a) || (a.what().startsWith("inquiry") && a.status() == 403),
        a.what() + " answered " + a.status() + " " + a.body());
    }
    assertTrue(during.stream().anyMatch(a -> a.what().equals("revoke") && a.status() == 503),
      "a revoke that could not be published answers 503");

    // recovery: the same server serves again once Redis answers
    String after = newPerson();
    assertEquals(201, awaitStatus("PUT tradeline after the thaw", () -> furnish("A-1", after), 201).status());
    awaitStatus("grant after the thaw", () -> grant(after), 201);
    awaitStatus("inquiry after the thaw", () -> inquire(after), 200);
    awaitStatus("inquiry about the warm person after the thaw", () -> inquire(warm), 200);
    String[] last = toRevoke.get(toRevoke.size() - 1);
    if (revokedDuring.contains(last)) {
      fail("the run should keep one consent to revoke after the thaw");
    }
    awaitStatus("revoke after the thaw", () -> revoke(last[0], last[1]), 200);
    // a revoke answered 200 is never served again; one answered 503 during the freeze is repaired
    List<String[]> revoked = new ArrayList<>(revokedDuring);
    revoked.add(last);
    for (String[] r : revoked) {
      Api.Res denied = awaitStatus("inquiry about a revoked consent", () -> inquire(r[0]), 403);
      assertEquals("consent_required", denied.code(), denied.toString());
    }
  }

  private static Api.Res awaitStatus(String what, Supplier<Api.Res> request, int expected) throws InterruptedException {
    long deadline = System.nanoTime() + 20_000_000_000L;
    Api.Res last = null;
    while (System.nanoTime() < deadline) {
      last = request.get();
      if (last.status() == expected) {
        return last;
      }
      Thread.sleep(100);
    }
    fail(what + ": expected " + expected + " within 20 s, last " + last);
    return last;
  }
}
