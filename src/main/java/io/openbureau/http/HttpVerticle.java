package io.openbureau.http;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.openbureau.audit.AuditSettings;
import io.openbureau.audit.AuditWriter;
import io.openbureau.auth.Guards;
import io.openbureau.auth.TokenVerifier;
import io.openbureau.auth.TrustedIssuers;
import io.openbureau.cache.PendingChanges;
import io.openbureau.cache.RedisStore;
import io.openbureau.compliance.AccessLogRepository;
import io.openbureau.compliance.BorrowerRoutes;
import io.openbureau.compliance.ChainCloser;
import io.openbureau.compliance.CheckpointFeed;
import io.openbureau.compliance.Checkpointer;
import io.openbureau.compliance.ComplianceRoutes;
import io.openbureau.compliance.ComplianceSettings;
import io.openbureau.compliance.ProofRoutes;
import io.openbureau.compliance.WitnessCheck;
import io.openbureau.compliance.WitnessPush;
import io.openbureau.compliance.WitnessSettings;
import io.openbureau.config.BureauConfig;
import io.openbureau.consent.ConsentDecisions;
import io.openbureau.consent.ConsentRoutes;
import io.openbureau.consent.ReceiptSigner;
import io.openbureau.db.Database;
import io.openbureau.furnishing.FurnishingRoutes;
import io.openbureau.furnishing.FurnishingService;
import io.openbureau.identity.BorrowerKeys;
import io.openbureau.inquiry.InquiryRoutes;
import io.openbureau.inquiry.InquiryService;
import io.openbureau.inquiry.InquirySettings;
import io.openbureau.report.ReportReader;
import io.openbureau.scoring.ScoreStore;
import io.openbureau.scoring.Scorecard;
import io.openbureau.members.MemberRepository;
import io.openbureau.members.MemberRoutes;
import io.openbureau.members.MemberStatus;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.openapi.router.RequestExtractor;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.micrometer.PrometheusScrapingHandler;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.sqlclient.Pool;

import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The public API: one instance per core, each with its own Postgres pool and Redis client. The
 * router is built from {@code openapi.yaml}; features mount their handlers on its operations.
 */
public final class HttpVerticle extends VerticleBase {
  /** Routes whose bodies are streamed by their handler instead of buffered. */
  static final Set<String> STREAMING_PATHS = Set.of("/v1/furnishing/batches", "/v1/inquiries");

  private final BureauConfig config;
  private final PrometheusMeterRegistry registry;
  private Pool pool;
  private Pool compliancePool;
  private Pool furnishingPool;
  private RedisStore redis;
  private ReceiptSigner signer;
  private AuditWriter audit;
  private ChainCloser closer;
  private Checkpointer checkpointer;
  private io.openbureau.disputes.OverdueProcessor overdue;
  private HttpServer server;

  private final PendingChanges pending;

  public HttpVerticle(BureauConfig config, PrometheusMeterRegistry registry) {
    this(config, registry, PendingChanges.TRUST_REDIS);
  }

  /** {@code pending}: the process' view of unpublished cache changes (cache.CacheRepair). */
  public HttpVerticle(BureauConfig config, PrometheusMeterRegistry registry, PendingChanges pending) {
    this.config = config;
    this.registry = registry;
    this.pending = pending;
  }

