package io.openbureau.inquiry;

import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.LocalDate;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

@DisplayName("Give to get: with reciprocity on, a member that furnishes nothing is refused HARD inquiries")
class ReciprocityTest {
  private static final AtomicInteger PEOPLE = new AtomicInteger();
  private static TestBureau bureau;
  private static Api api;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("reciprocity", new JsonObject().put("reciprocity", new JsonObject().put("enabled", true)));
    api = bureau.api;
    for (String id : new String[] {"giver", "taker"}) {
      assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", id).put("name", id)).status());
    }
  }

  @AfterAll
  static void stop() {
    bureau.close();
  }

  private static String person() {
    return NationalId.of("440101", LocalDate.of(1982, 1, 1).plusDays(PEOPLE.incrementAndGet()), 11);
  }

  private static void consent(String person, String lender, String purpose) {
    Api.Res g = api.post("/v1/me/consents", Tokens.borrower(person),
      new JsonObject().put("lenderId", lender).put("purpose", purpose));
    assertEquals(201, g.status(), g.toString());
  }

  private static Api.Res inquire(String lender, String person, String purpose) {
    return api.post("/v1/inquiries", Tokens.lender(lender), new JsonObject().put("nationalId", person).put("purpose", purpose));
  }

  @Test
  @DisplayName("a contributing member is answered; a member with consent but no furnishing gets 403 not_contributing, logged DENIED")
  void giveToGet() {
    String person = person();
    Api.Res t = api.put("/v1/tradelines/G-1", Tokens.lender("giver"), new JsonObject().put("nationalId", person)
      .put("productType", "CONSUMER_LOAN").put("openedAt", "2025-03-01").put("principal", "1000.00")
      .put("status", "OPEN").put("balance", "800.00").put("daysPastDue", 0));
    assertEquals(201, t.status(), t.toString());
    consent(person, "giver", "LOAN_ORIGINATION");
    consent(person, "taker", "LOAN_ORIGINATION");
    consent(person, "taker", "ACCOUNT_REVIEW");

    assertEquals(200, inquire("giver", person, "LOAN_ORIGINATION").status());
    Api.Res refused = inquire("taker", person, "LOAN_ORIGINATION");
    assertEquals(403, refused.status(), refused.toString());
    assertEquals("not_contributing", refused.code());
    assertEquals(1, bureau.count("SELECT count(*) FROM access_log WHERE lender_id = 'taker' AND decision = 'DENIED'"
      + " AND reason = 'not_contributing'"));
    // SOFT inquiries go on
    Api.Res review = inquire("taker", person, "ACCOUNT_REVIEW");
    assertEquals(200, review.status(), review.toString());
    assertEquals("SOFT", review.json().getString("inquiryType"));
    // the refusal did not move the person's counts; the giver's inquiry did
    Api.Res again = inquire("giver", person, "LOAN_ORIGINATION");
    assertEquals(1, again.json().getJsonObject("overBorrowing").getInteger("distinctLenders30d"));

    // once the taker furnishes, it is answered
    Api.Res furnished = api.put("/v1/tradelines/T-1", Tokens.lender("taker"), new JsonObject().put("nationalId", person())
      .put("productType", "CONSUMER_LOAN").put("openedAt", "2025-03-01").put("principal", "1000.00")
      .put("status", "OPEN").put("balance", "800.00").put("daysPastDue", 0));
    assertEquals(201, furnished.status(), furnished.toString());
    long deadline = System.nanoTime() + 10_000_000_000L;
    Api.Res later;
    do {
      later = inquire("taker", person, "LOAN_ORIGINATION");
    } while (later.status() == 403 && System.nanoTime() < deadline);
    assertEquals(200, later.status(), later.toString());
  }
}
