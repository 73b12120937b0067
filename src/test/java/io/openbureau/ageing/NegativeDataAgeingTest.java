package io.openbureau.ageing;

import io.openbureau.cache.RedisStore;
import io.openbureau.config.BusinessTime;
import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.openbureau.scoring.ScoreStore;
import io.openbureau.scoring.Scorecard;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Negative data ageing: late periods and defaults leave Postgres, reports and scores five years after they ended")
class NegativeDataAgeingTest {
  private static TestBureau bureau;
  private static Api api;
  private static Vertx vertx;
  private static Pool pool;
  private static RedisStore redis;
  private static ScoreStore scores;
  private static final String A = Tokens.lender("lender-a");
  private static int seq = 500;

  @BeforeAll
  static void start() throws Exception {
    bureau = TestBureau.start("ageing", new JsonObject().put("ageing", new JsonObject().put("scheduled", false)));
    api = bureau.api;
    assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", "lender-a").put("name", "A")).status());
    vertx = Vertx.vertx();
    pool = io.openbureau.db.Database.pool(vertx, bureau.config().postgres(), 2);
    redis = RedisStore.create(vertx, bureau.config().redis());
    scores = new ScoreStore(Scorecard.load(Path.of(bureau.config().scorecardFile())), redis, pool);
  }

