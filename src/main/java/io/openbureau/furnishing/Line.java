package io.openbureau.furnishing;

import io.openbureau.config.BusinessTime;
import io.openbureau.http.ApiError;
import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One validated furnishing record: a tradeline or a repayment of one member's account. Validation
 * is complete here (the NDJSON batch has no OpenAPI validation), collects every field error, and
 * never echoes a national id.
 *
 * <p>Balance tolerance: a balance may exceed the principal (or, for revolving accounts, the
 * credit limit) by at most {@link #BALANCE_TOLERANCE} (10%, for accrued interest, fees and
 * over-limit spending) plus 1.00.
 *
 * <p>Dates are judged in the bureau's business time zone ({@link BusinessTime}): a loan opened in
 * Beijing at 07:00 is opened today there, whatever the date is in UTC.
 */
public sealed interface Line permits Line.Tradeline, Line.Repayment {
  Set<String> PRODUCTS = Set.of("CONSUMER_LOAN", "CREDIT_CARD", "MORTGAGE", "AUTO_LOAN", "MICRO_LOAN", "BNPL");
  Set<String> STATUSES = Set.of("OPEN", "CLOSED", "DEFAULTED", "WRITTEN_OFF");
  BigDecimal BALANCE_TOLERANCE = new BigDecimal("0.10");
  Pattern MONEY = Pattern.compile("^[0-9]{1,16}(\\.[0-9]{1,2})?$");
  Pattern ACCOUNT_REF = Pattern.compile("^[A-Za-z0-9._:-]{1,64}$");
  Pattern CURRENCY = Pattern.compile("^[A-Z]{3}$");
  Pattern PERIOD = Pattern.compile("^[0-9]{4}-(0[1-9]|1[0-2])$");

  String accountRef();

  record Tradeline(String accountRef, byte[] borrowerKey, String keyId, String productType, LocalDate openedAt,
                   BigDecimal principal, BigDecimal creditLimit, String currency, Integer termMonths, String status,
                   BigDecimal balance, int daysPastDue, LocalDate closedAt) implements Line {
  }

  record Repayment(String accountRef, String period, BigDecimal amountDue, BigDecimal amountPaid, int daysPastDue)
    implements Line {
  }

  Set<String> TRADELINE_FIELDS = Set.of("type", "accountRef", "nationalId", "productType", "openedAt", "principal",
    "creditLimit", "currency", "termMonths", "status", "balance", "daysPastDue", "closedAt");
  Set<String> REPAYMENT_FIELDS = Set.of("type", "accountRef", "period", "amountDue", "amountPaid", "daysPastDue");

  static Tradeline tradeline(String accountRef, JsonObject j, BorrowerKeys keys) {
    return tradeline(accountRef, j, keys, Clock.systemUTC());
  }

  /** As above, "today" read from {@code clock} in the business time zone. */
  static Tradeline tradeline(String accountRef, JsonObject j, BorrowerKeys keys, Clock clock) {
    LocalDate today = BusinessTime.today(clock);
    List<ApiError.FieldError> errors = new ArrayList<>();
    checkRef(accountRef, errors);
    unknownFields(j, TRADELINE_FIELDS, errors);
    String nationalId = string(j, "nationalId", true, errors);
    if (nationalId != null && NationalId.problem(nationalId) != null) {
      errors.add(new ApiError.FieldError("nationalId", NationalId.problem(nationalId)));
    }
    String product = oneOf(j, "productType", PRODUCTS, true, errors);
    LocalDate opened = date(j, "openedAt", true, today, errors);
    BigDecimal principal = money(j, "principal", true, errors);
    BigDecimal limit = money(j, "creditLimit", false, errors);
    String currency = j.containsKey("currency") ? string(j, "currency", false, errors) : "CNY";
    if (currency != null && !CURRENCY.matcher(currency).matches()) {
      errors.add(new ApiError.FieldError("currency", "must be an ISO 4217 code such as CNY"));
    }
    Integer term = j.containsKey("termMonths") && j.getValue("termMonths") != null
      ? integer(j, "termMonths", 1, 600, errors) : null;
    String status = oneOf(j, "status", STATUSES, true, errors);
    BigDecimal balance = money(j, "balance", true, errors);
    Integer dpd = integer(j, "daysPastDue", 0, 3650, errors);
    LocalDate closed = date(j, "closedAt", false, today, errors);
    if (closed != null && opened != null && closed.isBefore(opened)) {
      errors.add(new ApiError.FieldError("closedAt", "is before openedAt"));
    } else if (closed != null && "OPEN".equals(status)) {
      errors.add(new ApiError.FieldError("closedAt", "is set but the status is OPEN; an open account has no closedAt"));
    }
    if ("CREDIT_CARD".equals(product) && limit == null && !j.containsKey("creditLimit")) {
      errors.add(new ApiError.FieldError("creditLimit", "is required for a CREDIT_CARD"));
    }
    BigDecimal cap = "CREDIT_CARD".equals(product) && limit != null ? limit : principal;
    if (balance != null && cap != null
      && balance.compareTo(cap.multiply(BigDecimal.ONE.add(BALANCE_TOLERANCE)).add(BigDecimal.ONE)) > 0) {
      errors.add(new ApiError.FieldError("balance", "exceeds the " + ("CREDIT_CARD".equals(product) ? "credit limit" : "principal")
        + " by more than 10%"));
    }
    if (!errors.isEmpty()) {
      throw ApiError.invalid(errors);
    }
    return new Tradeline(accountRef, keys.key(nationalId), keys.keyId(), product, opened, principal, limit, currency,
      term, status, balance, dpd, closed);
  }

