package io.openbureau.consent;

import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Revocation is immediate on every instance: decisions run continuously on two "processes" (each
 * with its own Vert.x, pool and Redis client) while the consent is revoked over HTTP on a third
 * instance; no decision that started after the DELETE was answered may allow.
 */
@DisplayName("Consent revocation: no decision that starts after a revoke is answered allows, on any instance")
class ConsentRevocationRaceTest {
  private static final int THREADS = 8;
  private static final String LENDER = "lender-race";
  private static final String PURPOSE = "LOAN_ORIGINATION";
  private static final AtomicInteger PEOPLE = new AtomicInteger();
  private static TestBureau bureau;
  private static TestBureau sibling;
  private static DecisionClient one;
  private static DecisionClient two;
  private static DecisionClient slow;

  private record Observed(long startNanos, boolean allowed) {
  }

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("consentrace");
    sibling = bureau.sibling();
    assertEquals(201, bureau.api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", LENDER).put("name", "x")).status());
    one = new DecisionClient(bureau.config());
    two = new DecisionClient(sibling.config());
    slow = new DecisionClient(bureau.config(), 400);
  }

  @AfterAll
  static void stop() {
    one.close();
    two.close();
    slow.close();
    sibling.stop();
    bureau.close();
  }

  @Test
  @DisplayName("with a warm cache, a revoke on another instance denies every decision that starts after it")
  void warmCache() throws Exception {
    for (int i = 0; i < 3; i++) {
      race(false, false);
    }
  }

  @Test
  @DisplayName("after a Redis flush (cache refilled from Postgres), a revoke still denies at once")
  void afterFlush() throws Exception {
    for (int i = 0; i < 3; i++) {
      race(true, false);
    }
  }

  @Test
  @DisplayName("with cache fills racing the revoke (flushed just before it), no stale fill resurrects the consent")
  void fillsRacingTheRevoke() throws Exception {
    for (int i = 0; i < 8; i++) {
      race(false, true);
    }
  }

  @Test
  @DisplayName("a slow fill that read Postgres before the revoke cannot put the consent back, with or without a flush")
  void slowStaleFill() throws Exception {
    for (boolean flushAfterRevoke : new boolean[] {false, true}) {
      String person = NationalId.of("310101", LocalDate.of(1970, 1, 1).plusDays(PEOPLE.incrementAndGet()), 3);
      Api.Res g = bureau.api.post("/v1/me/consents", Tokens.borrower(person),
        new JsonObject().put("lenderId", LENDER).put("purpose", PURPOSE));
      assertEquals(201, g.status(), g.toString());
      byte[] key = slow.keys.key(person);
      bureau.flushRedis();
      // the fill pins the generation, reads ALLOW from Postgres, then waits 400 ms before writing
      var staleFill = slow.decide(key, LENDER, PURPOSE, "SCORE");
      Thread.sleep(100);
      Api.Res r = sibling.api.delete("/v1/me/consents/" + g.json().getString("consentId"), Tokens.borrower(person));
      assertEquals(200, r.status(), r.toString());
      if (flushAfterRevoke) {
        bureau.flushRedis();
      }
      // the slow decision started before the revoke: it may go either way (the script judges the
      // cache as it is after its fill), it only must not leave the stale fill behind
      DecisionClient.await(staleFill);
      assertFalse(one.decide(person, LENDER, PURPOSE, "SCORE").allowed(), "the stale fill was refused");
      assertFalse(two.decide(person, LENDER, PURPOSE, "SCORE").allowed());
    }
  }

  private void race(boolean flushBefore, boolean flushJustBeforeRevoke) throws Exception {
    String person = NationalId.of("310101", LocalDate.of(1970, 1, 1).plusDays(PEOPLE.incrementAndGet()), 3);
    Api.Res g = bureau.api.post("/v1/me/consents", Tokens.borrower(person),
      new JsonObject().put("lenderId", LENDER).put("purpose", PURPOSE).put("scope", "REPORT"));
    assertEquals(201, g.status(), g.toString());
    String consentId = g.json().getString("consentId");
    if (flushBefore) {
      bureau.flushRedis();
    }
    byte[] key = one.keys.key(person);

    AtomicBoolean stop = new AtomicBoolean();
    ConcurrentLinkedQueue<Observed> observed = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      DecisionClient client = t % 2 == 0 ? one : two;
      Thread thread = new Thread(() -> {
        while (!stop.get()) {
          long started = System.nanoTime();
          try {
            Decision d = DecisionClient.await(client.decide(key, LENDER, PURPOSE, "SCORE"));
            observed.add(new Observed(started, d.allowed()));
          } catch (Throwable e) {
            errors.add(e);
          }
        }
      }, "decider-" + t);
      thread.start();
      threads.add(thread);
    }
    Thread.sleep(150);
    if (flushJustBeforeRevoke) {
      bureau.flushRedis();
    }
    Api.Res r = sibling.api.delete("/v1/me/consents/" + consentId, Tokens.borrower(person));
    long answered = System.nanoTime();
    assertEquals(200, r.status(), r.toString());
    if (flushJustBeforeRevoke) {
      // and again right after: fills that pinned a generation before this flush must not land either
      bureau.flushRedis();
    }
    Thread.sleep(250);
    stop.set(true);
    for (Thread thread : threads) {
      thread.join(10_000);
    }
    assertTrue(errors.isEmpty(), () -> "decisions failed: " + errors.peek());
    long allowedBefore = observed.stream().filter(o -> o.startNanos() < answered && o.allowed()).count();
    long after = observed.stream().filter(o -> o.startNanos() > answered).count();
    long allowedAfter = observed.stream().filter(o -> o.startNanos() > answered && o.allowed()).count();
    assertTrue(allowedBefore > 0, "the consent was allowed before the revoke");
    assertTrue(after > 0, "decisions ran after the revoke");
    assertEquals(0, allowedAfter, allowedAfter + " of " + after + " decisions started after the revoke allowed");
  }
}
