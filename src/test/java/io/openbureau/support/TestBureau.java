package io.openbureau.support;

import io.openbureau.Bureau;
import io.openbureau.config.BureauConfig;
import io.openbureau.db.Database;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real bureau for a test class: its own Postgres database and Redis key prefix (so runs and
 * classes never collide), a random port, the development issuer plus an RS256 test issuer.
 * The server under test logs in as in production, as the restricted {@code postgres.user}
 * (openbureau_app) with migrations run as the owner; the test's own helpers ({@link #sql},
 * {@link #count}, {@link #sqlString}, {@link #superuserConnection}) act as the cluster's superuser,
 * the attacker the access log must withstand.
 */
public final class TestBureau implements AutoCloseable {
  public static final String RUN_ID = runId();
  /** The cluster's superuser (trust authentication on the development machine). */
  public static final String SUPERUSER = System.getProperty("test.pg.superuser", "postgres");
  public static final String SUPERUSER_PASSWORD = System.getProperty("test.pg.superuserPassword", "");
  private static final AtomicInteger COUNTER = new AtomicInteger();

  private final BureauConfig config;
  private final Bureau bureau;
  public final Api api;

  private TestBureau(BureauConfig config, Bureau bureau) {
    this.config = config;
    this.bureau = bureau;
    this.api = new Api("http://127.0.0.1:" + config.http().port());
  }

  public static TestBureau start(String name) {
    return start(name, new JsonObject());
  }

  /** {@code overrides} is merged over the test configuration (deep merge). */
  public static TestBureau start(String name, JsonObject overrides) {
    BureauConfig config = BureauConfig.from(testConfig(name).mergeIn(overrides, true));
    return startWith(config);
  }

  public static TestBureau startWith(BureauConfig config) {
    Bureau bureau = await(Bureau.start(config).toCompletionStage().toCompletableFuture());
    return new TestBureau(config, bureau);
  }

  /** A second instance over the same database and Redis (another "process" of the same bureau). */
  public TestBureau sibling() {
    JsonObject raw = config.raw().copy();
    raw.getJsonObject("http").put("port", freePort());
    return startWith(BureauConfig.from(raw));
  }

  public static JsonObject testConfig(String name) {
    JsonObject base = baseConfig();
    String db = ("ob_t_" + RUN_ID + "_" + name + "_" + COUNTER.incrementAndGet()).toLowerCase().replaceAll("[^a-z0-9_]", "_");
    base.put("env", "test");
    base.getJsonObject("http").put("port", freePort()).put("instances", 2).put("shutdownGraceSeconds", 1);
    base.getJsonObject("postgres").put("database", db).put("poolSize", 4).put("createDatabase", true);
    base.getJsonObject("redis").put("keyPrefix", "obt:" + RUN_ID + ":" + db + ":");
    JsonArray issuers = base.getJsonObject("auth").getJsonArray("issuers");
    issuers.add(new JsonObject().put("issuer", Tokens.TEST_ISSUER).put("publicKeyPem", Tokens.testIssuerPublicKeyFile())
      .put("roles", new JsonArray().add("lender").add("borrower").add("compliance").add("admin")));
    issuers.add(new JsonObject().put("issuer", Tokens.LIMITED_ISSUER).put("publicKeyPem", Tokens.testIssuerPublicKeyFile())
      .put("roles", new JsonArray().add("borrower")));
    return base;
  }

  @SuppressWarnings("unchecked")
  public static JsonObject baseConfig() {
    try {
      Map<String, Object> map = new Yaml().load(Files.readString(Path.of("config/application.yaml")));
      return new JsonObject(map);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public BureauConfig config() {
    return config;
  }

  public Bureau bureau() {
    return bureau;
  }

  /** The server's Postgres settings with the superuser's credentials (for {@link Database#drop} and the like). */
  public BureauConfig.Postgres superuser() {
    BureauConfig.Postgres pg = config.postgres();
    return new BureauConfig.Postgres(pg.host(), pg.port(), pg.database(), SUPERUSER, SUPERUSER_PASSWORD,
      pg.migrationUser(), pg.migrationPassword(), pg.poolSize(), pg.createDatabase());
  }

  /** A JDBC connection to this bureau's database as the superuser; the caller closes it. */
  public Connection superuserConnection() throws SQLException {
    return DriverManager.getConnection(Database.jdbcUrl(config.postgres(), config.postgres().database()),
      SUPERUSER, SUPERUSER_PASSWORD);
  }

  /** A JDBC connection as the server's own role ({@code postgres.user}); the caller closes it. */
  public Connection appConnection() throws SQLException {
    return DriverManager.getConnection(Database.jdbcUrl(config.postgres(), config.postgres().database()),
      config.postgres().user(), config.postgres().password());
  }

  /** Runs SQL as the test's superuser (tampering, seeding); blocking, on the test thread. */
  public void sql(String statement) {
    try (Connection c = superuserConnection(); Statement st = c.createStatement()) {
      st.execute(statement);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The first column of the first row of a query as a number, run as the superuser. */
  public long count(String query) {
    try (Connection c = superuserConnection(); Statement st = c.createStatement(); var rs = st.executeQuery(query)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The first column of the first row of a query, as text (null when no row), run as the superuser. */
  public String sqlString(String query) {
    try (Connection c = superuserConnection(); Statement st = c.createStatement(); var rs = st.executeQuery(query)) {
      return rs.next() ? rs.getString(1) : null;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Deletes every Redis key of this bureau: what a FLUSHALL does to it, without touching other runs. */
  public void flushRedis() {
    Redis redis = Redis.createClient(bureau.vertx(), config.redis().endpoints().get(0));
    try {
      String cursor = "0";
      do {
        var r = await(redis.send(Request.cmd(Command.SCAN).arg(cursor).arg("MATCH").arg(config.redis().keyPrefix() + "*")
          .arg("COUNT").arg(1000)).toCompletionStage().toCompletableFuture());
        cursor = r.get(0).toString();
        for (var key : r.get(1)) {
          await(redis.send(Request.cmd(Command.DEL).arg(key.toString())).toCompletionStage().toCompletableFuture());
        }
      } while (!cursor.equals("0"));
    } finally {
      redis.close();
    }
  }

  /** Stops this instance only (the database stays for a sibling). */
  public void stop() {
    await(bureau.close().toCompletionStage().toCompletableFuture());
  }

  @Override
  public void close() {
    flushRedis();
    stop();
    dropDatabase();
  }

  /** Drops this bureau's database as the superuser (ending any session still open on it). */
  public void dropDatabase() {
    dropDatabase(config);
  }

  /** Drops a test configuration's database as the superuser (e.g. one whose bureau never started). */
  public static void dropDatabase(BureauConfig config) {
    BureauConfig.Postgres pg = config.postgres();
    try {
      Database.drop(new BureauConfig.Postgres(pg.host(), pg.port(), pg.database(), SUPERUSER, SUPERUSER_PASSWORD,
        pg.migrationUser(), pg.migrationPassword(), pg.poolSize(), pg.createDatabase()));
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static <T> T await(java.util.concurrent.CompletableFuture<T> f) {
    try {
      return f.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e.getCause() != null ? e.getCause() : e);
    }
  }

  private static String runId() {
    String id = System.getProperty("test.run.id");
    return id == null || id.isBlank() ? Long.toString(ProcessHandle.current().pid()) : id;
  }
}