  static Repayment repayment(String accountRef, JsonObject j) {
    return repayment(accountRef, j, Clock.systemUTC());
  }

  /** As above, "this month" read from {@code clock} in the business time zone. */
  static Repayment repayment(String accountRef, JsonObject j, Clock clock) {
    YearMonth thisMonth = YearMonth.from(BusinessTime.today(clock));
    List<ApiError.FieldError> errors = new ArrayList<>();
    checkRef(accountRef, errors);
    unknownFields(j, REPAYMENT_FIELDS, errors);
    String period = string(j, "period", true, errors);
    if (period != null) {
      if (!PERIOD.matcher(period).matches()) {
        errors.add(new ApiError.FieldError("period", "must be a month YYYY-MM"));
      } else if (YearMonth.parse(period).isAfter(thisMonth)) {
        errors.add(new ApiError.FieldError("period", "is in the future"));
      }
    }
    BigDecimal due = money(j, "amountDue", true, errors);
    BigDecimal paid = money(j, "amountPaid", true, errors);
    Integer dpd = integer(j, "daysPastDue", 0, 3650, errors);
    if (!errors.isEmpty()) {
      throw ApiError.invalid(errors);
    }
    return new Repayment(accountRef, period, due, paid, dpd);
  }

  private static void checkRef(String ref, List<ApiError.FieldError> errors) {
    if (ref == null || !ACCOUNT_REF.matcher(ref).matches()) {
      errors.add(new ApiError.FieldError("accountRef", "must be 1 to 64 letters, digits or . _ : -"));
    }
  }

  private static void unknownFields(JsonObject j, Set<String> known, List<ApiError.FieldError> errors) {
    for (String f : j.fieldNames()) {
      if (!known.contains(f)) {
        errors.add(new ApiError.FieldError(f.length() > 64 ? f.substring(0, 64) : f, "is not a known field"));
      }
    }
  }

  /** The field's value, or null when it is absent or null (an error if it is required). */
  private static Object present(JsonObject j, String field, boolean required, List<ApiError.FieldError> errors) {
    Object v = j.getValue(field);
    if (v == null && required) {
      errors.add(new ApiError.FieldError(field, "is required"));
    }
    return v;
  }

  private static String string(JsonObject j, String field, boolean required, List<ApiError.FieldError> errors) {
    Object v = present(j, field, required, errors);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s)) {
      errors.add(new ApiError.FieldError(field, "must be a string"));
      return null;
    }
    return s;
  }

  private static String oneOf(JsonObject j, String field, Set<String> allowed, boolean required,
                              List<ApiError.FieldError> errors) {
    String v = string(j, field, required, errors);
    if (v != null && !allowed.contains(v)) {
      errors.add(new ApiError.FieldError(field, "must be one of " + allowed.stream().sorted().toList()));
      return null;
    }
    return v;
  }

  /** Money is a decimal string in major units, never a JSON number (no floats in money paths). */
  private static BigDecimal money(JsonObject j, String field, boolean required, List<ApiError.FieldError> errors) {
    Object v = present(j, field, required, errors);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s)) {
      errors.add(new ApiError.FieldError(field, "must be a decimal string such as \"1500.00\", not a number"));
      return null;
    }
    if (s.startsWith("-")) {
      errors.add(new ApiError.FieldError(field, "must not be negative"));
      return null;
    }
    if (!MONEY.matcher(s).matches()) {
      errors.add(new ApiError.FieldError(field, "must be a decimal string with at most 2 decimals"));
      return null;
    }
    return new BigDecimal(s);
  }

  private static Integer integer(JsonObject j, String field, int min, int max, List<ApiError.FieldError> errors) {
    Object v = present(j, field, true, errors);
    if (v == null) {
      return 0;
    }
    if (!(v instanceof Integer || v instanceof Long) || ((Number) v).longValue() < min || ((Number) v).longValue() > max) {
      errors.add(new ApiError.FieldError(field, "must be a whole number from " + min + " to " + max));
      return 0;
    }
    return ((Number) v).intValue();
  }

  /** A date no later than {@code today} (the business date); absent or null is an error only if required. */
  private static LocalDate date(JsonObject j, String field, boolean required, LocalDate today,
                                List<ApiError.FieldError> errors) {
    Object v = j.getValue(field);
    if (v == null && !required) {
      return null;
    }
    if (!(v instanceof String s)) {
      errors.add(new ApiError.FieldError(field, v == null ? "is required" : "must be a date YYYY-MM-DD"));
      return null;
    }
    try {
      LocalDate d = LocalDate.parse(s);
      if (d.isAfter(today)) {
        errors.add(new ApiError.FieldError(field, "is in the future"));
      } else if (d.getYear() < 1900) {
        errors.add(new ApiError.FieldError(field, "is not plausible"));
      }
      return d;
    } catch (DateTimeParseException e) {
      errors.add(new ApiError.FieldError(field, "must be a real date YYYY-MM-DD"));
      return null;
    }
  }
}
