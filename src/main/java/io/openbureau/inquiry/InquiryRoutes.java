package io.openbureau.inquiry;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.openbureau.audit.AccessLogEntry;
import io.openbureau.audit.AuditWriter;
import io.openbureau.audit.Deadline;
import io.openbureau.auth.Principal;
import io.openbureau.auth.Role;
import io.openbureau.auth.Subjects;
import io.openbureau.consent.ConsentDecisions;
import io.openbureau.http.ApiError;
import io.openbureau.http.FailureHandler;
import io.openbureau.http.OutageLog;
import io.openbureau.http.InputGuard;
import io.openbureau.http.RequestIds;
import io.openbureau.http.RouteMounter;
import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.openbureau.members.Member;
import io.openbureau.report.ReportReader;
import io.openbureau.scoring.PersonScore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * {@code POST /v1/inquiries}: the loan-origination hot path.
 *
 * <p>Order: authenticate (token verified once, then cached) → role → read and validate the body
 * (bad input is still logged as an INVALID attempt by this lender) → one Redis round trip (member
 * status and rate limit; consent decision, score and over-borrowing window) → the access-log row
 * committed (group commit) → the answer. No answer, not even a denial, leaves before its row is
 * committed; a row that cannot be committed makes the answer 503 {@code audit_unavailable}.
 *
 * <p>Denials for "no consent" and "unknown person" are the same response: the bureau does not
 * reveal whom it knows. The reason (no_consent, expired, scope) is in the access log only.
 */
public final class InquiryRoutes {
  static final int BODY_LIMIT = 8 * 1024;
  static final Set<String> PURPOSES = Set.of("LOAN_ORIGINATION", "ACCOUNT_REVIEW");
  static final Set<String> SCOPES = Set.of(ConsentDecisions.SCORE, ConsentDecisions.REPORT);
  static final Set<String> FIELDS = Set.of("nationalId", "purpose", "scope");

  private final InquiryService service;
  private final AuditWriter audit;
  private final BorrowerKeys keys;
  private final ReportReader reports;
  private final MeterRegistry registry;
  private final FailureHandler failures;
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();

  public InquiryRoutes(InquiryService service, AuditWriter audit, BorrowerKeys keys, ReportReader reports,
                       MeterRegistry registry, FailureHandler failures) {
    this.failures = failures;
    this.service = service;
    this.audit = audit;
    this.keys = keys;
    this.reports = reports;
    this.registry = registry;
  }

  public void mount(RouteMounter routes) {
    routes.securedStreaming("createInquiry", RoutingContext::next, this::inquire);
  }

  /** A parsed, valid request. */
  record Ask(byte[] borrowerKey, String purpose, String scope) {
  }

  void inquire(RoutingContext ctx) {
    long started = System.nanoTime();
    Principal principal = Principal.of(ctx);
    if (!principal.has(Role.LENDER)) {
      ctx.request().resume();
      ctx.fail(ApiError.forbidden("this operation needs the role lender"));
      return;
    }
    if (!Subjects.validFor(Role.LENDER, principal.subject())) {
      // never a lender id, a Redis key or a log row made of something that is not a member id
      ctx.request().resume();
      ctx.fail(ApiError.forbidden("the token's subject is not valid for the role lender"));
      return;
    }
    String lender = principal.subject();
    AccessLogEntry.Draft draft = AccessLogEntry.Draft.inquiry(lender, RequestIds.get(ctx));
    // the budget starts once the body is in (a client's slow upload is not the bureau's time)
    readBody(ctx.request())
      .compose(this::parse)
      .onSuccess(ask -> decide(ctx, draft.borrower(ask.borrowerKey()).purposeAndScope(ask.purpose(), ask.scope()),
        ask, started, audit.deadline(System.nanoTime())))
      .onFailure(e -> refuseInvalid(ctx, draft, e, started, audit.deadline(System.nanoTime())));
  }

