package io.openbureau.http;

import io.openbureau.auth.Guards;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.openapi.router.OpenAPIRoute;
import io.vertx.ext.web.openapi.router.RequestExtractor;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.validation.RequestValidator;

import java.util.HashSet;
import java.util.Set;

/**
 * Mounts feature handlers on the operations of the OpenAPI contract, in the house order:
 * authenticate, authorize, validate against the contract, act. Validation runs after
 * authentication on purpose, so an anonymous caller learns nothing about the request shape.
 */
public final class RouteMounter {
  private final RouterBuilder builder;
  private final RequestValidator validator;
  private final RequestExtractor extractor = RequestExtractor.withBodyHandler();
  private final Guards guards;
  private final Set<String> mounted = new HashSet<>();

  public RouteMounter(Vertx vertx, OpenAPIContract contract, RouterBuilder builder, Guards guards) {
    this.builder = builder;
    this.validator = RequestValidator.create(vertx, contract);
    this.guards = guards;
  }

  /** Authenticated, role-checked and validated. */
  public void secured(String operationId, Handler<RoutingContext> authorize, Handler<RoutingContext> action) {
    OpenAPIRoute route = route(operationId);
    route.addHandler(guards::authenticate).addHandler(authorize).addHandler(validate(route.getOperation()))
      .addHandler(action);
  }

  /** Authenticated and role-checked; the handler validates (streamed bodies the contract cannot). */
  public void securedStreaming(String operationId, Handler<RoutingContext> authorize, Handler<RoutingContext> action) {
    // the body is not buffered on these routes: hold it until the handler reads it
    route(operationId).addHandler(ctx -> {
      ctx.request().pause();
      ctx.next();
    }).addHandler(guards::authenticate).addHandler(authorize).addHandler(action);
  }

  /** No authentication (health, metrics, spec, public keys). */
  public void open(String operationId, Handler<RoutingContext> action) {
    route(operationId).addHandler(action);
  }

  /** Operations of the contract that no feature has mounted yet answer 501, not a bare 503. */
  public void mountRemainingAsNotImplemented() {
    for (OpenAPIRoute route : builder.getRoutes()) {
      if (!mounted.contains(route.getOperation().getOperationId())) {
        route.setDoValidation(false).setDoSecurity(false);
        String operationId = route.getOperation().getOperationId();
        String template = route.getOperation().getOpenAPIPath();
        route.addHandler(ctx -> {
          AccessLog.matched(ctx, operationId, template);
          ctx.next();
        });
        route.addHandler(ctx -> ctx.fail(new ApiError(501, "not_implemented", "Not implemented",
          "this operation is not available yet")));
      }
    }
  }

  private OpenAPIRoute route(String operationId) {
    OpenAPIRoute route = builder.getRoute(operationId);
    if (route == null) {
      throw new IllegalStateException("operation " + operationId + " is not in openapi.yaml");
    }
    mounted.add(operationId);
    String template = route.getOperation().getOpenAPIPath();
    // first: the access log and the metrics name the operation even when a guard refuses the request
    return route.setDoValidation(false).setDoSecurity(false).addHandler(ctx -> {
      AccessLog.matched(ctx, operationId, template);
      ctx.next();
    });
  }

  private Handler<RoutingContext> validate(Operation operation) {
    return ctx -> {
      String bad = InputGuard.check(ctx.body() == null ? null : ctx.body().buffer());
      if (bad != null) {
        ctx.fail(ApiError.invalid(bad, InputGuard.CONTROL));
        return;
      }
      contract(ctx, operation);
    };
  }

  private void contract(RoutingContext ctx, Operation operation) {
    extractor.extractValidatableRequest(ctx, operation)
      .compose(request -> validator.validate(request, operation.getOperationId()))
      .onSuccess(validated -> {
        ctx.put(RouterBuilder.KEY_META_DATA_VALIDATED_REQUEST, validated);
        ctx.next();
      })
      .onFailure(ctx::fail);
  }
}
