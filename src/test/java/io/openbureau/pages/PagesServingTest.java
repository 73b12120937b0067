package io.openbureau.pages;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.ConfigException;
import io.openbureau.demo.DemoSeeder;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Pages: served beside the API with security headers; demo sign-in only in demo mode")
class PagesServingTest {
  /** Every page and asset of the shared pieces and the portal. */
  static final List<String> FILES = List.of("/portal/", "/portal/index.html", "/portal/portal.js", "/assets/app.js",
    "/assets/app.css", "/assets/callback.js", "/pages/callback", "/pages/config.json");

  static void assertSecurityHeaders(Api.Res res, String path) {
    String csp = res.header("Content-Security-Policy");
    assertNotNull(csp, path + " has no Content-Security-Policy");
    for (String directive : List.of("default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
      "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'")) {
      assertTrue(csp.contains(directive), path + ": CSP lacks " + directive + ": " + csp);
    }
    assertFalse(csp.contains("unsafe-inline") || csp.contains("unsafe-eval"), path + ": " + csp);
    assertEquals("nosniff", res.header("X-Content-Type-Options"), path);
    assertEquals("no-referrer", res.header("Referrer-Policy"), path);
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  @DisplayName("in demo mode")
  class Demo {
    TestBureau bureau;

    @BeforeAll
    void start() {
      bureau = TestBureau.start("pages_demo", new JsonObject().put("demo", new JsonObject().put("seed", true)));
    }

    @AfterAll
    void stop() {
      bureau.close();
    }

    @Test
    @DisplayName("every page and asset carries the CSP without inline code, nosniff, no referrer; HTML is not cached")
    void headers() throws Exception {
      java.util.Set<String> paths = new java.util.TreeSet<>(FILES);
      // every file of webroot, whoever added it (the console's and the desk's pages too)
      Path root = Path.of("src/main/resources/webroot");
      try (var files = Files.walk(root)) {
        files.filter(Files::isRegularFile).forEach(f -> {
          String path = "/" + root.relativize(f).toString().replace('\\', '/');
          paths.add(path);
          if (path.endsWith("/index.html")) {
            paths.add(path.substring(0, path.length() - "index.html".length()));
          }
        });
      }
      assertTrue(paths.size() > FILES.size(), "webroot was walked: " + paths);
      for (String path : paths) {
        Api.Res res = bureau.api.get(path, null);
        assertEquals(200, res.status(), path + ": " + res);
        assertSecurityHeaders(res, path);
        String type = res.header("Content-Type");
        if (path.endsWith("/") || path.endsWith(".html") || path.equals("/pages/callback")) {
          assertTrue(type.startsWith("text/html"), path + ": " + type);
          assertEquals("no-cache", res.header("Cache-Control"), path);
        }
        if (path.endsWith(".js")) {
          assertTrue(type.contains("javascript"), path + ": " + type);
        }
        if (path.endsWith(".css")) {
          assertTrue(type.startsWith("text/css"), path + ": " + type);
        }
      }
    }

    @Test
    @DisplayName("a page that does not exist is a 404 with the same headers; a page's path without its slash redirects")
    void missing() {
      Api.Res res = bureau.api.get("/portal/nothing-here.js", null);
      assertEquals(404, res.status());
      assertSecurityHeaders(res, "/portal/nothing-here.js");
      Api.Res bare = bureau.api.get("/portal", null);
      assertEquals(301, bare.status());
      assertEquals("/portal/", bare.header("Location"));
      for (String escape : List.of("/assets/%2e%2e/openapi.yaml", "/assets/..%2fopenapi.yaml", "/assets/%2e%2e/logback.xml")) {
        Api.Res out = bureau.api.get(escape, null);
        assertFalse(out.status() == 200, escape + " served a file outside webroot: " + out);
      }
    }

    @Test
    @DisplayName("the API keeps its own answers: no page headers, its 404s, its route table")
    void apiUntouched() {
      Api.Res live = bureau.api.get("/health/live", null);
      assertEquals(200, live.status());
      assertNull(live.header("Content-Security-Policy"));
      Api.Res none = bureau.api.get("/v1/nothing", Tokens.admin());
      assertEquals(404, none.status());
      assertNull(none.header("Content-Security-Policy"));
    }

    @Test
    @DisplayName("config.json says demo and lists the demo people, lenders and officers")
    void config() {
      Api.Res res = bureau.api.get("/pages/config.json", null);
      assertEquals(200, res.status());
      JsonObject body = res.json();
      assertEquals("demo", body.getString("mode"));
      assertNull(body.getValue("oidc"));
      JsonArray people = body.getJsonObject("demo").getJsonArray("people");
      assertTrue(people.stream().anyMatch(p -> DemoSeeder.ALICE.equals(((JsonObject) p).getString("sub"))));
      assertEquals(3, body.getJsonObject("demo").getJsonArray("lenders").size());
      assertFalse(body.getJsonObject("demo").getJsonArray("officers").isEmpty());
    }

    @Test
    @DisplayName("a demo token is a short-lived dev token the API accepts, for the role and subject asked for")
    void demoToken() {
      Api.Res res = bureau.api.post("/pages/demo-token", null, new JsonObject().put("role", "borrower").put("sub", DemoSeeder.ALICE));
      assertEquals(200, res.status(), res.toString());
      assertSecurityHeaders(res, "/pages/demo-token");
      String token = res.json().getString("token");
      assertEquals(DemoSeeder.ALICE, res.json().getString("sub"));
      Api.Res consents = bureau.api.get("/v1/me/consents", token);
      assertEquals(200, consents.status(), consents.toString());
      assertFalse(consents.items().isEmpty(), "Alice's seeded consent");
      JsonObject claims = new JsonObject(new String(java.util.Base64.getUrlDecoder().decode(token.split("\\.")[1])));
      long ttl = claims.getLong("exp") - claims.getLong("iat");
      assertTrue(ttl > 0 && ttl <= PagesRoutes.DEMO_TOKEN_TTL_SECONDS, "ttl " + ttl);
      assertEquals(Tokens.DEV_ISSUER, claims.getString("iss"));
      Api.Res lender = bureau.api.post("/pages/demo-token", null, new JsonObject().put("role", "lender").put("sub", "lender-a"));
      assertEquals(200, bureau.api.get("/v1/furnishing/disputes?status=OPEN", lender.json().getString("token")).status());
    }

    @Test
    @DisplayName("the lender directory (GET /v1/lenders) lists active members to a person, id and name only; suspended ones are left out; others are refused")
    void lenderDirectory() {
      String person = Tokens.borrower(DemoSeeder.BOB);
      Api.Res all = bureau.api.get("/v1/lenders", person);
      assertEquals(200, all.status(), all.toString());
      assertEquals(List.of("lender-a", "lender-b", "lender-c"), all.items().stream().map(o -> ((JsonObject) o).getString("id")).toList());
      assertEquals(java.util.Set.of("id", "name"), all.items().getJsonObject(0).fieldNames());
      assertEquals(201, bureau.api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", "lender-z").put("name", "Z")).status());
      assertEquals(200, bureau.api.post("/v1/members/lender-z/suspend", Tokens.admin(), null).status());
      Api.Res after = bureau.api.get("/v1/lenders?limit=2", person);
      assertEquals(2, after.items().size());
      Api.Res next = bureau.api.get("/v1/lenders?limit=2&cursor=" + after.json().getString("nextCursor"), person);
      assertEquals(List.of("lender-c"), next.items().stream().map(o -> ((JsonObject) o).getString("id")).toList());
      assertEquals(401, bureau.api.get("/v1/lenders", null).status());
      assertEquals(403, bureau.api.get("/v1/lenders", Tokens.lender("lender-a")).status());
    }

    @Test
    @DisplayName("a bad demo-token request is a 400 problem naming the field; admin tokens are not handed out")
    void demoTokenBadInput() {
      Api.Res admin = bureau.api.post("/pages/demo-token", null, new JsonObject().put("role", "admin").put("sub", "x"));
      assertEquals(400, admin.status());
      assertEquals("application/problem+json", admin.header("Content-Type"));
      assertEquals("role", admin.json().getJsonArray("errors").getJsonObject(0).getString("field"));
      Api.Res badId = bureau.api.post("/pages/demo-token", null, new JsonObject().put("role", "borrower").put("sub", "12345"));
      assertEquals(400, badId.status());
      assertEquals("sub", badId.json().getJsonArray("errors").getJsonObject(0).getString("field"));
      Api.Res notJson = bureau.api.raw("POST", "/pages/demo-token", null, "application/json", "{nope");
      assertEquals(400, notJson.status());
      assertEquals("invalid_request", notJson.code());
    }
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  @DisplayName("outside demo mode")
  class NotDemo {
    TestBureau bureau;

    @BeforeAll
    void start() {
      bureau = TestBureau.start("pages_plain");
    }

    @AfterAll
    void stop() {
      bureau.close();
    }

    @Test
    @DisplayName("there is no demo-token endpoint (404) and config.json offers no demo identities")
    void noDemo() {
      Api.Res res = bureau.api.post("/pages/demo-token", null, new JsonObject().put("role", "borrower").put("sub", DemoSeeder.ALICE));
      assertEquals(404, res.status(), res.toString());
      assertFalse(res.body().contains("token\""));
      JsonObject cfg = bureau.api.get("/pages/config.json", null).json();
      assertEquals("none", cfg.getString("mode"));
      assertNull(cfg.getValue("demo"));
      assertEquals(200, bureau.api.get("/portal/", null).status());
    }
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  @DisplayName("with OIDC configured")
  class Oidc {
    TestBureau bureau;

    @BeforeAll
    void start() {
      bureau = TestBureau.start("pages_oidc", new JsonObject()
        .put("demo", new JsonObject().put("seed", true))
        .put("pages", new JsonObject().put("oidc", new JsonObject().put("issuer", Tokens.TEST_ISSUER)
          .put("clientId", "openbureau-pages").put("scope", "openid profile"))));
    }

    @AfterAll
    void stop() {
      bureau.close();
    }

    @Test
    @DisplayName("config.json names the provider, the CSP lets the pages reach it, and demo sign-in is off even with demo.seed")
    void oidc() {
      Api.Res res = bureau.api.get("/pages/config.json", null);
      JsonObject cfg = res.json();
      assertEquals("oidc", cfg.getString("mode"));
      assertEquals(Tokens.TEST_ISSUER, cfg.getJsonObject("oidc").getString("issuer"));
      assertEquals("openbureau-pages", cfg.getJsonObject("oidc").getString("clientId"));
      assertEquals("openid profile", cfg.getJsonObject("oidc").getString("scope"));
      assertEquals(PagesSettings.REDIRECT_PATH, cfg.getJsonObject("oidc").getString("redirectPath"));
      assertTrue(res.header("Content-Security-Policy").contains("connect-src 'self' https://test-idp.openbureau.local;"),
        res.header("Content-Security-Policy"));
      assertEquals(404, bureau.api.post("/pages/demo-token", null, new JsonObject().put("role", "borrower")
        .put("sub", DemoSeeder.ALICE)).status());
    }
  }

  @Test
  @DisplayName("pages settings are checked at start-up: unknown keys, an untrusted issuer, no client id, no openid scope")
  void settings() {
    JsonObject base = TestBureau.testConfig("pages_cfg");
    assertProblem(base, new JsonObject().put("colour", "blue"), "pages.colour is not a known key");
    assertProblem(base, new JsonObject().put("oidc", new JsonObject().put("issuer", Tokens.TEST_ISSUER)
      .put("clientId", "c").put("secret", "s")), "pages.oidc.secret is not a known key");
    assertProblem(base, new JsonObject().put("oidc", new JsonObject().put("issuer", "https://idp.example.com")
      .put("clientId", "c")), "is not one of auth.issuers");
    assertProblem(base, new JsonObject().put("oidc", new JsonObject().put("issuer", Tokens.TEST_ISSUER)),
      "pages.oidc.clientId is required");
    assertProblem(base, new JsonObject().put("oidc", new JsonObject().put("issuer", Tokens.TEST_ISSUER)
      .put("clientId", "c").put("scope", "profile")), "must include openid");
    assertProblem(base, new JsonObject().put("enabled", "maybe"), "pages.enabled");
    PagesSettings ok = PagesSettings.from(BureauConfig.from(base.copy().put("pages", new JsonObject()
      .put("oidc", new JsonObject().put("issuer", Tokens.TEST_ISSUER).put("clientId", "c")))));
    assertEquals("openid", ok.oidcScope());
    assertEquals("https://test-idp.openbureau.local", ok.issuerOrigin());
  }

  /** The pages section is checked with the whole configuration, when it is loaded (before anything starts). */
  private static void assertProblem(JsonObject base, JsonObject pages, String expected) {
    ConfigException e = assertThrows(ConfigException.class, () -> BureauConfig.from(base.copy().put("pages", pages)));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }
}
