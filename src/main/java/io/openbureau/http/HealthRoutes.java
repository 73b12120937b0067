package io.openbureau.http;

import io.openbureau.cache.RedisStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.CheckResult;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;

/** Liveness (the process runs) and readiness (Postgres and Redis both answer). */
public final class HealthRoutes {
  private static final long CHECK_TIMEOUT_MS = 2000;
  private final HealthChecks checks;

  public HealthRoutes(Vertx vertx, Pool pool, RedisStore redis) {
    this.checks = HealthChecks.create(vertx)
      .register("postgres", CHECK_TIMEOUT_MS, p -> complete(pool.query("SELECT 1").execute().mapEmpty(), p))
      .register("redis", CHECK_TIMEOUT_MS, p -> complete(redis.ping(), p));
  }

  private static void complete(Future<?> check, io.vertx.core.Promise<Status> promise) {
    check.onComplete(ar -> promise.tryComplete(ar.succeeded() ? Status.OK()
      : Status.KO(new JsonObject().put("reason", "not reachable"))));
  }

  public void mount(RouteMounter routes) {
    routes.open("live", ctx -> Requests.json(ctx, 200, new JsonObject().put("status", "UP")));
    routes.open("ready", this::ready);
  }

  private void ready(RoutingContext ctx) {
    checks.checkStatus().onComplete(ar -> {
      if (ar.failed()) {
        Requests.json(ctx, 503, new JsonObject().put("status", "DOWN"));
        return;
      }
      CheckResult result = ar.result();
      JsonArray list = new JsonArray();
      for (CheckResult c : result.getChecks()) {
        JsonObject item = new JsonObject().put("id", c.getId()).put("status", c.getUp() ? "UP" : "DOWN");
        list.add(item);
      }
      boolean up = result.getUp();
      Requests.json(ctx, up ? 200 : 503, new JsonObject().put("status", up ? "UP" : "DOWN").put("checks", list));
    });
  }
}
