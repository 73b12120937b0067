package io.openbureau.reciprocity;

import io.openbureau.cache.RedisStore;
import io.openbureau.scoring.RateLimitedLog;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.sqlclient.SqlClient;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Give to get (API.md "Give to get (v1.1)"): has a member had furnishing accepted within
 * {@code reciprocity.windowDays}? Furnishing records acceptances with {@link Recorder} (at most
 * once an hour per member); {@link #contributing} answers the inquiry pipeline.
 *
 * <p>Why a cached value never makes an answer wrong: what is cached (in this process and in
 * Redis) is the member's last accepted furnishing, a time that only ever moves forward, and the
 * window is judged against it at each check. A cached time inside the window is therefore always
 * a true "yes"; anything else (nothing cached, or a time outside the window) is asked of Postgres,
 * so a member that starts furnishing is never refused on a stale value. Redis failing only costs
 * the Postgres read; Postgres failing fails the check (the pipeline answers 503).
 *
 * <p>State is bounded: the in-process map holds at most {@link #MAX_REMEMBERED} members (cleared
 * when full), Redis keys expire after {@code reciprocity.cacheSeconds}.
 */
public final class Contributions {
  private static final Logger LOG = LoggerFactory.getLogger(Contributions.class);
  private static final RateLimitedLog FAILURES = new RateLimitedLog(60_000);
  static final int MAX_REMEMBERED = 100_000;

  private final ReciprocitySettings settings;
  private final ContributionRepository repository;
  private final RedisStore redis;
  private final Clock clock;
  private final Map<String, Instant> remembered = new HashMap<>();

  public Contributions(ReciprocitySettings settings, SqlClient pg, RedisStore redis, Clock clock) {
    this.settings = settings;
    this.repository = new ContributionRepository(pg);
    this.redis = redis;
    this.clock = clock;
  }

  /** The Redis key of a member's last accepted furnishing (epoch millis). */
  public String key(String memberId) {
    return redis.key("m:" + memberId, "furnished");
  }

  /**
   * True when reciprocity is off, or the member had furnishing accepted in the last
   * {@code reciprocity.windowDays}. Call on the member's event loop (the map is not shared).
   */
  public Future<Boolean> contributing(String memberId) {
    if (!settings.enabled()) {
      return Future.succeededFuture(true);
    }
    Instant since = clock.instant().minus(Duration.ofDays(settings.windowDays()));
    if (within(remembered.get(memberId), since)) {
      return Future.succeededFuture(true);
    }
    return fromRedis(memberId).compose(cached -> {
      if (within(cached, since)) {
        remember(memberId, cached);
        return Future.succeededFuture(true);
      }
      return repository.last(memberId).map(last -> {
        if (last != null) {
          remember(memberId, last);
          toRedis(memberId, last);
        }
        return within(last, since);
      });
    });
  }

  private static boolean within(Instant last, Instant since) {
    return last != null && last.isAfter(since);
  }

  private void remember(String memberId, Instant last) {
    if (remembered.size() >= MAX_REMEMBERED) {
      remembered.clear();
    }
    remembered.merge(memberId, last, (a, b) -> a.isAfter(b) ? a : b);
  }

  private Future<Instant> fromRedis(String memberId) {
    return redis.get(key(memberId)).<Instant>map(Contributions::instant).recover(e -> {
      FAILURES.warn(LOG, "reciprocity: Redis unavailable ({}); asking Postgres", e.toString());
      return Future.succeededFuture(null);
    });
  }

  private static Instant instant(Response r) {
    try {
      return r == null ? null : Instant.ofEpochMilli(Long.parseLong(r.toString()));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private void toRedis(String memberId, Instant last) {
    redis.send(Request.cmd(Command.SET).arg(key(memberId)).arg(Long.toString(last.toEpochMilli()))
      .arg("EX").arg(settings.cacheSeconds())).onFailure(e -> FAILURES.warn(LOG,
      "reciprocity: could not cache a member's last furnishing ({})", e.toString()));
  }

  /**
   * Furnishing's side: records that a member had furnishing accepted, at most once an hour per
   * member from this recorder (and, by the statement, from all of them together). Never fails the
   * furnishing: a failed write is retried with the member's next accepted chunk.
   */
  public static final class Recorder {
    static final Duration EVERY = Duration.ofHours(1);
    private final ContributionRepository repository;
    private final Clock clock;
    private final Map<String, Instant> written = new HashMap<>();

    public Recorder(SqlClient pg, Clock clock) {
      this.repository = new ContributionRepository(pg);
      this.clock = clock;
    }

    public Future<Void> accepted(String memberId) {
      Instant now = clock.instant();
      Instant last = written.get(memberId);
      if (last != null && last.plus(EVERY).isAfter(now)) {
        return Future.succeededFuture();
      }
      return repository.accepted(memberId).map(v -> {
        if (written.size() >= MAX_REMEMBERED) {
          written.clear();
        }
        written.put(memberId, now);
        return (Void) null;
      }).recover(e -> {
        FAILURES.warn(LOG, "reciprocity: could not record a member's accepted furnishing ({}); retried with "
          + "its next chunk", e.toString());
        return Future.succeededFuture();
      });
    }
  }
}
