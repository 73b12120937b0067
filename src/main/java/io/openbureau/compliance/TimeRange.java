package io.openbureau.compliance;

import io.openbureau.audit.ChainHash;
import io.openbureau.http.ApiError;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * The half-open time range {@code [from, to)} of an access-log read. Never unbounded: without
 * {@code to} it ends now, without {@code from} it starts {@code compliance.defaultRangeDays}
 * before {@code to}, and a range wider than {@code compliance.maxRangeDays} is cut to its newest
 * part ({@code capped: true} in the answer says so). An inverted range is a 400 naming {@code from}.
 */
public record TimeRange(Instant from, Instant to, boolean capped) {
  /**
   * The instants a client may name (a query parameter or a cursor): from the Unix epoch to the end
   * of 2199. Everything the bureau logs lies inside, and every instant inside (also a default
   * {@code from} some days before the lower bound) is one that Postgres, SQL text, RFC 3339 and the
   * code's microsecond arithmetic agree on: year 0 or 294247 reached SQL and failed there, and
   * nanoseconds since the epoch overflow a long after 2262.
   */
  public static final Instant EARLIEST = Instant.EPOCH;
  public static final Instant LATEST = Instant.parse("2199-12-31T23:59:59.999999Z");
  private static final long LATEST_MICROS = LATEST.getEpochSecond() * 1_000_000L + LATEST.getNano() / 1_000;
  static final String BOUNDS = "must be an RFC 3339 timestamp from 1970-01-01T00:00:00Z to 2199-12-31T23:59:59Z";

  public static TimeRange parse(String fromRaw, String toRaw, ComplianceSettings settings, Instant now) {
    List<ApiError.FieldError> errors = new ArrayList<>();
    Instant from = instant("from", fromRaw, errors);
    Instant to = instant("to", toRaw, errors);
    if (!errors.isEmpty()) {
      throw ApiError.invalid(errors);
    }
    if (to == null) {
      to = now.truncatedTo(ChronoUnit.MICROS).plus(1, ChronoUnit.MICROS);
    }
    if (from == null) {
      from = to.minus(Duration.ofDays(settings.defaultRangeDays()));
    }
    if (from.isAfter(to)) {
      throw ApiError.invalid("from", "must not be after to");
    }
    Instant earliest = to.minus(Duration.ofDays(settings.maxRangeDays()));
    if (from.isBefore(earliest)) {
      return new TimeRange(earliest, to, true);
    }
    return new TimeRange(from, to, false);
  }

  /**
   * From a cursor: the range of the first page, so paging is stable while the log grows. A cursor
   * is client input: an instant out of bounds or an inverted range is an IllegalArgumentException.
   */
  public static TimeRange ofMicros(long from, long to, boolean capped) {
    TimeRange range = new TimeRange(fromMicros(from), fromMicros(to), capped);
    if (range.from().isAfter(range.to())) {
      throw new IllegalArgumentException("inverted range");
    }
    return range;
  }

  /** An instant of a cursor, within {@link #EARLIEST}..{@link #LATEST}, else an IllegalArgumentException. */
  public static Instant fromMicros(long micros) {
    if (micros < 0 || micros > LATEST_MICROS) {
      throw new IllegalArgumentException("instant out of bounds");
    }
    return Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
  }

  public long fromMicros() {
    return ChainHash.micros(from);
  }

  public long toMicros() {
    return ChainHash.micros(to);
  }

  public JsonObject toJson() {
    return new JsonObject().put("from", from.toString()).put("to", to.toString()).put("capped", capped);
  }

  private static Instant instant(String field, String raw, List<ApiError.FieldError> errors) {
    if (raw == null || raw.isBlank()) {
      return null;
    }
    // an unencoded '+' of an offset arrives as a space
    String s = raw.trim().replace(' ', '+');
    Instant at;
    try {
      at = OffsetDateTime.parse(s).toInstant().truncatedTo(ChronoUnit.MICROS);
    } catch (DateTimeParseException e) {
      errors.add(new ApiError.FieldError(field, "must be an RFC 3339 timestamp such as 2026-11-22T08:15:30Z"));
      return null;
    }
    if (at.isBefore(EARLIEST) || at.isAfter(LATEST)) {
      errors.add(new ApiError.FieldError(field, BOUNDS));
      return null;
    }
    return at;
  }
}
