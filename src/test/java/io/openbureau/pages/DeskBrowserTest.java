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
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;

import java.time.Duration;
import java.time.LocalDate;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The members' dispute desk in a real Chromium: a lender's staff see only the open disputes about
 * their own accounts, soonest deadline first with the time left, and resolve them; CORRECTED before
 * the account is re-furnished shows the API's refusal, after it succeeds; one answer is given with
 * the keyboard alone.
 */
@DisplayName("Dispute desk: a member's staff answer the disputes about their accounts in a browser")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DeskBrowserTest {
  private static final String ALICE = DemoSeeder.ALICE;
  private static final String BOB = DemoSeeder.BOB;
  private static final String CHEN = DemoSeeder.CHEN;
  private static TestBureau bureau;
  private static Api api;
  private static Browser browser;
  private static String alices;
  private static String bobs;
  private static String chens;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("desk", new JsonObject().put("demo", new JsonObject().put("seed", true))
      .put("disputes", new JsonObject().put("overdueCheckSeconds", 1)));
    api = bureau.api;
    // lender-b holds Alice's card B-2001 and Bob's micro loan B-2002; Chen's mortgage is lender-c's
    alices = open(ALICE, "lender-b", "B-2001", "WRONG_BALANCE", "My card balance is 3500, not 4500");
    bobs = open(BOB, "lender-b", "B-2002", "WRONG_DELINQUENCY", "I paid on time every month");
    chens = open(CHEN, "lender-c", "C-3002", "OTHER", "Not my mortgage terms");
    // Bob's deadline is moved into the past: the overdue pass turns it OVERDUE, so it comes first
    bureau.sql("UPDATE disputes SET opened_at = now() - interval '21 days', due_by = now() - interval '2 hours'"
      + " WHERE id = '" + bobs + "'");
    await(Duration.ofSeconds(20), () -> "OVERDUE".equals(bureau.sqlString("SELECT status FROM disputes WHERE id = '"
      + bobs + "'")), "Bob's dispute turns OVERDUE");
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

  static String open(String person, String lender, String account, String reason, String statement) {
    Api.Res r = api.post("/v1/me/disputes", Tokens.borrower(person), new JsonObject().put("lenderId", lender)
      .put("accountRef", account).put("reason", reason).put("statement", statement));
    assertEquals(201, r.status(), r.toString());
    return r.json().getString("disputeId");
  }

  static void await(Duration deadline, java.util.function.BooleanSupplier condition, String what) {
    long end = System.nanoTime() + deadline.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError(what + ": not within " + deadline);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  static void signIn(String member) {
    browser.open("/members/");
    browser.click(By.id("sign-in"));
    browser.click(By.cssSelector(".signin-chooser button[data-sub='" + member + "']"));
    browser.waitFor(By.id("open-list"));
    browser.waitForText(By.id("open-status"), "to answer");
  }

  static List<WebElement> cards() {
    return browser.findAll(By.cssSelector("#open-list li.dispute"));
  }

  static WebElement card(String disputeId) {
    return browser.waitFor(By.cssSelector("#open-list li[data-dispute='" + disputeId + "']"));
  }

  static JsonObject dispute(String member, String id) {
    for (String status : List.of("OPEN", "RESOLVED")) {
      Api.Res r = api.get("/v1/furnishing/disputes?status=" + status + "&limit=100", Tokens.lender(member));
      assertEquals(200, r.status(), r.toString());
      for (Object o : r.items()) {
        if (id.equals(((JsonObject) o).getString("disputeId"))) {
          return (JsonObject) o;
        }
      }
    }
    throw new AssertionError("no dispute " + id);
  }

  @Test
  @Order(1)
  @DisplayName("the member sees its own open disputes only, the overdue one first, each with its time left")
  void ownDisputesSoonestFirst() {
    signIn("lender-b");
    List<WebElement> cards = cards();
    assertEquals(2, cards.size(), browser.bodyText());
    assertEquals(bobs, cards.get(0).getDomAttribute("data-dispute"), "the overdue dispute first");
    assertEquals(alices, cards.get(1).getDomAttribute("data-dispute"));
    assertTrue(cards.get(0).findElement(By.cssSelector(".time-left")).getText().startsWith("overdue by 2 hours"),
      cards.get(0).getText());
    assertTrue(cards.get(0).getText().contains("Overdue"), cards.get(0).getText());
    String left = cards.get(1).findElement(By.cssSelector(".time-left")).getText();
    assertTrue(left.matches("19 days 23 hours left|20 days left"), left);
    assertTrue(cards.get(1).getText().contains("My card balance is 3500, not 4500"), cards.get(1).getText());
    assertFalse(browser.bodyText().contains("C-3002"), "another member's dispute is not shown");
    assertFalse(browser.bodyText().contains(ALICE), "no national id on the desk");
    browser.waitForText(By.id("open-status"), "2 disputes to answer, 1 overdue");
    browser.screenshot("desk");
    browser.fullScreenshot("desk-full");
    browser.assertAccessible("desk");
  }

  @Test
  @Order(2)
  @DisplayName("CORRECTED before re-furnishing shows the API's not_corrected message; after re-furnishing it resolves")
  void correctedNeedsRefurnishing() {
    signIn("lender-b");
    WebElement card = card(alices);
    // no outcome, no note: the page says what is missing, and sends nothing
    card.findElement(By.cssSelector("form.resolve button[type='submit']")).click();
    browser.waitForText(By.cssSelector("li[data-dispute='" + alices + "'] .resolve-problem .problem"), "outcome");
    card.findElement(By.cssSelector("input[value='CORRECTED']")).click();
    card.findElement(By.cssSelector("textarea")).sendKeys("Balance corrected to 3500.00");
    card.findElement(By.cssSelector("form.resolve button[type='submit']")).click();
    WebElement problem = browser.waitFor(By.cssSelector("li[data-dispute='" + alices + "'] .resolve-problem .problem[data-code='not_corrected']"));
    assertTrue(problem.getText().contains("re-furnished"), problem.getText());
    browser.script("arguments[0].scrollIntoView({block: 'start'})", card);
    browser.screenshot("desk-not-corrected");
    browser.assertAccessible("desk, refused");
    assertEquals("OPEN", dispute("lender-b", alices).getString("status"));
    // the member furnishes the correction through the API, then the same answer goes through
    Api.Res put = api.put("/v1/tradelines/B-2001", Tokens.lender("lender-b"), new JsonObject().put("nationalId", ALICE)
      .put("productType", "CREDIT_CARD").put("openedAt", LocalDate.now().minusYears(5).toString()).put("principal", "0.00")
      .put("creditLimit", "30000.00").put("status", "OPEN").put("balance", "3500.00").put("daysPastDue", 0));
    assertTrue(put.status() == 200 || put.status() == 201, put.toString());
    card.findElement(By.cssSelector("form.resolve button[type='submit']")).click();
    browser.waitForText(By.cssSelector("li[data-dispute='" + alices + "'] .resolved-msg"), "Resolved: Corrected");
    JsonObject d = dispute("lender-b", alices);
    assertEquals("RESOLVED", d.getString("status"));
    assertEquals("CORRECTED", d.getString("outcome"));
    assertEquals("Balance corrected to 3500.00", d.getString("note"));
    browser.waitForText(By.id("open-status"), "1 dispute to answer, 1 overdue");
  }

  @Test
  @Order(3)
  @DisplayName("a dispute is answered VERIFIED with the keyboard alone (Tab, arrows, typing, Enter)")
  void keyboardOnly() {
    signIn("lender-b");
    WebElement card = card(bobs);
    WebElement first = card.findElement(By.cssSelector("input[value='VERIFIED']"));
    // reach the first outcome by tabbing from the card's start, as a keyboard user would
    browser.script("arguments[0].querySelector('h3').setAttribute('tabindex', '-1'); arguments[0].querySelector('h3').focus();", card);
    Actions keys = new Actions(browser.driver());
    for (int i = 0; i < 10 && !first.equals(browser.driver().switchTo().activeElement()); i++) {
      keys.sendKeys(Keys.TAB).perform();
    }
    assertEquals(first, browser.driver().switchTo().activeElement(), "Tab reaches the outcomes");
    keys.sendKeys(Keys.SPACE).perform();
    assertTrue(first.isSelected());
    keys.sendKeys(Keys.TAB).perform(); // a radio group is one tab stop: next is the note
    assertEquals("textarea", browser.driver().switchTo().activeElement().getTagName());
    keys.sendKeys("Checked the repayment ledger: 45 days late is right").sendKeys(Keys.TAB).perform();
    assertEquals("button", browser.driver().switchTo().activeElement().getTagName());
    keys.sendKeys(Keys.ENTER).perform();
    browser.waitForText(By.cssSelector("li[data-dispute='" + bobs + "'] .resolved-msg"), "Resolved: Verified");
    JsonObject d = dispute("lender-b", bobs);
    assertEquals("VERIFIED", d.getString("outcome"));
    assertEquals("Checked the repayment ledger: 45 days late is right", d.getString("note"));
    browser.waitForText(By.id("open-status"), "No open disputes");
    // answered disputes are listed on request, with their outcome
    browser.click(By.id("resolved-load"));
    browser.waitForText(By.id("resolved-list"), "Verified");
    assertTrue(browser.find(By.id("resolved-list")).getText().contains("Corrected"));
  }

  @Test
  @Order(4)
  @DisplayName("resolving twice (another tab got there first) shows dispute_resolved; another member's desk never lists it")
  void resolvedTwiceAndOtherMember() {
    signIn("lender-c");
    WebElement card = card(chens);
    assertEquals(1, cards().size(), browser.bodyText());
    // meanwhile someone else at lender-c answers through the API
    Api.Res r = api.post("/v1/furnishing/disputes/" + chens + "/resolution", Tokens.lender("lender-c"),
      new JsonObject().put("outcome", "DELETED").put("note", "Removed"));
    assertEquals(200, r.status(), r.toString());
    card.findElement(By.cssSelector("input[value='VERIFIED']")).click();
    card.findElement(By.cssSelector("textarea")).sendKeys("Looks right");
    card.findElement(By.cssSelector("form.resolve button[type='submit']")).click();
    browser.waitFor(By.cssSelector("li[data-dispute='" + chens + "'] .problem[data-code='dispute_resolved']"));
    assertEquals("DELETED", dispute("lender-c", chens).getString("outcome"));
  }

  @Test
  @Order(5)
  @DisplayName("on a phone-sized screen the desk fits the width and stays accessible")
  void phone() {
    Api.Res again = api.post("/v1/me/disputes", Tokens.borrower(ALICE), new JsonObject().put("lenderId", "lender-a")
      .put("accountRef", "A-1001").put("reason", "ALREADY_PAID").put("statement", "Paid off in November"));
    assertEquals(201, again.status(), again.toString());
    signIn("lender-a");
    browser.size(390, 844);
    try {
      browser.waitUntil("phone width", Duration.ofSeconds(5),
        () -> ((Number) browser.script("return window.innerWidth")).intValue() <= 390);
      assertEquals(0L, ((Number) browser.script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;")).longValue(),
        "no sideways scrolling on a phone");
      browser.screenshot("desk-phone");
      browser.assertAccessible("desk, phone");
    } finally {
      browser.size(1280, 900);
    }
  }

  @Test
  @Order(6)
  @DisplayName("a failed load is a readable message, never a blank desk: a suspended member's list shows the 403")
  void failedLoadShowsMessage() {
    Api.Res suspend = api.post("/v1/members/lender-c/suspend", Tokens.admin(), new JsonObject());
    assertEquals(200, suspend.status(), suspend.toString());
    try {
      browser.open("/members/");
      browser.waitFor(By.id("sign-in"), Duration.ofSeconds(30));
      browser.click(By.id("sign-in"));
      browser.click(By.cssSelector(".signin-chooser button[data-sub='lender-c']"));
      WebElement problem = browser.waitFor(By.cssSelector("#open-problem .problem[data-status='403']"));
      assertTrue(problem.getText().contains("Not allowed") || problem.getText().toLowerCase().contains("forbidden"),
        problem.getText());
      browser.screenshot("desk-suspended");
      browser.assertAccessible("desk, suspended member");
    } finally {
      Api.Res back = api.post("/v1/members/lender-c/reinstate", Tokens.admin(), new JsonObject());
      assertEquals(200, back.status(), back.toString());
    }
  }
}