  /*
   * One deadline per inquiry (audit.commitTimeoutMillis): the id, the Redis scripts, the fills and
   * window rebuild from Postgres, the report and the access-log commit all run within it, so the
   * answer never comes later than the budget, whatever hangs; past it the answer is 503
   * (audit_unavailable naming postgres for any Postgres failure, unavailable naming redis for a
   * Redis one: see answer(Throwable)), and the row,
   * if still unsent, is never written (see AuditWriter).
   */
  private void decide(RoutingContext ctx, AccessLogEntry.Draft draft, Ask ask, long started, Deadline deadline) {
    Instant now = Instant.now();
    deadline.bound(audit.reserveId(), AuditWriter::unavailable).onComplete(idResult -> {
      if (idResult.failed()) {
        finish(ctx, started, idResult.cause(), deadline);
        return;
      }
      long id = idResult.result();
      service.decide(draft.lenderId(), ask.borrowerKey(), ask.purpose(), ask.scope(), id, now, deadline)
        .onComplete(ar -> {
          if (ar.failed() && deadline.remainingNanos() <= 0) {
            // the budget is spent: no time left to commit a row, so none is written; nothing served
            finish(ctx, started, ar.cause(), deadline);
          } else if (ar.failed()) {
            // Redis (or a re-read from Postgres) could not decide: record the attempt, answer 503
            record(ctx, id, draft.decided(AccessLogEntry.DENIED, "unavailable", null, null), started,
              unavailable(ar.cause(), "the bureau cannot decide right now; retry later"), null, deadline);
          } else {
            answer(ctx, id, draft, ask, ar.result(), started, deadline);
          }
        });
    });
  }

  private void answer(RoutingContext ctx, long id, AccessLogEntry.Draft draft, Ask ask, InquiryService.Outcome o,
                      long started, Deadline deadline) {
    InquiryCache.Person person = o.person();
    if (!Member.ACTIVE.equals(o.memberStatus())) {
      service.forget(ask.borrowerKey(), person);
      String reason = Member.SUSPENDED.equals(o.memberStatus()) ? "member_suspended" : "member_unknown";
      record(ctx, id, draft.decided(AccessLogEntry.DENIED, reason, null, null), started,
        ApiError.forbidden("the calling member is not an active member of the bureau"), null, deadline);
      return;
    }
    if (!o.gate().allowed()) {
      // over its rate: refused before anything is served or recorded (see README: not logged)
      service.forget(ask.borrowerKey(), person);
      long seconds = Math.max(1, (o.gate().waitMicros() + 999_999) / 1_000_000);
      finish(ctx, "RATE_LIMITED", started, new ApiError(429, "rate_limited", "Too many requests",
        "this member exceeded its request rate; retry after " + seconds + " s", null,
        Map.of("Retry-After", Long.toString(seconds))), deadline);
      return;
    }
    if (!AccessLogEntry.GRANTED.equals(person.decision())) {
      record(ctx, id, draft.decided(AccessLogEntry.DENIED, person.reason(), null, null), started, consentRequired(),
        person, deadline);
      return;
    }
    PersonScore score = parseScore(person.scoreEntry());
    OverBorrowing over = service.overBorrowing(person, score);
    JsonObject body = new JsonObject().put("inquiryId", Long.toString(id)).put("consentId", person.consentId())
      .put("score", score.toApiJson()).put("overBorrowing", over.toJson());
    // the report is read before the row is appended: a GRANTED row is written only for an answer
    // that has everything it serves (a report that cannot be read must not leave one behind)
    Future<JsonArray> report = ConsentDecisions.REPORT.equals(ask.scope())
      ? deadline.bound(reports.tradelines(ask.borrowerKey()), InquiryService.POSTGRES) : Future.succeededFuture();
    AccessLogEntry.Draft granted = draft.decided(AccessLogEntry.GRANTED, null,
      java.util.UUID.fromString(person.consentId()), score.value());
    report.onComplete(read -> {
      if (read.failed()) {
        service.forget(ask.borrowerKey(), person);
        finish(ctx, started, deadline.remainingNanos() <= 0 ? read.cause()
          : unavailable(read.cause(), "the report cannot be read right now"), deadline);
        return;
      }
      audit.append(id, granted, deadline).onComplete(logged -> {
        if (logged.failed()) {
          service.forget(ask.borrowerKey(), person);
          finish(ctx, started, logged.cause(), deadline);
          return;
        }
        if (read.result() != null) {
          body.put("report", new JsonObject().put("tradelines", read.result()).put("score", score.toApiJson())
            .put("overBorrowing", over.toJson()));
        }
        deadline.cancel();
        count(AccessLogEntry.GRANTED, started);
        ctx.response().putHeader("Content-Type", "application/json").setStatusCode(200).end(body.toBuffer());
      });
    });
  }

