package io.openbureau.notifications;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** All notification SQL: the followers' scans and positions, the inbox, member webhooks, deliveries. */
public final class NotificationRepository {
  static final String ACCESS_LOG = "access_log";
  static final String CONSENT_GRANTED = "consent_granted";
  static final String CONSENT_REVOKED = "consent_revoked";
  static final String CONSENT_EXPIRING = "consent_expiring";
  static final String NEGATIVE_TRADELINE = "negative_tradeline";
  static final String LATE_REPAYMENT = "late_repayment";

  /** The access-log actions a person is told of (reads by the person or by compliance are not). */
  static final String[] ACCESS_LOG_ACTIONS = {"INQUIRY", "FREEZE", "FREEZE_LIFTED", "FRAUD_ALERT_SET",
    "FRAUD_ALERT_ENDED", "DISPUTE_OPENED", "DISPUTE_RESOLVED", "DISPUTE_OVERDUE"};

  // ---- follower positions: the row is locked for the whole pass (one follower per source at a time)

  static final String LOCK_CURSOR = """
    SELECT safe_pos, safe_at, mark_pos, mark_xmax, clock_timestamp() AS now,
      pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin,
      pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax
    FROM notification_cursors WHERE source = $1 FOR UPDATE SKIP LOCKED""";
  static final String SAVE_CURSOR = """
    UPDATE notification_cursors SET safe_pos = $2, safe_at = $3, mark_pos = $4, mark_xmax = $5, updated_at = now()
    WHERE source = $1""";

  // ---- the sources. Each scan selects only rows that make a notification, and not yet made:
  // a re-read costs a probe of the unique index, never a duplicate (the access log is read once: see below)

  // the access log, by (at, id) after the cursor and up to the settled horizon ($3): every row at or
  // before it is committed or never will be, so each row is read once, no re-read, no NOT EXISTS
  static final String SCAN_ACCESS_LOG = """
    SELECT a.id, a.at, a.action, a.lender_id, a.borrower_key, a.purpose, a.scope, a.decision, a.reason, a.details
    FROM access_log a
    WHERE a.at >= $1 AND (a.at > $1 OR a.id > $2) AND a.at <= $3
      AND a.action = ANY($4) AND a.borrower_key IS NOT NULL AND a.decision IN ('GRANTED', 'DENIED')
    ORDER BY a.at, a.id LIMIT $5""";
  static final String SCAN_CONSENT_GRANTED = """
    SELECT c.granted_seq AS seq, c.id, c.borrower_key, c.lender_id, c.purpose, c.scope, c.granted_at AS at, c.expires_at
    FROM consents c
    WHERE c.granted_seq > $1
      AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.source = 'consent_granted' AND n.source_id = c.granted_seq)
    ORDER BY c.granted_seq LIMIT $2""";
  static final String MAX_CONSENT_GRANTED = "SELECT coalesce(max(granted_seq), 0) FROM consents";
  // a consent superseded by a new grant of the same lender and purpose is told as that grant
  static final String SCAN_CONSENT_REVOKED = """
    SELECT c.version AS seq, c.id, c.borrower_key, c.lender_id, c.purpose, c.scope, c.revoked_at AS at, c.expires_at
    FROM consents c
    WHERE c.status = 'REVOKED' AND c.version > $1 AND c.revoked_by IS DISTINCT FROM 'superseded'
      AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.source = 'consent_revoked' AND n.source_id = c.version)
    ORDER BY c.version LIMIT $2""";
  static final String MAX_CONSENT_REVOKED = "SELECT coalesce(max(version), 0) FROM consents WHERE status = 'REVOKED'";
  static final String SCAN_NEGATIVE_TRADELINE = """
    SELECT t.negative_seq AS seq, t.member_id, t.account_ref, t.borrower_key, t.status, t.updated_at AS at
    FROM tradelines t
    WHERE t.negative_seq > $1
      AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.source = 'negative_tradeline' AND n.source_id = t.negative_seq)
    ORDER BY t.negative_seq LIMIT $2""";
  static final String MAX_NEGATIVE_TRADELINE = "SELECT coalesce(max(negative_seq), 0) FROM tradelines";
  static final String SCAN_LATE_REPAYMENT = """
    SELECT r.late_seq AS seq, r.member_id, r.account_ref, r.period, r.days_past_due, r.reported_at AS at, t.borrower_key
    FROM repayments r JOIN tradelines t ON t.member_id = r.member_id AND t.account_ref = r.account_ref
    WHERE r.late_seq > $1
      AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.source = 'late_repayment' AND n.source_id = r.late_seq)
    ORDER BY r.late_seq LIMIT $2""";
  static final String MAX_LATE_REPAYMENT = "SELECT coalesce(max(late_seq), 0) FROM repayments";
  // no cursor: the unique (source, version) key tells each ACTIVE consent version once
  static final String SCAN_EXPIRING = """
    SELECT c.version AS seq, c.id, c.borrower_key, c.lender_id, c.purpose, c.scope, c.expires_at
    FROM consents c
    WHERE c.status = 'ACTIVE' AND c.expires_at > now() AND c.expires_at <= now() + make_interval(days => $1)
      AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.source = 'consent_expiring' AND n.source_id = c.version)
    ORDER BY c.expires_at LIMIT $2""";

