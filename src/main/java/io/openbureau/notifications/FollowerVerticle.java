package io.openbureau.notifications;

import io.openbureau.config.BureauConfig;
import io.openbureau.db.Database;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Derives notifications from what the bureau recorded ({@link Followers}), one per process, on
 * its own pool of 1 connection: every {@code notifications.pollMillis} a pass over every source in
 * one transaction (at once again while a source fills its batch: under load the passes come back
 * to back with full batches of {@code notifications.batchSize}, idle they cost one poll), and every
 * {@code notifications.expiryScanMillis} the scan of consents about to end.
 */
public final class FollowerVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(FollowerVerticle.class);
  private final Trouble trouble = new Trouble(LOG, "notification followers");
  private final BureauConfig config;
  private final NotificationSettings settings;
  private Pool pool;
  private Followers followers;
  private long timer = -1;
  private long expiryTimer = -1;
  private boolean running;
  private boolean stopped;
  private long lastExpiryScan;

  public FollowerVerticle(BureauConfig config) {
    this.config = config;
    this.settings = NotificationSettings.from(config);
  }

  @Override
  public Future<?> start() {
    pool = Database.pool(vertx, config.postgres(), 1); // one pass at a time: one connection
    followers = new Followers(pool, settings);
    timer = vertx.setPeriodic(settings.pollMillis(), settings.pollMillis(), id -> pass());
    return Future.succeededFuture();
  }

  private void pass() {
    if (running || stopped) {
      return;
    }
    running = true;
    boolean expiry = System.currentTimeMillis() - lastExpiryScan >= settings.expiryScanMillis();
    Future<Boolean> work = followers.pass();
    if (expiry) {
      work = work.compose(more -> followers.expiring().map(e -> more || e)).onSuccess(v -> lastExpiryScan =
        System.currentTimeMillis());
    }
    work.onComplete(ar -> {
      running = false;
      if (ar.failed()) {
        trouble.failed(ar.cause());
        return;
      }
      trouble.worked();
      if (ar.result() && !stopped) {
        vertx.runOnContext(v -> pass());
      }
    });
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    vertx.cancelTimer(timer);
    if (expiryTimer >= 0) {
      vertx.cancelTimer(expiryTimer);
    }
    return pool == null ? Future.succeededFuture() : pool.close();
  }
}
