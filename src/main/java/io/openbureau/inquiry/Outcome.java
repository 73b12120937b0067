package io.openbureau.inquiry;

import io.openbureau.http.ApiError;
import io.openbureau.scoring.PersonScore;
import io.vertx.core.json.JsonArray;

/**
 * How an inquiry ended. Every one of them is turned into its effects (the access-log row or none,
 * the window kept or taken back, the metric label, the HTTP answer) in one place:
 * {@code InquiryRoutes.effect}.
 */
sealed interface Outcome {

  /** The body broke the contract (or could not be read): 4xx naming the field; logged as INVALID. */
  record Invalid(ApiError error) implements Outcome {
  }

  /** The gate refused the token (role, subject, not an active member): 403 forbidden, no row. */
  record Refused(String detail) implements Outcome {
  }

  /** The member is over its rate: 429 with Retry-After, no row. */
  record RateLimited(long retryAfterSeconds) implements Outcome {
  }

  /** No consent (nor existing account) allows it: 403 consent_required; logged DENIED with the reason. */
  record Denied(String reason) implements Outcome {
  }

  /** Served: 200 with the score (and report); logged GRANTED; a HARD one stays in the person's window. */
  record Granted(InquiryCache.Person person, PersonScore score, OverBorrowing overBorrowing, JsonArray report)
    implements Outcome {
  }

  /**
   * The bureau could not answer: 503 naming the dependency ({@code audit_unavailable} for Postgres).
   * {@code logged}: the attempt is still recorded (DENIED, reason unavailable) because the decision
   * failed with budget left; otherwise no row (the budget is spent, or the row itself failed).
   */
  record Unavailable(Throwable cause, boolean logged) implements Outcome {
  }
}
