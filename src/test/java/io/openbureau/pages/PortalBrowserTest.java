package io.openbureau.pages;

import io.openbureau.demo.DemoSeeder;
import io.openbureau.support.Api;
import io.openbureau.support.Browser;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

import java.nio.file.Files;
import java.time.Duration;
import java.time.YearMonth;
import java.time.ZoneOffset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The borrower portal in headless chromium, against a real bureau in demo mode: one person's story,
 * step by step (the steps share the browser, in order). A screenshot and an axe-core check of every view.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@DisplayName("Borrower portal in a real browser: consent, who looked, inbox, report, dispute, freeze, problems")
class PortalBrowserTest {
  static final String PERSON = DemoSeeder.CHEN; // a mortgage at lender-c, no consents
  static final Duration EVENT = Duration.ofSeconds(30);
  static TestBureau bureau;
  static Api api;
  static Browser browser;

  @BeforeAll
  static void start() {
    Browser.ensureInstalled();
    bureau = TestBureau.start("pages_portal", new JsonObject().put("demo", new JsonObject().put("seed", true))
      .put("notifications", new JsonObject().put("pollMillis", 100)));
    api = bureau.api;
    // a repayment history for the chart: twelve months, two of them late
    YearMonth month = YearMonth.now(ZoneOffset.UTC).minusMonths(12);
    for (int i = 0; i < 12; i++, month = month.plusMonths(1)) {
      int dpd = i == 5 ? 35 : i == 6 ? 12 : 0;
      Api.Res r = api.post("/v1/tradelines/C-3002/repayments", Tokens.lender("lender-c"), new JsonObject()
        .put("period", month.toString()).put("amountDue", (4200 + i * 10) + ".00")
        .put("amountPaid", dpd > 0 ? "0.00" : (4200 + i * 10) + ".00").put("daysPastDue", dpd));
      assertEquals(201, r.status(), r.toString());
    }
    browser = Browser.start(api.base());
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.close();
    }
    if (bureau != null) {
      bureau.close();
    }
  }

  private static void tab(String id) {
    browser.click(By.id("tab-" + id));
    browser.waitFor(By.cssSelector("#panel-" + id + " h2"));
    browser.waitUntil(id + " loaded", Duration.ofSeconds(10),
      () -> browser.findAll(By.cssSelector("#panel-" + id + " [role=status].muted")).isEmpty());
  }

  private static void view(String name) {
    browser.fullScreenshot("portal-" + name);
    browser.assertAccessible("portal " + name);
  }

  @Test
  @Order(1)
  @DisplayName("a demo person signs in from the chooser and sees their consents (none yet)")
  void signIn() {
    browser.open("/portal/");
    browser.click(By.id("sign-in"));
    browser.waitFor(By.cssSelector(".signin-chooser"));
    view("sign-in");
    browser.click(By.cssSelector(".signin-chooser button[data-sub='" + PERSON + "']"));
    browser.waitForText(By.cssSelector("header.site-header .who"), "Signed in as person");
    browser.waitFor(By.id("consent-list-empty"));
    browser.waitFor(By.cssSelector("#grant-lender option[value='lender-b']"), Duration.ofSeconds(5));
  }

  @Test
  @Order(2)
  @DisplayName("a bad duration is refused with a readable message naming the field, not a blank screen")
  void badInput() {
    browser.type(By.id("grant-days"), "400");
    browser.click(By.id("grant-submit"));
    WebElement alert = browser.waitFor(By.cssSelector("#grant-message [role=alert]"));
    assertTrue(alert.getText().contains("duration days"), alert.getText());
    assertEquals("invalid_request", alert.getAttribute("data-code"));
    view("problem");
  }

  @Test
  @Order(3)
  @DisplayName("the person grants lender-b a consent; it is listed active with purpose, scope and expiry")
  void grant() {
    new org.openqa.selenium.support.ui.Select(browser.find(By.id("grant-lender"))).selectByValue("lender-b");
    new org.openqa.selenium.support.ui.Select(browser.find(By.id("grant-scope"))).selectByValue("REPORT");
    browser.type(By.id("grant-days"), "60");
    browser.click(By.id("grant-submit"));
    WebElement item = browser.waitFor(By.cssSelector("#consent-list li[data-lender='lender-b'][data-status='ACTIVE']"));
    assertTrue(item.getText().contains("Your full report"), item.getText());
    assertTrue(item.getText().contains("Expires"), item.getText());
    browser.waitFor(By.cssSelector("#consent-message .notice"));
    view("consents");
  }

  @Test
  @Order(4)
  @DisplayName("a lender inquiry through the API shows in 'who looked' and in the inbox")
  void whoLooked() {
    Api.Res inquiry = api.post("/v1/inquiries", Tokens.lender("lender-b"), new JsonObject().put("nationalId", PERSON)
      .put("purpose", "LOAN_ORIGINATION").put("scope", "REPORT"));
    assertEquals(200, inquiry.status(), inquiry.toString());
    tab("looked");
    WebElement row = browser.waitFor(By.cssSelector("#inquiry-table tr[data-lender='lender-b'][data-decision='GRANTED']"), EVENT);
    assertTrue(row.getText().contains("HARD"), row.getText());
    assertTrue(row.getText().contains("Granted"), row.getText());
    view("who-looked");
    tab("inbox");
    browser.waitForText(By.cssSelector("#inbox-list li[data-kind='INQUIRY']"), "lender-b", EVENT);
    view("inbox");
  }

  @Test
  @Order(5)
  @DisplayName("the report shows the score, its band and reasons in words, and a chart of the repayment history")
  void report() {
    tab("report");
    String score = browser.waitFor(By.id("score-value")).getText();
    assertTrue(score.matches("\\d{3}"), score);
    assertTrue(browser.find(By.id("score-band")).getText().matches("(Poor|Fair|Good|Very good|Excellent): .+"),
      browser.find(By.id("score-band")).getText());
    assertTrue(browser.findAll(By.cssSelector("#history-chart rect.dpd")).size() == 2, "two late months drawn");
    assertTrue(browser.find(By.cssSelector("#history-chart desc")).getAttribute("textContent").contains("12 months"));
    view("report");
  }

  @Test
  @Order(6)
  @DisplayName("the person opens a dispute from a tradeline, follows its clock, and sees the lender's outcome")
  void dispute() {
    browser.click(By.cssSelector("#tradelines .dispute-account[data-account='C-3002']"));
    browser.waitFor(By.id("dispute-form"));
    browser.waitUntil("the form names the account", Duration.ofSeconds(5),
      () -> "lender-c|C-3002".equals(browser.find(By.id("dispute-account")).getAttribute("value")));
    new org.openqa.selenium.support.ui.Select(browser.find(By.id("dispute-reason"))).selectByValue("WRONG_BALANCE");
    browser.type(By.id("dispute-statement"), "The balance is lower: I paid 20000 in March.");
    browser.click(By.id("dispute-submit"));
    WebElement open = browser.waitFor(By.cssSelector("#dispute-list li[data-status='OPEN']"));
    assertTrue(open.findElement(By.cssSelector(".dispute-clock")).getText().contains("must answer by"), open.getText());
    view("disputes");
    String id = open.getAttribute("data-dispute-id");
    Api.Res resolved = api.post("/v1/furnishing/disputes/" + id + "/resolution", Tokens.lender("lender-c"),
      new JsonObject().put("outcome", "VERIFIED").put("note", "Checked against our ledger."));
    assertEquals(200, resolved.status(), resolved.toString());
    tab("report");
    tab("disputes");
    WebElement done = browser.waitFor(By.cssSelector("#dispute-list li[data-status='RESOLVED'] .dispute-outcome"));
    assertTrue(done.getText().contains("confirmed"), done.getText());

    // one late month of the account, from its row in the report
    String late = YearMonth.now(ZoneOffset.UTC).minusMonths(12).plusMonths(5).toString();
    tab("report");
    browser.click(By.cssSelector("#tradelines li[data-account='C-3002'] details summary"));
    browser.click(By.cssSelector(".dispute-period[data-account='C-3002'][data-period='" + late + "']"));
    browser.waitUntil("the form names the month", Duration.ofSeconds(5),
      () -> late.equals(browser.find(By.id("dispute-period")).getAttribute("value")));
    new org.openqa.selenium.support.ui.Select(browser.find(By.id("dispute-reason"))).selectByValue("WRONG_DELINQUENCY");
    browser.type(By.id("dispute-statement"), "I paid this month on time; the bank's transfer was late.");
    browser.click(By.id("dispute-submit"));
    WebElement month = browser.waitForText(By.cssSelector("#dispute-list li[data-status='OPEN']"), late);
    assertTrue(month.getText().contains("must answer by"), month.getText());
  }

  @Test
  @Order(7)
  @DisplayName("the person freezes the file; the next inquiry is refused; a bad lift time is a readable problem")
  void freeze() {
    tab("protection");
    browser.click(By.id("freeze-on"));
    browser.waitFor(By.cssSelector("#freeze-status[data-frozen='true']"));
    Api.Res refused = api.post("/v1/inquiries", Tokens.lender("lender-b"), new JsonObject().put("nationalId", PERSON)
      .put("purpose", "LOAN_ORIGINATION"));
    assertEquals(403, refused.status(), refused.toString());
    assertEquals("file_frozen", refused.code());
    view("protection");
    browser.type(By.id("lift-minutes"), "0");
    browser.click(By.id("freeze-lift"));
    WebElement alert = browser.waitFor(By.cssSelector("#protection-message [role=alert]"));
    assertTrue(alert.getText().contains("minutes"), alert.getText());
    browser.type(By.id("lift-minutes"), "30");
    browser.click(By.id("freeze-lift"));
    browser.waitForText(By.id("freeze-status"), "lifted until");
    assertEquals("false", browser.find(By.id("freeze-status")).getAttribute("data-frozen"));
    tab("inbox");
    browser.waitFor(By.cssSelector("#inbox-list li[data-kind='FREEZE']"), EVENT);
  }

  @Test
  @Order(8)
  @DisplayName("the person revokes a consent with one click and a confirmation; the lender is refused at once")
  void revoke() {
    tab("consents");
    browser.click(By.cssSelector("#consent-list li[data-lender='lender-b'][data-status='ACTIVE'] .revoke"));
    browser.waitFor(By.cssSelector("#consent-list li[data-lender='lender-b'] .confirm-revoke"));
    assertEquals("ACTIVE", browser.find(By.cssSelector("#consent-list li[data-lender='lender-b']")).getAttribute("data-status"),
      "nothing is revoked before the confirmation");
    browser.click(By.cssSelector("#consent-list li[data-lender='lender-b'] .confirm-revoke"));
    browser.waitFor(By.cssSelector("#consent-list li[data-lender='lender-b'][data-status='REVOKED']"));
    api.delete("/v1/me/freeze", Tokens.borrower(PERSON));
    Api.Res refused = api.post("/v1/inquiries", Tokens.lender("lender-b"), new JsonObject().put("nationalId", PERSON)
      .put("purpose", "LOAN_ORIGINATION"));
    assertEquals(403, refused.status(), refused.toString());
    assertEquals("consent_required", refused.code());
  }

  @Test
  @Order(9)
  @DisplayName("the portal works at phone width and signs out, leaving nothing in storage")
  void phoneAndSignOut() throws Exception {
    browser.size(390, 844);
    tab("consents");
    Number overflow = (Number) browser.script("return document.documentElement.scrollWidth - window.innerWidth");
    assertTrue(overflow.intValue() <= 0, "the page scrolls sideways at phone width by " + overflow + "px");
    browser.fullScreenshot("portal-phone");
    browser.assertAccessible("portal at phone width");
    browser.size(1280, 900);
    assertEquals(0L, browser.script("return localStorage.length + sessionStorage.length"));
    browser.click(By.id("sign-out"));
    browser.waitFor(By.id("sign-in"));
    assertTrue(Files.size(Browser.SCREENSHOTS.resolve("portal-report.png")) > 10_000);
  }
}
