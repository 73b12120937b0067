package io.openbureau.inquiry;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The closed list of inquiry purposes and their types (API.md, "Inquiry types and purposes"):
 * {@code LOAN_ORIGINATION}, {@code CARD_APPLICATION} and {@code GUARANTOR_CHECK} are HARD (a person
 * applying for credit: they count in every over-borrowing window once GRANTED); {@code ACCOUNT_REVIEW}
 * is SOFT (post-loan management: never counted) and may rest on an existing account instead of a
 * consent.
 */
public final class Purposes {
  public static final String LOAN_ORIGINATION = "LOAN_ORIGINATION";
  public static final String CARD_APPLICATION = "CARD_APPLICATION";
  public static final String GUARANTOR_CHECK = "GUARANTOR_CHECK";
  public static final String ACCOUNT_REVIEW = "ACCOUNT_REVIEW";
  public static final String HARD = "HARD";
  public static final String SOFT = "SOFT";
  /** The grounds of a GRANTED inquiry, a closed list (also recorded in the row's details). */
  public static final String CONSENT = "CONSENT";
  public static final String EXISTING_ACCOUNT = "EXISTING_ACCOUNT";

  private static final Map<String, String> TYPES = Map.of(LOAN_ORIGINATION, HARD, CARD_APPLICATION, HARD,
    GUARANTOR_CHECK, HARD, ACCOUNT_REVIEW, SOFT);
  public static final Set<String> ALL = TYPES.keySet();
  /** The HARD purposes, sorted (the window rebuild's filter). */
  public static final List<String> HARD_PURPOSES = TYPES.entrySet().stream().filter(e -> HARD.equals(e.getValue()))
    .map(Map.Entry::getKey).sorted().toList();

  private Purposes() {
  }

  /** HARD or SOFT; null for anything not in the closed list (a row without a purpose). */
  public static String type(String purpose) {
    return purpose == null ? null : TYPES.get(purpose);
  }

  /** Whether an existing account of the lender may stand in for a consent. */
  static boolean mayRestOnAccount(String purpose) {
    return ACCOUNT_REVIEW.equals(purpose);
  }
}
