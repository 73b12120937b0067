package io.openbureau.scoring;

import io.openbureau.cache.RedisStore;
import io.openbureau.config.BusinessTime;
import io.openbureau.db.Database;
import io.openbureau.identity.BorrowerKeys;
import io.openbureau.support.TestBureau;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scores that stay true as time passes, driven by a clock (no sleeps): the daily pass re-scores
 * an untouched account a year later, only the people whose inputs crossed a boundary, once across
 * instances and once a day across restarts; dates are judged in the business time zone.
 */
@DisplayName("Daily re-scoring: scores follow the calendar, once a day over all instances")
class ScoreRefresherTest {
  private static final String MEMBER = "lender-r";
  private static final SecureRandom RANDOM = new SecureRandom();
  private static TestBureau bureau;
  private static Scorecard card;
  private static final List<Pool> pools = new ArrayList<>();
  private static RedisStore redis;

  /** A clock the test moves by hand. */
  static final class MovableClock extends Clock {
    final AtomicReference<Instant> now;

    MovableClock(Instant start) {
      this.now = new AtomicReference<>(start);
    }

    void set(Instant t) {
      now.set(t);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return Clock.fixed(now.get(), zone);
    }

    @Override
    public Instant instant() {
      return now.get();
    }
  }

  @BeforeAll
  static void start() {
    // the server's own pass is off: the test runs passes itself, on its own clock
    bureau = TestBureau.start("refresh", new JsonObject().put("scoring",
      new JsonObject().put("refresh", new JsonObject().put("enabled", false))));
    card = Scorecard.load(Path.of("config/scorecard.yaml"));
    redis = RedisStore.create(bureau.bureau().vertx(), bureau.config().redis());
    bureau.sql("INSERT INTO members (id, name) VALUES ('" + MEMBER + "', 'Lender R')");
  }

  @AfterAll
  static void stop() {
    for (Pool p : pools) {
      await(p.close());
    }
    await(redis.close());
    bureau.close();
  }

  private static <T> T await(Future<T> f) {
    return TestBureau.await(f.toCompletionStage().toCompletableFuture());
  }

  private static Pool pool() {
    Pool p = Database.pool(bureau.bureau().vertx(), bureau.config().postgres(), 2);
    pools.add(p);
    return p;
  }

  private static ScoreStore store(Pool pool, Clock clock) {
    return new ScoreStore(card, redis, pool, clock);
  }

  private static ScoreRefresher refresher(Pool pool, Clock clock, int pageSize) {
    return new ScoreRefresher(pool, store(pool, clock), new ScoringSettings.Refresh(true, 60_000, pageSize), clock);
  }

  private static byte[] person() {
    byte[] key = new byte[32];
    RANDOM.nextBytes(key);
    return key;
  }

  private static void account(byte[] person, String ref, String product, String openedAt, String balance, int dpd) {
    bureau.sql("INSERT INTO tradelines (member_id, account_ref, borrower_key, key_id, product_type, opened_at, principal,"
      + " status, balance, days_past_due) VALUES ('" + MEMBER + "', '" + ref + "', decode('" + BorrowerKeys.hex(person)
      + "', 'hex'), 'k1', '" + product + "', '" + openedAt + "', " + balance + ", 'OPEN', " + balance + ", " + dpd + ")");
  }

  private static void repayment(String ref, String period, int dpd) {
    bureau.sql("INSERT INTO repayments (member_id, account_ref, period, amount_due, amount_paid, days_past_due) VALUES ('"
      + MEMBER + "', '" + ref + "', '" + period + "', 100, 0, " + dpd + ")");
  }

  /** Scores these people now (as furnishing would), committed and published. */
  private static Map<String, PersonScore> scoreNow(ScoreStore store, Pool pool, byte[]... people) {
    Map<String, PersonScore> s = await(pool.withTransaction(tx -> store.recompute(tx, List.of(people))));
    await(store.publish(s));
    return s;
  }

  private static PersonScore stored(ScoreStore store, Pool pool, byte[] person) {
    return await(store.current(pool, List.of(person))).get(BorrowerKeys.hex(person));
  }

