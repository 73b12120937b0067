package io.openbureau.pages;

import io.openbureau.identity.NationalId;
import io.openbureau.support.Browser;
import io.openbureau.support.TestBureau;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.OAuth2Config;
import no.nav.security.mock.oauth2.http.MockWebServerWrapper;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import no.nav.security.mock.oauth2.token.OAuth2TokenProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;

import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pages' sign-in against a real OpenID Connect provider (navikt's mock-oauth2-server, run in the
 * test): the browser goes through its login page, authorization code + PKCE, back to the portal, and
 * the API accepts the access token because the bureau trusts that provider by its JWKS.
 */
@DisplayName("OIDC sign-in: authorization code with PKCE against a real OIDC server, in a real browser")
class OidcSignInTest {
  static final String ISSUER_ID = "pages";
  static final String CLIENT_ID = "openbureau-pages";
  static final String PERSON = NationalId.of("110105", LocalDate.of(1990, 5, 17), 321);
  static MockOAuth2Server oidc;
  static TestBureau bureau;
  static Browser browser;
  static String issuer;

  @BeforeAll
  static void start() throws Exception {
    Browser.ensureInstalled();
    // access tokens the bureau accepts: aud openbureau, roles [borrower], sub = the name typed on the login page
    DefaultOAuth2TokenCallback tokens = new DefaultOAuth2TokenCallback(ISSUER_ID, "unused", "JWT", List.of("openbureau"),
      Map.of("roles", List.of("borrower")), 600);
    oidc = new MockOAuth2Server(new OAuth2Config(true, null, null, false, new OAuth2TokenProvider(), Set.of(tokens),
      new MockWebServerWrapper()));
    oidc.start(InetAddress.getByName("127.0.0.1"), 0);
    issuer = oidc.issuerUrl(ISSUER_ID).toString().replaceAll("/$", "");
    String jwks = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(oidc.jwksUrl(ISSUER_ID).toString()))
      .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
    Path jwksFile = Files.createTempFile("ob-oidc-jwks", ".json");
    jwksFile.toFile().deleteOnExit();
    Files.writeString(jwksFile, jwks);
    JsonObject base = TestBureau.testConfig("pages_oidc_flow");
    base.getJsonObject("auth").getJsonArray("issuers").add(new JsonObject().put("issuer", issuer)
      .put("jwks", jwksFile.toString()).put("roles", new JsonArray().add("borrower")));
    base.put("pages", new JsonObject().put("oidc", new JsonObject().put("issuer", issuer).put("clientId", CLIENT_ID)
      .put("scope", "openid profile")));
    bureau = TestBureau.startWith(io.openbureau.config.BureauConfig.from(base));
    browser = Browser.start(bureau.api.base());
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.close();
    }
    if (bureau != null) {
      bureau.close();
    }
    if (oidc != null) {
      oidc.shutdown();
    }
  }

  @Test
  @DisplayName("a person signs in at the provider's login page and lands back on the portal signed in, and the API accepts the token")
  void codeWithPkce() throws Exception {
    browser.open("/portal/");
    browser.click(By.id("sign-in"));
    // the provider's own login page
    browser.waitFor(By.name("username")).sendKeys(PERSON);
    browser.screenshot("oidc-login-page");
    browser.find(By.cssSelector("input[type=submit]")).click();
    browser.waitForText(By.cssSelector("header.site-header .who"), "Signed in as person", Duration.ofSeconds(20));
    assertTrue(browser.driver().getCurrentUrl().startsWith(bureau.api.base() + "/portal/"), browser.driver().getCurrentUrl());
    assertFalse(browser.driver().getCurrentUrl().contains("code"), "the code is gone from the address bar");

    // the authorization request carried PKCE S256, state and nonce; the token request the verifier
    var authorize = oidc.takeRequest(5, java.util.concurrent.TimeUnit.SECONDS);
    while (authorize != null && !authorize.getRequestUrl().encodedPath().endsWith("/authorize")) {
      authorize = oidc.takeRequest(5, java.util.concurrent.TimeUnit.SECONDS);
    }
    assertTrue(authorize != null, "the provider saw the authorization request");
    assertEquals("S256", authorize.getRequestUrl().queryParameter("code_challenge_method"));
    assertTrue(authorize.getRequestUrl().queryParameter("code_challenge").length() >= 43);
    assertTrue(authorize.getRequestUrl().queryParameter("state").length() >= 16);
    assertTrue(authorize.getRequestUrl().queryParameter("nonce").length() >= 16);
    assertEquals(bureau.api.base() + PagesSettings.REDIRECT_PATH, authorize.getRequestUrl().queryParameter("redirect_uri"));

    // the page holds the token in memory only, and the API accepts it
    assertEquals(0L, browser.script("return localStorage.length + sessionStorage.length"));
    Object answer = ((org.openqa.selenium.JavascriptExecutor) browser.driver()).executeAsyncScript(
      "const done = arguments[arguments.length - 1];"
        + "import('/assets/app.js').then(m => m.api('GET', '/v1/me/consents'))"
        + ".then(r => done(JSON.stringify({ok: true, items: r.items.length})))"
        + ".catch(e => done(JSON.stringify({ok: false, e: String(e)})));");
    JsonObject result = new JsonObject(String.valueOf(answer));
    assertTrue(result.getBoolean("ok"), result.encode());
    Object sub = ((org.openqa.selenium.JavascriptExecutor) browser.driver()).executeAsyncScript(
      "const done = arguments[arguments.length - 1];"
        + "import('/assets/app.js').then(m => done(JSON.stringify(m.session())));");
    JsonObject session = new JsonObject(String.valueOf(sub));
    assertEquals(PERSON, session.getString("sub"));
    assertEquals("borrower", session.getString("role"));
    browser.screenshot("oidc-signed-in");
  }
}
