package io.openbureau.audit;

import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Furnishing's transactions hold their connection while they wait on a person's lock: a large
 * batch (here, many writes about one person whose lock a superuser session holds) must not take
 * the connections the inquiry path needs, neither its fills nor the access-log writer's.
 */
@DisplayName("Inquiries answer within their budget while furnishing holds every connection it may have")
class AuditIsolationTest {
  private static final String LO = "LOAN_ORIGINATION";
  private static final int COMMIT_TIMEOUT = 2000;
  private static TestBureau bureau;
  private static Api api;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("auditisolation", new JsonObject()
      // one instance, so the test's client cannot miss the instance whose pools are busy
      .put("http", new JsonObject().put("instances", 1))
      // furnishing's lock waits last long (as a large batch's would), and never end on their own during the test
      .put("postgres", new JsonObject().put("lockTimeoutMillis", 60_000).put("statementTimeoutMillis", 60_000))
      .put("audit", new JsonObject().put("commitTimeoutMillis", COMMIT_TIMEOUT)));
    api = bureau.api;
    assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", "lender-a").put("name", "A")).status());
  }

  @AfterAll
  static void stop() {
    bureau.close();
  }

  static String person(int n) {
    return NationalId.of("440301", LocalDate.of(1979, 3, 1).plusDays(n), 31);
  }

  static Api.Res tradeline(String person, String account) {
    return api.put("/v1/tradelines/" + account, Tokens.lender("lender-a"), new JsonObject()
      .put("nationalId", person).put("productType", "MICRO_LOAN").put("openedAt", "2024-02-01")
      .put("principal", "3000.00").put("status", "OPEN").put("balance", "1200.00").put("daysPastDue", 0));
  }

  @Test
  @DisplayName("postgres.furnishingPoolSize is validated at start-up, naming the key")
  void furnishingPoolSizeValidated() {
    JsonObject raw = TestBureau.testConfig("auditisolationcfg");
    raw.getJsonObject("postgres").put("furnishingPoolSize", 0);
    io.openbureau.config.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(
      io.openbureau.config.ConfigException.class, () -> io.openbureau.config.BureauConfig.from(raw));
    assertTrue(e.getMessage().contains("postgres.furnishingPoolSize"), e.getMessage());
    raw.getJsonObject("postgres").put("furnishingPoolSize", 6);
    assertEquals(6, io.openbureau.config.BureauConfig.from(raw).postgres().furnishingPoolSize());
  }

  @Test
  @DisplayName("with every furnishing connection waiting on a person's lock, inquiries still answer 200 and 403 in time")
  void furnishingCannotStarveInquiries() throws Exception {
    String busy = person(0);
    assertEquals(201, tradeline(busy, "ISO-0").status());
    List<String> consenting = new ArrayList<>();
    for (int i = 1; i <= 4; i++) {
      String p = person(i);
      assertEquals(201, tradeline(p, "ISO-" + i).status());
      assertEquals(201, api.post("/v1/me/consents", Tokens.borrower(p), new JsonObject().put("lenderId", "lender-a")
        .put("purpose", LO)).status());
      consenting.add(p);
    }
    String noConsent = person(9);
    assertEquals(201, tradeline(noConsent, "ISO-9").status());

    BorrowerKeys keys = new BorrowerKeys(bureau.config().identity().hmacKeyId(), bureau.config().identity().hmacSecret());
    long lock = ByteBuffer.wrap(keys.key(busy), 0, 8).getLong(); // the person's lock (FurnishingService.lockOf)
    int instances = bureau.config().http().instances();
    int connections = instances * Math.max(bureau.config().postgres().poolSize(),
      bureau.config().postgres().furnishingPoolSize());
    ExecutorService writers = Executors.newFixedThreadPool(3 * connections);
    try (Connection holder = bureau.superuserConnection(); Statement st = holder.createStatement()) {
      st.execute("SELECT pg_advisory_lock(" + lock + ")");
      List<Future<Api.Res>> puts = new ArrayList<>();
      for (int i = 0; i < 3 * connections; i++) {
        int n = i;
        puts.add(writers.submit(() -> tradeline(busy, "ISO-W" + n)));
      }
      // every connection furnishing can get is inside a transaction waiting on that lock
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      long waiting = 0;
      while (System.nanoTime() < until && (waiting = bureau.count("SELECT count(*) FROM pg_stat_activity"
        + " WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'"))
        < instances * bureau.config().postgres().furnishingPoolSize()) {
        Thread.sleep(20);
      }
      assertTrue(waiting >= instances * bureau.config().postgres().furnishingPoolSize(), "furnishing waits: " + waiting);

      List<String> slow = new ArrayList<>();
      for (int round = 0; round < 2; round++) {
        for (String p : consenting) {
          long t = System.nanoTime();
          Api.Res r = api.post("/v1/inquiries", Tokens.lender("lender-a"), new JsonObject().put("nationalId", p).put("purpose", LO));
          long ms = (System.nanoTime() - t) / 1_000_000;
          assertEquals(200, r.status(), r.toString());
          if (ms > COMMIT_TIMEOUT + 500) {
            slow.add(ms + " ms");
          }
          assertEquals(1, bureau.count("SELECT count(*) FROM access_log WHERE id = " + r.json().getString("inquiryId")));
        }
        long t = System.nanoTime();
        Api.Res denied = api.post("/v1/inquiries", Tokens.lender("lender-a"),
          new JsonObject().put("nationalId", noConsent).put("purpose", LO));
        assertEquals(403, denied.status(), denied.toString());
        long ms = (System.nanoTime() - t) / 1_000_000;
        if (ms > COMMIT_TIMEOUT + 500) {
          slow.add(ms + " ms");
        }
      }
      assertTrue(slow.isEmpty(), "answers later than the budget: " + slow);
      assertTrue(bureau.count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        + " AND wait_event_type = 'Lock' AND wait_event = 'advisory'") >= instances, "furnishing was still waiting");
      st.execute("SELECT pg_advisory_unlock(" + lock + ")");
      for (Future<Api.Res> put : puts) {
        int status = put.get(60, TimeUnit.SECONDS).status();
        // those that never got a connection answered 503 (furnishing's own pool was full), the others went through
        assertTrue(status == 201 || status == 503, "furnishing answered " + status);
      }
    } finally {
      writers.shutdownNow();
    }
  }
}
