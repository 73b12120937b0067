package io.openbureau.reciprocity;

import io.openbureau.cache.RedisStore;
import io.openbureau.config.BureauConfig;
import io.openbureau.config.ConfigException;
import io.openbureau.db.Database;
import io.openbureau.identity.NationalId;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Give to get: a member contributes while it had furnishing accepted in the last reciprocity.windowDays")
class ContributionsTest {
  private static TestBureau bureau;
  private static Vertx vertx;
  private static Pool pool;
  private static RedisStore redis;
  private static final ReciprocitySettings ON = new ReciprocitySettings(true, 90, 300);

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("reciprocity", new JsonObject().put("ageing", new JsonObject().put("scheduled", false)));
    for (String m : new String[] {"lender-a", "lender-b", "lender-c", "lender-d"}) {
      assertEquals(201, bureau.api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", m).put("name", m)).status());
    }
    vertx = Vertx.vertx();
    pool = Database.pool(vertx, bureau.config().postgres(), 2);
    redis = RedisStore.create(vertx, bureau.config().redis());
    String id = NationalId.of("110105", LocalDate.of(1990, 3, 3), 5);
    assertEquals(201, bureau.api.put("/v1/tradelines/R-1", Tokens.lender("lender-a"), new JsonObject().put("nationalId", id)
      .put("productType", "CONSUMER_LOAN").put("openedAt", "2024-01-15").put("principal", "1000.00").put("status", "OPEN")
      .put("balance", "500.00").put("daysPastDue", 0)).status());
    // lender-c only sends a line that is refused: nothing accepted
    assertEquals(404, bureau.api.post("/v1/tradelines/NOPE/repayments", Tokens.lender("lender-c"), new JsonObject()
      .put("period", "2024-01").put("amountDue", "1.00").put("amountPaid", "1.00").put("daysPastDue", 0)).status());
  }

  @AfterAll
  static void stop() {
    TestBureau.await(Future.join(pool.close(), redis.close()).compose(v -> vertx.close())
      .toCompletionStage().toCompletableFuture());
    bureau.close();
  }

  static boolean contributing(ReciprocitySettings settings, Clock clock, String member) {
    return TestBureau.await(new Contributions(settings, pool, redis, clock).contributing(member)
      .toCompletionStage().toCompletableFuture());
  }

  static Clock in(Duration d) {
    return Clock.fixed(Instant.now().plus(d), ZoneOffset.UTC);
  }

  /** Furnishing records the contribution just after its answer (not awaited): wait for it, with a deadline. */
  static void awaitRecorded(String member) {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (bureau.count("SELECT count(*) FROM member_contributions WHERE member_id = '" + member + "'") == 0) {
      assertTrue(System.nanoTime() < deadline, member + "'s accepted furnishing was not recorded within 10 s");
      java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
    }
  }

  @Test
  @DisplayName("a member whose furnishing was accepted contributes; one that never furnished, or had every line refused, does not")
  void withAndWithout() {
    awaitRecorded("lender-a");
    assertTrue(contributing(ON, Clock.systemUTC(), "lender-a"));
    assertFalse(contributing(ON, Clock.systemUTC(), "lender-b"));
    assertFalse(contributing(ON, Clock.systemUTC(), "lender-c"));
    assertFalse(contributing(ON, Clock.systemUTC(), "no-such-member"));
  }

  @Test
  @DisplayName("the window closes windowDays after the last accepted furnishing, even with the time cached in this process and in Redis")
  void windowCloses() {
    awaitRecorded("lender-a");
    Contributions checks = new Contributions(ON, pool, redis, in(Duration.ofDays(89)));
    assertTrue(TestBureau.await(checks.contributing("lender-a").toCompletionStage().toCompletableFuture()));
    String cached = TestBureau.await(redis.get(checks.key("lender-a")).toCompletionStage().toCompletableFuture()).toString();
    assertTrue(Long.parseLong(cached) <= System.currentTimeMillis(), "Redis holds the time of the last furnishing: " + cached);
    assertTrue(contributing(ON, in(Duration.ofDays(89)), "lender-a"), "89 days later (from Redis): still contributing");
    assertFalse(contributing(ON, in(Duration.ofDays(91)), "lender-a"), "91 days later: no longer");
    assertFalse(contributing(new ReciprocitySettings(true, 30, 300), in(Duration.ofDays(31)), "lender-a"),
      "the window is reciprocity.windowDays");
  }

  @Test
  @DisplayName("with reciprocity disabled (the default) every member contributes")
  void disabled() {
    assertFalse(ReciprocitySettings.from(bureau.config()).enabled(), "off by default");
    assertEquals(90, ReciprocitySettings.from(bureau.config()).windowDays());
    assertTrue(contributing(ReciprocitySettings.from(bureau.config()), Clock.systemUTC(), "lender-b"));
    assertTrue(contributing(new ReciprocitySettings(false, 90, 300), in(Duration.ofDays(1000)), "lender-c"));
  }

  @Test
  @DisplayName("furnishing records a member's contribution at most once an hour")
  void atMostHourly() {
    bureau.sql("INSERT INTO member_contributions (member_id, last_accepted_at) VALUES ('lender-d', now() - interval '30 minutes')");
    String before = bureau.sqlString("SELECT last_accepted_at::text FROM member_contributions WHERE member_id = 'lender-d'");
    TestBureau.await(new Contributions.Recorder(pool, Clock.systemUTC()).accepted("lender-d").toCompletionStage()
      .toCompletableFuture());
    assertEquals(before, bureau.sqlString("SELECT last_accepted_at::text FROM member_contributions WHERE member_id = 'lender-d'"),
      "written 30 minutes ago: left as it is");
    bureau.sql("UPDATE member_contributions SET last_accepted_at = now() - interval '2 hours' WHERE member_id = 'lender-d'");
    TestBureau.await(new Contributions.Recorder(pool, Clock.systemUTC()).accepted("lender-d").toCompletionStage()
      .toCompletableFuture());
    assertEquals(0, bureau.count("SELECT count(*) FROM member_contributions WHERE member_id = 'lender-d'"
      + " AND last_accepted_at < now() - interval '1 minute'"), "2 hours old: moved to now");
  }

  @Test
  @DisplayName("reciprocity settings are validated: an unknown key or a window out of 1..3650 is named")
  void settingsValidated() {
    JsonObject raw = TestBureau.testConfig("reciprocity_cfg");
    ConfigException unknown = assertThrows(ConfigException.class, () -> ReciprocitySettings.from(BureauConfig.from(
      raw.copy().put("reciprocity", new JsonObject().put("windowDayz", 10)))));
    assertTrue(unknown.getMessage().contains("reciprocity.windowDayz"), unknown.getMessage());
    ConfigException range = assertThrows(ConfigException.class, () -> ReciprocitySettings.from(BureauConfig.from(
      raw.copy().put("reciprocity", new JsonObject().put("windowDays", 0)))));
    assertTrue(range.getMessage().contains("reciprocity.windowDays"), range.getMessage());
  }
}