  /** Commits the row, then fails the request with {@code error} (or 503 when the row cannot be committed). */
  private void record(RoutingContext ctx, long id, AccessLogEntry.Draft row, long started, Throwable error,
                      InquiryCache.Person recorded, Deadline deadline) {
    audit.append(id, row, deadline).onComplete(ar -> {
      if (ar.failed() && recorded != null) {
        service.forget(row.borrowerKey(), recorded);
      }
      if (ar.succeeded()) {
        finish(ctx, row.decision(), started, error, deadline);
      } else {
        finish(ctx, started, ar.cause(), deadline);
      }
    });
  }

  private void refuseInvalid(RoutingContext ctx, AccessLogEntry.Draft draft, Throwable e, long started,
                             Deadline deadline) {
    if (!(e instanceof ApiError error)) {
      finish(ctx, "ERROR", started, e, deadline);
      return;
    }
    JsonArray fields = new JsonArray();
    error.errors().forEach(f -> fields.add(f.field()));
    AccessLogEntry.Draft row = draft.decided(AccessLogEntry.INVALID, error.code(), null, null)
      .details(new JsonObject().put("status", error.status()).put("fields", fields));
    deadline.bound(audit.reserveId(), AuditWriter::unavailable).onComplete(id -> {
      if (id.failed()) {
        finish(ctx, started, id.cause(), deadline);
      } else {
        record(ctx, id.result(), row, started, error, null, deadline);
      }
    });
  }

  /** A failure of the bureau's (503): counted ERROR, or AUDIT_UNCERTAIN when the row may be in the log after all. */
  private void finish(RoutingContext ctx, long started, Throwable error, Deadline deadline) {
    finish(ctx, AuditWriter.isUncertain(error) ? "AUDIT_UNCERTAIN" : "ERROR", started, error, deadline);
  }

  private void finish(RoutingContext ctx, String outcome, long started, Throwable error, Deadline deadline) {
    deadline.cancel();
    count(outcome, started);
    ctx.fail(answer(error));
  }

  /**
   * The one place an inquiry's failure becomes its answer. Whatever Postgres failed to do on the
   * inquiry's path (the access-log commit, the re-read of a suspect member or consent, a fill, the
   * window rebuild, the report), the attempt cannot be recorded durably: 503 {@code audit_unavailable}
   * naming postgres (API.md), the uncertain commit's own answer kept as it is. A Redis failure stays
   * 503 {@code unavailable} naming redis (mapped by {@link FailureHandler}); any other answer as it is.
   */
  private Throwable answer(Throwable error) {
    if (error instanceof ApiError api && (api.status() != 503 || "audit_unavailable".equals(api.code()))) {
      return api;
    }
    if (!"postgres".equals(failures.unavailableDependency(error))) {
      return error;
    }
    if (!(error instanceof ApiError)) {
      OutageLog.POSTGRES.failed("POST /v1/inquiries", error); // once per outage, as FailureHandler would
    }
    return AuditWriter.unavailable();
  }

  /** The failure itself when it names its dependency (an ApiError 503 or a connection failure), else {@code detail}. */
  private ApiError unavailable(Throwable cause, String detail) {
    if (cause instanceof ApiError api && api.status() == 503) {
      return api;
    }
    String dependency = failures.unavailableDependency(cause);
    if (dependency != null && !dependency.equals("a dependency")) {
      return ApiError.dependencyUnavailable(dependency);
    }
    return ApiError.unavailable("unavailable", detail);
  }

  private void count(String outcome, long started) {
    counters.computeIfAbsent(outcome, o -> Counter.builder("bureau.inquiries").tag("outcome", o)
      .description("Inquiries by outcome").register(registry)).increment();
    timers.computeIfAbsent(outcome, o -> Timer.builder("bureau.inquiry.duration").tag("outcome", o)
      .description("Inquiry latency, from authenticated request to answer").publishPercentileHistogram()
      .register(registry)).record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
  }

  static ApiError consentRequired() {
    return new ApiError(403, "consent_required", "Consent required",
      "this lender holds no active consent of this person that covers this purpose and scope");
  }

