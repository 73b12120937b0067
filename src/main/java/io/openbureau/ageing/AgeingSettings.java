package io.openbureau.ageing;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.Reader;
import io.vertx.core.json.JsonObject;

import java.time.LocalDate;

/**
 * The {@code ageing} section (strict like every section: an unknown key is refused at load).
 *
 * @param negativeDataYears     negative information is deleted this many years after the behaviour
 *                              ended (征信业管理条例 Art 16: 5)
 * @param batchSize             accounts per transaction of the ageing pass
 * @param checkIntervalMinutes  how often each instance looks whether today's pass has run (first
 *                              look one interval after start-up)
 * @param scheduled             false: no daily pass in this process (only the CLI ages the book)
 *
 * <p>The furnishing path ages late-arriving data with the same limit: one value for the process,
 * set once at start-up ({@link #configure}), like {@link io.openbureau.config.BusinessTime}.
 */
public record AgeingSettings(int negativeDataYears, int batchSize, int checkIntervalMinutes, boolean scheduled) {
  public static final AgeingSettings DEFAULTS = new AgeingSettings(5, 500, 60, true);
  private static volatile AgeingSettings current = DEFAULTS;

  public static AgeingSettings from(BureauConfig config) {
    JsonObject section = config.section("ageing");
    Reader r = new Reader(new JsonObject().put("ageing", section));
    AgeingSettings s = new AgeingSettings(
      r.intIn("ageing.negativeDataYears", DEFAULTS.negativeDataYears(), 1, 30),
      r.intIn("ageing.batchSize", DEFAULTS.batchSize(), 1, 10_000),
      r.intIn("ageing.checkIntervalMinutes", DEFAULTS.checkIntervalMinutes(), 1, 1440),
      r.bool("ageing.scheduled", DEFAULTS.scheduled()));
    r.throwIfProblems();
    return s;
  }

  /** Reads, validates and makes the settings the process' own (start-up); returns them. */
  public static AgeingSettings configure(BureauConfig config) {
    AgeingSettings s = from(config);
    current = s;
    return s;
  }

  public static AgeingSettings current() {
    return current;
  }

  /**
   * Negative information whose behaviour ended before this day is deleted on {@code today}: it is
   * kept through the day {@code negativeDataYears} after it ended, and gone the day after.
   */
  public LocalDate cutoff(LocalDate today) {
    return today.minusYears(negativeDataYears);
  }
}
