package io.openbureau.compliance;

import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The SQL of the compliance feature over {@code access_log}. Filtered reads are built from fixed
 * fragments with {@code $n} parameters (one prepared statement per combination of filters), so
 * each combination gets a plan that uses its index: (borrower_key, at, id), (lender_id, at, id)
 * or (at, id). Never a value in the SQL text.
 */
public final class AccessLogRepository {
  static final String COLUMNS = "id, at, action, lender_id, borrower_key, purpose, scope, decision, reason, consent_id,"
    + " request_id";
  static final String MEMBER_EXISTS = "SELECT 1 FROM members WHERE id = $1";
  static final String MY_ENTRIES = "SELECT id, at, action, actor_role, lender_id, purpose, scope, decision"
    + " FROM access_log WHERE borrower_key = $1";
  static final String MY_KEYSET = " AND (at, id) < ($2, $3)";

  static final String OVER_BORROWING = """
    SELECT borrower_key, count(DISTINCT lender_id) AS lenders, count(*) AS inquiries, min(at) AS first_at,
           max(at) AS last_at, array_agg(DISTINCT lender_id) AS lender_ids,
           (array_agg(id ORDER BY at DESC, id DESC))[1:$4::int] AS sample_ids
    FROM access_log
    WHERE at >= $1 AND at < $2 AND action = 'INQUIRY' AND decision = 'GRANTED'
      AND borrower_key IS NOT NULL AND lender_id IS NOT NULL
    GROUP BY borrower_key
    HAVING count(DISTINCT lender_id) >= $3
    ORDER BY lenders DESC, inquiries DESC, borrower_key
    LIMIT $5""";

  /** Consent-related denials: what a member fishing without consent gets. */
  static final String FISHING = """
    SELECT lender_id, count(*) AS inquiries, count(*) FILTER (WHERE decision = 'DENIED') AS denied,
           count(DISTINCT borrower_key) FILTER (WHERE decision = 'DENIED'
             AND reason IN ('no_consent', 'expired', 'scope', 'revoked')) AS people_without_consent,
           min(at) AS first_at, max(at) AS last_at,
           (array_agg(id ORDER BY at DESC, id DESC) FILTER (WHERE decision = 'DENIED'))[1:$6::int] AS sample_ids,
           (array_agg(DISTINCT encode(borrower_key, 'hex')) FILTER (WHERE decision = 'DENIED'
             AND borrower_key IS NOT NULL))[1:$6::int] AS sample_borrower_keys
    FROM access_log
    WHERE at >= $1 AND at < $2 AND action = 'INQUIRY' AND lender_id IS NOT NULL
    GROUP BY lender_id
    HAVING count(*) FILTER (WHERE decision = 'DENIED') >= $3
        OR (count(*) >= $4 AND count(*) FILTER (WHERE decision = 'DENIED') >= $5::float8 * count(*))
        OR count(DISTINCT borrower_key) FILTER (WHERE decision = 'DENIED'
             AND reason IN ('no_consent', 'expired', 'scope', 'revoked')) >= $7
    ORDER BY denied DESC, lender_id
    LIMIT $8""";

  private final Pool pool;

  public AccessLogRepository(Pool pool) {
    this.pool = pool;
  }

  public Pool pool() {
    return pool;
  }

  /** A statement and its parameters. */
  record Query(String sql, Tuple params) {
  }

  /** Newest first, {@code (at, id)} below the keyset position when given, at most {@code limit} rows (0: all). */
  static Query filtered(AccessLogFilter f, Instant afterAt, Long afterId, int limit) {
    StringBuilder sql = new StringBuilder("SELECT ").append(COLUMNS).append(" FROM access_log WHERE at >= $1 AND at < $2");
    Tuple params = Tuple.of(utc(f.range().from()), utc(f.range().to()));
    if (f.lenderId() != null) {
      params.addString(f.lenderId());
      sql.append(" AND lender_id = $").append(params.size());
    }
    if (f.borrowerKey() != null) {
      params.addBuffer(Buffer.buffer(f.borrowerKey()));
      sql.append(" AND borrower_key = $").append(params.size());
    }
    if (f.decision() != null) {
      params.addString(f.decision());
      sql.append(" AND decision = $").append(params.size());
    }
    if (f.purpose() != null) {
      params.addString(f.purpose());
      sql.append(" AND purpose = $").append(params.size());
    }
    if (f.action() != null) {
      params.addString(f.action());
      sql.append(" AND action = $").append(params.size());
    }
    if (f.inquiryType() != null) {
      params.addArrayOfString(f.typePurposes().toArray(String[]::new));
      sql.append(" AND purpose = ANY($").append(params.size()).append(")");
    }
    if (afterAt != null) {
      params.addOffsetDateTime(utc(afterAt)).addLong(afterId);
      sql.append(" AND (at, id) < ($").append(params.size() - 1).append(", $").append(params.size()).append(")");
    }
    sql.append(" ORDER BY at DESC, id DESC");
    if (limit > 0) {
      params.addInteger(limit);
      sql.append(" LIMIT $").append(params.size());
    }
    return new Query(sql.toString(), params);
  }

