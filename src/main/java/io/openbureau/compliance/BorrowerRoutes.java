package io.openbureau.compliance;

import io.openbureau.audit.AccessLogEntry;
import io.openbureau.audit.AuditWriter;
import io.openbureau.audit.ChainHash;
import io.openbureau.auth.Guards;
import io.openbureau.auth.Principal;
import io.openbureau.auth.Role;
import io.openbureau.http.ApiError;
import io.openbureau.http.Cursors;
import io.openbureau.http.RequestIds;
import io.openbureau.http.Requests;
import io.openbureau.http.RouteMounter;
import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.openbureau.inquiry.InquiryService;
import io.openbureau.report.ReportReader;
import io.openbureau.scoring.PersonScore;
import io.openbureau.scoring.ScoreStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;

import java.time.Instant;
import java.util.List;

/**
 * The person's own view (API.md, Consent): {@code GET /v1/me/inquiries}, who looked at their data,
 * and {@code GET /v1/me/report}, their full report, free of charge. Both are appended to the access
 * log ({@code SELF_INQUIRIES}, {@code SELF_REPORT}, with the person's borrower key and no actor id:
 * the token's subject is a national id and is never stored) before the answer is sent.
 *
 * <p>"Every access-log entry about them" is literal: inquiries by lenders (granted, denied or
 * invalid) and the person's own earlier reads, each with its {@code action}. A compliance
 * officer's search is recorded without a borrower key (its filter is in the row's details), so it
 * is not listed here.
 */
public final class BorrowerRoutes {
  public static final String SELF_INQUIRIES = "SELF_INQUIRIES";
  public static final String SELF_REPORT = "SELF_REPORT";

  private final AccessLogRepository repository;
  private final AuditWriter audit;
  private final BorrowerKeys keys;
  private final ReportReader reports;
  private final ScoreStore scores;
  private final InquiryService inquiries;

  public BorrowerRoutes(AccessLogRepository repository, AuditWriter audit, BorrowerKeys keys, ReportReader reports,
                        ScoreStore scores, InquiryService inquiries) {
    this.repository = repository;
    this.audit = audit;
    this.keys = keys;
    this.reports = reports;
    this.scores = scores;
    this.inquiries = inquiries;
  }

  public void mount(RouteMounter routes, Guards guards) {
    var borrower = guards.require(Role.BORROWER);
    routes.secured("myInquiries", borrower, this::inquiries);
    routes.secured("myReport", borrower, this::report);
  }

  /** The caller's borrower key; the raw national id goes no further than this method. */
  private byte[] person(RoutingContext ctx) {
    String sub = Principal.of(ctx).subject();
    if (!NationalId.valid(sub)) {
      throw ApiError.forbidden("the token's subject is not a valid national id");
    }
    return keys.key(sub);
  }

  private void inquiries(RoutingContext ctx) {
    byte[] key = person(ctx);
    int limit = Requests.limit(ctx);
    JsonObject cursor = Cursors.decode(Requests.query(ctx, "cursor"));
    Instant afterAt = null;
    Long afterId = null;
    if (cursor != null) {
      try {
        afterAt = TimeRange.fromMicros(cursor.getLong("a"));
        afterId = cursor.getLong("i");
        if (afterId == null) {
          throw new IllegalArgumentException();
        }
      } catch (RuntimeException e) {
        throw ApiError.invalid("cursor", "is not a cursor this API returned");
      }
    }
    repository.aboutPerson(key, afterAt, afterId, limit + 1)
      .compose(rows -> record(ctx, SELF_INQUIRIES, key,
        new JsonObject().put("rows", Math.min(rows.size(), limit))).map(rows))
      .map(rows -> {
        List<Row> page = rows.size() > limit ? rows.subList(0, limit) : rows;
        JsonArray items = new JsonArray();
        for (Row r : page) {
          items.add(new JsonObject().put("id", Long.toString(r.getLong("id")))
            .put("at", r.getOffsetDateTime("at").toInstant().toString())
            .put("lenderId", r.getString("lender_id")).put("purpose", r.getString("purpose"))
            .put("inquiryType", io.openbureau.inquiry.Purposes.type(r.getString("purpose")))
            .put("scope", r.getString("scope")).put("decision", r.getString("decision"))
            .put("action", r.getString("action")));
        }
        String next = null;
        if (rows.size() > limit) {
          Row last = page.get(page.size() - 1);
          next = Cursors.encode(new JsonObject().put("a", ChainHash.micros(last.getOffsetDateTime("at").toInstant()))
            .put("i", last.getLong("id")));
        }
        return new JsonObject().put("items", items).put("nextCursor", next);
      })
      .onSuccess(body -> Requests.json(ctx, 200, body))
      .onFailure(ctx::fail);
  }

  private void report(RoutingContext ctx) {
    byte[] key = person(ctx);
    Future<JsonArray> tradelines = reports.tradelines(key);
    Future<PersonScore> score = scores.get(key);
    Future.all(tradelines, score)
      .compose(v -> inquiries.overBorrowing(key, score.result(), Instant.now()))
      .compose(over -> record(ctx, SELF_REPORT, key, new JsonObject().put("tradelines", tradelines.result().size()))
        .map(logged -> new JsonObject().put("tradelines", tradelines.result())
          .put("score", score.result().toApiJson())
          .put("noScoreReason", scores.scorecard().whyNoScore(score.result())).put("overBorrowing", over.toJson())))
      .onSuccess(body -> Requests.json(ctx, 200, body))
      .onFailure(ctx::fail);
  }

  private Future<AccessLogEntry> record(RoutingContext ctx, String action, byte[] key, JsonObject details) {
    return audit.append(new AccessLogEntry.Draft(action, Role.BORROWER, null, null, key, null, null,
      AccessLogEntry.GRANTED, null, null, RequestIds.get(ctx), null, details));
  }
}
