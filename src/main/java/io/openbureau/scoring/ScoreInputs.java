package io.openbureau.scoring;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The attributes of one person, computed from every member's tradelines about them. */
public record ScoreInputs(int worstDaysPastDue24m, int currentDaysPastDue, int latePeriods24m,
                          BigDecimal revolvingUtilisationPct, BigDecimal totalOutstanding, int activeLoans,
                          int openedLast6m, int oldestAccountMonths, boolean anyDefault) {

  /** One account as the scorer sees it (repayment figures already limited to the last 24 months). */
  public record Account(String productType, LocalDate openedAt, BigDecimal creditLimit, String status,
                        BigDecimal balance, int daysPastDue, int worstRepaymentDpd24m, int latePeriods24m) {
  }

  public static ScoreInputs from(List<Account> accounts, LocalDate today) {
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
      worst = Math.max(worst, Math.max(a.worstRepaymentDpd24m(), a.daysPastDue()));
      late += a.latePeriods24m();
      if (open) {
        active++;
        current = Math.max(current, a.daysPastDue());
        if ("CREDIT_CARD".equals(a.productType()) && a.creditLimit() != null && a.creditLimit().signum() > 0) {
          revolvingBalance = revolvingBalance.add(a.balance());
          revolvingLimit = revolvingLimit.add(a.creditLimit());
        }
      }
      if (open || "DEFAULTED".equals(a.status())) {
        outstanding = outstanding.add(a.balance());
      }
      if ("DEFAULTED".equals(a.status()) || "WRITTEN_OFF".equals(a.status())) {
        defaulted = true;
      }
      if (!a.openedAt().isBefore(today.minusMonths(6))) {
        recent++;
      }
      if (a.openedAt().isBefore(oldest)) {
        oldest = a.openedAt();
      }
    }
    BigDecimal utilisation = revolvingLimit.signum() > 0
      ? revolvingBalance.multiply(BigDecimal.valueOf(100)).divide(revolvingLimit, 0, RoundingMode.DOWN)
      : null;
    int ageMonths = (int) ChronoUnit.MONTHS.between(oldest, today);
    return new ScoreInputs(worst, current, late, utilisation, outstanding, active, recent, ageMonths, defaulted);
  }

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
