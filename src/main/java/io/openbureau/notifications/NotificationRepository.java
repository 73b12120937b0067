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
    SELECT safe_pos, safe_at, mark_pos, mark_xmax,
      pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin,
      pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax
    FROM notification_cursors WHERE source = $1 FOR UPDATE SKIP LOCKED""";
  static final String SAVE_CURSOR = """
    UPDATE notification_cursors SET safe_pos = $2, safe_at = $3, mark_pos = $4, mark_xmax = $5, updated_at = now()
    WHERE source = $1""";

  // ---- the sources. Each scan selects only rows that make a notification, and not yet made:
  // a re-read (after a crash, or of the overlap) costs a probe of the unique index, never a duplicate

  static final String SCAN_ACCESS_LOG = """
    SELECT a.id, a.at, a.action, a.lender_id, a.borrower_key, a.purpose, a.scope, a.decision, a.reason, a.details
    FROM access_log a
    WHERE a.at > $1 AND a.action = ANY($2) AND a.borrower_key IS NOT NULL AND a.decision IN ('GRANTED', 'DENIED')
      AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.source = 'access_log' AND n.source_id = a.id)
    ORDER BY a.at, a.id LIMIT $3""";
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

  static final String INSERT = """
    INSERT INTO notifications (borrower_key, kind, at, message, lender_id, details, source, source_id)
    SELECT u.k, u.kind, u.at, u.msg, u.lender, u.det::jsonb, u.src, u.sid
    FROM unnest($1::bytea[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[],
      $8::bigint[]) AS u(k, kind, at, msg, lender, det, src, sid)
    ON CONFLICT (source, source_id) DO NOTHING
    RETURNING id, source, source_id""";
  // a member's events are only kept while it has a webhook (nothing waits for a member that has none)
  static final String INSERT_DELIVERIES = """
    INSERT INTO webhook_deliveries (member_id, notification_id, ordering_key, body)
    SELECT u.member_id, u.nid, u.ordering_key, u.body
    FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) AS u(member_id, nid, ordering_key, body)
    WHERE u.member_id IS NULL
      OR EXISTS (SELECT 1 FROM member_webhooks w WHERE w.member_id = u.member_id AND w.deleted_at IS NULL)
    ON CONFLICT DO NOTHING""";

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
  static final String BACKLOG = """
    SELECT count(*) AS pending, coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest
    FROM webhook_deliveries WHERE delivered_at IS NULL AND dropped_at IS NULL""";

  private NotificationRepository() {
  }

  /** A follower's durable position and this pass' snapshot horizon (xmin, xmax as 64-bit xids). */
  record Cursor(long safePos, Instant safeAt, Long markPos, Long markXmax, long xmin, long xmax) {
  }

  static Future<Cursor> lock(SqlClient tx, String source) {
    return tx.preparedQuery(LOCK_CURSOR).execute(Tuple.of(source)).map(rows -> {
      if (rows.size() == 0) {
        return null; // another instance follows this source right now
      }
      Row r = rows.iterator().next();
      return new Cursor(r.getLong("safe_pos"), Messages.instant(r.getOffsetDateTime("safe_at")), r.getLong("mark_pos"),
        r.getLong("mark_xmax"), r.getLong("xmin"), r.getLong("xmax"));
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

  static Tuple accessLogArgs(Instant from, int limit) {
    return Tuple.of(from.atOffset(ZoneOffset.UTC), ACCESS_LOG_ACTIONS, limit);
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
    Map<String, Derived> bySource = new HashMap<>();
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
      bySource.put(d.source() + ":" + d.sourceId(), d);
    }
    return tx.preparedQuery(INSERT).execute(Tuple.of(keys, kinds, ats, messages, lenders, details, sources, ids))
      .compose(inserted -> {
        List<String> members = new ArrayList<>();
        List<Long> nids = new ArrayList<>();
        List<String> order = new ArrayList<>();
        List<String> bodies = new ArrayList<>();
        for (Row r : inserted) {
          long nid = r.getLong("id");
          Derived d = bySource.get(r.getString("source") + ":" + r.getLong("source_id"));
          if (gateway) {
            members.add(null);
            nids.add(nid);
            order.add(io.openbureau.identity.BorrowerKeys.hex(d.borrowerKey()));
            bodies.add(d.gatewayBody(nid));
          }
          if (d.memberEvent() != null && d.lenderId() != null) {
            members.add(d.lenderId());
            nids.add(nid);
            order.add(d.lenderId());
            bodies.add(d.memberBody(nid));
          }
        }
        int fresh = inserted.rowCount();
        if (members.isEmpty()) {
          return Future.succeededFuture(fresh);
        }
        return tx.preparedQuery(INSERT_DELIVERIES).execute(Tuple.of(members.toArray(String[]::new),
            nids.toArray(Long[]::new), order.toArray(String[]::new), bodies.toArray(String[]::new)))
          .map(fresh);
      });
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
