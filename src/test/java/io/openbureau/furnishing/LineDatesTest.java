package io.openbureau.furnishing;

import io.openbureau.config.BusinessTime;
import io.openbureau.http.ApiError;
import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

@DisplayName("Furnished dates are judged in the business time zone (Asia/Shanghai), closedAt included")
class LineDatesTest {
  private static final BorrowerKeys KEYS = new BorrowerKeys("k1", "a-test-secret-of-at-least-32-characters-0000");
  private static final String ID = NationalId.of("110105", LocalDate.of(1985, 1, 1), 7);
  /** 2026-06-30 17:30 UTC is already 2026-07-01 01:30 in Beijing. */
  private static final Clock BEIJING_AFTER_MIDNIGHT = Clock.fixed(Instant.parse("2026-06-30T17:30:00Z"), ZoneOffset.UTC);

  static {
    BusinessTime.configure(ZoneId.of(BusinessTime.DEFAULT_ZONE));
  }

  static JsonObject loan(String openedAt) {
    return new JsonObject().put("nationalId", ID).put("productType", "CONSUMER_LOAN").put("openedAt", openedAt)
      .put("principal", "20000.00").put("status", "OPEN").put("balance", "15000.00").put("daysPastDue", 0);
  }

  private static String field(Runnable r) {
    ApiError e = assertThrows(ApiError.class, r::run);
    assertEquals(400, e.status());
    assertEquals(1, e.errors().size(), e.errors().toString());
    return e.errors().get(0).field();
  }

  @Test
  @DisplayName("a loan opened today in Beijing while UTC is still yesterday is accepted; tomorrow in Beijing is in the future")
  void openedTodayInBeijing() {
    Line.Tradeline t = Line.tradeline("L-1", loan("2026-07-01"), KEYS, BEIJING_AFTER_MIDNIGHT);
    assertEquals(LocalDate.of(2026, 7, 1), t.openedAt());
    assertEquals("openedAt", field(() -> Line.tradeline("L-1", loan("2026-07-02"), KEYS, BEIJING_AFTER_MIDNIGHT)));
  }

  @Test
  @DisplayName("this month's period in Beijing is accepted while UTC is still in last month")
  void periodThisMonthInBeijing() {
    JsonObject r = new JsonObject().put("period", "2026-07").put("amountDue", "100.00").put("amountPaid", "100.00")
      .put("daysPastDue", 0);
    assertEquals("2026-07", Line.repayment("L-1", r, BEIJING_AFTER_MIDNIGHT).period());
    assertEquals("period", field(() -> Line.repayment("L-1", r.copy().put("period", "2026-08"),
      BEIJING_AFTER_MIDNIGHT)));
  }

  @Test
  @DisplayName("closedAt today in Beijing is accepted; after today, before openedAt, malformed or on an OPEN account it is a 400 naming closedAt")
  void closedAtRules() {
    JsonObject closed = loan("2020-01-15").put("status", "CLOSED").put("balance", "0.00");
    assertEquals(LocalDate.of(2026, 7, 1),
      Line.tradeline("L-1", closed.copy().put("closedAt", "2026-07-01"), KEYS, BEIJING_AFTER_MIDNIGHT).closedAt());
    assertEquals(null, Line.tradeline("L-1", closed, KEYS, BEIJING_AFTER_MIDNIGHT).closedAt(), "closedAt is optional");
    assertEquals("closedAt", field(() -> Line.tradeline("L-1", closed.copy().put("closedAt", "2026-07-02"), KEYS,
      BEIJING_AFTER_MIDNIGHT)));
    assertEquals("closedAt", field(() -> Line.tradeline("L-1", closed.copy().put("closedAt", "2020-01-14"), KEYS,
      BEIJING_AFTER_MIDNIGHT)));
    assertEquals("closedAt", field(() -> Line.tradeline("L-1", closed.copy().put("closedAt", "2020-02-30"), KEYS,
      BEIJING_AFTER_MIDNIGHT)));
    assertEquals("closedAt", field(() -> Line.tradeline("L-1", closed.copy().put("closedAt", 20200101), KEYS,
      BEIJING_AFTER_MIDNIGHT)));
    assertEquals("closedAt", field(() -> Line.tradeline("L-1", loan("2020-01-15").put("closedAt", "2021-01-01"), KEYS,
      BEIJING_AFTER_MIDNIGHT)));
    // the day it opened is a valid closing day
    assertEquals(LocalDate.of(2020, 1, 15),
      Line.tradeline("L-1", closed.copy().put("closedAt", "2020-01-15"), KEYS, BEIJING_AFTER_MIDNIGHT).closedAt());
  }
}
