package io.openbureau.disputes;

import io.openbureau.audit.AccessLogEntry;
import io.openbureau.audit.AuditWriter;
import io.openbureau.auth.Guards;
import io.openbureau.auth.Principal;
import io.openbureau.auth.Role;
import io.openbureau.compliance.TimeRange;
import io.openbureau.http.ApiError;
import io.openbureau.http.Cursors;
import io.openbureau.http.RequestIds;
import io.openbureau.http.Requests;
import io.openbureau.http.RouteMounter;
import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.openbureau.scoring.PersonScore;
import io.openbureau.scoring.ScoreStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

/**
 * Disputes (API.md, "Disputes (v1.1)"): the person opens one about a tradeline or one period of
 * it, the furnisher answers, the clock ({@link OverdueProcessor}) turns unanswered ones OVERDUE,
 * compliance watches.
 *
 * <p>Decisions documented here:
 * <ul>
 *   <li>Every change takes the person's advisory lock first (the one furnishing takes), so a
 *   dispute opened while its account is being re-furnished sees the account before or after the
 *   chunk, never half of it, and a resolution's re-score sees exactly the data it leaves.</li>
 *   <li>The mark in the report is the dispute row itself ({@code report.ReportReader} reads it in
 *   the same statement as the tradelines): it is there from the commit, with no cache to update.</li>
 *   <li>{@code DELETED} is a mark, not a {@code DELETE}: the bureau keeps history (no role may
 *   delete), the tradeline or period leaves every report and the score for good, and a later
 *   re-furnishing of it does not bring it back.</li>
 *   <li>A resolution is committed, then its score is in Redis, then its access-log row is
 *   written, then it answers. When Redis or the log fails after the commit the answer is 503 and
 *   the resolution stands (the score reaches Redis by the repair loop); a retry then gets 409
 *   {@code dispute_resolved}.</li>
 *   <li>{@code status=OPEN} in the furnisher's list means not yet answered: OPEN and OVERDUE.</li>
 *   <li>Another person's account, another member's dispute and an id that is not a UUID are 404.</li>
 * </ul>
 */
public final class DisputeRoutes {
  private final DisputeRepository repository;
  private final ScoreStore scores;
  private final AuditWriter audit;
  private final BorrowerKeys keys;
  private final DisputeSettings settings;

  public DisputeRoutes(DisputeRepository repository, ScoreStore scores, AuditWriter audit, BorrowerKeys keys,
                       DisputeSettings settings) {
    this.repository = repository;
    this.scores = scores;
    this.audit = audit;
    this.keys = keys;
    this.settings = settings;
  }

  public void mount(RouteMounter routes, Guards guards) {
    var borrower = guards.require(Role.BORROWER);
    var lender = guards.require(Role.LENDER);
    var compliance = guards.require(Role.COMPLIANCE);
    routes.secured("openDispute", borrower, this::open);
    routes.secured("myDisputes", borrower, this::mine);
    routes.secured("furnisherDisputes", lender, this::furnisherList);
    routes.secured("resolveDispute", lender, this::resolve);
    routes.secured("complianceDisputes", compliance, this::complianceList);
    routes.secured("complianceDisputeSummary", compliance, this::summary);
  }

  /** The caller's borrower key; the raw national id goes no further than this method. */
  private byte[] person(RoutingContext ctx) {
    String sub = Principal.of(ctx).subject();
    if (!NationalId.valid(sub)) {
      throw ApiError.forbidden("the token's subject is not a valid national id");
    }
    return keys.key(sub);
  }

  private static String text(JsonObject body, String field) {
    String s = body.getString(field);
    if (s == null || s.isBlank()) {
      throw ApiError.invalid(field, "must be 1 to 1000 characters, not only spaces");
    }
    if (s.codePointCount(0, s.length()) > 1000) {
      throw ApiError.invalid(field, "must be at most 1000 characters");
    }
    return s;
  }

