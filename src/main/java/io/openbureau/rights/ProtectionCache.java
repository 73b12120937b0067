package io.openbureau.rights;

import io.openbureau.cache.CacheRepair;
import io.openbureau.cache.Outbox;
import io.openbureau.cache.PendingChanges;
import io.openbureau.cache.RedisStore;
import io.openbureau.cache.VersionedCache;
import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;

import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A person's protections in Redis, for the inquiry script: {@code {b:<hex borrower key>}:prot}, a
 * {@link VersionedCache} entry ({@code <version>|}{@link Protections#payload}), on the person's hash
 * tag so the inquiry's one script reads it with the consent slot and the score.
 *
 * <p><b>A freeze is immediate, like a revocation</b>, by the same rule ({@link VersionedCache}, "one
 * rule for every change to what the cache may allow", and {@code consent.ConsentDecisions}): the
 * change commits with a fresh version (published_version below it is the durable record still to
 * publish) and, for a change that takes access away (a freeze, a fraud alert set), a NOTIFY on
 * {@link CacheRepair#PENDING} in the same transaction; then {@link #publish} writes the entry before
 * the answer. When Redis cannot be written the answer is 503 after this instance heard its NOTIFY:
 * every instance re-reads the person's protections from Postgres before it trusts Redis for them
 * ({@link #refreshIfSuspect}, no round trip otherwise) and {@link CacheRepair} publishes it when Redis
 * is back. A fill racing the freeze cannot put the older entry back: versions only go up, and a
 * flush voids fills that started before it. Lifting a freeze gives access back: unpublished, the
 * cache still says frozen (fails closed).
 */
public final class ProtectionCache {
  private static final Future<Void> DONE = Future.succeededFuture();

  private final RedisStore redis;
  private final VersionedCache cache;
  private final ProtectionRepository repository;
  private final PendingChanges pending;

  public ProtectionCache(Pool pool, RedisStore redis, PendingChanges pending) {
    this(new ProtectionRepository(pool), redis, pending);
  }

  ProtectionRepository repository() {
    return repository;
  }

  ProtectionCache(ProtectionRepository repository, RedisStore redis, PendingChanges pending) {
    this.redis = redis;
    this.cache = new VersionedCache(redis);
    this.repository = repository;
    this.pending = pending;
  }

  public String key(byte[] borrowerKey) {
    return redis.key("b:" + BorrowerKeys.hex(borrowerKey), "prot");
  }

  /** The person's name in {@link PendingChanges} and in notifications (independent of the key prefix). */
  static String ref(byte[] borrowerKey) {
    return "p:" + BorrowerKeys.hex(borrowerKey);
  }

  static String notification(byte[] borrowerKey, long version) {
    return ref(borrowerKey) + ":" + version;
  }

  /** The fill of a missing entry: what Postgres holds now (version 0, NONE, for a person without a row). */
  public Future<VersionedCache.Entry> fill(byte[] borrowerKey) {
    return cache.getOrLoad(key(borrowerKey), () -> load(repository.pool(), borrowerKey), 0);
  }

  private static Future<VersionedCache.Loaded> load(SqlClient client, byte[] borrowerKey) {
    return ProtectionRepository.find(client, borrowerKey).map(p -> p == null
      ? new VersionedCache.Loaded(0, Protections.NONE) : new VersionedCache.Loaded(p.version(), p.payload()));
  }

  /**
   * Before the inquiry reads the entry: when a take-away change may be unpublished (or this process
   * cannot tell), re-read Postgres and republish; otherwise nothing (no round trip).
   */
  public Future<Void> refreshIfSuspect(byte[] borrowerKey) {
    if (!pending.suspect(ref(borrowerKey))) {
      return DONE;
    }
    SqlClient reads = pending.reads() == null ? repository.pool() : pending.reads();
    return cache.refresh(key(borrowerKey), () -> load(reads, borrowerKey), pending::readStuck);
  }

  /** After the commit, before the answer: write the entry, then mark it done (best effort). */
  Future<Void> publish(byte[] borrowerKey, Protections p) {
    return cache.write(key(borrowerKey), p.version(), p.payload(), 0)
      .onSuccess(v -> repository.markPublished(borrowerKey, p.version(), CacheRepair.PUBLISHED,
        notification(borrowerKey, p.version())).recover(e -> DONE));
  }

  /** After a take-away change could not be published: once this process heard its NOTIFY, at most 1 s. */
  Future<Void> awaitAnnounced(io.vertx.core.Vertx vertx, byte[] borrowerKey, long version) {
    return pending.awaitPending(vertx, ref(borrowerKey), version, 1000);
  }

  /** The protections' outbox, for {@link CacheRepair}. */
  public Outbox outbox() {
    return new Outbox() {
      @Override
      public Future<Map<String, Long>> unpublished(int limit) {
        return repository.unpublished(limit).map(rows -> {
          Map<String, Long> out = new LinkedHashMap<>();
          rows.forEach((k, version) -> out.put(ref(k), version));
          return out;
        });
      }

      @Override
      public Future<Void> repair(String ref) {
        byte[] borrowerKey = HexFormat.of().parseHex(ref.substring(2));
        return cache.republish(key(borrowerKey), () -> load(repository.pool(), borrowerKey), 0)
          .compose(version -> repository.markPublished(borrowerKey, version, CacheRepair.PUBLISHED,
            notification(borrowerKey, version)));
      }
    };
  }
}
