package io.openbureau.http;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.openbureau.config.BureauConfig;
import io.openbureau.config.ConfigException;
import io.openbureau.db.Database;
import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TcpProxy;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

@DisplayName("Outages: with Postgres or Redis cut or frozen every route answers 503 within seconds, never 500, and the log says so once")
class OutageTest {
  private static final String LO = "LOAN_ORIGINATION";
  /** How long any request may take while a dependency is down (acquire 1 s, handshake 1 s, idle session 2 s). */
  private static final long BOUND_MILLIS = 4500;
  /**
   * Lines at WARN or above the whole outage may write, whatever the number of requests: one per
   * background loop or state change (the outage log, the cache repair's listener and re-reads, the
   * score republisher, the daily passes, the notification followers and delivery), besides the
   * per-minute summaries counted apart.
   */
  private static final int MAX_LINES = 9;
  /** Routes that need neither Postgres nor Redis: they keep answering normally. */
  private static final Set<String> NO_DEPENDENCY = Set.of("live", "metrics", "openapiSpec", "jwks");
  /** The routes the outage report named: their 503 names the dependency. */
  private static final Set<String> NAMED = Set.of("grantConsent", "revokeConsent", "listConsents", "putTradeline",
    "accessLogVerify", "postRepayment", "listMembers", "createMember", "myReport", "accessLog");

  private static TcpProxy pg;
  private static TcpProxy redis;
  private static TestBureau bureau;
  private static Api api;
  private static final AtomicInteger SEQ = new AtomicInteger();
  private static String person;
  private static String consentId;
  private static String inquiryId;
  private static String checkpoint;
  private static Map<String, Route> routes;
  private ListAppender<ILoggingEvent> log;

  /** One operation of openapi.yaml, called with valid input; {@code normal} lists its answers on a sunny day. */
  private record Route(String operation, Set<Integer> normal, Supplier<Api.Res> call) {
  }

  @BeforeAll
  static void start() {
    pg = new TcpProxy(5432);
    redis = new TcpProxy(6379);
    bureau = TestBureau.start("outage", new JsonObject()
      .put("postgres", new JsonObject().put("port", pg.port()).put("acquireTimeoutMillis", 1000)
        .put("idleSessionTimeoutMillis", 2000))
      .put("redis", new JsonObject().put("endpoints", new JsonArray().add("redis://127.0.0.1:" + redis.port())))
      .put("audit", new JsonObject().put("commitTimeoutMillis", 1000))
      .put("compliance", new JsonObject().put("checkpointIntervalSeconds", 1)));
    api = bureau.api;
    assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", "lender-a").put("name", "A")).status());
    assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", "lender-s").put("name", "S")).status());
    person = NationalId.of("440301", LocalDate.of(1987, 3, 4), 17);
    assertEquals(201, api.put("/v1/tradelines/OUT-1", Tokens.lender("lender-a"), loan(person)).status());
    Api.Res consent = api.post("/v1/me/consents", Tokens.borrower(person),
      new JsonObject().put("lenderId", "lender-a").put("purpose", LO));
    assertEquals(201, consent.status(), consent.toString());
    consentId = consent.json().getString("consentId");
    Api.Res inquiry = api.post("/v1/inquiries", Tokens.lender("lender-a"),
      new JsonObject().put("nationalId", person).put("purpose", LO));
    assertEquals(200, inquiry.status(), inquiry.toString());
    inquiryId = inquiry.json().getString("inquiryId");
    checkpoint = firstCheckpoint();
    routes = routes();
  }

  @AfterAll
  static void stop() {
    pg.restore();
    redis.restore();
    bureau.close();
    pg.close();
    redis.close();
  }

  @BeforeEach
  void capture() {
    log = new ListAppender<>();
    log.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
    log.start();
    root().addAppender(log);
  }

  @AfterEach
  void release() {
    root().detachAppender(log);
    pg.restore();
    redis.restore();
  }

