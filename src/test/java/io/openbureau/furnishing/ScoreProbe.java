package io.openbureau.furnishing;

import io.openbureau.cache.RedisStore;
import io.openbureau.db.Database;
import io.openbureau.scoring.ScoreStore;
import io.openbureau.scoring.Scorecard;
import io.openbureau.support.TestBureau;

import java.nio.file.Path;

/** A ScoreStore on the test bureau's own Vert.x, Postgres and Redis: the read path the inquiry will use. */
final class ScoreProbe {
  private ScoreProbe() {
  }

  static ScoreStore store(TestBureau bureau) {
    var vertx = bureau.bureau().vertx();
    return new ScoreStore(Scorecard.load(Path.of("config/scorecard.yaml")), RedisStore.create(vertx, bureau.config().redis()),
      Database.pool(vertx, bureau.config().postgres(), 2));
  }
}
