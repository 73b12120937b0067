package io.openbureau.pages;

import io.openbureau.demo.DemoSeeder;
import io.openbureau.support.Browser;
import io.openbureau.support.TestBureau;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Pages in a real browser: the shared module signs a demo person in and keeps the token in memory only")
class BrowserSmokeTest {
  static TestBureau bureau;
  static Browser browser;

  @BeforeAll
  static void start() {
    Browser.ensureInstalled();
    bureau = TestBureau.start("pages_smoke", new JsonObject().put("demo", new JsonObject().put("seed", true)));
    browser = Browser.start(bureau.api.base());
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

  @Test
  @DisplayName("a demo person signs in from the chooser; nothing is stored in localStorage, sessionStorage or cookies")
  void demoSignIn() {
    browser.open("/portal/");
    browser.click(By.id("sign-in"));
    browser.click(By.cssSelector(".signin-chooser button[data-sub='" + DemoSeeder.ALICE + "']"));
    browser.waitForText(By.cssSelector("header.site-header .who"), "Signed in as person");
    assertEquals(0L, browser.script("return localStorage.length + sessionStorage.length"));
    assertEquals("", browser.script("return document.cookie"));
    browser.screenshot("smoke-signed-in");
    browser.assertAccessible("portal, signed in");
    assertTrue(browser.consoleMessages().stream().noneMatch(m -> m.contains("Content Security Policy")),
      browser.consoleMessages().toString());
  }
}
