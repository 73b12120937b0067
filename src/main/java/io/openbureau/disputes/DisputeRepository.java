package io.openbureau.disputes;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;

/**
 * All dispute SQL (V12). Every change about a person runs under that person's advisory lock, the
 * same one furnishing takes ({@code furnishing.FurnishingService}: the first 8 bytes of the
 * borrower key), so a dispute and a re-furnishing or a score recompute of the same person commit
 * one after the other, never interleaved. Row locks on disputes are taken only after it.
 */
public final class DisputeRepository {
  static final String LOCK_PERSON = "SELECT pg_advisory_xact_lock($1)";
  static final String LOCK_PERSONS = "SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k";
  /** The tradeline of this person, unless a dispute deleted it. */
  static final String ACCOUNT = """
    SELECT 1 FROM tradelines t
    WHERE t.member_id = $1 AND t.account_ref = $2 AND t.borrower_key = $3
      AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.member_id = t.member_id AND d.account_ref = t.account_ref
                        AND d.period IS NULL AND d.outcome = 'DELETED')""";
  static final String PERIOD = """
    SELECT 1 FROM repayments r
    WHERE r.member_id = $1 AND r.account_ref = $2 AND r.period = $3
      AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.member_id = r.member_id AND d.account_ref = r.account_ref
                        AND d.period = r.period AND d.outcome = 'DELETED')""";
  /** Nothing inserted: the account and period already have an unresolved dispute (disputes_one_unresolved). */
  static final String INSERT = """
    WITH c AS (SELECT date_trunc('milliseconds', clock_timestamp()) AS at)
    INSERT INTO disputes (id, borrower_key, key_id, member_id, account_ref, period, reason, statement, status,
                          opened_at, due_by)
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, 'OPEN', c.at, c.at + make_interval(days => $9) FROM c
    ON CONFLICT DO NOTHING
    RETURNING\s""" + Dispute.COLUMNS;
  static final String OF_MEMBER = "SELECT " + Dispute.COLUMNS + " FROM disputes WHERE id = $1 AND member_id = $2";
  static final String LOCK_ROW = "SELECT " + Dispute.COLUMNS + " FROM disputes WHERE id = $1 FOR UPDATE";
  /**
   * Whether the account (or that period) was re-furnished after the dispute opened: a changed
   * tradeline gets a new {@code updated_at} (an unchanged re-send writes nothing), a period a new
   * {@code reported_at}. For a whole-tradeline dispute a re-furnished period counts too.
   */
  static final String REFURNISHED = """
    SELECT (($3::text IS NULL AND EXISTS (SELECT 1 FROM tradelines WHERE member_id = $1 AND account_ref = $2
                                           AND updated_at > $4))
            OR EXISTS (SELECT 1 FROM repayments WHERE member_id = $1 AND account_ref = $2
                         AND ($3::text IS NULL OR period = $3) AND reported_at > $4)) AS done""";
  /** Conditional: of two resolutions at once, the second finds it RESOLVED (and the row lock orders them). */
  static final String RESOLVE = """
    UPDATE disputes SET status = 'RESOLVED', outcome = $2, note = $3,
      resolved_at = date_trunc('milliseconds', clock_timestamp())
    WHERE id = $1 AND status <> 'RESOLVED'
    RETURNING\s""" + Dispute.COLUMNS;
  static final String MINE = "SELECT " + Dispute.COLUMNS + """
     FROM disputes WHERE borrower_key = $1 AND ($2::timestamptz IS NULL OR (opened_at, id) < ($2, $3))
    ORDER BY opened_at DESC, id DESC LIMIT $4""";
  /** The member's disputes, soonest due first; {@code OPEN} means not yet answered (OPEN or OVERDUE). */
  static final String OF_FURNISHER = "SELECT " + Dispute.COLUMNS + """
     FROM disputes WHERE member_id = $1
      AND ($2::text IS NULL OR status = $2 OR ($2 = 'OPEN' AND status = 'OVERDUE'))
      AND ($3::timestamptz IS NULL OR (due_by, id) > ($3, $4))
    ORDER BY due_by, id LIMIT $5""";
  static final String FOR_COMPLIANCE = "SELECT " + Dispute.COLUMNS + """
     FROM disputes WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR member_id = $2)
      AND ($3::timestamptz IS NULL OR (due_by, id) > ($3, $4))
    ORDER BY due_by, id LIMIT $5""";
  static final String SUMMARY = """
    SELECT member_id, count(*) FILTER (WHERE status = 'OPEN') AS open,
           count(*) FILTER (WHERE status = 'OVERDUE') AS overdue,
           count(*) FILTER (WHERE status = 'RESOLVED') AS resolved,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - opened_at) / 86400)
             FILTER (WHERE status = 'RESOLVED') AS median_days
    FROM disputes GROUP BY member_id ORDER BY member_id""";

