package io.openbureau.cli;

import io.openbureau.ageing.AgeingSettings;
import io.openbureau.ageing.NegativeDataAgeing;
import io.openbureau.cache.RedisStore;
import io.openbureau.compliance.Anchors;
import io.openbureau.compliance.ComplianceSettings;
import io.openbureau.consent.ReceiptSigner;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.openbureau.config.BureauConfig;
import io.openbureau.config.BusinessTime;
import io.openbureau.db.Database;
import io.openbureau.scoring.ScoreStore;
import io.openbureau.scoring.Scorecard;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code maintenance retention [--dry-run]}: the access log's retention, the only way rows ever
 * leave it. Whole monthly partitions whose every row is older than {@code compliance.retentionMonths}
 * are detached and dropped, each in its own transaction that also keeps an anchor per chain (the
 * hash of the chain's last row in that partition, so the surviving rows still verify) and records
 * the drop in {@code maintenance_log}, listing the anchors. Each anchor is signed with the bureau's key
 * ({@link Anchors}), so verify can tell it from one a superuser forged. Runs with the owner's credentials
 * ({@code postgres.migrationUser}): detaching and dropping need ownership of the table, which the server's
 * role never has. A CLI, so plain JDBC.
 *
 * <p>{@code maintenance ageing [--dry-run]}: the negative data ageing pass ({@link NegativeDataAgeing},
 * the same code as the servers' daily run) now; a dry run counts what it would delete and changes
 * nothing. Connects as the server's role ({@code postgres.user}) and publishes the new scores to
 * Redis (when Redis is down they stay marked unpublished and the servers' repair loop publishes them).
 */
public final class MaintenanceCommand {
  static final Pattern PARTITION = Pattern.compile("access_log_(\\d{4})_(\\d{2})");
  static final String PARTITIONS = """
    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'access_log'::regclass ORDER BY c.relname""";

  private MaintenanceCommand() {
  }

  public static String run(BureauConfig config, String[] args) {
    if (args.length == 0 || !("retention".equals(args[0]) || "ageing".equals(args[0]))) {
      throw new IllegalArgumentException("usage: maintenance retention|ageing [--dry-run]");
    }
    boolean dryRun = false;
    for (int i = 1; i < args.length; i++) {
      if ("--dry-run".equals(args[i])) {
        dryRun = true;
      } else {
        throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if ("ageing".equals(args[0])) {
      return ageing(config, dryRun, Clock.systemUTC());
    }
    int months = ComplianceSettings.from(config).retentionMonths();
    try {
      return retention(config, months, dryRun, OffsetDateTime.now(ZoneOffset.UTC));
    } catch (SQLException e) {
      throw new IllegalStateException("retention failed (SQLSTATE " + e.getSQLState() + "): " + e.getMessage(), e);
    }
  }

  /**
   * Runs the ageing pass once with {@code clock} (business date from {@code bureau.timeZone});
   * returns what it did. Fails (IllegalStateException, exit 1) when it could not run, e.g. another
   * pass holds the lock.
   */
  public static String ageing(BureauConfig config, boolean dryRun, Clock clock) {
    BusinessTime.configure(BusinessTime.from(config));
    AgeingSettings settings = AgeingSettings.configure(config);
    Vertx vertx = Vertx.vertx();
    try {
      CompletableFuture<NegativeDataAgeing.Result> done = new CompletableFuture<>();
      vertx.getOrCreateContext().runOnContext(v -> vertx.executeBlocking(() ->
          Scorecard.load(Path.of(config.scorecardFile())))
        .compose(scorecard -> {
          Pool pool = Database.pool(vertx, config.postgres(), 2); // the pass holds one; publication marks on the other
          RedisStore redis = RedisStore.create(vertx, config.redis());
          return new NegativeDataAgeing(pool, new ScoreStore(scorecard, redis, pool), settings, clock).run(dryRun)
            .eventually(() -> Future.join(pool.close(), redis.close()));
        })
        .onComplete(ar -> {
          if (ar.succeeded()) {
            done.complete(ar.result());
          } else {
            done.completeExceptionally(ar.cause());
          }
        }));
      NegativeDataAgeing.Result r;
      try {
        r = done.join();
      } catch (java.util.concurrent.CompletionException e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        throw new IllegalStateException("ageing failed: " + cause.getMessage(), cause);
      }
      return ageingText(r, settings);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().orTimeout(30, TimeUnit.SECONDS).exceptionally(e -> null)
        .join();
    }
  }

  static String ageingText(NegativeDataAgeing.Result r, AgeingSettings settings) {
    var c = r.aged().counts();
    String verb = r.dryRun() ? "would delete" : "deleted";
    return String.format(Locale.ROOT, "%snegative data ageing %d years (business date %s): deleting what ended "
        + "before %s%n%s %d late repayment period(s), %d DEFAULTED/WRITTEN_OFF account(s) with %d period(s); "
        + "%s %d closed account(s)' days past due; %d person(s) %s%s",
      r.dryRun() ? "dry run: " : "", settings.negativeDataYears(), r.date(), r.cutoff(), verb,
      c.getLong("latePeriodsDeleted"), c.getLong("accountsDeleted"), c.getLong("accountPeriodsDeleted"),
      r.dryRun() ? "would clear" : "cleared", c.getLong("daysPastDueCleared"), c.getInteger("people"),
      r.dryRun() ? "would be re-scored; nothing changed" : "re-scored",
      r.dryRun() ? "" : "; recorded in maintenance_log");
  }

  /** As below, signing the anchors with the bureau's key ({@code signing.*}). */
  public static String retention(BureauConfig config, int months, boolean dryRun, OffsetDateTime now)
    throws SQLException {
    return retention(config.postgres(), dryRun ? null : ReceiptSigner.load(config.signing()), months, dryRun, now);
  }

  /**
   * Drops the partitions that end at or before {@code now - months}; returns what it did. Connects
   * as {@code postgres.migrationUser} of {@code postgres}.
   */
  public static String retention(BureauConfig.Postgres postgres, ReceiptSigner signer, int months, boolean dryRun,
                                 OffsetDateTime now) throws SQLException {
    BureauConfig.Postgres pg = postgres.asOwner();
    OffsetDateTime cutoff = now.minusMonths(months);
    StringBuilder out = new StringBuilder();
    out.append(dryRun ? "dry run: " : "").append("access-log retention ").append(months)
      .append(" months: dropping partitions that end on or before ").append(cutoff.toInstant()).append('\n');
    int kept = 0;
    int dropped = 0;
    try (Connection c = DriverManager.getConnection(Database.jdbcUrl(pg, pg.database()), pg.user(), pg.password())) {
      List<String> partitions = new ArrayList<>();
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(PARTITIONS)) {
        while (rs.next()) {
          partitions.add(rs.getString(1));
        }
      }
      for (String name : partitions) {
        Matcher m = PARTITION.matcher(name);
        if (!m.matches()) {
          kept++;
          continue;
        }
        LocalDate start = LocalDate.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), 1);
        OffsetDateTime end = start.plusMonths(1).atStartOfDay().atOffset(ZoneOffset.UTC);
        if (end.isAfter(cutoff)) {
          kept++;
          continue;
        }
        long rows = count(c, name);
        if (dryRun) {
          out.append("would drop ").append(name).append(" (").append(rows).append(" rows, ").append(start)
            .append(" .. ").append(end.toLocalDate()).append(")\n");
        } else {
          drop(c, signer, name, start, end, rows, months);
          out.append("dropped ").append(name).append(" (").append(rows).append(" rows, ").append(start)
            .append(" .. ").append(end.toLocalDate()).append("), recorded in maintenance_log\n");
        }
        dropped++;
      }
    }
    out.append(dryRun ? "would drop " : "dropped ").append(dropped).append(" partition(s), kept ").append(kept);
    return out.toString();
  }

  private static long count(Connection c, String partition) throws SQLException {
    // the name matched PARTITION: digits and underscores only, safe as an identifier
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + partition)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void drop(Connection c, ReceiptSigner signer, String partition, LocalDate start, OffsetDateTime end,
                           long rows, int months) throws SQLException {
    c.setAutoCommit(false);
    try (Statement st = c.createStatement()) {
      // one signed anchor per chain (its last row in the partition), listed in the drop's log row
      JsonArray anchors = new JsonArray();
      Instant signedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
      try (ResultSet rs = st.executeQuery("SELECT DISTINCT ON (chain_id) chain_id, chain_seq, row_hash FROM " + partition
        + " ORDER BY chain_id, chain_seq DESC");
           PreparedStatement ins = c.prepareStatement("INSERT INTO audit_anchors (chain_id, chain_seq, row_hash,"
             + " partition, at, signature) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
        while (rs.next()) {
          String chain = rs.getString(1);
          long seq = rs.getLong(2);
          byte[] hash = rs.getBytes(3);
          ins.setString(1, chain);
          ins.setLong(2, seq);
          ins.setBytes(3, hash);
          ins.setString(4, partition);
          ins.setObject(5, signedAt.atOffset(ZoneOffset.UTC));
          ins.setString(6, signer.sign(Anchors.claims(chain, seq, hash, partition, signedAt)));
          ins.executeUpdate();
          anchors.add(new JsonObject().put("chainId", chain).put("chainSeq", seq));
        }
      }
      st.execute("ALTER TABLE access_log DETACH PARTITION " + partition);
      st.execute("DROP TABLE " + partition);
      try (PreparedStatement ps = c.prepareStatement(
        "INSERT INTO maintenance_log (action, details) VALUES ('" + Anchors.DROP_ACTION + "', ?::jsonb)")) {
        ps.setString(1, new JsonObject().put("partition", partition).put("from", start.toString())
          .put("to", end.toLocalDate().toString()).put("rows", rows).put("retentionMonths", months)
          .put("anchors", anchors).encode());
        ps.executeUpdate();
      }
      c.commit();
    } catch (SQLException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(true);
    }
  }
}
