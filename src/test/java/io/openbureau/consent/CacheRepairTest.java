package io.openbureau.consent;

import io.openbureau.config.BureauConfig;
import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TcpProxy;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cache rule (cache.VersionedCache) under a Redis cut, on two instances that reach Redis through
 * one TCP proxy: a revocation or suspension answered 503 during the cut is never undone by the
 * cache after the restore, on either instance, and the cache is repaired without anyone asking.
 */
@DisplayName("Cache repair: a revoke or suspension saved during a Redis cut is never served after the restore, and reaches Redis by itself")
class CacheRepairTest {
  private static final String PURPOSE = "LOAN_ORIGINATION";
  private static final AtomicInteger PEOPLE = new AtomicInteger();
  private static final AtomicInteger MEMBERS = new AtomicInteger();
  private static TcpProxy redisProxy;
  private static TestBureau one;
  private static TestBureau two;
  private static Vertx vertx;
  private static Redis redis;
  private static BorrowerKeys keys;

  @BeforeAll
  static void start() {
    redisProxy = new TcpProxy(6379);
    one = TestBureau.start("cacherepair", new JsonObject()
      .put("redis", new JsonObject().put("endpoints", new JsonArray().add("redis://127.0.0.1:" + redisProxy.port())))
      .put("inquiry", new JsonObject().put("rateLimit", new JsonObject().put("perSecond", 100_000).put("burst", 100_000))));
    two = one.sibling();
    vertx = Vertx.vertx();
    redis = Redis.createClient(vertx, "redis://127.0.0.1:6379"); // straight to Redis, past the proxy
    keys = new BorrowerKeys(one.config().identity().hmacKeyId(), one.config().identity().hmacSecret());
  }

  @AfterAll
  static void stop() {
    redisProxy.restore();
    redis.close();
    vertx.close();
    two.stop();
    one.close();
    redisProxy.close();
  }

  private record Setup(String person, String lender, String consentId) {
  }

