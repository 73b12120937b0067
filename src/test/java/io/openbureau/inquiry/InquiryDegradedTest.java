package io.openbureau.inquiry;

import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TcpProxy;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.LocalDate;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Inquiry under stress: no answer without its access-log row, and members held to their rate")
class InquiryDegradedTest {
  private static final String LO = "LOAN_ORIGINATION";
  private static TcpProxy pg;
  private static TestBureau bureau;
  private static Api api;

  @BeforeAll
  static void start() {
    pg = new TcpProxy(5432);
    bureau = TestBureau.start("inqdegraded", new JsonObject()
      .put("postgres", new JsonObject().put("port", pg.port()))
      .put("audit", new JsonObject().put("commitTimeoutMillis", 500))
      .put("inquiry", new JsonObject().put("rateLimit", new JsonObject().put("perSecond", 0.2).put("burst", 6))));
    api = bureau.api;
    for (String id : List.of("lender-a", "lender-r")) {
      assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", id).put("name", id)).status());
    }
  }

  @AfterAll
  static void stop() {
    pg.restore();
    bureau.close();
    pg.close();
  }

  static String person(int n) {
    return NationalId.of("440301", LocalDate.of(1988, 5, 1).plusDays(n), 31);
  }

  static void prepare(String person, String lender) {
    assertEquals(201, api.put("/v1/tradelines/T-" + person.substring(10), Tokens.lender("lender-a"), new JsonObject()
      .put("nationalId", person).put("productType", "MICRO_LOAN").put("openedAt", "2024-02-01")
      .put("principal", "3000.00").put("status", "OPEN").put("balance", "1200.00").put("daysPastDue", 0)).status());
    assertEquals(201, api.post("/v1/me/consents", Tokens.borrower(person), new JsonObject().put("lenderId", lender)
      .put("purpose", LO)).status());
  }

  static Api.Res inquire(String lender, String person) {
    return api.post("/v1/inquiries", Tokens.lender(lender), new JsonObject().put("nationalId", person).put("purpose", LO));
  }

  static long rows() {
    return bureau.count("SELECT count(*) FROM access_log WHERE action = 'INQUIRY'");
  }

  @Test
  @DisplayName("with Postgres unreachable or stalled the inquiry is 503 audit_unavailable and serves nothing; then it recovers")
  void auditUnavailable() throws InterruptedException {
    String person = person(1);
    prepare(person, "lender-a");
    Api.Res warm = inquire("lender-a", person); // consent, score and window now cached in Redis
    assertEquals(200, warm.status(), warm.toString());
    long before = rows();

    pg.cut();
    Api.Res refused = inquire("lender-a", person);
    pg.restore();
    assertEquals(503, refused.status(), refused.toString());
    assertEquals("audit_unavailable", refused.code());
    assertFalse(refused.body().contains("score") || refused.body().contains("consentId"), refused.body());

    pg.blackhole();
    Api.Res stalled = inquire("lender-a", person);
    pg.restore();
    assertEquals(503, stalled.status(), stalled.toString());
    assertEquals("audit_unavailable", stalled.code());
    assertFalse(stalled.body().contains("score"), stalled.body());

    Api.Res back = null;
    for (int i = 0; i < 20 && (back == null || back.status() != 200); i++) {
      back = inquire("lender-a", person);
      if (back.status() != 200) {
        Thread.sleep(250);
      }
    }
    assertEquals(200, back.status(), back.toString());
    assertEquals(1, bureau.count("SELECT count(*) FROM access_log WHERE id = " + back.json().getString("inquiryId")));
    assertEquals(1, back.json().getJsonObject("overBorrowing").getInteger("distinctLenders30d"));
    assertEquals(warm.json().getJsonObject("overBorrowing").getInteger("inquiries30d") + 1,
      back.json().getJsonObject("overBorrowing").getInteger("inquiries30d"),
      "inquiries refused for want of a log row are not counted");
    assertTrue(rows() > before);
  }

  @Test
  @DisplayName("a member over its burst gets 429 rate_limited with Retry-After, shared by every instance")
  void rateLimited() {
    String person = person(2);
    prepare(person, "lender-r");
    TestBureau other = bureau.sibling();
    try {
      int ok = 0;
      Api.Res limited = null;
      for (int i = 0; i < 10 && limited == null; i++) {
        Api.Res r = (i % 2 == 0 ? api : other.api).post("/v1/inquiries", Tokens.lender("lender-r"),
          new JsonObject().put("nationalId", person).put("purpose", LO));
        if (r.status() == 429) {
          limited = r;
        } else {
          assertEquals(200, r.status(), r.toString());
          ok++;
        }
      }
      assertEquals(6, ok, "the burst is shared across both instances");
      assertTrue(limited != null, "the 7th request is refused");
      assertEquals("rate_limited", limited.code());
      assertEquals("application/problem+json", limited.header("Content-Type"));
      int retry = Integer.parseInt(limited.header("Retry-After"));
      assertTrue(retry >= 1 && retry <= 6, "Retry-After " + retry);
      // another member is not affected
      assertEquals(403, inquire("lender-a", person).status(), "lender-a has no consent of this person, but is not limited");
    } finally {
      other.stop();
    }
  }
}
