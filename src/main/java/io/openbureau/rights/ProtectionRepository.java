package io.openbureau.rights;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;

/** The SQL of freezes and fraud alerts (table {@code protections}, V14). */
final class ProtectionRepository {
  private static final String COLUMNS = "frozen_since, lifted_until, fraud_since, fraud_until, version";
  static final String FIND = "SELECT " + COLUMNS + " FROM protections WHERE borrower_key = $1";
  /** Freeze: a frozen file keeps its since; any lift ends. */
  static final String FREEZE = """
    INSERT INTO protections AS p (borrower_key, key_id, frozen_since, version, updated_at)
    VALUES ($1, $2, $3, nextval('protection_version_seq'), $3)
    ON CONFLICT (borrower_key) DO UPDATE SET frozen_since = coalesce(p.frozen_since, EXCLUDED.frozen_since),
      lifted_until = NULL, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
    RETURNING""" + " " + COLUMNS;
  /** Lift: for good ($3 null: the freeze ends) or until $3 (the freeze stays, paused). */
  static final String LIFT = """
    UPDATE protections SET frozen_since = CASE WHEN $3::timestamptz IS NULL THEN NULL ELSE frozen_since END,
      lifted_until = $3, version = nextval('protection_version_seq'), updated_at = $2
    WHERE borrower_key = $1 AND frozen_since IS NOT NULL
    RETURNING""" + " " + COLUMNS;
  static final String FRAUD_ALERT = """
    INSERT INTO protections AS p (borrower_key, key_id, fraud_since, fraud_until, version, updated_at)
    VALUES ($1, $2, $3, $4, nextval('protection_version_seq'), $3)
    ON CONFLICT (borrower_key) DO UPDATE SET fraud_since = EXCLUDED.fraud_since, fraud_until = EXCLUDED.fraud_until,
      version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
    RETURNING""" + " " + COLUMNS;
  static final String END_FRAUD_ALERT = """
    UPDATE protections SET fraud_since = NULL, fraud_until = NULL, version = nextval('protection_version_seq'),
      updated_at = $2
    WHERE borrower_key = $1 AND fraud_until IS NOT NULL
    RETURNING""" + " " + COLUMNS;
  static final String UNPUBLISHED = """
    SELECT borrower_key, version FROM protections WHERE published_version < version LIMIT $1""";
  /** The cache holds the person's protections at version $2: done up to it; tell every instance. */
  static final String MARK_PUBLISHED = """
    WITH done AS (
      UPDATE protections SET published_version = $2 WHERE borrower_key = $1 AND published_version < $2 RETURNING 1)
    SELECT pg_notify($3, $4) FROM done""";
  static final String NOTIFY = "SELECT pg_notify($1, $2)";

  private final Pool pool;

  ProtectionRepository(Pool pool) {
    this.pool = pool;
  }

  Pool pool() {
    return pool;
  }

  static Future<Protections> find(SqlClient client, byte[] key) {
    return client.preparedQuery(FIND).execute(Tuple.of(Buffer.buffer(key))).map(ProtectionRepository::first);
  }

  Future<Protections> find(byte[] key) {
    return find(pool, key);
  }

  static Future<Protections> freeze(SqlClient tx, byte[] key, String keyId, Instant now) {
    return tx.preparedQuery(FREEZE).execute(Tuple.of(Buffer.buffer(key), keyId, now.atOffset(ZoneOffset.UTC)))
      .map(ProtectionRepository::first);
  }

  /** Null when there was no freeze to lift. */
  static Future<Protections> lift(SqlClient tx, byte[] key, Instant now, Instant until) {
    return tx.preparedQuery(LIFT).execute(Tuple.of(Buffer.buffer(key), now.atOffset(ZoneOffset.UTC),
      until == null ? null : until.atOffset(ZoneOffset.UTC))).map(ProtectionRepository::first);
  }

  static Future<Protections> fraudAlert(SqlClient tx, byte[] key, String keyId, Instant now, Instant until) {
    return tx.preparedQuery(FRAUD_ALERT).execute(Tuple.of(Buffer.buffer(key), keyId, now.atOffset(ZoneOffset.UTC),
      until.atOffset(ZoneOffset.UTC))).map(ProtectionRepository::first);
  }

  /** Null when there was no alert to end. */
  static Future<Protections> endFraudAlert(SqlClient tx, byte[] key, Instant now) {
    return tx.preparedQuery(END_FRAUD_ALERT).execute(Tuple.of(Buffer.buffer(key), now.atOffset(ZoneOffset.UTC)))
      .map(ProtectionRepository::first);
  }

  static Future<Void> notify(SqlClient tx, String channel, String payload) {
    return tx.preparedQuery(NOTIFY).execute(Tuple.of(channel, payload)).mapEmpty();
  }

  Future<Map<byte[], Long>> unpublished(int limit) {
    return pool.preparedQuery(UNPUBLISHED).execute(Tuple.of(limit)).map(rows -> {
      Map<byte[], Long> out = new LinkedHashMap<>();
      rows.forEach(r -> out.put(r.getBuffer("borrower_key").getBytes(), r.getLong("version")));
      return out;
    });
  }

  Future<Void> markPublished(byte[] key, long version, String channel, String payload) {
    return pool.preparedQuery(MARK_PUBLISHED).execute(Tuple.of(Buffer.buffer(key), version, channel, payload))
      .mapEmpty();
  }

  private static Protections first(RowSet<Row> rows) {
    var it = rows.iterator();
    return it.hasNext() ? Protections.fromRow(it.next()) : null;
  }
}
