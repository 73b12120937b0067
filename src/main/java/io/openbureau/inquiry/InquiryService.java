package io.openbureau.inquiry;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.openbureau.audit.Deadline;
import io.openbureau.consent.ConsentDecisions;
import io.openbureau.http.ApiError;
import io.openbureau.members.MemberStatus;
import io.openbureau.rights.ProtectionCache;
import io.openbureau.scoring.PersonScore;
import io.openbureau.scoring.ScoreStore;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The Redis-side logic of an inquiry: the member gate (one script on the member's hash tag), then
 * the person's decision, score and inquiry window (one script on the person's), with fills from
 * Postgres on a miss (then the script runs again, so the answer is always judged by the script
 * against the cache's newest state).
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

  /** The gate's verdict: the member's status (ACTIVE, SUSPENDED, UNKNOWN) and its rate limiter's. */
  record GateResult(String memberStatus, boolean allowed, long waitMicros) {
  }

  private final InquiryCache cache;
  private final InquiryRepository repository;
  private final ConsentDecisions consents;
  private final ScoreStore scores;
  private final MemberStatus members;
  private final ProtectionCache protections;
  private final InquirySettings settings;
  private final Counter hits;
  private final Counter misses;

  public InquiryService(SqlClient pg, io.openbureau.cache.RedisStore redis, ConsentDecisions consents,
                        ScoreStore scores, MemberStatus members, ProtectionCache protections, InquirySettings settings,
                        MeterRegistry registry) {
    this.protections = protections;
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

  /**
   * The member gate, one Redis call: its status and its rate. A status missing from the cache is
   * filled from Postgres ({@link MemberStatus#status}, which also fills the cache); a member with a
   * take-away change still unpublished is re-read first.
   */
  Future<GateResult> gate(String lenderId, Deadline deadline) {
    Future<Void> suspect = members.refreshIfSuspect(lenderId);
    Future<Void> ready = suspect.succeeded() ? suspect : deadline.bound(suspect, POSTGRES);
    return ready.compose(v -> deadline.bound(cache.gate(members.key(lenderId), lenderId), REDIS))
      .compose(g -> g.statusEntry() != null
        ? Future.succeededFuture(new GateResult(payload(g.statusEntry()), g.allowed(), g.waitMicros()))
        : deadline.bound(members.status(lenderId), POSTGRES).map(s -> new GateResult(s, g.allowed(), g.waitMicros())));
  }

  /**
   * The person's decision, one Redis script: consent or existing account, the score, the window
   * (a GRANTED HARD inquiry is recorded in it). Fills what is missing and runs the script again.
   */
  Future<InquiryCache.Person> decide(String lenderId, byte[] borrowerKey, String purpose, String scope, Instant now,
                                     Deadline deadline) {
    // a consent slot with an unpublished take-away change is re-read from Postgres first
    // (no round trip otherwise; see cache.VersionedCache, "one rule")
    Future<Void> consent = consents.refreshIfSuspect(borrowerKey, lenderId, purpose);
    Future<Void> frozen = protections.refreshIfSuspect(borrowerKey);
    Future<Void> suspect = consent.succeeded() && frozen.succeeded() ? consent : Future.all(consent, frozen).mapEmpty();
    if (suspect.succeeded()) {
      return person(InquiryCache.Mode.RECORD, lenderId, borrowerKey, purpose, scope, now, 1, false, deadline);
    }
    return deadline.bound(suspect, POSTGRES)
      .compose(v -> person(InquiryCache.Mode.RECORD, lenderId, borrowerKey, purpose, scope, now, 1, false, deadline));
  }

  /**
   * The consent decision alone, by the same script (nothing recorded, no window read): for callers
   * other than the inquiry that need to know whether a lender may look (tests, tools).
   */
  public Future<InquiryDecision> judge(String lenderId, byte[] borrowerKey, String purpose, String scope, Instant now) {
    return Future.all(consents.refreshIfSuspect(borrowerKey, lenderId, purpose), protections.refreshIfSuspect(borrowerKey))
      .compose(v -> person(InquiryCache.Mode.JUDGE, lenderId, borrowerKey, purpose, scope, now, 1, false, null))
      .map(p -> new InquiryDecision(p.granted(), p.consentId(), p.basis(), p.granted() ? null : p.reason()));
  }

  /** A decision as {@link #judge} gives it: basis CONSENT (with its id) or EXISTING_ACCOUNT, else the reason. */
  public record InquiryDecision(boolean allowed, String consentId, String basis, String reason) {
  }

  private Future<InquiryCache.Person> person(InquiryCache.Mode mode, String lenderId, byte[] borrowerKey,
                                             String purpose, String scope, Instant now, int attempt, boolean filled,
                                             Deadline deadline) {
    Future<InquiryCache.Person> run = cache.person(mode, borrowerKey, consents.key(borrowerKey, lenderId, purpose),
      scores.key(borrowerKey), protections.key(borrowerKey), lenderId, purpose, scope, now.toEpochMilli());
    return bound(deadline, run, REDIS).compose(p -> {
      if (!p.miss()) {
        if (mode == InquiryCache.Mode.RECORD) {
          (filled ? misses : hits).increment();
        }
        return Future.succeededFuture(p);
      }
      if (attempt >= MAX_ATTEMPTS) {
        return Future.failedFuture(ApiError.unavailable("unavailable", "the cache keeps changing; retry"));
      }
      List<Future<?>> fills = new ArrayList<>(3);
      // each fill reads Postgres, then writes Redis: bounded as Postgres's (the likelier to hang)
      if (p.consentMissing()) {
        fills.add(bound(deadline, consents.fill(borrowerKey, lenderId, purpose), POSTGRES));
      }
      if (p.scoreMissing()) {
        fills.add(bound(deadline, scores.get(borrowerKey), POSTGRES));
      }
      if (p.protectionsMissing()) {
        fills.add(bound(deadline, protections.fill(borrowerKey), POSTGRES));
      }
      if (p.windowMissing()) {
        fills.add(bound(deadline, rebuildWindow(borrowerKey, now), POSTGRES));
      }
      return Future.all(fills).compose(v -> person(mode, lenderId, borrowerKey, purpose, scope, now, attempt + 1, true,
        deadline));
    });
  }

  private static <T> Future<T> bound(Deadline deadline, Future<T> step, String dependency) {
    return deadline == null ? step : deadline.bound(step, dependency);
  }

  /** Why a thin file has no score ({@code {code, description}}), or null when it has one. */
  io.vertx.core.json.JsonObject whyNoScore(PersonScore score) {
    return scores.scorecard().whyNoScore(score);
  }

  /** The person's over-borrowing block without recording anything (their own report, compliance). */
  public Future<OverBorrowing> overBorrowing(byte[] borrowerKey, PersonScore score, Instant now) {
    return peek(borrowerKey, now, 1).map(p -> overBorrowing(p, score));
  }

  private Future<InquiryCache.Person> peek(byte[] borrowerKey, Instant now, int attempt) {
    return cache.person(InquiryCache.Mode.PEEK, borrowerKey, null, null, null, null, null, null, now.toEpochMilli())
      .compose(p -> {
        if (!p.miss() || attempt >= MAX_ATTEMPTS) {
          return p.miss() ? Future.failedFuture(ApiError.unavailable("unavailable", "retry")) : Future.succeededFuture(p);
        }
        return rebuildWindow(borrowerKey, now).compose(v -> peek(borrowerKey, now, attempt + 1));
      });
  }

  OverBorrowing overBorrowing(InquiryCache.Person p, PersonScore score) {
    OverBorrowing over = OverBorrowing.of(p.lenders7d(), p.lenders30d(), p.lenders90d(), p.inquiries30d(), score,
      settings);
    return p.fraudAlert() ? over.flagged(OverBorrowing.FRAUD_ALERT) : over;
  }

  /** Takes back what the decision recorded in the window (in the background: an answer never waits for it). */
  Future<Void> forget(byte[] borrowerKey, InquiryCache.Person p) {
    return p == null || p.takeBack() == null ? Future.succeededFuture()
      : cache.forget(borrowerKey, p.takeBack()).recover(e -> Future.succeededFuture());
  }

  private Future<Void> rebuildWindow(byte[] borrowerKey, Instant now) {
    return repository.window(borrowerKey, now).compose(fields -> cache.fillWindow(borrowerKey, fields));
  }

  private static String payload(String entry) {
    int bar = entry.indexOf('|');
    return bar < 0 ? entry : entry.substring(bar + 1);
  }
}
