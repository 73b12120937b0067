package io.openbureau.cache;

import io.vertx.core.Future;

import java.util.Map;

/**
 * One kind of cached value whose changes are recorded in Postgres until published (see
 * {@link VersionedCache}, "one rule"): consent slots, member statuses. {@link CacheRepair} drives it.
 */
public interface Outbox {
  /** At most {@code limit} refs still to publish, each with its newest unpublished version. */
  Future<Map<String, Long>> unpublished(int limit);

  /**
   * Re-read {@code ref} from Postgres, publish it ({@link VersionedCache#republish}), then mark the
   * record done up to the version published (with a {@link CacheRepair#PUBLISHED} notification).
   */
  Future<Void> repair(String ref);
}
