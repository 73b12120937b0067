package io.openbureau.inquiry;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
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
 */
public final class InquiryService {
  private static final int MAX_ATTEMPTS = 4;

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
  Future<Outcome> decide(String lenderId, byte[] borrowerKey, String purpose, String scope, long inquiryId, Instant now) {
    // a member or consent slot with an unpublished take-away change is re-read from Postgres first
    // (no round trip otherwise; see cache.VersionedCache, "one rule")
    Future<Void> consent = consents.refreshIfSuspect(borrowerKey, lenderId, purpose);
    Future<Void> member = members.refreshIfSuspect(lenderId);
    if (consent.succeeded() && member.succeeded()) {
      return decideFromCache(lenderId, borrowerKey, purpose, scope, inquiryId, now);
    }
    return Future.all(consent, member).compose(v -> decideFromCache(lenderId, borrowerKey, purpose, scope, inquiryId, now));
  }

  private Future<Outcome> decideFromCache(String lenderId, byte[] borrowerKey, String purpose, String scope,
                                          long inquiryId, Instant now) {
    Future<InquiryCache.Gate> gate = cache.gate(members.key(lenderId), lenderId);
    Future<InquiryCache.Person> person = person(lenderId, borrowerKey, purpose, scope, inquiryId, now, 1, false);
    Future<String> status = gate.compose(g -> g.statusEntry() != null
      ? Future.succeededFuture(payload(g.statusEntry()))
      : members.status(lenderId));
    return Future.join(status, person).transform(ar -> {
      if (ar.succeeded()) {
        return Future.succeededFuture(new Outcome(gate.result(), status.result(), person.result()));
      }
      // take back an inquiry the person's script recorded if the member's side failed
      Future<Void> undo = person.succeeded() ? forget(borrowerKey, person.result()) : Future.succeededFuture();
      return undo.transform(x -> Future.failedFuture(ar.cause()));
    });
  }

  private Future<InquiryCache.Person> person(String lenderId, byte[] borrowerKey, String purpose, String scope,
                                             long inquiryId, Instant now, int attempt, boolean filled) {
    return cache.person(borrowerKey, consents.key(borrowerKey, lenderId, purpose), scores.key(borrowerKey), lenderId,
      scope, inquiryId, true, now.toEpochMilli()).compose(p -> {
        if (!p.miss()) {
          (filled ? misses : hits).increment();
          return Future.succeededFuture(p);
        }
        if (attempt >= MAX_ATTEMPTS) {
          return Future.failedFuture(ApiError.unavailable("unavailable", "the cache keeps changing; retry"));
        }
        List<Future<?>> fills = new ArrayList<>();
        if (p.consentMissing()) {
          fills.add(consents.decide(borrowerKey, lenderId, purpose, scope, now));
        }
        if (p.scoreMissing()) {
          fills.add(scores.get(borrowerKey));
        }
        if (p.windowMissing()) {
          fills.add(rebuildWindow(borrowerKey, now));
        }
        return Future.all(fills).compose(v -> person(lenderId, borrowerKey, purpose, scope, inquiryId, now,
          attempt + 1, true));
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
