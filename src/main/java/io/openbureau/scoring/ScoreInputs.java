package io.openbureau.scoring;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The attributes of one person, computed from every member's tradelines about them, as of one
 * business date ({@code today}, in the bureau's time zone).
 *
 * <p>Three inputs depend on the date alone, not on what is furnished: accounts opened in the last
 * {@link #RECENT_MONTHS} months, the age of the oldest account, and the repayment periods inside
 * the {@link #REPAYMENT_WINDOW_MONTHS}-month window. {@link ScoreRefresher} re-scores the people
 * whose inputs cross one of those boundaries as days pass.
 *
 * <p>Money is never added across currencies: {@code totalOutstanding} and the revolving
 * utilisation are over the accounts in the scorecard's currency only ({@code baseCurrency});
 * accounts in another currency still count wherever no amount is added (active loans, new
 * accounts, age, delinquency, default), and their balances are left out of every sum: the bureau
 * holds no exchange rates, and a converted figure would be one it made up.
 */
public record ScoreInputs(int tradelines, int worstDaysPastDue24m, int currentDaysPastDue, int latePeriods24m,
                          BigDecimal revolvingUtilisationPct, BigDecimal totalOutstanding, int activeLoans,
                          int openedLast6m, int oldestAccountMonths, boolean anyDefault) {
  /** "Opened in the last 6 months": an account opened on or after today minus this many months. */
  public static final int RECENT_MONTHS = 6;
  /** Repayment periods of the last this many months, this month included, count. */
  public static final int REPAYMENT_WINDOW_MONTHS = 24;
  private static final DateTimeFormatter PERIOD = DateTimeFormatter.ofPattern("yyyy-MM");

  /** One account as the scorer sees it (repayment figures already limited to the repayment window). */
  public record Account(String productType, LocalDate openedAt, BigDecimal creditLimit, String currency, String status,
                        BigDecimal balance, int daysPastDue, int worstRepaymentDpd24m, int latePeriods24m) {
  }

  /** The first repayment period ({@code yyyy-MM}) inside the window on a business date. */
  public static String windowStart(LocalDate today) {
    return YearMonth.from(today).minusMonths(REPAYMENT_WINDOW_MONTHS - 1).format(PERIOD);
  }

  public static ScoreInputs from(List<Account> accounts, LocalDate today, String baseCurrency) {
    int worst = 0;
    int current = 0;
    int late = 0;
    BigDecimal revolvingBalance = BigDecimal.ZERO;
    BigDecimal revolvingLimit = BigDecimal.ZERO;
    BigDecimal outstanding = BigDecimal.ZERO;
    int active = 0;
    int recent = 0;
    LocalDate oldest = today;
    boolean defaulted = false;
    for (Account a : accounts) {
      boolean open = "OPEN".equals(a.status());
      boolean summed = baseCurrency.equals(a.currency());
      worst = Math.max(worst, Math.max(a.worstRepaymentDpd24m(), a.daysPastDue()));
      late += a.latePeriods24m();
      if (open) {
        active++;
        current = Math.max(current, a.daysPastDue());
        if (summed && isRevolving(a)) {
          revolvingBalance = revolvingBalance.add(a.balance());
          revolvingLimit = revolvingLimit.add(a.creditLimit());
        }
      }
      if (summed && owed(a)) {
        outstanding = outstanding.add(a.balance());
      }
      if ("DEFAULTED".equals(a.status()) || "WRITTEN_OFF".equals(a.status())) {
        defaulted = true;
      }
      if (!a.openedAt().isBefore(today.minusMonths(RECENT_MONTHS))) {
        recent++;
      }
      if (a.openedAt().isBefore(oldest)) {
        oldest = a.openedAt();
      }
    }
    // no open revolving account in the base currency: utilisation does not apply (null), it is not 0 %
    BigDecimal utilisation = revolvingLimit.signum() > 0
      ? revolvingBalance.multiply(BigDecimal.valueOf(100)).divide(revolvingLimit, 0, RoundingMode.DOWN)
      : null;
    int ageMonths = (int) ChronoUnit.MONTHS.between(oldest, today);
    return new ScoreInputs(accounts.size(), worst, current, late, utilisation, outstanding, active, recent, ageMonths,
      defaulted);
  }

  /** An open credit card with a limit: what revolving utilisation is measured over. */
  static boolean isRevolving(Account a) {
    return "CREDIT_CARD".equals(a.productType()) && a.creditLimit() != null && a.creditLimit().signum() > 0;
  }

  /** Balances still owed: open and defaulted accounts (a written-off or closed one is not collected by its lender). */
  static boolean owed(Account a) {
    return "OPEN".equals(a.status()) || "DEFAULTED".equals(a.status());
  }

  /** The attribute values the scorecard bands; a null value is an attribute that does not apply. */
  Map<String, BigDecimal> values() {
    Map<String, BigDecimal> m = new HashMap<>();
    m.put("worstDaysPastDue24m", BigDecimal.valueOf(worstDaysPastDue24m));
    m.put("currentDaysPastDue", BigDecimal.valueOf(currentDaysPastDue));
    m.put("latePeriods24m", BigDecimal.valueOf(latePeriods24m));
    m.put("revolvingUtilisationPct", revolvingUtilisationPct);
    m.put("totalOutstanding", totalOutstanding);
    m.put("activeLoans", BigDecimal.valueOf(activeLoans));
    m.put("openedLast6m", BigDecimal.valueOf(openedLast6m));
    m.put("oldestAccountMonths", BigDecimal.valueOf(oldestAccountMonths));
    m.put("anyDefault", anyDefault ? BigDecimal.ONE : BigDecimal.ZERO);
    return m;
  }
}