  Future<List<Row>> list(AccessLogFilter f, Instant afterAt, Long afterId, int limit) {
    Query q = filtered(f, afterAt, afterId, limit);
    return pool.preparedQuery(q.sql()).execute(q.params()).map(rows -> {
      List<Row> out = new ArrayList<>(rows.size());
      rows.forEach(out::add);
      return out;
    });
  }

  Future<Boolean> memberExists(String id) {
    return pool.preparedQuery(MEMBER_EXISTS).execute(Tuple.of(id)).map(rows -> rows.size() > 0);
  }

  /** Every entry about one person, newest first (their "who looked at me"). */
  Future<List<Row>> aboutPerson(byte[] borrowerKey, Instant afterAt, Long afterId, int limit) {
    Tuple params = Tuple.of(Buffer.buffer(borrowerKey));
    String sql = MY_ENTRIES;
    if (afterAt != null) {
      params.addOffsetDateTime(utc(afterAt)).addLong(afterId);
      sql += MY_KEYSET;
    }
    params.addInteger(limit);
    sql += " ORDER BY at DESC, id DESC LIMIT $" + params.size();
    return pool.preparedQuery(sql).execute(params).map(rows -> {
      List<Row> out = new ArrayList<>(rows.size());
      rows.forEach(out::add);
      return out;
    });
  }

  Future<JsonArray> overBorrowing(TimeRange range, ComplianceSettings.Alerts a) {
    Tuple params = Tuple.of(utc(range.from()), utc(range.to()), a.overBorrowingLenders(), a.sampleSize(), a.maxAlerts());
    return pool.preparedQuery(OVER_BORROWING).execute(params).map(rows -> {
      JsonArray out = new JsonArray();
      for (Row r : rows) {
        out.add(new JsonObject().put("type", "OVER_BORROWING")
          .put("borrowerKey", BorrowerKeys.hex(r.getBuffer("borrower_key").getBytes()))
          .put("distinctLenders", r.getLong("lenders")).put("grantedInquiries", r.getLong("inquiries"))
          .put("lenderIds", sortedStrings(r.getArrayOfStrings("lender_ids")))
          .put("firstAt", instant(r, "first_at")).put("lastAt", instant(r, "last_at"))
          .put("window", range.toJson())
          .put("sampleIds", ids(r.getArrayOfLongs("sample_ids"))));
      }
      return out;
    });
  }

  Future<JsonArray> fishing(TimeRange range, ComplianceSettings.Alerts a) {
    Tuple params = Tuple.of(utc(range.from()), utc(range.to()), a.fishingDeniedCount(), a.fishingMinInquiries(),
      a.fishingDeniedShare(), a.sampleSize(), a.fishingPeopleWithoutConsent(), a.maxAlerts());
    return pool.preparedQuery(FISHING).execute(params).map(rows -> {
      JsonArray out = new JsonArray();
      for (Row r : rows) {
        long total = r.getLong("inquiries");
        long denied = r.getLong("denied");
        long people = r.getLong("people_without_consent");
        double share = total == 0 ? 0 : (double) denied / total;
        JsonArray triggers = new JsonArray();
        if (denied >= a.fishingDeniedCount()) {
          triggers.add("DENIED_COUNT");
        }
        if (total >= a.fishingMinInquiries() && share >= a.fishingDeniedShare()) {
          triggers.add("DENIED_SHARE");
        }
        if (people >= a.fishingPeopleWithoutConsent()) {
          triggers.add("PEOPLE_WITHOUT_CONSENT");
        }
        String[] keys = r.getArrayOfStrings("sample_borrower_keys");
        out.add(new JsonObject().put("type", "SUSPICIOUS_LENDER").put("lenderId", r.getString("lender_id"))
          .put("triggers", triggers).put("inquiries", total).put("denied", denied)
          .put("deniedShare", Math.round(share * 1000) / 1000.0).put("peopleWithoutConsent", people)
          .put("firstAt", instant(r, "first_at")).put("lastAt", instant(r, "last_at"))
          .put("window", range.toJson())
          .put("sampleIds", ids(r.getArrayOfLongs("sample_ids")))
          .put("sampleBorrowerKeys", keys == null ? new JsonArray() : new JsonArray(List.of((Object[]) keys))));
      }
      return out;
    });
  }