  // ---- storing what was derived, and its deliveries, in the follower's transaction

  // one statement: the notifications, and the deliveries of those that are new (a body is built with
  // an empty id, "{\"id\":\"\",...", and gets the notification's id here), counted
  static final String INSERT = """
    WITH n AS (
      INSERT INTO notifications (borrower_key, kind, at, message, lender_id, details, source, source_id)
      SELECT u.k, u.kind, u.at, u.msg, u.lender, u.det::jsonb, u.src, u.sid
      FROM unnest($1::bytea[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::bigint[]) AS u(k, kind, at, msg, lender, det, src, sid)
      ON CONFLICT (source, source_id) DO NOTHING
      RETURNING id, source, source_id),
    d AS (
      INSERT INTO webhook_deliveries (member_id, notification_id, ordering_key, body)
      SELECT u.member_id, n.id, u.ordering_key, '{"id":"' || n.id::text || substr(u.body, 8)
      FROM unnest($9::text[], $10::bigint[], $11::text[], $12::text[], $13::text[])
        AS u(src, sid, member_id, ordering_key, body)
      JOIN n ON n.source = u.src AND n.source_id = u.sid
      WHERE u.member_id IS NULL
        OR EXISTS (SELECT 1 FROM member_webhooks w WHERE w.member_id = u.member_id AND w.deleted_at IS NULL)
      ON CONFLICT DO NOTHING
      RETURNING 1)
    SELECT (SELECT count(*) FROM n) AS fresh, (SELECT count(*) FROM d) AS deliveries""";
  /** What every body starts with before its id is put in (see INSERT). */
  static final String EMPTY_ID_PREFIX = "{\"id\":\"\"";

  // ---- the inbox

  static final String INBOX = """
    SELECT id, at, kind, message, lender_id, details FROM notifications
    WHERE borrower_key = $1 AND ($2::bigint IS NULL OR id < $2)
    ORDER BY id DESC LIMIT $3""";

  // ---- member webhooks

  static final String PUT_WEBHOOK = """
    INSERT INTO member_webhooks (member_id, url, secret) VALUES ($1, $2, $3)
    ON CONFLICT (member_id) DO UPDATE SET url = EXCLUDED.url, secret = EXCLUDED.secret, deleted_at = NULL,
      updated_at = now()
    RETURNING url, updated_at""";
  static final String GET_WEBHOOK = "SELECT url, updated_at FROM member_webhooks WHERE member_id = $1 AND deleted_at IS NULL";
  static final String DELETE_WEBHOOK = """
    UPDATE member_webhooks SET url = '', secret = '', deleted_at = now(), updated_at = now()
    WHERE member_id = $1 AND deleted_at IS NULL RETURNING member_id""";

  // ---- deliveries: taken under a lease, one sender at a time; one person's (one member's) in order

