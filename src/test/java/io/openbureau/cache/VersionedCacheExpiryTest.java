package io.openbureau.cache;

import io.openbureau.config.BureauConfig;
import io.openbureau.support.TcpProxy;
import io.openbureau.support.TestBureau;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cache's TTL rules and the Redis client's timeouts, against the real Redis: entries expire by
 * class, a fill pinned to a generation that expired is refused as after a flush, and a stalled
 * connection fails every command queued on it within the timeout, then recovers.
 */
@DisplayName("VersionedCache expiry and RedisStore timeouts: every entry expires, expiry is a flush, a stall fails fast")
class VersionedCacheExpiryTest {
  private static final long NEGATIVE_TTL_S = 1;
  private static final long MAX_TTL_S = 3600;
  private static Vertx vertx;
  private static RedisStore redis;
  private static String prefix;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    prefix = "obt:" + TestBureau.RUN_ID + ":vcexpiry:";
    redis = RedisStore.create(vertx, config(List.of("redis://127.0.0.1:6379"), 500));
  }

  @AfterAll
  static void stop() {
    await(redis.send(Request.cmd(Command.EVAL).arg("for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end")
      .arg(0).arg(prefix + "*")));
    await(redis.close());
    await(vertx.close());
  }

  private static BureauConfig.Redis config(List<String> endpoints, long timeoutMillis) {
    return new BureauConfig.Redis(endpoints, "standalone", prefix, 4, timeoutMillis, timeoutMillis, NEGATIVE_TTL_S, MAX_TTL_S);
  }

  private static <T> T await(Future<T> f) {
    return TestBureau.await(f.toCompletionStage().toCompletableFuture());
  }

  private static long pttl(String key) {
    return await(redis.send(Request.cmd(Command.PTTL).arg(key))).toLong();
  }

  @Test
  @DisplayName("version 0 lives the negative TTL, data the max TTL, an ending payload until its end plus the negative TTL")
  void ttlByClass() {
    VersionedCache cache = new VersionedCache(redis);
    String none = redis.key("b:ttl1", "consent:l:p");
    String data = redis.key("b:ttl1", "score");
    await(cache.getOrLoad(none, () -> Future.succeededFuture(new VersionedCache.Loaded(0, "NONE")), 0));
    await(cache.write(data, 3, "{}", 0));
    long n = pttl(none);
    assertTrue(n > 0 && n <= NEGATIVE_TTL_S * 1000, "version 0: " + n);
    long gen = pttl(VersionedCache.generationKey(none));
    assertTrue(gen > 0 && gen <= NEGATIVE_TTL_S * 1000, "generation: " + gen);
    long d = pttl(data);
    assertTrue(d > MAX_TTL_S * 1000 - 60_000 && d <= MAX_TTL_S * 1000, "data: " + d);

    VersionedCache consents = VersionedCache.expiring(redis, p -> "NONE".equals(p) ? 0 : Long.parseLong(p.substring(p.lastIndexOf('|') + 1)));
    String active = redis.key("b:ttl2", "consent:l:p");
    String revoked = redis.key("b:ttl2", "consent:l:q");
    String lasting = redis.key("b:ttl2", "consent:l:r");
    long now = System.currentTimeMillis();
    await(consents.write(active, 2, "id|SCORE|" + (now + 20_000), 0));
    await(consents.write(revoked, 5, "NONE", 0));
    await(consents.write(lasting, 2, "id|SCORE|" + (now + 10L * MAX_TTL_S * 1000), 0));
    long a = pttl(active);
    assertTrue(a > 19_000 && a <= 21_000 + NEGATIVE_TTL_S * 1000, "active: " + a);
    long r = pttl(revoked);
    assertTrue(r > 0 && r <= NEGATIVE_TTL_S * 1000, "revoked: " + r);
    long l = pttl(lasting);
    assertTrue(l > 0 && l <= MAX_TTL_S * 1000, "capped by the max TTL: " + l);
    // an explicit TTL below the floor is raised to it: no value outlives its generation's pin by less
    String brief = redis.key("b:ttl3", "x");
    await(cache.write(brief, 1, "x", 1));
    assertTrue(pttl(brief) > 500, "floor: " + pttl(brief));
  }

  @Test
  @DisplayName("a fill pinned to a generation that expired meanwhile is refused, exactly as after a flush")
  void fillAcrossGenerationExpiry() throws Exception {
    VersionedCache cache = new VersionedCache(redis);
    String key = redis.key("b:fill1", "consent:l:p");
    Promise<VersionedCache.Loaded> slowRead = Promise.promise();
    CompletableFuture<VersionedCache.Entry> answer = cache.getOrLoad(key, slowRead::future, 0)
      .toCompletionStage().toCompletableFuture();
    String gen = VersionedCache.generationKey(key);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (pttl(gen) < 0) { // the fill pins the generation (creating it) before it reads
      assertTrue(System.nanoTime() < deadline, "the fill pins a generation");
      Thread.sleep(10);
    }
    while (pttl(gen) != -2) { // then it expires while the read is out
      assertTrue(System.nanoTime() < deadline, "the generation expires after the negative TTL");
      Thread.sleep(50);
    }
    vertx.runOnContext(v -> slowRead.complete(new VersionedCache.Loaded(1, "old")));
    VersionedCache.Entry served = answer.get(5, TimeUnit.SECONDS);
    assertEquals("old", served.payload(), "the request is answered from what it read");
    Response cached = await(redis.get(key));
    assertNull(cached, "the fill was refused: its generation expired");
    // a fill pinned now lands
    assertEquals("new", await(cache.getOrLoad(key, () -> Future.succeededFuture(new VersionedCache.Loaded(2, "new")), 0)).payload());
    assertEquals("2|new", await(redis.get(key)).toString());
  }

  /** Polls until the store answers, within 10 s. */
  private static void awaitPing(RedisStore store) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try {
        await(store.ping());
        return;
      } catch (RuntimeException e) {
        assertTrue(System.nanoTime() < until, "Redis answers: " + e);
        Thread.sleep(50);
      }
    }
  }

  @Test
  @DisplayName("a stalled connection fails every command queued on it within the timeout, and the next ones recover")
  void stalledConnection() throws Exception {
    try (TcpProxy proxy = new TcpProxy(6379)) {
      RedisStore store = RedisStore.create(vertx, config(List.of("redis://127.0.0.1:" + proxy.port()), 300));
      try {
        awaitPing(store); // the first connection (a loaded machine may take longer than the timeout)
        proxy.freeze();
        long sent = System.nanoTime();
        List<CompletableFuture<Response>> queued = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
          queued.add(store.get(prefix + "stall:" + i).toCompletionStage().toCompletableFuture());
        }
        for (CompletableFuture<Response> q : queued) {
          try {
            q.get(5, TimeUnit.SECONDS);
            throw new AssertionError("a command on a frozen Redis succeeded");
          } catch (java.util.concurrent.ExecutionException e) {
            String dependency = e.getCause() instanceof io.openbureau.http.ApiError api ? api.dependency()
              : e.getCause().getClass().getName().startsWith("io.vertx.redis.") ? "redis" : e.getCause().toString();
            assertEquals("redis", dependency, e.getCause().toString());
          }
        }
        long millis = (System.nanoTime() - sent) / 1_000_000;
        assertTrue(millis < 1000, "50 queued commands failed after " + millis + " ms");
        proxy.thaw();
        awaitPing(store);
      } finally {
        proxy.restore();
        await(store.close());
      }
    }
  }
}
