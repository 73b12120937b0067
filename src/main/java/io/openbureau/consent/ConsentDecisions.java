package io.openbureau.consent;

import io.openbureau.cache.RedisStore;
import io.openbureau.cache.VersionedCache;
import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;

import java.time.Instant;
import java.util.UUID;

/**
 * Whether a lender may look at a person's data for a purpose and scope, right now: the consent
 * check of the inquiry hot path.
 *
 * <p>The state of one (person, lender, purpose) slot lives in Redis under
 * {@code {b:<hex borrower key>}:consent:<lender>:<purpose>} as a {@link VersionedCache} entry:
 * the version is {@code max(version)} of the slot's rows (0 when it has none), the payload
 * {@code <consentId>|<scope>|<expiresAt epoch millis>} of the ACTIVE consent, or {@code NONE}.
 * A hit is one Redis GET; a miss fills from Postgres through the generation-pinned fill.
 *
 * <p><b>Immediate revocation.</b> Every grant, supersede and revoke commits in Postgres (with a
 * fresh version) and then calls {@link #publish} <em>before</em> the HTTP response is sent; when
 * that Redis write fails the request answers 503 and the client retries (grant creates a new
 * consent that supersedes, revoke is idempotent and publishes again). So once a revoke has been
 * answered, the cache holds a version at least as new as the revoke, and VersionedCache
 * guarantees no racing fill can put an older one back, even across a flush (see its javadoc).
 * A manual change in Postgres that bypasses this class is not published: flush the keys.
 *
 * <p>Member suspension is not part of this decision: the inquiry route is guarded by
 * {@code Guards.require(Role.LENDER)}, which checks the member's active status (shared in Redis)
 * on every request, so a suspended lender never reaches this check.
 *
 * <p>REPORT covers SCORE. Expiry is judged against the caller's {@code now}: no job is needed.
 */
public final class ConsentDecisions {
  public static final String SCORE = "SCORE";
  public static final String REPORT = "REPORT";
  static final String NONE = "NONE";

  /** Reads one slot from Postgres (a seam: tests slow it down to race fills against revokes). */
  interface SlotLoader {
    Future<ConsentRepository.Slot> load(byte[] borrowerKey, String lenderId, String purpose);
  }

  private final SlotLoader loader;
  private final RedisStore redis;
  private final VersionedCache cache;

  public ConsentDecisions(Pool pool, RedisStore redis) {
    this(new ConsentRepository(pool), redis);
  }

  public ConsentDecisions(ConsentRepository repository, RedisStore redis) {
    this(repository::slot, redis);
  }

  ConsentDecisions(SlotLoader loader, RedisStore redis) {
    this.loader = loader;
    this.redis = redis;
    this.cache = new VersionedCache(redis);
  }

  public String key(byte[] borrowerKey, String lenderId, String purpose) {
    return redis.key("b:" + BorrowerKeys.hex(borrowerKey), "consent:" + lenderId + ":" + purpose);
  }

  /** ALLOW with the consent's id, or DENY (no consent, expired, or a scope that does not cover). */
  public Future<Decision> decide(byte[] borrowerKey, String lenderId, String purpose, String scope, Instant now) {
    String key = key(borrowerKey, lenderId, purpose);
    return cache.getOrLoad(key, () -> loader.load(borrowerKey, lenderId, purpose)
        .map(slot -> new VersionedCache.Loaded(slot.version(), payload(slot))), 0)
      .map(entry -> judge(entry.payload(), scope, now));
  }

  /**
   * After a commit that changed the slot: publish the slot as read inside that transaction. The
   * caller must not answer its HTTP request until this succeeded (answer 503 when it fails).
   */
  public Future<Void> publish(byte[] borrowerKey, String lenderId, String purpose, ConsentRepository.Slot slot) {
    return cache.write(key(borrowerKey, lenderId, purpose), slot.version(), payload(slot), 0);
  }

  static String payload(ConsentRepository.Slot slot) {
    return slot.activeId() == null ? NONE
      : slot.activeId() + "|" + slot.scope() + "|" + slot.expiresAt().toEpochMilli();
  }

  static Decision judge(String payload, String scope, Instant now) {
    if (payload == null || NONE.equals(payload)) {
      return Decision.deny("no_consent");
    }
    String[] parts = payload.split("\\|");
    if (parts.length != 3) {
      return Decision.deny("no_consent");
    }
    if (Long.parseLong(parts[2]) <= now.toEpochMilli()) {
      return Decision.deny("expired");
    }
    if (!covers(parts[1], scope)) {
      return Decision.deny("scope");
    }
    return Decision.allow(UUID.fromString(parts[0]));
  }

  /** REPORT covers SCORE. */
  static boolean covers(String granted, String requested) {
    return granted.equals(requested) || (REPORT.equals(granted) && SCORE.equals(requested));
  }
}