  static final String CLAIM = """
    UPDATE webhook_deliveries d SET lease_until = now() + make_interval(secs => $2::double precision / 1000),
      lease_owner = $3, attempts = d.attempts + 1
    WHERE d.id IN (
      SELECT x.id FROM webhook_deliveries x
      WHERE x.delivered_at IS NULL AND x.dropped_at IS NULL AND x.next_attempt_at <= now()
        AND (x.lease_until IS NULL OR x.lease_until < now())
        AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
          WHERE coalesce(e.member_id, '') = coalesce(x.member_id, '') AND e.ordering_key = x.ordering_key
            AND e.id < x.id AND e.delivered_at IS NULL AND e.dropped_at IS NULL)
      ORDER BY x.next_attempt_at, x.id LIMIT $1
      FOR UPDATE SKIP LOCKED)
    RETURNING d.id, d.member_id, d.body, d.attempts,
      (SELECT w.url FROM member_webhooks w WHERE w.member_id = d.member_id AND w.deleted_at IS NULL) AS url,
      (SELECT w.secret FROM member_webhooks w WHERE w.member_id = d.member_id AND w.deleted_at IS NULL) AS secret""";
  static final String DELIVERED = """
    UPDATE webhook_deliveries SET delivered_at = now(), lease_until = NULL, last_error = NULL
    WHERE id = $1 AND lease_owner = $2 AND delivered_at IS NULL""";
  static final String FAILED = """
    UPDATE webhook_deliveries SET lease_until = NULL, last_error = $3,
      next_attempt_at = now() + make_interval(secs => $4::double precision / 1000)
    WHERE id = $1 AND lease_owner = $2 AND delivered_at IS NULL""";
  static final String DROPPED = """
    UPDATE webhook_deliveries SET dropped_at = now(), lease_until = NULL, last_error = 'member webhook removed'
    WHERE id = $1 AND lease_owner = $2""";
  // index-only over the partial "due" index; the oldest by its id (ids are drawn in creation order)
  static final String BACKLOG = """
    WITH p AS (SELECT count(*) AS pending, min(id) AS first FROM webhook_deliveries
      WHERE delivered_at IS NULL AND dropped_at IS NULL)
    SELECT p.pending, coalesce((SELECT extract(epoch FROM now() - w.created_at) FROM webhook_deliveries w
      WHERE w.id = p.first), 0)::float8 AS oldest FROM p""";

  private NotificationRepository() {
  }

  /** A follower's durable position and this pass' snapshot horizon (xmin, xmax as 64-bit xids). */
  record Cursor(long safePos, Instant safeAt, Long markPos, Long markXmax, long xmin, long xmax, Instant now) {
  }

  static Future<Cursor> lock(SqlClient tx, String source) {
    return tx.preparedQuery(LOCK_CURSOR).execute(Tuple.of(source)).map(rows -> {
      if (rows.size() == 0) {
        return null; // another instance follows this source right now
      }
      Row r = rows.iterator().next();
      return new Cursor(r.getLong("safe_pos"), Messages.instant(r.getOffsetDateTime("safe_at")), r.getLong("mark_pos"),
        r.getLong("mark_xmax"), r.getLong("xmin"), r.getLong("xmax"),
        Messages.instant(r.getOffsetDateTime("now")));
    });
  }

  static Future<Void> save(SqlClient tx, String source, long safePos, Instant safeAt, Long markPos, Long markXmax) {
    return tx.preparedQuery(SAVE_CURSOR).execute(Tuple.of(source, safePos,
      safeAt == null ? null : safeAt.atOffset(ZoneOffset.UTC), markPos, markXmax)).mapEmpty();
  }

  static Future<RowSet<Row>> scan(SqlClient tx, String sql, Tuple args) {
    return tx.preparedQuery(sql).execute(args);
  }

  static Future<Long> max(SqlClient tx, String sql) {
    return tx.query(sql).execute().map(rows -> rows.iterator().next().getLong(0));
  }

  static Tuple accessLogArgs(Instant afterAt, long afterId, Instant horizon, int limit) {
    return Tuple.of(afterAt.atOffset(ZoneOffset.UTC), afterId, horizon.atOffset(ZoneOffset.UTC), ACCESS_LOG_ACTIONS,
      limit);
  }