  private static List<String> codes(PersonScore s) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < s.reasons().size(); i++) {
      out.add(s.reasons().getJsonObject(i).getString("code"));
    }
    return out;
  }

  private static long refreshRows(String day) {
    return bureau.count("SELECT count(*) FROM maintenance_log WHERE action = 'SCORE_REFRESH' AND details->>'day' = '"
      + day + "'");
  }

  @Test
  @DisplayName("an untouched file is re-scored a year later: new accounts age out of the 6-month window, a late period leaves the 24 months")
  void aYearLater() {
    Pool pool = pool();
    MovableClock clock = new MovableClock(Instant.parse("2026-03-10T02:00:00Z"));
    ScoreStore store = store(pool, clock);
    byte[] newAccounts = person();
    account(newAccounts, "Y-1", "CONSUMER_LOAN", "2016-05-01", "1000.00", 0);
    account(newAccounts, "Y-2", "BNPL", "2026-01-10", "500.00", 0);
    account(newAccounts, "Y-3", "BNPL", "2026-02-10", "500.00", 0);
    byte[] lateOnce = person();
    account(lateOnce, "Y-4", "CONSUMER_LOAN", "2015-01-01", "1000.00", 0);
    repayment("Y-4", "2024-06", 30);
    byte[] untouched = person();
    account(untouched, "Y-5", "CONSUMER_LOAN", "2018-08-08", "1000.00", 0);
    scoreNow(store, pool, newAccounts, lateOnce, untouched);
    PersonScore before1 = stored(store, pool, newAccounts);
    PersonScore before2 = stored(store, pool, lateOnce);
    PersonScore before3 = stored(store, pool, untouched);
    assertTrue(codes(before1).contains("RECENT_ACCOUNTS"), codes(before1).toString());
    assertTrue(codes(before2).contains("DELINQUENCY_HISTORY"), codes(before2).toString());

    clock.set(Instant.parse("2027-03-10T02:00:00Z"));
    ScoreRefresher.Outcome o = await(refresher(pool, clock, 2).runIfDue());
    assertEquals("RAN", o.status());
    assertEquals("2027-03-10", o.day());

    PersonScore after1 = stored(store, pool, newAccounts);
    PersonScore after2 = stored(store, pool, lateOnce);
    assertEquals(before1.value() + 25, after1.value(), "two accounts left the 6-month window: 15 -> 40 points");
    assertTrue(!codes(after1).contains("RECENT_ACCOUNTS"), codes(after1).toString());
    assertEquals(List.of(), codes(after2), "the late period of 2024-06 is out of the 24-month window");
    assertTrue(after2.value() > before2.value());
    assertEquals(clock.instant(), after1.asOf());
    // what a furnishing would compute today is what the pass stored
    Map<String, PersonScore> fresh = await(pool.withTransaction(tx -> store.recompute(tx, List.of(newAccounts, lateOnce))));
    assertEquals(fresh.get(BorrowerKeys.hex(newAccounts)).value(), after1.value());
    assertEquals(fresh.get(BorrowerKeys.hex(lateOnce)).value(), after2.value());
    // the cache got the re-scored value (what the inquiry serves)
    assertEquals(after2.value(), await(store.get(lateOnce)).value());
    // nothing about the third person depends on the year that passed: not re-scored
    assertEquals(before3.version(), stored(store, pool, untouched).version());
    assertEquals(1, refreshRows("2027-03-10"));
  }

  @Test
  @DisplayName("a file too new to score is scored by the pass once its account is a month old")
  void thinFileGrowsUp() {
    Pool pool = pool();
    MovableClock clock = new MovableClock(Instant.parse("2028-01-20T04:00:00Z"));
    ScoreStore store = store(pool, clock);
    byte[] newcomer = person();
    account(newcomer, "N-1", "MICRO_LOAN", "2028-01-12", "2000.00", 0);
    scoreNow(store, pool, newcomer);
    PersonScore before = stored(store, pool, newcomer);
    assertNull(before.value());
    assertEquals(List.of("INSUFFICIENT_HISTORY"), codes(before));
    assertNull(before.toApiJson(), "the API's score stays null for a thin file");

    clock.set(Instant.parse("2028-02-13T04:00:00Z"));
    assertEquals("RAN", await(refresher(pool, clock, 100).runIfDue()).status());
    PersonScore after = stored(store, pool, newcomer);
    assertNotNull(after.value(), "a month after opening, the file has a score");
    assertNotEquals(List.of("INSUFFICIENT_HISTORY"), codes(after));
  }

  @Test
  @DisplayName("the pass runs once with two instances at once, and not again that day after a restart; the next day it runs")
  void onceAcrossInstancesAndRestarts() {
    MovableClock clock = new MovableClock(Instant.parse("2029-06-01T01:00:00Z"));
    Pool a = pool();
    Pool b = pool();
    byte[] p = person();
    account(p, "O-1", "BNPL", "2028-12-01", "100.00", 0);
    scoreNow(store(a, new MovableClock(Instant.parse("2029-05-01T01:00:00Z"))), a, p);

    Future<ScoreRefresher.Outcome> first = refresher(a, clock, 1).runIfDue();
    Future<ScoreRefresher.Outcome> second = refresher(b, clock, 1).runIfDue();
    await(Future.join(first, second));
    List<String> statuses = List.of(first.result().status(), second.result().status());
    assertEquals(1, statuses.stream().filter("RAN"::equals).count(), statuses.toString());
    assertEquals(1, refreshRows("2029-06-01"));

    // a restarted process (new pool, new refresher) on the same business day: nothing to do
    assertEquals("ALREADY_DONE", await(refresher(pool(), clock, 1).runIfDue()).status());
    assertEquals(1, refreshRows("2029-06-01"));

    // 23:30 UTC is already the next day in Shanghai: the next pass is due
    clock.set(Instant.parse("2029-06-01T23:30:00Z"));
    ScoreRefresher.Outcome next = await(refresher(b, clock, 1).runIfDue());
    assertEquals("RAN", next.status());
    assertEquals("2029-06-02", next.day());
  }

  @Test
  @DisplayName("a score of an older model version is re-scored by the next pass, even when nothing else changed")
  void olderModelVersionIsRescored() {
    Pool pool = pool();
    MovableClock clock = new MovableClock(Instant.parse("2030-04-04T03:00:00Z"));
    ScoreStore store = store(pool, clock);
    byte[] p = person();
    account(p, "M-1", "CONSUMER_LOAN", "2019-09-09", "1000.00", 0);
    scoreNow(store, pool, p);
    bureau.sql("UPDATE scores SET model_version = 'ob-scorecard-2026.1', reasons = '[{\"code\":\"HIGH_UTILISATION\"}]'"
      + " WHERE borrower_key = decode('" + BorrowerKeys.hex(p) + "', 'hex')");
    clock.set(clock.instant().plus(Duration.ofHours(1)));
    assertEquals("RAN", await(refresher(pool, clock, 50).runIfDue()).status());
    PersonScore after = stored(store, pool, p);
    assertEquals(card.modelVersion(), after.modelVersion());
    assertEquals(List.of(), codes(after));
  }

  @Test
  @DisplayName("today is the business date: at 23:30 UTC (07:30 in Beijing) an account opened 6 months and a day before Beijing's today is no longer new")
  void todayIsTheBusinessDate() {
    assertEquals("Asia/Shanghai", BusinessTime.zone().getId());
    Pool pool = pool();
    MovableClock clock = new MovableClock(Instant.parse("2031-12-01T23:30:00Z"));
    ScoreStore store = store(pool, clock);
    byte[] p = person();
    account(p, "Z-1", "CONSUMER_LOAN", "2020-01-01", "1000.00", 0);
    account(p, "Z-2", "BNPL", "2031-06-01", "100.00", 0);
    PersonScore s = scoreNow(store, pool, p).get(BorrowerKeys.hex(p));
    // Beijing: 2031-12-02, six months back is 2031-06-02: Z-2 is not new (40 points). In UTC it would be (30).
    ScoreInputs.Account old = new ScoreInputs.Account("CONSUMER_LOAN", java.time.LocalDate.of(2020, 1, 1), null, "CNY",
      "OPEN", new java.math.BigDecimal("1000.00"), 0, 0, 0);
    ScoreInputs.Account bnpl = new ScoreInputs.Account("BNPL", java.time.LocalDate.of(2031, 6, 1), null, "CNY",
      "OPEN", new java.math.BigDecimal("100.00"), 0, 0, 0);
    int beijing = card.score(ScoreInputs.from(List.of(old, bnpl), java.time.LocalDate.of(2031, 12, 2), "CNY")).value();
    int utc = card.score(ScoreInputs.from(List.of(old, bnpl), java.time.LocalDate.of(2031, 12, 1), "CNY")).value();
    assertEquals(10, beijing - utc);
    assertEquals(beijing, s.value());
  }
}
