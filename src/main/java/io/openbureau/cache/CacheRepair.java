package io.openbureau.cache;

import io.openbureau.config.BureauConfig;
import io.openbureau.db.Database;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.PgNotification;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiFunction;

/**
 * The background half of the cache rule ({@link VersionedCache}): one per process, on every
 * instance. It keeps {@link PendingChanges} up to date and repairs the cache by itself.
 * <ul>
 *   <li>A dedicated Postgres connection LISTENs on {@link #PENDING} (a take-away change committed:
 *   its key becomes suspect) and {@link #PUBLISHED} (the cache holds it: the key is trusted again).
 *   When that connection closes, every key is suspect until it is reconnected (retried every
 *   interval) and the outbox has been read again.</li>
 *   <li>Every {@code cache.repairIntervalMillis} (default 500): a heartbeat NOTIFY of its own (when
 *   it stops coming back the listener is presumed dead), a read of every change still to publish
 *   (which replaces what notifications said, so a lost notification costs at most one interval),
 *   then a republish of each of them from Postgres, marked done once Redis has it. Every instance
 *   does this; the versioned compare-and-set makes concurrent replays harmless. Nothing pending:
 *   one indexed query that finds nothing per outbox.</li>
 *   <li>Its pool also serves the requests' re-reads of suspect keys ({@link PendingChanges#reads}).
 *   A re-read that gets no answer in {@link VersionedCache#REFRESH_TIMEOUT_MILLIS} (a connection
 *   left half-open by a blackholed or frozen link never answers, even once the link is back)
 *   replaces the pool at once, so the bureau recovers within about a second of a restore.</li>
 * </ul>
 * Failures are logged once when repairs start failing and once when they succeed again, never per
 * attempt.
 */
