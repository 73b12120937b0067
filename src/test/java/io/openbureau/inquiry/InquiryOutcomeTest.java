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
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One outcome, mapped in one place: over a mixed series of inquiries (granted, denied, invalid,
 * refused, rate-limited), each answer's status, the metric label it is counted under and the
 * access-log row it leaves (or not) agree, request by request and in total. Before the pipeline the
 * same refused request was counted, answered and logged by different exits (a suspended member's
 * invalid body: 400, counted INVALID, an INVALID row).
 */
@DisplayName("Inquiry outcomes: answer, metric label and access-log row always agree")
class InquiryOutcomeTest {
  private static TestBureau bureau;
  private static Api api;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("inqoutcome", new JsonObject().put("inquiry",
      new JsonObject().put("rateLimit", new JsonObject().put("perSecond", 0.01).put("burst", 3))));
    api = bureau.api;
    for (String id : new String[] {"o-lender", "o-susp", "o-rate"}) {
      assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", id).put("name", id)).status());
    }
    assertEquals(200, api.post("/v1/members/o-susp/suspend", Tokens.admin(), null).status());
  }

  @AfterAll
  static void stop() {
    bureau.close();
  }

  private static Map<String, Double> counted() {
    String text = api.get("/metrics", null).body();
    Map<String, Double> out = new HashMap<>();
    Matcher m = Pattern.compile("^bureau_inquiries_total\\{outcome=\"(\\w+)\"[^}]*} ([0-9.E]+)$", Pattern.MULTILINE)
      .matcher(text);
    while (m.find()) {
      out.put(m.group(1), Double.parseDouble(m.group(2)));
    }
    return out;
  }

  private static long rows(String decision) {
    return bureau.count("SELECT count(*) FROM access_log WHERE action = 'INQUIRY' AND decision = '" + decision + "'");
  }

  @Test
  @DisplayName("each request is counted once under the label of its outcome, and only logged outcomes leave a row")
  void answerLabelAndRowAgree() {
    String person = NationalId.of("330101", LocalDate.of(1979, 5, 5), 7);
    assertEquals(201, api.post("/v1/me/consents", Tokens.borrower(person),
      new JsonObject().put("lenderId", "o-lender").put("purpose", "LOAN_ORIGINATION")).status());
    JsonObject valid = new JsonObject().put("nationalId", person).put("purpose", "LOAN_ORIGINATION");
    JsonObject denied = new JsonObject().put("nationalId", person).put("purpose", "CARD_APPLICATION");
    JsonObject invalid = new JsonObject().put("nationalId", person).put("purpose", "FISHING");
    record Case(String token, JsonObject body, int status, String label, String row) {
    }
    Case[] cases = {
      new Case(Tokens.lender("o-lender"), valid, 200, "GRANTED", "GRANTED"),
      new Case(Tokens.lender("o-lender"), denied, 403, "DENIED", "DENIED"),
      new Case(Tokens.lender("o-lender"), invalid, 400, "INVALID", "INVALID"),
      new Case(Tokens.lender("o-susp"), invalid, 403, "REFUSED", null),
      new Case(Tokens.lender("o-susp"), valid, 403, "REFUSED", null),
      new Case(Tokens.lender("not-a-member"), invalid, 403, "REFUSED", null),
      new Case(Tokens.borrower(person), valid, 403, "REFUSED", null),
    };
    for (Case c : cases) {
      Map<String, Double> before = counted();
      long rowsBefore = c.row() == null ? 0 : rows(c.row());
      long allBefore = bureau.count("SELECT count(*) FROM access_log WHERE action = 'INQUIRY'");
      Api.Res r = api.post("/v1/inquiries", c.token(), c.body());
      assertEquals(c.status(), r.status(), c + " -> " + r);
      Map<String, Double> after = counted();
      assertEquals(before.getOrDefault(c.label(), 0.0) + 1, after.getOrDefault(c.label(), 0.0), c + ": counted once");
      double total = after.values().stream().mapToDouble(Double::doubleValue).sum()
        - before.values().stream().mapToDouble(Double::doubleValue).sum();
      assertEquals(1.0, total, c + ": under one label only");
      long allAfter = bureau.count("SELECT count(*) FROM access_log WHERE action = 'INQUIRY'");
      assertEquals(c.row() == null ? 0 : 1, allAfter - allBefore, c + ": rows written");
      if (c.row() != null) {
        assertEquals(rowsBefore + 1, rows(c.row()), c + ": the row's decision");
      }
    }
    // a member over its rate (burst 3): 429 counted RATE_LIMITED, no row, whatever the body
    for (int i = 0; i < 3; i++) {
      api.post("/v1/inquiries", Tokens.lender("o-rate"), invalid);
    }
    long all = bureau.count("SELECT count(*) FROM access_log WHERE action = 'INQUIRY'");
    double limited = counted().getOrDefault("RATE_LIMITED", 0.0);
    Api.Res r = api.post("/v1/inquiries", Tokens.lender("o-rate"), invalid);
    assertEquals(429, r.status(), r.toString());
    assertEquals(limited + 1, counted().getOrDefault("RATE_LIMITED", 0.0));
    assertEquals(all, bureau.count("SELECT count(*) FROM access_log WHERE action = 'INQUIRY'"));
  }
}