  private void open(RoutingContext ctx) {
    byte[] key = person(ctx);
    JsonObject body = Requests.body(ctx);
    String lenderId = body.getString("lenderId");
    String accountRef = body.getString("accountRef");
    String period = body.getString("period");
    String reason = body.getString("reason");
    String statement = text(body, "statement");
    UUID id = UUID.randomUUID();
    repository.pool().withTransaction(tx -> DisputeRepository.lockPerson(tx, key)
        .compose(v -> DisputeRepository.accountExists(tx, lenderId, accountRef, key))
        .compose(found -> !found ? Future.failedFuture(unknownAccount(lenderId, accountRef))
          : period == null ? Future.succeededFuture(true)
          : DisputeRepository.periodExists(tx, lenderId, accountRef, period))
        .compose(found -> !found ? Future.failedFuture(ApiError.notFound("unknown_period",
            "account " + accountRef + " has no reported repayment period " + period))
          : DisputeRepository.insert(tx, id, key, keys.keyId(), lenderId, accountRef, period, reason, statement,
            settings.answerDays()))
        .compose(d -> d != null ? Future.succeededFuture(d) : Future.failedFuture(ApiError.conflict("dispute_open",
          "this " + (period == null ? "account" : "period") + " already has a dispute waiting for an answer"))))
      .compose(d -> record(ctx, AccessLogEntry.DISPUTE_OPENED, Role.BORROWER, null, d).map(d))
      .onSuccess(d -> {
        ctx.response().putHeader("Location", "/v1/me/disputes/" + d.id());
        Requests.json(ctx, 201, d.toJson());
      })
      .onFailure(ctx::fail);
  }

  private static ApiError unknownAccount(String lenderId, String accountRef) {
    return ApiError.notFound("unknown_account", "you have no account " + accountRef + " with " + lenderId);
  }

  private void mine(RoutingContext ctx) {
    byte[] key = person(ctx);
    int limit = Requests.limit(ctx);
    Position after = position(ctx, "o");
    repository.mine(key, after == null ? null : after.at(), after == null ? null : after.id(), limit + 1)
      .map(found -> page(found, limit, "o", Dispute::openedAt, Dispute::toJson))
      .onSuccess(page -> Requests.json(ctx, 200, page))
      .onFailure(ctx::fail);
  }

  private void furnisherList(RoutingContext ctx) {
    String member = Principal.of(ctx).subject();
    int limit = Requests.limit(ctx);
    Position after = position(ctx, "d");
    repository.ofFurnisher(member, Requests.query(ctx, "status"), after == null ? null : after.at(),
        after == null ? null : after.id(), limit + 1)
      .map(found -> page(found, limit, "d", Dispute::dueBy, Dispute::toFurnisherJson))
      .onSuccess(page -> Requests.json(ctx, 200, page))
      .onFailure(ctx::fail);
  }

  private void resolve(RoutingContext ctx) {
    String member = Principal.of(ctx).subject();
    UUID id = disputeId(ctx);
    JsonObject body = Requests.body(ctx);
    String outcome = body.getString("outcome");
    String note = text(body, "note");
    repository.pool().withTransaction(tx -> DisputeRepository.ofMember(tx, id, member)
        .compose(found -> found == null ? Future.failedFuture(notFound())
          // the person's lock first (as furnishing and the overdue pass), then the row
          : DisputeRepository.lockPerson(tx, found.borrowerKey()).compose(v -> DisputeRepository.lockRow(tx, id)))
        .compose(current -> {
          if (Dispute.RESOLVED.equals(current.status())) {
            return Future.failedFuture(ApiError.conflict("dispute_resolved", "this dispute is already resolved ("
              + current.outcome() + ")"));
          }
          return !Dispute.CORRECTED.equals(outcome) ? Future.succeededFuture(current)
            : DisputeRepository.refurnished(tx, current).compose(done -> done ? Future.succeededFuture(current)
              : Future.failedFuture(ApiError.conflict("not_corrected", "CORRECTED needs the "
                + (current.period() == null ? "account" : "period " + current.period())
                + " re-furnished after the dispute opened; furnish the correction first")));
        })
        .compose(current -> DisputeRepository.resolve(tx, id, outcome, note))
        // every resolution re-scores: an OVERDUE dispute's data comes back, a DELETED one's goes for good
        .compose(resolved -> scores.recompute(tx, List.of(resolved.borrowerKey()))
          .map(s -> new Resolved(resolved, s))))
      .compose(r -> scores.publish(r.scores()).recover(e -> Future.failedFuture(ApiError.dependencyUnavailable(
        "unavailable", "redis", "is unavailable: the resolution is saved and its score reaches the cache by itself"
          + " when it is back"))).map(r.dispute()))
      .compose(d -> record(ctx, AccessLogEntry.DISPUTE_RESOLVED, Role.LENDER, member, d).map(d))
      .onSuccess(d -> Requests.json(ctx, 200, d.toFurnisherJson()))
      .onFailure(ctx::fail);
  }

