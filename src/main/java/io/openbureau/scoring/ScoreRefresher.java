package io.openbureau.scoring;

import io.openbureau.cache.RedisStore;
import io.openbureau.config.BureauConfig;
import io.openbureau.config.BusinessTime;
import io.openbureau.db.Database;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daily re-scoring pass: scores that stay true as time passes. Three inputs of the scorecard
 * change with the date alone (accounts opened in the last 6 months, the age of the oldest account,
 * the 24-month repayment window), so an account nobody touches would otherwise keep the score of
 * the day it was last furnished. Once per business day (in the bureau's time zone) the pass
 * re-scores, through {@link ScoreStore#recompute} and {@link ScoreStore#publish}, exactly the
 * people whose inputs can have changed since their score was computed, and everyone scored with
 * another model version.
 *
 * <p>Why a pass, not a recomputation at read time: the inquiry hot path reads one cached score
 * from Redis (a Lua script, no Postgres); recomputing there would put the accounts query on every
 * inquiry. The daily pass keeps it free of that, and a score is at most one day behind a boundary
 * the calendar crossed (as it would be behind a furnisher's monthly file).
 *
 * <p>Who: a person is re-scored when one of their accounts crossed one of the scorecard's age
 * boundaries ({@link Scorecard#ageBoundariesMonths}) between the score's {@code as_of} and today,
 * or a late repayment period left the window since then, or the score's model version is not the
 * current one. The date tests are widened by a few days (a superset: re-scoring someone whose
 * score does not change is harmless), so no zone or month-end arithmetic can miss anyone.
 *
 * <p>Once across instances, and across restarts: every process checks every
 * {@code scoring.refresh.checkIntervalMillis}; the pass runs only on the process holding the
 * session advisory lock {@link #LOCK} (a crashed process releases it with its session), and a
 * finished pass writes a {@code SCORE_REFRESH} row to {@code maintenance_log} for its business day,
 * which every later check sees. A pass cut off half-way is simply run again: people it already
 * re-scored have an {@code as_of} of today and are skipped. Bounded: the stored scores are walked
 * in pages of {@code scoring.refresh.pageSize} keys, each page one short transaction that takes
 * the stale people's locks (sorted, the furnishing order) only while it re-scores them.
 */
public final class ScoreRefresher extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ScoreRefresher.class);
  /** The advisory lock key of the pass ("score rf" in ASCII): one pass at a time over all instances. */
  static final long LOCK = 0x73636f7265207266L;
  static final String ACTION = "SCORE_REFRESH";
  static final String TRY_LOCK = "SELECT pg_try_advisory_lock(" + LOCK + ") AS held";
  static final String UNLOCK = "SELECT pg_advisory_unlock(" + LOCK + ")";
  static final String DONE = "SELECT 1 FROM maintenance_log WHERE action = '" + ACTION + "' AND details->>'day' = $1 LIMIT 1";
  static final String RECORD = "INSERT INTO maintenance_log (action, details) VALUES ('" + ACTION + "', $1::jsonb)";
  static final String CUSTOM_PLANS = "SELECT set_config('plan_cache_mode', 'force_custom_plan', true)";
  /** The same person locks as furnishing takes (FurnishingService.lockOf: the key's first 8 bytes), sorted. */
  static final String LOCK_PEOPLE = "SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k";
  /**
   * One page of stored scores after the cursor {@code $1}, each marked stale or not. {@code d0} is
   * the UTC date of {@code as_of} minus one day: never after the business date the score was
   * computed on, whatever the zone, so every window below starts early enough.
   * $3 start of today (business zone), $4 age boundaries in months, $5 today (business date),
   * $6 repayment window minus one, in months, $7 today's first period in the window, $8 model version.
   */
  static final String PAGE = """
    WITH page AS (
      SELECT borrower_key, as_of, model_version, (as_of AT TIME ZONE 'UTC')::date - 1 AS d0
      FROM scores WHERE borrower_key > $1 ORDER BY borrower_key LIMIT $2)
    SELECT p.borrower_key,
      p.model_version <> $8 OR (p.as_of < $3 AND (
        EXISTS (SELECT 1 FROM tradelines t, unnest($4::int[]) AS k(months)
                WHERE t.borrower_key = p.borrower_key
                  AND t.opened_at >= p.d0 - make_interval(months => k.months, days => 3)
                  AND t.opened_at <= $5::date - make_interval(months => k.months) + interval '3 days')
        OR EXISTS (SELECT 1 FROM tradelines t
                   JOIN repayments r ON r.member_id = t.member_id AND r.account_ref = t.account_ref
                   WHERE t.borrower_key = p.borrower_key AND r.days_past_due > 0
                     AND r.period >= to_char(p.d0 - make_interval(months => $6), 'YYYY-MM')
                     AND r.period < $7))) AS stale
    FROM page p ORDER BY p.borrower_key""";

  /** What one check did: RAN (the pass ran to its end), ALREADY_DONE (today's pass had run), BUSY (another instance runs it). */
  public record Outcome(String status, String day, int examined, int rescored) {
  }

  private record Day(LocalDate today, java.time.Instant startOfDay) {
  }

  private final BureauConfig config;
  private final ScoringSettings.Refresh settings;
  private final Clock clock;
  private final RateLimitedLog failures = new RateLimitedLog(60_000);
  private Pool pool;
  private RedisStore redis;
  private ScoreStore scores;
  private boolean ownsClients;
  private volatile boolean stopped;
  private long timer = -1;

  /** The verticle: one per process, with its own small pool and Redis client. */
  public ScoreRefresher(BureauConfig config) {
    this.config = config;
    this.settings = ScoringSettings.from(config).refresh();
    this.clock = Clock.systemUTC();
  }

  /** Over clients the caller owns (tests drive {@link #runIfDue} with their own clock). */
  public ScoreRefresher(Pool pool, ScoreStore scores, ScoringSettings.Refresh settings, Clock clock) {
    this.config = null;
    this.settings = settings;
    this.clock = clock;
    this.pool = pool;
    this.scores = scores;
  }

  @Override
  public Future<?> start() {
    if (!settings.enabled()) {
      LOG.info("daily re-scoring is off on this process (scoring.refresh.enabled: false)");
      return Future.succeededFuture();
    }
    return vertx.executeBlocking(() -> Scorecard.load(Path.of(config.scorecardFile()))).onSuccess(scorecard -> {
      // two sessions: the pass holds one (its lock), publishing marks rows published on the other
      pool = Database.pool(vertx, config.postgres(), 2);
      redis = RedisStore.create(vertx, config.redis());
      scores = new ScoreStore(scorecard, redis, pool, clock);
      ownsClients = true;
      schedule(Math.min(1000, settings.checkIntervalMillis()));
    });
  }

  private void schedule(long delay) {
    if (stopped) {
      return;
    }
    timer = vertx.setTimer(Math.max(1, delay), id -> runIfDue().onComplete(ar -> {
      if (ar.failed()) {
        failures.warn(LOG, "the daily re-scoring pass failed ({}); it runs again within {} ms",
          ar.cause().toString(), settings.checkIntervalMillis());
      }
      schedule(settings.checkIntervalMillis());
    }));
  }

  /** Runs today's pass unless it has run (on any instance) or another instance is running it. */
  public Future<Outcome> runIfDue() {
    LocalDate today = BusinessTime.today(clock);
    Day day = new Day(today, today.atStartOfDay(BusinessTime.zone()).toInstant());
    return done(pool, today).compose(done -> done ? Future.succeededFuture(new Outcome("ALREADY_DONE", today.toString(), 0, 0))
      : pool.withConnection(conn -> conn.query(TRY_LOCK).execute().compose(rows -> {
        if (!rows.iterator().next().getBoolean("held")) {
          return Future.succeededFuture(new Outcome("BUSY", today.toString(), 0, 0));
        }
        // the lock is the session's: released here, or by Postgres when the session ends
        return underLock(conn, day).eventually(() -> conn.query(UNLOCK).execute());
      })));
  }

  private Future<Outcome> underLock(SqlConnection conn, Day day) {
    return done(conn, day.today()).compose(done -> done
      ? Future.succeededFuture(new Outcome("ALREADY_DONE", day.today().toString(), 0, 0))
      : page(conn, day, Buffer.buffer(), 0, 0).compose(o -> record(conn, o).map(o)));
  }

  private static Future<Boolean> done(io.vertx.sqlclient.SqlClient client, LocalDate today) {
    return client.preparedQuery(DONE).execute(Tuple.of(today.toString())).map(rows -> rows.iterator().hasNext());
  }

  private Future<Void> record(SqlConnection conn, Outcome o) {
    JsonObject details = new JsonObject().put("day", o.day()).put("examined", o.examined()).put("rescored", o.rescored())
      .put("modelVersion", scores.scorecard().modelVersion()).put("timeZone", BusinessTime.zone().getId());
    LOG.info("daily re-scoring for {}: {} scores examined, {} re-scored", o.day(), o.examined(), o.rescored());
    // a JsonObject, not its text: a String bound to jsonb is stored as one JSON string
    return conn.preparedQuery(RECORD).execute(Tuple.of(details)).mapEmpty();
  }

  /** One page in one transaction, then the next page, until a short page ends the walk. */
  private Future<Outcome> page(SqlConnection conn, Day day, Buffer cursor, int examined, int rescored) {
    if (stopped) {
      return Future.failedFuture(new IllegalStateException("stopped"));
    }
    Scorecard card = scores.scorecard();
    Integer[] boundaries = card.ageBoundariesMonths().toArray(Integer[]::new);
    Tuple params = Tuple.from(new Object[] {cursor, settings.pageSize(), day.startOfDay().atOffset(ZoneOffset.UTC),
      boundaries, day.today(), ScoreInputs.REPAYMENT_WINDOW_MONTHS - 1, ScoreInputs.windowStart(day.today()),
      card.modelVersion()});
    return conn.begin().compose(tx -> conn.query(CUSTOM_PLANS).execute()
      .compose(v -> conn.preparedQuery(PAGE).execute(params))
      .compose(rows -> {
        List<byte[]> stale = new ArrayList<>();
        Buffer last = cursor;
        int n = 0;
        for (Row r : rows) {
          n++;
          last = r.getBuffer("borrower_key");
          if (r.getBoolean("stale")) {
            stale.add(last.getBytes());
          }
        }
        Step step = new Step(n, last, stale.size());
        if (stale.isEmpty()) {
          return tx.commit().map(v -> new Committed(step, java.util.Map.<String, PersonScore>of()));
        }
        return lock(conn, stale).compose(v -> scores.recompute(conn, stale))
          .compose(computed -> tx.commit().map(v -> new Committed(step, computed)));
      })
      .onFailure(e -> tx.rollback()))
      .compose(c -> publish(c.scores()).map(c.step()))
      .compose(step -> step.examined() < settings.pageSize()
        ? Future.succeededFuture(new Outcome("RAN", day.today().toString(), examined + step.examined(),
          rescored + step.rescored()))
        : page(conn, day, step.last(), examined + step.examined(), rescored + step.rescored()));
  }

  private record Step(int examined, Buffer last, int rescored) {
  }

  private record Committed(Step step, java.util.Map<String, PersonScore> scores) {
  }

  /** Committed scores reach Redis now, or later through {@link ScoreRepublisher} (they stay marked unpublished). */
  private Future<Void> publish(java.util.Map<String, PersonScore> computed) {
    return scores.publish(computed).recover(e -> {
      failures.warn(LOG, "re-scored people could not be published to Redis yet ({}); the republish loop will", e.toString());
      return Future.succeededFuture();
    });
  }

  private static Future<Void> lock(SqlConnection conn, List<byte[]> people) {
    TreeSet<Long> sorted = new TreeSet<>();
    for (byte[] key : people) {
      sorted.add(lockOf(key));
    }
    return conn.preparedQuery(LOCK_PEOPLE).execute(Tuple.of((Object) sorted.toArray(Long[]::new))).mapEmpty();
  }

  /** Must equal FurnishingService.lockOf: the same lock serializes furnishing and re-scoring of a person. */
  static long lockOf(byte[] borrowerKey) {
    return ByteBuffer.wrap(borrowerKey, 0, 8).getLong();
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    if (!ownsClients) {
      return Future.succeededFuture();
    }
    return Future.join(pool == null ? Future.succeededFuture() : pool.close(),
      redis == null ? Future.succeededFuture() : redis.close());
  }
}
