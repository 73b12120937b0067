package io.openbureau.consent;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * One consent row. {@code status} is what the API shows: ACTIVE, REVOKED, or EXPIRED (derived from
 * {@code expires_at} at read time; only ACTIVE and REVOKED are stored).
 */
public record Consent(UUID id, String lenderId, String purpose, String scope, String status, Instant grantedAt,
                      Instant expiresAt, Instant revokedAt, String revokedBy, String receipt) {

  public static final String ACTIVE = "ACTIVE";
  public static final String REVOKED = "REVOKED";
  public static final String EXPIRED = "EXPIRED";

  static Consent fromRow(Row row) {
    return new Consent(row.getUUID("id"), row.getString("lender_id"), row.getString("purpose"),
      row.getString("scope"), row.getString("shown_status"), instant(row.getOffsetDateTime("granted_at")),
      instant(row.getOffsetDateTime("expires_at")), instant(row.getOffsetDateTime("revoked_at")),
      row.getString("revoked_by"), row.getString("receipt"));
  }

  private static Instant instant(OffsetDateTime t) {
    return t == null ? null : t.toInstant();
  }

  public JsonObject toJson() {
    return new JsonObject().put("consentId", id.toString()).put("lenderId", lenderId).put("purpose", purpose)
      .put("scope", scope).put("status", status).put("grantedAt", ts(grantedAt)).put("expiresAt", ts(expiresAt))
      .put("revokedAt", ts(revokedAt)).put("revokedBy", revokedBy).put("receipt", receipt);
  }

  public JsonObject revocationJson() {
    return new JsonObject().put("consentId", id.toString()).put("status", REVOKED).put("revokedAt", ts(revokedAt));
  }

  static String ts(Instant t) {
    return t == null ? null : t.toString();
  }
}
