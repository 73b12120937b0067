package io.openbureau.audit;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.Reader;
import io.vertx.core.json.JsonObject;

/** The {@code audit:} section of the configuration. */
public record AuditSettings(int maxBatchRows, int commitTimeoutMillis, int idBlockSize, int maxQueuedRows) {

  public static AuditSettings from(BureauConfig config) {
    Reader r = new Reader(new JsonObject().put("audit", config.section("audit")));
    AuditSettings s = new AuditSettings(
      r.intIn("audit.maxBatchRows", 500, 1, 10_000),
      r.intIn("audit.commitTimeoutMillis", 2000, 50, 60_000),
      r.intIn("audit.idBlockSize", 1000, 10, 100_000),
      // rows waiting for a commit, per writer; beyond, appends are refused with 503 at once
      r.intIn("audit.maxQueuedRows", 10_000, 1, 1_000_000));
    r.throwIfProblems();
    return s;
  }
}
