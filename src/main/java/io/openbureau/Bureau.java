package io.openbureau;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.openbureau.auth.TrustedIssuers;
import io.openbureau.cache.CacheRepair;
import io.openbureau.cache.PendingChanges;
import io.openbureau.cache.RedisStore;
import io.openbureau.consent.ConsentDecisions;
import io.openbureau.consent.ConsentRepository;
import io.openbureau.members.MemberRepository;
import io.openbureau.members.MemberStatus;
import io.openbureau.scoring.ScoreStore;
import io.openbureau.scoring.Scorecard;
import java.nio.file.Path;
import java.util.List;
import io.openbureau.config.BureauConfig;
import io.openbureau.db.Database;
import io.openbureau.db.PrivilegeCheck;
import io.openbureau.compliance.LegacySeal;
import io.openbureau.consent.ReceiptSigner;
import io.openbureau.demo.DemoSeeder;
import io.openbureau.http.HttpVerticle;
import io.openbureau.http.MetricLabels;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running bureau: one Vert.x instance with the HTTP verticles and background verticles deployed.
 * Start-up is one future chain; blocking work (key files, migrations) runs on worker threads.
 */
public final class Bureau {
  private static final Logger LOG = LoggerFactory.getLogger(Bureau.class);

  private final Vertx vertx;
  private final BureauConfig config;
  private final PrometheusMeterRegistry registry;

  private Bureau(Vertx vertx, BureauConfig config, PrometheusMeterRegistry registry) {
    this.vertx = vertx;
    this.config = config;
    this.registry = registry;
  }

