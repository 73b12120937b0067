package io.openbureau.audit;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.openbureau.db.Database;
import io.openbureau.support.TestBureau;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A repeatable micro-benchmark of the access-log writer alone (no HTTP, no Redis): latency per
 * append at 1 concurrent request, throughput at 32. Run with bench/audit/writer.sh (test scope main).
 */
public final class AuditWriterBench {
  public static void main(String[] args) throws Exception {
    int n = Integer.getInteger("bench.appends", 4000);
    int seconds = Integer.getInteger("bench.seconds", 5);
    int[] concurrencies = Arrays.stream(System.getProperty("bench.concurrency", "1,32").split(","))
      .mapToInt(Integer::parseInt).toArray();
    try (TestBureau bureau = TestBureau.start("auditbench", new JsonObject()
      .put("http", new JsonObject().put("instances", 1)))) {
      Vertx vertx = Vertx.vertx();
      Pool pool = Database.pool(vertx, bureau.config().postgres(), 2);
      Context ctx = vertx.getOrCreateContext();
      AuditSettings settings = AuditSettings.from(bureau.config());
      AuditWriter one = on(ctx, () -> Future.succeededFuture(new AuditWriter(vertx, pool,
        AuditWriter.connecting(vertx, Database.connectOptions(bureau.config().postgres())), settings,
        new SimpleMeterRegistry())));
      AuditWriter two = on(ctx, () -> Future.succeededFuture(new AuditWriter(vertx, pool,
        AuditWriter.connecting(vertx, Database.connectOptions(bureau.config().postgres())), settings,
        new SimpleMeterRegistry())));
      two.twoRoundTrips = true;
      AccessLogEntry.Draft draft = new AccessLogEntry.Draft("INQUIRY", "lender", "lender-a", "lender-a",
        new byte[32], "LOAN_ORIGINATION", "SCORE", "GRANTED", null, null, "bench", 700, null);
      // the two commit protocols side by side, interleaved in short slices so that the load of a
      // shared machine falls on both alike
      run(ctx, two, draft, 1, 1000, 0); // warm-up
      run(ctx, one, draft, 1, 1000, 0);
      int slice = 100;
      long[][] lat = new long[2][n];
      for (int done = 0; done < n; done += slice) {
        int k = Math.min(slice, n - done);
        System.arraycopy(latencies(ctx, two, draft, k), 0, lat[0], done, k);
        System.arraycopy(latencies(ctx, one, draft, k), 0, lat[1], done, k);
      }
      for (int m = 0; m < 2; m++) {
        long[] l = lat[m];
        Arrays.sort(l);
        System.out.printf("BENCH %s concurrency=1 appends=%d p50=%.3f ms p90=%.3f ms p99=%.3f ms max=%.3f ms%n",
          m == 0 ? "two-round-trips" : "one-round-trip", n, l[n / 2] / 1e6, l[n * 9 / 10] / 1e6, l[n * 99 / 100] / 1e6,
          l[n - 1] / 1e6);
      }
      for (int c : concurrencies) {
        if (c == 1) {
          continue;
        }
        long[] rows = new long[2];
        for (int s = 0; s < seconds; s++) { // one-second slices, alternating
          rows[0] += run(ctx, two, draft, c, Integer.MAX_VALUE, 1000);
          rows[1] += run(ctx, one, draft, c, Integer.MAX_VALUE, 1000);
        }
        for (int m = 0; m < 2; m++) {
          System.out.printf("BENCH %s concurrency=%d seconds=%d appends=%d throughput=%.0f/s%n",
            m == 0 ? "two-round-trips" : "one-round-trip", c, seconds, rows[m], rows[m] / (double) seconds);
        }
      }
      on(ctx, one::close);
      on(ctx, two::close);
      pool.close();
      vertx.close();
    }
    System.exit(0);
  }

  private static long[] latencies(Context ctx, AuditWriter writer, AccessLogEntry.Draft draft, int n) {
    long[] lat = new long[n];
    CompletableFuture<Void> done = new CompletableFuture<>();
    ctx.runOnContext(v -> next(writer, draft, lat, 0, done));
    done.join();
    return lat;
  }

  private static void next(AuditWriter writer, AccessLogEntry.Draft draft, long[] lat, int i, CompletableFuture<Void> done) {
    if (i == lat.length) {
      done.complete(null);
      return;
    }
    long t = System.nanoTime();
    writer.append(draft).onComplete(ar -> {
      if (ar.failed()) {
        done.completeExceptionally(ar.cause());
        return;
      }
      lat[i] = System.nanoTime() - t;
      next(writer, draft, lat, i + 1, done);
    });
  }

  /** {@code c} loops appending one row after another, until {@code max} rows or {@code millis} passed. */
  private static long run(Context ctx, AuditWriter writer, AccessLogEntry.Draft draft, int c, int max, long millis) {
    AtomicLong count = new AtomicLong();
    CompletableFuture<Void> all = new CompletableFuture<>();
    long end = millis == 0 ? Long.MAX_VALUE : System.nanoTime() + millis * 1_000_000L;
    AtomicLong running = new AtomicLong(c);
    ctx.runOnContext(v -> {
      for (int k = 0; k < c; k++) {
        loop(writer, draft, count, max, end, running, all);
      }
    });
    all.join();
    return count.get();
  }

  private static void loop(AuditWriter writer, AccessLogEntry.Draft draft, AtomicLong count, int max, long end,
                           AtomicLong running, CompletableFuture<Void> all) {
    if (count.get() >= max || System.nanoTime() > end) {
      if (running.decrementAndGet() == 0) {
        all.complete(null);
      }
      return;
    }
    writer.append(draft).onComplete(ar -> {
      if (ar.failed()) {
        all.completeExceptionally(ar.cause());
        return;
      }
      count.incrementAndGet();
      loop(writer, draft, count, max, end, running, all);
    });
  }

  static <T> T on(Context ctx, java.util.function.Supplier<Future<T>> action) {
    CompletableFuture<T> f = new CompletableFuture<>();
    ctx.runOnContext(v -> action.get().onComplete(ar -> {
      if (ar.succeeded()) {
        f.complete(ar.result());
      } else {
        f.completeExceptionally(ar.cause());
      }
    }));
    return f.join();
  }
}
