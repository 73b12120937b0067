package io.openbureau.compliance;

import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.json.JsonObject;

/**
 * The filters of the compliance access-log reads. A person appears only as their borrower key:
 * the {@code nationalId} of the request is hashed on the way in and goes no further.
 */
public record AccessLogFilter(String lenderId, byte[] borrowerKey, String decision, String purpose, String action,
                              String inquiryType, TimeRange range) {

  /** The purposes of an inquiry type (HARD: origination, card, guarantor; SOFT: account review). */
  public java.util.List<String> typePurposes() {
    return inquiryType == null ? null : io.openbureau.inquiry.Purposes.ALL.stream()
      .filter(p -> inquiryType.equals(io.openbureau.inquiry.Purposes.type(p))).sorted().toList();
  }

  /** What was asked, for the access-log row that records the read (no raw national id). */
  public JsonObject toJson() {
    return new JsonObject().put("lenderId", lenderId)
      .put("borrowerKey", borrowerKey == null ? null : BorrowerKeys.hex(borrowerKey))
      .put("decision", decision).put("purpose", purpose).put("action", action).put("inquiryType", inquiryType)
      .put("from", range.from().toString()).put("to", range.to().toString()).put("capped", range.capped());
  }
}
