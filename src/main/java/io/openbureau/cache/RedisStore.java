package io.openbureau.cache;

import io.openbureau.config.BureauConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.List;

/**
 * The Redis client of one verticle, with the configured key prefix and Lua scripts run by SHA
 * (EVALSHA, falling back to EVAL when the server has not seen the script, e.g. after a restart).
 * Redis holds only data derived from Postgres; every key of one person shares a hash tag so it
 * lives in one Redis Cluster slot.
 */
public final class RedisStore {
  private final Redis client;
  private final String prefix;

  public RedisStore(Redis client, String prefix) {
    this.client = client;
    this.prefix = prefix;
  }

  public static RedisStore create(Vertx vertx, BureauConfig.Redis cfg) {
    RedisOptions options = new RedisOptions()
      .setType(cfg.cluster() ? RedisClientType.CLUSTER : RedisClientType.STANDALONE)
      .setMaxPoolSize(cfg.poolSize())
      .setMaxPoolWaiting(cfg.poolSize() * 64)
      .setMaxWaitingHandlers(4096)
      .setEndpoints(cfg.endpoints());
    return new RedisStore(Redis.createClient(vertx, options), cfg.keyPrefix());
  }

  /** A key under the configured prefix; {@code tag} becomes the Redis Cluster hash tag. */
  public String key(String tag, String suffix) {
    return prefix + "{" + tag + "}" + (suffix.isEmpty() ? "" : ":" + suffix);
  }

  public String prefix() {
    return prefix;
  }

  public Future<Response> send(Request request) {
    return client.send(request);
  }

  public Future<Response> get(String key) {
    return client.send(Request.cmd(Command.GET).arg(key));
  }

  public Future<Response> eval(LuaScript script, List<String> keys, List<String> args) {
    return client.send(script.evalsha(keys, args))
      .recover(e -> e.getMessage() != null && e.getMessage().startsWith("NOSCRIPT")
        ? client.send(script.eval(keys, args))
        : Future.failedFuture(e));
  }

  public Future<Void> ping() {
    return client.send(Request.cmd(Command.PING)).mapEmpty();
  }

  public Future<Void> close() {
    return client.close();
  }
}