  private static ch.qos.logback.classic.Logger root() {
    return ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  /** The signature of a published checkpoint (the writer checkpoints every second here). */
  private static String firstCheckpoint() {
    long deadline = System.currentTimeMillis() + 15_000;
    while (System.currentTimeMillis() < deadline) {
      Api.Res feed = api.get("/v1/audit/checkpoints", null);
      if (feed.status() == 200 && !feed.items().isEmpty()) {
        return feed.items().getJsonObject(0).getString("signature");
      }
      sleep(200);
    }
    return fail("no checkpoint was published");
  }

  private static JsonObject loan(String id) {
    return new JsonObject().put("nationalId", id).put("productType", "MICRO_LOAN").put("openedAt", "2024-02-01")
      .put("principal", "3000.00").put("status", "OPEN").put("balance", "1200.00").put("daysPastDue", 0);
  }

  private static Map<String, Route> routes() {
    String lender = Tokens.lender("lender-a");
    String borrower = Tokens.borrower(person);
    String compliance = Tokens.compliance();
    String admin = Tokens.admin();
    JsonObject grant = new JsonObject().put("lenderId", "lender-a").put("purpose", "ACCOUNT_REVIEW");
    JsonObject repayment = new JsonObject().put("period", "2026-09").put("amountDue", "100.00").put("amountPaid", "100.00")
      .put("daysPastDue", 0);
    String batch = loan(person).put("type", "tradeline").put("accountRef", "OUT-B").encode() + "\n";
    List<Route> list = List.of(
      new Route("live", Set.of(200), () -> api.get("/health/live", null)),
      new Route("ready", Set.of(200), () -> api.get("/health/ready", null)),
      new Route("metrics", Set.of(200), () -> api.get("/metrics", null)),
      new Route("openapiSpec", Set.of(200), () -> api.get("/openapi.yaml", null)),
      new Route("jwks", Set.of(200), () -> api.get("/.well-known/jwks.json", null)),
      new Route("createMember", Set.of(201), () -> api.post("/v1/members", admin,
        new JsonObject().put("id", "m-" + SEQ.incrementAndGet()).put("name", "M"))),
      new Route("listMembers", Set.of(200), () -> api.get("/v1/members", admin)),
      new Route("getOwnMember", Set.of(200), () -> api.get("/v1/members/me", lender)),
      new Route("listLenders", Set.of(200), () -> api.get("/v1/lenders", borrower)),
      new Route("suspendMember", Set.of(200), () -> api.post("/v1/members/lender-s/suspend", admin, null)),
      new Route("reinstateMember", Set.of(200), () -> api.post("/v1/members/lender-s/reinstate", admin, null)),
      new Route("putTradeline", Set.of(200, 201), () -> api.put("/v1/tradelines/OUT-1", lender,
        loan(person).put("balance", (1000 + SEQ.incrementAndGet()) + ".00"))),
      new Route("postRepayment", Set.of(201), () -> api.post("/v1/tradelines/OUT-1/repayments", lender, repayment)),
      new Route("postBatch", Set.of(200), () -> api.raw("POST", "/v1/furnishing/batches", lender,
        "application/x-ndjson", batch)),
      new Route("grantConsent", Set.of(201), () -> api.post("/v1/me/consents", borrower, grant)),
      new Route("listConsents", Set.of(200), () -> api.get("/v1/me/consents", borrower)),
      new Route("revokeConsent", Set.of(200), () -> api.delete("/v1/me/consents/" + consentId, borrower)),
      new Route("myInquiries", Set.of(200), () -> api.get("/v1/me/inquiries", borrower)),
      new Route("myInquiryProof", Set.of(200, 409), () -> api.get("/v1/me/inquiries/" + inquiryId + "/proof", borrower)),
      new Route("myReport", Set.of(200), () -> api.get("/v1/me/report", borrower)),
      new Route("getFreeze", Set.of(200), () -> api.get("/v1/me/freeze", borrower)),
      new Route("putFreeze", Set.of(200), () -> api.raw("PUT", "/v1/me/freeze", borrower, null, null)),
      new Route("deleteFreeze", Set.of(200), () -> api.delete("/v1/me/freeze", borrower)),
      new Route("getFraudAlert", Set.of(200), () -> api.get("/v1/me/fraud-alert", borrower)),
      new Route("putFraudAlert", Set.of(200), () -> api.put("/v1/me/fraud-alert", borrower, new JsonObject().put("days", 30))),
      new Route("deleteFraudAlert", Set.of(200), () -> api.delete("/v1/me/fraud-alert", borrower)),
      new Route("createInquiry", Set.of(200, 403), () -> api.post("/v1/inquiries", lender,
        new JsonObject().put("nationalId", person).put("purpose", LO))),
      new Route("accessLog", Set.of(200), () -> api.get("/v1/compliance/access-log", compliance)),
      new Route("accessLogExport", Set.of(200), () -> api.get("/v1/compliance/access-log/export", compliance)),
      new Route("accessLogVerify", Set.of(200), () -> api.get("/v1/compliance/access-log/verify", compliance)),
      new Route("auditCheckpoints", Set.of(200), () -> api.get("/v1/audit/checkpoints", null)),
      new Route("accessLogVerifyCheckpoints", Set.of(200), () -> api.post("/v1/compliance/access-log/verify-checkpoints",
        compliance, new JsonArray().add(checkpoint))),
      new Route("alerts", Set.of(200), () -> api.get("/v1/compliance/alerts", compliance)),
      // a second open dispute about OUT-1 is 409 dispute_open: both are normal answers
      new Route("openDispute", Set.of(201, 409), () -> api.post("/v1/me/disputes", borrower, new JsonObject()
        .put("lenderId", "lender-a").put("accountRef", "OUT-1").put("reason", "OTHER").put("statement", "not mine"))),
      new Route("myDisputes", Set.of(200), () -> api.get("/v1/me/disputes", borrower)),
      new Route("furnisherDisputes", Set.of(200), () -> api.get("/v1/furnishing/disputes?status=OPEN", lender)),
      // an id no dispute has: 404 on a sunny day, 503 when the database is down
      new Route("resolveDispute", Set.of(404), () -> api.post("/v1/furnishing/disputes/"
        + java.util.UUID.nameUUIDFromBytes(new byte[] {1}) + "/resolution", lender,
        new JsonObject().put("outcome", "VERIFIED").put("note", "checked"))),
      new Route("complianceDisputes", Set.of(200), () -> api.get("/v1/compliance/disputes", compliance)),
      new Route("complianceDisputeSummary", Set.of(200), () -> api.get("/v1/compliance/disputes/summary", compliance)),
      new Route("myNotifications", Set.of(200), () -> api.get("/v1/me/notifications", borrower)),
      // a public address given literally: no DNS, and not refused as private
      new Route("putMemberWebhook", Set.of(200), () -> api.put("/v1/members/me/webhook", lender,
        new JsonObject().put("url", "https://93.184.216.34/hook").put("secret", "s".repeat(40)))),
      new Route("getMemberWebhook", Set.of(200, 404), () -> api.get("/v1/members/me/webhook", lender)),
      new Route("deleteMemberWebhook", Set.of(204), () -> api.delete("/v1/members/me/webhook", lender)));
    Map<String, Route> byOperation = new LinkedHashMap<>();
    list.forEach(r -> byOperation.put(r.operation(), r));
    return byOperation;
  }

  @Test
  @DisplayName("the routes called here are every operation of openapi.yaml")
  void everyOperation() throws Exception {
    Set<String> declared = new TreeSet<>();
    Matcher m = Pattern.compile("operationId:\\s*(\\w+)").matcher(Files.readString(Path.of("src/main/resources/openapi.yaml")));
    while (m.find()) {
      declared.add(m.group(1));
    }
    assertEquals(declared, new TreeSet<>(routes.keySet()));
  }

  @Test
  @DisplayName("the API pool's sessions start with short limits, the compliance pool's with longer ones, both bounded when idle")
  void sessionSettings() {
    io.vertx.core.Vertx vertx = bureau.bureau().vertx();
    BureauConfig.Postgres pgConfig = bureau.config().postgres();
    String show = "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'),"
      + " current_setting('idle_in_transaction_session_timeout'), current_setting('idle_session_timeout')";
    for (Database.Use use : Database.Use.values()) {
      io.vertx.sqlclient.Pool pool = Database.pool(vertx, pgConfig, 1, use, Map.of());
      try {
        io.vertx.sqlclient.Row row = TestBureau.await(pool.query(show).execute().toCompletionStage().toCompletableFuture())
          .iterator().next();
        List<String> got = List.of(row.getString(0), row.getString(1), row.getString(2), row.getString(3));
        List<String> expected = switch (use) {
          case API -> List.of("5s", "2s", "10s", "2s");
          case COMPLIANCE -> List.of("2min", "2s", "2min", "2s");
          case MAINTENANCE -> List.of("0", "0", "2min", "2s");
        };
        assertEquals(expected, got, use + " pool");
      } finally {
        pool.close();
      }
    }
  }

  @Test
  @DisplayName("the timeouts are validated at start-up, naming the key; an unknown postgres key is refused")
  void timeoutsValidated() {
    JsonObject bad = TestBureau.testConfig("outagecfg");
    bad.getJsonObject("postgres").put("acquireTimeoutMillis", 0).put("statementTimeoutMillis", "soon")
      .put("idleSessionTimeoutMillis", 10).put("statementTimeoutSeconds", 5);
    ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () -> BureauConfig.from(bad));
    for (String key : List.of("postgres.acquireTimeoutMillis", "postgres.statementTimeoutMillis",
      "postgres.idleSessionTimeoutMillis", "postgres.statementTimeoutSeconds is not a known key")) {
      assertTrue(e.getMessage().contains(key), key + " in " + e.getMessage());
    }
  }

