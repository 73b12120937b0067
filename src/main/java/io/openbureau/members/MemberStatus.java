package io.openbureau.members;

import io.openbureau.cache.RedisStore;
import io.openbureau.cache.VersionedCache;
import io.vertx.core.Future;

/**
 * Whether a member may use the API right now, read from shared state (Redis, filled from Postgres)
 * on every request, never from a per-instance cache: a suspension answered by one instance is seen
 * by the very next request on every instance. Ordering against racing fills and flushes is
 * {@link VersionedCache}'s invariant.
 */
public final class MemberStatus {
  private static final String UNKNOWN = "UNKNOWN";

  private final RedisStore redis;
  private final VersionedCache cache;
  private final MemberRepository repository;

  public MemberStatus(RedisStore redis, MemberRepository repository) {
    this.redis = redis;
    this.cache = new VersionedCache(redis);
    this.repository = repository;
  }

  public String key(String memberId) {
    return redis.key("m:" + memberId, "status");
  }

  /** ACTIVE, SUSPENDED or UNKNOWN (not registered). */
  public Future<String> status(String memberId) {
    return cache.getOrLoad(key(memberId), () -> repository.find(memberId).map(m -> m == null
        ? new VersionedCache.Loaded(0, UNKNOWN)
        : new VersionedCache.Loaded(m.statusVersion(), m.status())), 0)
      .map(VersionedCache.Entry::payload);
  }

  public Future<Boolean> isActive(String memberId) {
    return status(memberId).map(Member.ACTIVE::equals);
  }

  /** After a committed status change: publish it (a higher version always replaces the old). */
  public Future<Void> publish(Member member) {
    return cache.write(key(member.id()), member.statusVersion(), member.status(), 0);
  }
}
