package io.openbureau.inquiry;

import io.openbureau.scoring.PersonScore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * The over-borrowing block: distinct lenders with granted inquiries in 7/30/90 days, inquiries
 * in 30 days (only GRANTED HARD inquiries count, see {@link Purposes}), and the person's active loans and outstanding balance, with
 * flags from configurable thresholds.
 */
public record OverBorrowing(int distinctLenders7d, int distinctLenders30d, int distinctLenders90d, int inquiries30d,
                            int activeLoans, BigDecimal outstandingBalance, List<String> flags) {

  public static final String MULTI_LENDING = "MULTI_LENDING";
  public static final String RAPID_INQUIRIES = "RAPID_INQUIRIES";
  public static final String MANY_ACTIVE_LOANS = "MANY_ACTIVE_LOANS";
  public static final String CURRENT_DELINQUENCY = "CURRENT_DELINQUENCY";
  /** The person set a fraud alert (API.md "Freeze and fraud alert"): verify the applicant's identity. */
  public static final String FRAUD_ALERT = "FRAUD_ALERT";

  static OverBorrowing of(int d7, int d30, int d90, int inquiries30d, PersonScore score, InquirySettings s) {
    List<String> flags = new ArrayList<>();
    if (d30 >= s.multiLendingLenders30d()) {
      flags.add(MULTI_LENDING);
    }
    if (d7 >= s.rapidInquiryLenders7d()) {
      flags.add(RAPID_INQUIRIES);
    }
    if (score.activeLoans() >= s.manyActiveLoans()) {
      flags.add(MANY_ACTIVE_LOANS);
    }
    if (score.maxCurrentDpd() >= s.delinquencyDays()) {
      flags.add(CURRENT_DELINQUENCY);
    }
    return new OverBorrowing(d7, d30, d90, inquiries30d, score.activeLoans(), score.outstandingBalance(),
      List.copyOf(flags));
  }

  /** The same block with one more flag. */
  OverBorrowing flagged(String flag) {
    List<String> more = new ArrayList<>(flags);
    more.add(flag);
    return new OverBorrowing(distinctLenders7d, distinctLenders30d, distinctLenders90d, inquiries30d, activeLoans,
      outstandingBalance, List.copyOf(more));
  }

  public JsonObject toJson() {
    return new JsonObject().put("distinctLenders7d", distinctLenders7d).put("distinctLenders30d", distinctLenders30d)
      .put("distinctLenders90d", distinctLenders90d).put("inquiries30d", inquiries30d).put("activeLoans", activeLoans)
      .put("outstandingBalance", outstandingBalance.toPlainString()).put("flags", new JsonArray(flags));
  }
}