  @Test
  @DisplayName("Postgres cut: every route that needs it answers 503 unavailable with Retry-After within seconds, none 500; the log has a few lines")
  void postgresCut() {
    warm();
    pg.cut();
    outage("postgres", NO_DEPENDENCY, 3);
    pg.restore();
    recovers();
  }

  @Test
  @DisplayName("Postgres frozen: every route that needs it answers 503 within seconds, none 500 or hanging; then all recover")
  void postgresFrozen() {
    warm();
    pg.blackhole();
    outage("postgres", NO_DEPENDENCY, 2);
    pg.restore();
    recovers();
  }

  @Test
  @DisplayName("Redis cut: no route answers 500, those that need Redis answer 503, the log has a few lines; then all recover")
  void redisCut() {
    warm();
    redis.cut();
    long lines;
    List<String> failures = new ArrayList<>();
    int unavailable = 0;
    for (int round = 0; round < 3; round++) {
      for (Route route : routes.values()) {
        Api.Res r = timed(route, failures);
        if (r == null) {
          continue;
        }
        if (r.status() == 503) {
          unavailable++;
          if (!route.operation().equals("ready")) {
            checkProblem(route, r, null, failures);
          }
        } else if (!route.normal().contains(r.status()) && r.status() >= 500) {
          failures.add(route.operation() + ": " + r);
        }
      }
    }
    assertTrue(failures.isEmpty(), String.join("\n", failures));
    assertTrue(unavailable >= 3, "routes that need Redis answer 503");
    lines = warnings().size();
    assertTrue(lines <= MAX_LINES, lines + " lines for one Redis outage:\n" + String.join("\n", warnings()));
    redis.restore();
    recovers();
  }