  @Override
  public Future<?> start() {
    pool = Database.pool(vertx, config.postgres(), config.postgres().poolSize(), Database.Use.API, java.util.Map.of());
    // furnishing's transactions wait on per-person locks holding a connection: a pool of their own
    furnishingPool = Database.pool(vertx, config.postgres(), config.postgres().furnishingPoolSize(), Database.Use.API,
      java.util.Map.of());
    redis = RedisStore.create(vertx, config.redis());
    return vertx.executeBlocking(() -> signer = ReceiptSigner.load(config.signing()))
      .compose(s -> vertx.executeBlocking(() -> new Loaded(TrustedIssuers.load(vertx, config.auth()),
        Scorecard.load(Path.of(config.scorecardFile())))))
      .compose(loaded -> Contract.load(vertx).map(contract -> router(contract, loaded)))
      .compose(router -> {
        // the pages for people (issue 15) are served beside the API, outside its OpenAPI router
        io.openbureau.pages.PagesRoutes pages = new io.openbureau.pages.PagesRoutes(vertx, config,
          io.openbureau.pages.PagesSettings.from(config));
        Handler<HttpServerRequest> handler = LowLevelErrors.versioned(pages.front(router));
        return vertx.createHttpServer(new HttpServerOptions()
            .setPort(config.http().port()).setHost(config.http().host())
            .setCompressionSupported(false)
            .setMaxHeaderSize(16 * 1024))
          .invalidRequestHandler(LowLevelErrors::invalidRequest)
          .requestHandler(handler)
          // every request reaches that handler, whatever its version or Upgrade header (see LowLevelErrors)
          .connectionHandler(connection -> LowLevelErrors.plainHttp(connection, handler))
          .listen();
      })
      .onSuccess(s -> server = s);
  }

  /** What start-up reads from files, on a worker thread. */
  private record Loaded(TrustedIssuers issuers, Scorecard scorecard) {
  }

