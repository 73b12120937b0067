package io.openbureau.rights;

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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A freeze is immediate on every instance, like a revocation: inquiries run continuously against
 * two instances over HTTP while the person freezes their file through one of them; no HARD inquiry
 * that started after the freeze was answered is served, with a warm cache, after a flush, and with
 * cache fills racing the freeze (flushed just before it). SOFT inquiries go on.
 */
@DisplayName("Freeze: no HARD inquiry that starts after a freeze is answered is served, on any instance")
class FreezeRaceTest {
  private static final int THREADS = 6;
  private static final String LENDER = "lender-fr";
  private static final AtomicInteger PEOPLE = new AtomicInteger();
  private static TestBureau bureau;
  private static TestBureau sibling;

  private record Observed(long startNanos, int status, String code) {
  }

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("freezerace", new JsonObject().put("inquiry",
      new JsonObject().put("rateLimit", new JsonObject().put("perSecond", 100_000).put("burst", 100_000))));
    sibling = bureau.sibling();
    assertEquals(201, bureau.api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", LENDER).put("name", "x")).status());
  }

  @AfterAll
  static void stop() {
    sibling.stop();
    bureau.close();
  }

  private static String person() {
    String person = NationalId.of("320101", LocalDate.of(1971, 1, 1).plusDays(PEOPLE.incrementAndGet()), 5);
    Api.Res t = bureau.api.put("/v1/tradelines/FR-" + PEOPLE.get(), Tokens.lender(LENDER), new JsonObject()
      .put("nationalId", person).put("productType", "CONSUMER_LOAN").put("openedAt", "2025-01-10")
      .put("principal", "5000.00").put("status", "OPEN").put("balance", "4000.00").put("daysPastDue", 0));
    assertEquals(201, t.status(), t.toString());
    Api.Res g = bureau.api.post("/v1/me/consents", Tokens.borrower(person),
      new JsonObject().put("lenderId", LENDER).put("purpose", "LOAN_ORIGINATION"));
    assertEquals(201, g.status(), g.toString());
    return person;
  }

  private static Api.Res inquire(Api api, String person, String purpose) {
    return api.post("/v1/inquiries", Tokens.lender(LENDER),
      new JsonObject().put("nationalId", person).put("purpose", purpose));
  }

  @Test
  @DisplayName("with a warm cache, a freeze on one instance refuses every HARD inquiry that starts after it")
  void warmCache() throws Exception {
    for (int i = 0; i < 2; i++) {
      race(false, false);
    }
  }

  @Test
  @DisplayName("after a Redis flush, and with fills racing the freeze, no stale fill lets a HARD inquiry through")
  void afterFlushAndRacingFills() throws Exception {
    race(true, false);
    for (int i = 0; i < 3; i++) {
      race(false, true);
    }
  }

  @Test
  @DisplayName("a frozen file refuses HARD inquiries with file_frozen only when consent would allow; SOFT goes on")
  void whatAFreezeAnswers() {
    String person = person();
    assertEquals(200, inquire(bureau.api, person, "LOAN_ORIGINATION").status());
    assertEquals(200, bureau.api.raw("PUT", "/v1/me/freeze", Tokens.borrower(person), null, null).status());
    Api.Res refused = inquire(sibling.api, person, "LOAN_ORIGINATION");
    assertEquals(403, refused.status(), refused.toString());
    assertEquals("file_frozen", refused.code());
    // no consent for this purpose: the freeze tells the lender nothing
    Api.Res noConsent = inquire(sibling.api, person, "CARD_APPLICATION");
    assertEquals("consent_required", noConsent.code(), noConsent.toString());
    // the lender furnished an open account: account review is SOFT and goes on
    Api.Res review = inquire(sibling.api, person, "ACCOUNT_REVIEW");
    assertEquals(200, review.status(), review.toString());
    // a lift lets HARD inquiries through again, on every instance
    assertEquals(200, bureau.api.delete("/v1/me/freeze?minutes=10", Tokens.borrower(person)).status());
    assertEquals(200, inquire(sibling.api, person, "LOAN_ORIGINATION").status());
    // the lift ends by itself: the record says so, and the cache's copy carries the end
    bureau.sql("UPDATE protections SET lifted_until = now() + interval '1500 milliseconds',"
      + " version = nextval('protection_version_seq') WHERE lifted_until IS NOT NULL");
    bureau.flushRedis();
    long deadline = System.nanoTime() + 15_000_000_000L;
    Api.Res later;
    do {
      later = inquire(sibling.api, person, "LOAN_ORIGINATION");
    } while (later.status() == 200 && System.nanoTime() < deadline);
    assertEquals("file_frozen", later.code(), later.toString());
  }

