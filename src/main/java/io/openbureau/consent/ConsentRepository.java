package io.openbureau.consent;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * All consent SQL. Every change to a consent row takes a fresh {@code consent_version_seq} value,
 * so the version of a (person, lender, purpose) slot, {@code max(version)} of its rows, grows with
 * every committed change; {@link ConsentDecisions} publishes it to the cache.
 */
public final class ConsentRepository {
  private static final String COLUMNS = """
    id, lender_id, purpose, scope, granted_at, expires_at, revoked_at, revoked_by, receipt,
    CASE WHEN status = 'ACTIVE' AND expires_at <= now() THEN 'EXPIRED' ELSE status END AS shown_status""";

  /** Serializes every consent change of one person (grant, supersede, revoke, the count for the limit). */
  static final String LOCK_PERSON = "SELECT pg_advisory_xact_lock($1, $2)";
  static final String LENDER_STATUS = "SELECT status FROM members WHERE id = $1";
  static final String COUNT_ACTIVE_OTHER_SLOTS = """
    SELECT count(*) AS n FROM consents
    WHERE borrower_key = $1 AND status = 'ACTIVE' AND expires_at > $4
      AND NOT (lender_id = $2 AND purpose = $3)""";
  // a new grant for the same lender and purpose supersedes the old one (same transaction)
  static final String SUPERSEDE = """
    UPDATE consents SET status = 'REVOKED', revoked_at = $4, revoked_by = 'superseded',
      revocation_reason = 'superseded by ' || $5, version = nextval('consent_version_seq'), published = false
    WHERE borrower_key = $1 AND lender_id = $2 AND purpose = $3 AND status = 'ACTIVE'""";
  static final String INSERT = """
    INSERT INTO consents (id, borrower_key, key_id, lender_id, purpose, scope, status, granted_at, expires_at,
      receipt, version, published)
    VALUES ($1, $2, $3, $4, $5, $6, 'ACTIVE', $7, $8, $9, nextval('consent_version_seq'), false)
    RETURNING\s""" + COLUMNS;
  static final String FIND_OWN = "SELECT " + COLUMNS + " FROM consents WHERE id = $1 AND borrower_key = $2";
  static final String REVOKE = """
    UPDATE consents SET status = 'REVOKED', revoked_at = now(), revoked_by = $3, revocation_reason = $4,
      version = nextval('consent_version_seq'), published = false
    WHERE id = $1 AND borrower_key = $2 AND status = 'ACTIVE'
    RETURNING\s""" + COLUMNS;
  static final String LIST = "SELECT " + COLUMNS + """
     FROM consents
    WHERE borrower_key = $1 AND ($2::timestamptz IS NULL OR (granted_at, id) < ($2, $3::uuid))
    ORDER BY granted_at DESC, id DESC LIMIT $4""";
  /** One statement, one snapshot: the slot's version and its ACTIVE consent (if any). */
  static final String SLOT = """
    SELECT v.version, c.id, c.scope, c.expires_at
    FROM (SELECT coalesce(max(version), 0) AS version FROM consents
          WHERE borrower_key = $1 AND lender_id = $2 AND purpose = $3) v
    LEFT JOIN consents c ON c.borrower_key = $1 AND c.lender_id = $2 AND c.purpose = $3 AND c.status = 'ACTIVE'""";

  /** The slots still to publish to the cache (V8's partial index), each with its newest unpublished version. */
  static final String UNPUBLISHED = """
    SELECT borrower_key, lender_id, purpose, max(version) AS version FROM consents WHERE NOT published
    GROUP BY borrower_key, lender_id, purpose LIMIT $1""";
  /** The cache holds the slot at version $4: its rows up to it are done; tell every instance. */
  static final String MARK_PUBLISHED = """
    WITH done AS (
      UPDATE consents SET published = true
      WHERE borrower_key = $1 AND lender_id = $2 AND purpose = $3 AND NOT published AND version <= $4
      RETURNING 1)
    SELECT pg_notify($5, $6) FROM (SELECT 1 FROM done LIMIT 1) d""";

  /** Advisory-lock class id for consents ("Cons"). */
  private static final int LOCK_CLASS = 0x436f6e73;

  /** The cached state of one (person, lender, purpose) slot: its version and the ACTIVE consent or null. */
  public record Slot(long version, UUID activeId, String scope, Instant expiresAt) {
  }

  private final Pool pool;

  public ConsentRepository(Pool pool) {
    this.pool = pool;
  }

  public Pool pool() {
    return pool;
  }

  static Future<Void> lockPerson(SqlClient conn, byte[] borrowerKey) {
    int objId = ByteBuffer.wrap(borrowerKey).getInt();
    return conn.preparedQuery(LOCK_PERSON).execute(Tuple.of(LOCK_CLASS, objId)).mapEmpty();
  }

