package io.openbureau.ageing;

import io.openbureau.cache.RedisStore;
import io.openbureau.config.BureauConfig;
import io.openbureau.db.Database;
import io.openbureau.scoring.ScoreStore;
import io.openbureau.scoring.Scorecard;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;

import java.nio.file.Path;
import java.time.Clock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daily schedule of {@link NegativeDataAgeing}, one per process: every
 * {@code ageing.checkIntervalMinutes} (the first one interval after start-up) it runs the pass unless today's
 * (business date) run is already recorded in {@code maintenance_log}; the pass's advisory lock
 * keeps two instances from running it at once. Survives restarts: the record is in Postgres.
 */
public final class AgeingVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(AgeingVerticle.class);
  private final BureauConfig config;
  private final AgeingSettings settings;
  private final Clock clock;
  private Pool pool;
  private RedisStore redis;
  private NegativeDataAgeing ageing;
  private long timer = -1;
  private boolean running;

  public AgeingVerticle(BureauConfig config) {
    this(config, Clock.systemUTC());
  }

  public AgeingVerticle(BureauConfig config, Clock clock) {
    this.config = config;
    this.settings = AgeingSettings.from(config); // validated at start-up
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    if (!settings.scheduled()) {
      return Future.succeededFuture();
    }
    return vertx.executeBlocking(() -> Scorecard.load(Path.of(config.scorecardFile()))).onSuccess(scorecard -> {
      pool = Database.pool(vertx, config.postgres(), 2); // the pass holds one; publishing marks scores on the other
      redis = RedisStore.create(vertx, config.redis());
      ageing = new NegativeDataAgeing(pool, new ScoreStore(scorecard, redis, pool), settings, clock);
      long every = settings.checkIntervalMinutes() * 60_000L;
      timer = vertx.setPeriodic(every, every, id -> check());
    });
  }

  private void check() {
    if (running) {
      return; // a long pass is still going: never two from one process
    }
    running = true;
    ageing.runIfDue().onComplete(ar -> {
      running = false;
      if (ar.failed()) {
        LOG.warn("negative data ageing failed ({}); retried at the next check", ar.cause().toString());
      }
    });
  }

  @Override
  public Future<?> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    return Future.join(pool == null ? Future.succeededFuture() : pool.close(),
      redis == null ? Future.succeededFuture() : redis.close());
  }
}
