package io.openbureau.config;

import io.openbureau.support.TestBureau;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Configuration: YAML, then the BUREAU_CONFIG overlay, then environment variables")
class ConfigurationTest {
  private static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    vertx.close();
  }

  private static BureauConfig load(Map<String, String> env) {
    return TestBureau.await(ConfigLoader.load(vertx, ConfigLoader.DEFAULT_FILE, env).toCompletionStage().toCompletableFuture());
  }

  private static String failure(Map<String, String> env) {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> load(env));
    assertTrue(e.getCause() instanceof ConfigException, String.valueOf(e.getCause()));
    return e.getCause().getMessage();
  }

  @Test
  @DisplayName("the shipped file gives localhost defaults and port 8080")
  void defaults() {
    BureauConfig c = load(Map.of());
    assertEquals(8080, c.http().port());
    assertEquals("127.0.0.1", c.postgres().host());
    assertEquals("openbureau", c.auth().audience());
    assertEquals("development", c.env());
  }

  @Test
  @DisplayName("PORT and BUREAU_* variables override keys, typed like the key they replace")
  void environment() {
    BureauConfig c = load(Map.of("PORT", "9191", "BUREAU_POSTGRES_POOL_SIZE", "3", "BUREAU_REDIS_KEY_PREFIX", "x:",
      "BUREAU_REDIS_ENDPOINTS", "redis://10.0.0.1:7000,redis://10.0.0.2:7000", "BUREAU_POSTGRES_CREATE_DATABASE", "false"));
    assertEquals(9191, c.http().port());
    assertEquals(3, c.postgres().poolSize());
    assertEquals("x:", c.redis().keyPrefix());
    assertEquals(2, c.redis().endpoints().size());
    assertEquals(false, c.postgres().createDatabase());
  }

  @Test
  @DisplayName("BUREAU_CONFIG merges an overlay file over the base file")
  void overlay() throws Exception {
    Path overlay = Files.createTempFile("overlay", ".yaml");
    Files.writeString(overlay, "postgres:\n  database: from_overlay\nhttp:\n  port: 7070\n");
    BureauConfig c = load(Map.of("BUREAU_CONFIG", overlay.toString()));
    assertEquals("from_overlay", c.postgres().database());
    assertEquals(7070, c.http().port());
    assertEquals("127.0.0.1", c.postgres().host(), "keys the overlay does not set keep their base value");
    Files.delete(overlay);
  }

  @Test
  @DisplayName("a bad value is refused at start-up with a message naming the key")
  void invalid() {
    assertTrue(failure(Map.of("PORT", "eighty")).contains("PORT"));
    assertTrue(failure(Map.of("BUREAU_HTTP_PORT", "70000")).contains("http.port"));
    assertTrue(failure(Map.of("BUREAU_REDIS_MODE", "sentinel")).contains("redis.mode"));
    assertTrue(failure(Map.of("BUREAU_AUTH_CLOCK_SKEW_SECONDS", "300")).contains("auth.clockSkewSeconds"));
  }

  @Test
  @DisplayName("the development issuer, signing key and HMAC secret are refused with env: production")
  void productionRefusesDevKeys() {
    String message = failure(Map.of("BUREAU_ENV", "production"));
    assertTrue(message.contains("development issuer"), message);
    assertTrue(message.contains("hmacSecret"), message);
    assertTrue(message.contains("signing"), message);
  }

  @Test
  @DisplayName("an issuer without a usable key never starts: no 'unsecure' provider")
  void issuerWithoutKeys() throws Exception {
    Path jwks = Files.createTempFile("empty", ".json");
    Files.writeString(jwks, "{\"keys\": [{\"kty\": \"oct\", \"k\": \"c2VjcmV0\", \"alg\": \"HS256\"}]}");
    JsonObject raw = TestBureau.testConfig("nokeys");
    raw.getJsonObject("auth").getJsonArray("issuers").add(new JsonObject().put("issuer", "https://empty.example")
      .put("jwks", jwks.toString()));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> TestBureau.startWith(BureauConfig.from(raw)));
    assertTrue(e.getCause().getMessage().contains("no usable RS256 or ES256"), e.getCause().getMessage());
  }

  @Test
  @DisplayName("the server logs in as openbureau_app and migrates as openbureau_owner unless postgres.user and postgres.migrationUser say otherwise")
  void postgresRoles() {
    BureauConfig c = load(Map.of());
    assertEquals("openbureau_app", c.postgres().user());
    assertEquals("openbureau_owner", c.postgres().migrationUser());
    assertEquals("openbureau_owner", c.postgres().asOwner().user());
    BureauConfig o = load(Map.of("BUREAU_POSTGRES_USER", "bureau_api", "BUREAU_POSTGRES_PASSWORD", "s3cret",
      "BUREAU_POSTGRES_MIGRATION_USER", "bureau_owner", "BUREAU_POSTGRES_MIGRATION_PASSWORD", "0wner"));
    assertEquals("bureau_api", o.postgres().user());
    assertEquals("s3cret", o.postgres().password());
    assertEquals("bureau_owner", o.postgres().migrationUser());
    assertEquals("0wner", o.postgres().migrationPassword());
    assertEquals("bureau_owner", o.postgres().asOwner().user());
    assertEquals("0wner", o.postgres().asOwner().password());
    assertTrue(failure(Map.of("BUREAU_POSTGRES_MIGRATION_USER", " ")).contains("postgres.migrationUser is required"));
  }

  @Test
  @DisplayName("an unknown key under postgres (a misspelt migrationUser) is refused, naming it")
  void unknownPostgresKey() throws Exception {
    Path overlay = Files.createTempFile("overlay", ".yaml");
    Files.writeString(overlay, "postgres:\n  migrationUsr: openbureau_owner\n");
    try {
      String message = failure(Map.of("BUREAU_CONFIG", overlay.toString()));
      assertTrue(message.contains("postgres.migrationUsr is not a known key"), message);
    } finally {
      Files.delete(overlay);
    }
  }
}
