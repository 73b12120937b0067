package io.openbureau.furnishing;

import io.openbureau.cache.RedisStore;
import io.openbureau.db.Database;
import io.openbureau.scoring.ScoreStore;
import io.openbureau.scoring.Scorecard;
import io.openbureau.support.TestBureau;
import io.vertx.sqlclient.Pool;

import java.nio.file.Path;

/**
 * A ScoreStore on the test bureau's own Vert.x, Postgres and Redis: the read path the inquiry will
 * use. Closing it closes the pool and the Redis client it opened.
 */
final class ScoreProbe implements AutoCloseable {
  private final Pool pool;
  private final RedisStore redis;
  private final ScoreStore store;

  private ScoreProbe(TestBureau bureau) {
    var vertx = bureau.bureau().vertx();
    this.pool = Database.pool(vertx, bureau.config().postgres(), 2);
    this.redis = RedisStore.create(vertx, bureau.config().redis());
    this.store = new ScoreStore(Scorecard.load(Path.of("config/scorecard.yaml")), redis, pool);
  }

  static ScoreProbe open(TestBureau bureau) {
    return new ScoreProbe(bureau);
  }

  ScoreStore store() {
    return store;
  }

  @Override
  public void close() {
    TestBureau.await(pool.close().eventually(redis::close).toCompletionStage().toCompletableFuture());
  }
}
