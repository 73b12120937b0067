package io.openbureau.disputes;

import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.UUID;

/** One dispute as stored (V12); the person only as a borrower key. */
public record Dispute(UUID id, byte[] borrowerKey, String lenderId, String accountRef, String period, String reason,
                      String statement, String status, Instant openedAt, Instant dueBy, String outcome, String note,
                      Instant resolvedAt) {
  public static final String OPEN = "OPEN";
  public static final String OVERDUE = "OVERDUE";
  public static final String RESOLVED = "RESOLVED";
  public static final String CORRECTED = "CORRECTED";
  public static final String DELETED = "DELETED";

  static final String COLUMNS = "id, borrower_key, member_id, account_ref, period, reason, statement, status, "
    + "opened_at, due_by, outcome, note, resolved_at";

  static Dispute fromRow(Row r) {
    return new Dispute(r.getUUID("id"), r.getBuffer("borrower_key").getBytes(), r.getString("member_id"),
      r.getString("account_ref"), r.getString("period"), r.getString("reason"), r.getString("statement"),
      r.getString("status"), instant(r.getOffsetDateTime("opened_at")), instant(r.getOffsetDateTime("due_by")),
      r.getString("outcome"), r.getString("note"), instant(r.getOffsetDateTime("resolved_at")));
  }

  private static Instant instant(OffsetDateTime t) {
    return t == null ? null : t.toInstant();
  }

  /** The person's view (and compliance's): every field of API.md, never the borrower key. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("disputeId", id.toString()).put("status", status).put("lenderId", lenderId)
      .put("accountRef", accountRef).put("period", period).put("reason", reason).put("statement", statement)
      .put("openedAt", openedAt.toString()).put("dueBy", dueBy.toString());
    if (RESOLVED.equals(status)) {
      json.put("outcome", outcome).put("note", note).put("resolvedAt", resolvedAt.toString());
    }
    return json;
  }

  /** The furnisher's view: its own account, so no lender id and nothing that names the person. */
  public JsonObject toFurnisherJson() {
    JsonObject json = toJson();
    json.remove("lenderId");
    if (!json.containsKey("outcome")) {
      json.put("outcome", null);
    }
    return json;
  }

  /** What the access log keeps of an event: which dispute, about what; not the statement. */
  JsonObject auditDetails() {
    JsonObject d = new JsonObject().put("disputeId", id.toString()).put("accountRef", accountRef)
      .put("status", status);
    if (period != null) {
      d.put("period", period);
    }
    if (outcome != null) {
      d.put("outcome", outcome);
    }
    return d;
  }
}
