package io.openbureau.scoring;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;

/**
 * A person's current score and aggregates, as stored in Postgres and cached in Redis. {@code value}
 * is null for a thin file (no tradelines): no made-up score. {@code relationships}: the sorted ids of
 * the lenders holding a tradeline of this person that is OPEN, or not OPEN with a balance above zero
 * (an existing credit relationship: ACCOUNT_REVIEW needs no consent for them, see inquiry.lua).
 */
public record PersonScore(Integer value, String band, JsonArray reasons, String modelVersion, Instant asOf,
                          int activeLoans, BigDecimal outstandingBalance, int maxCurrentDpd, long version,
                          List<String> relationships) {

  public PersonScore {
    relationships = relationships == null ? List.of() : List.copyOf(relationships);
  }

  /** Without relationships. */
  public PersonScore(Integer value, String band, JsonArray reasons, String modelVersion, Instant asOf,
                     int activeLoans, BigDecimal outstandingBalance, int maxCurrentDpd, long version) {
    this(value, band, reasons, modelVersion, asOf, activeLoans, outstandingBalance, maxCurrentDpd, version, List.of());
  }

  public PersonScore withRelationships(List<String> lenders) {
    return new PersonScore(value, band, reasons, modelVersion, asOf, activeLoans, outstandingBalance, maxCurrentDpd,
      version, lenders);
  }

  public PersonScore withVersion(long v) {
    return new PersonScore(value, band, reasons, modelVersion, asOf, activeLoans, outstandingBalance, maxCurrentDpd,
      v, relationships);
  }

  public JsonObject toCacheJson() {
    return new JsonObject().put("value", value).put("band", band).put("reasons", reasons)
      .put("modelVersion", modelVersion).put("asOf", asOf.toString()).put("activeLoans", activeLoans)
      .put("outstandingBalance", outstandingBalance.toPlainString()).put("maxCurrentDpd", maxCurrentDpd)
      .put("relationships", new JsonArray(relationships));
  }

  public static PersonScore fromCacheJson(String payload, long version) {
    JsonObject j = new JsonObject(payload);
    return new PersonScore(j.getInteger("value"), j.getString("band"), j.getJsonArray("reasons", new JsonArray()),
      j.getString("modelVersion"), Instant.parse(j.getString("asOf")), j.getInteger("activeLoans", 0),
      new BigDecimal(j.getString("outstandingBalance", "0")), j.getInteger("maxCurrentDpd", 0), version,
      relationships(j.getJsonArray("relationships")));
  }

  private static List<String> relationships(JsonArray a) {
    if (a == null || a.isEmpty()) {
      return List.of();
    }
    List<String> out = new java.util.ArrayList<>(a.size());
    a.forEach(x -> out.add(String.valueOf(x)));
    return out;
  }

  /** The API's {@code score} object, or null for a thin file. */
  public JsonObject toApiJson() {
    if (value == null) {
      return null;
    }
    return new JsonObject().put("value", value).put("band", band).put("reasons", reasons)
      .put("modelVersion", modelVersion).put("asOf", asOf.toString());
  }

  public static PersonScore empty(String modelVersion) {
    return new PersonScore(null, null, new JsonArray(), modelVersion, Instant.EPOCH, 0, BigDecimal.ZERO, 0, 0);
  }
}