  /** The API's view of one entry. */
  static JsonObject item(Row r) {
    Buffer key = r.getBuffer("borrower_key");
    UUID consent = r.getUUID("consent_id");
    return new JsonObject()
      .put("id", Long.toString(r.getLong("id")))
      .put("at", r.getOffsetDateTime("at").toInstant().toString())
      .put("action", r.getString("action"))
      .put("lenderId", r.getString("lender_id"))
      .put("borrowerKey", key == null ? null : BorrowerKeys.hex(key.getBytes()))
      .put("purpose", r.getString("purpose"))
      .put("scope", r.getString("scope"))
      .put("decision", r.getString("decision"))
      .put("reason", r.getString("reason"))
      .put("consentId", consent == null ? null : consent.toString())
      .put("requestId", r.getString("request_id"));
  }

  private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  /**
   * {@link #item}{@code .toBuffer()} plus a newline, written straight into {@code out}: the same
   * bytes (same keys, order, escaping) without building a JsonObject per row (the export's hot loop).
   */
  static void ndjsonLine(Buffer out, Row r) {
    out.appendString("{\"id\":\"").appendString(Long.toString(r.getLong(0)))
      .appendString("\",\"at\":\"").appendString(r.getOffsetDateTime(1).toInstant().toString())
      .appendString("\",\"action\":");
    jsonString(out, r.getString(2));
    out.appendString(",\"lenderId\":");
    jsonString(out, r.getString(3));
    out.appendString(",\"borrowerKey\":");
    Buffer key = r.getBuffer(4);
    if (key == null) {
      out.appendString("null");
    } else {
      out.appendByte((byte) '"');
      for (int i = 0; i < key.length(); i++) {
        int b = key.getByte(i) & 0xff;
        out.appendByte(HEX[b >>> 4]).appendByte(HEX[b & 15]);
      }
      out.appendByte((byte) '"');
    }
    out.appendString(",\"purpose\":");
    jsonString(out, r.getString(5));
    out.appendString(",\"scope\":");
    jsonString(out, r.getString(6));
    out.appendString(",\"decision\":");
    jsonString(out, r.getString(7));
    out.appendString(",\"reason\":");
    jsonString(out, r.getString(8));
    out.appendString(",\"consentId\":");
    UUID consent = r.getUUID(9);
    if (consent == null) {
      out.appendString("null");
    } else {
      out.appendByte((byte) '"').appendString(consent.toString()).appendByte((byte) '"');
    }
    out.appendString(",\"requestId\":");
    jsonString(out, r.getString(10));
    out.appendString("}\n");
  }

  /** A JSON string as Vert.x (Jackson) writes it; plain ASCII directly, anything else through Jackson. */
  static void jsonString(Buffer out, String s) {
    if (s == null) {
      out.appendString("null");
      return;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
        out.appendString(io.vertx.core.json.Json.encode(s));
        return;
      }
    }
    out.appendByte((byte) '"').appendString(s).appendByte((byte) '"');
  }

  static OffsetDateTime utc(Instant at) {
    return at.atOffset(ZoneOffset.UTC);
  }

  private static String instant(Row r, String column) {
    OffsetDateTime t = r.getOffsetDateTime(column);
    return t == null ? null : t.toInstant().toString();
  }

  private static JsonArray ids(Long[] ids) {
    JsonArray out = new JsonArray();
    if (ids != null) {
      for (Long id : ids) {
        out.add(Long.toString(id));
      }
    }
    return out;
  }

  private static JsonArray sortedStrings(String[] values) {
    List<String> list = values == null ? new ArrayList<>() : new ArrayList<>(List.of(values));
    list.sort(null);
    return new JsonArray(new ArrayList<>(list));
  }
}
