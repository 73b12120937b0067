package io.openbureau.scoring;

import io.openbureau.cache.RedisStore;
import io.openbureau.cache.VersionedCache;
import io.openbureau.config.BusinessTime;
import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps every person's score fresh: {@link #recompute} runs inside the furnishing transaction
 * (which holds the person's advisory lock), so versions are handed out in commit order;
 * {@link #publish} then writes them to Redis, where a lower version never replaces a higher one.
 * Concurrent updates about one person therefore always leave the latest score in the cache.
 *
 * <p>Scores committed in Postgres always reach the cache: a row's {@code published_version} is
 * raised only after its Redis write succeeded, so a crash between the commit and the publish, or a
 * failed publish, leaves it marked, and {@link ScoreRepublisher} replays it (on every instance, one
 * at a time) until Redis has it. A re-sent line that changes nothing republishes its person's
 * current score too (the compare-and-set makes that a no-op when Redis is current).
 */
public final class ScoreStore {
  private static final Logger LOG = LoggerFactory.getLogger(ScoreStore.class);
  private static final RateLimitedLog MARK_FAILURES = new RateLimitedLog(60_000);
  /**
   * A tradeline (or one repayment period) under an OVERDUE dispute, or deleted by a dispute's
   * DELETED outcome, is left out (V12, disputes.DisputeRepository): information not verified in
   * time is not used against the person.
   */
  static final String ACCOUNTS = """
    SELECT t.borrower_key, t.member_id AS lender_id, t.product_type, t.opened_at, t.credit_limit, t.status, t.balance, t.days_past_due,
           coalesce(r.worst, 0) AS worst, coalesce(r.late, 0) AS late, t.currency
    FROM tradelines t
    LEFT JOIN LATERAL (
      SELECT max(days_past_due) AS worst, count(*) FILTER (WHERE days_past_due > 0) AS late
      FROM repayments r
      WHERE r.member_id = t.member_id AND r.account_ref = t.account_ref AND r.period >= $2
        AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.member_id = r.member_id AND d.account_ref = r.account_ref
                          AND d.period = r.period AND (d.status = 'OVERDUE' OR d.outcome = 'DELETED'))
    ) r ON true
    WHERE t.borrower_key = ANY($1)
      AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.member_id = t.member_id AND d.account_ref = t.account_ref
                        AND d.period IS NULL AND (d.status = 'OVERDUE' OR d.outcome = 'DELETED'))""";
  /** One statement for all the people of a chunk; versions come from the sequence in commit order (locks held). */
  static final String UPSERT = """
    INSERT INTO scores (borrower_key, value, band, reasons, model_version, as_of, active_loans, outstanding_balance,
                        max_current_dpd, version, relationships)
    SELECT u.borrower_key, u.value, u.band, u.reasons::jsonb, $5, $6, u.active_loans, u.outstanding_balance::numeric,
           u.max_current_dpd, nextval('score_version_seq'), u.relationships::jsonb
    FROM unnest($1::bytea[], $2::int[], $3::text[], $4::text[], $7::int[], $8::text[], $9::int[], $10::text[])
      AS u(borrower_key, value, band, reasons, active_loans, outstanding_balance, max_current_dpd, relationships)
    ON CONFLICT (borrower_key) DO UPDATE SET value = EXCLUDED.value, band = EXCLUDED.band, reasons = EXCLUDED.reasons,
      model_version = EXCLUDED.model_version, as_of = EXCLUDED.as_of, active_loans = EXCLUDED.active_loans,
      outstanding_balance = EXCLUDED.outstanding_balance, max_current_dpd = EXCLUDED.max_current_dpd,
      version = EXCLUDED.version, relationships = EXCLUDED.relationships
    RETURNING borrower_key, version""";
  static final String FIND = """
    SELECT value, band, reasons, model_version, as_of, active_loans, outstanding_balance, max_current_dpd, version, relationships
    FROM scores WHERE borrower_key = $1""";
  /** The stored scores of some people (a re-sent line that changes nothing republishes its person's). */
  static final String CURRENT = """
    SELECT borrower_key, value, band, reasons, model_version, as_of, active_loans, outstanding_balance,
           max_current_dpd, version, relationships
    FROM scores WHERE borrower_key = ANY($1)""";
  /**
   * Scores committed but not known to be in Redis (V9's partial index holds only these), computed
   * before {@code $1}: younger ones are normally being published by their own request right now.
   */
  static final String UNPUBLISHED = """
    SELECT borrower_key, value, band, reasons, model_version, as_of, active_loans, outstanding_balance,
           max_current_dpd, version, relationships
    FROM scores WHERE published_version < version AND as_of < $1
    LIMIT $2""";
  /**
   * After a Redis write succeeded: {@code published_version} only ever rises, to a version that is
   * in Redis. Rows locked by a furnishing transaction are skipped rather than waited for (that
   * transaction writes a newer version and publishes it; if its publish fails, the repair loop
   * replays it), so this never waits on, or deadlocks with, a chunk.
   */
  static final String MARK_PUBLISHED = """
    WITH free AS (
      SELECT s.borrower_key, u.version
      FROM scores s JOIN unnest($1::bytea[], $2::bigint[]) AS u(borrower_key, version) ON s.borrower_key = u.borrower_key
      WHERE s.published_version < u.version
      FOR UPDATE OF s SKIP LOCKED)
    UPDATE scores s SET published_version = free.version FROM free WHERE s.borrower_key = free.borrower_key""";

  private final Scorecard scorecard;
  private final RedisStore redis;
  private final VersionedCache cache;
  private final Pool pool;
  private final Clock clock;

  public ScoreStore(Scorecard scorecard, RedisStore redis, Pool pool) {
    this(scorecard, redis, pool, Clock.systemUTC());
  }

  /** {@code clock}: what "now" and "today" (in the business time zone) are when scores are computed. */
  public ScoreStore(Scorecard scorecard, RedisStore redis, Pool pool, Clock clock) {
    this.scorecard = scorecard;
    this.redis = redis;
    this.cache = new VersionedCache(redis);
    this.pool = pool;
    this.clock = clock;
  }

  public Scorecard scorecard() {
    return scorecard;
  }

  public String key(byte[] borrowerKey) {
    return redis.key("b:" + BorrowerKeys.hex(borrowerKey), "score");
  }

  /** Recomputes and stores the scores of these people; call inside their transaction. */
  public Future<Map<String, PersonScore>> recompute(SqlClient tx, List<byte[]> borrowerKeys) {
    // dates are business dates (bureau.timeZone): at 07:00 in Beijing it is still yesterday in UTC
    Instant asOf = clock.instant().truncatedTo(ChronoUnit.MILLIS);
    LocalDate today = BusinessTime.today(Clock.fixed(asOf, ZoneOffset.UTC));
    String since = ScoreInputs.windowStart(today);
    Buffer[] keys = borrowerKeys.stream().map(Buffer::buffer).toArray(Buffer[]::new);
    return tx.preparedQuery(ACCOUNTS).execute(Tuple.of(keys, since)).compose(rows -> {
      Map<String, List<ScoreInputs.Account>> byPerson = new LinkedHashMap<>();
      Map<String, java.util.TreeSet<String>> related = new HashMap<>();
      borrowerKeys.forEach(k -> byPerson.put(BorrowerKeys.hex(k), new ArrayList<>()));
      for (Row r : rows) {
        String person = BorrowerKeys.hex(r.getBuffer("borrower_key").getBytes());
        if ("OPEN".equals(r.getString("status")) || r.getBigDecimal("balance").signum() > 0) {
          // an existing credit relationship (API.md: ACCOUNT_REVIEW without consent)
          related.computeIfAbsent(person, k -> new java.util.TreeSet<>()).add(r.getString("lender_id"));
        }
        byPerson.computeIfAbsent(person, k -> new ArrayList<>())
          .add(new ScoreInputs.Account(r.getString("product_type"), r.getLocalDate("opened_at"),
            r.getBigDecimal("credit_limit"), r.getString("currency"), r.getString("status"), r.getBigDecimal("balance"),
            r.getInteger("days_past_due"), r.getInteger("worst"), r.getLong("late").intValue()));
      }
      int n = byPerson.size();
      Map<String, PersonScore> computed = new HashMap<>();
      Buffer[] persons = new Buffer[n];
      Integer[] values = new Integer[n];
      String[] bands = new String[n];
      String[] reasons = new String[n];
      Integer[] active = new Integer[n];
      String[] outstanding = new String[n];
      Integer[] maxDpd = new Integer[n];
      String[] relationships = new String[n];
      int i = 0;
      for (Map.Entry<String, List<ScoreInputs.Account>> e : byPerson.entrySet()) {
        PersonScore s = compute(e.getValue(), today, asOf)
          .withRelationships(List.copyOf(related.getOrDefault(e.getKey(), new java.util.TreeSet<>())));
        computed.put(e.getKey(), s);
        persons[i] = Buffer.buffer(BorrowerKeys.fromHex(e.getKey()));
        values[i] = s.value();
        bands[i] = s.band();
        reasons[i] = s.reasons().encode();
        active[i] = s.activeLoans();
        outstanding[i] = s.outstandingBalance().toPlainString();
        maxDpd[i] = s.maxCurrentDpd();
        relationships[i] = new JsonArray(s.relationships()).encode();
        i++;
      }
      Tuple params = Tuple.from(new Object[] {persons, values, bands, reasons, scorecard.modelVersion(),
        asOf.atOffset(ZoneOffset.UTC), active, outstanding, maxDpd, relationships});
      return tx.preparedQuery(UPSERT).execute(params).map(rowsOut -> {
        Map<String, PersonScore> out = new HashMap<>();
        for (Row r : rowsOut) {
          String hex = BorrowerKeys.hex(r.getBuffer("borrower_key").getBytes());
          PersonScore s = computed.get(hex);
          out.put(hex, s.withVersion(r.getLong("version")));
        }
        return out;
      });
    });
  }

  /**
   * One person's score and aggregates on a business date. {@code outstandingBalance} (the
   * over-borrowing figure) sums, like the scorecard, only the balances in the scorecard's currency:
   * amounts in different currencies are never added (no exchange rates are held); the accounts in
   * another currency still count as active loans and in the current days past due. A thin file is
   * stored with no value and the reason it has none ({@code NO_TRADELINES}, {@code INSUFFICIENT_HISTORY}).
   */
  PersonScore compute(List<ScoreInputs.Account> accounts, LocalDate today, Instant asOf) {
    int active = 0;
    int maxDpd = 0;
    BigDecimal outstanding = BigDecimal.ZERO;
    for (ScoreInputs.Account a : accounts) {
      if ("OPEN".equals(a.status())) {
        active++;
        maxDpd = Math.max(maxDpd, a.daysPastDue());
      }
      if (ScoreInputs.owed(a) && scorecard.currency().equals(a.currency())) {
        outstanding = outstanding.add(a.balance());
      }
    }
    Scorecard.Result r = scorecard.score(ScoreInputs.from(accounts, today, scorecard.currency()));
    JsonArray reasons = new JsonArray();
    r.reasons().forEach(x -> reasons.add(new JsonObject().put("code", x.code()).put("description", x.description())));
    return new PersonScore(r.value(), r.band(), reasons, r.modelVersion(), asOf, active, outstanding, maxDpd, 0);
  }

  /**
   * After commit: publish to Redis, pipelined (a higher version always wins there), then mark the
   * rows published in Postgres. A failed Redis write fails the future and leaves the rows marked
   * unpublished, for {@link ScoreRepublisher}; a failed mark only costs a redundant replay later.
   */
  public Future<Void> publish(Map<String, PersonScore> scores) {
    if (scores.isEmpty()) {
      return Future.succeededFuture();
    }
    return writeToCache(scores).compose(v -> markPublished(pool, scores).recover(e -> {
      MARK_FAILURES.warn(LOG, "scores reached Redis but could not be marked published ({}); they will be "
        + "republished, harmlessly", e.toString());
      return Future.succeededFuture();
    }));
  }

  /** The Redis half of {@link #publish}: one versioned compare-and-set per person, pipelined. */
  public Future<Void> writeToCache(Map<String, PersonScore> scores) {
    List<VersionedCache.Write> writes = new ArrayList<>(scores.size());
    scores.forEach((hex, s) -> writes.add(new VersionedCache.Write(key(BorrowerKeys.fromHex(hex)), s.version(),
      s.toCacheJson().encode(), 0)));
    return cache.writeAll(writes);
  }

  /** Records that these versions are in Redis (one statement; see {@link #MARK_PUBLISHED}). */
  public Future<Void> markPublished(SqlClient client, Map<String, PersonScore> scores) {
    int n = scores.size();
    Buffer[] keys = new Buffer[n];
    Long[] versions = new Long[n];
    int i = 0;
    for (Map.Entry<String, PersonScore> e : scores.entrySet()) {
      keys[i] = Buffer.buffer(BorrowerKeys.fromHex(e.getKey()));
      versions[i] = e.getValue().version();
      i++;
    }
    return client.preparedQuery(MARK_PUBLISHED).execute(Tuple.from(new Object[] {keys, versions})).mapEmpty();
  }

  /** The stored scores of these people, by hex key (inside their transaction: the locks make them current). */
  public Future<Map<String, PersonScore>> current(SqlClient client, List<byte[]> borrowerKeys) {
    if (borrowerKeys.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    Buffer[] keys = borrowerKeys.stream().map(Buffer::buffer).toArray(Buffer[]::new);
    return client.preparedQuery(CURRENT).execute(Tuple.of((Object) keys)).map(ScoreStore::byPerson);
  }

  /** Up to {@code limit} scores computed before {@code before} and not known to be in Redis. */
  public Future<Map<String, PersonScore>> unpublished(SqlClient client, Instant before, int limit) {
    return client.preparedQuery(UNPUBLISHED).execute(Tuple.of(before.atOffset(ZoneOffset.UTC), limit))
      .map(ScoreStore::byPerson);
  }

  private static Map<String, PersonScore> byPerson(Iterable<Row> rows) {
    Map<String, PersonScore> out = new LinkedHashMap<>();
    for (Row r : rows) {
      out.put(BorrowerKeys.hex(r.getBuffer("borrower_key").getBytes()), fromRow(r));
    }
    return out;
  }

  private static PersonScore fromRow(Row r) {
    return new PersonScore(r.getInteger("value"), r.getString("band"), (JsonArray) r.getValue("reasons"),
      r.getString("model_version"), r.getOffsetDateTime("as_of").toInstant(), r.getInteger("active_loans"),
      r.getBigDecimal("outstanding_balance"), r.getInteger("max_current_dpd"), r.getLong("version"),
      relationships(r.getValue("relationships")));
  }

  private static List<String> relationships(Object json) {
    if (!(json instanceof JsonArray a)) {
      return List.of();
    }
    List<String> out = new ArrayList<>(a.size());
    a.forEach(x -> out.add(String.valueOf(x)));
    return out;
  }

  /** The person's current score from Redis, rebuilt from Postgres on a miss (e.g. after a flush). */
  public Future<PersonScore> get(byte[] borrowerKey) {
    return cache.getOrLoad(key(borrowerKey), () -> pool.preparedQuery(FIND).execute(Tuple.of(Buffer.buffer(borrowerKey)))
        .map(rows -> {
          if (!rows.iterator().hasNext()) {
            return new VersionedCache.Loaded(0, PersonScore.empty(scorecard.modelVersion()).toCacheJson().encode());
          }
          PersonScore s = fromRow(rows.iterator().next());
          return new VersionedCache.Loaded(s.version(), s.toCacheJson().encode());
        }), 0)
      .map(e -> PersonScore.fromCacheJson(e.payload(), e.version()));
  }
}
