package io.openbureau.cache;

import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.RedisCluster;
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

@DisplayName("Redis Cluster: every person's and member's keys share a slot, so the whole flow runs on a cluster")
class RedisClusterTest {
  private static final String LO = "LOAN_ORIGINATION";
  private static RedisCluster cluster;
  private static TestBureau bureau;

  @BeforeAll
  static void start() {
    cluster = new RedisCluster(3);
    bureau = TestBureau.start("rcluster", new JsonObject().put("redis", new JsonObject().put("mode", "cluster")
      .put("endpoints", new JsonArray(cluster.endpoints()))));
  }

  @AfterAll
  static void stop() throws Exception {
    bureau.stop();
    bureau.dropDatabase();
    cluster.close();
  }

  @Test
  @DisplayName("furnish, consent, inquire, revoke, suspend and a cluster-wide flush all behave as on one node")
  void wholeFlowOnACluster() {
    Api api = bureau.api;
    assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", "lender-a").put("name", "A")).status());
    assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", "lender-b").put("name", "B")).status());
    for (int i = 0; i < 12; i++) { // many people: their keys spread over every node
      String person = NationalId.of("330106", LocalDate.of(1985, 3, 1).plusDays(i), 55);
      assertEquals(201, api.put("/v1/tradelines/C-" + i, Tokens.lender("lender-b"), new JsonObject()
        .put("nationalId", person).put("productType", "CONSUMER_LOAN").put("openedAt", "2022-01-10")
        .put("principal", "10000.00").put("status", "OPEN").put("balance", "6000.00").put("daysPastDue", 0)).status());
      Api.Res grant = api.post("/v1/me/consents", Tokens.borrower(person), new JsonObject().put("lenderId", "lender-a")
        .put("purpose", LO));
      assertEquals(201, grant.status(), grant.toString());
      JsonObject ask = new JsonObject().put("nationalId", person).put("purpose", LO);
      Api.Res ok = api.post("/v1/inquiries", Tokens.lender("lender-a"), ask);
      assertEquals(200, ok.status(), ok.toString());
      assertEquals(1, ok.json().getJsonObject("overBorrowing").getInteger("activeLoans"));
      assertEquals(200, api.delete("/v1/me/consents/" + grant.json().getString("consentId"), Tokens.borrower(person)).status());
      assertEquals(403, api.post("/v1/inquiries", Tokens.lender("lender-a"), ask).status(), "revocation is immediate");
    }
    String person = NationalId.of("330106", LocalDate.of(1985, 3, 1), 55);
    assertEquals(201, api.post("/v1/me/consents", Tokens.borrower(person), new JsonObject().put("lenderId", "lender-a")
      .put("purpose", LO)).status());
    JsonObject ask = new JsonObject().put("nationalId", person).put("purpose", LO);
    JsonObject before = api.post("/v1/inquiries", Tokens.lender("lender-a"), ask).json();
    cluster.flushAll();
    Api.Res after = api.post("/v1/inquiries", Tokens.lender("lender-a"), ask);
    assertEquals(200, after.status(), after.toString());
    assertEquals(before.getJsonObject("score"), after.json().getJsonObject("score"));
    assertEquals(before.getJsonObject("overBorrowing").getInteger("inquiries30d") + 1,
      after.json().getJsonObject("overBorrowing").getInteger("inquiries30d"), "windows rebuilt from the access log");

    assertEquals(200, api.post("/v1/members/lender-a/suspend", Tokens.admin(), null).status());
    assertEquals(403, api.post("/v1/inquiries", Tokens.lender("lender-a"), ask).status(), "suspension is immediate");
  }
}
