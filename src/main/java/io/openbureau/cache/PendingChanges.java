package io.openbureau.cache;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What this process knows of changes committed in Postgres that the cache may not hold yet: the
 * keys whose Redis entry must not be trusted (see {@link VersionedCache}, "one rule"). One per
 * process, shared by every HTTP verticle; fed by {@link CacheRepair} (Postgres LISTEN/NOTIFY plus
 * a poll of what is still to publish). Reading it ({@link #suspect}) costs a map lookup and no
 * round trip: the hot path stays one Redis call while nothing is pending.
 *
 * <p>A key is suspect while a change to it is known to be unpublished, and <em>every</em> key is
 * suspect while this process cannot be sure it would have heard of one: before the listener is
 * connected and the outbox has been read after that, after the listener dropped, when its own
 * heartbeat stops coming back (a half-open listener connection), or when more changes are pending
 * than one poll reads.
 *
 * <p>Refs name a cached value independently of the Redis key prefix: {@code c:<borrower key
 * hex>:<lender>:<purpose>} for a consent slot, {@code m:<member id>} for a member's status.
 * Mutations come from one thread (the repair verticle's context); reads from any event loop.
 */
public final class PendingChanges {
  /** For tools and tests that run a decision without a repair loop: trusts Redis, as before. */
  public static final PendingChanges TRUST_REDIS = new PendingChanges(0, true);

  private record Mark(long version, long epoch) {
  }

  private final long heartbeatTimeoutNanos;
  private final boolean trustRedis;
  private final Map<String, Mark> pending = new ConcurrentHashMap<>();
  /** Publications heard during a poll, so a poll that read an older state does not revive them. */
  private final Map<String, Mark> publishedDuringPoll = new ConcurrentHashMap<>();
  private final AtomicLong epoch = new AtomicLong();
  private volatile boolean listening;
  private volatile long polledAfterConnect = -1;
  private volatile long connectedEpoch = Long.MAX_VALUE;
  private volatile boolean complete;
  private volatile long lastHeartbeatNanos = System.nanoTime();

  public PendingChanges(long heartbeatTimeoutMillis) {
    this(heartbeatTimeoutMillis, false);
  }

  private PendingChanges(long heartbeatTimeoutMillis, boolean trustRedis) {
    this.heartbeatTimeoutNanos = heartbeatTimeoutMillis * 1_000_000L;
    this.trustRedis = trustRedis;
  }

  private volatile io.vertx.sqlclient.SqlClient reads;

  /**
   * The Postgres client re-reads of suspect keys use: the repair loop's own small pool, replaced
   * when it gets stuck (a half-open connection), so those reads never pile up on the HTTP pools;
   * null until the repair loop has started (then the caller's own pool is used).
   */
  public io.vertx.sqlclient.SqlClient reads() {
    return reads;
  }

  void reads(io.vertx.sqlclient.SqlClient client) {
    this.reads = client;
  }

  private volatile Runnable onReadStuck;

  /**
   * A re-read on {@link #reads()} got no answer in time: its connection is presumably half-open
   * (a blackholed or frozen link; once the link is back such a connection still never answers), so
   * the repair loop replaces its pool at once rather than after a stuck pass of its own. Any thread.
   */
  public void readStuck() {
    Runnable r = onReadStuck;
    if (r != null) {
      r.run();
    }
  }

  void onReadStuck(Runnable action) {
    this.onReadStuck = action;
  }

  /** Whether the cached value of {@code ref} must be re-read from Postgres before it is trusted. */
  public boolean suspect(String ref) {
    return !trustRedis && (!trusted() || pending.containsKey(ref));
  }

  /** Whether this process would know of every unpublished change (else every key is suspect). */
  public boolean trusted() {
    return listening && complete && polledAfterConnect >= connectedEpoch
      && System.nanoTime() - lastHeartbeatNanos < heartbeatTimeoutNanos;
  }

  /** Number of refs known to be pending (a gauge for operators and tests). */
  public int size() {
    return pending.size();
  }

  /**
   * Completes once this process has heard that {@code ref} is pending at {@code version} or newer
   * (its own listener got the change's NOTIFY, which Postgres sent to every listener at the same
   * moment), or after {@code timeoutMillis}. A change that could not be published waits for this
   * before it answers 503, so the other instances have had the notification before anyone is told
   * the change was saved. Checked every few milliseconds; only on that failure path.
   */
  public io.vertx.core.Future<Void> awaitPending(io.vertx.core.Vertx vertx, String ref, long version,
                                                 long timeoutMillis) {
    io.vertx.core.Promise<Void> heard = io.vertx.core.Promise.promise();
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
    check(vertx, ref, version, deadline, heard);
    return heard.future();
  }

  private void check(io.vertx.core.Vertx vertx, String ref, long version, long deadline,
                     io.vertx.core.Promise<Void> heard) {
    Mark m = pending.get(ref);
    if (trustRedis || !listening || (m != null && m.version() >= version) || System.nanoTime() > deadline) {
      heard.complete();
    } else {
      vertx.setTimer(2, id -> check(vertx, ref, version, deadline, heard));
    }
  }

  /** A change to {@code ref} at {@code version} was committed and may not be published yet. */
  public void pending(String ref, long version) {
    long e = epoch.incrementAndGet();
    pending.merge(ref, new Mark(version, e), (a, b) -> new Mark(Math.max(a.version(), b.version()), b.epoch()));
  }

  /** The cache holds {@code ref} at {@code version} or newer. */
  public void published(String ref, long version) {
    long e = epoch.incrementAndGet();
    pending.computeIfPresent(ref, (k, m) -> m.version() <= version ? null : m);
    publishedDuringPoll.merge(ref, new Mark(version, e), (a, b) -> new Mark(Math.max(a.version(), b.version()), b.epoch()));
  }

  /** The listener connection is up and LISTENs: a poll started after this makes the state trusted. */
  public void listenerUp() {
    connectedEpoch = epoch.incrementAndGet();
    lastHeartbeatNanos = System.nanoTime();
    listening = true;
  }

  /** The listener connection is gone: every key is suspect until it is back and the outbox re-read. */
  public void listenerDown() {
    listening = false;
    connectedEpoch = Long.MAX_VALUE;
  }

  /** The listener is connected but its heartbeats stopped coming back (a half-open connection). */
  public boolean heartbeatOverdue() {
    return listening && System.nanoTime() - lastHeartbeatNanos >= heartbeatTimeoutNanos;
  }

  /** This process' own heartbeat notification came back through the listener. */
  public void heartbeat() {
    lastHeartbeatNanos = System.nanoTime();
  }

  /** Call before reading the outbox; pass the token to {@link #endPoll}. */
  public long beginPoll() {
    return epoch.incrementAndGet();
  }

  /**
   * The outbox as read by a poll that began at {@code token}: it replaces what the notifications
   * said, except for what they said after the poll began. {@code complete} is false when the poll
   * did not read every pending change (then every key stays suspect).
   */
  public void endPoll(long token, Map<String, Long> read, boolean complete) {
    pending.entrySet().removeIf(e -> e.getValue().epoch() < token && !read.containsKey(e.getKey()));
    read.forEach((ref, version) -> {
      Mark done = publishedDuringPoll.get(ref);
      if (done != null && done.epoch() > token && done.version() >= version) {
        return;
      }
      pending.merge(ref, new Mark(version, token), (a, b) -> new Mark(Math.max(a.version(), b.version()), a.epoch()));
    });
    publishedDuringPoll.entrySet().removeIf(e -> e.getValue().epoch() <= token);
    this.complete = complete;
    if (token > connectedEpoch && listening) {
      polledAfterConnect = token;
    }
  }
}
