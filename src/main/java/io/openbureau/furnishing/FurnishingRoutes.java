package io.openbureau.furnishing;

import io.openbureau.auth.Guards;
import io.openbureau.auth.Principal;
import io.openbureau.auth.Role;
import io.openbureau.http.ApiError;
import io.openbureau.http.Requests;
import io.openbureau.http.RouteMounter;
import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.parsetools.RecordParser;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.List;

/** Furnishing (API.md): a member reports its own loans; it never sees or changes another's. */
public final class FurnishingRoutes {
  static final int CHUNK_LINES = 500;
  static final int MAX_LINE_BYTES = 64 * 1024;
  static final int MAX_LISTED_ERRORS = 1000;

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
    }).onFailure(ctx::fail);
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
    }).onFailure(ctx::fail);
  }

  /**
   * NDJSON, streamed: lines are parsed as they arrive and applied in chunks; the request is paused
   * while a chunk is written, so memory stays flat whatever the file size.
   */
  private void batch(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    String type = request.getHeader("Content-Type");
    if (type == null || !(type.startsWith("application/x-ndjson") || type.startsWith("application/jsonl"))) {
      ctx.fail(new ApiError(415, "unsupported_media_type", "Unsupported media type",
        "Content-Type must be application/x-ndjson"));
      return;
    }
    Batch batch = new Batch(Principal.of(ctx).subject());
    RecordParser parser = RecordParser.newDelimited("\n", request).maxRecordSize(MAX_LINE_BYTES);
    parser.handler(buffer -> {
      batch.add(buffer);
      if (batch.pending.size() >= CHUNK_LINES) {
        parser.pause();
        batch.flush().onComplete(ar -> parser.resume());
      }
    });
    parser.exceptionHandler(e -> batch.failure = ApiError.invalid("line " + (batch.lineNo + 1),
      "is longer than " + MAX_LINE_BYTES + " bytes; lines before it were processed"));
    parser.endHandler(v -> batch.flush().onComplete(ar -> {
      if (batch.failure != null) {
        ctx.fail(batch.failure);
      } else if (ar.failed()) {
        ctx.fail(ar.cause());
      } else {
        Requests.json(ctx, 200, batch.summary());
      }
    }));
    request.resume();
  }

  /** The state of one streamed batch. Runs on one event loop; no locking needed. */
  private final class Batch {
    final String member;
    final List<FurnishingService.Numbered> pending = new ArrayList<>();
    final JsonArray errors = new JsonArray();
    int lineNo;
    long accepted;
    long rejected;
    ApiError failure;
    Future<Void> last = Future.succeededFuture();

    Batch(String member) {
      this.member = member;
    }

    void add(Buffer buffer) {
      lineNo++;
      String text = buffer.toString().trim();
      if (text.isEmpty()) {
        return;
      }
      try {
        JsonObject json = new JsonObject(text);
        String kind = json.getValue("type") instanceof String s ? s : null;
        String ref = json.getValue("accountRef") instanceof String s ? s : null;
        Line line;
        if ("tradeline".equals(kind)) {
          line = Line.tradeline(ref, json, keys);
        } else if ("repayment".equals(kind)) {
          line = Line.repayment(ref, json);
        } else {
          reject(lineNo, "invalid_request", "type", "type must be tradeline or repayment");
          return;
        }
        pending.add(new FurnishingService.Numbered(lineNo, line));
      } catch (ApiError e) {
        ApiError.FieldError first = e.errors().isEmpty() ? null : e.errors().get(0);
        reject(lineNo, e.code(), first == null ? null : first.field(),
          first == null ? e.getMessage() : first.field() + ": " + first.message());
      } catch (RuntimeException e) {
        reject(lineNo, "invalid_request", null, "the line is not a JSON object");
      }
    }

    Future<Void> flush() {
      List<FurnishingService.Numbered> chunk = new ArrayList<>(pending);
      pending.clear();
      last = last.compose(v -> apply(chunk));
      return last;
    }

    /** A chunk that fails as a whole (it should not) is retried line by line, so one line never sinks others. */
    private Future<Void> apply(List<FurnishingService.Numbered> chunk) {
      if (chunk.isEmpty()) {
        return Future.succeededFuture();
      }
      return service.apply(member, chunk).map(outcomes -> {
        outcomes.forEach(this::record);
        return (Void) null;
      }).recover(e -> {
        if (chunk.size() == 1) {
          reject(chunk.get(0).line(), "not_applied", null, "the line could not be applied; resubmit it");
          return Future.succeededFuture();
        }
        Future<Void> each = Future.succeededFuture();
        for (FurnishingService.Numbered n : chunk) {
          each = each.compose(v -> apply(List.of(n)));
        }
        return each;
      });
    }

    private void record(FurnishingService.Outcome o) {
      if (o.accepted()) {
        accepted++;
      } else {
        reject(o.line(), o.code(), "accountRef", o.message());
      }
    }

    private void reject(int line, String code, String field, String message) {
      rejected++;
      if (errors.size() < MAX_LISTED_ERRORS) {
        JsonObject e = new JsonObject().put("line", line).put("code", code).put("message", message);
        if (field != null) {
          e.put("field", field);
        }
        errors.add(e);
      }
    }

    JsonObject summary() {
      List<JsonObject> list = new ArrayList<>();
      errors.forEach(o -> list.add((JsonObject) o));
      list.sort(java.util.Comparator.comparingInt(o -> o.getInteger("line")));
      return new JsonObject().put("accepted", accepted).put("rejected", rejected).put("lines", lineNo)
        .put("errors", new JsonArray(new ArrayList<>(list))).put("errorsTruncated", rejected > errors.size());
    }
  }
}
