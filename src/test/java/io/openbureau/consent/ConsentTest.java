package io.openbureau.consent;

import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.RSAPublicKeySpec;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Consent: people grant, list and revoke consent, with signed receipts")
class ConsentTest {
  private static final int MAX_ACTIVE = 3;
  private static final AtomicInteger PEOPLE = new AtomicInteger();
  private static TestBureau bureau;
  private static Api api;
  private static DecisionClient decisions;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("consent", new JsonObject().put("consent", new JsonObject().put("maxActivePerPerson", MAX_ACTIVE)));
    api = bureau.api;
    for (String id : List.of("lender-a", "lender-b", "lender-c", "lender-d", "lender-s")) {
      assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", id).put("name", id)).status());
    }
    assertEquals(200, api.post("/v1/members/lender-s/suspend", Tokens.admin(), null).status());
    decisions = new DecisionClient(bureau.config());
  }

  @AfterAll
  static void stop() {
    decisions.close();
    bureau.close();
  }

  static String newPerson() {
    return NationalId.of("110101", LocalDate.of(1980, 1, 1).plusDays(PEOPLE.incrementAndGet()), 17);
  }

  static Api.Res grant(String person, String lender, String purpose, String scope) {
    JsonObject body = new JsonObject().put("lenderId", lender).put("purpose", purpose);
    if (scope != null) {
      body.put("scope", scope);
    }
    return api.post("/v1/me/consents", Tokens.borrower(person), body);
  }

  @Test
  @DisplayName("a person grants consent (201, ACTIVE, 30 days by default), sees it listed and revokes it")
  void grantListRevoke() {
    String person = newPerson();
    Api.Res g = grant(person, "lender-a", "LOAN_ORIGINATION", null);
    assertEquals(201, g.status(), g.toString());
    JsonObject c = g.json();
    assertEquals("ACTIVE", c.getString("status"));
    assertEquals("SCORE", c.getString("scope"));
    assertEquals("lender-a", c.getString("lenderId"));
    assertEquals(Instant.parse(c.getString("grantedAt")).plusSeconds(30L * 86400), Instant.parse(c.getString("expiresAt")));
    assertNotNull(c.getString("receipt"));
    String id = c.getString("consentId");
    assertEquals("ALLOW", verdict(decisions.decide(person, "lender-a", "LOAN_ORIGINATION", "SCORE")));
    assertEquals("DENY", verdict(decisions.decide(person, "lender-a", "LOAN_ORIGINATION", "REPORT")), "SCORE does not cover REPORT");
    assertEquals("DENY", verdict(decisions.decide(person, "lender-a", "ACCOUNT_REVIEW", "SCORE")));
    assertEquals("DENY", verdict(decisions.decide(person, "lender-b", "LOAN_ORIGINATION", "SCORE")));

    Api.Res list = api.get("/v1/me/consents", Tokens.borrower(person));
    assertEquals(200, list.status(), list.toString());
    assertEquals(1, list.items().size());
    assertEquals(id, list.items().getJsonObject(0).getString("consentId"));

    Api.Res r = api.delete("/v1/me/consents/" + id, Tokens.borrower(person));
    assertEquals(200, r.status(), r.toString());
    assertEquals(id, r.json().getString("consentId"));
    assertEquals("REVOKED", r.json().getString("status"));
    assertNotNull(r.json().getString("revokedAt"));
    assertEquals("DENY", verdict(decisions.decide(person, "lender-a", "LOAN_ORIGINATION", "SCORE")));
    JsonObject listed = api.get("/v1/me/consents", Tokens.borrower(person)).items().getJsonObject(0);
    assertEquals("REVOKED", listed.getString("status"));
    assertEquals("borrower", listed.getString("revokedBy"));
  }

  @Test
  @DisplayName("a REPORT consent covers SCORE inquiries, and durationDays sets the expiry")
  void reportCoversScore() {
    String person = newPerson();
    Api.Res g = api.post("/v1/me/consents", Tokens.borrower(person), new JsonObject().put("lenderId", "lender-a")
      .put("purpose", "ACCOUNT_REVIEW").put("scope", "REPORT").put("durationDays", 7));
    assertEquals(201, g.status(), g.toString());
    assertEquals(Instant.parse(g.json().getString("grantedAt")).plusSeconds(7L * 86400),
      Instant.parse(g.json().getString("expiresAt")));
    assertEquals("ALLOW", verdict(decisions.decide(person, "lender-a", "ACCOUNT_REVIEW", "SCORE")));
    assertEquals("ALLOW", verdict(decisions.decide(person, "lender-a", "ACCOUNT_REVIEW", "REPORT")));
  }

  @Test
  @DisplayName("an expired consent is listed as EXPIRED and the decision denies it")
  void expiry() {
    String person = newPerson();
    String id = grant(person, "lender-a", "LOAN_ORIGINATION", "SCORE").json().getString("consentId");
    bureau.sql("UPDATE consents SET granted_at = now() - interval '3 days', expires_at = now() - interval '1 second'"
      + " WHERE id = '" + id + "'");
    // a hand edit in Postgres is not published to the decision cache: drop the cached copy
    bureau.flushRedis();
    JsonObject listed = api.get("/v1/me/consents", Tokens.borrower(person)).items().getJsonObject(0);
    assertEquals("EXPIRED", listed.getString("status"));
    Decision d = decisions.decide(person, "lender-a", "LOAN_ORIGINATION", "SCORE");
    assertFalse(d.allowed());
    assertEquals("expired", d.reason());
    // and a new grant for the same lender and purpose is possible
    assertEquals(201, grant(person, "lender-a", "LOAN_ORIGINATION", "SCORE").status());
    assertEquals("ALLOW", verdict(decisions.decide(person, "lender-a", "LOAN_ORIGINATION", "SCORE")));
  }

  @Test
  @DisplayName("revoking twice answers 200 with the same body")
  void idempotentRevoke() {
    String person = newPerson();
    String id = grant(person, "lender-b", "LOAN_ORIGINATION", "SCORE").json().getString("consentId");
    Api.Res first = api.delete("/v1/me/consents/" + id, Tokens.borrower(person));
    Api.Res second = api.delete("/v1/me/consents/" + id, Tokens.borrower(person));
    assertEquals(200, first.status());
    assertEquals(200, second.status());
    assertEquals(first.json(), second.json());
  }

  @Test
  @DisplayName("granting again for the same lender and purpose supersedes the old consent")
  void supersede() {
    String person = newPerson();
    String first = grant(person, "lender-c", "LOAN_ORIGINATION", "SCORE").json().getString("consentId");
    Api.Res again = grant(person, "lender-c", "LOAN_ORIGINATION", "REPORT");
    assertEquals(201, again.status(), again.toString());
    String second = again.json().getString("consentId");
    assertNotEquals(first, second);

    Api.Res list = api.get("/v1/me/consents", Tokens.borrower(person));
    assertEquals(2, list.items().size());
    JsonObject newest = list.items().getJsonObject(0);
    JsonObject older = list.items().getJsonObject(1);
    assertEquals(second, newest.getString("consentId"));
    assertEquals("ACTIVE", newest.getString("status"));
    assertEquals(first, older.getString("consentId"));
    assertEquals("REVOKED", older.getString("status"));
    assertEquals("superseded", older.getString("revokedBy"));
    assertEquals(1, bureau.count("SELECT count(*) FROM consents WHERE status = 'ACTIVE' AND lender_id = 'lender-c'"
      + " AND borrower_key = (SELECT borrower_key FROM consents WHERE id = '" + second + "')"));
    Decision d = decisions.decide(person, "lender-c", "LOAN_ORIGINATION", "REPORT");
    assertTrue(d.allowed());
    assertEquals(second, d.consentId().toString());
    // revoking the superseded one changes nothing for the new one
    assertEquals(200, api.delete("/v1/me/consents/" + first, Tokens.borrower(person)).status());
    assertTrue(decisions.decide(person, "lender-c", "LOAN_ORIGINATION", "REPORT").allowed());
  }

  @Test
  @DisplayName("another person can neither see nor revoke someone's consent (404, never 403)")
  void bola() {
    String alice = newPerson();
    String mallory = newPerson();
    String id = grant(alice, "lender-a", "LOAN_ORIGINATION", "SCORE").json().getString("consentId");
    assertEquals(0, api.get("/v1/me/consents", Tokens.borrower(mallory)).items().size());
    Api.Res r = api.delete("/v1/me/consents/" + id, Tokens.borrower(mallory));
    assertEquals(404, r.status(), r.toString());
    assertEquals("consent_not_found", r.code());
    assertEquals(404, api.delete("/v1/me/consents/not-a-uuid", Tokens.borrower(mallory)).status());
    assertEquals(404, api.delete("/v1/me/consents/" + java.util.UUID.randomUUID(), Tokens.borrower(alice)).status());
    assertEquals("ALLOW", verdict(decisions.decide(alice, "lender-a", "LOAN_ORIGINATION", "SCORE")));
    assertEquals("ACTIVE", api.get("/v1/me/consents", Tokens.borrower(alice)).items().getJsonObject(0).getString("status"));
  }

  @Test
  @DisplayName("consent for a lender that is not a member is 404 unknown_lender; a suspended member is 409")
  void unknownLender() {
    String person = newPerson();
    Api.Res r = grant(person, "no-such-lender", "LOAN_ORIGINATION", "SCORE");
    assertEquals(404, r.status(), r.toString());
    assertEquals("unknown_lender", r.code());
    Api.Res s = grant(person, "lender-s", "LOAN_ORIGINATION", "SCORE");
    assertEquals(409, s.status(), s.toString());
    assertEquals("lender_suspended", s.code());
    assertEquals(0, api.get("/v1/me/consents", Tokens.borrower(person)).items().size());
  }

  @Test
  @DisplayName("beyond the configured number of active consents a grant is 409 too_many_consents")
  void limits() {
    String person = newPerson();
    assertEquals(201, grant(person, "lender-a", "LOAN_ORIGINATION", "SCORE").status());
    assertEquals(201, grant(person, "lender-a", "ACCOUNT_REVIEW", "SCORE").status());
    String third = grant(person, "lender-b", "LOAN_ORIGINATION", "SCORE").json().getString("consentId");
    Api.Res over = grant(person, "lender-b", "ACCOUNT_REVIEW", "SCORE");
    assertEquals(409, over.status(), over.toString());
    assertEquals("too_many_consents", over.code());
    // superseding an existing slot is a replacement, not one more
    assertEquals(201, grant(person, "lender-a", "LOAN_ORIGINATION", "REPORT").status());
    // revoking one frees a place
    String current = api.get("/v1/me/consents", Tokens.borrower(person)).items().stream()
      .map(o -> (JsonObject) o).filter(o -> o.getString("consentId").equals(third)).findFirst().orElseThrow()
      .getString("consentId");
    assertEquals(200, api.delete("/v1/me/consents/" + current, Tokens.borrower(person)).status());
    assertEquals(201, grant(person, "lender-b", "ACCOUNT_REVIEW", "SCORE").status());
  }

  @Test
  @DisplayName("bad input is 400 naming the field, and other roles or a non-person subject are 403")
  void badInputAndRoles() {
    String person = newPerson();
    String token = Tokens.borrower(person);
    assertField(api.post("/v1/me/consents", token, new JsonObject().put("lenderId", "lender-a").put("purpose", "MARKETING")), "purpose");
    assertField(api.post("/v1/me/consents", token, new JsonObject().put("lenderId", "lender-a").put("purpose", "LOAN_ORIGINATION")
      .put("scope", "EVERYTHING")), "scope");
    assertField(api.post("/v1/me/consents", token, new JsonObject().put("lenderId", "lender-a").put("purpose", "LOAN_ORIGINATION")
      .put("durationDays", 366)), "durationDays");
    assertField(api.post("/v1/me/consents", token, new JsonObject().put("lenderId", "lender-a").put("purpose", "LOAN_ORIGINATION")
      .put("durationDays", 0)), "durationDays");
    assertField(api.post("/v1/me/consents", token, new JsonObject().put("purpose", "LOAN_ORIGINATION")), "lenderId");
    JsonObject ok = new JsonObject().put("lenderId", "lender-a").put("purpose", "LOAN_ORIGINATION");
    assertEquals(403, api.post("/v1/me/consents", Tokens.lender("lender-a"), ok).status());
    assertEquals(403, api.get("/v1/me/consents", Tokens.compliance()).status());
    assertEquals(403, api.get("/v1/me/consents", Tokens.admin()).status());
    assertEquals(403, api.post("/v1/me/consents", Tokens.borrower("not-a-national-id"), ok).status());
    assertEquals(401, api.get("/v1/me/consents", null).status());
  }

  private static void assertField(Api.Res r, String field) {
    assertEquals(400, r.status(), r.toString());
    assertEquals("invalid_request", r.code());
    assertTrue(r.body().contains("\"" + field + "\""), "names " + field + ": " + r);
  }

  @Test
  @DisplayName("the list is newest first and pages through every consent once")
  void pagination() {
    String person = newPerson();
    Set<String> granted = new HashSet<>();
    for (String lender : List.of("lender-a", "lender-b", "lender-c")) {
      for (int i = 0; i < 2; i++) {
        granted.add(grant(person, lender, "LOAN_ORIGINATION", "SCORE").json().getString("consentId"));
      }
    }
    List<JsonObject> seen = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      Api.Res r = api.get("/v1/me/consents?limit=2" + (cursor == null ? "" : "&cursor=" + cursor), Tokens.borrower(person));
      assertEquals(200, r.status(), r.toString());
      r.items().forEach(o -> seen.add((JsonObject) o));
      cursor = r.json().getString("nextCursor");
      pages++;
    } while (cursor != null && pages < 20);
    assertEquals(6, seen.size());
    assertEquals(granted, new HashSet<>(seen.stream().map(o -> o.getString("consentId")).toList()));
    for (int i = 1; i < seen.size(); i++) {
      assertFalse(Instant.parse(seen.get(i).getString("grantedAt")).isAfter(Instant.parse(seen.get(i - 1).getString("grantedAt"))));
    }
    assertEquals(400, api.get("/v1/me/consents?cursor=garbage", Tokens.borrower(person)).status());
  }

  @Test
  @DisplayName("the receipt is a JWS that verifies against the key published at /.well-known/jwks.json")
  void receipt() throws Exception {
    String person = newPerson();
    JsonObject c = grant(person, "lender-d", "ACCOUNT_REVIEW", "REPORT").json();
    Api.Res jwksRes = api.get("/.well-known/jwks.json", null);
    assertEquals(200, jwksRes.status(), jwksRes.toString());
    JsonObject jwk = jwksRes.json().getJsonArray("keys").getJsonObject(0);
    assertEquals("RSA", jwk.getString("kty"));
    assertEquals("RS256", jwk.getString("alg"));
    assertEquals("sig", jwk.getString("use"));
    assertEquals(bureau.config().signing().keyId(), jwk.getString("kid"));
    Base64.Decoder b64 = Base64.getUrlDecoder();
    PublicKey key = KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(
      new BigInteger(1, b64.decode(jwk.getString("n"))), new BigInteger(1, b64.decode(jwk.getString("e")))));

    String[] parts = c.getString("receipt").split("\\.");
    assertEquals(3, parts.length);
    JsonObject header = new JsonObject(new String(b64.decode(parts[0]), StandardCharsets.UTF_8));
    assertEquals("RS256", header.getString("alg"));
    assertEquals(jwk.getString("kid"), header.getString("kid"));
    Signature sig = Signature.getInstance("SHA256withRSA");
    sig.initVerify(key);
    sig.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
    assertTrue(sig.verify(b64.decode(parts[2])), "the receipt's signature verifies");

    String payloadJson = new String(b64.decode(parts[1]), StandardCharsets.UTF_8);
    JsonObject claims = new JsonObject(payloadJson);
    assertEquals(c.getString("consentId"), claims.getString("jti"));
    assertEquals("openbureau", claims.getString("iss"));
    assertEquals("lender-d", claims.getString("controller"));
    assertEquals("ACCOUNT_REVIEW", claims.getString("purpose"));
    assertEquals("REPORT", claims.getString("scope"));
    assertEquals(io.openbureau.identity.BorrowerKeys.hex(decisions.keys.key(person)), claims.getString("sub"));
    assertEquals(Instant.parse(c.getString("expiresAt")).getEpochSecond(), claims.getLong("exp"));
    assertFalse(payloadJson.contains(person), "the receipt never carries the raw national id");

    // a tampered payload does not verify
    String forged = b64url(payloadJson.replace("lender-d", "lender-x"));
    sig.initVerify(key);
    sig.update((parts[0] + "." + forged).getBytes(StandardCharsets.US_ASCII));
    assertFalse(sig.verify(b64.decode(parts[2])));
    assertNull(jwk.getString("d"), "no private parts published");
  }

  private static String b64url(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String verdict(Decision d) {
    return d.allowed() ? "ALLOW" : "DENY";
  }
}
