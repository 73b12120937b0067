import io.openbureau.audit.AccessLogEntry;
import io.openbureau.audit.ChainHash;
import io.openbureau.config.BureauConfig;
import io.openbureau.db.Database;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.postgresql.PGConnection;
import org.postgresql.copy.PGCopyOutputStream;

import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * Fills a bench database with N valid, hash-chained access-log rows (ChainHash, as the writer does):
 * W interleaved writer chains, over the last DAYS days, 1M people, 500 lenders; streamed with COPY.
 * Usage: java -cp target/classes:$(deps) bench/audit/AccessLogFill.java DB ROWS [DAYS] [WRITERS]
 */
public class AccessLogFill {
  public static void main(String[] args) throws Exception {
    String db = args[0];
    long rows = Long.parseLong(args[1]);
    int days = args.length > 2 ? Integer.parseInt(args[2]) : 300;
    int writers = args.length > 3 ? Integer.parseInt(args[3]) : 4;
    BureauConfig.Postgres pg = new BureauConfig.Postgres("127.0.0.1", 5432, db, "openbureau_app", "", "openbureau_owner", "", 2, true);
    Vertx vertx = Vertx.vertx();
    Database.prepare(vertx, pg).toCompletionStage().toCompletableFuture().join();
    vertx.close();

    int people = 1_000_000;
    byte[][] keys = new byte[people][];
    // person i: NationalId.of("110101", 1950-01-01 + i / 50 days, i % 50 + 1), keyed with the dev HMAC secret
    io.openbureau.identity.BorrowerKeys borrowerKeys = new io.openbureau.identity.BorrowerKeys("dev-2026",
      "dev-only-hmac-secret-change-me-in-production-000000");
    java.time.LocalDate born = java.time.LocalDate.of(1950, 1, 1);
    for (int i = 0; i < people; i++) {
      keys[i] = borrowerKeys.key(io.openbureau.identity.NationalId.of("110101", born.plusDays(i / 50), i % 50 + 1));
    }
    HexFormat hex = HexFormat.of();
    DateTimeFormatter ts = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS'+00'").withZone(ZoneOffset.UTC);
    Instant end = Instant.now().minus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.MICROS);
    long spanMicros = days * 86_400_000_000L;
    Instant start = end.minus(spanMicros, ChronoUnit.MICROS);
    String run = Long.toString(System.currentTimeMillis(), 36);
    byte[][] heads = new byte[writers][];
    for (int w = 0; w < writers; w++) {
      heads[w] = ChainHash.GENESIS;
    }
    SplittableRandom rnd = new SplittableRandom(42);
    long t0 = System.nanoTime();
    try (Connection c = DriverManager.getConnection(Database.jdbcUrl(pg, db), "postgres", "")) {
      long base;
      try (Statement st = c.createStatement()) {
        var rs = st.executeQuery("SELECT coalesce(max(id), 0) FROM access_log");
        rs.next();
        base = rs.getLong(1);
      }
      // COPY into bare tables, then build the indexes once (much faster than maintaining them row by row)
      java.util.List<String> rebuild = new java.util.ArrayList<>();
      try (Statement st = c.createStatement()) {
        var rs = st.executeQuery("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
          + " WHERE conrelid = 'access_log'::regclass AND contype = 'p'");
        java.util.List<String> drops = new java.util.ArrayList<>();
        while (rs.next()) {
          drops.add("ALTER TABLE access_log DROP CONSTRAINT " + rs.getString(1));
          rebuild.add("ALTER TABLE access_log ADD CONSTRAINT " + rs.getString(1) + " " + rs.getString(2));
        }
        rs = st.executeQuery("SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
          + " WHERE i.indrelid = 'access_log'::regclass AND NOT i.indisprimary");
        while (rs.next()) {
          drops.add("DROP INDEX " + rs.getString(1));
          rebuild.add(rs.getString(2).replace(" ON ONLY ", " ON "));
        }
        for (String d : drops) {
          st.execute(d);
        }
      }
      OutputStream out = new BufferedOutputStream(new PGCopyOutputStream(c.unwrap(PGConnection.class),
        "COPY access_log (id, at, chain_id, chain_seq, action, actor_role, actor_id, lender_id, borrower_key, purpose,"
          + " scope, decision, reason, consent_id, request_id, score_value, details_json, details, prev_hash, row_hash) FROM STDIN",
        1 << 20), 1 << 20);
      StringBuilder line = new StringBuilder(512);
      for (long i = 0; i < rows; i++) {
        int w = (int) (i % writers);
        long seq = i / writers + 1;
        long id = base + i + 1;
        Instant at = start.plus(spanMicros / rows * i, ChronoUnit.MICROS);
        String lender = "bench-lender-" + rnd.nextInt(500);
        byte[] key = keys[rnd.nextInt(people)];
        boolean granted = rnd.nextInt(100) < 80;
        String purpose = rnd.nextInt(10) < 7 ? "LOAN_ORIGINATION" : "ACCOUNT_REVIEW";
        UUID consent = granted ? new UUID(rnd.nextLong(), rnd.nextLong()) : null;
        Integer score = granted ? 300 + rnd.nextInt(551) : null;
        JsonObject details = rnd.nextInt(50) == 0 ? new JsonObject().put("status", 400).put("fields", new io.vertx.core.json.JsonArray().add("purpose")) : null;
        AccessLogEntry e = new AccessLogEntry(id, at, "bench-" + run + "-" + w, seq, "INQUIRY", "lender", lender,
          lender, key, purpose, "SCORE", granted ? "GRANTED" : "DENIED", granted ? null : "no_consent", consent,
          "req-" + id, score, details, heads[w], null);
        byte[] hash = ChainHash.rowHash(heads[w], e);
        line.setLength(0);
        line.append(id).append('\t').append(ts.format(at)).append('\t').append(e.chainId()).append('\t').append(seq)
          .append("\tINQUIRY\tlender\t").append(lender).append('\t').append(lender).append("\t\\\\x").append(hex.formatHex(key))
          .append('\t').append(purpose).append("\tSCORE\t").append(e.decision()).append('\t')
          .append(granted ? "\\N" : "no_consent").append('\t').append(consent == null ? "\\N" : consent.toString())
          .append('\t').append("req-").append(id).append('\t').append(score == null ? "\\N" : score.toString())
          .append('\t').append(details == null ? "\\N" : e.detailsText())
          .append('\t').append(details == null ? "\\N" : e.detailsText()) // the jsonb copy for queries
          .append("\t\\\\x").append(hex.formatHex(heads[w])).append("\t\\\\x").append(hex.formatHex(hash)).append('\n');
        out.write(line.toString().getBytes(StandardCharsets.UTF_8));
        heads[w] = hash;
        if ((i + 1) % 1_000_000 == 0) {
          System.out.printf("%,d rows, %.0f rows/s%n", i + 1, (i + 1) / ((System.nanoTime() - t0) / 1e9));
        }
      }
      out.close();
      System.out.printf("copied %,d rows in %.1f s; building indexes%n", rows, (System.nanoTime() - t0) / 1e9);
      try (Statement st = c.createStatement()) {
        st.execute("SET maintenance_work_mem = '512MB'");
        for (String r : rebuild) {
          long t1 = System.nanoTime();
          st.execute(r);
          System.out.printf("  %s: %.1f s%n", r, (System.nanoTime() - t1) / 1e9);
        }
        st.execute("SELECT setval('access_log_id_seq', (SELECT max(id) FROM access_log))");
        st.execute("ANALYZE access_log");
      }
    }
    System.out.printf("filled %,d rows in %.1f s%n", rows, (System.nanoTime() - t0) / 1e9);
  }
}
