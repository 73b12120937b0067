package io.openbureau.http;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.net.http.HttpRequest;
import java.time.LocalDate;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ObservabilityTest {
  private static TestBureau bureau;
  private static Api api;
  private static ListAppender<ILoggingEvent> log;
  private static Level accessLevel;
  private static final String PERSON = NationalId.of("440301", LocalDate.of(1990, 5, 6), 23);

  @BeforeAll
  static void start() {
    log = new ListAppender<>();
    Logger root = root();
    log.setContext(root.getLoggerContext());
    log.start();
    root.addAppender(log);
    accessLevel = ((Logger) LoggerFactory.getLogger(AccessLog.LOGGER)).getLevel();
    ((Logger) LoggerFactory.getLogger(AccessLog.LOGGER)).setLevel(Level.INFO);
    bureau = TestBureau.start("observe");
    api = bureau.api;
    for (String id : List.of("lender-o", "lender-p")) {
      assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", id).put("name", id)).status());
    }
  }

  @AfterAll
  static void stop() {
    ((Logger) LoggerFactory.getLogger(AccessLog.LOGGER)).setLevel(accessLevel); // as logback-test.xml set it
    root().detachAppender(log);
    bureau.close();
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  private static String metrics() {
    Api.Res m = api.get("/metrics", null);
    assertEquals(200, m.status());
    return m.body();
  }

  private static double value(String scrape, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " ([0-9.eE+-]+)$").matcher(scrape);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  @Test
  @DisplayName("the Prometheus endpoint has JVM memory, GC, thread, class, CPU, file-descriptor and uptime metrics")
  void jvmMetrics() {
    String scrape = metrics();
    for (String name : List.of("jvm_memory_used_bytes", "jvm_gc_memory_allocated_bytes_total", "jvm_threads_live_threads",
      "jvm_classes_loaded_classes", "process_cpu_usage", "system_cpu_count", "process_files_open_files",
      "process_uptime_seconds")) {
      assertTrue(scrape.contains("\n" + name), name + " is missing");
    }
  }

  @Test
  @DisplayName("furnishing, consent and compliance count their work on /metrics, with bounded labels and no national id")
  void featureMetrics() {
    String lender = Tokens.lender("lender-o");
    String good = new JsonObject().put("type", "tradeline").put("accountRef", "OBS-1").put("nationalId", PERSON)
      .put("productType", "MICRO_LOAN").put("openedAt", "2024-02-01").put("principal", "3000.00").put("status", "OPEN")
      .put("balance", "1200.00").put("daysPastDue", 0).encode();
    String bad = new JsonObject().put("type", "tradeline").put("accountRef", "OBS-2").put("nationalId", "nope").encode();
    String before = metrics();
    Api.Res batch = api.send(api.builder("/v1/furnishing/batches", lender).header("Content-Type", "application/x-ndjson")
      .POST(HttpRequest.BodyPublishers.ofString(good + "\n" + bad + "\n")).build());
    assertEquals(200, batch.status(), batch.toString());
    String borrower = Tokens.borrower(PERSON);
    Api.Res grant = api.post("/v1/me/consents", borrower, new JsonObject().put("lenderId", "lender-o")
      .put("purpose", "ACCOUNT_REVIEW"));
    assertEquals(201, grant.status(), grant.toString());
    assertEquals(200, api.delete("/v1/me/consents/" + grant.json().getString("consentId"), borrower).status());
    assertEquals(200, api.get("/v1/compliance/access-log/export", Tokens.compliance()).status());
    assertEquals(200, api.get("/v1/compliance/access-log/verify", Tokens.compliance()).status());
    String after = metrics();

    assertEquals(1, value(after, "bureau_furnishing_lines_total{result=\"accepted\"}")
      - value(before, "bureau_furnishing_lines_total{result=\"accepted\"}"), after);
    assertEquals(1, value(after, "bureau_furnishing_lines_total{result=\"rejected\"}")
      - value(before, "bureau_furnishing_lines_total{result=\"rejected\"}"));
    assertEquals(1, value(after, "bureau_furnishing_batch_seconds_count{outcome=\"ok\"}")
      - value(before, "bureau_furnishing_batch_seconds_count{outcome=\"ok\"}"));
    assertEquals(1, value(after, "bureau_consent_grants_total") - value(before, "bureau_consent_grants_total"));
    assertEquals(1, value(after, "bureau_consent_revocations_total") - value(before, "bureau_consent_revocations_total"));
    assertEquals(1, value(after, "bureau_compliance_exports_seconds_count{outcome=\"ok\"}")
      - value(before, "bureau_compliance_exports_seconds_count{outcome=\"ok\"}"));
    assertEquals(1, value(after, "bureau_compliance_verifies_seconds_count{kind=\"chain\",outcome=\"ok\"}")
      - value(before, "bureau_compliance_verifies_seconds_count{kind=\"chain\",outcome=\"ok\"}"));
    assertTrue(after.contains("bureau_operation_seconds_count{operation=\"grantConsent\",status=\"2xx\"}"), after);
    assertFalse(after.contains(PERSON), "a national id in a metric");
    assertFalse(after.contains("OBS-1"), "an account reference in a metric");
  }

  @Test
  @DisplayName("one access-log line per request: method, path template, status, duration, bytes, request id; and the "
    + "request id in the MDC of every line logged while the request is handled")
  void accessLog() {
    String id = "obs-" + System.nanoTime();
    Api.Res res = api.send(api.builder("/v1/members/lender-p/suspend", Tokens.admin()).header("X-Request-Id", id)
      .POST(HttpRequest.BodyPublishers.noBody()).build());
    assertEquals(200, res.status(), res.toString());
    Api.Res bad = api.send(api.builder("/v1/members/nobody-" + id + "/reinstate", Tokens.admin())
      .header("X-Request-Id", id + "-b").POST(HttpRequest.BodyPublishers.noBody()).build());
    assertEquals(404, bad.status(), bad.toString());
    String line = awaitLine(id + "\\b(?!-)");
    assertTrue(line.matches("POST /v1/members/\\{id\\}/suspend 200 [0-9.]+ms [0-9]+B id=" + Pattern.quote(id)), line);
    String notFound = awaitLine(Pattern.quote(id + "-b"));
    assertTrue(notFound.startsWith("POST /v1/members/{id}/reinstate 404 "), notFound);
    assertFalse(notFound.contains("nobody-"), "the raw path is not logged: " + notFound);
    ILoggingEvent event = events().stream().filter(e -> e.getFormattedMessage().endsWith("id=" + id)).findFirst().orElseThrow();
    assertEquals(id, event.getMDCPropertyMap().get(RequestIdMdc.KEY), "the access line carries its request id in the MDC");
    // a line logged by a background loop carries no request id: it is never left behind on a thread
    assertTrue(events().stream().filter(e -> !e.getLoggerName().equals(AccessLog.LOGGER))
      .filter(e -> e.getLoggerName().contains("Bureau"))
      .allMatch(e -> e.getMDCPropertyMap().get(RequestIdMdc.KEY) == null));
    String unmatched = "obs-u-" + System.nanoTime();
    api.send(api.builder("/no/such/" + PERSON, null).header("X-Request-Id", unmatched).GET().build());
    String u = awaitLine(Pattern.quote(unmatched));
    assertTrue(u.startsWith("GET - 404 "), u);
    assertFalse(u.contains(PERSON));
  }

  private static List<ILoggingEvent> events() {
    synchronized (log) {
      return List.copyOf(log.list);
    }
  }

  private static String awaitLine(String idPattern) {
    Pattern p = Pattern.compile(".* id=" + idPattern + ".*");
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (System.nanoTime() < deadline) {
      for (ILoggingEvent e : events()) {
        if (e.getLoggerName().equals(AccessLog.LOGGER) && p.matcher(e.getFormattedMessage()).matches()) {
          return e.getFormattedMessage();
        }
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("no access-log line for " + idPattern);
  }
}
