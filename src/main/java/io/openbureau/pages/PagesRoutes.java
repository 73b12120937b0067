package io.openbureau.pages;

import io.openbureau.cli.TokenCommand;
import io.openbureau.config.BureauConfig;
import io.openbureau.demo.DemoSeeder;
import io.openbureau.http.ApiError;
import io.openbureau.http.FailureHandler;
import io.openbureau.http.RequestIds;
import io.openbureau.identity.NationalId;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The pages for people (issue 15): static files from {@code webroot/} on the classpath at
 * {@code /portal/}, {@code /console/}, {@code /members/} and {@code /assets/}, plus
 * {@code /pages/config.json} (how the pages sign in), {@code /pages/callback} (the OIDC redirect
 * URI) and, in demo mode only, {@code POST /pages/demo-token}. These paths never reach the API's
 * OpenAPI router ({@link #front}): the API's route table stays the contract's.
 *
 * <p>Every answer carries the security headers ({@link #CSP} with no inline script or style, nosniff,
 * no referrer, no framing); HTML is never cached without revalidation.
 */
public final class PagesRoutes {
  /** The first segments served here; every other path is the API's. */
  public static final Set<String> SEGMENTS = Set.of("portal", "console", "members", "assets", "pages");
  static final Set<String> PAGES = Set.of("portal", "console", "members");
  /** Roles a demo token may carry (no admin: the pages have no admin page). */
  public static final Set<String> DEMO_ROLES = Set.of("borrower", "lender", "compliance");
  public static final int DEMO_TOKEN_TTL_SECONDS = 900;
  private static final Pattern SUB = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  private final Vertx vertx;
  private final BureauConfig config;
  private final PagesSettings settings;
  private final String csp;

  public PagesRoutes(Vertx vertx, BureauConfig config, PagesSettings settings) {
    this.vertx = vertx;
    this.config = config;
    this.settings = settings;
    this.csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'"
      + (settings.oidc() ? " " + settings.issuerOrigin() : "")
      + "; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";
  }

  /** The Content-Security-Policy every page and asset is served with. */
  public String csp() {
    return csp;
  }

  /** True when {@code path} is one of the pages' (its first segment is one of {@link #SEGMENTS}). */
  public static boolean isPagePath(String path) {
    if (path == null || path.length() < 2 || path.charAt(0) != '/') {
      return false;
    }
    int slash = path.indexOf('/', 1);
    return SEGMENTS.contains(slash < 0 ? path.substring(1) : path.substring(1, slash));
  }

  /** In front of the API: the pages' paths go to the pages' router (when enabled), all others to {@code api}. */
  public Handler<HttpServerRequest> front(Handler<HttpServerRequest> api) {
    if (!settings.enabled()) {
      return api;
    }
    Router pages = router();
    return request -> {
      if (isPagePath(request.path())) {
        pages.handle(request);
      } else {
        api.handle(request);
      }
    };
  }

  Router router() {
    Router router = Router.router(vertx);
    router.route().handler(new RequestIds());
    router.route().handler(this::headers);
    router.routeWithRegex("^/(portal|console|members)$").handler(ctx -> ctx.response().setStatusCode(301)
      .putHeader("Location", ctx.request().path() + "/").end());
    router.get("/pages/config.json").handler(this::configJson);
    router.get(PagesSettings.REDIRECT_PATH).handler(ctx -> ctx.response()
      .putHeader("Content-Type", "text/html; charset=utf-8")
      .sendFile("webroot/assets/callback.html").onFailure(ctx::fail));
    if (settings.demo()) {
      router.post("/pages/demo-token").handler(BodyHandler.create(false).setBodyLimit(4096))
        .handler(this::demoToken);
    }
    StaticHandler files = StaticHandler.create("webroot").setCachingEnabled(false).setDirectoryListing(false)
      .setIncludeHidden(false).setDefaultContentEncoding("UTF-8");
    router.routeWithRegex(HttpMethod.GET, "^/(portal|console|members|assets)/.*").handler(files);
    router.routeWithRegex(HttpMethod.HEAD, "^/(portal|console|members|assets)/.*").handler(files);
    router.route().handler(ctx -> FailureHandler.send(ctx, ApiError.notFound("not_found", "no such page")));
    router.route().failureHandler(ctx -> {
      if (ctx.failure() instanceof ApiError e) {
        FailureHandler.send(ctx, e);
      } else if (ctx.statusCode() == 404 || ctx.statusCode() == 405) {
        FailureHandler.send(ctx, ApiError.notFound("not_found", "no such page"));
      } else if (ctx.statusCode() == 413) {
        FailureHandler.send(ctx, new ApiError(413, "payload_too_large", "Payload too large", "the body is too large"));
      } else {
        FailureHandler.send(ctx, new ApiError(500, "internal_error", "Internal error", "the page could not be served"));
      }
    });
    return router;
  }

  private void headers(RoutingContext ctx) {
    HttpServerResponse r = ctx.response();
    r.putHeader("Content-Security-Policy", csp)
      .putHeader("X-Content-Type-Options", "nosniff")
      .putHeader("Referrer-Policy", "no-referrer")
      .putHeader("X-Frame-Options", "DENY")
      .putHeader("Cross-Origin-Opener-Policy", "same-origin")
      .putHeader("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
    ctx.addHeadersEndHandler(v -> {
      String type = r.headers().get("Content-Type");
      if (type != null && type.startsWith("text/html")) {
        r.putHeader("Cache-Control", "no-cache");
      } else if (!r.headers().contains("Cache-Control")) {
        r.putHeader("Cache-Control", "no-cache");
      }
    });
    ctx.next();
  }

  /** How the pages sign in: {@code {"mode": "demo"|"oidc"|"none", "oidc": {...}|null, "demo": {...}|null}}. */
  public JsonObject configBody() {
    JsonObject body = new JsonObject().put("mode", settings.mode());
    body.put("oidc", settings.oidc() ? new JsonObject().put("issuer", settings.oidcIssuer())
      .put("clientId", settings.oidcClientId()).put("scope", settings.oidcScope())
      .put("redirectPath", PagesSettings.REDIRECT_PATH) : null);
    body.put("demo", settings.demo() ? new JsonObject()
      .put("people", new JsonArray()
        .add(who("Alice: consumer loan and credit card, consents to lender-a", DemoSeeder.ALICE))
        .add(who("Bob: micro loan 45 days past due, BNPL", DemoSeeder.BOB))
        .add(who("Chen: mortgage", DemoSeeder.CHEN)))
      .put("lenders", new JsonArray()
        .add(who("Lender A Consumer Finance (lender-a)", "lender-a"))
        .add(who("Lender B Micro Loans (lender-b)", "lender-b"))
        .add(who("Lender C Bank (lender-c)", "lender-c")))
      .put("officers", new JsonArray().add(who("Compliance officer 1 (officer-1)", "officer-1"))) : null);
    return body;
  }

  private static JsonObject who(String label, String sub) {
    return new JsonObject().put("label", label).put("sub", sub);
  }

  private void configJson(RoutingContext ctx) {
    ctx.response().putHeader("Content-Type", "application/json").putHeader("Cache-Control", "no-store")
      .end(configBody().toBuffer());
  }

  /** {@code {"role", "sub"}} → {@code {"token", "role", "sub", "expiresAt"}}: a short-lived dev token (demo mode only). */
  private void demoToken(RoutingContext ctx) {
    JsonObject body;
    try {
      body = ctx.body().length() == 0 ? null : ctx.body().asJsonObject();
    } catch (DecodeException | ClassCastException e) {
      body = null;
    }
    if (body == null) {
      ctx.fail(ApiError.invalid("body", "must be a JSON object {\"role\", \"sub\"}"));
      return;
    }
    List<ApiError.FieldError> errors = new ArrayList<>();
    Object role = body.getValue("role");
    Object sub = body.getValue("sub");
    if (!(role instanceof String r) || !DEMO_ROLES.contains(r)) {
      errors.add(new ApiError.FieldError("role", "must be one of " + new java.util.TreeSet<>(DEMO_ROLES)));
    }
    if (!(sub instanceof String s) || s.isBlank()) {
      errors.add(new ApiError.FieldError("sub", "is required"));
    } else if ("borrower".equals(role) && !NationalId.valid(s)) {
      errors.add(new ApiError.FieldError("sub", "a borrower's sub must be an 18-character resident identity number"));
    } else if (!"borrower".equals(role) && !SUB.matcher(s).matches()) {
      errors.add(new ApiError.FieldError("sub", "must be 1..64 letters, digits, '.', '_' or '-'"));
    }
    if (!errors.isEmpty()) {
      ctx.fail(ApiError.invalid(errors));
      return;
    }
    String r = (String) role;
    String s = "borrower".equals(r) ? NationalId.normalize((String) sub) : (String) sub;
    long expires = Instant.now().getEpochSecond() + DEMO_TOKEN_TTL_SECONDS;
    vertx.executeBlocking(() -> TokenCommand.mint(vertx, config, r, s, DEMO_TOKEN_TTL_SECONDS), false)
      .onSuccess(token -> ctx.response().putHeader("Content-Type", "application/json")
        .putHeader("Cache-Control", "no-store")
        .end(new JsonObject().put("token", token).put("role", r).put("sub", s)
          .put("expiresAt", Instant.ofEpochSecond(expires).toString()).toBuffer()))
      .onFailure(e -> ctx.fail(new ApiError(503, "demo_unavailable", "Demo sign-in unavailable",
        "the development issuer's key cannot be used")));
  }
}
