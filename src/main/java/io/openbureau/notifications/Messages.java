package io.openbureau.notifications;

import io.openbureau.inquiry.Purposes;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Locale;

/**
 * Turns recorded rows into notifications in plain words. Pure: the rows come from
 * {@link NotificationRepository}; nothing here holds or writes a national id (the rows have none).
 */
final class Messages {
  static final String INQUIRY = "INQUIRY";
  static final String NEGATIVE_DATA = "NEGATIVE_DATA";
  static final String CONSENT = "CONSENT";
  static final String FREEZE = "FREEZE";
  static final String FRAUD_ALERT = "FRAUD_ALERT";
  static final String DISPUTE = "DISPUTE";

  static final String DISPUTE_OPENED = "DISPUTE_OPENED";
  static final String DISPUTE_OVERDUE = "DISPUTE_OVERDUE";
  static final String CONSENT_REVOKED = "CONSENT_REVOKED";

  private Messages() {
  }

  /** One access-log row (an action of {@link NotificationRepository#ACCESS_LOG_ACTIONS}). */
  static Derived fromAccessLog(Row r) {
    long id = r.getLong("id");
    Instant at = instant(r.getOffsetDateTime("at"));
    String action = r.getString("action");
    String lender = r.getString("lender_id");
    byte[] key = r.getBuffer("borrower_key").getBytes();
    JsonObject logged = r.getJsonObject("details") == null ? new JsonObject() : r.getJsonObject("details");
    String who = lender == null ? "A lender" : lender;
    switch (action) {
      case "INQUIRY" -> {
        String purpose = r.getString("purpose");
        String scope = r.getString("scope");
        String type = Purposes.type(purpose);
        boolean granted = "GRANTED".equals(r.getString("decision"));
        String what = "REPORT".equals(scope) ? "credit report" : "credit score";
        String kindWords = type == null ? "" : " (" + type.toLowerCase(Locale.ROOT) + " inquiry, " + words(purpose) + ")";
        String message = granted ? who + " looked at your " + what + kindWords + "."
          : who + " asked to look at your " + what + kindWords + " and was refused.";
        JsonObject details = new JsonObject().put("decision", r.getString("decision")).put("inquiryType", type)
          .put("purpose", purpose).put("scope", scope);
        if (!granted && r.getString("reason") != null) {
          details.put("reason", r.getString("reason"));
        }
        return new Derived(NotificationRepository.ACCESS_LOG, id, key, INQUIRY, at, message, lender, details, null);
      }
      case "FREEZE" -> {
        return new Derived(NotificationRepository.ACCESS_LOG, id, key, FREEZE, at, "Your credit file was frozen.", null,
          new JsonObject().put("action", action), null);
      }
      case "FREEZE_LIFTED" -> {
        return new Derived(NotificationRepository.ACCESS_LOG, id, key, FREEZE, at,
          "The freeze on your credit file was lifted.", null, new JsonObject().put("action", action), null);
      }
      case "FRAUD_ALERT_SET" -> {
        return new Derived(NotificationRepository.ACCESS_LOG, id, key, FRAUD_ALERT, at,
          "A fraud alert was placed on your credit file: lenders must check it is really you.", null,
          new JsonObject().put("action", action), null);
      }
      case "FRAUD_ALERT_ENDED" -> {
        return new Derived(NotificationRepository.ACCESS_LOG, id, key, FRAUD_ALERT, at,
          "The fraud alert on your credit file ended.", null, new JsonObject().put("action", action), null);
      }
      default -> {
        return dispute(id, at, action, lender, key, logged);
      }
    }
  }

  private static Derived dispute(long id, Instant at, String action, String lender, byte[] key, JsonObject logged) {
    String ref = logged.getString("accountRef");
    String period = logged.getString("period");
    String account = "account " + ref + (period == null ? "" : " (" + period + ")") + " with " + lender;
    JsonObject details = new JsonObject().put("action", action).put("disputeId", logged.getString("disputeId"))
      .put("accountRef", ref).put("status", logged.getString("status"));
    if (period != null) {
      details.put("period", period);
    }
    JsonObject event = null;
    String message;
    switch (action) {
      case DISPUTE_OPENED -> {
        message = "Your dispute about " + account + " was opened; the lender must answer it in time.";
        event = new JsonObject().put("event", DISPUTE_OPENED);
      }
      case DISPUTE_OVERDUE -> {
        message = lender + " did not answer your dispute about " + account + " in time: the disputed data is left out"
          + " of your score until it does.";
        event = new JsonObject().put("event", DISPUTE_OVERDUE);
      }
      default -> {
        String outcome = logged.getString("outcome");
        details.put("outcome", outcome);
        message = lender + " answered your dispute about " + account + ": " + outcomeWords(outcome) + ".";
      }
    }
    if (event != null) {
      event.put("disputeId", logged.getString("disputeId")).put("accountRef", ref);
      if (period != null) {
        event.put("period", period);
      }
    }
    return new Derived(NotificationRepository.ACCESS_LOG, id, key, DISPUTE, at, message, lender, details, event);
  }

