package io.openbureau.http;

import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DocsPageTest {
  private static TestBureau bureau;
  private static Api api;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("docs");
    api = bureau.api;
  }

  @AfterAll
  static void stop() {
    bureau.close();
  }

  @Test
  @DisplayName("/docs/ is an HTML page under a CSP without inline script, and every script and stylesheet it names answers 200 with its type")
  void pageAndAssets() {
    Api.Res page = api.get("/docs/", null);
    assertEquals(200, page.status(), page.toString());
    assertTrue(page.header("Content-Type").startsWith("text/html"), page.header("Content-Type"));
    String csp = page.header("Content-Security-Policy");
    assertTrue(csp != null && csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"), csp);
    assertFalse(page.body().matches("(?s).*<script(?![^>]*\\bsrc=)[^>]*>.*"), "an inline script: the CSP would block it");
    List<String> assets = new ArrayList<>();
    Matcher m = Pattern.compile("(?:src|href)=\"([^\"]+)\"").matcher(page.body());
    while (m.find()) {
      if (!m.group(1).startsWith("../")) {
        assets.add(m.group(1));
      }
    }
    assertTrue(assets.containsAll(List.of("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
      "openbureau-docs.js")), assets.toString());
    for (String asset : assets) {
      Api.Res res = api.get("/docs/" + asset, null);
      assertEquals(200, res.status(), asset);
      String type = res.header("Content-Type");
      String expected = asset.endsWith(".js") ? "text/javascript" : asset.endsWith(".css") ? "text/css" : "image/png";
      assertTrue(type.startsWith(expected), asset + ": " + type);
      assertEquals("nosniff", res.header("X-Content-Type-Options"));
      assertFalse(res.body().isEmpty(), asset);
    }
    assertTrue(api.get("/docs/swagger-ui-bundle.js", null).body().contains("SwaggerUIBundle"));
  }

  @Test
  @DisplayName("the page's initializer loads the openapi.yaml this server serves, and that answers 200")
  void loadsServedContract() {
    String init = api.get("/docs/openbureau-docs.js", null).body();
    Matcher m = Pattern.compile("'\\.\\./(openapi\\.yaml)'").matcher(init);
    assertTrue(m.find(), init);
    Api.Res spec = api.get("/" + m.group(1), null);
    assertEquals(200, spec.status());
    assertTrue(spec.body().startsWith("openapi: 3"), spec.body().substring(0, 40));
  }

  @Test
  @DisplayName("/docs redirects to /docs/, and any other path under /docs/ is the API's 404 problem+json")
  void otherPaths() {
    Api.Res redirect = api.get("/docs", null);
    assertTrue(redirect.status() == 302 || redirect.status() == 200, redirect.toString());
    Api.Res missing = api.get("/docs/../config/application.yaml", null);
    assertTrue(missing.status() == 404 || missing.status() == 405, missing.toString());
    assertFalse(missing.body().contains("postgres"), missing.toString());
    Api.Res other = api.get("/docs/index.css", null);
    assertEquals(404, other.status());
    assertTrue(other.header("Content-Type").startsWith("application/problem+json"), other.header("Content-Type"));
  }
}
