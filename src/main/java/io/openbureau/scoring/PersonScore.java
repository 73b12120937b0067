package io.openbureau.scoring;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.time.Instant;

/**
 * A person's current score and aggregates, as stored in Postgres and cached in Redis. {@code value}
 * is null for a thin file (no tradelines): no made-up score.
 */
public record PersonScore(Integer value, String band, JsonArray reasons, String modelVersion, Instant asOf,
                          int activeLoans, BigDecimal outstandingBalance, int maxCurrentDpd, long version) {

  public JsonObject toCacheJson() {
    return new JsonObject().put("value", value).put("band", band).put("reasons", reasons)
      .put("modelVersion", modelVersion).put("asOf", asOf.toString()).put("activeLoans", activeLoans)
      .put("outstandingBalance", outstandingBalance.toPlainString()).put("maxCurrentDpd", maxCurrentDpd);
  }

  public static PersonScore fromCacheJson(String payload, long version) {
    JsonObject j = new JsonObject(payload);
    return new PersonScore(j.getInteger("value"), j.getString("band"), j.getJsonArray("reasons", new JsonArray()),
      j.getString("modelVersion"), Instant.parse(j.getString("asOf")), j.getInteger("activeLoans", 0),
      new BigDecimal(j.getString("outstandingBalance", "0")), j.getInteger("maxCurrentDpd", 0), version);
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
