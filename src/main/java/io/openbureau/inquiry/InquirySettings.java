package io.openbureau.inquiry;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.Reader;
import io.vertx.core.json.JsonObject;

/** The {@code inquiry:} and {@code overBorrowing:} sections of the configuration. */
public record InquirySettings(double ratePerSecond, int rateBurst, int multiLendingLenders30d,
                              int rapidInquiryLenders7d, int manyActiveLoans, int delinquencyDays,
                              int windowRebuildSeconds) {

  public static InquirySettings from(BureauConfig config) {
    Reader r = new Reader(new JsonObject().put("inquiry", config.section("inquiry"))
      .put("overBorrowing", config.section("overBorrowing")));
    InquirySettings s = new InquirySettings(
      r.doubleIn("inquiry.rateLimit.perSecond", 500, 0.01, 1_000_000),
      r.intIn("inquiry.rateLimit.burst", 1000, 1, 1_000_000),
      r.intIn("overBorrowing.multiLendingLenders30d", 5, 1, 1000),
      r.intIn("overBorrowing.rapidInquiryLenders7d", 3, 1, 1000),
      r.intIn("overBorrowing.manyActiveLoans", 3, 1, 1000),
      r.intIn("overBorrowing.delinquencyDays", 1, 1, 3650),
      r.intIn("overBorrowing.windowRebuildSeconds", 3600, 1, 30 * 86400));
    r.throwIfProblems();
    return s;
  }
}
