package io.openbureau.cache;

import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * One lender fishing: 2,000 inquiries about random people nobody has data or consent for. The
 * keyspace stays bounded: every key the run left has a TTL, each fished person costs at most a
 * small constant number of keys, and the cache's own keys for them (the NONE consent slot and the
 * generation) are gone once {@code redis.negativeTtlSeconds} has passed.
 */
@DisplayName("Redis keyspace under a flood of denials: every key expires, a few keys per person, gone after the negative TTL")
class RedisKeyspaceBoundTest {
  private static final String LENDER = "lender-f";
  private static final int FLOOD = 2000;
  private static final long NEGATIVE_TTL_SECONDS = 2;
  /** Per fished person: consent slot, generation, inquiry window and its marker. */
  private static final int MAX_KEYS_PER_PERSON = 4;
  /**
   * Keys of a fished person that the cache writes (cache.VersionedCache): they must be gone after
   * the negative TTL. The inquiry window ({@code inq}, {@code inq:ready}) is the inquiry feature's,
   * bounded by its own TTLs (checked below: it has one).
   */
  private static final Set<String> CACHE_CLASSES = Set.of("consent", "gen", "score");
  private static TestBureau bureau;
  private static Redis redis;
  private static BorrowerKeys borrowerKeys;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("keyspace", new JsonObject()
      .put("redis", new JsonObject().put("negativeTtlSeconds", NEGATIVE_TTL_SECONDS))
      .put("inquiry", new JsonObject().put("rateLimit", new JsonObject().put("perSecond", 100_000).put("burst", 100_000))));
    assertEquals(201, bureau.api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", LENDER).put("name", "F"))
      .status());
    redis = Redis.createClient(bureau.bureau().vertx(), bureau.config().redis().endpoints().get(0));
    borrowerKeys = new BorrowerKeys(bureau.config().identity().hmacKeyId(), bureau.config().identity().hmacSecret());
  }

  @AfterAll
  static void stop() {
    if (redis != null) {
      redis.close();
    }
    if (bureau != null) {
      bureau.close();
    }
  }

  @Test
  @DisplayName("2,000 denials about random people leave only expiring keys, at most 4 per person, the cache's gone after the negative TTL")
  void floodOfDenials() throws Exception {
    Random random = new Random(12);
    Set<String> people = new HashSet<>();
    while (people.size() < FLOOD) {
      people.add(NationalId.of("110101", LocalDate.of(1940, 1, 1).plusDays(random.nextInt(65 * 365)), random.nextInt(1000)));
    }
    Map<String, String> tagOf = new HashMap<>(); // hash tag "b:<hex>" -> person
    for (String p : people) {
      tagOf.put("b:" + BorrowerKeys.hex(borrowerKeys.key(p)), p);
    }

    Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
    List<String> queue = new ArrayList<>(people);
    AtomicInteger next = new AtomicInteger();
    ExecutorService clients = Executors.newFixedThreadPool(8);
    List<Future<?>> running = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      running.add(clients.submit(() -> {
        for (int i = next.getAndIncrement(); i < queue.size(); i = next.getAndIncrement()) {
          Api.Res r = bureau.api.post("/v1/inquiries", Tokens.lender(LENDER),
            new JsonObject().put("nationalId", queue.get(i)).put("purpose", "LOAN_ORIGINATION"));
          statuses.computeIfAbsent(r.status(), s -> new AtomicInteger()).incrementAndGet();
          if (r.status() != 403) {
            System.out.println("RedisKeyspaceBoundTest: not a denial: " + r);
          }
        }
      }));
    }
    for (Future<?> f : running) {
      f.get(5, TimeUnit.MINUTES);
    }
    clients.shutdownNow();
    // on a loaded machine a few may answer 503 (a timeout); none is served, none fails otherwise
    assertTrue(statuses.keySet().stream().allMatch(s -> s == 403 || s == 503), "denials only: " + statuses);
    assertTrue(statuses.getOrDefault(403, new AtomicInteger()).get() >= FLOOD * 95 / 100, "denials: " + statuses);

    // right after the flood: every key expires, and a fished person costs a few keys
    Map<String, Long> ttls = keysWithTtl();
    Map<String, Integer> perPerson = new HashMap<>();
    Map<String, Integer> perClass = new HashMap<>();
    for (Map.Entry<String, Long> e : ttls.entrySet()) {
      String key = e.getKey();
      // PTTL 0: expiring within the millisecond (the test TTL is 2 s); -1 would be a key without one
      assertTrue(e.getValue() >= 0, key + " has no TTL (PTTL " + e.getValue() + ")");
      String tag = tag(key);
      if (tagOf.containsKey(tag)) {
        perPerson.merge(tag, 1, Integer::sum);
        perClass.merge(keyClass(key), 1, Integer::sum);
        if (CACHE_CLASSES.contains(keyClass(key))) {
          assertTrue(e.getValue() <= NEGATIVE_TTL_SECONDS * 1000, key + " lives " + e.getValue() + " ms, more than the negative TTL");
        }
      }
    }
    System.out.println("RedisKeyspaceBoundTest: " + ttls.size() + " keys after " + FLOOD + " denials; fished people's keys by class "
      + perClass);
    assertTrue(perClass.getOrDefault("consent", 0) > 0, "the flood's consent slots are in Redis: " + perClass);
    int most = perPerson.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    assertTrue(most <= MAX_KEYS_PER_PERSON, "a fished person holds " + most + " keys");

    // after the negative TTL, the cache's keys about the fished people are gone
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(NEGATIVE_TTL_SECONDS + 20);
    List<String> left;
    do {
      left = keysWithTtl().keySet().stream()
        .filter(k -> tagOf.containsKey(tag(k)) && CACHE_CLASSES.contains(keyClass(k))).toList();
      if (left.isEmpty()) {
        break;
      }
      Thread.sleep(200);
    } while (System.nanoTime() < deadline);
    if (!left.isEmpty()) {
      fail(left.size() + " cache keys about fished people are still there, e.g. " + left.get(0));
    }
  }

  /** "{b:<hex>}" of a key. */
  private static String tag(String key) {
    int open = key.indexOf('{');
    int close = key.indexOf('}');
    return open < 0 || close < open ? "" : key.substring(open + 1, close);
  }

  /** The part after the hash tag up to the next colon: consent, gen, score, inq, status, rl. */
  private static String keyClass(String key) {
    String rest = key.substring(key.indexOf('}') + 2);
    int colon = rest.indexOf(':');
    return colon < 0 ? rest : rest.substring(0, colon);
  }

  /** Every key under this run's prefix with its PTTL (-1: none). */
  private static Map<String, Long> keysWithTtl() {
    Map<String, Long> out = new HashMap<>();
    String cursor = "0";
    do {
      var r = TestBureau.await(redis.send(Request.cmd(Command.SCAN).arg(cursor).arg("MATCH")
        .arg(bureau.config().redis().keyPrefix() + "*").arg("COUNT").arg(1000)).toCompletionStage().toCompletableFuture());
      cursor = r.get(0).toString();
      for (var key : r.get(1)) {
        var ttl = TestBureau.await(redis.send(Request.cmd(Command.PTTL).arg(key.toString())).toCompletionStage()
          .toCompletableFuture());
        if (ttl.toLong() != -2) {
          out.put(key.toString(), ttl.toLong());
        }
      }
    } while (!cursor.equals("0"));
    return out;
  }
}
