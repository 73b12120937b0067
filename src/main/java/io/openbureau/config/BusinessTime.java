package io.openbureau.config;

import io.vertx.core.json.JsonObject;

import java.time.Clock;
import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneId;

/**
 * The bureau's business time zone ({@code bureau.timeZone}, default Asia/Shanghai): dates a
 * furnisher sends ("opened today", "this month's period") and dates the scorecard counts from are
 * judged in it, never in UTC (a loan opened in Beijing at 07:00 is opened today, not tomorrow).
 *
 * <p>One value for the whole process, set once at start-up from the validated configuration
 * ({@link #configure}); everything that needs "today" asks {@link #today(Clock)} so tests can drive
 * it with a fixed clock.
 */
public final class BusinessTime {
  public static final String DEFAULT_ZONE = "Asia/Shanghai";
  private static volatile ZoneId zone = ZoneId.of(DEFAULT_ZONE);

  private BusinessTime() {
  }

  /** Reads and validates {@code bureau.timeZone} (a region id such as Asia/Shanghai or a fixed offset). */
  public static ZoneId from(BureauConfig config) {
    Reader r = new Reader(new JsonObject().put("bureau", config.section("bureau")));
    String id = r.string("bureau.timeZone", DEFAULT_ZONE);
    ZoneId parsed = null;
    try {
      parsed = ZoneId.of(id);
    } catch (DateTimeException e) {
      r.problem("bureau.timeZone must be a time-zone id such as Asia/Shanghai or +08:00, got '" + id + "'");
    }
    r.throwIfProblems();
    return parsed;
  }

  public static void configure(ZoneId businessZone) {
    zone = businessZone;
  }

  public static ZoneId zone() {
    return zone;
  }

  public static LocalDate today() {
    return LocalDate.now(zone);
  }

  public static LocalDate today(Clock clock) {
    return LocalDate.now(clock.withZone(zone));
  }

  public static YearMonth thisMonth() {
    return YearMonth.now(zone);
  }
}
