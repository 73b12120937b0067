package io.openbureau.cache;

import io.vertx.core.Future;
import io.vertx.redis.client.Response;

import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * A Redis copy of a versioned Postgres value ({@code "<version>|<payload>"}) that can never go
 * back in time.
 *
 * <p>The invariant: once a writer has committed version v in Postgres and then called
 * {@link #write}, no later read returns a version below v, whatever races with it:
 * <ul>
 *   <li>Writers and fills both go through {@code versioned_set.lua}, which replaces the value only
 *   with a strictly higher version. A fill that read Postgres before the writer committed carries
 *   a lower version and is refused.</li>
 *   <li>A flush (or a Redis restart) erases the writer's value, so the version check alone could
 *   let a slow fill resurrect the old state. Fills therefore also carry the <em>generation</em> of
 *   the key's hash-tag, read before they read Postgres; a flush erases the generation, and a fill
 *   whose generation is gone or changed is refused. A fill that starts after the flush reads
 *   Postgres after the writer committed, so what it writes is current.</li>
 * </ul>
 * The generation key shares the value key's hash tag, so both live in one Redis Cluster slot.
 *
 * <h2>One rule for every change to what the cache may allow</h2>
 * Consent grant, supersede, revoke and expiry, member suspension and reinstatement (and any later
 * change of the kind, e.g. a freeze) follow it:
 * <ol>
 *   <li><b>Take-away changes reach the cache (or make it unusable) before the bureau tells anyone.</b>
 *   A revoke, a supersede or a suspension commits in Postgres, then {@link #write}s its version;
 *   the HTTP answer waits for that write. When Redis cannot be written the answer is 503 and the
 *   entry is made unusable instead: the change's transaction also sends a Postgres
 *   {@code NOTIFY} ({@link CacheRepair#PENDING}, delivered at commit), every instance puts the key
 *   in its {@link PendingChanges}, and a suspect key is re-read from Postgres and re-published
 *   ({@link #republish}) before any decision trusts Redis for it.</li>
 *   <li><b>Grant changes are committed before they are published.</b> A grant or a reinstatement
 *   is written to Redis only after its commit; if that write fails, the cache still denies (the
 *   older entry), which is safe, and the repair publishes it later.</li>
 *   <li><b>Expiry needs no publication.</b> A consent entry carries its {@code expiresAt}; every
 *   judge (Lua and Java) compares it with the request's time, so an expired entry never allows.</li>
 *   <li><b>The bureau repairs the cache by itself.</b> The change's transaction also leaves a durable
 *   record of what is still to publish ({@code consents.published = false},
 *   {@code members.published_version < status_version}, V8). After the write succeeds the record is
 *   marked done (and a {@link CacheRepair#PUBLISHED} notification lets every instance trust the key
 *   again). Whatever stays unmarked (Redis cut, the process killed between commit and write) is
 *   re-published by {@link CacheRepair} on every instance every few hundred milliseconds until
 *   Redis has it. Replays are idempotent: the write is a version compare-and-set, and
 *   {@link #republish} pins the generation so a flush racing it cannot let an old read land.</li>
 *   <li><b>A client told 503 may retry safely, and nothing depends on it.</b> Retrying a revoke or a
 *   status change publishes again (same version: a no-op); retrying a grant supersedes.</li>
 * </ol>
 * Why no instance serves an ALLOW from an entry that may predate an unpublished take-away, case by
 * case:
 * <ul>
 *   <li><em>Redis cut for every instance</em>: no decision can be made (503) while it lasts; the
 *   change's NOTIFY reached every listener; after the restore a suspect key is re-published from
 *   Postgres before it is read, and the repair loop publishes and marks it done.</li>
 *   <li><em>Redis reachable by one instance only</em>: that instance's repair loop publishes; the
 *   other cannot decide at all (503).</li>
 *   <li><em>A Redis flush</em>: the entry is gone, so the next decision fills from Postgres (current);
 *   the pending record is replayed anyway, harmlessly.</li>
 *   <li><em>An instance restarted during the cut</em>: until its listener is up and it has read the
 *   outbox after that, every key is suspect (re-read from Postgres before use).</li>
 *   <li><em>The listener connection dropped, or half-open</em>: on close, and when its own periodic
 *   heartbeat notification stops coming back, every key is suspect until it is reconnected and the
 *   outbox re-read. A periodic poll of the outbox also catches a notification that never arrived.</li>
 * </ul>
 * What this does not cover: between a commit and the delivery of its notification (milliseconds)
 * an instance may still read the old entry; the changer's own answer is not given before its write
 * or its 503, and the old entry could only be served to a request that raced the change. Redis
 * restored from an older snapshot (time travel) is not detected: flush it instead.
 *
 * <h2>TTLs: every entry expires, and expiry is just another flush</h2>
 * Every value written here expires (bounded keyspace; the memory per key class is in
 * {@link RedisStore}); a miss is refilled from Postgres, so expiry never changes an answer. The
 * TTL of an entry (the {@code ttlMillis} argument, or {@link Ttl the cache's policy} when it is 0)
 * is clamped to [{@code redis.negativeTtlSeconds}, {@code redis.maxTtlSeconds}]; the default policy
 * gives an entry of version 0 (Postgres has nothing: no consent, unknown member, no score) the
 * negative TTL, and anything else the max TTL. {@link #expiring} lets a payload that ends (a
 * consent) live until a little after its end instead.
 *
 * <p>An expiring value must not let a slow fill resurrect an older version, exactly as a flush must
 * not. The argument: a generation key lives {@code B = negativeTtlSeconds} from its creation and is
 * never refreshed (read_for_fill.lua creates it with that TTL; versioned_set.lua never creates it);
 * every value's TTL is at least {@code B}. Take a fill F that pinned generation G at time
 * {@code t0} (G was created at {@code tc <= t0}), read Postgres before a writer W committed, and
 * lands at {@code t1}; W wrote its newer version at {@code tw > t0} with TTL {@code >= B}.
 * <ul>
 *   <li>If G no longer exists at {@code t1} (expired or flushed) or was re-created (a fresh random
 *   value), F is refused, as after a flush.</li>
 *   <li>Otherwise {@code t1 <= tc + B <= tw + ttl}: W's value has not expired yet (same Redis
 *   clock, same expiry rule), so the version check refuses F; and if W's value was flushed, the
 *   flush took G with it (first case).</li>
 * </ul>
 * So a fill lands only within {@code B} of its pin, and no value expires within {@code B} of its
 * write: the invariant above holds with expiry as it does with flushes. A fill taking longer than
 * {@code B} (minutes by default) is refused, harmlessly (the request is answered from what it read).
 * Redis must run with {@code maxmemory-policy noeviction}: an eviction that takes a value and leaves
 * its generation is the one thing this cannot tell from a clean expiry.
 */
public final class VersionedCache {
  private static final LuaScript SET = LuaScript.load("versioned_set.lua");
  private static final LuaScript READ_FOR_FILL = LuaScript.load("read_for_fill.lua");

  /** What was found: the version and payload, or nothing. */
  public record Entry(long version, String payload) {
    static Entry parse(String raw) {
      if (raw == null || raw.isEmpty()) {
        return null;
      }
      int bar = raw.indexOf('|');
      return new Entry(Long.parseLong(raw.substring(0, bar)), raw.substring(bar + 1));
    }
  }

  /** A Postgres read for a fill: the version and payload to cache. */
  public record Loaded(long version, String payload) {
  }

  /**
   * How long a request waits for the re-read of a suspect key ({@code refreshIfSuspect}) before it
   * answers 503: a half-open Postgres or Redis connection must not hold a request. Below the audit
   * commit timeout's default (2 s).
   */
  public static final long REFRESH_TIMEOUT_MILLIS = 1_000;

  /**
   * How long an entry lives when its writer passes no TTL (0): from its version (0 when Postgres
   * has nothing) and payload, with the bounds of {@code redis.negativeTtlSeconds} and
   * {@code redis.maxTtlSeconds}. The result is clamped to those bounds (see "TTLs" above).
   */
  @FunctionalInterface
  public interface Ttl {
    long millis(long version, String payload, long nowMillis, long negativeTtlMillis, long maxTtlMillis);

    /** Version 0 (Postgres has nothing): the negative TTL; anything else: the max TTL. */
    Ttl DEFAULT = (version, payload, now, negative, max) -> version == 0 ? negative : max;
  }

  private final RedisStore redis;
  private final Ttl ttl;

  public VersionedCache(RedisStore redis) {
    this(redis, Ttl.DEFAULT);
  }

  public VersionedCache(RedisStore redis, Ttl ttl) {
    this.redis = redis;
    this.ttl = ttl;
  }

  /**
   * A cache for payloads that stop allowing at some time (a consent): {@code endMillis} tells
   * when (0 or less: the payload allows nothing, e.g. NONE). Such an entry lives until
   * {@code negativeTtlSeconds} after its end (never more than the max TTL); one that allows nothing,
   * or has version 0, lives the negative TTL.
   */
  public static VersionedCache expiring(RedisStore redis, java.util.function.ToLongFunction<String> endMillis) {
    return new VersionedCache(redis, (version, payload, now, negative, max) -> {
      long end = version == 0 ? 0 : endMillis.applyAsLong(payload);
      return end <= 0 ? negative : Math.max(0, end - now) + negative;
    });
  }

  /** The TTL written with this entry: the argument or the policy, within the configured bounds. */
  long ttlFor(long version, String payload, long ttlMillis) {
    long negative = redis.negativeTtlMillis();
    long max = redis.maxTtlMillis();
    long chosen = ttlMillis > 0 ? ttlMillis : ttl.millis(version, payload, System.currentTimeMillis(), negative, max);
    return Math.min(max, Math.max(negative, chosen));
  }

  public static String generationKey(String valueKey) {
    int close = valueKey.indexOf('}');
    return valueKey.substring(0, close + 1) + ":gen";
  }

  /** The cached entry or null (one GET; the hot path). */
  public Future<Entry> get(String key) {
    return redis.get(key).map(r -> r == null ? null : Entry.parse(r.toString()));
  }

  /**
   * The writer's side: after the Postgres commit, publish version {@code version}; {@code ttlMillis}
   * 0 lets the cache's {@link Ttl} choose (see "TTLs" above).
   */
  public Future<Void> write(String key, long version, String payload, long ttlMillis) {
    return redis.eval(SET, List.of(key, generationKey(key)),
      List.of(Long.toString(version), payload, "", Long.toString(ttlFor(version, payload, ttlMillis)))).mapEmpty();
  }

  /** One writer's publication: {@code version} of {@code key}. */
  public record Write(String key, long version, String payload, long ttlMillis) {
  }

  /**
   * Many {@link #write}s at once, pipelined on one connection. Each is its own compare-and-set, so
   * their order does not matter: the invariant holds per key.
   */
  public Future<Void> writeAll(List<Write> writes) {
    List<List<String>> keys = new java.util.ArrayList<>(writes.size());
    List<List<String>> args = new java.util.ArrayList<>(writes.size());
    for (Write w : writes) {
      keys.add(List.of(w.key(), generationKey(w.key())));
      args.add(List.of(Long.toString(w.version()), w.payload(), "",
        Long.toString(ttlFor(w.version(), w.payload(), w.ttlMillis()))));
    }
    return redis.evalAll(SET, keys, args);
  }

  /**
   * Cached entry, or on a miss: pin the generation, load from Postgres, fill if still allowed, and
   * answer with what Postgres said (fresh for this request whether or not the fill was taken).
   */
  public Future<Entry> getOrLoad(String key, Supplier<Future<Loaded>> loader, long ttlMillis) {
    return get(key).compose(hit -> hit != null ? Future.succeededFuture(hit) : load(key, loader, ttlMillis));
  }

  private Future<Entry> load(String key, Supplier<Future<Loaded>> loader, long ttlMillis) {
    String fresh = UUID.randomUUID().toString();
    return redis.eval(READ_FOR_FILL, List.of(key, generationKey(key)), List.of(fresh, generationTtl())).compose(r -> {
      Entry now = Entry.parse(r.get(0).toString());
      if (now != null) {
        return Future.succeededFuture(now);
      }
      String generation = r.get(1).toString();
      return loader.get().compose(loaded -> fill(key, loaded, generation, ttlMillis)
        .map(ignored -> new Entry(loaded.version(), loaded.payload())));
    });
  }

  /**
   * The repair's write: pin the generation, read Postgres, then write what was read, refused if a
   * flush came in between (then a later fill reads Postgres after the flush, which is as new). When
   * this succeeds, no read of {@code key} can return a version older than what {@code loader} read.
   * Answers the version read from Postgres.
   */
  public Future<Long> republish(String key, Supplier<Future<Loaded>> loader, long ttlMillis) {
    String fresh = UUID.randomUUID().toString();
    return redis.eval(READ_FOR_FILL, List.of(key, generationKey(key)), List.of(fresh, generationTtl())).compose(r -> {
      String generation = r.get(1).toString();
      return loader.get().compose(loaded -> fill(key, loaded, generation, ttlMillis).map(ignored -> loaded.version()));
    });
  }

  /**
   * {@link #republish} for a request (the re-read of a suspect key), bounded by
   * {@link #REFRESH_TIMEOUT_MILLIS}. Past it, fails with 503 {@code unavailable} naming the
   * dependency that had not answered ({@code postgres} while the read is out, {@code redis} before
   * and after it); when that was the Postgres read, {@code readStuck} is told (its connection is
   * presumably half-open, see {@link CacheRepair}).
   */
  public Future<Void> refresh(String key, Supplier<Future<Loaded>> loader, Runnable readStuck) {
    java.util.concurrent.atomic.AtomicReference<String> waitingOn = new java.util.concurrent.atomic.AtomicReference<>("redis");
    java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
    Supplier<Future<Loaded>> tracked = () -> {
      waitingOn.set("postgres");
      // a read on a pool closed under it (replaced as stuck, see CacheRepair) is Postgres's failure
      return loader.get().andThen(ar -> waitingOn.set("redis")).recover(e -> Future.failedFuture(
        "Pool closed".equals(e.getMessage()) ? io.openbureau.http.ApiError.dependencyUnavailable("unavailable",
          "postgres", "did not answer in time; retry later") : e));
    };
    return republish(key, tracked, 0).andThen(ar -> done.set(true)).<Void>mapEmpty()
      .timeout(REFRESH_TIMEOUT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS)
      .recover(e -> {
        if (!(e instanceof java.util.concurrent.TimeoutException)) {
          return Future.failedFuture(e); // the refresh's own failure, within the time
        }
        // the timer fires on this context while the refresh may complete on a connection's: when both
        // happen at once, the answer is still "not in time", never the bare timeout
        String dependency = waitingOn.get();
        if ("postgres".equals(dependency) && readStuck != null && !done.get()) {
          readStuck.run();
        }
        return Future.failedFuture(io.openbureau.http.ApiError.dependencyUnavailable("unavailable", dependency,
          "did not answer in time; retry later"));
      });
  }

  private Future<Response> fill(String key, Loaded loaded, String generation, long ttlMillis) {
    return redis.eval(SET, List.of(key, generationKey(key)), List.of(Long.toString(loaded.version()), loaded.payload(),
      generation, Long.toString(ttlFor(loaded.version(), loaded.payload(), ttlMillis))));
  }

  /** A generation lives the negative TTL, the floor of every value's TTL (see "TTLs" above). */
  private String generationTtl() {
    return Long.toString(redis.negativeTtlMillis());
  }
}