  /** One pass at a time across instances (the two-key form: a key space apart from the persons' locks). */
  static final String PASS_LOCK = "SELECT pg_try_advisory_xact_lock(hashtext('openbureau.disputes.overdue'), 0) AS got";
  static final String DUE = """
    SELECT id, borrower_key FROM disputes WHERE status = 'OPEN' AND due_by < clock_timestamp()
    ORDER BY due_by LIMIT $1""";
  /** Conditional: a dispute resolved meanwhile, or turned by another pass, is left alone. */
  static final String TURN_OVERDUE = """
    UPDATE disputes SET status = 'OVERDUE', overdue_at = clock_timestamp(), overdue_logged = false
    WHERE id = ANY($1) AND status = 'OPEN' AND due_by < clock_timestamp()
    RETURNING\s""" + Dispute.COLUMNS;
  /**
   * Turned overdue but its access-log row not known written (a crash, an audit outage): written
   * again, by one instance (the rows stay locked until the row is written and the mark committed).
   */
  static final String UNLOGGED = "SELECT " + Dispute.COLUMNS + """
     FROM disputes WHERE NOT overdue_logged AND overdue_at < clock_timestamp() - interval '30 seconds'
    ORDER BY overdue_at LIMIT $1 FOR UPDATE SKIP LOCKED""";
  static final String MARK_LOGGED = "UPDATE disputes SET overdue_logged = true WHERE id = ANY($1)";

  private final Pool pool;

  public DisputeRepository(Pool pool) {
    this.pool = pool;
  }

  public Pool pool() {
    return pool;
  }

  /** The person's advisory lock, as furnishing takes it. */
  static long lockOf(byte[] borrowerKey) {
    return ByteBuffer.wrap(borrowerKey, 0, 8).getLong();
  }

  static Future<Void> lockPerson(SqlClient tx, byte[] borrowerKey) {
    return tx.preparedQuery(LOCK_PERSON).execute(Tuple.of(lockOf(borrowerKey))).mapEmpty();
  }

  static Future<Void> lockPersons(SqlClient tx, Collection<Long> sorted) {
    return sorted.isEmpty() ? Future.succeededFuture()
      : tx.preparedQuery(LOCK_PERSONS).execute(Tuple.of((Object) sorted.toArray(Long[]::new))).mapEmpty();
  }

  static Future<Boolean> accountExists(SqlClient tx, String memberId, String accountRef, byte[] key) {
    return tx.preparedQuery(ACCOUNT).execute(Tuple.of(memberId, accountRef, Buffer.buffer(key)))
      .map(rows -> rows.size() > 0);
  }

  static Future<Boolean> periodExists(SqlClient tx, String memberId, String accountRef, String period) {
    return tx.preparedQuery(PERIOD).execute(Tuple.of(memberId, accountRef, period)).map(rows -> rows.size() > 0);
  }

  /** The new dispute, or null when the account and period already have an unresolved one. */
  static Future<Dispute> insert(SqlClient tx, UUID id, byte[] key, String keyId, String memberId, String accountRef,
                                String period, String reason, String statement, int answerDays) {
    return tx.preparedQuery(INSERT).execute(Tuple.from(new Object[] {id, Buffer.buffer(key), keyId, memberId,
      accountRef, period, reason, statement, answerDays})).map(DisputeRepository::first);
  }

  static Future<Dispute> ofMember(SqlClient tx, UUID id, String memberId) {
    return tx.preparedQuery(OF_MEMBER).execute(Tuple.of(id, memberId)).map(DisputeRepository::first);
  }

