package io.openbureau.http;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.openapi.validation.RequestParameter;
import io.vertx.openapi.validation.ValidatedRequest;

/** Access to the request as validated against the OpenAPI contract. */
public final class Requests {
  public static final int DEFAULT_LIMIT = 50;
  public static final int MAX_LIMIT = 1000;

  private Requests() {
  }

  public static ValidatedRequest validated(RoutingContext ctx) {
    return ctx.get(RouterBuilder.KEY_META_DATA_VALIDATED_REQUEST);
  }

  public static JsonObject body(RoutingContext ctx) {
    ValidatedRequest v = validated(ctx);
    RequestParameter body = v == null ? null : v.getBody();
    if (body == null || body.isNull() || !(body.get() instanceof JsonObject)) {
      throw ApiError.invalid("body", "a JSON object is required");
    }
    return body.getJsonObject();
  }

  public static String query(RoutingContext ctx, String name) {
    ValidatedRequest v = validated(ctx);
    RequestParameter p = v == null ? null : v.getQuery().get(name);
    if (p == null || p.isNull()) {
      return null;
    }
    return String.valueOf(p.get());
  }

  public static String path(RoutingContext ctx, String name) {
    return ctx.pathParam(name);
  }

  /** {@code ?limit=} within 1..1000 (the contract checks the range too), default 50. */
  public static int limit(RoutingContext ctx) {
    String raw = query(ctx, "limit");
    if (raw == null) {
      return DEFAULT_LIMIT;
    }
    try {
      int n = (int) Double.parseDouble(raw);
      if (n < 1 || n > MAX_LIMIT) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw ApiError.invalid("limit", "must be a whole number from 1 to " + MAX_LIMIT);
    }
  }

  public static void json(RoutingContext ctx, int status, Object body) {
    ctx.response().setStatusCode(status)
      .putHeader("Content-Type", "application/json")
      .putHeader("Cache-Control", "no-store")
      .end(body instanceof JsonObject o ? o.toBuffer() : io.vertx.core.json.Json.encodeToBuffer(body));
  }
}
