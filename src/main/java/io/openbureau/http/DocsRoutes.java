package io.openbureau.http;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.Map;

/**
 * {@code /docs/}: {@code openapi.yaml} rendered for people by Swagger UI (the {@code org.webjars:swagger-ui}
 * WebJar, served from the jar: no CDN). Only the files listed here are served; any other path under
 * {@code /docs/} is the API's 404. The page is outside the contract (it is not an API operation).
 *
 * <p>The Content-Security-Policy allows scripts and styles from this server only (no inline script:
 * the initializer is {@code openbureau-docs.js}); inline style attributes, which Swagger UI's React
 * components set, and {@code data:} images, which its stylesheet uses, are allowed.
 */
public final class DocsRoutes {
  public static final String SWAGGER_UI_VERSION = "5.34.1";
  /** The page: the one path of the server with a trailing slash (its assets are relative to it). */
  static final String PAGE = "/docs/";
  static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    + "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    + "frame-ancestors 'none'";
  private static final String WEBJAR = "META-INF/resources/webjars/swagger-ui/" + SWAGGER_UI_VERSION + "/";

  /** Served name: classpath resource and content type. */
  private record Asset(String resource, String type, boolean immutable) {
  }

  private static final Map<String, Asset> ASSETS = Map.of(
    "", new Asset("docs/index.html", "text/html; charset=utf-8", false),
    "openbureau-docs.js", new Asset("docs/openbureau-docs.js", "text/javascript; charset=utf-8", false),
    "swagger-ui.css", new Asset(WEBJAR + "swagger-ui.css", "text/css; charset=utf-8", true),
    "swagger-ui-bundle.js", new Asset(WEBJAR + "swagger-ui-bundle.js", "text/javascript; charset=utf-8", true),
    "swagger-ui-standalone-preset.js", new Asset(WEBJAR + "swagger-ui-standalone-preset.js",
      "text/javascript; charset=utf-8", true),
    "favicon-32x32.png", new Asset(WEBJAR + "favicon-32x32.png", "image/png", true),
    "favicon-16x16.png", new Asset(WEBJAR + "favicon-16x16.png", "image/png", true));

  private DocsRoutes() {
  }

  public static void mount(Router router) {
    // Vert.x matches /docs/ to a route of /docs too: only the bare path is redirected
    router.get("/docs").handler(ctx -> {
      if (!ctx.normalizedPath().equals("/docs")) {
        ctx.next();
        return;
      }
      AccessLog.matched(ctx, "docs", "/docs");
      ctx.redirect(PAGE);
    });
    router.get("/docs/*").handler(DocsRoutes::serve);
  }

  private static void serve(RoutingContext ctx) {
    String name = ctx.normalizedPath().substring("/docs/".length());
    Asset asset = ASSETS.get(name);
    if (asset == null) {
      ctx.next(); // the API's 404 problem+json
      return;
    }
    AccessLog.matched(ctx, "docs", "/docs/" + name);
    ctx.response()
      .putHeader("Content-Type", asset.type())
      .putHeader("Content-Security-Policy", CSP)
      .putHeader("X-Content-Type-Options", "nosniff")
      .putHeader("Referrer-Policy", "no-referrer")
      .putHeader("Cache-Control", asset.immutable() ? "public, max-age=86400" : "no-cache")
      .sendFile(asset.resource()).onFailure(ctx::fail);
  }
}