  static Future<Dispute> lockRow(SqlClient tx, UUID id) {
    return tx.preparedQuery(LOCK_ROW).execute(Tuple.of(id)).map(DisputeRepository::first);
  }

  static Future<Boolean> refurnished(SqlClient tx, Dispute d) {
    return tx.preparedQuery(REFURNISHED).execute(Tuple.of(d.lenderId(), d.accountRef(), d.period(),
      d.openedAt().atOffset(ZoneOffset.UTC))).map(rows -> rows.iterator().next().getBoolean("done"));
  }

  static Future<Dispute> resolve(SqlClient tx, UUID id, String outcome, String note) {
    return tx.preparedQuery(RESOLVE).execute(Tuple.of(id, outcome, note)).map(DisputeRepository::first);
  }

  Future<List<Dispute>> mine(byte[] key, Instant afterAt, UUID afterId, int limit) {
    return pool.preparedQuery(MINE).execute(Tuple.of(Buffer.buffer(key), utc(afterAt), afterId, limit))
      .map(DisputeRepository::all);
  }

  Future<List<Dispute>> ofFurnisher(String memberId, String status, Instant afterDue, UUID afterId, int limit) {
    return pool.preparedQuery(OF_FURNISHER).execute(Tuple.of(memberId, status, utc(afterDue), afterId, limit))
      .map(DisputeRepository::all);
  }

  Future<List<Dispute>> forCompliance(String status, String memberId, Instant afterDue, UUID afterId, int limit) {
    return pool.preparedQuery(FOR_COMPLIANCE).execute(Tuple.of(status, memberId, utc(afterDue), afterId, limit))
      .map(DisputeRepository::all);
  }

  Future<List<JsonObject>> summary() {
    return pool.query(SUMMARY).execute().map(rows -> {
      List<JsonObject> out = new ArrayList<>();
      for (Row r : rows) {
        Double median = r.getDouble("median_days");
        out.add(new JsonObject().put("lenderId", r.getString("member_id")).put("open", r.getLong("open"))
          .put("overdue", r.getLong("overdue")).put("resolved", r.getLong("resolved"))
          .put("medianDaysToResolve", median == null ? null : Math.round(median * 10) / 10.0));
      }
      return out;
    });
  }

  /** True when this transaction holds the pass lock (another instance's pass is not running). */
  static Future<Boolean> passLock(SqlClient tx) {
    return tx.query(PASS_LOCK).execute().map(rows -> rows.iterator().next().getBoolean("got"));
  }

  record Due(UUID id, byte[] borrowerKey) {
  }

  static Future<List<Due>> due(SqlClient tx, int limit) {
    return tx.preparedQuery(DUE).execute(Tuple.of(limit)).map(rows -> {
      List<Due> out = new ArrayList<>();
      rows.forEach(r -> out.add(new Due(r.getUUID("id"), r.getBuffer("borrower_key").getBytes())));
      return out;
    });
  }

  static Future<List<Dispute>> turnOverdue(SqlClient tx, List<UUID> ids) {
    return tx.preparedQuery(TURN_OVERDUE).execute(Tuple.of((Object) ids.toArray(UUID[]::new)))
      .map(DisputeRepository::all);
  }

  static Future<List<Dispute>> unlogged(SqlClient tx, int limit) {
    return tx.preparedQuery(UNLOGGED).execute(Tuple.of(limit)).map(DisputeRepository::all);
  }

  static Future<Void> markLogged(SqlClient client, List<UUID> ids) {
    return ids.isEmpty() ? Future.succeededFuture()
      : client.preparedQuery(MARK_LOGGED).execute(Tuple.of((Object) ids.toArray(UUID[]::new))).mapEmpty();
  }

  private static java.time.OffsetDateTime utc(Instant t) {
    return t == null ? null : t.atOffset(ZoneOffset.UTC);
  }

  private static Dispute first(RowSet<Row> rows) {
    return rows.size() == 0 ? null : Dispute.fromRow(rows.iterator().next());
  }

  private static List<Dispute> all(RowSet<Row> rows) {
    List<Dispute> out = new ArrayList<>(rows.size());
    rows.forEach(r -> out.add(Dispute.fromRow(r)));
    return out;
  }
}