  /** A member, a person with a tradeline (so a score) and a consent; inquiries answer 200 on both instances. */
  private static Setup setUp() {
    String lender = "lender-cr" + MEMBERS.incrementAndGet();
    assertEquals(201, one.api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", lender).put("name", lender)).status());
    String person = NationalId.of("440101", LocalDate.of(1975, 1, 1).plusDays(PEOPLE.incrementAndGet()), 5);
    Api.Res t = one.api.put("/v1/tradelines/CR-" + person.substring(10), Tokens.lender(lender), new JsonObject()
      .put("nationalId", person).put("productType", "MICRO_LOAN").put("openedAt", "2024-02-01")
      .put("principal", "3000.00").put("status", "OPEN").put("balance", "1200.00").put("daysPastDue", 0));
    assertEquals(201, t.status(), t.toString());
    Api.Res g = one.api.post("/v1/me/consents", Tokens.borrower(person),
      new JsonObject().put("lenderId", lender).put("purpose", PURPOSE));
    assertEquals(201, g.status(), g.toString());
    String consentId = g.json().getString("consentId");
    for (TestBureau b : List.of(one, two)) {
      Api.Res r = inquire(b, lender, person);
      assertEquals(200, r.status(), r.toString());
      assertEquals(consentId, r.json().getString("consentId"));
    }
    return new Setup(person, lender, consentId);
  }

  private static Api.Res inquire(TestBureau b, String lender, String person) {
    return b.api.post("/v1/inquiries", Tokens.lender(lender), new JsonObject().put("nationalId", person).put("purpose", PURPOSE));
  }

  /** Inquiries sent without a pause on both instances; every answer is kept with the time it was sent. */
  private static final class Probe implements AutoCloseable {
    record Seen(long sentNanos, int status, String body) {
    }

    final ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
    final AtomicBoolean stop = new AtomicBoolean();
    final List<Thread> threads = new ArrayList<>();

    Probe(String lender, String person) {
      this(lender, person, List.of(one, two, one, two));
    }

    Probe(String lender, String person, List<TestBureau> on) {
      for (TestBureau b : on) {
        Thread t = new Thread(() -> {
          while (!stop.get()) {
            long sent = System.nanoTime();
            Api.Res r = inquire(b, lender, person);
            seen.add(new Seen(sent, r.status(), r.body()));
          }
        }, "probe");
        t.start();
        threads.add(t);
      }
    }

    long after(long nanos, int status) {
      return seen.stream().filter(s -> s.sentNanos() >= nanos && s.status() == status).count();
    }

    @Override
    public void close() throws InterruptedException {
      stop.set(true);
      for (Thread t : threads) {
        t.join(10_000);
      }
    }
  }

  private static String redisGet(String key) {
    Response r = TestBureau.await(redis.send(Request.cmd(Command.GET).arg(key)).toCompletionStage().toCompletableFuture());
    return r == null ? null : r.toString();
  }

  private static String consentKey(Setup s) {
    return one.config().redis().keyPrefix() + "{b:" + BorrowerKeys.hex(keys.key(s.person())) + "}:consent:" + s.lender()
      + ":" + PURPOSE;
  }

  private static String memberKey(String lender) {
    return one.config().redis().keyPrefix() + "{m:" + lender + "}:status";
  }

  private static void eventually(String what, long millis, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + millis * 1_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + millis + " ms: " + what);
      }
      Thread.sleep(50);
    }
  }

  private static void awaitServed(Probe probe, long fromNanos) throws InterruptedException {
    // the probes got answers after the restore (so they really asked Redis again)
    eventually("inquiries answered after the restore", 10_000,
      () -> probe.seen.stream().filter(s -> s.sentNanos() >= fromNanos && s.status() != 503).count() >= 40);
  }

  @Test
  @DisplayName("a revoke answered 503 during the cut: from before the restore on, no inquiry on either instance gets 200 naming that consent")
  void revokeDuringCutIsNeverServed() throws Exception {
    Setup s = setUp();
    redisProxy.cut();
    Probe probe;
    long restored;
    try {
      Api.Res r = one.api.delete("/v1/me/consents/" + s.consentId(), Tokens.borrower(s.person()));
      assertEquals(503, r.status(), r.toString());
      assertEquals("REVOKED", one.sqlString("SELECT status FROM consents WHERE id = '" + s.consentId() + "'"));
      probe = new Probe(s.lender(), s.person());
      eventually("probes answered during the cut", 10_000, () -> probe.seen.size() >= 8);
    } finally {
      restored = System.nanoTime();
      redisProxy.restore();
    }
    try {
      awaitServed(probe, restored);
      Thread.sleep(1_000);
    } finally {
      probe.close();
    }
    long served = probe.seen.stream().filter(x -> x.status() == 200 && x.body().contains(s.consentId())).count();
    assertEquals(0, served, served + " inquiries got 200 naming the revoked consent after the restore (of "
      + probe.seen.size() + ")");
    assertTrue(probe.after(restored, 403) > 0, "after the restore the inquiries are denied (403), not only refused");
  }

  @Test
  @DisplayName("a revoke answered 503 during the cut reaches Redis by itself after the restore, with no further request")
  void revokeDuringCutIsRepairedWithoutRequests() throws Exception {
    Setup s = setUp();
    String before = redisGet(consentKey(s));
    assertTrue(before != null && before.contains(s.consentId()), "cached as allowed: " + before);
    redisProxy.cut();
    try {
      assertEquals(503, one.api.delete("/v1/me/consents/" + s.consentId(), Tokens.borrower(s.person())).status());
    } finally {
      redisProxy.restore();
    }
    eventually("Redis holds the revocation (NONE)", 10_000, () -> {
      String now = redisGet(consentKey(s));
      return now == null || now.endsWith("|NONE");
    });
    assertEquals(403, inquire(one, s.lender(), s.person()).status());
    assertEquals(403, inquire(two, s.lender(), s.person()).status());
  }

  @Test
  @DisplayName("a suspension during the cut answers 503; from before the restore on, no inquiry of that member gets 200 on either instance")
  void suspendDuringCutIsNeverServed() throws Exception {
    Setup s = setUp();
    redisProxy.cut();
    Probe probe;
    long restored;
    try {
      Api.Res r = one.api.post("/v1/members/" + s.lender() + "/suspend", Tokens.admin(), null);
      assertEquals(503, r.status(), r.toString());
      assertEquals("application/problem+json", r.header("Content-Type"));
      assertEquals("SUSPENDED", one.sqlString("SELECT status FROM members WHERE id = '" + s.lender() + "'"));
      probe = new Probe(s.lender(), s.person());
      eventually("probes answered during the cut", 10_000, () -> probe.seen.size() >= 8);
    } finally {
      restored = System.nanoTime();
      redisProxy.restore();
    }
    try {
      awaitServed(probe, restored);
      Thread.sleep(1_000);
    } finally {
      probe.close();
    }
    long served = probe.seen.stream().filter(x -> x.status() == 200).count();
    assertEquals(0, served, served + " inquiries of the suspended member got 200 after the restore (of "
      + probe.seen.size() + ")");
    assertTrue(probe.after(restored, 403) > 0, "after the restore the member is refused (403)");
  }

  @Test
  @DisplayName("a suspension saved during the cut reaches Redis by itself after the restore, and a reinstatement too")
  void suspendDuringCutIsRepairedWithoutRequests() throws Exception {
    Setup s = setUp();
    assertTrue(String.valueOf(redisGet(memberKey(s.lender()))).endsWith("|ACTIVE"));
    redisProxy.cut();
    try {
      assertEquals(503, one.api.post("/v1/members/" + s.lender() + "/suspend", Tokens.admin(), null).status());
    } finally {
      redisProxy.restore();
    }
    eventually("Redis holds the suspension", 10_000, () -> {
      String now = redisGet(memberKey(s.lender()));
      return now == null || now.endsWith("|SUSPENDED");
    });
    assertEquals(403, inquire(one, s.lender(), s.person()).status());
    assertEquals(403, inquire(two, s.lender(), s.person()).status());

    // the grant side: a reinstatement saved during a cut fails closed, then is published by itself
    redisProxy.cut();
    try {
      assertEquals(503, one.api.post("/v1/members/" + s.lender() + "/reinstate", Tokens.admin(), null).status());
    } finally {
      redisProxy.restore();
    }
    eventually("Redis holds the reinstatement", 10_000, () -> {
      String now = redisGet(memberKey(s.lender()));
      return now == null || now.endsWith("|ACTIVE");
    });
    Api.Res back = inquire(two, s.lender(), s.person());
    assertEquals(200, back.status(), back.toString());
  }

  @Test
  @DisplayName("with Redis cut for one instance only, a revoke answered 503 there is denied at once by the other, which repairs the cache")
  void revokeWithRedisCutForOneInstanceOnly() throws Exception {
    Setup s = setUp();
    JsonObject raw = one.config().raw().copy();
    raw.getJsonObject("http").put("port", TestBureau.freePort());
    raw.getJsonObject("redis").put("endpoints", new JsonArray().add("redis://127.0.0.1:6379"));
    TestBureau direct = TestBureau.startWith(BureauConfig.from(raw));
    try {
      Api.Res warm = inquire(direct, s.lender(), s.person());
      assertEquals(200, warm.status(), warm.toString());
      Probe probe = new Probe(s.lender(), s.person(), List.of(direct, direct));
      long answered;
      redisProxy.cut();
      try {
        eventually("probes answered before the revoke", 10_000, () -> probe.after(0, 200) >= 5);
        Api.Res r = one.api.delete("/v1/me/consents/" + s.consentId(), Tokens.borrower(s.person()));
        answered = System.nanoTime();
        assertEquals(503, r.status(), r.toString());
        eventually("inquiries answered after the revoke", 10_000,
          () -> probe.seen.stream().filter(x -> x.sentNanos() >= answered).count() >= 40);
        long served = probe.seen.stream().filter(x -> x.sentNanos() >= answered && x.status() == 200).count();
        assertEquals(0, served, served + " inquiries on the instance that reaches Redis got 200 after the revoke was answered");
        assertTrue(probe.after(answered, 403) > 0, "denied (403), not only refused");
        eventually("Redis holds the revocation while the first instance is still cut off", 10_000, () -> {
          String now = redisGet(consentKey(s));
          return now == null || now.endsWith("|NONE");
        });
      } finally {
        redisProxy.restore();
        probe.close();
      }
    } finally {
      direct.stop();
    }
  }

  @Test
  @DisplayName("an instance started during the cut, after a revoke it never heard of, does not serve the consent after the restore")
  void instanceStartedDuringTheCut() throws Exception {
    Setup s = setUp();
    TestBureau fresh = null;
    redisProxy.cut();
    long restored;
    Probe probe;
    try {
      assertEquals(503, one.api.delete("/v1/me/consents/" + s.consentId(), Tokens.borrower(s.person())).status());
      fresh = one.sibling();
      TestBureau started = fresh;
      probe = new Probe(s.lender(), s.person(), List.of(started, started));
      eventually("probes answered during the cut", 10_000, () -> probe.seen.size() >= 4);
    } finally {
      restored = System.nanoTime();
      redisProxy.restore();
    }
    try {
      awaitServed(probe, restored);
      Thread.sleep(500);
    } finally {
      probe.close();
      if (fresh != null) {
        fresh.stop();
      }
    }
    long served = probe.seen.stream().filter(x -> x.status() == 200 && x.body().contains(s.consentId())).count();
    assertEquals(0, served, served + " inquiries on the new instance got 200 naming the revoked consent");
    assertTrue(probe.after(restored, 403) > 0);
  }

  @Test
  @DisplayName("a revocation whose notification never arrived (written straight into Postgres as unpublished) is denied on both instances within a poll and repaired")
  void lostNotificationIsCaughtByThePoll() throws Exception {
    Setup s = setUp();
    // what a lost NOTIFY leaves behind: the row changed and marked unpublished, nobody told
    one.sql("UPDATE consents SET status = 'REVOKED', revoked_at = now(), revoked_by = 'test', "
      + "version = nextval('consent_version_seq'), published = false WHERE id = '" + s.consentId() + "'");
    long changed = System.nanoTime();
    eventually("Redis holds the revocation", 10_000, () -> {
      String now = redisGet(consentKey(s));
      return now == null || now.endsWith("|NONE");
    });
    assertTrue(System.nanoTime() - changed < 5_000_000_000L, "repaired within a few intervals");
    assertEquals(403, inquire(one, s.lender(), s.person()).status());
    assertEquals(403, inquire(two, s.lender(), s.person()).status());
    eventually("the record is marked done", 10_000,
      () -> one.count("SELECT count(*) FROM consents WHERE NOT published AND id = '" + s.consentId() + "'") == 0);
  }

  @Test
  @DisplayName("with the listeners' Postgres connections killed, a revoke during a Redis cut is still never served after the restore")
  void listenerConnectionsKilled() throws Exception {
    Setup s = setUp();
    long killed = one.count("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      + "WHERE datname = current_database() AND query LIKE 'LISTEN%') t");
    assertTrue(killed >= 2, "one listener per instance: " + killed);
    redisProxy.cut();
    Probe probe;
    long restored;
    try {
      assertEquals(503, one.api.delete("/v1/me/consents/" + s.consentId(), Tokens.borrower(s.person())).status());
      probe = new Probe(s.lender(), s.person());
      eventually("probes answered during the cut", 10_000, () -> probe.seen.size() >= 8);
    } finally {
      restored = System.nanoTime();
      redisProxy.restore();
    }
    try {
      awaitServed(probe, restored);
      Thread.sleep(500);
    } finally {
      probe.close();
    }
    long served = probe.seen.stream().filter(x -> x.status() == 200 && x.body().contains(s.consentId())).count();
    assertEquals(0, served, served + " inquiries got 200 naming the revoked consent after the restore");
    eventually("both listeners are back", 10_000, () -> one.count("SELECT count(*) FROM pg_stat_activity "
      + "WHERE datname = current_database() AND query LIKE 'LISTEN%'") >= 2);
  }
}
