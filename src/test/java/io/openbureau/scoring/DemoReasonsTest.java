package io.openbureau.scoring;

import io.openbureau.demo.DemoSeeder;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The demo people as a new user meets them: the seeded bureau, the README's walk-through, a
 * lender's inquiry. Alice, Bob and their reasons through the real server.
 */
@DisplayName("The demo people's scores and reasons, as the API answers them")
class DemoReasonsTest {
  private static final String LENDER = Tokens.lender("lender-a");
  private static TestBureau bureau;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("demo_reasons", new JsonObject().put("demo", new JsonObject().put("seed", true)));
  }

  @AfterAll
  static void stop() {
    bureau.close();
  }

  private static JsonObject score(String nationalId) {
    Api.Res r = bureau.api.post("/v1/inquiries", LENDER,
      new JsonObject().put("nationalId", nationalId).put("purpose", "LOAN_ORIGINATION").put("scope", "SCORE"));
    assertEquals(200, r.status(), r.toString());
    return r.json().getJsonObject("score");
  }

  private static List<String> codes(JsonObject score) {
    List<String> out = new ArrayList<>();
    JsonArray reasons = score.getJsonArray("reasons");
    for (int i = 0; i < reasons.size(); i++) {
      out.add(reasons.getJsonObject(i).getString("code"));
    }
    return out;
  }

  @Test
  @DisplayName("Alice scores 840 EXCELLENT with no reason, and 810 with only 'three or more loans open' after the walk-through's BNPL")
  void alice() {
    JsonObject seeded = score(DemoSeeder.ALICE);
    assertEquals(840, seeded.getInteger("value"));
    assertEquals("EXCELLENT", seeded.getString("band"));
    assertEquals(List.of(), codes(seeded));

    String opened = LocalDate.now(ZoneOffset.UTC).minusMonths(2).toString();
    Api.Res put = bureau.api.put("/v1/tradelines/A-2001", LENDER, new JsonObject().put("nationalId", DemoSeeder.ALICE)
      .put("productType", "BNPL").put("openedAt", opened).put("principal", "3000.00").put("status", "OPEN")
      .put("balance", "2500.00").put("daysPastDue", 0));
    assertEquals(201, put.status(), put.toString());
    JsonObject after = score(DemoSeeder.ALICE);
    assertEquals(810, after.getInteger("value"));
    assertEquals(List.of("MANY_ACTIVE_LOANS"), codes(after));
    assertEquals("Three or more loans or cards are open at the same time",
      after.getJsonArray("reasons").getJsonObject(0).getString("description"));
  }

  @Test
  @DisplayName("Bob, who has no credit card, is not told his card use is high: 605 FAIR for being overdue on a young file")
  void bob() {
    JsonObject s = score(DemoSeeder.BOB);
    assertEquals(605, s.getInteger("value"));
    assertEquals("FAIR", s.getString("band"));
    assertEquals(List.of("DELINQUENCY_HISTORY", "DELINQUENCY_RECENT", "SHORT_HISTORY", "RECENT_ACCOUNTS"), codes(s));
    assertFalse(codes(s).contains("HIGH_UTILISATION"));
    assertEquals("ob-scorecard-2026.2", s.getString("modelVersion"));
  }
}