  /** Rounds over every route: all answer in time; those with a dependency answer 503 naming it. */
  private void outage(String dependency, Set<String> independent, int rounds) {
    long outageStarted = System.nanoTime();
    List<String> failures = new ArrayList<>();
    for (int round = 0; round < rounds; round++) {
      for (Route route : routes.values()) {
        Api.Res r = timed(route, failures);
        if (r == null) {
          continue;
        }
        if (independent.contains(route.operation())) {
          if (!route.normal().contains(r.status())) {
            failures.add(route.operation() + " needs no " + dependency + " but answered " + r);
          }
        } else if (route.operation().equals("postBatch")) {
          // furnishing's own rule (503 instead of not_applied lines) is not this test's: only never a 500
          if (r.status() >= 500 && r.status() != 503) {
            failures.add(route.operation() + ": " + r);
          }
        } else if (r.status() != 503) {
          failures.add(route.operation() + ": expected 503, got " + r);
        } else if (!route.operation().equals("ready")) {
          checkProblem(route, r, NAMED.contains(route.operation()) ? dependency : null, failures);
        }
      }
    }
    assertTrue(failures.isEmpty(), failures.size() + " wrong answers:\n" + String.join("\n", failures));
    List<String> lines = warnings();
    // a long outage may add one summary a minute per source ("still unavailable: n failures",
    // "(n more like it not logged)"): counted apart, bounded by the outage's minutes, never per request
    List<String> summaries = lines.stream().filter(OutageTest::summary).toList();
    List<String> events = lines.stream().filter(l -> !summary(l)).toList();
    assertTrue(events.size() <= MAX_LINES, events.size() + " lines for one outage of " + dependency + " ("
      + rounds * routes.size() + " requests):\n" + String.join("\n", lines));
    long minutes = Math.max(1, (System.nanoTime() - outageStarted) / 60_000_000_000L + 1);
    assertTrue(summaries.size() <= 2 * minutes, summaries.size() + " summaries in " + minutes + " min:\n"
      + String.join("\n", summaries));
  }

