package io.openbureau.db;

import io.openbureau.config.BureauConfig;
import io.openbureau.http.OutageLog;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.ClientBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlClient;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Postgres set-up: creating the database, migrations (blocking, so on a worker thread) and clients.
 * Two roles: the owner ({@code postgres.migrationUser}) creates the database and runs the migrations,
 * so it owns every table; the server's pools log in as {@code postgres.user}, which holds only the
 * grants the migrations give {@link #APP_ROLE} (directly, or as a member of it).
 */
public final class Database {
  private static final Logger LOG = LoggerFactory.getLogger(Database.class);
  /** The role the migrations grant the server's privileges to (V2, R__app_privileges.sql). */
  public static final String APP_ROLE = "openbureau_app";
  static final String ROLES_HINT = "create the roles with scripts/services.sh (development) or the SQL in"
    + " scripts/sql/roles.sql (production)";
  private static final java.util.concurrent.atomic.AtomicInteger POOLS = new java.util.concurrent.atomic.AtomicInteger();

  private Database() {
  }

  public static PgConnectOptions connectOptions(BureauConfig.Postgres pg) {
    return new PgConnectOptions()
      .setHost(pg.host()).setPort(pg.port()).setDatabase(pg.database())
      .setUser(pg.user()).setPassword(pg.password())
      .setCachePreparedStatements(true)
      .setPipeliningLimit(256);
  }

  /**
   * What a pool's sessions are for: it decides their session settings (sent in the startup message,
   * so no extra round trip) from {@link BureauConfig.Sessions}.
   */
  public enum Use {
    /** The API's own pool: short statements, furnishing's transactions wait briefly for locks. */
    API,
    /** Access-log list, export, verify and proofs: long statements, an export's cursor may idle while a client reads. */
    COMPLIANCE,
    /** Start-up work, maintenance and the CLI: no statement limit (a legacy seal or an import may take long). */
    MAINTENANCE
  }

  /** A maintenance pool (start-up, CLI, tests): no statement limit, sessions still bounded when idle in a transaction. */
  public static Pool pool(Vertx vertx, BureauConfig.Postgres pg, int size) {
    return pool(vertx, pg, size, Use.MAINTENANCE, java.util.Map.of());
  }

  /**
   * A pool whose sessions start with the given settings (sent in the startup message), e.g. the
   * compliance reads' {@code plan_cache_mode = force_generic_plan}, on top of those of a maintenance pool.
   */
  public static Pool pool(Vertx vertx, BureauConfig.Postgres pg, int size, java.util.Map<String, String> settings) {
    return pool(vertx, pg, size, Use.MAINTENANCE, settings);
  }

  /**
   * A pool for one {@link Use}. Waiting for a connection is bounded ({@code acquireTimeoutMillis}), so
   * during an outage a request answers 503 within seconds instead of queueing; a new connection
   * tells the {@link OutageLog} that Postgres is back.
   */
  public static Pool pool(Vertx vertx, BureauConfig.Postgres pg, int size, Use use, java.util.Map<String, String> extra) {
    PgConnectOptions options = connectOptions(pg);
    sessionSettings(pg.sessions(), use).forEach(options::addProperty);
    extra.forEach(options::addProperty);
    return ClientBuilder.pool(new BoundedPgDriver(pg.sessions().acquireTimeoutMillis()))
      .with(poolOptions(pg.sessions(), size).setName("ob-pg-" + POOLS.incrementAndGet()))
      .withConnectHandler(connection -> {
        OutageLog.POSTGRES.recovered();
        connection.close();
      })
      .connectingTo(options).using(vertx).build();
  }

  /** A pipelining client for single statements on the hot path (requests share connections). */
  public static SqlClient pipelined(Vertx vertx, BureauConfig.Postgres pg, int size) {
    PgConnectOptions options = connectOptions(pg);
    sessionSettings(pg.sessions(), Use.API).forEach(options::addProperty);
    return PgBuilder.client().with(poolOptions(pg.sessions(), size))
      .connectingTo(options).using(vertx).build();
  }

  static PoolOptions poolOptions(BureauConfig.Sessions sessions, int size) {
    PoolOptions options = new PoolOptions().setMaxSize(size)
      .setConnectionTimeout((int) sessions.acquireTimeoutMillis()).setConnectionTimeoutUnit(TimeUnit.MILLISECONDS);
    if (sessions.idleSessionTimeoutMillis() > 0) {
      // the pool retires an idle connection before the server's idle_session_timeout ends it, so
      // a request never picks a connection the server is about to close (the cleaner runs each second)
      long retire = Math.max(500, sessions.idleSessionTimeoutMillis() - 2000);
      options.setIdleTimeout((int) retire).setIdleTimeoutUnit(TimeUnit.MILLISECONDS).setPoolCleanerPeriod(500);
    }
    return options;
  }

  /** The startup-message settings of a pool's sessions; a zero limit is not sent (the server's default holds). */
  public static Map<String, String> sessionSettings(BureauConfig.Sessions s, Use use) {
    Map<String, String> settings = new LinkedHashMap<>();
    switch (use) {
      case API -> {
        put(settings, "statement_timeout", s.statementTimeoutMillis());
        put(settings, "lock_timeout", s.lockTimeoutMillis());
        put(settings, "idle_in_transaction_session_timeout", s.idleInTransactionTimeoutMillis());
      }
      case COMPLIANCE -> {
        put(settings, "statement_timeout", s.complianceStatementTimeoutMillis());
        put(settings, "lock_timeout", s.lockTimeoutMillis());
        put(settings, "idle_in_transaction_session_timeout", s.complianceIdleInTransactionTimeoutMillis());
      }
      case MAINTENANCE -> put(settings, "idle_in_transaction_session_timeout",
        Math.max(s.idleInTransactionTimeoutMillis(), s.complianceIdleInTransactionTimeoutMillis()));
    }
    put(settings, "idle_session_timeout", s.idleSessionTimeoutMillis());
    return settings;
  }

  private static void put(Map<String, String> settings, String name, long millis) {
    if (millis > 0) {
      settings.put(name, Long.toString(millis));
    }
  }

  /** Creates the database when missing, then runs Flyway. Runs on a worker thread. */
  public static Future<Void> prepare(Vertx vertx, BureauConfig.Postgres pg) {
    return vertx.executeBlocking(() -> {
      if (pg.createDatabase()) {
        createIfMissing(pg);
      }
      migrate(pg);
      return null;
    });
  }

  /**
   * The JDBC address (migrations, the CLI, tests). Opening a connection is bounded (10 s), a
   * generous bound for start-up work: against a frozen server the driver would otherwise wait for
   * ever for the handshake.
   */
  public static String jdbcUrl(BureauConfig.Postgres pg, String database) {
    return jdbcUrl(pg, database, 10);
  }

  private static String jdbcUrl(BureauConfig.Postgres pg, String database, long loginSeconds) {
    return "jdbc:postgresql://" + pg.host() + ":" + pg.port() + "/" + database
      + "?connectTimeout=" + loginSeconds + "&loginTimeout=" + loginSeconds;
  }

  /**
   * The JDBC address for the compliance reads (verify's fast pass): the compliance pool's session
   * settings, opening bounded like a pool's, and a socket timeout a little past its statement timeout, so a scan over a connection
   * that froze mid-way fails instead of holding its worker thread for ever.
   */
  public static String complianceJdbcUrl(BureauConfig.Postgres pg) {
    StringBuilder options = new StringBuilder();
    sessionSettings(pg.sessions(), Use.COMPLIANCE).forEach((k, v) -> options.append(options.isEmpty() ? "" : " ")
      .append("-c ").append(k).append('=').append(v));
    // opening is bounded like the pools' wait for a connection (whole seconds, one more for the handshake)
    long login = (pg.sessions().acquireTimeoutMillis() + 999) / 1000 + 1;
    String url = jdbcUrl(pg, pg.database(), login) + "&options="
      + java.net.URLEncoder.encode(options.toString(), java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    long statement = pg.sessions().complianceStatementTimeoutMillis();
    return statement > 0 ? url + "&socketTimeout=" + (statement / 1000 + 10) : url;
  }

  /** Connects with the owner's credentials, naming the key to fix when the role cannot log in. */
  static Connection ownerConnection(BureauConfig.Postgres pg, String database) throws SQLException {
    try {
      return DriverManager.getConnection(jdbcUrl(pg, database), pg.migrationUser(), pg.migrationPassword());
    } catch (SQLException e) {
      if (e.getSQLState() != null && e.getSQLState().startsWith("28")) { // role missing, bad password, no login
        throw new SQLException("postgres.migrationUser '" + pg.migrationUser() + "' cannot log in to " + database
          + " (" + e.getMessage() + "); " + ROLES_HINT, e.getSQLState(), e);
      }
      throw e;
    }
  }

  static void createIfMissing(BureauConfig.Postgres pg) throws SQLException {
    try (Connection c = ownerConnection(pg, "postgres");
         PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
      ps.setString(1, pg.database());
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          return;
        }
      }
      if (!pg.database().matches("[a-zA-Z0-9_]+")) {
        throw new SQLException("database name must be letters, digits and _: " + pg.database());
      }
      try (Statement st = c.createStatement()) {
        st.execute("CREATE DATABASE " + pg.database()); // owned by the migration user, who creates it
        LOG.info("created database {} owned by {}", pg.database(), pg.migrationUser());
      } catch (SQLException e) {
        if ("42501".equals(e.getSQLState())) {
          throw new SQLException("postgres.migrationUser '" + pg.migrationUser() + "' may not create database "
            + pg.database() + " (give it CREATEDB, or create the database owned by it and set"
            + " postgres.createDatabase: false)", e.getSQLState(), e);
        }
        if (!"42P04".equals(e.getSQLState())) { // created meanwhile by another process
          throw e;
        }
      }
    }
  }

  /**
   * The grants go to {@link #APP_ROLE}, so it must exist before the migrations run (the owner is not
   * allowed to create roles); and the server's login must exist, or start-up would fail later and less clearly.
   */
  static void checkRoles(BureauConfig.Postgres pg) throws SQLException {
    try (Connection c = ownerConnection(pg, pg.database());
         PreparedStatement ps = c.prepareStatement("SELECT rolname FROM pg_roles WHERE rolname IN (?, ?)")) {
      ps.setString(1, APP_ROLE);
      ps.setString(2, pg.user());
      java.util.Set<String> found = new java.util.HashSet<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          found.add(rs.getString(1));
        }
      }
      if (!found.contains(APP_ROLE)) {
        throw new SQLException("role " + APP_ROLE + " (the server's privileges) does not exist; " + ROLES_HINT);
      }
      if (!found.contains(pg.user())) {
        throw new SQLException("postgres.user '" + pg.user() + "' does not exist; " + ROLES_HINT);
      }
    }
  }

  static void migrate(BureauConfig.Postgres pg) throws SQLException {
    checkRoles(pg);
    Flyway flyway = Flyway.configure()
      .dataSource(jdbcUrl(pg, pg.database()), pg.migrationUser(), pg.migrationPassword())
      .locations("classpath:db/migration")
      .load();
    var result = flyway.migrate();
    LOG.info("database {} at schema version {} ({} migrations applied)", pg.database(),
      result.targetSchemaVersion == null ? flyway.info().current().getVersion() : result.targetSchemaVersion,
      result.migrationsExecuted);
  }

  /**
   * Drops a database (tests clean up after themselves), connecting with {@code pg.user()}: pass a
   * record holding credentials allowed to (the owner's, or a superuser's to end other roles' sessions).
   * Blocking: call from a worker or test thread.
   */
  public static void drop(BureauConfig.Postgres pg) throws SQLException {
    try (Connection c = DriverManager.getConnection(jdbcUrl(pg, "postgres"), pg.user(), pg.password());
         Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS " + pg.database() + " WITH (FORCE)");
    }
  }
}
