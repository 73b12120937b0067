package io.openbureau.pages;

import io.openbureau.demo.DemoSeeder;
import io.openbureau.support.Api;
import io.openbureau.support.Browser;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonArray;
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
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.Select;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The compliance console in a real Chromium: an officer signs in (demo mode), filters the access
 * log by lender, person, decision and type and pages through it, downloads exports whose files
 * hold exactly the filtered rows, verifies integrity (intact, then a row tampered by the Postgres
 * superuser named by the page, then intact again once it is put back), and reads the alerts and
 * the disputes (overdue first) with the per-member summary.
 */
@DisplayName("Compliance console: an officer filters, pages, exports and verifies the access log in a browser")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleBrowserTest {
  private static final String ALICE = DemoSeeder.ALICE;
  private static final String BOB = DemoSeeder.BOB;
  private static final int ALICE_BY_A = 55;
  private static TestBureau bureau;
  private static Api api;
  private static Browser browser;
  private static String overdueDispute;
  private static Path downloads;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("console", new JsonObject()
      .put("demo", new JsonObject().put("seed", true))
      .put("disputes", new JsonObject().put("overdueCheckSeconds", 1))
      .put("compliance", new JsonObject().put("checkpointIntervalSeconds", 1)
        .put("alerts", new JsonObject().put("overBorrowingLenders", 2).put("fishingDeniedCount", 3))));
    api = bureau.api;
    // lender-a looks at Alice 55 times (she consented in the demo data), once SOFT on its own account;
    // lender-b twice with her consent (two lenders: an over-borrowing alert); lender-c fishes for Bob
    Api.Res consent = api.post("/v1/me/consents", Tokens.borrower(ALICE), new JsonObject().put("lenderId", "lender-b")
      .put("purpose", "LOAN_ORIGINATION").put("scope", "SCORE").put("durationDays", 30));
    assertEquals(201, consent.status(), consent.toString());
    for (int i = 0; i < ALICE_BY_A; i++) {
      inquiry("lender-a", ALICE, "LOAN_ORIGINATION", 200);
    }
    inquiry("lender-a", ALICE, "ACCOUNT_REVIEW", 200);
    inquiry("lender-b", ALICE, "LOAN_ORIGINATION", 200);
    inquiry("lender-b", ALICE, "LOAN_ORIGINATION", 200);
    for (int i = 0; i < 3; i++) {
      inquiry("lender-c", BOB, "LOAN_ORIGINATION", 403);
    }
    // two disputes: Alice's in time, Bob's made overdue (its deadline moved into the past)
    Api.Res a = api.post("/v1/me/disputes", Tokens.borrower(ALICE), new JsonObject().put("lenderId", "lender-a")
      .put("accountRef", "A-1001").put("reason", "WRONG_BALANCE").put("statement", "I paid 2000 more in October"));
    assertEquals(201, a.status(), a.toString());
    Api.Res b = api.post("/v1/me/disputes", Tokens.borrower(BOB), new JsonObject().put("lenderId", "lender-b")
      .put("accountRef", "B-2002").put("reason", "WRONG_DELINQUENCY").put("statement", "I was never late"));
    assertEquals(201, b.status(), b.toString());
    overdueDispute = b.json().getString("disputeId");
    bureau.sql("UPDATE disputes SET opened_at = now() - interval '21 days', due_by = now() - interval '1 hour' WHERE id = '" + overdueDispute + "'");
    await(Duration.ofSeconds(20), () -> "OVERDUE".equals(bureau.sqlString(
      "SELECT status FROM disputes WHERE id = '" + overdueDispute + "'")), "the overdue pass turns Bob's dispute OVERDUE");
    browser = Browser.start(api.base());
    downloads = downloadsInto(browser);
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

  /** Polls {@code condition} until it holds or {@code deadline} passes. */
  static void await(Duration deadline, BooleanSupplier condition, String what) {
    long end = System.nanoTime() + deadline.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError(what + ": not within " + deadline + "; page text: "
          + (browser == null ? "" : browser.bodyText()));
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  /** Chrome saves downloads into a fresh directory of this run (DevTools Browser.setDownloadBehavior). */
  static Path downloadsInto(Browser b) {
    try {
      Path dir = Files.createDirectories(Path.of("target/downloads/console-" + System.nanoTime())).toAbsolutePath();
      ((ChromeDriver) b.driver()).executeCdpCommand("Browser.setDownloadBehavior",
        Map.of("behavior", "allow", "downloadPath", dir.toString()));
      return dir;
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The one finished download ending in {@code ext} (Chrome writes .crdownload until it is complete). */
  static Path awaitDownload(Path dir, String ext) {
    Path[] found = new Path[1];
    await(Duration.ofSeconds(20), () -> {
      try (Stream<Path> files = Files.list(dir)) {
        List<Path> done = files.filter(f -> f.getFileName().toString().endsWith(ext)).toList();
        if (done.size() == 1) {
          found[0] = done.get(0);
        }
        return done.size() == 1;
      } catch (java.io.IOException e) {
        return false;
      }
    }, "a downloaded " + ext + " file in " + dir);
    return found[0];
  }

  /** Scrolls {@code by} to the top of the viewport (for a screenshot of that part of the page). */
  static void show(By by) {
    browser.script("arguments[0].scrollIntoView({block: 'start'})", browser.find(by));
  }

  /** One inquiry; a 503 (the access log not answering yet on a loaded machine) is asked again. */
  static void inquiry(String lender, String person, String purpose, int status) {
    long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    Api.Res r;
    do {
      r = api.post("/v1/inquiries", Tokens.lender(lender), new JsonObject().put("nationalId", person)
        .put("purpose", purpose));
    } while (r.status() == 503 && System.nanoTime() < end);
    assertEquals(status, r.status(), r.toString());
  }

  static void signIn() {
    browser.open(api.base() + "/console/");
    browser.click(By.id("sign-in"));
    browser.click(By.cssSelector(".signin-chooser button[data-sub='officer-1']"));
    browser.waitFor(By.id("log-filters"));
  }

  static List<WebElement> rows() {
    return browser.driver().findElements(By.cssSelector("#log-rows tr"));
  }

  static String col(WebElement row, String label) {
    return row.findElement(By.cssSelector("td[data-label='" + label + "']")).getText();
  }

  static void fill(String id, String value) {
    WebElement e = browser.driver().findElement(By.id(id));
    e.clear();
    e.sendKeys(value);
  }

  static void choose(String id, String value) {
    new Select(browser.driver().findElement(By.id(id))).selectByValue(value);
  }

  static void apply() {
    browser.click(By.id("apply-filters"));
    browser.waitForText(By.id("log-status"), "shown");
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  @Test
  @Order(1)
  @DisplayName("the log filtered by lender, person and decision pages with 'next' until the API's count, and the national id stays out of the page")
  void filterAndPage() {
    signIn();
    browser.screenshot("console-signed-in");
    fill("f-lender", "lender-a");
    fill("f-person", ALICE);
    choose("f-decision", "GRANTED");
    choose("f-action", "INQUIRY");
    apply();
    await(Duration.ofSeconds(10), () -> rows().size() == 50, "the first page holds 50 rows");
    assertTrue(browser.driver().findElement(By.id("log-next")).isDisplayed(), "a next page is offered");
    browser.click(By.id("log-next"));
    await(Duration.ofSeconds(10), () -> rows().size() == ALICE_BY_A + 1, "both pages: 55 HARD + 1 SOFT rows");
    assertFalse(browser.driver().findElement(By.id("log-next")).isDisplayed(), "no page after the last");
    for (WebElement row : rows()) {
      assertEquals("lender-a", col(row, "Lender"));
      assertEquals("GRANTED", col(row, "Decision"));
    }
    // the same filter through the API gives the same count
    Api.Res viaApi = api.get("/v1/compliance/access-log?lenderId=lender-a&decision=GRANTED&action=INQUIRY&limit=1000&nationalId="
      + enc(ALICE), Tokens.compliance());
    assertEquals(viaApi.items().size(), rows().size(), viaApi.toString());
    // the national id the officer typed appears in no URL of the page and nowhere in its text
    assertFalse(browser.driver().getCurrentUrl().contains(ALICE), browser.driver().getCurrentUrl());
    assertFalse(browser.driver().findElement(By.tagName("body")).getText().contains(ALICE));
    browser.script("window.scrollTo(0, 0)");
    browser.screenshot("console");
    browser.fullScreenshot("console-full");
    browser.assertAccessible("console");
  }

  @Test
  @Order(2)
  @DisplayName("the type filter keeps HARD or SOFT rows only (SOFT by purpose, HARD across pages)")
  void typeFilter() {
    signIn();
    fill("f-lender", "lender-a");
    choose("f-type", "SOFT");
    choose("f-action", "INQUIRY");
    apply();
    await(Duration.ofSeconds(10), () -> rows().size() == 1, "one SOFT inquiry by lender-a");
    assertEquals("SOFT", col(rows().get(0), "Type"));
    assertEquals("Account review", col(rows().get(0), "Purpose"));
    choose("f-type", "HARD");
    apply();
    await(Duration.ofSeconds(10), () -> rows().size() >= 50, "HARD rows fill a page");
    rows().forEach(r -> assertEquals("HARD", col(r, "Type")));
    // a SOFT type with a HARD purpose contradicts itself: a readable message naming the field, no request
    choose("f-type", "SOFT");
    choose("f-purpose", "LOAN_ORIGINATION");
    browser.click(By.id("apply-filters"));
    browser.waitForText(By.cssSelector("#log-problem .problem"), "purpose");
  }

  @Test
  @Order(3)
  @DisplayName("a malformed national id gets the API's problem message naming the field, not a blank table")
  void invalidPerson() {
    signIn();
    fill("f-person", "11010519880314123");
    browser.click(By.id("apply-filters"));
    WebElement problem = browser.waitFor(By.cssSelector("#log-problem .problem [data-field='nationalId']"));
    assertTrue(problem.getText().toLowerCase().contains("national id"), problem.getText());
    show(By.id("log"));
    browser.screenshot("console-problem");
  }

  @Test
  @Order(4)
  @DisplayName("NDJSON and CSV exports download the filtered rows (fetched with the token, saved from a Blob)")
  void exports() throws Exception {
    signIn();
    fill("f-lender", "lender-b");
    fill("f-person", ALICE);
    choose("f-action", "INQUIRY");
    apply();
    await(Duration.ofSeconds(10), () -> rows().size() == 2, "lender-b looked at Alice twice");
    browser.script("window.scrollTo(0, 0)");
    browser.screenshot("console-filtered");
    browser.click(By.id("export-ndjson"));
    Path ndjson = awaitDownload(downloads, ".ndjson");
    List<String> lines = Files.readAllLines(ndjson).stream().filter(l -> !l.isBlank()).toList();
    assertEquals(2, lines.size(), lines.toString());
    for (String l : lines) {
      JsonObject row = new JsonObject(l);
      assertEquals("lender-b", row.getString("lenderId"));
      assertEquals("INQUIRY", row.getString("action"));
      assertEquals("GRANTED", row.getString("decision"));
    }
    browser.waitForText(By.id("export-status"), "Exported 2 entries");
    browser.click(By.id("export-csv"));
    Path csv = awaitDownload(downloads, ".csv");
    List<String> csvLines = Files.readAllLines(csv).stream().filter(l -> !l.isBlank()).toList();
    assertEquals(3, csvLines.size(), csvLines.toString());
    assertTrue(csvLines.get(0).startsWith("id,at,action,lenderId,borrowerKey"), csvLines.get(0));
    assertTrue(csvLines.get(1).contains(",INQUIRY,lender-b,"), csvLines.get(1));
    // the export never carries the national id, and no token went into a URL
    assertFalse(Files.readString(ndjson).contains(ALICE));
    assertFalse(Files.readString(csv).contains(ALICE));
  }

  @Test
  @Order(5)
  @DisplayName("verify integrity says intact, names the row a superuser changed (id, chain, problem), and intact again once it is put back")
  void verifyNamesTamperedRow() {
    signIn();
    browser.click(By.id("verify"));
    browser.waitForText(By.id("verify-verdict"), "Intact");
    show(By.id("integrity"));
    browser.screenshot("console-verify-intact");
    long id = bureau.count("SELECT id FROM access_log WHERE lender_id = 'lender-c' AND action = 'INQUIRY' ORDER BY id LIMIT 1");
    String chain = bureau.sqlString("SELECT chain_id FROM access_log WHERE id = " + id);
    bureau.sql("DROP TABLE IF EXISTS kept_rows; CREATE TABLE kept_rows AS SELECT * FROM access_log WHERE id = " + id);
    try {
      bureau.sql("SET session_replication_role = replica; UPDATE access_log SET decision = 'GRANTED' WHERE id = " + id);
      browser.click(By.id("verify"));
      browser.waitForText(By.id("verify-verdict"), "NOT intact");
      assertEquals(Long.toString(id), browser.driver().findElement(By.id("broken-id")).getText());
      assertTrue(browser.driver().findElement(By.id("broken-chain")).getText().startsWith(chain),
        browser.driver().findElement(By.id("broken-chain")).getText());
      String problem = browser.driver().findElement(By.id("broken-problem")).getText();
      assertTrue(problem.startsWith("hash_mismatch") || problem.startsWith("checkpoint_mismatch"), problem);
      show(By.id("integrity"));
      browser.screenshot("console-verify-broken");
    } finally {
      bureau.sql("SET session_replication_role = replica; DELETE FROM access_log WHERE id = " + id
        + "; INSERT INTO access_log SELECT * FROM kept_rows; DROP TABLE kept_rows");
    }
    browser.click(By.id("verify"));
    browser.waitForText(By.id("verify-verdict"), "Intact");
    Api.Res v = api.get("/v1/compliance/access-log/verify", Tokens.compliance());
    assertTrue(v.json().getBoolean("intact"), v.toString());
  }

  @Test
  @Order(6)
  @DisplayName("alerts show their evidence; disputes list the overdue one first, with the per-member summary")
  void alertsAndDisputes() {
    signIn();
    WebElement over = browser.waitFor(By.cssSelector("#alerts-list .over-borrowing"));
    assertTrue(over.getText().contains("lender-a, lender-b"), over.getText());
    WebElement fishing = browser.waitFor(By.cssSelector("#alerts-list .suspicious"));
    assertTrue(fishing.getText().contains("lender-c"), fishing.getText());
    assertTrue(fishing.getText().contains("Denied"), fishing.getText());
    browser.waitFor(By.cssSelector("#summary-table"));
    browser.waitFor(By.cssSelector("#dispute-rows tr"));
    await(Duration.ofSeconds(10), () -> browser.driver().findElements(By.cssSelector("#dispute-rows tr")).size() == 2,
      "both disputes listed");
    assertEquals(overdueDispute, browser.driver().findElements(By.cssSelector("#dispute-rows tr")).get(0)
      .getDomAttribute("data-dispute"), "the overdue dispute comes first");
    assertEquals("Overdue", col(browser.driver().findElements(By.cssSelector("#dispute-rows tr")).get(0), "Status"));
    List<String> summary = new ArrayList<>();
    for (WebElement r : browser.driver().findElements(By.cssSelector("#summary-table tbody tr"))) {
      summary.add(col(r, "Lender") + ":" + col(r, "Open") + ":" + col(r, "Overdue"));
    }
    assertEquals(List.of("lender-a:1:0", "lender-b:0:1"), summary);
    show(By.id("alerts"));
    browser.screenshot("console-alerts");
    show(By.id("disputes"));
    browser.screenshot("console-disputes");
    browser.assertAccessible("console-alerts-disputes");
  }

  @Test
  @Order(7)
  @DisplayName("on a phone-sized screen the console fits the width (no sideways scrolling) and stays accessible")
  void phone() {
    signIn();
    browser.waitForText(By.id("log-status"), "shown");
    browser.size(390, 844);
    try {
      browser.waitUntil("the layout settles at phone width", Duration.ofSeconds(5),
        () -> ((Number) browser.script("return window.innerWidth")).intValue() <= 390);
      Object overflow = browser.script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;");
      assertEquals(0L, ((Number) overflow).longValue(), "no sideways scrolling on a phone");
      browser.screenshot("console-phone");
      browser.assertAccessible("console-phone");
    } finally {
      browser.size(1280, 900);
    }
  }
}