  static Throwable failure(Future<?> f) {
    try {
      f.toCompletionStage().toCompletableFuture().get(60, java.util.concurrent.TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    throw new AssertionError("expected a failure");
  }

  @AfterAll
  static void stop() {
    TestBureau.await(Future.join(pool.close(), redis.close()).compose(v -> vertx.close())
      .toCompletionStage().toCompletableFuture());
    bureau.close();
  }

  static synchronized String person() {
    return NationalId.of("440305", LocalDate.of(1980, 1, 1).plusDays(seq), seq++);
  }

  /** Noon in Beijing on {@code day}. */
  static Clock on(LocalDate day) {
    return Clock.fixed(day.atTime(12, 0).atZone(BusinessTime.zone()).toInstant(), ZoneOffset.UTC);
  }

  static NegativeDataAgeing ageing(LocalDate day) {
    return new NegativeDataAgeing(pool, scores, AgeingSettings.DEFAULTS, on(day));
  }

  static NegativeDataAgeing.Result age(LocalDate day, boolean dryRun) {
    return TestBureau.await(ageing(day).run(dryRun).toCompletionStage().toCompletableFuture());
  }

  static JsonObject loan(String id, String status, String openedAt, String closedAt, int dpd) {
    JsonObject j = new JsonObject().put("nationalId", id).put("productType", "CONSUMER_LOAN").put("openedAt", openedAt)
      .put("principal", "20000.00").put("status", status).put("balance", "OPEN".equals(status) ? "5000.00" : "0.00")
      .put("daysPastDue", dpd);
    return closedAt == null ? j : j.put("closedAt", closedAt);
  }

  static void put(String ref, JsonObject body) {
    Api.Res r = api.put("/v1/tradelines/" + ref, A, body);
    assertTrue(r.status() == 201 || r.status() == 200, r.toString());
  }

  static void repay(String ref, String period, int dpd) {
    Api.Res r = api.post("/v1/tradelines/" + ref + "/repayments", A, new JsonObject().put("period", period)
      .put("amountDue", "500.00").put("amountPaid", dpd == 0 ? "500.00" : "0.00").put("daysPastDue", dpd));
    assertEquals(201, r.status(), r.toString());
  }

  static long periods(String ref) {
    return bureau.count("SELECT count(*) FROM repayments WHERE member_id = 'lender-a' AND account_ref = '" + ref + "'");
  }

  static boolean period(String ref, String period) {
    return bureau.count("SELECT count(*) FROM repayments WHERE member_id = 'lender-a' AND account_ref = '" + ref
      + "' AND period = '" + period + "'") == 1;
  }

  static boolean account(String ref) {
    return bureau.count("SELECT count(*) FROM tradelines WHERE member_id = 'lender-a' AND account_ref = '" + ref + "'") == 1;
  }

  static String hex(String nationalId) {
    return BorrowerKeys.hex(new BorrowerKeys(bureau.config().identity().hmacKeyId(),
      bureau.config().identity().hmacSecret()).key(nationalId));
  }

  static long scoreVersion(String nationalId) {
    return bureau.count("SELECT coalesce((SELECT version FROM scores WHERE borrower_key = '\\x" + hex(nationalId) + "'), -1)");
  }

  static long scoreValue(String nationalId) {
    return bureau.count("SELECT coalesce((SELECT value FROM scores WHERE borrower_key = '\\x" + hex(nationalId) + "'), -1)");
  }

  /** Real business today: what furnishing validates against (the pass is driven years later with a clock). */
  static final LocalDate TODAY = BusinessTime.today();

  static String month(LocalDate d) {
    return d.toString().substring(0, 7);
  }

  static String opened() {
    return TODAY.minusYears(3).toString();
  }

  @Test
  @DisplayName("a late period is kept 4 years 364 days and 5 years after the on-time period that ended it, and deleted at 5 years and a day")
  void cutOffAfterOnTimePeriod() {
    String id = person();
    put("CUT-1", loan(id, "OPEN", opened(), null, 0));
    LocalDate late = TODAY.minusMonths(3);
    LocalDate cure = TODAY.minusMonths(2);
    LocalDate ended = cure.withDayOfMonth(cure.lengthOfMonth()); // the behaviour ended with the on-time month
    repay("CUT-1", month(late), 30);
    repay("CUT-1", month(cure), 0);
    age(ended.plusYears(5).minusDays(1), false);
    assertTrue(period("CUT-1", month(late)), "4 years 364 days after it ended: kept");
    age(ended.plusYears(5), false);
    assertTrue(period("CUT-1", month(late)), "5 years to the day: still kept");
    NegativeDataAgeing.Result r = age(ended.plusYears(5).plusDays(1), false);
    assertTrue(!period("CUT-1", month(late)), "5 years and a day: deleted");
    assertTrue(period("CUT-1", month(cure)), "the on-time period stays");
    assertTrue(account("CUT-1"), "the account stays");
    assertTrue(r.aged().latePeriods() >= 1, r.toJson().encode());
    assertEquals(ended.plusDays(1), r.cutoff());
  }

  @Test
  @DisplayName("a late period with no later on-time period ends at the account's closedAt; a still-late open account is never aged")
  void endsAtClosedAt() {
    String id = person();
    LocalDate closed = TODAY.minusDays(30);
    put("CLS-1", loan(id, "OPEN", opened(), null, 0));
    repay("CLS-1", month(TODAY.minusMonths(4)), 60);
    repay("CLS-1", month(TODAY.minusMonths(3)), 90);
    put("CLS-1", loan(id, "CLOSED", opened(), closed.toString(), 90));
    put("STILL-LATE-1", loan(id, "OPEN", opened(), null, 30));
    repay("STILL-LATE-1", month(TODAY.minusMonths(4)), 30);
    repay("STILL-LATE-1", month(TODAY.minusMonths(3)), 60); // never cured, never closed
    age(closed.plusYears(5), false);
    assertEquals(2, periods("CLS-1"), "5 years to the day after closing: kept");
    assertEquals(90, bureau.count("SELECT days_past_due FROM tradelines WHERE account_ref = 'CLS-1'"));
    age(closed.plusYears(5).plusDays(1), false);
    assertEquals(0, periods("CLS-1"), "5 years and a day after closing: both late periods deleted");
    assertTrue(account("CLS-1"), "a CLOSED account keeps its positive history");
    assertEquals(0, bureau.count("SELECT days_past_due FROM tradelines WHERE account_ref = 'CLS-1'"),
      "the days past due it closed with are negative information too: cleared");
    age(TODAY.plusYears(20), false);
    assertEquals(2, periods("STILL-LATE-1"), "lateness that has not ended is kept, however old");
    assertEquals(30, bureau.count("SELECT days_past_due FROM tradelines WHERE account_ref = 'STILL-LATE-1'"));
  }

  @Test
  @DisplayName("a DEFAULTED account is deleted with its periods 5 years and a day after its closedAt, kept the day before; without closedAt it stays")
  void defaultedAccount() {
    String id = person();
    LocalDate closed = TODAY.minusDays(10);
    put("DEF-1", loan(id, "OPEN", opened(), null, 0));
    repay("DEF-1", month(TODAY.minusMonths(3)), 0);
    repay("DEF-1", month(TODAY.minusMonths(2)), 120);
    put("DEF-1", loan(id, "DEFAULTED", opened(), closed.toString(), 180));
    put("WO-1", loan(id, "WRITTEN_OFF", opened(), closed.toString(), 180));
    put("DEF-OPEN-1", loan(id, "DEFAULTED", opened(), null, 180));
    age(closed.plusYears(5).minusDays(1), false);
    age(closed.plusYears(5), false);
    assertTrue(account("DEF-1") && account("WO-1"), "5 years to the day: kept");
    assertEquals(2, periods("DEF-1"));
    age(closed.plusYears(5).plusDays(1), false);
    assertTrue(!account("DEF-1") && !account("WO-1"), "5 years and a day: the accounts are deleted");
    assertEquals(0, periods("DEF-1"), "with every period of them");
    age(TODAY.plusYears(20), false);
    assertTrue(account("DEF-OPEN-1"), "a default that has not ended (no closedAt) stays");
  }

  @Test
  @DisplayName("a dry run counts exactly what the real run then deletes, and changes nothing (data, scores, maintenance log)")
  void dryRun() {
    String id = person();
    put("DRY-1", loan(id, "OPEN", opened(), null, 0));
    repay("DRY-1", month(TODAY.minusMonths(3)), 30);
    repay("DRY-1", month(TODAY.minusMonths(2)), 0);
    put("DRY-2", loan(id, "DEFAULTED", opened(), TODAY.minusDays(5).toString(), 200));
    LocalDate day = TODAY.plusYears(6);
    String snapshot = "SELECT (SELECT count(*) FROM tradelines) || '/' || (SELECT count(*) FROM repayments) || '/'"
      + " || (SELECT coalesce(sum(version), 0) FROM scores) || '/' || (SELECT count(*) FROM maintenance_log)";
    String before = bureau.sqlString(snapshot);
    NegativeDataAgeing.Result dry = age(day, true);
    assertEquals(before, bureau.sqlString(snapshot), "a dry run changes nothing");
    assertTrue(dry.dryRun());
    assertTrue(dry.aged().latePeriods() >= 1 && dry.aged().accounts() >= 1, dry.toJson().encode());
    assertTrue(account("DRY-2") && period("DRY-1", month(TODAY.minusMonths(3))));
    NegativeDataAgeing.Result real = age(day, false);
    assertEquals(dry.aged().counts(), real.aged().counts(), "the dry run counted what the real run deleted");
    assertTrue(!account("DRY-2") && !period("DRY-1", month(TODAY.minusMonths(3))));
    JsonObject logged = new JsonObject(bureau.sqlString("SELECT details::text FROM maintenance_log WHERE action = '"
      + AgeingRepository.RUN_ACTION + "' ORDER BY id DESC LIMIT 1"));
    assertEquals(real.aged().counts().getLong("latePeriodsDeleted"), logged.getLong("latePeriodsDeleted"));
    assertEquals(day.toString(), logged.getString("date"));
    String all = bureau.sqlString("SELECT string_agg(details::text, ' ') FROM maintenance_log");
    assertTrue(!all.contains(id) && !all.contains(hex(id)), "the maintenance log holds counts, never a person");
  }

  @Test
  @DisplayName("ageing re-scores the people it touches: the score rises in Postgres and in Redis when an old default goes")
  void scoreChanges() {
    String id = person();
    put("SC-GOOD-1", loan(id, "OPEN", TODAY.minusYears(8).toString(), null, 0));
    put("SC-DEF-1", loan(id, "DEFAULTED", opened(), TODAY.minusDays(20).toString(), 200));
    long before = scoreValue(id);
    long version = scoreVersion(id);
    age(TODAY.plusYears(6), false);
    assertTrue(!account("SC-DEF-1"));
    long after = scoreValue(id);
    assertTrue(after > before, before + " -> " + after);
    assertTrue(scoreVersion(id) > version);
    String cached = TestBureau.await(redis.get(scores.key(BorrowerKeys.fromHex(hex(id))))
      .toCompletionStage().toCompletableFuture()).toString();
    assertTrue(cached.startsWith(scoreVersion(id) + "|"), "the new score is in Redis after the pass: " + cached);
    assertEquals(after, new JsonObject(cached.substring(cached.indexOf('|') + 1)).getInteger("value").longValue());
  }

  @Test
  @DisplayName("old negative data furnished today is accepted and aged in the same request; younger data stays")
  void lateArrivingDataAgedAtOnce() {
    String id = person();
    LocalDate today = TODAY;
    long logs = bureau.count("SELECT count(*) FROM maintenance_log WHERE action = '" + AgeingRepository.ON_ARRIVAL_ACTION + "'");
    Api.Res r = api.put("/v1/tradelines/ARR-DEF-1", A,
      loan(id, "DEFAULTED", "2012-01-10", today.minusYears(5).minusDays(1).toString(), 200));
    assertEquals(201, r.status(), r.toString());
    assertTrue(!account("ARR-DEF-1"), "accepted, and gone before the answer");
    put("ARR-DEF-2", loan(id, "DEFAULTED", "2012-01-10", today.minusYears(5).toString(), 200));
    assertTrue(account("ARR-DEF-2"), "ended 5 years ago today: kept");
    put("ARR-1", loan(id, "OPEN", "2012-01-10", null, 0));
    repay("ARR-1", "2019-01", 30);
    assertTrue(period("ARR-1", "2019-01"), "late, not ended yet: kept");
    repay("ARR-1", "2019-02", 0);
    assertTrue(!period("ARR-1", "2019-01"), "the on-time period that ends it, 7 years ago, ages it in the same request");
    assertTrue(period("ARR-1", "2019-02"));
    repay("ARR-1", today.minusYears(4).toString().substring(0, 7), 30);
    repay("ARR-1", today.minusYears(4).plusMonths(1).toString().substring(0, 7), 0);
    assertTrue(period("ARR-1", today.minusYears(4).toString().substring(0, 7)), "ended 4 years ago: kept");
    assertEquals(logs + 2, bureau.count("SELECT count(*) FROM maintenance_log WHERE action = '"
      + AgeingRepository.ON_ARRIVAL_ACTION + "'"), "each ageing on arrival is counted in the maintenance log");
    JsonObject report = api.get("/v1/me/report", Tokens.borrower(id)).json();
    assertTrue(!report.encode().contains("ARR-DEF-1") && !report.encode().contains("\"2019-01\""), report.encode());
  }

  @Test
  @DisplayName("the pass walks the book in batches of ageing.batchSize accounts, each its own transaction, until nothing is left")
  void batches() {
    String id = person();
    for (int i = 0; i < 5; i++) {
      put("BAT-" + i, loan(id, "WRITTEN_OFF", opened(), TODAY.minusDays(2).toString(), 200));
    }
    LocalDate day = TODAY.plusYears(7);
    NegativeDataAgeing small = new NegativeDataAgeing(pool, scores, new AgeingSettings(5, 2, 60, false), on(day));
    NegativeDataAgeing.Result dry = TestBureau.await(small.run(true).toCompletionStage().toCompletableFuture());
    assertTrue(dry.batches() >= 3 && dry.aged().accounts() >= 5, dry.toJson().encode());
    assertEquals(5, bureau.count("SELECT count(*) FROM tradelines WHERE account_ref LIKE 'BAT-%'"));
    NegativeDataAgeing.Result r = TestBureau.await(small.run(false).toCompletionStage().toCompletableFuture());
    assertEquals(dry.aged().counts(), r.aged().counts());
    assertEquals(0, bureau.count("SELECT count(*) FROM tradelines WHERE account_ref LIKE 'BAT-%'"));
    assertTrue(bureau.count("SELECT count(*) FROM maintenance_log WHERE action = '" + AgeingRepository.BATCH_ACTION + "'") >= 3,
      "each batch that deleted is logged in its own transaction");
  }

  @Test
  @DisplayName("the daily pass runs once a business day over all instances: not again the same day, again the next, never while another holds the lock")
  void oncePerDay() throws Exception {
    LocalDate day = TODAY.plusYears(30);
    NegativeDataAgeing.Result first = TestBureau.await(ageing(day).runIfDue().toCompletionStage().toCompletableFuture());
    assertNotNull(first, "the day's first check runs the pass");
    assertNull(TestBureau.await(ageing(day).runIfDue().toCompletionStage().toCompletableFuture()),
      "a second check the same business day (another instance, a restart) does not run it");
    try (Connection c = bureau.appConnection(); Statement st = c.createStatement()) {
      st.execute("SELECT pg_advisory_lock(" + AgeingRepository.PASS_LOCK + ")");
      assertNull(TestBureau.await(ageing(day.plusDays(1)).runIfDue().toCompletionStage().toCompletableFuture()),
        "while another pass holds the lock, a check skips");
      Throwable busy = failure(ageing(day.plusDays(1)).run(false));
      assertInstanceOf(NegativeDataAgeing.Busy.class, busy);
      st.execute("SELECT pg_advisory_unlock(" + AgeingRepository.PASS_LOCK + ")");
    }
    assertNotNull(TestBureau.await(ageing(day.plusDays(1)).runIfDue().toCompletionStage().toCompletableFuture()),
      "the next business day's check runs it");
  }
}
