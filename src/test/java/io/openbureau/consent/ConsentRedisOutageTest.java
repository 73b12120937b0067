package io.openbureau.consent;

import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TcpProxy;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.LocalDate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Consent with Redis unreachable: a change that cannot be published is 503, and the retry publishes it")
class ConsentRedisOutageTest {
  private static TcpProxy redisProxy;
  private static TestBureau bureau;
  private static DecisionClient decisions;

  @BeforeAll
  static void start() {
    redisProxy = new TcpProxy(6379);
    bureau = TestBureau.start("consentoutage", new JsonObject().put("redis",
      new JsonObject().put("endpoints", new JsonArray().add("redis://127.0.0.1:" + redisProxy.port()))));
    assertEquals(201, bureau.api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", "lender-o").put("name", "O")).status());
    decisions = new DecisionClient(bureau.config());
  }

  @AfterAll
  static void stop() {
    redisProxy.restore();
    decisions.close();
    bureau.close();
    redisProxy.close();
  }

  @Test
  @DisplayName("a revoke answered 503 during a Redis outage is retried after it and then denies everywhere")
  void revokeDuringOutage() {
    String person = NationalId.of("440101", LocalDate.of(1990, 5, 5), 8);
    String token = Tokens.borrower(person);
    JsonObject body = new JsonObject().put("lenderId", "lender-o").put("purpose", "LOAN_ORIGINATION");
    Api.Res g = bureau.api.post("/v1/me/consents", token, body);
    assertEquals(201, g.status(), g.toString());
    String id = g.json().getString("consentId");
    assertTrue(decisions.decide(person, "lender-o", "LOAN_ORIGINATION", "SCORE").allowed());

    redisProxy.cut();
    try {
      Api.Res r = bureau.api.delete("/v1/me/consents/" + id, token);
      assertEquals(503, r.status(), r.toString());
      assertEquals(503, bureau.api.post("/v1/me/consents", token, body.copy().put("purpose", "ACCOUNT_REVIEW")).status());
    } finally {
      redisProxy.restore();
    }
    Api.Res retry = null;
    for (int i = 0; i < 50; i++) {
      retry = bureau.api.delete("/v1/me/consents/" + id, token);
      if (retry.status() == 200) {
        break;
      }
      sleep(100);
    }
    assertEquals(200, retry.status(), retry.toString());
    assertEquals("REVOKED", retry.json().getString("status"));
    assertFalse(decisions.decide(person, "lender-o", "LOAN_ORIGINATION", "SCORE").allowed());
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