  private Router router(OpenAPIContract contract, Loaded loaded) {
    TrustedIssuers issuers = loaded.issuers();
    RouterBuilder builder = RouterBuilder.create(vertx, contract, RequestExtractor.withBodyHandler());
    BodyHandler body = BodyHandler.create(false).setBodyLimit(config.http().bodyLimitBytes());
    builder.rootHandler(new RequestIds());
    builder.rootHandler(new InputGuard());
    builder.rootHandler(ctx -> {
      if (STREAMING_PATHS.contains(ctx.normalizedPath())) {
        ctx.next();
      } else {
        body.handle(ctx);
      }
    });

    FailureHandler failures = new FailureHandler(config);
    MemberRepository memberRepository = new MemberRepository(pool);
    MemberStatus memberStatus = new MemberStatus(redis, memberRepository, pending);
    TokenVerifier verifier = new TokenVerifier(vertx, issuers, config.auth().clockSkewSeconds(),
      config.auth().tokenCacheSize());
    Guards guards = new Guards(verifier, memberStatus);
    RouteMounter routes = new RouteMounter(vertx, contract, builder, guards);

    new HealthRoutes(vertx, pool, redis).mount(routes);
    routes.open("metrics", PrometheusScrapingHandler.create(registry));
    routes.open("openapiSpec", ctx -> ctx.response().putHeader("Content-Type", "application/yaml")
      .sendFile("openapi.yaml").onFailure(ctx::fail));
    new MemberRoutes(memberRepository, memberStatus).mount(routes, guards);
    BorrowerKeys borrowerKeys = new BorrowerKeys(config.identity().hmacKeyId(), config.identity().hmacSecret());
    ScoreStore scores = new ScoreStore(loaded.scorecard(), redis, pool);
    new FurnishingRoutes(new FurnishingService(furnishingPool, scores), borrowerKeys).mount(routes, guards);
    new ConsentRoutes(vertx, config, pool, redis, signer, pending).mount(routes, guards);
    AuditSettings auditSettings = AuditSettings.from(config);
    audit = new AuditWriter(vertx, pool, AuditWriter.connecting(vertx, Database.connectOptions(config.postgres())),
      auditSettings, registry);
    io.openbureau.rights.ProtectionCache protections = new io.openbureau.rights.ProtectionCache(pool, redis, pending);
    InquiryService inquiries = new InquiryService(pool, redis,
      new ConsentDecisions(new io.openbureau.consent.ConsentRepository(pool), redis, pending), scores, memberStatus, protections,
      InquirySettings.from(config), registry);
    new InquiryRoutes(inquiries, audit, borrowerKeys, new ReportReader(pool),
      new io.openbureau.reciprocity.Contributions(io.openbureau.reciprocity.ReciprocitySettings.from(config), pool, redis,
        java.time.Clock.systemUTC()), registry, failures).mount(routes);
    new io.openbureau.rights.ProtectionRoutes(vertx, protections, audit, borrowerKeys).mount(routes, guards);
    ComplianceSettings compliance = ComplianceSettings.from(config);
    // the access-log reads get their own sessions, planned generically: a custom plan of a query
    // over every monthly partition costs milliseconds to plan, each time, while the generic plan
    // (pruned at run time) is planned once per session and runs in well under a millisecond
    compliancePool = Database.pool(vertx, config.postgres(), Math.max(2, config.postgres().poolSize() / 2),
      Database.Use.COMPLIANCE, java.util.Map.of("plan_cache_mode", "force_generic_plan"));
    AccessLogRepository accessLog = new AccessLogRepository(compliancePool);
    new ComplianceRoutes(vertx, accessLog, audit, borrowerKeys, compliance, config.postgres(), signer).mount(routes, guards);
    new BorrowerRoutes(accessLog, audit, borrowerKeys, new ReportReader(pool), scores, inquiries).mount(routes, guards);
    io.openbureau.disputes.DisputeSettings disputeSettings = io.openbureau.disputes.DisputeSettings.from(config);
    io.openbureau.disputes.DisputeRepository disputes = new io.openbureau.disputes.DisputeRepository(pool);
    new io.openbureau.disputes.DisputeRoutes(disputes, scores, audit, borrowerKeys, disputeSettings).mount(routes, guards);
    overdue = new io.openbureau.disputes.OverdueProcessor(vertx, disputes, scores, audit, disputeSettings);
    overdue.start();
    // a chain the writer leaves (uncertain commit, graceful stop) gets a signed end: nothing may follow it
    closer = new ChainCloser(vertx, pool, signer, java.time.Duration.ofMillis(2L * auditSettings.commitTimeoutMillis()));
    audit.onAbandoned(closer::abandoned);
    closer.start(compliance.checkpointIntervalSeconds());
    WitnessSettings witness = WitnessSettings.from(config);
    new CheckpointFeed(compliancePool).mount(routes);
    new WitnessCheck(vertx, compliancePool, audit, signer).mount(routes, guards);
    new ProofRoutes(vertx, compliancePool, audit, borrowerKeys, compliance.checkpointIntervalSeconds()).mount(routes, guards);
    checkpointer = new Checkpointer(vertx, pool, audit, signer, witness.checkpointMaxRows(),
      witness.pushEnabled() ? new WitnessPush(vertx, witness) : null);
    checkpointer.start(compliance.checkpointIntervalSeconds());
    new io.openbureau.notifications.NotificationRoutes(vertx, pool, borrowerKeys,
      io.openbureau.notifications.NotificationSettings.from(config)).mount(routes, guards);
    routes.mountRemainingAsNotImplemented();

    Router router = builder.createRouter();
    router.route().failureHandler(failures);
    for (int status : new int[] {400, 404, 405, 413, 415, 500}) {
      router.errorHandler(status, failures);
    }
    return router;
  }

  @Override
  public Future<?> stop() {
    if (checkpointer != null) {
      checkpointer.stop();
    }
    if (overdue != null) {
      overdue.stop();
    }
    Future<Void> closing = server == null ? Future.succeededFuture()
      : server.shutdown(config.http().shutdownGraceSeconds(), TimeUnit.SECONDS);
    // in-flight requests are done: a last checkpoint (its Merkle tree covers the tail), then the
    // signed end of this writer's chain, before the pool goes
    Future<Void> ended = closing
      .transform(ar -> checkpointer == null ? Future.<Void>succeededFuture() : checkpointer.checkpoint())
      .transform(ar -> closer == null ? Future.<Void>succeededFuture()
      : closer.stop(audit, AuditSettings.from(config).commitTimeoutMillis() + 1000L));
    return ended.eventually(() -> Future.join(audit == null ? Future.succeededFuture() : audit.close(), pool.close(), compliancePool == null ? Future.succeededFuture() : compliancePool.close(),
      furnishingPool == null ? Future.succeededFuture() : furnishingPool.close(), redis.close()));
  }
}
