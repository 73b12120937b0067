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

  private final RedisStore redis;

  public VersionedCache(RedisStore redis) {
    this.redis = redis;
  }

  public static String generationKey(String valueKey) {
    int close = valueKey.indexOf('}');
    return valueKey.substring(0, close + 1) + ":gen";
  }

  /** The cached entry or null (one GET; the hot path). */
  public Future<Entry> get(String key) {
    return redis.get(key).map(r -> r == null ? null : Entry.parse(r.toString()));
  }

  /** The writer's side: after the Postgres commit, publish version {@code version}. */
  public Future<Void> write(String key, long version, String payload, long ttlMillis) {
    return redis.eval(SET, List.of(key, generationKey(key)),
      List.of(Long.toString(version), payload, "", Long.toString(ttlMillis))).mapEmpty();
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
      args.add(List.of(Long.toString(w.version()), w.payload(), "", Long.toString(w.ttlMillis())));
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
    return redis.eval(READ_FOR_FILL, List.of(key, generationKey(key)), List.of(fresh)).compose(r -> {
      Entry now = Entry.parse(r.get(0).toString());
      if (now != null) {
        return Future.succeededFuture(now);
      }
      String generation = r.get(1).toString();
      return loader.get().compose(loaded -> fill(key, loaded, generation, ttlMillis)
        .map(ignored -> new Entry(loaded.version(), loaded.payload())));
    });
  }

  private Future<Response> fill(String key, Loaded loaded, String generation, long ttlMillis) {
    return redis.eval(SET, List.of(key, generationKey(key)),
      List.of(Long.toString(loaded.version()), loaded.payload(), generation, Long.toString(ttlMillis)));
  }
}