  private static void checkProblem(Route route, Api.Res r, String dependency, List<String> failures) {
    String type = r.header("Content-Type");
    if (type == null || !type.startsWith("application/problem+json")) {
      failures.add(route.operation() + ": not problem+json: " + r);
      return;
    }
    String code = r.code();
    if (!Set.of("unavailable", "audit_unavailable").contains(code)) {
      failures.add(route.operation() + ": code " + code + ": " + r);
    }
    if (r.header("Retry-After") == null) {
      failures.add(route.operation() + ": 503 without Retry-After");
    }
    if (dependency != null && !r.json().getString("detail", "").contains(dependency)) {
      failures.add(route.operation() + ": the detail does not name " + dependency + ": " + r);
    }
  }

  /** Calls a route; a call that takes longer than the bound, or breaks, is a failure. */
  private static Api.Res timed(Route route, List<String> failures) {
    long started = System.nanoTime();
    Api.Res r;
    try {
      r = route.call().get();
    } catch (RuntimeException e) {
      failures.add(route.operation() + ": no answer (" + e + ") after " + (System.nanoTime() - started) / 1_000_000 + " ms");
      return null;
    }
    long took = (System.nanoTime() - started) / 1_000_000;
    if (took > BOUND_MILLIS) {
      failures.add(route.operation() + ": answered " + r.status() + " after " + took + " ms");
    }
    return r;
  }

  /** Every route answers normally again within a few seconds of the restore. */
  private static void recovers() {
    long deadline = System.currentTimeMillis() + 20_000;
    Map<String, String> wrong = new LinkedHashMap<>();
    do {
      wrong.clear();
      for (Route route : routes.values()) {
        try {
          Api.Res r = route.call().get();
          if (!route.normal().contains(r.status()) || (route.operation().equals("postBatch")
            && r.json().getLong("accepted", 0L) != 1)) {
            wrong.put(route.operation(), r.toString());
          }
        } catch (RuntimeException e) {
          wrong.put(route.operation(), e.toString());
        }
      }
      if (!wrong.isEmpty()) {
        sleep(250);
      }
    } while (!wrong.isEmpty() && System.currentTimeMillis() < deadline);
    assertTrue(wrong.isEmpty(), "after the restore: " + wrong);
  }

  /** A sunny-day round first, so that every cache and pool is filled before the outage. */
  private void warm() {
    recovers();
    log.list.clear();
  }

  private static boolean summary(String line) {
    return line.contains(" is still unavailable: ") || line.matches(".*\\(\\d+ more like it not logged\\)$");
  }

  private List<String> warnings() {
    return log.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
      .map(e -> e.getLevel() + " " + e.getLoggerName() + " - " + e.getFormattedMessage())
      .collect(Collectors.toList());
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail(e);
    }
  }
}