  /**
   * The cached score entry ({@code <version>|<json>}) parsed, remembered per entry text: the same
   * person asked about again costs a map lookup, not a JSON parse. Bounded; per instance (one event
   * loop), so no locking. A changed score is a different entry text, so nothing stale is served.
   */
  private PersonScore parseScore(String entry) {
    PersonScore parsed = parsedScores.get(entry);
    if (parsed == null) {
      int bar = entry.indexOf('|');
      parsed = PersonScore.fromCacheJson(entry.substring(bar + 1), Long.parseLong(entry.substring(0, bar)));
      parsedScores.put(entry, parsed);
    }
    return parsed;
  }

  private final Map<String, PersonScore> parsedScores = new java.util.LinkedHashMap<>(1024, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, PersonScore> eldest) {
      return size() > 10_000;
    }
  };

  /** The request body, at most {@link #BODY_LIMIT} bytes, as application/json. */
  private static Future<Buffer> readBody(HttpServerRequest request) {
    String type = request.getHeader("Content-Type");
    if (type == null || !type.toLowerCase().startsWith("application/json")) {
      request.resume();
      return Future.failedFuture(new ApiError(415, "unsupported_media_type", "Unsupported media type",
        "Content-Type must be application/json"));
    }
    Promise<Buffer> promise = Promise.promise();
    Buffer body = Buffer.buffer();
    request.handler(chunk -> {
      if (body.length() + chunk.length() > BODY_LIMIT) {
        request.handler(null);
        promise.tryFail(new ApiError(413, "payload_too_large", "Payload too large",
          "an inquiry body is at most " + BODY_LIMIT + " bytes", null, Map.of("Connection", "close")));
      } else {
        body.appendBuffer(chunk);
      }
    });
    request.endHandler(v -> promise.tryComplete(body));
    // a body cut off or broken in transit (bad chunking, a closed connection) is the client's: 400, logged
    request.exceptionHandler(e -> promise.tryFail(ApiError.invalid("body", "could not be read")));
    request.resume();
    return promise.future();
  }

  private Future<Ask> parse(Buffer body) {
    Object parsed;
    try {
      parsed = body.length() == 0 ? null : io.vertx.core.json.Json.decodeValue(body);
    } catch (RuntimeException e) {
      return Future.failedFuture(ApiError.invalid("body", "is not valid JSON"));
    }
    if (!(parsed instanceof JsonObject json)) {
      return Future.failedFuture(ApiError.invalid("body", "must be a JSON object"));
    }
    String refused = InputGuard.check(json);
    if (refused != null) {
      // logged as INVALID like any bad body, naming the field, never the refused text
      return Future.failedFuture(ApiError.invalid(refused, InputGuard.CONTROL));
    }
    List<ApiError.FieldError> errors = new ArrayList<>();
    for (String name : json.fieldNames()) {
      if (!FIELDS.contains(name)) {
        errors.add(new ApiError.FieldError(name, "is not a field of an inquiry"));
      }
    }
    byte[] borrowerKey = null;
    Object id = json.getValue("nationalId");
    if (id == null) {
      errors.add(new ApiError.FieldError("nationalId", "is required"));
    } else if (!(id instanceof String s)) {
      errors.add(new ApiError.FieldError("nationalId", "must be a string"));
    } else {
      String problem = NationalId.problem(s);
      if (problem != null) {
        errors.add(new ApiError.FieldError("nationalId", problem));
      } else {
        borrowerKey = keys.key(s);
      }
    }
    String purpose = enumField(json, "purpose", PURPOSES, null, errors);
    String scope = enumField(json, "scope", SCOPES, ConsentDecisions.SCORE, errors);
    if (!errors.isEmpty()) {
      return Future.failedFuture(ApiError.invalid(errors));
    }
    return Future.succeededFuture(new Ask(borrowerKey, purpose, scope));
  }

  private static String enumField(JsonObject json, String name, Set<String> allowed, String dflt,
                                  List<ApiError.FieldError> errors) {
    Object v = json.getValue(name);
    if (v == null) {
      if (dflt == null) {
        errors.add(new ApiError.FieldError(name, "is required"));
      }
      return dflt;
    }
    if (!(v instanceof String s) || !allowed.contains(s)) {
      errors.add(new ApiError.FieldError(name, "must be one of " + String.join(", ", new java.util.TreeSet<>(allowed))));
      return null;
    }
    return s;
  }
}