  static Derived consentGranted(Row r) {
    String lender = r.getString("lender_id");
    Instant expires = instant(r.getOffsetDateTime("expires_at"));
    String message = "You allowed " + lender + " to see your " + scopeWords(r.getString("scope")) + " for "
      + words(r.getString("purpose")) + " until " + expires.atOffset(ZoneOffset.UTC).toLocalDate() + ".";
    return new Derived(NotificationRepository.CONSENT_GRANTED, r.getLong("seq"), r.getBuffer("borrower_key").getBytes(),
      CONSENT, instant(r.getOffsetDateTime("at")), message, lender, consentDetails(r, "GRANTED"), null);
  }

  static Derived consentRevoked(Row r) {
    String lender = r.getString("lender_id");
    String message = "Your consent for " + lender + " to see your " + scopeWords(r.getString("scope")) + " for "
      + words(r.getString("purpose")) + " was revoked.";
    JsonObject event = new JsonObject().put("event", CONSENT_REVOKED).put("consentId", r.getUUID("id").toString())
      .put("purpose", r.getString("purpose"));
    return new Derived(NotificationRepository.CONSENT_REVOKED, r.getLong("seq"), r.getBuffer("borrower_key").getBytes(),
      CONSENT, instant(r.getOffsetDateTime("at")), message, lender, consentDetails(r, "REVOKED"), event);
  }

  static Derived consentExpiring(Row r, Instant now) {
    String lender = r.getString("lender_id");
    Instant expires = instant(r.getOffsetDateTime("expires_at"));
    String message = "Your consent for " + lender + " to see your " + scopeWords(r.getString("scope")) + " for "
      + words(r.getString("purpose")) + " ends on " + expires.atOffset(ZoneOffset.UTC).toLocalDate() + ".";
    return new Derived(NotificationRepository.CONSENT_EXPIRING, r.getLong("seq"), r.getBuffer("borrower_key").getBytes(),
      CONSENT, now, message, lender, consentDetails(r, "EXPIRING"), null);
  }

  private static JsonObject consentDetails(Row r, String change) {
    return new JsonObject().put("change", change).put("consentId", r.getUUID("id").toString())
      .put("purpose", r.getString("purpose")).put("scope", r.getString("scope"))
      .put("expiresAt", instant(r.getOffsetDateTime("expires_at")).toString());
  }

  static Derived negativeTradeline(Row r) {
    String lender = r.getString("member_id");
    String ref = r.getString("account_ref");
    String status = r.getString("status");
    String message = lender + " reported your account " + ref + " as "
      + ("WRITTEN_OFF".equals(status) ? "written off" : "defaulted") + ".";
    return new Derived(NotificationRepository.NEGATIVE_TRADELINE, r.getLong("seq"),
      r.getBuffer("borrower_key").getBytes(), NEGATIVE_DATA, instant(r.getOffsetDateTime("at")), message, lender,
      new JsonObject().put("accountRef", ref).put("status", status), null);
  }

  static Derived lateRepayment(Row r) {
    String lender = r.getString("member_id");
    String ref = r.getString("account_ref");
    String period = r.getString("period");
    int dpd = r.getInteger("days_past_due");
    String message = lender + " reported your " + period + " repayment of account " + ref + " as " + dpd
      + (dpd == 1 ? " day" : " days") + " late.";
    return new Derived(NotificationRepository.LATE_REPAYMENT, r.getLong("seq"), r.getBuffer("borrower_key").getBytes(),
      NEGATIVE_DATA, instant(r.getOffsetDateTime("at")), message, lender,
      new JsonObject().put("accountRef", ref).put("period", period).put("daysPastDue", dpd), null);
  }

  private static String scopeWords(String scope) {
    return "REPORT".equals(scope) ? "credit report" : "credit score";
  }

  private static String words(String purpose) {
    return purpose == null ? "an unknown purpose" : switch (purpose) {
      case "LOAN_ORIGINATION" -> "a loan application";
      case "CARD_APPLICATION" -> "a card application";
      case "GUARANTOR_CHECK" -> "a guarantor check";
      case "ACCOUNT_REVIEW" -> "a review of an account you hold";
      default -> purpose.toLowerCase(Locale.ROOT).replace('_', ' ');
    };
  }

  private static String outcomeWords(String outcome) {
    return outcome == null ? "resolved" : switch (outcome) {
      case "VERIFIED" -> "the data was checked and stays as reported";
      case "CORRECTED" -> "the data was corrected";
      case "DELETED" -> "the data was deleted";
      default -> outcome.toLowerCase(Locale.ROOT);
    };
  }

  static Instant instant(OffsetDateTime t) {
    return t == null ? null : t.toInstant();
  }
}
