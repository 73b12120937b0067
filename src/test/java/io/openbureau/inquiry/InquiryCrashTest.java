package io.openbureau.inquiry;

import io.openbureau.config.BureauConfig;
import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs the bureau as a separate process, drives inquiries at it from many connections, kills it
 * with SIGKILL mid-flight, and checks the access log: every inquiry that got a 200 has its row.
 */
@DisplayName("Crash: after a kill -9 under load, every inquiry answered 200 has its access-log row")
class InquiryCrashTest {
  private static final String LO = "LOAN_ORIGINATION";
  private static final int PEOPLE = 40;
  private static TestBureau bureau;
  private static final List<String> people = new ArrayList<>();

  @BeforeAll
  static void seed() {
    bureau = TestBureau.start("inqcrash");
    Api api = bureau.api;
    assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", "lender-k").put("name", "K")).status());
    for (int i = 0; i < PEOPLE; i++) {
      String person = NationalId.of("510104", LocalDate.of(1990, 1, 1).plusDays(i), 47);
      people.add(person);
      assertEquals(201, api.put("/v1/tradelines/K-" + i, Tokens.lender("lender-k"), new JsonObject()
        .put("nationalId", person).put("productType", "BNPL").put("openedAt", "2025-06-01").put("principal", "800.00")
        .put("status", "OPEN").put("balance", "400.00").put("daysPastDue", 0)).status());
      assertEquals(201, api.post("/v1/me/consents", Tokens.borrower(person), new JsonObject().put("lenderId", "lender-k")
        .put("purpose", LO)).status());
    }
  }

  @AfterAll
  static void stop() {
    bureau.close();
  }

  @Test
  @DisplayName("no 200 without its row, with 16 requests in flight when the process is killed")
  void killNine() throws Exception {
    BureauConfig cfg = bureau.config();
    int port = TestBureau.freePort();
    ProcessBuilder pb = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
      "-Xmx256m", "-cp", System.getProperty("java.class.path"), "io.openbureau.Main", "serve");
    pb.environment().put("PORT", Integer.toString(port));
    pb.environment().put("BUREAU_ENV", "test");
    pb.environment().put("BUREAU_HTTP_INSTANCES", "2");
    pb.environment().put("BUREAU_POSTGRES_DATABASE", cfg.postgres().database());
    pb.environment().put("BUREAU_REDIS_KEY_PREFIX", cfg.redis().keyPrefix());
    pb.environment().put("BUREAU_INQUIRY_RATE_LIMIT_PER_SECOND", "100000");
    pb.environment().put("BUREAU_INQUIRY_RATE_LIMIT_BURST", "100000");
    File log = new File("target/inquiry-crash-server.log");
    pb.redirectErrorStream(true).redirectOutput(log);
    Process server = pb.start();
    try {
      Api api = new Api("http://127.0.0.1:" + port);
      boolean ready = false;
      for (int i = 0; i < 300 && !ready; i++) {
        try {
          ready = api.get("/health/ready", null).status() == 200;
        } catch (RuntimeException e) {
          // not listening yet
        }
        if (!ready) {
          Thread.sleep(100);
        }
      }
      assertTrue(ready, "the server process did not become ready; see " + log);

      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      String token = Tokens.lender("lender-k");
      Set<String> answered = ConcurrentHashMap.newKeySet();
      AtomicInteger failures = new AtomicInteger();
      AtomicBoolean running = new AtomicBoolean(true);
      AtomicInteger sent = new AtomicInteger();
      List<CompletableFuture<Void>> loops = new ArrayList<>();
      for (int c = 0; c < 16; c++) {
        CompletableFuture<Void> loop = new CompletableFuture<>();
        loops.add(loop);
        drive(http, port, token, answered, failures, running, sent, loop);
      }
      // let the load run until a few hundred inquiries were answered, then kill -9 mid-flight
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (answered.size() < 300 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      server.destroyForcibly(); // SIGKILL on Linux
      server.waitFor(10, TimeUnit.SECONDS);
      running.set(false);
      CompletableFuture.allOf(loops.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

      assertTrue(answered.size() > 50, "too little load to mean anything: " + answered.size() + " answers");
      assertTrue(failures.get() > 0, "requests were in flight when the process died");
      String ids = answered.stream().collect(Collectors.joining(","));
      long found = bureau.count("SELECT count(*) FROM access_log WHERE id IN (" + ids + ") AND decision = 'GRANTED'");
      assertEquals(answered.size(), found, "every 200 has its committed GRANTED row (sent " + sent.get()
        + ", answered " + answered.size() + ", failed " + failures.get() + ")");
    } finally {
      server.destroyForcibly();
    }
  }

  private void drive(HttpClient http, int port, String token, Set<String> answered, AtomicInteger failures,
                     AtomicBoolean running, AtomicInteger sent, CompletableFuture<Void> done) {
    if (!running.get()) {
      done.complete(null);
      return;
    }
    String person = people.get(sent.getAndIncrement() % PEOPLE);
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/inquiries"))
      .timeout(Duration.ofSeconds(5)).header("Authorization", "Bearer " + token)
      .header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("nationalId", person).put("purpose", LO).encode()))
      .build();
    http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((res, err) -> {
      if (err == null && res.statusCode() == 200) {
        answered.add(new JsonObject(res.body()).getString("inquiryId"));
      } else {
        failures.incrementAndGet();
      }
      if (err != null && !running.get()) {
        done.complete(null);
      } else {
        drive(http, port, token, answered, failures, running, sent, done);
      }
    });
  }
}
