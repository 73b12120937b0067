package io.openbureau.cache;

import io.openbureau.config.BureauConfig;
import io.openbureau.http.ApiError;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.impl.PooledRedisConnection;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The Redis client of one verticle, with the configured key prefix and Lua scripts run by SHA
 * (EVALSHA, falling back to EVAL when the server has not seen the script, e.g. after a restart).
 * Redis holds only data derived from Postgres; every key of one person shares a hash tag so it
 * lives in one Redis Cluster slot.
 *
 * <h2>Timeouts: a stalled Redis never holds a request</h2>
 * Every command ({@link #send}, {@link #eval}, each slice of {@link #evalAll}) fails after
 * {@code redis.commandTimeoutMillis} with a 503 {@link ApiError} naming {@code redis}; a new
 * connection (TCP connect and handshake, in a cluster also the slot map) fails after
 * {@code redis.connectTimeoutMillis}, and with it every command waiting for it. A command therefore
 * waits at most connect + command timeout (1.5 s by default), and only the command timeout on a
 * connection that is already open. A command
 * that timed out means its connection is stalled (Redis answers in order, so everything queued
 * behind it waits too): the connection is closed at once, which fails the commands queued on it
 * immediately (they do not each wait out their own timeout), and the next command opens a new one.
 * Once Redis answers again the bureau recovers by itself, without a restart. In cluster mode the
 * stalled connection is given back to the pool rather than closed (the client does not expose its
 * per-node sockets); commands on it still fail after the timeout.
 *
 * <p>Each connection is closed exactly once, and its handlers are removed before it goes back to
 * the pool, so an old handler can never close (recycle) a connection that another borrower holds.
 *
 * <h2>What the bureau keeps in Redis (memory bound per key class)</h2>
 * Every key is under {@code redis.keyPrefix}; sizes are approximate (Redis 7, small strings,
 * ~70-100 bytes of overhead per key). See {@link VersionedCache} for the TTL rules.
 * <ul>
 *   <li>{@code {b:<person>}:consent:<lender>:<purpose>}: one consent slot per (person, lender,
 *   purpose) asked about, ~150 B. NONE (no consent ever, version 0): {@code negativeTtlSeconds};
 *   otherwise (an active, expired or revoked consent; bounded by the consents rows in Postgres)
 *   until a little after the consent's expiry when the owner gives its expiry, capped by
 *   {@code maxTtlSeconds}, refilled from Postgres on a miss.</li>
 *   <li>{@code {b:<person>}:score}: ~300 B; an empty entry (no data, version 0):
 *   {@code negativeTtlSeconds}; a person with data (bounded by Postgres' people): {@code maxTtlSeconds}.</li>
 *   <li>{@code {b:<person>}:gen} and {@code {m:<member>}:gen}: the generation, ~100 B, one per hash
 *   tag, lives {@code negativeTtlSeconds} from its creation (never refreshed).</li>
 *   <li>{@code {m:<member>}:status}: ~100 B per member (bounded by the members table, plus unknown
 *   ids seen on tokens: {@code negativeTtlSeconds}); {@code maxTtlSeconds}.</li>
 *   <li>{@code {m:<member>}:rl}: the rate limiter's bucket, ~120 B per member, expires after
 *   burst / rate + 1 s of silence (inquiry.member_gate.lua).</li>
 *   <li>{@code {b:<person>}:inq} and {@code :inq:ready}: the inquiry window and its marker (owned by
 *   the inquiry feature; window TTL 91 days, marker {@code inquiry.windowRebuildSeconds}).</li>
 * </ul>
 * A denial about a person nobody asked about before leaves at most the slot, the generation and
 * the window's keys, the first two gone after {@code negativeTtlSeconds}.
 */
public final class RedisStore {
  private final Redis client;
  private final String prefix;
  private final long commandTimeoutMillis;
  private final long connectTimeoutMillis;
  private final long negativeTtlMillis;
  private final long maxTtlMillis;
  private volatile Link link;

  public RedisStore(Redis client, String prefix) {
    this(client, prefix, new BureauConfig.Redis(List.of(), "standalone", prefix, 1));
  }

  private RedisStore(Redis client, String prefix, BureauConfig.Redis cfg) {
    this.client = client;
    this.prefix = prefix;
    this.commandTimeoutMillis = cfg.commandTimeoutMillis();
    this.connectTimeoutMillis = cfg.connectTimeoutMillis();
    this.negativeTtlMillis = cfg.negativeTtlSeconds() * 1000;
    this.maxTtlMillis = cfg.maxTtlSeconds() * 1000;
  }

  public static RedisStore create(Vertx vertx, BureauConfig.Redis cfg) {
    RedisOptions options = new RedisOptions()
      .setType(cfg.cluster() ? RedisClientType.CLUSTER : RedisClientType.STANDALONE)
      .setMaxPoolSize(cfg.poolSize())
      .setMaxPoolWaiting(cfg.poolSize() * 64)
      .setMaxWaitingHandlers(4096)
      .setNetClientOptions(new NetClientOptions().setTcpNoDelay(true).setTcpKeepAlive(true)
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, cfg.connectTimeoutMillis())))
      .setEndpoints(cfg.endpoints());
    return new RedisStore(Redis.createClient(vertx, options), cfg.keyPrefix(), cfg);
  }

  /** A key under the configured prefix; {@code tag} becomes the Redis Cluster hash tag. */
  public String key(String tag, String suffix) {
    return prefix + "{" + tag + "}" + (suffix.isEmpty() ? "" : ":" + suffix);
  }

  public String prefix() {
    return prefix;
  }

  /** {@code redis.negativeTtlSeconds} in ms: entries saying "nothing in Postgres", generation keys. */
  public long negativeTtlMillis() {
    return negativeTtlMillis;
  }

  /** {@code redis.maxTtlSeconds} in ms: the longest any cache entry lives before a refill. */
  public long maxTtlMillis() {
    return maxTtlMillis;
  }

  /**
   * Commands go over one connection held by this store (one store per verticle, so one per event
   * loop), which pipelines concurrent requests instead of borrowing a pooled connection per
   * command. A connection that fails, closes or stalls (a command past the timeout) is dropped; the
   * next command opens a new one. In cluster mode the connection routes each command to its slot's
   * node. Fails after {@code redis.commandTimeoutMillis} once sent (503 naming redis), or when no
   * connection opens within {@code redis.connectTimeoutMillis}.
   */
  public Future<Response> send(Request request) {
    Link held = link();
    return held.ready.compose(c -> c.send(request)
      .timeout(commandTimeoutMillis, TimeUnit.MILLISECONDS)
      .recover(e -> {
        if (e instanceof TimeoutException) {
          stalled(held);
          return Future.failedFuture(timedOut());
        }
        return Future.failedFuture(e);
      }));
  }

  public Future<Response> get(String key) {
    return send(Request.cmd(Command.GET).arg(key));
  }

  public Future<Response> eval(LuaScript script, List<String> keys, List<String> args) {
    return send(script.evalsha(keys, args))
      .recover(e -> noScript(e) ? send(script.eval(keys, args)) : Future.failedFuture(e));
  }

  private static boolean noScript(Throwable e) {
    return e.getMessage() != null && e.getMessage().startsWith("NOSCRIPT");
  }

  private ApiError timedOut() {
    return ApiError.dependencyUnavailable("unavailable", "redis",
      "did not answer within " + commandTimeoutMillis + " ms; retry later");
  }

  private Link link() {
    Link current = link;
    if (current != null && !current.ready.failed() && !current.dropped.get()) {
      return current;
    }
    Link opened = new Link(connect());
    link = opened;
    opened.ready.onSuccess(c -> {
      c.exceptionHandler(e -> broken(opened));
      c.endHandler(v -> broken(opened));
      if (opened.dropped.get()) {
        opened.close(); // stalled before its connect even finished: late, but healthy
      }
    });
    return opened;
  }

  /** The socket failed or ended: the client has already evicted it from the pool; just forget it. */
  private void broken(Link dead) {
    dead.dropped.set(true);
    dead.closed.set(true);
    if (link == dead) {
      link = null;
    }
  }

  /** A command on it timed out: close it now so the commands queued behind it fail fast. */
  private void stalled(Link dead) {
    if (link == dead) {
      link = null;
    }
    if (dead.dropped.compareAndSet(false, true) && dead.ready.succeeded()) {
      dead.forceClose();
    }
  }

  /**
   * A new connection within {@code redis.connectTimeoutMillis} (connect and handshake); one that
   * arrives after its caller gave up goes back to the pool.
   */
  private Future<RedisConnection> connect() {
    Promise<RedisConnection> result = Promise.promise();
    Future<RedisConnection> connecting = client.connect();
    connecting.timeout(connectTimeoutMillis, TimeUnit.MILLISECONDS).onComplete(ar -> {
      if (ar.succeeded()) {
        result.tryComplete(ar.result());
      } else if (ar.cause() instanceof TimeoutException) {
        connecting.onSuccess(late -> closeQuietly(late));
        result.tryFail(ApiError.dependencyUnavailable("unavailable", "redis",
          "did not accept a connection within " + connectTimeoutMillis + " ms; retry later"));
      } else {
        result.tryFail(ar.cause());
      }
    });
    return result.future();
  }

  private static void closeQuietly(RedisConnection c) {
    c.exceptionHandler(null);
    c.endHandler(null);
    c.close();
  }

  /** One connection this store borrowed; closed (or given back) exactly once. */
  private static final class Link {
    final Future<RedisConnection> ready;
    final AtomicBoolean dropped = new AtomicBoolean();
    final AtomicBoolean closed = new AtomicBoolean();

    Link(Future<RedisConnection> ready) {
      this.ready = ready;
    }

    /** Back to the pool, handlers removed (a later borrower's connection must not call ours). */
    Future<Void> close() {
      if (!ready.succeeded() || !closed.compareAndSet(false, true)) {
        return Future.succeededFuture();
      }
      RedisConnection c = ready.result();
      c.exceptionHandler(null);
      c.endHandler(null);
      return c.close().recover(e -> Future.succeededFuture());
    }

    /** Close the socket itself: the client fails what is queued on it and evicts it from the pool. */
    void forceClose() {
      if (!ready.succeeded() || !closed.compareAndSet(false, true)) {
        return;
      }
      RedisConnection c = ready.result();
      c.exceptionHandler(null);
      c.endHandler(null);
      if (c instanceof PooledRedisConnection pooled) {
        pooled.actual().forceClose();
      } else {
        c.close(); // cluster: the per-node sockets are not exposed; give them back
      }
    }
  }

  /** At most this many commands are outstanding on one connection (below maxWaitingHandlers). */
  static final int PIPELINE_SLICE = 512;

  /**
   * Runs one script many times, pipelined on one connection of its own (in a cluster the
   * connection routes each call to its slot): slices of {@link #PIPELINE_SLICE} calls are sent
   * without waiting for each answer. Fails if any call fails, or when a slice is not answered within
   * {@code redis.commandTimeoutMillis} (then the connection is closed as stalled).
   */
  public Future<Void> evalAll(LuaScript script, List<List<String>> keys, List<List<String>> args) {
    if (keys.isEmpty()) {
      return Future.succeededFuture();
    }
    return connect().compose(conn -> {
      Link own = new Link(Future.succeededFuture(conn));
      Future<Void> chain = Future.succeededFuture();
      for (int from = 0; from < keys.size(); from += PIPELINE_SLICE) {
        int start = from;
        int end = Math.min(keys.size(), from + PIPELINE_SLICE);
        chain = chain.compose(v -> {
          List<Future<Response>> sent = new ArrayList<>(end - start);
          for (int i = start; i < end; i++) {
            List<String> k = keys.get(i);
            List<String> a = args.get(i);
            sent.add(conn.send(script.evalsha(k, a))
              .recover(e -> noScript(e) ? conn.send(script.eval(k, a)) : Future.failedFuture(e)));
          }
          return Future.all(sent).<Void>mapEmpty()
            .timeout(commandTimeoutMillis, TimeUnit.MILLISECONDS)
            .recover(e -> {
              if (e instanceof TimeoutException) {
                own.forceClose();
                return Future.failedFuture(timedOut());
              }
              return Future.failedFuture(e);
            });
        });
      }
      return chain.eventually(own::close);
    });
  }

  public Future<Void> ping() {
    return send(Request.cmd(Command.PING)).mapEmpty();
  }

  public Future<Void> close() {
    Link held = link;
    link = null;
    Future<Void> closing = held != null ? held.close() : Future.succeededFuture();
    return closing.recover(e -> Future.succeededFuture()).compose(v -> client.close());
  }
}