public final class CacheRepair extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(CacheRepair.class);
  /** NOTIFY channel: {@code <ref>:<version>} was committed and takes access away; or a heartbeat. */
  public static final String PENDING = "ob_cache_pending";
  /** NOTIFY channel: the cache holds {@code <ref>} at {@code <version>} or newer. */
  public static final String PUBLISHED = "ob_cache_published";
  /** Pending changes read per poll; beyond, every key is suspect until the backlog shrinks. */
  static final int POLL_LIMIT = 10_000;
  /** Republished per tick at most (the rest next tick). */
  static final int REPAIR_BATCH = 1_000;
  /** One notification, in the caller's transaction when it has one. */
  public static final String NOTIFY = "SELECT pg_notify($1, $2)";

  private final BureauConfig config;
  private final PendingChanges pending;
  private final long intervalMillis;
  private final BiFunction<Pool, RedisStore, List<Outbox>> outboxes;
  private final String instanceId = UUID.randomUUID().toString();
  private Pool pool;
  private RedisStore redis;
  private List<Outbox> sources;
  private PgConnection listener;
  private long timer = -1;
  private boolean ticking;
  private boolean stopped;
  private boolean failing;
  private boolean dropped;
  private boolean closingListener;
  private long tickStarted;
  private long poolSince;
  /** A replacement for a stuck read was logged; reset once a pass succeeds. */
  private boolean replacing;
  private long heartbeats;

  public CacheRepair(BureauConfig config, PendingChanges pending, long intervalMillis,
                     BiFunction<Pool, RedisStore, List<Outbox>> outboxes) {
    this.config = config;
    this.pending = pending;
    this.intervalMillis = intervalMillis;
    this.outboxes = outboxes;
  }

  /** {@code cache.repairIntervalMillis} (50..60000, default 500). */
  public static long intervalMillis(BureauConfig config) {
    io.openbureau.config.Reader r = new io.openbureau.config.Reader(
      new io.vertx.core.json.JsonObject().put("cache", config.section("cache")));
    long ms = r.intIn("cache.repairIntervalMillis", 500, 50, 60_000);
    r.throwIfProblems();
    return ms;
  }

  private long tickTimeoutMillis() {
    return Math.max(5_000, 10 * intervalMillis);
  }

  /** The heartbeat timeout for an interval: a few missed heartbeats, and never under 3 s. */
  public static long heartbeatTimeoutMillis(long intervalMillis) {
    return Math.max(3_000, 4 * intervalMillis);
  }

  @Override
  public Future<?> start() {
    pool = Database.pool(vertx, config.postgres(), 2);
    poolSince = System.nanoTime();
    redis = RedisStore.create(vertx, config.redis());
    sources = outboxes.apply(pool, redis);
    pending.reads(pool);
    io.vertx.core.Context context = vertx.getOrCreateContext();
    pending.onReadStuck(() -> context.runOnContext(v -> readStuck()));
    listen();
    timer = vertx.setPeriodic(0, intervalMillis, id -> tick());
    return Future.succeededFuture();
  }

  private void listen() {
    if (stopped) {
      return;
    }
    // a connect or LISTEN that gets no answer (a half-open or frozen Postgres) is given up and retried
    io.vertx.core.Promise<PgConnection> attempt = io.vertx.core.Promise.promise();
    long guard = vertx.setTimer(tickTimeoutMillis(), id -> attempt.tryFail("the cache listener got no answer in "
      + tickTimeoutMillis() + " ms"));
    PgConnection.connect(vertx, Database.connectOptions(config.postgres())).compose(c -> {
      c.notificationHandler(this::notified);
      c.exceptionHandler(e -> LOG.debug("cache listener connection: {}", e.getMessage()));
      return c.query("LISTEN " + PENDING + "; LISTEN " + PUBLISHED).execute().map(c)
        .onFailure(e -> c.close());
    }).onComplete(ar -> {
      vertx.cancelTimer(guard);
      if (ar.succeeded() && !attempt.tryComplete(ar.result())) {
        ar.result().close(); // too late: a new attempt is under way
      } else if (ar.failed()) {
        attempt.tryFail(ar.cause());
      }
    });
    attempt.future().onSuccess(c -> {
      listener = c;
      closingListener = false;
      c.closeHandler(v -> {
        pending.listenerDown();
        listener = null;
        if (!stopped) {
          dropped = true;
          LOG.warn("the cache listener's Postgres connection closed; every key is checked against Postgres until it is back");
          vertx.setTimer(intervalMillis, id -> listen());
        }
      });
      pending.listenerUp();
      if (dropped) {
        dropped = false;
        LOG.info("the cache listener is connected again; keys are trusted once the outbox has been re-read");
      }
    }).onFailure(e -> {
      pending.listenerDown();
      LOG.debug("cache listener cannot connect: {}", e.getMessage());
      vertx.setTimer(intervalMillis, id -> listen());
    });
  }

  private void notified(PgNotification n) {
    String payload = n.getPayload();
    if (PENDING.equals(n.getChannel()) && payload.startsWith("hb:")) {
      if (payload.startsWith("hb:" + instanceId + ":")) {
        pending.heartbeat();
      }
      return;
    }
    int colon = payload.lastIndexOf(':');
    long version;
    try {
      version = Long.parseLong(payload.substring(colon + 1));
    } catch (RuntimeException e) {
      LOG.debug("ignored cache notification {}", payload);
      return;
    }
    String ref = payload.substring(0, colon);
    if (PENDING.equals(n.getChannel())) {
      pending.pending(ref, version);
    } else {
      pending.published(ref, version);
    }
  }

  /**
   * Heartbeat, poll the outboxes, republish what is pending. One tick at a time; a tick stuck on a
   * half-open connection (no answer, no close) is abandoned after {@link #tickTimeoutMillis} and
   * the pool replaced, and a listener whose heartbeats stopped is closed (then reconnected), so
   * neither can stall the repair, or distrust every key, for ever.
   */
  private void tick() {
    if (stopped) {
      return;
    }
    PgConnection l = listener;
    if (l != null && pending.heartbeatOverdue() && !closingListener) {
      closingListener = true;
      LOG.warn("the cache listener's heartbeats stopped coming back; reconnecting it");
      l.close();
    }
    if (ticking) {
      if (System.nanoTime() - tickStarted < tickTimeoutMillis() * 1_000_000L) {
        return;
      }
      if (!replacing) {
        LOG.warn("a cache repair pass got no answer from Postgres in {} ms; replacing its connections", tickTimeoutMillis());
      }
      replacePool();
    }
    ticking = true;
    tickStarted = System.nanoTime();
    Pool pool = this.pool;
    pool.preparedQuery(NOTIFY).execute(Tuple.of(PENDING, "hb:" + instanceId + ":" + (++heartbeats)))
      .transform(ar -> poll())
      .compose(this::repair)
      .onComplete(ar -> {
        if (pool != this.pool) {
          return; // an abandoned pass
        }
        ticking = false;
        if (stopped) {
          return;
        }
        if (ar.failed() && !failing) {
          failing = true;
          LOG.warn("cache repair cannot run ({}); retried every {} ms", ar.cause().getMessage(), intervalMillis);
        }
        if (ar.succeeded()) {
          replacing = false;
        }
        if (ar.succeeded() && failing) {
          failing = false;
          LOG.info("cache repair runs again");
        }
      });
  }

  /**
   * New connections for the repair loop and the re-reads of suspect keys; the old pool is closed,
   * which fails whatever still waits on its (presumably half-open) connections.
   */
  private void replacePool() {
    Pool stuck = pool;
    pool = Database.pool(vertx, config.postgres(), 2);
    poolSince = System.nanoTime();
    sources = outboxes.apply(pool, redis);
    pending.reads(pool);
    ticking = false;
    stuck.close();
  }

  /**
   * A request's re-read got no answer ({@link PendingChanges#readStuck}): replace the pool now,
   * unless it is younger than such a read's timeout (the stuck read then ran on the old one). Logged
   * once per run of replacements.
   */
  private void readStuck() {
    if (stopped || System.nanoTime() - poolSince < VersionedCache.REFRESH_TIMEOUT_MILLIS * 1_000_000L) {
      return;
    }
    if (!replacing) {
      replacing = true;
      LOG.warn("a re-read of a suspect key got no answer from Postgres in {} ms; replacing the repair loop's connections",
        VersionedCache.REFRESH_TIMEOUT_MILLIS);
    }
    replacePool();
    tick();
  }

  private record Due(Outbox outbox, String ref) {
  }

  private Future<List<Due>> poll() {
    long token = pending.beginPoll();
    List<Future<Map<String, Long>>> reads = new ArrayList<>();
    for (Outbox o : sources) {
      reads.add(o.unpublished(POLL_LIMIT + 1));
    }
    return Future.all(reads).map(all -> {
      Map<String, Long> merged = new HashMap<>();
      List<Due> due = new ArrayList<>();
      boolean complete = true;
      for (int i = 0; i < sources.size(); i++) {
        Map<String, Long> read = reads.get(i).result();
        complete &= read.size() <= POLL_LIMIT;
        merged.putAll(read);
        for (String ref : read.keySet()) {
          due.add(new Due(sources.get(i), ref));
        }
      }
      pending.endPoll(token, merged, complete);
      return due;
    });
  }

  private Future<Void> repair(List<Due> due) {
    if (due.isEmpty()) {
      return Future.succeededFuture();
    }
    List<Future<Void>> done = new ArrayList<>();
    for (Due d : due.subList(0, Math.min(REPAIR_BATCH, due.size()))) {
      done.add(d.outbox().repair(d.ref()));
    }
    return Future.join(done).<Void>mapEmpty().onSuccess(v -> LOG.debug("cache repair published {} pending changes",
      done.size()));
  }

  /** For tests and operators: whether this process currently trusts the cache's unsuspected keys. */
  public PendingChanges pending() {
    return pending;
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    PgConnection l = listener;
    Future<Void> closing = l == null ? Future.succeededFuture() : l.close().recover(e -> Future.succeededFuture());
    return closing.eventually(() -> Future.join(pool.close(), redis.close()));
  }
}
