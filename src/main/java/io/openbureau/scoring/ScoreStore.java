package io.openbureau.scoring;

import io.openbureau.cache.RedisStore;
import io.openbureau.cache.VersionedCache;
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
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Keeps every person's score fresh: {@link #recompute} runs inside the furnishing transaction
 * (which holds the person's advisory lock), so versions are handed out in commit order;
 * {@link #publish} then writes them to Redis, where a lower version never replaces a higher one.
 * Concurrent updates about one person therefore always leave the latest score in the cache.
 */
public final class ScoreStore {
  static final String ACCOUNTS = """
    SELECT t.borrower_key, t.product_type, t.opened_at, t.credit_limit, t.status, t.balance, t.days_past_due,
           coalesce(r.worst, 0) AS worst, coalesce(r.late, 0) AS late
    FROM tradelines t
    LEFT JOIN LATERAL (
      SELECT max(days_past_due) AS worst, count(*) FILTER (WHERE days_past_due > 0) AS late
      FROM repayments r
      WHERE r.member_id = t.member_id AND r.account_ref = t.account_ref AND r.period >= $2
    ) r ON true
    WHERE t.borrower_key = ANY($1)""";
  static final String UPSERT = """
    INSERT INTO scores (borrower_key, value, band, reasons, model_version, as_of, active_loans, outstanding_balance,
                        max_current_dpd, version)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, nextval('score_version_seq'))
    ON CONFLICT (borrower_key) DO UPDATE SET value = EXCLUDED.value, band = EXCLUDED.band, reasons = EXCLUDED.reasons,
      model_version = EXCLUDED.model_version, as_of = EXCLUDED.as_of, active_loans = EXCLUDED.active_loans,
      outstanding_balance = EXCLUDED.outstanding_balance, max_current_dpd = EXCLUDED.max_current_dpd,
      version = EXCLUDED.version
    RETURNING version""";
  static final String FIND = """
    SELECT value, band, reasons, model_version, as_of, active_loans, outstanding_balance, max_current_dpd, version
    FROM scores WHERE borrower_key = $1""";

  private final Scorecard scorecard;
  private final RedisStore redis;
  private final VersionedCache cache;
  private final Pool pool;

  public ScoreStore(Scorecard scorecard, RedisStore redis, Pool pool) {
    this.scorecard = scorecard;
    this.redis = redis;
    this.cache = new VersionedCache(redis);
    this.pool = pool;
  }

  public String key(byte[] borrowerKey) {
    return redis.key("b:" + BorrowerKeys.hex(borrowerKey), "score");
  }

  /** Recomputes and stores the scores of these people; call inside their transaction. */
  public Future<Map<String, PersonScore>> recompute(SqlClient tx, List<byte[]> borrowerKeys) {
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    String since = today.minusMonths(23).format(DateTimeFormatter.ofPattern("yyyy-MM"));
    Buffer[] keys = borrowerKeys.stream().map(Buffer::buffer).toArray(Buffer[]::new);
    return tx.preparedQuery(ACCOUNTS).execute(Tuple.of(keys, since)).compose(rows -> {
      Map<String, List<ScoreInputs.Account>> byPerson = new LinkedHashMap<>();
      borrowerKeys.forEach(k -> byPerson.put(BorrowerKeys.hex(k), new ArrayList<>()));
      for (Row r : rows) {
        byPerson.computeIfAbsent(BorrowerKeys.hex(r.getBuffer("borrower_key").getBytes()), k -> new ArrayList<>())
          .add(new ScoreInputs.Account(r.getString("product_type"), r.getLocalDate("opened_at"),
            r.getBigDecimal("credit_limit"), r.getString("status"), r.getBigDecimal("balance"),
            r.getInteger("days_past_due"), r.getInteger("worst"), r.getLong("late").intValue()));
      }
      Instant asOf = Instant.now().truncatedTo(ChronoUnit.MILLIS);
      List<Tuple> batch = new ArrayList<>();
      List<PersonScore> computed = new ArrayList<>();
      List<String> order = new ArrayList<>();
      byPerson.forEach((hex, accounts) -> {
        PersonScore s = compute(accounts, today, asOf);
        computed.add(s);
        order.add(hex);
        batch.add(Tuple.of(Buffer.buffer(BorrowerKeys.fromHex(hex)), s.value(), s.band(), s.reasons(), s.modelVersion(),
          asOf.atOffset(ZoneOffset.UTC), s.activeLoans(), s.outstandingBalance()).addValue(s.maxCurrentDpd()));
      });
      return tx.preparedQuery(UPSERT).executeBatch(batch).map(result -> {
        Map<String, PersonScore> out = new HashMap<>();
        var rs = result;
        for (int i = 0; i < computed.size(); i++) {
          long version = rs.iterator().next().getLong("version");
          PersonScore s = computed.get(i);
          out.put(order.get(i), new PersonScore(s.value(), s.band(), s.reasons(), s.modelVersion(), s.asOf(),
            s.activeLoans(), s.outstandingBalance(), s.maxCurrentDpd(), version));
          rs = rs.next();
        }
        return out;
      });
    });
  }

  PersonScore compute(List<ScoreInputs.Account> accounts, LocalDate today, Instant asOf) {
    int active = 0;
    int maxDpd = 0;
    BigDecimal outstanding = BigDecimal.ZERO;
    for (ScoreInputs.Account a : accounts) {
      if ("OPEN".equals(a.status())) {
        active++;
        maxDpd = Math.max(maxDpd, a.daysPastDue());
      }
      if ("OPEN".equals(a.status()) || "DEFAULTED".equals(a.status())) {
        outstanding = outstanding.add(a.balance());
      }
    }
    if (accounts.isEmpty()) {
      return new PersonScore(null, null, new JsonArray(), scorecard.modelVersion(), asOf, 0, BigDecimal.ZERO, 0, 0);
    }
    Scorecard.Result r = scorecard.score(ScoreInputs.from(accounts, today));
    JsonArray reasons = new JsonArray();
    r.reasons().forEach(x -> reasons.add(new JsonObject().put("code", x.code()).put("description", x.description())));
    return new PersonScore(r.value(), r.band(), reasons, r.modelVersion(), asOf, active, outstanding, maxDpd, 0);
  }

  /** After commit: publish to Redis (a higher version always wins there). */
  public Future<Void> publish(Map<String, PersonScore> scores) {
    List<Future<Void>> writes = new ArrayList<>();
    scores.forEach((hex, s) -> writes.add(cache.write(key(BorrowerKeys.fromHex(hex)), s.version(),
      s.toCacheJson().encode(), 0)));
    return Future.all(writes).mapEmpty();
  }

  /** The person's current score from Redis, rebuilt from Postgres on a miss (e.g. after a flush). */
  public Future<PersonScore> get(byte[] borrowerKey) {
    return cache.getOrLoad(key(borrowerKey), () -> pool.preparedQuery(FIND).execute(Tuple.of(Buffer.buffer(borrowerKey)))
        .map(rows -> {
          if (!rows.iterator().hasNext()) {
            return new VersionedCache.Loaded(0, PersonScore.empty(scorecard.modelVersion()).toCacheJson().encode());
          }
          Row r = rows.iterator().next();
          PersonScore s = new PersonScore(r.getInteger("value"), r.getString("band"), (JsonArray) r.getValue("reasons"),
            r.getString("model_version"), r.getOffsetDateTime("as_of").toInstant(), r.getInteger("active_loans"),
            r.getBigDecimal("outstanding_balance"), r.getInteger("max_current_dpd"), r.getLong("version"));
          return new VersionedCache.Loaded(s.version(), s.toCacheJson().encode());
        }), 0)
      .map(e -> PersonScore.fromCacheJson(e.payload(), e.version()));
  }
}
