package io.openbureau.config;

import io.openbureau.compliance.ComplianceSettings;
import io.openbureau.inquiry.InquirySettings;
import io.openbureau.support.TestBureau;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Configuration is strict: every key typed and validated at load, unknown keys and variables refused with a suggestion")
class StrictConfigurationTest {
  @TempDir
  Path dir;

  private static BureauConfig load(Map<String, String> env) {
    return ConfigLoader.load(ConfigLoader.DEFAULT_FILE, env);
  }

  private static String failure(Map<String, String> env) {
    return assertThrows(ConfigException.class, () -> load(env)).getMessage();
  }

  private Map<String, String> overlay(String yaml) throws Exception {
    Path file = dir.resolve("overlay.yaml");
    Files.writeString(file, yaml);
    Map<String, String> env = new HashMap<>();
    env.put("BUREAU_CONFIG", file.toString());
    return env;
  }

  @Test
  @DisplayName("a misspelt top-level section and a misspelt nested key are refused, each with the nearest known key")
  void unknownKeys() throws Exception {
    String message = failure(overlay("postgress:\n  host: db\nhttp:\n  prot: 9090\n"));
    assertTrue(message.contains("postgress is not a known key; did you mean `postgres`?"), message);
    assertTrue(message.contains("http.prot is not a known key; did you mean `http.port`?"), message);
  }

  @Test
  @DisplayName("an unknown key in a feature section (inquiry.rateLimit.perSecnd) is refused like a core one")
  void unknownFeatureKey() throws Exception {
    String message = failure(overlay("inquiry:\n  rateLimit:\n    perSecnd: 5\n"));
    assertTrue(message.contains("inquiry.rateLimit.perSecnd is not a known key; did you mean `inquiry.rateLimit.perSecond`?"),
      message);
  }

  @Test
  @DisplayName("a BUREAU_ variable that names no key (BUREAU_POSTGRES_DATABSE) is refused with the variable meant")
  void environmentTypo() {
    String message = failure(Map.of("BUREAU_POSTGRES_DATABSE", "other"));
    assertTrue(message.contains("BUREAU_POSTGRES_DATABSE names no configuration key; did you mean BUREAU_POSTGRES_DATABASE"
      + " (postgres.database)?"), message);
  }

  @Test
  @DisplayName("BUREAU_CONFIG and BUREAU_HOME are the loader's own variables, not keys")
  void loaderVariables() {
    BureauConfig c = load(Map.of("BUREAU_HOME", Path.of("").toAbsolutePath().toString()));
    assertEquals(8080, c.http().port());
  }

  @Test
  @DisplayName("a key the YAML does not hold is settable from the environment, parsed as its own type")
  void environmentOnlyKeyWithItsType() {
    BureauConfig c = load(Map.of("BUREAU_COMPLIANCE_VERIFY_PARALLELISM", "3",
      "BUREAU_INQUIRY_RATE_LIMIT_PER_SECOND", "0.01"));
    assertEquals(3, ComplianceSettings.from(c).verifyParallelism(), "compliance.verifyParallelism is commented out in the YAML");
    assertEquals(0.01, InquirySettings.from(c).ratePerSecond(), 1e-12, "a number, not coerced to the YAML's whole 500");
    String message = failure(Map.of("BUREAU_COMPLIANCE_VERIFY_PARALLELISM", "many"));
    assertTrue(message.contains("BUREAU_COMPLIANCE_VERIFY_PARALLELISM (compliance.verifyParallelism) must be a whole number,"
      + " got 'many'"), message);
  }

  @Test
  @DisplayName("range errors of the core and of feature sections (audit, compliance, inquiry) come in one message with their keys")
  void allRangeErrorsAtOnce() {
    String message = failure(Map.of("BUREAU_HTTP_PORT", "70000", "BUREAU_AUDIT_MAX_BATCH_ROWS", "0",
      "BUREAU_COMPLIANCE_VERIFY_PARALLELISM", "0", "BUREAU_INQUIRY_RATE_LIMIT_BURST", "0", "BUREAU_POSTGRES_POOL_SIZE", "0"));
    for (String key : new String[] {"http.port", "audit.maxBatchRows", "compliance.verifyParallelism",
      "inquiry.rateLimit.burst", "postgres.poolSize"}) {
      assertTrue(message.contains(key + " must be between"), key + " missing from: " + message);
    }
  }

  @Test
  @DisplayName("a Redis endpoint without redis:// is refused at load, naming redis.endpoints and the value")
  void redisEndpointWithoutScheme() {
    String message = failure(Map.of("BUREAU_REDIS_ENDPOINTS", "127.0.0.1:6379"));
    assertTrue(message.contains("redis.endpoints[0] must be a redis:// or rediss:// URL"), message);
    assertTrue(message.contains("'127.0.0.1:6379'"), message);
  }

  @Test
  @DisplayName("an overlay that is a list, not a mapping, is refused naming the file")
  void overlayThatIsAList() throws Exception {
    Map<String, String> env = overlay("- postgres\n- redis\n");
    String message = failure(env);
    assertTrue(message.contains(env.get("BUREAU_CONFIG")), message);
    assertTrue(message.contains("must be a YAML mapping"), message);
  }

  @Test
  @DisplayName("a missing overlay or key file names the file and the reason")
  void missingFiles() throws Exception {
    String missing = dir.resolve("nope.yaml").toString();
    String message = failure(Map.of("BUREAU_CONFIG", missing));
    assertTrue(message.contains("cannot read BUREAU_CONFIG file " + missing + ": no such file"), message);
    message = failure(Map.of("BUREAU_SIGNING_PRIVATE_KEY_PEM", dir.resolve("gone.pem").toString()));
    assertTrue(message.contains("signing.privateKeyPem: cannot read " + dir.resolve("gone.pem") + ": no such file"), message);
  }

  @Test
  @DisplayName("relative file names in the configuration are resolved from BUREAU_HOME, not the working directory")
  void relativePathsFromHome() throws Exception {
    Path home = dir.resolve("home");
    Files.createDirectories(home.resolve("config"));
    Files.writeString(home.resolve(ConfigLoader.DEFAULT_FILE), Files.readString(Path.of(ConfigLoader.DEFAULT_FILE))
      .replace("port: 8080", "port: 8181"));
    String message = failure(Map.of("BUREAU_HOME", home.toString()));
    assertTrue(message.contains("signing.privateKeyPem: cannot read " + home.resolve("config/dev/bureau-signing.key.pem")
      + ": no such file"), message);
  }

  @Test
  @DisplayName("the test configuration the other tests use holds only known keys")
  void testConfigurationIsValid() {
    BureauConfig.from(TestBureau.testConfig("strict"));
  }
}