  public static Vertx newVertx(PrometheusMeterRegistry registry) {
    return Vertx.builder()
      .with(new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))))
      .withMetrics(new MicrometerMetricsFactory(registry))
      .build();
  }

  /** Starts a bureau on a new Vert.x instance. */
  public static Future<Bureau> start(BureauConfig config) {
    PrometheusMeterRegistry registry = MetricLabels.bound(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    Vertx vertx = newVertx(registry);
    io.openbureau.http.JvmMetrics.bind(vertx, registry);
    Bureau bureau = new Bureau(vertx, config, registry);
    // close asynchronously after reporting, so the caller's failure listener still runs on a live context
    return bureau.startUp().map(bureau)
      .onFailure(e -> {
        if (e instanceof io.openbureau.config.ConfigException || e instanceof StartupException) {
          // a failure this code named (the dependency, the key, the value): the message is the whole story
          LOG.error("OpenBureau failed to start: {}", e.getMessage());
          LOG.debug("start-up failure", e);
        } else {
          LOG.error("OpenBureau failed to start: {}", e.getMessage(), e);
        }
        vertx.close();
      });
  }

  private Future<Void> startUp() {
    int instances = config.http().instances() > 0 ? config.http().instances()
      : Math.max(1, Runtime.getRuntime().availableProcessors());
    // every section was validated with the core keys when the configuration was built (BureauConfig.from)
    return vertx.executeBlocking(() -> {
        checkPortFree(config.http()); // before anything touches Postgres: a second process fails here, not after migrations
        io.openbureau.config.BusinessTime.configure(io.openbureau.config.BusinessTime.from(config));
        io.openbureau.ageing.AgeingSettings.configure(config); // furnishing ages late-arriving data with it
        io.openbureau.furnishing.CrashHook.arm(config); // a test hook: refused outside env test
        return TrustedIssuers.load(vertx, config.auth()); // fail fast on bad keys
      })
      .compose(issuers -> probeRedis())
      .compose(issuers -> Database.prepare(vertx, config.postgres())
        .recover(e -> Future.failedFuture(new StartupException(Dependencies.postgres(config.postgres(), e), e))))
      .compose(v -> withPool(pool -> PrivilegeCheck.run(pool, config)))
      .compose(v -> withPool(this::maintainPartitions))
      .compose(v -> vertx.executeBlocking(() -> ReceiptSigner.load(config.signing())))
      .compose(signer -> withPool(pool -> LegacySeal.run(vertx, pool, signer)))
      .onSuccess(v -> schedulePartitionMaintenance())
      .compose(v -> config.demoSeed() ? seedDemo() : Future.succeededFuture())
      .compose(v -> deployCacheRepair())
      .compose(v -> vertx.deployVerticle(() -> new HttpVerticle(config, registry, pending),
        new DeploymentOptions().setInstances(instances)))
      // one repair loop per process: scores committed but not yet in Redis reach it without a request
      .compose(id -> vertx.deployVerticle(new io.openbureau.scoring.ScoreRepublisher(config)))
      .compose(id -> vertx.deployVerticle(new io.openbureau.ageing.AgeingVerticle(config))) // daily, once over all instances
      // one daily re-scoring pass over all instances: scores follow the calendar, not only furnishing
      .compose(id -> vertx.deployVerticle(new io.openbureau.scoring.ScoreRefresher(config)))
      .compose(id -> deployNotifications())
      .onSuccess(id -> LOG.info("OpenBureau listening on {}:{} ({} HTTP instances, env {})",
        config.http().host(), config.http().port(), instances, config.env()))
      .mapEmpty();
  }

  /**
   * Fails when {@code http.host}:{@code http.port} cannot be bound (another process listens there),
   * naming the port and the key. Port 0 (a random port) is always free.
   */
  static void checkPortFree(BureauConfig.Http http) {
    if (http.port() == 0) {
      return;
    }
    try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
      probe.setReuseAddress(true);
      probe.bind(new java.net.InetSocketAddress(http.host(), http.port()));
    } catch (java.io.IOException e) {
      throw new StartupException("cannot listen on " + http.host() + ":" + http.port() + " (http.host, http.port): "
        + (e instanceof java.net.BindException ? "the port is in use by another process (" + e.getMessage() + ")"
        : String.valueOf(e.getMessage())) + "; set http.port (or PORT) to a free port");
    }
  }

  /**
   * Redis may be down at start-up (requests that need it answer 503 until it is back), but the log
   * says so once, naming the endpoint and the key.
   */
  private Future<Void> probeRedis() {
    RedisStore redis = RedisStore.create(vertx, config.redis());
    return redis.ping()
      .onFailure(e -> LOG.warn("{}; requests that need it answer 503 until it is reachable",
        Dependencies.redis(config.redis(), e)))
      .eventually(redis::close)
      .otherwiseEmpty();
  }

  /** Followers and delivery of notifications (issue 14): each its own verticle and pool of 2, off the hot path. */
  private Future<Void> deployNotifications() {
    if (!io.openbureau.notifications.NotificationSettings.from(config).enabled()) {
      return Future.succeededFuture();
    }
    return vertx.deployVerticle(new io.openbureau.notifications.FollowerVerticle(config))
      .compose(id -> vertx.deployVerticle(new io.openbureau.notifications.DeliveryVerticle(config, registry)))
      .mapEmpty();
  }

  /**
   * What this process knows of cache changes still to publish, shared by every HTTP verticle, fed
   * and repaired by one {@link CacheRepair} (see VersionedCache, "one rule").
   */
  private PendingChanges pending;

  private Future<Void> deployCacheRepair() {
    long interval = CacheRepair.intervalMillis(config);
    pending = new PendingChanges(CacheRepair.heartbeatTimeoutMillis(interval));
    return vertx.deployVerticle(new CacheRepair(config, pending, interval, (pool, redis) -> List.of(
      new ConsentDecisions(new ConsentRepository(pool), redis).outbox(),
      new MemberStatus(redis, new MemberRepository(pool)).outbox(),
      new io.openbureau.rights.ProtectionCache(pool, redis, PendingChanges.TRUST_REDIS).outbox()))).mapEmpty();
  }

  /** This process' view of unpublished cache changes (tests look at it). */
  public PendingChanges pendingChanges() {
    return pending;
  }

  private Future<Void> seedDemo() {
    return vertx.executeBlocking(() -> Scorecard.load(Path.of(config.scorecardFile()))).compose(scorecard -> {
      RedisStore redis = RedisStore.create(vertx, config.redis());
      // the demo needs Redis: if it is not there, say which one
      return redis.ping().recover(e -> Future.failedFuture(new StartupException(Dependencies.redis(config.redis(), e), e)))
        .compose(v -> withPool(pool -> new DemoSeeder(config, pool, new ScoreStore(scorecard, redis, pool)).seed()))
        .eventually(redis::close);
    });
  }

  /**
   * The access log is partitioned by month: make sure this month and the next few exist. The server's
   * role may not create tables: the function runs with its owner's rights (V7).
   */
  private Future<Void> maintainPartitions(Pool pool) {
    return pool.query("SELECT audit_ensure_partitions(1, 3)").execute().mapEmpty();
  }

  /** Future months of the access log must exist before rows arrive: re-checked periodically. */
  private void schedulePartitionMaintenance() {
    long every = io.openbureau.compliance.ComplianceSettings.from(config).partitionCheckHours() * 3_600_000L;
    vertx.setPeriodic(every, every, id -> withPool(this::maintainPartitions)
      .onFailure(e -> LOG.warn("access-log partition maintenance failed: {}", e.getMessage())));
  }

  private Future<Void> withPool(java.util.function.Function<Pool, Future<?>> work) {
    Pool pool = Database.pool(vertx, config.postgres(), 2);
    return work.apply(pool).<Void>mapEmpty().eventually(pool::close);
  }

  public Vertx vertx() {
    return vertx;
  }

  public BureauConfig config() {
    return config;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Stops accepting, lets in-flight requests finish (bounded by http.shutdownGraceSeconds), closes pools. */
  public Future<Void> close() {
    return vertx.close();
  }
}
