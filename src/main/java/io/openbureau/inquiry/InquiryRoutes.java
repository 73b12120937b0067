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
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * {@code POST /v1/inquiries}: the loan-origination hot path, one pipeline of small steps joined flat:
 * <ol>
 *   <li><b>Gate</b>: the token (verified once, then cached) → role lender → a valid member id →
 *   the member ACTIVE and under its rate, one Redis script ({@code member_gate.lua}). Decided before
 *   the body is looked at (the body is read meanwhile): a refused request answers 403
 *   {@code forbidden} or 429 {@code rate_limited} whatever its body, and writes no access-log row.</li>
 *   <li><b>Parse</b>: the contract's schema; control characters are 400 naming the field. An invalid
 *   body is logged as INVALID, but the row holds nothing the client typed: only values from closed
 *   lists and the field names the schema knows (any other name is {@value #UNKNOWN_FIELD}).</li>
 *   <li><b>Decide</b>: one Redis script on the person's hash tag ({@code inquiry.lua}, the only
 *   place the consent rule lives): consent or existing account, score, window (a GRANTED HARD
 *   inquiry is recorded in it); fills from Postgres on a miss.</li>
 *   <li><b>Record</b>: the access-log row, group-committed within the inquiry's {@link Deadline}.</li>
 *   <li><b>Respond</b>.</li>
 * </ol>
 * Each step ends in an {@link Outcome}, and {@link #effect} is the one place an outcome becomes its
 * row, its window change, its metric label and its answer. No answer, not even a denial, leaves
 * before its row is committed; a row that cannot be committed makes the answer 503
 * {@code audit_unavailable} (a cut-off commit says {@code Access-Log-Outcome: unknown}).
 *
 * <p>Denials for "no consent" and "unknown person" are the same response: the bureau does not
 * reveal whom it knows. The reason (no_consent, expired, scope) is in the access log only.
 */
public final class InquiryRoutes {
  static final int BODY_LIMIT = 8 * 1024;
  static final String SCORE = "SCORE";
  static final String REPORT = "REPORT";
  static final Set<String> SCOPES = Set.of(SCORE, REPORT);
  /** The field names of the schema (and "body" for the body as a whole): the only names a row may hold. */
  static final Set<String> FIELDS = Set.of("nationalId", "purpose", "scope");
  static final String UNKNOWN_FIELD = "(unknown)";

  private final InquiryService service;
  private final AuditWriter audit;
  private final BorrowerKeys keys;
  private final ReportReader reports;
  private final io.openbureau.reciprocity.Contributions contributions;
  private final MeterRegistry registry;
  private final FailureHandler failures;
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();

  public InquiryRoutes(InquiryService service, AuditWriter audit, BorrowerKeys keys, ReportReader reports,
                       io.openbureau.reciprocity.Contributions contributions, MeterRegistry registry,
                       FailureHandler failures) {
    this.contributions = contributions;
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

  /** One inquiry on its way through the pipeline (confined to its event loop). */
  private static final class Attempt {
    final RoutingContext ctx;
    final long started;
    final Deadline deadline;
    final Instant now = Instant.now();
    String lender;
    Future<Long> id;
    Ask ask;
    InquiryCache.Person person;

    Attempt(RoutingContext ctx, long started, Deadline deadline) {
      this.ctx = ctx;
      this.started = started;
      this.deadline = deadline;
    }
  }

  /** A step's early end: carries its outcome down the chain (no stack trace: it is not an error). */
  private static final class Stop extends RuntimeException {
    final transient Outcome outcome;

    Stop(Outcome outcome) {
      super(null, null, false, false);
      this.outcome = outcome;
    }
  }

  void inquire(RoutingContext ctx) {
    long started = System.nanoTime();
    Attempt a = new Attempt(ctx, started, audit.deadline(started));
    // the body is read while the gate decides; the gate's verdict comes first whatever the body holds
    Future<Buffer> body = readBody(ctx.request());
    gate(a)
      .compose(v -> parse(a, body))
      .compose(ask -> decide(a, ask))
      .recover(e -> Future.succeededFuture(e instanceof Stop stop ? stop.outcome
        : new Outcome.Unavailable(e, false)))
      .compose(o -> record(a, o))
      .onComplete(ar -> respond(a, ar.succeeded() ? ar.result() : effect(a, new Outcome.Unavailable(ar.cause(), false), 0)));
  }

  /** Gate: token → role → subject → member ACTIVE and under its rate (one Redis call). */
  private Future<Void> gate(Attempt a) {
    Principal principal = Principal.of(a.ctx);
    if (!principal.has(Role.LENDER)) {
      return stop(new Outcome.Refused("this operation needs the role lender"));
    }
    if (!Subjects.validFor(Role.LENDER, principal.subject())) {
      // never a lender id, a Redis key or a log row made of something that is not a member id
      return stop(new Outcome.Refused("the token's subject is not valid for the role lender"));
    }
    a.lender = principal.subject();
    return service.gate(a.lender, a.deadline).compose(g -> {
      if (!Member.ACTIVE.equals(g.memberStatus())) {
        return stop(new Outcome.Refused("the calling member is not an active member of the bureau"));
      }
      if (!g.allowed()) {
        return stop(new Outcome.RateLimited(Math.max(1, (g.waitMicros() + 999_999) / 1_000_000)));
      }
      // every attempt past the gate has a row: its id is reserved now (from a block: no round trip)
      a.id = a.deadline.bound(audit.reserveId(), AuditWriter::unavailable);
      return Future.succeededFuture();
    });
  }

  /** Parse: the body against the schema; a bad one ends as {@link Outcome.Invalid}. */
  private Future<Ask> parse(Attempt a, Future<Buffer> body) {
    return body.transform(ar -> {
      Future<Ask> ask = ar.succeeded() ? parse(ar.result()) : Future.failedFuture(ar.cause());
      return ask.recover(e -> stop(e instanceof ApiError error ? new Outcome.Invalid(error)
        : new Outcome.Unavailable(e, false)));
    }).onSuccess(ask -> a.ask = ask);
  }

  /** Decide: the person's script (with fills), then the report for scope REPORT. */
  private Future<Outcome> decide(Attempt a, Ask ask) {
    return contributing(a, ask).compose(contributes -> !contributes
      ? Future.succeededFuture(new Outcome.Denied(NOT_CONTRIBUTING))
      : service.decide(a.lender, ask.borrowerKey(), ask.purpose(), ask.scope(), a.now, a.deadline)
      .compose(p -> {
        a.person = p;
        if (!p.granted()) {
          return Future.succeededFuture((Outcome) new Outcome.Denied(p.reason()));
        }
        PersonScore score = parseScore(p.scoreEntry());
        OverBorrowing over = service.overBorrowing(p, score);
        if (!REPORT.equals(ask.scope())) {
          return Future.succeededFuture(new Outcome.Granted(p, score, over, null));
        }
        // the report is read before the row is appended: a GRANTED row is written only for an answer
        // that has everything it serves (a report that cannot be read must not leave one behind)
        return a.deadline.bound(reports.tradelines(ask.borrowerKey()), InquiryService.POSTGRES)
          .map(report -> (Outcome) new Outcome.Granted(p, score, over, report))
          .recover(e -> Future.succeededFuture(new Outcome.Unavailable(a.deadline.remainingNanos() <= 0 ? e
            : unavailable(e, "the report cannot be read right now"), false)));
      }, e -> Future.succeededFuture(a.deadline.remainingNanos() <= 0
        // the budget is spent: no time left to commit a row, so none is written; nothing served
        ? new Outcome.Unavailable(e, false)
        // Redis (or a re-read from Postgres) could not decide: the attempt is recorded, the answer 503
        : new Outcome.Unavailable(unavailable(e, "the bureau cannot decide right now; retry later"), true))));
  }

  /**
   * Give to get (API.md): with {@code reciprocity.enabled}, a member that furnished nothing in the
   * window is refused HARD inquiries ({@code not_contributing}, logged DENIED); SOFT ones go on.
   * Off (the default) or a SOFT purpose: no call at all. A yes is remembered on this event loop.
   */
  private Future<Boolean> contributing(Attempt a, Ask ask) {
    if (!Purposes.HARD.equals(Purposes.type(ask.purpose()))) {
      return Future.succeededFuture(true);
    }
    Future<Boolean> check = contributions.contributing(a.lender);
    return check.succeeded() ? check : a.deadline.bound(check, InquiryService.POSTGRES);
  }

  /** Record: the outcome's row (if it has one) committed; the outcome it ends with. */
  private Future<Effect> record(Attempt a, Outcome o) {
    if (a.id == null) {
      return Future.succeededFuture(effect(a, o, 0));
    }
    return a.id.transform(id -> {
      if (id.failed()) {
        return Future.succeededFuture(effect(a, new Outcome.Unavailable(id.cause(), false), 0));
      }
      Effect effect = effect(a, o, id.result());
      if (effect.row() == null) {
        return Future.succeededFuture(effect);
      }
      return audit.append(id.result(), effect.row(), a.deadline).transform(logged -> Future.succeededFuture(
        logged.succeeded() ? effect : effect(a, new Outcome.Unavailable(logged.cause(), false), 0)));
    });
  }

  /** Respond: the window change, the metric, the answer. */
  private void respond(Attempt a, Effect e) {
    a.deadline.cancel();
    if (!e.keepWindow() && a.person != null) {
      service.forget(a.ask.borrowerKey(), a.person); // in the background: the answer does not wait for Redis
    }
    count(e.label(), a.started);
    if (e.error() != null) {
      a.ctx.fail(e.error());
    } else {
      a.ctx.response().putHeader("Content-Type", "application/json").setStatusCode(200).end(e.body().toBuffer());
    }
  }

  /** What an outcome does: its row (or none), whether the window keeps what was recorded, its label, its answer. */
  record Effect(AccessLogEntry.Draft row, boolean keepWindow, String label, JsonObject body, Throwable error) {
  }

  /** THE mapping of an {@link Outcome} to its row, window change, metric label and HTTP answer. */
  private Effect effect(Attempt a, Outcome outcome, long id) {
    // an if-chain over the sealed interface (Java 17: no pattern switch); the last case is the only one left
    if (outcome instanceof Outcome.Refused r) {
      return new Effect(null, false, "REFUSED", null, ApiError.forbidden(r.detail()));
    }
    if (outcome instanceof Outcome.RateLimited r) {
      return new Effect(null, false, "RATE_LIMITED", null, new ApiError(429, "rate_limited", "Too many requests",
        "this member exceeded its request rate; retry after " + r.retryAfterSeconds() + " s", null,
        Map.of("Retry-After", Long.toString(r.retryAfterSeconds()))));
    }
    if (outcome instanceof Outcome.Invalid i) {
      return new Effect(draft(a).decided(AccessLogEntry.INVALID, i.error().code(), null, null)
        .details(new JsonObject().put("status", i.error().status()).put("fields", knownFields(i.error()))),
        false, AccessLogEntry.INVALID, null, i.error());
    }
    if (outcome instanceof Outcome.Denied d) {
      return new Effect(draft(a).decided(AccessLogEntry.DENIED, d.reason(), null, null), false,
        AccessLogEntry.DENIED, null, denial(d.reason()));
    }
    if (outcome instanceof Outcome.Granted g) {
      InquiryCache.Person p = g.person();
      JsonObject body = new JsonObject().put("inquiryId", Long.toString(id))
        .put("inquiryType", Purposes.type(a.ask.purpose())).put("basis", p.basis()).put("consentId", p.consentId())
        .put("score", g.score().toApiJson()).put("noScoreReason", service.whyNoScore(g.score()))
        .put("overBorrowing", g.overBorrowing().toJson());
      if (g.report() != null) {
        body.put("report", new JsonObject().put("tradelines", g.report()).put("score", g.score().toApiJson())
          .put("overBorrowing", g.overBorrowing().toJson()));
      }
      return new Effect(draft(a).decided(AccessLogEntry.GRANTED, null,
        p.consentId() == null ? null : UUID.fromString(p.consentId()), g.score().value())
        .details(new JsonObject().put("basis", p.basis())), true, AccessLogEntry.GRANTED, body, null);
    }
    Outcome.Unavailable u = (Outcome.Unavailable) outcome;
    return u.logged()
      ? new Effect(draft(a).decided(AccessLogEntry.DENIED, "unavailable", null, null), false, "ERROR", null,
        answer(u.cause()))
      : new Effect(null, false, AuditWriter.isUncertain(u.cause()) ? "AUDIT_UNCERTAIN" : "ERROR", null,
        answer(u.cause()));
  }

  /** The row's base: this lender, this request, and what parsed (a closed-list purpose and scope). */
  private static AccessLogEntry.Draft draft(Attempt a) {
    AccessLogEntry.Draft d = AccessLogEntry.Draft.inquiry(a.lender, RequestIds.get(a.ctx));
    return a.ask == null ? d : d.borrower(a.ask.borrowerKey()).purposeAndScope(a.ask.purpose(), a.ask.scope());
  }

  /** The fields an error names, as the row may hold them: the schema's names, anything else {@value #UNKNOWN_FIELD}. */
  private static JsonArray knownFields(ApiError error) {
    JsonArray fields = new JsonArray();
    for (ApiError.FieldError f : error.errors()) {
      String name = FIELDS.contains(f.field()) || "body".equals(f.field()) ? f.field() : UNKNOWN_FIELD;
      if (!fields.contains(name)) {
        fields.add(name);
      }
    }
    return fields;
  }

  private static <T> Future<T> stop(Outcome outcome) {
    return Future.failedFuture(new Stop(outcome));
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

  /** The answer to a denial: what the lender may learn of its reason (API.md). */
  static ApiError denial(String reason) {
    if (FILE_FROZEN.equals(reason)) {
      // only ever decided where a consent would have allowed: the lender learns nothing it could not ask
      return new ApiError(403, FILE_FROZEN, "File frozen",
        "the person has frozen their file: no HARD inquiry is answered until they lift the freeze");
    }
    if (NOT_CONTRIBUTING.equals(reason)) {
      return new ApiError(403, NOT_CONTRIBUTING, "Not contributing",
        "this member has furnished no data in the reciprocity window; HARD inquiries need a contributing member");
    }
    return consentRequired();
  }

  static final String FILE_FROZEN = "file_frozen";
  static final String NOT_CONTRIBUTING = "not_contributing";

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
    String purpose = enumField(json, "purpose", Purposes.ALL, null, errors);
    String scope = enumField(json, "scope", SCOPES, SCORE, errors);
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
