package io.openbureau.scoring;

import io.openbureau.cache.RedisStore;
import io.openbureau.config.BureauConfig;
import io.openbureau.db.Database;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The repair loop of the score cache, one per bureau process: replays to Redis every score that
 * is committed in Postgres but not marked published (a crash between a chunk's commit and its
 * publish, a publish that failed because Redis was down or slow), then marks it. No request is
 * needed: once Redis answers again, the next pass repairs it.
 *
 * <p>Safe to run anywhere and any number of times: each write is the versioned compare-and-set of
 * {@link io.openbureau.cache.VersionedCache}, so a replay never puts an older score over a newer
 * one, and the mark only ever rises to a version that reached Redis. Instances do not duplicate
 * work: a pass runs in a transaction holding {@link #LOCK} ({@code pg_try_advisory_xact_lock}), and
 * an instance that does not get it skips the pass. The lock is a transaction lock, so a crashed or
 * cut-off instance releases it with its session.
 */
public final class ScoreRepublisher extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ScoreRepublisher.class);
  /** The advisory lock key of the repair pass ("score rp" in ASCII): one pass at a time over all instances. */
  static final long LOCK = 0x73636f7265207270L;
  static final String TRY_LOCK = "SELECT pg_try_advisory_xact_lock(" + LOCK + ") AS held";

  private final BureauConfig config;
  private final ScoringSettings settings;
  private final RateLimitedLog failures = new RateLimitedLog(60_000);
  private Pool pool;
  private RedisStore redis;
  private ScoreStore scores;
  private volatile boolean stopped;
  private boolean failing;
  private long timer = -1;

  public ScoreRepublisher(BureauConfig config) {
    this.config = config;
    this.settings = ScoringSettings.from(config);
  }

  @Override
  public Future<?> start() {
    return vertx.executeBlocking(() -> Scorecard.load(Path.of(config.scorecardFile()))).onSuccess(scorecard -> {
      pool = Database.pool(vertx, config.postgres(), 1);
      redis = RedisStore.create(vertx, config.redis());
      scores = new ScoreStore(scorecard, redis, pool);
      schedule(settings.intervalMillis());
    });
  }

  private void schedule(long delay) {
    if (stopped) {
      return;
    }
    timer = vertx.setTimer(Math.max(1, delay), id -> pass().onComplete(ar -> {
      if (ar.succeeded()) {
        if (failing) {
          failing = false;
          LOG.info("score republication works again");
        }
        // a full batch: there may be more, go on at once; otherwise wait
        schedule(ar.result() >= settings.batchSize() ? 1 : settings.intervalMillis());
      } else {
        failing = true;
        failures.warn(LOG, "scores not yet in Redis could not be republished ({}); retrying every {} ms",
          ar.cause().toString(), settings.intervalMillis());
        schedule(settings.intervalMillis());
      }
    }));
  }

  /** One pass: how many scores it republished (0 when another instance holds the lock). */
  Future<Integer> pass() {
    Instant before = Instant.now().minusMillis(settings.graceMillis());
    return pool.withTransaction(tx -> tx.query(TRY_LOCK).execute().compose(rows -> {
      if (!rows.iterator().next().getBoolean("held")) {
        return Future.succeededFuture(0);
      }
      return scores.unpublished(tx, before, settings.batchSize()).compose(found -> found.isEmpty()
        ? Future.succeededFuture(0)
        : republish(tx, found));
    }));
  }

  private Future<Integer> republish(io.vertx.sqlclient.SqlConnection tx, Map<String, PersonScore> found) {
    return scores.writeToCache(found).timeout(settings.timeoutMillis(), TimeUnit.MILLISECONDS)
      .compose(v -> scores.markPublished(tx, found))
      .map(v -> {
        LOG.info("republished {} scores that were committed but not in Redis", found.size());
        return found.size();
      });
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    return Future.join(pool == null ? Future.succeededFuture() : pool.close(),
      redis == null ? Future.succeededFuture() : redis.close());
  }
}
