package io.openbureau.audit;

import io.openbureau.http.InputGuard;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.UUID;

/**
 * One row of the access log: who accessed what about whom, why, and what they got. Never a raw
 * national id: a person appears only as their borrower key. {@code id}, {@code at} and the chain
 * fields are assigned by the {@link AuditWriter} that commits the row.
 *
 * <p>{@code hashVersion} is the canonical encoding of its hash ({@link ChainHash}) and
 * {@code detailsText} the exact text of {@code details} that the hash covers and that is stored:
 * {@code details_json} for v3 rows, the jsonb's {@code details::text} for v2 rows. {@code details}
 * is a convenience view of it (may be null when only the text is known).
 */
public record AccessLogEntry(long id, Instant at, String chainId, long chainSeq, String action, String actorRole,
                             String actorId, String lenderId, byte[] borrowerKey, String purpose, String scope,
                             String decision, String reason, UUID consentId, String requestId, Integer scoreValue,
                             JsonObject details, byte[] prevHash, byte[] rowHash, int hashVersion, String detailsText) {

  /** A row in the current encoding, {@code details} stored as {@link ChainHash#canonicalJson}. */
  public AccessLogEntry(long id, Instant at, String chainId, long chainSeq, String action, String actorRole,
                        String actorId, String lenderId, byte[] borrowerKey, String purpose, String scope,
                        String decision, String reason, UUID consentId, String requestId, Integer scoreValue,
                        JsonObject details, byte[] prevHash, byte[] rowHash) {
    this(id, at, chainId, chainSeq, action, actorRole, actorId, lenderId, borrowerKey, purpose, scope, decision,
      reason, consentId, requestId, scoreValue, details, prevHash, rowHash, ChainHash.CURRENT,
      details == null ? null : ChainHash.canonicalJson(details));
  }

  public static final String INQUIRY = "INQUIRY";
  public static final String GRANTED = "GRANTED";
  public static final String DENIED = "DENIED";
  public static final String INVALID = "INVALID";
  /** Dispute events (API.md, Disputes): opened by the person, resolved by the furnisher, overdue by the clock. */
  public static final String DISPUTE_OPENED = "DISPUTE_OPENED";
  public static final String DISPUTE_RESOLVED = "DISPUTE_RESOLVED";
  public static final String DISPUTE_OVERDUE = "DISPUTE_OVERDUE";
  /** The actor of what the bureau does by itself (a dispute turning overdue). */
  public static final String BUREAU = "bureau";

  /** What a feature records; the writer turns it into a chained row. */
  public record Draft(String action, String actorRole, String actorId, String lenderId, byte[] borrowerKey,
                      String purpose, String scope, String decision, String reason, UUID consentId,
                      String requestId, Integer scoreValue, JsonObject details) {

    /**
     * Every text is scrubbed of what Postgres cannot store (NUL, unpaired surrogates) and other
     * control characters, before it is hashed: a row carrying refused input is still recorded, as
     * it was hashed, and never fails the group commit it shares with other requests' rows.
     */
    public Draft {
      action = InputGuard.scrub(action);
      actorRole = InputGuard.scrub(actorRole);
      actorId = InputGuard.scrub(actorId);
      lenderId = InputGuard.scrub(lenderId);
      purpose = InputGuard.scrub(purpose);
      scope = InputGuard.scrub(scope);
      decision = InputGuard.scrub(decision);
      reason = InputGuard.scrub(reason);
      requestId = InputGuard.scrub(requestId);
      details = details == null ? null : (JsonObject) InputGuard.scrubJson(details);
    }

    /**
     * A dispute event (disputes.DisputeRoutes): about the person ({@code borrowerKey}) and the
     * member whose account it is ({@code lenderId}), so both the person's list and compliance see
     * it. {@code actorId} is the member for a resolution, null for the person (never a national id)
     * and for the bureau's own overdue pass.
     */
    public static Draft dispute(String action, String actorRole, String actorId, String lenderId, byte[] borrowerKey,
                                String requestId, JsonObject details) {
      return new Draft(action, actorRole, actorId, lenderId, borrowerKey, null, null, GRANTED, null, null, requestId,
        null, details);
    }

    public static Draft inquiry(String lenderId, String requestId) {
      return new Draft(INQUIRY, "lender", lenderId, lenderId, null, null, null, INVALID, null, null, requestId, null, null);
    }

    public Draft borrower(byte[] key) {
      return new Draft(action, actorRole, actorId, lenderId, key, purpose, scope, decision, reason, consentId,
        requestId, scoreValue, details);
    }

    public Draft purposeAndScope(String purpose, String scope) {
      return new Draft(action, actorRole, actorId, lenderId, borrowerKey, purpose, scope, decision, reason, consentId,
        requestId, scoreValue, details);
    }

    public Draft decided(String decision, String reason, UUID consentId, Integer scoreValue) {
      return new Draft(action, actorRole, actorId, lenderId, borrowerKey, purpose, scope, decision, reason, consentId,
        requestId, scoreValue, details);
    }

    public Draft details(JsonObject details) {
      return new Draft(action, actorRole, actorId, lenderId, borrowerKey, purpose, scope, decision, reason, consentId,
        requestId, scoreValue, details);
    }
  }

  /** The writer's row: current encoding, the details text computed once (hashed and stored alike). */
  static AccessLogEntry chained(long id, Instant at, String chainId, long chainSeq, Draft d, byte[] prevHash) {
    AccessLogEntry unhashed = new AccessLogEntry(id, at, chainId, chainSeq, d.action(), d.actorRole(), d.actorId(),
      d.lenderId(), d.borrowerKey(), d.purpose(), d.scope(), d.decision(), d.reason(), d.consentId(), d.requestId(),
      d.scoreValue(), d.details(), prevHash, null);
    return unhashed.withRowHash(ChainHash.rowHash(prevHash, unhashed));
  }

  public AccessLogEntry withRowHash(byte[] hash) {
    return new AccessLogEntry(id, at, chainId, chainSeq, action, actorRole, actorId, lenderId, borrowerKey, purpose,
      scope, decision, reason, consentId, requestId, scoreValue, details, prevHash, hash, hashVersion, detailsText);
  }
}