  /**
   * Stores what is not stored yet and the deliveries of what is new: the gateway's (when
   * {@code gateway}) and the member's (when it has a webhook). Answers how many were new.
   */
  static Future<Integer> store(SqlClient tx, List<Derived> derived, boolean gateway) {
    if (derived.isEmpty()) {
      return Future.succeededFuture(0);
    }
    int n = derived.size();
    Buffer[] keys = new Buffer[n];
    String[] kinds = new String[n];
    OffsetDateTime[] ats = new OffsetDateTime[n];
    String[] messages = new String[n];
    String[] lenders = new String[n];
    String[] details = new String[n];
    String[] sources = new String[n];
    Long[] ids = new Long[n];
    List<String> dSources = new ArrayList<>();
    List<Long> dIds = new ArrayList<>();
    List<String> members = new ArrayList<>();
    List<String> order = new ArrayList<>();
    List<String> bodies = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Derived d = derived.get(i);
      keys[i] = Buffer.buffer(d.borrowerKey());
      kinds[i] = d.kind();
      ats[i] = d.at().atOffset(ZoneOffset.UTC);
      messages[i] = d.message();
      lenders[i] = d.lenderId();
      details[i] = d.details().encode();
      sources[i] = d.source();
      ids[i] = d.sourceId();
      if (gateway) {
        dSources.add(d.source());
        dIds.add(d.sourceId());
        members.add(null);
        order.add(io.openbureau.identity.BorrowerKeys.hex(d.borrowerKey()));
        bodies.add(withEmptyId(d.gatewayBody(null)));
      }
      if (d.memberEvent() != null && d.lenderId() != null) {
        dSources.add(d.source());
        dIds.add(d.sourceId());
        members.add(d.lenderId());
        order.add(d.lenderId());
        bodies.add(withEmptyId(d.memberBody(null)));
      }
    }
    return tx.preparedQuery(INSERT).execute(Tuple.of(keys, kinds, ats, messages, lenders, details, sources, ids,
        dSources.toArray(String[]::new), dIds.toArray(Long[]::new), members.toArray(String[]::new),
        order.toArray(String[]::new), bodies.toArray(String[]::new)))
      .map(rows -> rows.iterator().next().getLong("fresh").intValue());
  }

  private static String withEmptyId(String body) {
    if (!body.startsWith(EMPTY_ID_PREFIX)) {
      throw new IllegalStateException("a body must start with its id");
    }
    return body;
  }

  // ---- the inbox

  static Future<List<JsonObject>> inbox(Pool pool, byte[] key, Long before, int limit) {
    return pool.preparedQuery(INBOX).execute(Tuple.of(Buffer.buffer(key), before, limit)).map(rows -> {
      List<JsonObject> items = new ArrayList<>();
      for (Row r : rows) {
        JsonObject item = new JsonObject().put("id", Long.toString(r.getLong("id")))
          .put("at", r.getOffsetDateTime("at").toInstant().toString()).put("kind", r.getString("kind"))
          .put("message", r.getString("message"));
        if (r.getString("lender_id") != null) {
          item.put("lenderId", r.getString("lender_id"));
        }
        Object details = r.getValue("details");
        items.add(item.put("details", details instanceof JsonObject j ? j : new JsonObject()));
      }
      return items;
    });
  }

  // ---- member webhooks

  static Future<JsonObject> putWebhook(Pool pool, String member, String url, String secret) {
    return pool.preparedQuery(PUT_WEBHOOK).execute(Tuple.of(member, url, secret))
      .map(rows -> webhookJson(rows.iterator().next()));
  }

  static Future<JsonObject> getWebhook(Pool pool, String member) {
    return pool.preparedQuery(GET_WEBHOOK).execute(Tuple.of(member))
      .map(rows -> rows.size() == 0 ? null : webhookJson(rows.iterator().next()));
  }

  static Future<Boolean> deleteWebhook(Pool pool, String member) {
    return pool.preparedQuery(DELETE_WEBHOOK).execute(Tuple.of(member)).map(rows -> rows.rowCount() > 0);
  }

  private static JsonObject webhookJson(Row r) {
    return new JsonObject().put("url", r.getString("url"))
      .put("updatedAt", r.getOffsetDateTime("updated_at").toInstant().toString());
  }

  // ---- deliveries

  /** A taken delivery: the member's url and secret (null for the gateway, or when the member's webhook is gone). */
  record Taken(long id, String memberId, String body, int attempts, String url, String secret) {
  }

  static Future<List<Taken>> claim(Pool pool, int limit, long leaseMillis, UUID owner) {
    return pool.preparedQuery(CLAIM).execute(Tuple.of(limit, leaseMillis, owner)).map(rows -> {
      List<Taken> taken = new ArrayList<>();
      for (Row r : rows) {
        taken.add(new Taken(r.getLong("id"), r.getString("member_id"), r.getString("body"), r.getInteger("attempts"),
          r.getString("url"), r.getString("secret")));
      }
      taken.sort((a, b) -> Long.compare(a.id(), b.id()));
      return taken;
    });
  }

  static Future<Void> delivered(Pool pool, long id, UUID owner) {
    return pool.preparedQuery(DELIVERED).execute(Tuple.of(id, owner)).mapEmpty();
  }

  static Future<Void> failed(Pool pool, long id, UUID owner, String error, long retryInMillis) {
    return pool.preparedQuery(FAILED).execute(Tuple.of(id, owner, error, retryInMillis)).mapEmpty();
  }

  static Future<Void> dropped(Pool pool, long id, UUID owner) {
    return pool.preparedQuery(DROPPED).execute(Tuple.of(id, owner)).mapEmpty();
  }

  /** Undelivered deliveries and the age in seconds of the oldest. */
  static Future<double[]> backlog(Pool pool) {
    return pool.query(BACKLOG).execute().map(rows -> {
      Row r = rows.iterator().next();
      return new double[] {r.getLong("pending"), r.getDouble("oldest")};
    });
  }

}
