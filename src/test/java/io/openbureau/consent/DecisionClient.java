package io.openbureau.consent;

import io.openbureau.cache.RedisStore;
import io.openbureau.config.BureauConfig;
import io.openbureau.db.Database;
import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;

import java.time.Instant;
import java.util.concurrent.TimeUnit;

/** The decision function as another process would run it: its own Vert.x, Postgres pool and Redis client. */
final class DecisionClient implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx();
  private final Pool pool;
  private final RedisStore redis;
  final ConsentDecisions decisions;
  final BorrowerKeys keys;

  DecisionClient(BureauConfig cfg) {
    this(cfg, 0);
  }

  /** With {@code fillDelayMillis > 0}, every cache fill waits that long between its Postgres read and its Redis write. */
  DecisionClient(BureauConfig cfg, long fillDelayMillis) {
    pool = Database.pool(vertx, cfg.postgres(), 4);
    redis = RedisStore.create(vertx, cfg.redis());
    ConsentRepository repository = new ConsentRepository(pool);
    decisions = fillDelayMillis <= 0 ? new ConsentDecisions(repository, redis)
      : new ConsentDecisions((k, l, p) -> repository.slot(k, l, p)
          .compose(slot -> vertx.timer(fillDelayMillis).map(slot)), redis);
    keys = new BorrowerKeys(cfg.identity().hmacKeyId(), cfg.identity().hmacSecret());
  }

  Decision decide(String nationalId, String lenderId, String purpose, String scope) {
    return await(decisions.decide(keys.key(nationalId), lenderId, purpose, scope, Instant.now()));
  }

  static <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    await(Future.join(pool.close(), redis.close()));
    await(vertx.close());
  }
}
