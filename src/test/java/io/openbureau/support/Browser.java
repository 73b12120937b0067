package io.openbureau.support;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.stream.Stream;

/**
 * Headless Debian chromium driven by Debian's chromedriver (Selenium 4), for the pages' end-to-end
 * tests. Never downloads a browser or a driver: both paths are given explicitly, so Selenium
 * Manager never runs. Each browser gets a fresh profile directory, removed on {@link #close}.
 *
 * <p>{@link #start()} skips the calling test (JUnit assumption, with the reason) only when chromium
 * or chromedriver is missing and cannot be installed ({@code scripts/services.sh} installs them;
 * so does this class, with apt-get, when run as root).
 *
 * <p>Helpers: {@link #open}, {@link #waitFor} / {@link #waitForText} with a deadline,
 * {@link #screenshot} into {@code target/screenshots/<name>.png}, {@link #checkAccessibility} (axe-core;
 * fails on serious or critical violations).
 */
public final class Browser implements AutoCloseable {
  public static final Path CHROMIUM = Path.of(System.getProperty("test.chromium", "/usr/bin/chromium"));
  public static final Path CHROMEDRIVER = Path.of(System.getProperty("test.chromedriver", "/usr/bin/chromedriver"));
  public static final Path SCREENSHOTS = Path.of("target/screenshots");
  public static final Path AXE = Path.of("target/axe/axe.min.js");
  public static final Duration DEFAULT_WAIT = Duration.ofSeconds(30);

  private static String axeSource;

  private final ChromeDriver driver;
  private final Path profile;
  private final String baseUrl;

  private Browser(ChromeDriver driver, Path profile, String baseUrl) {
    this.driver = driver;
    this.profile = profile;
    this.baseUrl = baseUrl;
  }

