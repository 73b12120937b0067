package io.openbureau.audit;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.openbureau.db.Database;
import io.openbureau.http.ApiError;
import io.openbureau.support.TestBureau;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("The access-log writer: a bounded queue that sheds load, and a bad row that fails alone")
class AuditWriterTest {
  private static TestBureau bureau;
  private static Vertx vertx;
  private static Pool pool;
  private static Context ctx;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("auditwriter");
    vertx = Vertx.vertx();
    pool = Database.pool(vertx, bureau.config().postgres(), 2);
    ctx = vertx.getOrCreateContext();
  }

  @AfterAll
  static void stop() {
    pool.close();
    vertx.close();
    bureau.close();
  }

  private static AuditWriter writer(AuditSettings settings) {
    return on(() -> Future.succeededFuture(new AuditWriter(vertx, pool,
      AuditWriter.connecting(vertx, Database.connectOptions(bureau.config().postgres())), settings,
      new SimpleMeterRegistry())));
  }

  static AccessLogEntry.Draft draft(String requestId) {
    return new AccessLogEntry.Draft("INQUIRY", "lender", "lender-a", "lender-a", new byte[32], "LOAN_ORIGINATION",
      "SCORE", "GRANTED", null, null, requestId, 700, null);
  }

  @Test
  @DisplayName("a full queue refuses at once with 503 audit_unavailable and Retry-After, stays bounded under any offered load,"
    + " and no row of a request that gave up is written")
  void fullQueueSheds() throws Exception {
    int bound = 20;
    AuditWriter writer = writer(new AuditSettings(5, 3000, 1000, bound));
    String tag = "shed-" + System.nanoTime();
    on(() -> writer.append(draft(tag + "-warm"))); // connection open, ids reserved
    try (Connection lock = bureau.superuserConnection(); Statement st = lock.createStatement()) {
      lock.setAutoCommit(false);
      st.execute("LOCK TABLE access_log IN SHARE MODE"); // every INSERT into the log waits: commits hang
      AtomicInteger immediate = new AtomicInteger();
      AtomicInteger maxQueued = new AtomicInteger();
      AtomicInteger maxBacklog = new AtomicInteger();
      List<Future<AccessLogEntry>> all = new ArrayList<>();
      List<String> problems = new ArrayList<>();
      // 100 rows at once: one in flight (hanging for its 3 s), `bound` queued (giving up after 300 ms),
      // the rest refused on the spot
      on(() -> {
        for (int i = 0; i < 100; i++) {
          Future<AccessLogEntry> f = i == 0 ? writer.append(draft(tag + "-" + i))
            : writer.append(1L << 41 | i, draft(tag + "-" + i), Deadline.after(vertx, System.nanoTime(), 300));
          all.add(f);
          maxQueued.accumulateAndGet(writer.queued(), Math::max);
          if (f.failed()) {
            immediate.incrementAndGet();
            check(f.cause(), problems);
          }
        }
        return Future.succeededFuture();
      });
      assertEquals(100 - 1 - bound, immediate.get(), "refused at once beyond the bound");
      assertTrue(problems.isEmpty(), problems.toString());
      // then, while the first batch still hangs, an offered load of 2,000 rows over 600 ms whose
      // requests give up after 60 ms each: given-up rows must not pile up in the queue
      CompletableFuture<Void> flood = new CompletableFuture<>();
      ctx.runOnContext(v -> {
        long[] ticks = {0};
        vertx.setPeriodic(5, t -> {
          for (int i = 0; i < 17; i++) {
            Deadline d = Deadline.after(vertx, System.nanoTime(), 60);
            Future<AccessLogEntry> f = writer.append(System.nanoTime() & 0xffffff | 1L << 40, draft(tag + "-flood"), d);
            all.add(f);
            if (f.failed()) {
              check(f.cause(), problems);
            }
            maxQueued.accumulateAndGet(writer.queued(), Math::max);
            maxBacklog.accumulateAndGet(writer.backlog(), Math::max);
          }
          if (++ticks[0] == 120) {
            vertx.cancelTimer(t);
            flood.complete(null);
          }
        });
      });
      flood.get(30, TimeUnit.SECONDS);
      CompletableFuture<Void> settled = new CompletableFuture<>();
      ctx.runOnContext(v -> Future.join(new ArrayList<>(all)).onComplete(ar -> settled.complete(null)));
      settled.get(30, TimeUnit.SECONDS);
      assertTrue(maxQueued.get() <= bound, "queued at most " + maxQueued.get());
      assertTrue(maxBacklog.get() <= 2 * bound + 1, "queue entries held at most " + maxBacklog.get()
        + " while 2,000 rows were offered and given up");
      assertTrue(problems.isEmpty(), problems.toString());
      for (Future<AccessLogEntry> f : all) {
        assertTrue(f.failed(), "no row commits while the log is locked");
      }
      lock.rollback();
    }
    // the hung batch's transaction is over (refused or rolled back) before we look
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (bureau.count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
      + " AND query LIKE 'INSERT INTO access_log%' AND state <> 'idle'") > 0 && System.nanoTime() < until) {
      Thread.sleep(20);
    }
    assertEquals(0, bureau.count("SELECT count(*) FROM access_log WHERE request_id LIKE '" + tag + "-%' AND request_id <> '"
      + tag + "-warm'"), "rows whose request gave up are not in the log");
    AccessLogEntry back = on(() -> writer.append(draft(tag + "-back")));
    assertEquals(1, bureau.count("SELECT count(*) FROM access_log WHERE id = " + back.id()), "the writer recovers");
    on(writer::close);
  }

  private static void check(Throwable cause, List<String> problems) {
    if (!(cause instanceof ApiError e) || e.status() != 503 || !"audit_unavailable".equals(e.code())) {
      problems.add("not a 503 audit_unavailable: " + cause);
      return;
    }
    String retry = e.headers().get("Retry-After");
    if (retry == null || Integer.parseInt(retry) < 1) {
      problems.add("Retry-After " + retry);
    }
  }

  @Test
  @DisplayName("a batch Postgres refuses for one row's value commits every other row, in order in the chain; only that row"
    + " fails, and the log names the SQLSTATE once for the batch")
  void badRowFailsAlone() throws Exception {
    AuditWriter writer = writer(new AuditSettings(500, 2000, 1000, 10_000));
    String tag = "bad-" + System.nanoTime();
    Logger logger = (Logger) LoggerFactory.getLogger(AuditWriter.class);
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    log.start();
    logger.addAppender(log);
    try {
      AccessLogEntry first = on(() -> writer.append(draft(tag + "-0")));
      List<Future<AccessLogEntry>> rows = new ArrayList<>();
      on(() -> {
        rows.add(writer.append(draft(tag + "-1"))); // commits alone; the next five share one batch
        rows.add(writer.append(draft(tag + "-2")));
        rows.add(writer.append(draft(tag + "-3")));
        // actor_role is NOT NULL in Postgres (SQLSTATE 23502); nothing in Java refuses it
        rows.add(writer.append(new AccessLogEntry.Draft("INQUIRY", null, "lender-a", "lender-a", new byte[32],
          "LOAN_ORIGINATION", "SCORE", "GRANTED", null, null, tag + "-bad", 700, null)));
        rows.add(writer.append(draft(tag + "-4")));
        rows.add(writer.append(draft(tag + "-5")));
        return Future.succeededFuture();
      });
      CompletableFuture<Void> settled = new CompletableFuture<>();
      ctx.runOnContext(v -> Future.join(new ArrayList<>(rows)).onComplete(ar -> settled.complete(null)));
      settled.get(30, TimeUnit.SECONDS);
      Future<AccessLogEntry> bad = rows.remove(3);
      assertTrue(bad.failed(), "the bad row fails");
      assertTrue(bad.cause() instanceof ApiError e && e.status() == 503 && "audit_unavailable".equals(e.code()),
        String.valueOf(bad.cause()));
      assertFalse(AuditWriter.isUncertain(bad.cause()), "certainly not in the log");
      for (Future<AccessLogEntry> f : rows) {
        assertTrue(f.succeeded(), "the others commit: " + f.cause());
        assertEquals(first.chainId(), f.result().chainId(), "in the same chain");
      }
      assertEquals(0, bureau.count("SELECT count(*) FROM access_log WHERE request_id = '" + tag + "-bad'"));
      // in order, consecutive, each row's prev_hash the row_hash before it
      List<String[]> chain = new ArrayList<>();
      try (Connection c = bureau.superuserConnection(); Statement st = c.createStatement();
           ResultSet rs = st.executeQuery("SELECT request_id, chain_seq, encode(prev_hash, 'hex'), encode(row_hash, 'hex')"
             + " FROM access_log WHERE chain_id = '" + first.chainId() + "' ORDER BY chain_seq")) {
        while (rs.next()) {
          chain.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)});
        }
      }
      assertEquals(6, chain.size());
      String prev = HexFormat.of().formatHex(ChainHash.GENESIS);
      for (int i = 0; i < chain.size(); i++) {
        assertEquals(tag + "-" + i, chain.get(i)[0]);
        assertEquals(Integer.toString(i + 1), chain.get(i)[1]);
        assertEquals(prev, chain.get(i)[2], "row " + (i + 1) + " follows the one before it");
        prev = chain.get(i)[3];
      }
      List<String> lines = log.list.stream().map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains("23502")).toList();
      assertEquals(1, lines.stream().filter(m -> m.contains("batch of 5 rows")).count(), lines.toString());
      assertTrue(lines.size() <= 2, "once for the batch (and once for the row found bad), not per row: " + lines);
      assertTrue(lines.get(0).contains("null value in column"), "the database's message: " + lines);
    } finally {
      logger.detachAppender(log);
      on(writer::close);
    }
  }

  static <T> T on(Supplier<Future<T>> action) {
    CompletableFuture<T> f = new CompletableFuture<>();
    ctx.runOnContext(v -> action.get().onComplete(ar -> {
      if (ar.succeeded()) {
        f.complete(ar.result());
      } else {
        f.completeExceptionally(ar.cause());
      }
    }));
    try {
      return f.get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e.getCause() != null ? e.getCause() : e);
    }
  }
}