  /** ACTIVE, SUSPENDED or null when the lender is not a member. */
  static Future<String> lenderStatus(SqlClient conn, String lenderId) {
    return conn.preparedQuery(LENDER_STATUS).execute(Tuple.of(lenderId))
      .map(rows -> rows.iterator().hasNext() ? rows.iterator().next().getString("status") : null);
  }

  static Future<Long> countActiveInOtherSlots(SqlClient conn, byte[] key, String lenderId, String purpose, Instant now) {
    return conn.preparedQuery(COUNT_ACTIVE_OTHER_SLOTS).execute(Tuple.of(key, lenderId, purpose, odt(now)))
      .map(rows -> rows.iterator().next().getLong("n"));
  }

  static Future<Integer> supersede(SqlClient conn, byte[] key, String lenderId, String purpose, Instant at, UUID by) {
    return conn.preparedQuery(SUPERSEDE).execute(Tuple.of(key, lenderId, purpose, odt(at), by.toString()))
      .map(RowSet::rowCount);
  }

  static Future<Consent> insert(SqlClient conn, UUID id, byte[] key, String keyId, String lenderId, String purpose,
                                String scope, Instant grantedAt, Instant expiresAt, String receipt) {
    return conn.preparedQuery(INSERT).execute(Tuple.from(new Object[] {id, key, keyId, lenderId, purpose, scope,
        odt(grantedAt), odt(expiresAt), receipt}))
      .map(rows -> Consent.fromRow(rows.iterator().next()));
  }

  /** The person's consent with that id, or null (another person's consent is not found). */
  static Future<Consent> findOwn(SqlClient conn, UUID id, byte[] key) {
    return conn.preparedQuery(FIND_OWN).execute(Tuple.of(id, key)).map(ConsentRepository::first);
  }

  /** The revoked consent, or null when it is not this person's or not ACTIVE (already revoked). */
  static Future<Consent> revoke(SqlClient conn, UUID id, byte[] key, String by, String reason) {
    return conn.preparedQuery(REVOKE).execute(Tuple.of(id, key, by, reason)).map(ConsentRepository::first);
  }

  static Future<Slot> slot(SqlClient conn, byte[] key, String lenderId, String purpose) {
    return conn.preparedQuery(SLOT).execute(Tuple.of(key, lenderId, purpose)).map(rows -> {
      Row r = rows.iterator().next();
      OffsetDateTime exp = r.getOffsetDateTime("expires_at");
      return new Slot(r.getLong("version"), r.getUUID("id"), r.getString("scope"), exp == null ? null : exp.toInstant());
    });
  }

  /** {@code pg_notify(channel, payload)} inside the caller's transaction (delivered at its commit). */
  static Future<Void> notify(SqlClient conn, String channel, String payload) {
    return conn.preparedQuery(io.openbureau.cache.CacheRepair.NOTIFY).execute(Tuple.of(channel, payload)).mapEmpty();
  }

  /** A pending slot: who, and the newest version still to publish. */
  record Unpublished(byte[] borrowerKey, String lenderId, String purpose, long version) {
  }

  Future<List<Unpublished>> unpublished(int limit) {
    return pool.preparedQuery(UNPUBLISHED).execute(Tuple.of(limit)).map(rows -> {
      List<Unpublished> out = new ArrayList<>();
      rows.forEach(r -> out.add(new Unpublished(r.getBuffer("borrower_key").getBytes(), r.getString("lender_id"),
        r.getString("purpose"), r.getLong("version"))));
      return out;
    });
  }

  /** Marks the slot's rows up to {@code version} published, notifying {@code channel} with {@code payload}. */
  Future<Void> markPublished(byte[] key, String lenderId, String purpose, long version, String channel,
                             String payload) {
    return pool.preparedQuery(MARK_PUBLISHED).execute(Tuple.from(new Object[] {key, lenderId, purpose, version,
      channel, payload})).mapEmpty();
  }

  public Future<Slot> slot(byte[] key, String lenderId, String purpose) {
    return slot(pool, key, lenderId, purpose);
  }

  public Future<List<Consent>> list(byte[] key, Instant afterGrantedAt, UUID afterId, int limit) {
    return pool.preparedQuery(LIST).execute(Tuple.of(key, afterGrantedAt == null ? null : odt(afterGrantedAt),
        afterId, limit))
      .map(rows -> {
        List<Consent> out = new ArrayList<>();
        rows.forEach(r -> out.add(Consent.fromRow(r)));
        return out;
      });
  }

  private static Consent first(RowSet<Row> rows) {
    var it = rows.iterator();
    return it.hasNext() ? Consent.fromRow(it.next()) : null;
  }

  static OffsetDateTime odt(Instant t) {
    return t.atOffset(ZoneOffset.UTC);
  }
}
