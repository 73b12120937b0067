package io.openbureau.consent;

import java.util.UUID;

/** A consent decision (as the inquiry script judges it): ALLOW under one consent, or DENY with a reason. */
public record Decision(boolean allowed, UUID consentId, String reason) {

  public static Decision allow(UUID consentId) {
    return new Decision(true, consentId, null);
  }

  public static Decision deny(String reason) {
    return new Decision(false, null, reason);
  }
}