  @Test
  @DisplayName("while a fraud alert lasts, every granted answer carries FRAUD_ALERT; after it ends, none does")
  void fraudAlertFlag() {
    String person = person();
    assertTrue(!flags(inquire(bureau.api, person, "LOAN_ORIGINATION")).contains("FRAUD_ALERT"));
    assertEquals(200, bureau.api.put("/v1/me/fraud-alert", Tokens.borrower(person), new JsonObject().put("days", 90)).status());
    assertTrue(flags(inquire(sibling.api, person, "LOAN_ORIGINATION")).contains("FRAUD_ALERT"));
    assertTrue(flags(inquire(bureau.api, person, "ACCOUNT_REVIEW")).contains("FRAUD_ALERT"));
    assertEquals(200, bureau.api.delete("/v1/me/fraud-alert", Tokens.borrower(person)).status());
    assertTrue(!flags(inquire(sibling.api, person, "LOAN_ORIGINATION")).contains("FRAUD_ALERT"));
  }

  private static List<Object> flags(Api.Res r) {
    assertEquals(200, r.status(), r.toString());
    return r.json().getJsonObject("overBorrowing").getJsonArray("flags").getList();
  }

  private void race(boolean flushBefore, boolean flushJustBeforeFreeze) throws Exception {
    String person = person();
    if (flushBefore) {
      bureau.flushRedis();
    }
    AtomicBoolean stop = new AtomicBoolean();
    ConcurrentLinkedQueue<Observed> observed = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      Api api = t % 2 == 0 ? bureau.api : sibling.api;
      Thread thread = new Thread(() -> {
        while (!stop.get()) {
          long started = System.nanoTime();
          try {
            Api.Res r = inquire(api, person, "LOAN_ORIGINATION");
            observed.add(new Observed(started, r.status(), r.status() == 200 ? null : r.code()));
          } catch (Throwable e) {
            errors.add(e);
          }
        }
      }, "inquirer-" + t);
      thread.start();
      threads.add(thread);
    }
    long warm = System.nanoTime() + 3_000_000_000L;
    while (observed.stream().noneMatch(o -> o.status() == 200) && System.nanoTime() < warm) {
      Thread.onSpinWait();
    }
    if (flushJustBeforeFreeze) {
      bureau.flushRedis();
    }
    Api.Res f = sibling.api.raw("PUT", "/v1/me/freeze", Tokens.borrower(person), null, null);
    long answered = System.nanoTime();
    assertEquals(200, f.status(), f.toString());
    long until = answered + 400_000_000L;
    while (System.nanoTime() < until) {
      Thread.onSpinWait();
    }
    stop.set(true);
    for (Thread t : threads) {
      t.join();
    }
    assertTrue(errors.isEmpty(), errors.toString());
    assertTrue(observed.stream().anyMatch(o -> o.status() == 200), "some inquiries were served before the freeze");
    List<Observed> after = observed.stream().filter(o -> o.startNanos() > answered).toList();
    assertTrue(!after.isEmpty(), "inquiries ran after the freeze");
    for (Observed o : after) {
      assertEquals(403, o.status(), "an inquiry that started after the freeze was answered " + o);
      assertEquals("file_frozen", o.code());
    }
  }
}