  private record Resolved(Dispute dispute, Map<String, PersonScore> scores) {
  }

  private void complianceList(RoutingContext ctx) {
    int limit = Requests.limit(ctx);
    Position after = position(ctx, "d");
    String status = Requests.query(ctx, "status");
    String lenderId = Requests.query(ctx, "lenderId");
    repository.forCompliance(status, lenderId, after == null ? null : after.at(), after == null ? null : after.id(),
        limit + 1)
      .compose(found -> officerRead(ctx, "COMPLIANCE_DISPUTES", new JsonObject().put("status", status)
        .put("lenderId", lenderId).put("rows", Math.min(found.size(), limit))).map(found))
      .map(found -> page(found, limit, "d", Dispute::dueBy, Dispute::toJson))
      .onSuccess(page -> Requests.json(ctx, 200, page))
      .onFailure(ctx::fail);
  }

  private void summary(RoutingContext ctx) {
    repository.summary()
      .compose(items -> officerRead(ctx, "COMPLIANCE_DISPUTE_SUMMARY", new JsonObject().put("members", items.size()))
        .map(items))
      .onSuccess(items -> Requests.json(ctx, 200, new JsonObject().put("items", new JsonArray(items))))
      .onFailure(ctx::fail);
  }

  private static UUID disputeId(RoutingContext ctx) {
    try {
      return UUID.fromString(Requests.path(ctx, "disputeId"));
    } catch (IllegalArgumentException e) {
      throw notFound();
    }
  }

  private static ApiError notFound() {
    return ApiError.notFound("dispute_not_found", "no such dispute about your accounts");
  }

  private record Position(Instant at, UUID id) {
  }

  /** The keyset position of {@code ?cursor=}: the last item's sort instant ({@code field}) and id. */
  private static Position position(RoutingContext ctx, String field) {
    JsonObject cursor = Cursors.decode(Requests.query(ctx, "cursor"));
    if (cursor == null) {
      return null;
    }
    try {
      Instant at = Instant.parse(cursor.getString(field));
      UUID id = UUID.fromString(cursor.getString("i"));
      if (at.isBefore(TimeRange.EARLIEST) || at.isAfter(TimeRange.LATEST)) {
        throw new IllegalArgumentException("instant out of bounds");
      }
      return new Position(at, id);
    } catch (RuntimeException e) {
      throw ApiError.invalid("cursor", "is not a cursor this API returned");
    }
  }

  private static JsonObject page(List<Dispute> found, int limit, String field, Function<Dispute, Instant> sortKey,
                                 Function<Dispute, JsonObject> view) {
    List<Dispute> page = found.size() > limit ? found.subList(0, limit) : found;
    JsonArray items = new JsonArray();
    page.forEach(d -> items.add(view.apply(d)));
    String next = null;
    if (found.size() > limit) {
      Dispute last = page.get(page.size() - 1);
      next = Cursors.encode(new JsonObject().put(field, sortKey.apply(last).toString()).put("i", last.id().toString()));
    }
    return new JsonObject().put("items", items).put("nextCursor", next);
  }

  private Future<AccessLogEntry> record(RoutingContext ctx, String action, String role, String actorId, Dispute d) {
    return audit.append(AccessLogEntry.Draft.dispute(action, role, actorId, d.lenderId(), d.borrowerKey(),
      RequestIds.get(ctx), d.auditDetails()));
  }

  private Future<AccessLogEntry> officerRead(RoutingContext ctx, String action, JsonObject details) {
    return audit.append(new AccessLogEntry.Draft(action, Role.COMPLIANCE, Principal.of(ctx).subject(), null, null,
      null, null, AccessLogEntry.GRANTED, null, null, RequestIds.get(ctx), null, details));
  }
}
