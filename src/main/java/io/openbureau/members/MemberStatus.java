package io.openbureau.members;

import io.openbureau.cache.CacheRepair;
import io.openbureau.cache.Outbox;
import io.openbureau.cache.PendingChanges;
import io.openbureau.cache.RedisStore;
import io.openbureau.cache.VersionedCache;
import io.vertx.core.Future;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Whether a member may use the API right now, read from shared state (Redis, filled from Postgres)
 * on every request, never from a per-instance cache: a suspension answered by one instance is seen
 * by the very next request on every instance. Ordering against racing fills and flushes is
 * {@link VersionedCache}'s invariant.
 *
 * <p>Status changes follow the cache rule written down in {@link VersionedCache}: the change
 * commits (bumping {@code status_version}, so {@code published_version < status_version} is the
 * durable record that it is still to publish; a suspension also NOTIFYs
 * {@link CacheRepair#PENDING} in its transaction), then {@link #publish} writes it before the
 * answer and marks it done. When Redis cannot be written the answer is 503, every instance treats
 * the member as suspect (re-read from Postgres before the cache is trusted for it,
 * {@link #refreshIfSuspect}) and {@link CacheRepair} publishes it when Redis is back. A
 * reinstatement that is not yet published leaves the cache saying SUSPENDED: it fails closed.
 *
 * <p>Bounded: one entry per member id seen (the members table, ~100 B each). Writes pass TTL 0, so
 * {@link VersionedCache}'s default applies: a known member's entry expires after
 * {@code redis.maxTtlSeconds}, an unknown id's (version 0) after {@code redis.negativeTtlSeconds};
 * a miss is refilled from Postgres.
 */
public final class MemberStatus {
  private static final String UNKNOWN = "UNKNOWN";
  private static final Future<Void> DONE = Future.succeededFuture();

  private final RedisStore redis;
  private final VersionedCache cache;
  private final MemberRepository repository;
  private final PendingChanges pending;

  public MemberStatus(RedisStore redis, MemberRepository repository) {
    this(redis, repository, PendingChanges.TRUST_REDIS);
  }

  public MemberStatus(RedisStore redis, MemberRepository repository, PendingChanges pending) {
    this.redis = redis;
    this.cache = new VersionedCache(redis);
    this.repository = repository;
    this.pending = pending;
  }

  public String key(String memberId) {
    return redis.key("m:" + memberId, "status");
  }

  static String ref(String memberId) {
    return "m:" + memberId;
  }

  static String notification(String memberId, long version) {
    return ref(memberId) + ":" + version;
  }

  /** ACTIVE, SUSPENDED or UNKNOWN (not registered). */
  public Future<String> status(String memberId) {
    return refreshIfSuspect(memberId)
      .compose(v -> cache.getOrLoad(key(memberId), () -> load(memberId), 0))
      .map(VersionedCache.Entry::payload);
  }

  private Future<VersionedCache.Loaded> load(String memberId) {
    return repository.find(memberId).map(MemberStatus::loaded);
  }

  private static VersionedCache.Loaded loaded(Member m) {
    return m == null ? new VersionedCache.Loaded(0, UNKNOWN) : new VersionedCache.Loaded(m.statusVersion(), m.status());
  }

  /**
   * Before the cache is read for this member: when a suspension may be unpublished (or this process
   * cannot tell, see {@link PendingChanges}), re-read Postgres and republish, so the read that
   * follows cannot see an older status; otherwise nothing (no round trip).
   */
  public Future<Void> refreshIfSuspect(String memberId) {
    if (!pending.suspect(ref(memberId))) {
      return DONE;
    }
    io.vertx.sqlclient.SqlClient reads = pending.reads();
    java.util.function.Supplier<Future<VersionedCache.Loaded>> read = reads == null ? () -> load(memberId)
      : () -> MemberRepository.find(reads, memberId).map(MemberStatus::loaded);
    return cache.refresh(key(memberId), read, pending::readStuck);
  }

  public Future<Boolean> isActive(String memberId) {
    return status(memberId).map(Member.ACTIVE::equals);
  }

  /** After a committed status change: publish it (a higher version always replaces the old), then mark it done. */
  public Future<Void> publish(Member member) {
    return cache.write(key(member.id()), member.statusVersion(), member.status(), 0)
      .onSuccess(v -> repository.markPublished(member.id(), member.statusVersion(), CacheRepair.PUBLISHED,
        notification(member.id(), member.statusVersion())));
  }

  /**
   * After a suspension could not be published: completes once this process heard its NOTIFY (so
   * every listener had it), at most 1 s; at once for any other change.
   */
  public Future<Void> awaitAnnounced(io.vertx.core.Vertx vertx, Member m) {
    return Member.SUSPENDED.equals(m.status())
      ? pending.awaitPending(vertx, ref(m.id()), m.statusVersion(), 1000) : DONE;
  }

  /** Commits a status change (announcing a suspension to every instance), see {@link MemberRepository#setStatus}. */
  public Future<Member> change(String memberId, String status) {
    return repository.setStatus(memberId, status, CacheRepair.PENDING);
  }

  /** The member statuses' outbox, for {@link CacheRepair}. */
  public Outbox outbox() {
    return new Outbox() {
      @Override
      public Future<Map<String, Long>> unpublished(int limit) {
        return repository.unpublished(limit).map(rows -> {
          Map<String, Long> out = new LinkedHashMap<>();
          rows.forEach((id, version) -> out.put(ref(id), version));
          return out;
        });
      }

      @Override
      public Future<Void> repair(String ref) {
        String id = ref.substring(2);
        return cache.republish(key(id), () -> load(id), 0)
          .compose(version -> repository.markPublished(id, version, CacheRepair.PUBLISHED, notification(id, version)));
      }
    };
  }
}
