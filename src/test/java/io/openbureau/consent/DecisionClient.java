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

/**
 * The decision function as another process would run it: its own Vert.x, Postgres pool and Redis
 * client. The decision is the inquiry script's (the one place the consent rule lives), judged
 * without recording anything; the consent fills go through {@link ConsentDecisions}.
 */
final class DecisionClient implements AutoCloseable {
  private final Vertx vertx = Vertx.vertx();
  private final Pool pool;
  private final RedisStore redis;
  final ConsentDecisions decisions;
  final BorrowerKeys keys;
  private final io.openbureau.inquiry.InquiryService judge;

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
    io.openbureau.scoring.ScoreStore scores = new io.openbureau.scoring.ScoreStore(
      io.openbureau.scoring.Scorecard.load(java.nio.file.Path.of(cfg.scorecardFile())), redis, pool);
    judge = new io.openbureau.inquiry.InquiryService(pool, redis, decisions, scores,
      new io.openbureau.members.MemberStatus(redis, new io.openbureau.members.MemberRepository(pool)),
      new io.openbureau.rights.ProtectionCache(pool, redis, io.openbureau.cache.PendingChanges.TRUST_REDIS),
      io.openbureau.inquiry.InquirySettings.from(cfg), new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
  }

  Decision decide(String nationalId, String lenderId, String purpose, String scope) {
    return await(decide(keys.key(nationalId), lenderId, purpose, scope));
  }

  /** The decision by the inquiry script (fills first on a miss), nothing recorded. */
  Future<Decision> decide(byte[] key, String lenderId, String purpose, String scope) {
    return judge.judge(lenderId, key, purpose, scope, Instant.now())
      .map(d -> d.allowed() ? Decision.allow(d.consentId() == null ? null : java.util.UUID.fromString(d.consentId()))
        : Decision.deny(d.reason()));
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