  /** A browser whose relative {@link #open} paths are resolved against {@code baseUrl} (e.g. {@code http://127.0.0.1:8123}). */
  public static Browser start(String baseUrl) {
    ensureInstalled();
    Path profile;
    try {
      profile = Files.createTempDirectory("ob-chromium-");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-dev-shm-usage", "--window-size=1280,900", "--user-data-dir=" + profile);
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service = new ChromeDriverService.Builder()
      .usingDriverExecutable(CHROMEDRIVER.toFile())
      .usingAnyFreePort()
      .withLogFile(new File("target/chromedriver.log"))
      .build();
    ChromeDriver driver = new ChromeDriver(service, options);
    driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30)).scriptTimeout(Duration.ofSeconds(30));
    return new Browser(driver, profile, baseUrl.replaceAll("/$", ""));
  }

  /** Skips (assumption) when chromium cannot be had; installs it with apt-get first when missing and run as root. */
  public static synchronized void ensureInstalled() {
    if (installed()) {
      return;
    }
    String why = "chromium (" + CHROMIUM + ") or chromedriver (" + CHROMEDRIVER + ") is missing";
    if ("0".equals(run(List.of("id", "-u"), 10).trim())) {
      run(List.of("bash", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq"
        + " chromium chromium-driver"), 900);
      why += " and apt-get install chromium chromium-driver did not install them";
    } else {
      why += " and this user cannot install them (run scripts/services.sh as root)";
    }
    Assumptions.assumeTrue(installed(), "browser tests skipped: " + why);
  }

  private static boolean installed() {
    return Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
  }

  public WebDriver driver() {
    return driver;
  }

  public String url(String path) {
    return path.startsWith("http") ? path : baseUrl + path;
  }

  /** Opens {@code path} (relative to the base URL, or absolute). */
  public Browser open(String path) {
    driver.get(url(path));
    return this;
  }

  /** Phone-sized (360 x 780) or back to desktop size. */
  public Browser size(int width, int height) {
    driver.manage().window().setSize(new Dimension(width, height));
    return this;
  }

  public WebElement waitFor(By by) {
    return waitFor(by, DEFAULT_WAIT);
  }

  /** The first visible element matching {@code by}, waiting up to {@code deadline}. */
  public WebElement waitFor(By by, Duration deadline) {
    try {
      return new WebDriverWait(driver, deadline).until(ExpectedConditions.visibilityOfElementLocated(by));
    } catch (org.openqa.selenium.TimeoutException e) {
      throw new AssertionError("no visible " + by + " within " + deadline + " on " + driver.getCurrentUrl()
        + "; console: " + consoleMessages() + "; page text: " + bodyText(), e);
    }
  }

  public WebElement waitForText(By by, String text) {
    return waitForText(by, text, DEFAULT_WAIT);
  }

  /** The first visible element matching {@code by} whose text contains {@code text}, waiting up to {@code deadline}. */
  public WebElement waitForText(By by, String text, Duration deadline) {
    try {
      return new WebDriverWait(driver, deadline).until(d -> {
        for (WebElement e : d.findElements(by)) {
          try {
            if (e.isDisplayed() && e.getText().contains(text)) {
              return e;
            }
          } catch (org.openqa.selenium.StaleElementReferenceException ignored) {
            // re-rendered: look again
          }
        }
        return null;
      });
    } catch (org.openqa.selenium.TimeoutException e) {
      throw new AssertionError("no visible " + by + " containing '" + text + "' within " + deadline + " on "
        + driver.getCurrentUrl() + "; console: " + consoleMessages() + "; page text: " + bodyText(), e);
    }
  }

  /** Waits until {@code condition} holds (polled), up to {@code deadline}. */
  public void waitUntil(String what, Duration deadline, Supplier<Boolean> condition) {
    try {
      new WebDriverWait(driver, deadline).until(d -> condition.get() ? Boolean.TRUE : null);
    } catch (org.openqa.selenium.TimeoutException e) {
      throw new AssertionError(what + " did not happen within " + deadline + "; page text: " + bodyText(), e);
    }
  }

  public WebElement find(By by) {
    return driver.findElement(by);
  }

  public List<WebElement> findAll(By by) {
    return driver.findElements(by);
  }

  /** Clears a field and types into it. */
  public Browser type(By by, String text) {
    WebElement e = waitFor(by);
    e.clear();
    e.sendKeys(text);
    return this;
  }

  public Browser click(By by) {
    WebElement e;
    try {
      e = new WebDriverWait(driver, DEFAULT_WAIT).until(ExpectedConditions.elementToBeClickable(by));
    } catch (org.openqa.selenium.TimeoutException t) {
      throw new AssertionError("nothing clickable at " + by + " within " + DEFAULT_WAIT + " on " + driver.getCurrentUrl()
        + "; console: " + consoleMessages() + "; page text: " + bodyText(), t);
    }
    e.click();
    return this;
  }

  public Object script(String js, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(js, args);
  }

  public String bodyText() {
    try {
      String text = driver.findElement(By.tagName("body")).getText();
      return text.length() > 2000 ? text.substring(0, 2000) + "…" : text;
    } catch (RuntimeException e) {
      return "(no body)";
    }
  }

  /** What the page logged to its console (errors first of all: a failed module, a CSP refusal). */
  public List<String> consoleMessages() {
    List<String> out = new ArrayList<>();
    try {
      for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
        out.add(e.getLevel() + " " + e.getMessage());
      }
    } catch (RuntimeException ignored) {
      // not every driver keeps logs
    }
    return out;
  }

  /** A PNG of the viewport into {@code target/screenshots/<name>.png}; returns its path. */
  public Path screenshot(String name) {
    try {
      Files.createDirectories(SCREENSHOTS);
      Path file = SCREENSHOTS.resolve(name + ".png");
      Files.write(file, ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
      return file;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A PNG of the whole page (its full height at the current width). */
  public Path fullScreenshot(String name) {
    Dimension before = driver.manage().window().getSize();
    try {
      Number height = (Number) script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)");
      driver.manage().window().setSize(new Dimension(before.getWidth(), Math.min(6000, height.intValue() + 140)));
      return screenshot(name);
    } finally {
      driver.manage().window().setSize(before);
    }
  }

  /**
   * Runs axe-core on the current page; returns its violations. See {@link #assertAccessible}.
   */
  public JsonArray axeViolations() {
    String source = axe();
    script(source + "\n;window.__obAxe = axe;");
    Object out = ((JavascriptExecutor) driver).executeAsyncScript(
      "const done = arguments[arguments.length - 1];"
        + "window.__obAxe.run(document, {resultTypes: ['violations']})"
        + ".then(r => done(JSON.stringify(r.violations))).catch(e => done(JSON.stringify({error: String(e)})));");
    String json = String.valueOf(out);
    if (json.startsWith("{")) {
      throw new IllegalStateException("axe-core failed: " + json);
    }
    return new JsonArray(json);
  }

  /** Fails on serious or critical axe-core violations of the current page (named {@code what} in the message). */
  public void assertAccessible(String what) {
    JsonArray violations = axeViolations();
    List<String> bad = new ArrayList<>();
    for (Object o : violations) {
      JsonObject v = (JsonObject) o;
      String impact = v.getString("impact", "");
      if ("serious".equals(impact) || "critical".equals(impact)) {
        List<String> targets = new ArrayList<>();
        for (Object n : v.getJsonArray("nodes", new JsonArray())) {
          targets.add(String.valueOf(((JsonObject) n).getValue("target")));
        }
        bad.add(impact + " " + v.getString("id") + " (" + v.getString("help") + ") at " + targets);
      }
    }
    Assertions.assertTrue(bad.isEmpty(), what + ": axe-core found serious or critical violations: " + bad);
  }

  /** Alias of {@link #assertAccessible}. */
  public void checkAccessibility(String what) {
    assertAccessible(what);
  }

  /** axe-core's axe.min.js from target/axe/ (scripts/services.sh fetches it; fetched here with npm pack when missing). */
  public static synchronized String axe() {
    if (axeSource != null) {
      return axeSource;
    }
    try {
      if (!Files.isRegularFile(AXE)) {
        Path dir = AXE.getParent();
        Files.createDirectories(dir);
        run(List.of("bash", "-c", "cd '" + dir + "' && npm pack axe-core@4 --silent && tar -xzf axe-core-*.tgz"
          + " package/axe.min.js && mv package/axe.min.js axe.min.js && rm -rf package axe-core-*.tgz"), 300);
      }
      if (!Files.isRegularFile(AXE)) {
        throw new IllegalStateException("axe-core is missing: " + AXE + " (npm pack axe-core@4 failed; see scripts/services.sh)");
      }
      axeSource = Files.readString(AXE);
      return axeSource;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String run(List<String> command, int timeoutSeconds) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
      return out;
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  @Override
  public void close() {
    try {
      driver.quit();
    } finally {
      try (Stream<Path> files = Files.walk(profile)) {
        files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      } catch (IOException ignored) {
        // a temp dir left behind
      }
    }
  }
}
