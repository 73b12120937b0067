package io.openbureau.consent;

import io.openbureau.cache.CacheRepair;
import io.openbureau.cache.Outbox;
import io.openbureau.cache.PendingChanges;
import io.openbureau.cache.RedisStore;
import io.openbureau.cache.VersionedCache;
import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;

import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The consent slots of the inquiry hot path in the cache: their keys, fills, publication and
 * repair. The decision itself (whether a slot allows a purpose and scope right now) is made only by
 * {@code inquiry.lua}.
 *
 * <p>The state of one (person, lender, purpose) slot lives in Redis under
 * {@code {b:<hex borrower key>}:consent:<lender>:<purpose>} as a {@link VersionedCache} entry:
 * the version is {@code max(version)} of the slot's rows (0 when it has none), the payload
 * {@code <consentId>|<scope>|<expiresAt epoch millis>} of the ACTIVE consent, or {@code NONE}.
 * A hit is one Redis GET; a miss fills from Postgres through the generation-pinned fill.
 *
 * <p><b>Immediate revocation, and the cache rule.</b> Every change follows the rule written down in
 * {@link VersionedCache} ("one rule for every change to what the cache may allow"):
 * <ul>
 *   <li>Grant, supersede and revoke commit in Postgres with a fresh version, with
 *   {@code published = false} on the rows they write (the durable record of what is still to
 *   publish) and, for a change that takes access away (a revoke, a supersede), a
 *   {@code NOTIFY} on {@link CacheRepair#PENDING} in the same transaction. Then {@link #publish}
 *   writes the slot <em>before</em> the HTTP response is sent and marks the record done
 *   ({@link CacheRepair#PUBLISHED}).</li>
 *   <li>When that Redis write fails the request answers 503 ("saved, not yet published"); a retry
 *   is safe (revoke is idempotent and publishes again; a grant supersedes) but not needed: every
 *   instance heard the NOTIFY and re-reads that slot from Postgres before it trusts Redis for it
 *   ({@link #refreshIfSuspect}, no extra round trip for any other key), and {@link CacheRepair}
 *   republishes it as soon as Redis answers.</li>
 *   <li>Once a revoke has been answered 200, the cache holds a version at least as new as the
 *   revoke, and VersionedCache guarantees no racing fill can put an older one back, even across a
 *   flush (see its javadoc).</li>
 *   <li>Expiry needs no publication: the entry carries {@code expiresAt}, judged against the
 *   request's time by {@code inquiry.lua} (the one place the consent rule lives).</li>
 * </ul>
 * A manual change in Postgres that bypasses this class is not published unless it also sets
 * {@code published = false} (then the repair loop publishes it within an interval): or flush the keys.
 *
 * <p>Member suspension is not part of this decision: the inquiry's gate ({@code member_gate.lua})
 * refuses a suspended or unknown member before any consent is looked at.
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
  private final PendingChanges pending;
  private final ConsentRepository repository;

  public ConsentDecisions(Pool pool, RedisStore redis) {
    this(new ConsentRepository(pool), redis, PendingChanges.TRUST_REDIS);
  }

  public ConsentDecisions(ConsentRepository repository, RedisStore redis) {
    this(repository, redis, PendingChanges.TRUST_REDIS);
  }

  /** As the server runs it: keys with a pending take-away change are re-read from Postgres first. */
  public ConsentDecisions(ConsentRepository repository, RedisStore redis, PendingChanges pending) {
    this(repository::slot, redis, pending, repository);
  }

  ConsentDecisions(SlotLoader loader, RedisStore redis) {
    this(loader, redis, PendingChanges.TRUST_REDIS, null);
  }

  private ConsentDecisions(SlotLoader loader, RedisStore redis, PendingChanges pending, ConsentRepository repository) {
    this.loader = loader;
    this.redis = redis;
    // an ACTIVE slot lives until a little after its consent expires (the payload ends with expiresAt ms)
    this.cache = VersionedCache.expiring(redis, p -> NONE.equals(p) ? 0 : Long.parseLong(p.substring(p.lastIndexOf('|') + 1)));
    this.pending = pending;
    this.repository = repository;
  }

  /** The slot's name in {@link PendingChanges} and in notifications (independent of the key prefix). */
  static String ref(byte[] borrowerKey, String lenderId, String purpose) {
    return "c:" + BorrowerKeys.hex(borrowerKey) + ":" + lenderId + ":" + purpose;
  }

  static String notification(byte[] borrowerKey, String lenderId, String purpose, long version) {
    return ref(borrowerKey, lenderId, purpose) + ":" + version;
  }

  public String key(byte[] borrowerKey, String lenderId, String purpose) {
    return redis.key("b:" + BorrowerKeys.hex(borrowerKey), "consent:" + lenderId + ":" + purpose);
  }

  /**
   * Makes sure the slot is in the cache (re-read first when suspect, see {@link #refreshIfSuspect};
   * filled from Postgres on a miss). Only loads: the decision is the inquiry script's
   * ({@code inquiry.lua}), the one place the consent rule lives.
   */
  public Future<Void> fill(byte[] borrowerKey, String lenderId, String purpose) {
    String key = key(borrowerKey, lenderId, purpose);
    return refreshIfSuspect(borrowerKey, lenderId, purpose)
      .compose(v -> cache.getOrLoad(key, () -> load(borrowerKey, lenderId, purpose), 0))
      .mapEmpty();
  }

  private Future<VersionedCache.Loaded> load(byte[] borrowerKey, String lenderId, String purpose) {
    return loader.load(borrowerKey, lenderId, purpose).map(slot -> new VersionedCache.Loaded(slot.version(), payload(slot)));
  }

  private static final Future<Void> DONE = Future.succeededFuture();

  /**
   * Before the cache is read for this slot: when a take-away change to it may be unpublished (or
   * this process cannot tell, see {@link PendingChanges}), re-read it from Postgres and republish it
   * so that the read that follows cannot see an older entry; otherwise nothing (no round trip).
   * Fails when Postgres or Redis cannot be reached: the caller answers 503.
   */
  public Future<Void> refreshIfSuspect(byte[] borrowerKey, String lenderId, String purpose) {
    if (!pending.suspect(ref(borrowerKey, lenderId, purpose))) {
      return DONE;
    }
    io.vertx.sqlclient.SqlClient reads = pending.reads();
    java.util.function.Supplier<Future<VersionedCache.Loaded>> read = reads == null || repository == null
      ? () -> load(borrowerKey, lenderId, purpose)
      : () -> ConsentRepository.slot(reads, borrowerKey, lenderId, purpose)
        .map(slot -> new VersionedCache.Loaded(slot.version(), payload(slot)));
    return cache.refresh(key(borrowerKey, lenderId, purpose), read, pending::readStuck);
  }

  /**
   * After a commit that changed the slot: publish the slot as read inside that transaction. The
   * caller must not answer its HTTP request until this succeeded (answer 503 when it fails).
   */
  public Future<Void> publish(byte[] borrowerKey, String lenderId, String purpose, ConsentRepository.Slot slot) {
    return cache.write(key(borrowerKey, lenderId, purpose), slot.version(), payload(slot), 0)
      .onSuccess(v -> markPublished(borrowerKey, lenderId, purpose, slot.version()));
  }

  /** The record of the slot is done up to {@code version} (best effort: the repair loop retries). */
  private Future<Void> markPublished(byte[] borrowerKey, String lenderId, String purpose, long version) {
    if (repository == null) {
      return DONE;
    }
    return repository.markPublished(borrowerKey, lenderId, purpose, version, CacheRepair.PUBLISHED,
      notification(borrowerKey, lenderId, purpose, version)).recover(e -> DONE);
  }

  /** The consent slots' outbox, for {@link CacheRepair}. */
  public Outbox outbox() {
    return new Outbox() {
      @Override
      public Future<Map<String, Long>> unpublished(int limit) {
        return repository.unpublished(limit).map(rows -> {
          Map<String, Long> out = new LinkedHashMap<>();
          rows.forEach(u -> out.put(ref(u.borrowerKey(), u.lenderId(), u.purpose()), u.version()));
          return out;
        });
      }

      @Override
      public Future<Void> repair(String ref) {
        // c:<hex>:<lender>:<purpose>; neither a member id nor a purpose holds a colon
        String[] parts = ref.split(":");
        byte[] borrowerKey = HexFormat.of().parseHex(parts[1]);
        return cache.republish(key(borrowerKey, parts[2], parts[3]), () -> load(borrowerKey, parts[2], parts[3]), 0)
          .compose(version -> repository.markPublished(borrowerKey, parts[2], parts[3], version, CacheRepair.PUBLISHED,
            notification(borrowerKey, parts[2], parts[3], version)));
      }
    };
  }

  static String payload(ConsentRepository.Slot slot) {
    return slot.activeId() == null ? NONE
      : slot.activeId() + "|" + slot.scope() + "|" + slot.expiresAt().toEpochMilli();
  }

}
