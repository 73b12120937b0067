package io.openbureau.compliance;

import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.json.JsonObject;

/**
 * The filters of the compliance access-log reads. A person appears only as their borrower key:
 * the {@code nationalId} of the request is hashed on the way in and goes no further.
 */
public record AccessLogFilter(String lenderId, byte[] borrowerKey, String decision, String purpose, String action,
                              TimeRange range) {

  /** What was asked, for the access-log row that records the read (no raw national id). */
  public JsonObject toJson() {
    return new JsonObject().put("lenderId", lenderId)
      .put("borrowerKey", borrowerKey == null ? null : BorrowerKeys.hex(borrowerKey))
      .put("decision", decision).put("purpose", purpose).put("action", action)
      .put("from", range.from().toString()).put("to", range.to().toString()).put("capped", range.capped());
  }
}
