package io.openbureau.furnishing;

import io.openbureau.auth.Guards;
import io.openbureau.auth.Principal;
import io.openbureau.auth.Role;
import io.openbureau.http.ApiError;
import io.openbureau.http.Requests;
import io.openbureau.http.RouteMounter;
import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.List;

/** Furnishing (API.md): a member reports its own loans; it never sees or changes another's. */
public final class FurnishingRoutes {
  private final FurnishingService service;
  private final BorrowerKeys keys;

  public FurnishingRoutes(FurnishingService service, BorrowerKeys keys) {
    this.service = service;
    this.keys = keys;
  }

  public void mount(RouteMounter routes, Guards guards) {
    Handler<RoutingContext> lender = guards.require(Role.LENDER);
    routes.secured("putTradeline", lender, this::putTradeline);
    routes.secured("postRepayment", lender, this::postRepayment);
    routes.securedStreaming("postBatch", lender, this::batch);
  }

  private void putTradeline(RoutingContext ctx) {
    String member = Principal.of(ctx).subject();
    Line.Tradeline line = Line.tradeline(ctx.pathParam("accountRef"), Requests.body(ctx), keys);
    service.apply(member, List.of(new FurnishingService.Numbered(1, line))).onSuccess(outcomes -> {
      FurnishingService.Outcome o = outcomes.get(0);
      if (!o.accepted()) {
        ctx.fail(new ApiError(409, o.code(), "Conflict", o.message()));
        return;
      }
      Requests.json(ctx, "CREATED".equals(o.status()) ? 201 : 200,
        FurnishingService.toJson(member, (Line.Tradeline) o.applied()));
    }).onFailure(e -> ctx.fail(outage(e)));
  }

  private void postRepayment(RoutingContext ctx) {
    String member = Principal.of(ctx).subject();
    Line.Repayment line = Line.repayment(ctx.pathParam("accountRef"), Requests.body(ctx));
    service.apply(member, List.of(new FurnishingService.Numbered(1, line))).onSuccess(outcomes -> {
      FurnishingService.Outcome o = outcomes.get(0);
      if (!o.accepted()) {
        ctx.fail(ApiError.notFound(o.code(), o.message()));
        return;
      }
      Requests.json(ctx, 201, FurnishingService.toJson((Line.Repayment) o.applied()));
    }).onFailure(e -> ctx.fail(outage(e)));
  }

  /** A dependency outage is a 503 naming it; the change is idempotent, so a retry is always safe. */
  static Throwable outage(Throwable e) {
    if (e instanceof FurnishingService.DatabaseDown) {
      return ApiError.unavailable("unavailable", "the database is unavailable: the change may not have been applied; "
        + "retry later (retrying is safe)");
    }
    if (e instanceof FurnishingService.CacheDown) {
      return ApiError.unavailable("unavailable", "the cache is unavailable: the change is saved, and its score "
        + "reaches the cache by itself when it is back; retrying is safe");
    }
    return e;
  }

  /**
   * NDJSON, streamed through {@link BatchIngest} (the same code as the import command): memory stays
   * flat whatever the body size.
   */
  private void batch(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    String type = request.getHeader("Content-Type");
    if (type == null || !(type.startsWith("application/x-ndjson") || type.startsWith("application/jsonl"))) {
      ctx.fail(new ApiError(415, "unsupported_media_type", "Unsupported media type",
        "Content-Type must be application/x-ndjson"));
      return;
    }
    new BatchIngest(service, keys, Principal.of(ctx).subject()).run(request)
      .onSuccess(summary -> {
        io.openbureau.http.OperationMetrics.lines(ctx, summary.accepted(), summary.rejected());
        Requests.json(ctx, 200, summary.toJson());
      })
      .onFailure(ctx::fail);
  }
}
