package io.openbureau.inquiry;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.openbureau.audit.Deadline;
import io.openbureau.consent.ConsentDecisions;
import io.openbureau.http.ApiError;
import io.openbureau.members.MemberStatus;
import io.openbureau.scoring.PersonScore;
import io.openbureau.scoring.ScoreStore;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The Redis-side logic of an inquiry: the member gate and the person's decision, score and
 * inquiry window in one round trip, with fills from Postgres on a miss (then the scripts run
 * again, so the answer is always judged by the script against the cache's newest state).
 *
 * <p>Every step runs within the inquiry's {@link Deadline} (the same budget its access-log commit
 * must fit in): a frozen Postgres or Redis makes the inquiry fail with 503 naming it when the
 * budget is spent, never later ({@code audit_unavailable} for Postgres, {@code unavailable} for
 * Redis, mapped in {@link InquiryRoutes}). A fill given up on goes on by itself and may
 * still land in the cache (fills are versioned, so a late fill is as good as an early one).
 */
public final class InquiryService {
  private static final int MAX_ATTEMPTS = 4;
  static final String POSTGRES = "postgres";
  static final String REDIS = "redis";

  /** What the Redis round trip decided. */
  record Outcome(InquiryCache.Gate gate, String memberStatus, InquiryCache.Person person) {
  }

  private final InquiryCache cache;
  private final InquiryRepository repository;
  private final ConsentDecisions consents;
  private final ScoreStore scores;
  private final MemberStatus members;
  private final InquirySettings settings;
  private final Counter hits;
  private final Counter misses;

  public InquiryService(SqlClient pg, io.openbureau.cache.RedisStore redis, ConsentDecisions consents,
                        ScoreStore scores, MemberStatus members, InquirySettings settings, MeterRegistry registry) {
    this.cache = new InquiryCache(redis, settings);
    this.repository = new InquiryRepository(pg);
    this.consents = consents;
    this.scores = scores;
    this.members = members;
    this.settings = settings;
    this.hits = Counter.builder("bureau.inquiry.cache").tag("result", "hit")
      .description("Inquiries answered from Redis alone (hit) or after a fill from Postgres (miss)").register(registry);
    this.misses = Counter.builder("bureau.inquiry.cache").tag("result", "miss").register(registry);
  }

  InquirySettings settings() {
    return settings;
  }

  /** Member gate and person script together; fills what is missing and retries the person's side. */
  Future<Outcome> decide(String lenderId, byte[] borrowerKey, String purpose, String scope, long inquiryId, Instant now,
                         Deadline deadline) {
    // a member or consent slot with an unpublished take-away change is re-read from Postgres first
    // (no round trip otherwise; see cache.VersionedCache, "one rule")
    Future<Void> consent = consents.refreshIfSuspect(borrowerKey, lenderId, purpose);
    Future<Void> member = members.refreshIfSuspect(lenderId);
    if (consent.succeeded() && member.succeeded()) {
      return decideFromCache(lenderId, borrowerKey, purpose, scope, inquiryId, now, deadline);
    }
    return deadline.bound(Future.all(consent, member), POSTGRES)
      .compose(v -> decideFromCache(lenderId, borrowerKey, purpose, scope, inquiryId, now, deadline));
  }

  private Future<Outcome> decideFromCache(String lenderId, byte[] borrowerKey, String purpose, String scope,
                                          long inquiryId, Instant now, Deadline deadline) {
    Future<InquiryCache.Gate> gate = deadline.bound(cache.gate(members.key(lenderId), lenderId), REDIS);
    Future<InquiryCache.Person> person = person(lenderId, borrowerKey, purpose, scope, inquiryId, now, 1, false,
      deadline);
    Future<String> status = gate.compose(g -> g.statusEntry() != null
      ? Future.succeededFuture(payload(g.statusEntry()))
      : deadline.bound(members.status(lenderId), POSTGRES));
    return Future.join(status, person).transform(ar -> {
      if (ar.succeeded()) {
        return Future.succeededFuture(new Outcome(gate.result(), status.result(), person.result()));
      }
      // take back an inquiry the person's script recorded if the member's side failed
      if (person.succeeded()) {
        forget(borrowerKey, person.result()); // in the background: the answer does not wait for Redis
      }
      return Future.failedFuture(ar.cause());
    });
  }

  private Future<InquiryCache.Person> person(String lenderId, byte[] borrowerKey, String purpose, String scope,
                                             long inquiryId, Instant now, int attempt, boolean filled,
                                             Deadline deadline) {
    return deadline.bound(cache.person(borrowerKey, consents.key(borrowerKey, lenderId, purpose), scores.key(borrowerKey),
      lenderId, scope, inquiryId, true, now.toEpochMilli()), REDIS).compose(p -> {
        if (!p.miss()) {
          (filled ? misses : hits).increment();
          return Future.succeededFuture(p);
        }
        if (attempt >= MAX_ATTEMPTS) {
          return Future.failedFuture(ApiError.unavailable("unavailable", "the cache keeps changing; retry"));
        }
        List<Future<?>> fills = new ArrayList<>();
        // each fill reads Postgres, then writes Redis: bounded as Postgres's (the likelier to hang)
        if (p.consentMissing()) {
          fills.add(deadline.bound(consents.decide(borrowerKey, lenderId, purpose, scope, now), POSTGRES));
        }
        if (p.scoreMissing()) {
          fills.add(deadline.bound(scores.get(borrowerKey), POSTGRES));
        }
        if (p.windowMissing()) {
          fills.add(deadline.bound(rebuildWindow(borrowerKey, now), POSTGRES));
        }
        return Future.all(fills).compose(v -> person(lenderId, borrowerKey, purpose, scope, inquiryId, now,
          attempt + 1, true, deadline));
      });
  }

  /** The person's over-borrowing block without recording anything (their own report, compliance). */
  public Future<OverBorrowing> overBorrowing(byte[] borrowerKey, PersonScore score, Instant now) {
    return peek(borrowerKey, now, 1).map(p -> OverBorrowing.of(p.lenders7d(), p.lenders30d(), p.lenders90d(),
      p.inquiries30d(), score, settings));
  }

  private Future<InquiryCache.Person> peek(byte[] borrowerKey, Instant now, int attempt) {
    return cache.person(borrowerKey, null, null, null, null, 0, false, now.toEpochMilli()).compose(p -> {
      if (!p.miss() || attempt >= MAX_ATTEMPTS) {
        return p.miss() ? Future.failedFuture(ApiError.unavailable("unavailable", "retry")) : Future.succeededFuture(p);
      }
      return rebuildWindow(borrowerKey, now).compose(v -> peek(borrowerKey, now, attempt + 1));
    });
  }

  OverBorrowing overBorrowing(InquiryCache.Person p, PersonScore score) {
    return OverBorrowing.of(p.lenders7d(), p.lenders30d(), p.lenders90d(), p.inquiries30d(), score, settings);
  }

  Future<Void> forget(byte[] borrowerKey, InquiryCache.Person p) {
    return p == null || p.miss() ? Future.succeededFuture() : cache.forget(borrowerKey, p.member()).recover(e -> Future.succeededFuture());
  }

  private Future<Void> rebuildWindow(byte[] borrowerKey, Instant now) {
    return repository.windowRows(borrowerKey, now.minusMillis(InquiryCache.WINDOW_MS))
      .compose(rows -> cache.fillWindow(borrowerKey, rows));
  }

  private static String payload(String entry) {
    int bar = entry.indexOf('|');
    return bar < 0 ? entry : entry.substring(bar + 1);
  }
}
