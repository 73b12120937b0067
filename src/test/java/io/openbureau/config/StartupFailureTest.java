package io.openbureau.config;

import io.openbureau.support.TestBureau;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Start-up failures name the dependency, the key and the value, before anything is changed")
class StartupFailureTest {

  private static String startFailure(BureauConfig config) {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> TestBureau.startWith(config).close());
    Throwable cause = e.getCause() == null ? e : e.getCause();
    return String.valueOf(cause.getMessage());
  }

  private static boolean databaseExists(BureauConfig config) throws Exception {
    BureauConfig.Postgres pg = config.postgres();
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + pg.host() + ":" + pg.port() + "/postgres",
      TestBureau.SUPERUSER, TestBureau.SUPERUSER_PASSWORD);
         PreparedStatement st = c.prepareStatement("SELECT count(*) FROM pg_database WHERE datname = ?")) {
      st.setString(1, pg.database());
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1) > 0;
      }
    }
  }

  @Test
  @DisplayName("an HTTP port in use fails start-up naming http.port and the port, before migrations: no database is created")
  void portInUseBeforeMigrations() throws Exception {
    BureauConfig config = BureauConfig.from(TestBureau.testConfig("portinuse"));
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(config.http().host(), config.http().port()));
      String message = startFailure(config);
      assertTrue(message.contains("http.port"), message);
      assertTrue(message.contains(":" + config.http().port()), message);
      assertTrue(message.contains("in use"), message);
      assertFalse(databaseExists(config), "the fresh database " + config.postgres().database() + " was created anyway");
    } finally {
      if (databaseExists(config)) {
        TestBureau.dropDatabase(config);
      }
    }
  }

  @Test
  @DisplayName("an unknown Postgres host and a refused Postgres port are named with postgres.host/port and the reason")
  void postgresUnreachable() {
    JsonObject raw = TestBureau.testConfig("pghost");
    raw.getJsonObject("postgres").put("host", "no-such-host.invalid");
    String message = startFailure(BureauConfig.from(raw));
    assertTrue(message.contains("Postgres at no-such-host.invalid:5432 (postgres.host, postgres.port): unknown host"), message);

    JsonObject refused = TestBureau.testConfig("pgport");
    int port = TestBureau.freePort();
    refused.getJsonObject("postgres").put("port", port);
    message = startFailure(BureauConfig.from(refused));
    assertTrue(message.contains("Postgres at 127.0.0.1:" + port + " (postgres.host, postgres.port): connection refused"), message);
  }

  @Test
  @DisplayName("a Redis nobody listens on is named with redis.endpoints and the reason when start-up needs it (the demo seed)")
  void redisUnreachable() throws Exception {
    JsonObject raw = TestBureau.testConfig("redisdown");
    String endpoint = "redis://127.0.0.1:" + TestBureau.freePort();
    raw.getJsonObject("redis").put("endpoints", new io.vertx.core.json.JsonArray().add(endpoint));
    raw.put("demo", new JsonObject().put("seed", true));
    BureauConfig config = BureauConfig.from(raw);
    try {
      String message = startFailure(config);
      assertTrue(message.contains("Redis at " + endpoint + " (redis.endpoints): connection refused"), message);
    } finally {
      if (databaseExists(config)) {
        TestBureau.dropDatabase(config);
      }
    }
  }
}
