package io.openbureau.furnishing;

import io.openbureau.support.TestBureau;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

/** Reads one raw Redis key of a test bureau. */
final class RedisProbe {
  private RedisProbe() {
  }

  static String get(TestBureau bureau, String key) {
    Redis redis = Redis.createClient(bureau.bureau().vertx(), bureau.config().redis().endpoints().get(0));
    try {
      var r = TestBureau.await(redis.send(Request.cmd(Command.GET).arg(key)).toCompletionStage().toCompletableFuture());
      return r == null ? null : r.toString();
    } finally {
      redis.close();
    }
  }
}
