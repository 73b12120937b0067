package io.openbureau.auth;

import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

@DisplayName("Authentication: only RS256/ES256 tokens from trusted issuers, for the bureau, unexpired")
class AuthenticationTest {
  private static TestBureau bureau;
  private static Api api;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("auth");
    api = bureau.api;
  }

  @AfterAll
  static void stop() {
    bureau.close();
  }

  private static void assertUnauthenticated(String token) {
    Api.Res r = api.get("/v1/members", token);
    assertEquals(401, r.status(), r.toString());
    assertEquals("unauthenticated", r.code());
    assertEquals("application/problem+json", r.header("Content-Type"));
    assertNotNull(r.header("WWW-Authenticate"));
  }

  private static JsonObject adminClaims(String issuer) {
    return Tokens.claims(issuer, "ops", "admin");
  }

  @Test
  @DisplayName("an ES256 token from the development issuer is accepted")
  void es256DevTokenAccepted() {
    assertEquals(200, api.get("/v1/members", Tokens.admin()).status());
  }

  @Test
  @DisplayName("an RS256 token from a configured issuer is accepted")
  void rs256Accepted() {
    assertEquals(200, api.get("/v1/members", Tokens.rs256(adminClaims(Tokens.TEST_ISSUER))).status());
  }

  @Test
  @DisplayName("a request without a token is 401")
  void missingToken() {
    assertUnauthenticated(null);
    Api.Res basic = api.send(api.builder("/v1/members", null).header("Authorization", "Basic Zm9vOmJhcg==").GET().build());
    assertEquals(401, basic.status());
  }

  @Test
  @DisplayName("a malformed token is 401")
  void malformed() {
    assertUnauthenticated("not-a-jwt");
    assertUnauthenticated("a.b.c");
    assertUnauthenticated("eyJhbGciOiJSUzI1NiJ9.%%%.sig");
  }

  @Test
  @DisplayName("an expired token is 401, even within a minute of expiry beyond the 30 s skew")
  void expired() {
    long now = System.currentTimeMillis() / 1000;
    assertUnauthenticated(Tokens.rs256(adminClaims(Tokens.TEST_ISSUER).put("iat", now - 3600).put("exp", now - 60)));
  }

  @Test
  @DisplayName("a token that expired 10 s ago is still honoured within the 30 s clock skew")
  void withinSkew() {
    long now = System.currentTimeMillis() / 1000;
    assertEquals(200, api.get("/v1/members",
      Tokens.rs256(adminClaims(Tokens.TEST_ISSUER).put("iat", now - 600).put("exp", now - 10))).status());
  }

  @Test
  @DisplayName("a token not valid before a minute from now is 401")
  void notYetValid() {
    long now = System.currentTimeMillis() / 1000;
    assertUnauthenticated(Tokens.rs256(adminClaims(Tokens.TEST_ISSUER).put("nbf", now + 60)));
    assertUnauthenticated(Tokens.rs256(adminClaims(Tokens.TEST_ISSUER).put("iat", now + 120)));
  }

  @Test
  @DisplayName("a token without exp, aud, sub or roles is 401")
  void missingClaims() {
    for (String claim : new String[] {"exp", "aud", "sub", "roles"}) {
      JsonObject c = adminClaims(Tokens.TEST_ISSUER);
      c.remove(claim);
      assertUnauthenticated(Tokens.rs256(c));
    }
    assertUnauthenticated(Tokens.rs256(adminClaims(Tokens.TEST_ISSUER).put("roles", new JsonArray())));
    assertUnauthenticated(Tokens.rs256(adminClaims(Tokens.TEST_ISSUER).put("roles", new JsonArray().add("root"))));
  }

  @Test
  @DisplayName("an unsigned alg:none token is 401")
  void algNone() {
    assertUnauthenticated(Tokens.unsigned(adminClaims(Tokens.DEV_ISSUER)));
  }

  @Test
  @DisplayName("an HS256 token keyed with the issuer's public key is 401")
  void hs256Confusion() {
    assertUnauthenticated(Tokens.hs256WithPublicKey(adminClaims(Tokens.DEV_ISSUER)));
  }

  @Test
  @DisplayName("a token signed by a key the issuer does not have is 401")
  void forged() {
    assertUnauthenticated(Tokens.rs256WithUnknownKey(adminClaims(Tokens.TEST_ISSUER)));
    String good = Tokens.admin();
    String tampered = good.substring(0, good.lastIndexOf('.')) + "."
      + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[64]);
    assertUnauthenticated(tampered);
  }

  @Test
  @DisplayName("a token from an unknown issuer is 401, even if signed by a trusted issuer's key")
  void unknownIssuer() {
    assertUnauthenticated(Tokens.rs256(adminClaims("https://evil.example")));
  }

  @Test
  @DisplayName("a token for another audience is 401")
  void wrongAudience() {
    assertUnauthenticated(Tokens.rs256(adminClaims(Tokens.TEST_ISSUER).put("aud", "another-api")));
  }

  @Test
  @DisplayName("an issuer may only grant the roles it is configured for")
  void issuerRoleAllowlist() {
    assertUnauthenticated(Tokens.rs256(adminClaims(Tokens.LIMITED_ISSUER)));
  }

  @Test
  @DisplayName("a valid token with the wrong role is 403")
  void wrongRole() {
    Api.Res r = api.get("/v1/members", Tokens.compliance());
    assertEquals(403, r.status());
    assertEquals("forbidden", r.code());
  }

  @Test
  @DisplayName("a lender token for a member that is not registered is 403")
  void unregisteredLender() {
    Api.Res r = api.get("/v1/members", Tokens.lender("nobody-registered"));
    assertEquals(403, r.status());
  }
}
