package io.openbureau.cache;

import io.openbureau.config.BureauConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisConnection;
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
  private volatile Future<RedisConnection> connection;

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

  /**
   * Commands go over one connection held by this store (one store per verticle, so one per event
   * loop), which pipelines concurrent requests instead of borrowing a pooled connection per
   * command. A connection that fails or closes is dropped; the next command opens a new one. In
   * cluster mode the connection routes each command to its slot's node.
   */
  public Future<Response> send(Request request) {
    return connection().compose(c -> c.send(request));
  }

  public Future<Response> get(String key) {
    return send(Request.cmd(Command.GET).arg(key));
  }

  public Future<Response> eval(LuaScript script, List<String> keys, List<String> args) {
    return send(script.evalsha(keys, args))
      .recover(e -> e.getMessage() != null && e.getMessage().startsWith("NOSCRIPT")
        ? send(script.eval(keys, args))
        : Future.failedFuture(e));
  }

  private Future<RedisConnection> connection() {
    Future<RedisConnection> current = connection;
    if (current != null && !current.failed()) {
      return current;
    }
    Future<RedisConnection> opening = client.connect();
    connection = opening;
    opening.onSuccess(c -> {
      c.exceptionHandler(e -> drop(opening));
      c.endHandler(v -> drop(opening));
    });
    return opening;
  }

  private void drop(Future<RedisConnection> dead) {
    if (connection == dead) {
      connection = null;
    }
    if (dead.succeeded()) {
      dead.result().close();
    }
  }

  /** At most this many commands are outstanding on one connection (below maxWaitingHandlers). */
  static final int PIPELINE_SLICE = 512;

  /**
   * Runs one script many times, pipelined on one connection (in a cluster the connection routes
   * each call to its slot): slices of {@link #PIPELINE_SLICE} calls are sent without waiting for
   * each answer. Fails if any call fails.
   */
  public Future<Void> evalAll(LuaScript script, List<List<String>> keys, List<List<String>> args) {
    if (keys.isEmpty()) {
      return Future.succeededFuture();
    }
    return client.connect().compose(conn -> {
      Future<Void> chain = Future.succeededFuture();
      for (int from = 0; from < keys.size(); from += PIPELINE_SLICE) {
        int start = from;
        int end = Math.min(keys.size(), from + PIPELINE_SLICE);
        chain = chain.compose(v -> {
          List<Future<Response>> sent = new java.util.ArrayList<>(end - start);
          for (int i = start; i < end; i++) {
            List<String> k = keys.get(i);
            List<String> a = args.get(i);
            sent.add(conn.send(script.evalsha(k, a))
              .recover(e -> e.getMessage() != null && e.getMessage().startsWith("NOSCRIPT")
                ? conn.send(script.eval(k, a))
                : Future.failedFuture(e)));
          }
          return Future.all(sent).mapEmpty();
        });
      }
      return chain.eventually(conn::close);
    });
  }

  public Future<Void> ping() {
    return send(Request.cmd(Command.PING)).mapEmpty();
  }

  public Future<Void> close() {
    Future<RedisConnection> held = connection;
    connection = null;
    Future<Void> closing = held != null && held.succeeded() ? held.result().close() : Future.succeededFuture();
    return closing.recover(e -> Future.succeededFuture()).compose(v -> client.close());
  }
}
