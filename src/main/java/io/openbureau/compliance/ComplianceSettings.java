package io.openbureau.compliance;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.Reader;
import io.vertx.core.json.JsonObject;

/**
 * The {@code compliance:} section of the configuration: time-range caps of the access-log reads,
 * streaming sizes, checkpoints, retention and the alert thresholds.
 */
public record ComplianceSettings(int defaultRangeDays, int maxRangeDays, int exportFetchRows, int verifyBatchRows,
                                 int verifyParallelism,
                                 int checkpointIntervalSeconds, int retentionMonths, int partitionCheckHours,
                                 Alerts alerts, int checkpointGraceSeconds) {

  /**
   * How long rows no signed checkpoint covers yet may stay so: a live writer signs its head every
   * {@code checkpointIntervalSeconds}; {@code compliance.checkpointGraceSeconds} more allow for a
   * slow commit or signature and clock differences between instances. Older uncovered rows are
   * {@code unaccounted_rows} in verify.
   */
  public java.time.Duration accountableWindow() {
    return java.time.Duration.ofSeconds((long) checkpointIntervalSeconds + checkpointGraceSeconds);
  }

  /** Thresholds of {@code GET /v1/compliance/alerts}. */
  public record Alerts(int overBorrowingLenders, int fishingDeniedCount, double fishingDeniedShare,
                       int fishingMinInquiries, int fishingPeopleWithoutConsent, int sampleSize, int maxAlerts) {
    public JsonObject toJson() {
      return new JsonObject().put("overBorrowingLenders", overBorrowingLenders)
        .put("fishingDeniedCount", fishingDeniedCount).put("fishingDeniedShare", fishingDeniedShare)
        .put("fishingMinInquiries", fishingMinInquiries).put("fishingPeopleWithoutConsent", fishingPeopleWithoutConsent);
    }
  }

  public static ComplianceSettings from(BureauConfig config) {
    Reader r = new Reader(new JsonObject().put("compliance", config.section("compliance")));
    ComplianceSettings s = new ComplianceSettings(
      r.intIn("compliance.defaultRangeDays", 30, 1, 3660),
      r.intIn("compliance.maxRangeDays", 366, 1, 3660),
      r.intIn("compliance.exportFetchRows", 4000, 10, 100_000),
      r.intIn("compliance.verifyBatchRows", 4000, 10, 1_000_000),
      r.intIn("compliance.verifyParallelism", Runtime.getRuntime().availableProcessors(), 1, 64),
      r.intIn("compliance.checkpointIntervalSeconds", 5, 1, 86_400),
      r.intIn("compliance.retentionMonths", 60, 1, 1200),
      r.intIn("compliance.partitionCheckHours", 24, 1, 24 * 31),
      new Alerts(
        r.intIn("compliance.alerts.overBorrowingLenders", 5, 2, 10_000),
        r.intIn("compliance.alerts.fishingDeniedCount", 20, 1, 10_000_000),
        r.doubleIn("compliance.alerts.fishingDeniedShare", 0.5, 0.0, 1.0),
        r.intIn("compliance.alerts.fishingMinInquiries", 10, 1, 10_000_000),
        r.intIn("compliance.alerts.fishingPeopleWithoutConsent", 10, 1, 10_000_000),
        r.intIn("compliance.alerts.sampleSize", 5, 1, 100),
        r.intIn("compliance.alerts.maxAlerts", 100, 1, 10_000)),
      r.intIn("compliance.checkpointGraceSeconds", 30, 1, 86_400));
    if (s.defaultRangeDays() > s.maxRangeDays()) {
      r.problem("compliance.defaultRangeDays must not exceed compliance.maxRangeDays");
    }
    r.throwIfProblems();
    return s;
  }
}
