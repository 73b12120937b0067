package io.openbureau.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The whole configuration as one typed, validated value. Features that own their settings read
 * them from {@link #section(String)} and validate them the same way.
 */
public record BureauConfig(
  String env,
  Http http,
  Postgres postgres,
  Redis redis,
  Identity identity,
  Auth auth,
  Signing signing,
  boolean jsonLogging,
  boolean demoSeed,
  JsonObject raw) {

  public static final Set<String> ENVS = Set.of("development", "test", "production");

  public record Http(int port, String host, int instances, long bodyLimitBytes, int shutdownGraceSeconds) {
  }

  /**
   * Two sets of credentials: {@code user} is the server's own login (every pool, the audit writer,
   * the import CLI), a role that may only append to and read the access log; {@code migrationUser}
   * owns the schema and runs the migrations, creates the database and runs {@code maintenance retention}.
   */
  public record Postgres(String host, int port, String database, String user, String password,
                         String migrationUser, String migrationPassword, int poolSize, boolean createDatabase,
                         Sessions sessions, int furnishingPoolSize) {
    /** Furnishing's own pool per HTTP verticle instance, unless {@code postgres.furnishingPoolSize} says otherwise. */
    public static final int DEFAULT_FURNISHING_POOL_SIZE = 4;

    public Postgres(String host, int port, String database, String user, String password,
                    String migrationUser, String migrationPassword, int poolSize, boolean createDatabase) {
      this(host, port, database, user, password, migrationUser, migrationPassword, poolSize, createDatabase,
        Sessions.DEFAULTS);
    }

    public Postgres(String host, int port, String database, String user, String password,
                    String migrationUser, String migrationPassword, int poolSize, boolean createDatabase,
                    Sessions sessions) {
      this(host, port, database, user, password, migrationUser, migrationPassword, poolSize, createDatabase,
        sessions, DEFAULT_FURNISHING_POOL_SIZE);
    }

    /** The same database reached with the owner's credentials (migrations, retention). */
    public Postgres asOwner() {
      return new Postgres(host, port, database, migrationUser, migrationPassword, migrationUser, migrationPassword,
        poolSize, createDatabase, sessions, furnishingPoolSize);
    }
  }

  /**
   * How long a request may wait for Postgres, per pool (0 = no limit). The session settings go in
   * each connection's startup message: the API pool's statements are short, the compliance pool's
   * (list, export, verify) may run long; every pool's sessions end when idle in a transaction too
   * long (a half-open client cannot hold locks for ever) or idle too long (a connection whose
   * query was lost in a frozen network is ended by the server, and the pool gets its slot back).
   */
  public record Sessions(long acquireTimeoutMillis, long statementTimeoutMillis, long lockTimeoutMillis,
                         long idleInTransactionTimeoutMillis, long idleSessionTimeoutMillis,
                         long complianceStatementTimeoutMillis, long complianceIdleInTransactionTimeoutMillis) {
    public static final Sessions DEFAULTS = new Sessions(2000, 5000, 2000, 10_000, 10_000, 120_000, 120_000);
  }

  /**
   * The {@code redis} section. {@code commandTimeoutMillis}: every command (and the wait for the
   * connection it goes over) fails with 503 naming redis past it, and the connection is dropped as
   * stalled; {@code connectTimeoutMillis}: the TCP connect and the handshake. {@code negativeTtlSeconds}:
   * how long an entry saying "Postgres has nothing" (version 0) stays, also the lifetime of a
   * generation key and the floor of every cache TTL; {@code maxTtlSeconds}: the longest any cache
   * entry stays before it is refilled from Postgres (see cache.VersionedCache).
   */
  public record Redis(List<String> endpoints, String mode, String keyPrefix, int poolSize,
                      long commandTimeoutMillis, long connectTimeoutMillis, long negativeTtlSeconds, long maxTtlSeconds) {
    public Redis(List<String> endpoints, String mode, String keyPrefix, int poolSize) {
      this(endpoints, mode, keyPrefix, poolSize, 500, 1000, 600, 7 * 86_400);
    }

    public boolean cluster() {
      return "cluster".equals(mode);
    }
  }

  public record Identity(String hmacKeyId, String hmacSecret) {
  }

  public record Issuer(String issuer, String publicKeyPem, String jwks, List<String> roles, boolean development) {
  }

  public record Auth(String audience, int clockSkewSeconds, int tokenCacheSize, List<Issuer> issuers,
                     String devSigningKeyPem) {
  }

  public record Signing(String keyId, String privateKeyPem, String publicKeyPem, boolean development,
                        List<PreviousKey> previousPublicKeys) {
    public Signing(String keyId, String privateKeyPem, String publicKeyPem, boolean development) {
      this(keyId, privateKeyPem, publicKeyPem, development, List.of());
    }
  }

  /** A public key the bureau signed with before a rotation: its old checkpoints and anchors still verify. */
  public record PreviousKey(String keyId, String publicKeyPem) {
  }

  /** The scorecard file (config/scorecard.yaml unless {@code scoring.scorecardFile} says otherwise). */
  public String scorecardFile() {
    return section("scoring").getValue("scorecardFile") instanceof String f ? f : DEFAULT_SCORECARD;
  }

  public static final String DEFAULT_SCORECARD = "config/scorecard.yaml";

  public boolean production() {
    return "production".equals(env);
  }

  /** A feature's own section ({@code inquiry}, {@code consent}, ...), empty when absent. */
  public JsonObject section(String name) {
    return raw.getValue(name) instanceof JsonObject s ? s : new JsonObject();
  }

  /**
   * Builds and validates the core keys and every feature section ({@link ConfigSections}); refuses
   * keys no code reads ({@link ConfigSchema}). Every problem is collected and reported at once,
   * naming its key.
   */
  public static BureauConfig from(JsonObject json) {
    return from(json, List.of());
  }

  /** As {@link #from(JsonObject)}, reporting {@code earlier} problems (the environment's) with the rest. */
  public static BureauConfig from(JsonObject json, List<String> earlier) {
    List<String> problems = new ArrayList<>(earlier);
    problems.addAll(ConfigSchema.get().unknownKeys(json));
    BureauConfig config = read(json, problems, true);
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return config;
  }

  /**
   * Reads everything, adding problems to {@code problems}. Also run once over an empty tree with
   * {@code strict} false: what it reads then is the schema ({@link ConfigSchema}).
   */
  static BureauConfig read(JsonObject json, List<String> problems, boolean strict) {
    Reader r = new Reader(json);
    String env = r.string("env", "development");
    if (!ENVS.contains(env)) {
      r.problem("env must be one of " + ENVS + ", got '" + env + "'");
    }
    Http http = new Http(
      r.intIn("http.port", 8080, 0, 65535),
      r.string("http.host", "0.0.0.0"),
      r.intIn("http.instances", 0, 0, 256),
      r.longIn("http.bodyLimitBytes", 1_048_576, 1024, 1L << 30),
      r.intIn("http.shutdownGraceSeconds", 20, 0, 600));
    Postgres pg = new Postgres(
      r.required("postgres.host", "127.0.0.1"),
      r.intIn("postgres.port", 5432, 1, 65535),
      r.required("postgres.database", "openbureau"),
      r.required("postgres.user", "openbureau_app"),
      r.string("postgres.password", ""),
      r.required("postgres.migrationUser", "openbureau_owner"),
      r.string("postgres.migrationPassword", ""),
      r.intIn("postgres.poolSize", 8, 1, 512),
      r.bool("postgres.createDatabase", false),
      sessions(r),
      // furnishing's transactions (PUT tradeline, repayments, batches) wait on per-person locks while
      // holding a connection: they get a pool of their own, so they can never take the inquiry
      // path's connections (fills), whatever a large batch holds
      r.intIn("postgres.furnishingPoolSize", Postgres.DEFAULT_FURNISHING_POOL_SIZE, 1, 512));
    Redis redis = new Redis(
      r.stringList("redis.endpoints", List.of("redis://127.0.0.1:6379")),
      r.oneOf("redis.mode", "standalone", Set.of("standalone", "cluster")),
      r.string("redis.keyPrefix", "ob:"),
      r.intIn("redis.poolSize", 16, 1, 1024),
      r.longIn("redis.commandTimeoutMillis", 1000, 1, 600_000),
      r.longIn("redis.connectTimeoutMillis", 1000, 1, 600_000),
      r.longIn("redis.negativeTtlSeconds", 600, 1, 30L * 86_400),
      r.longIn("redis.maxTtlSeconds", 7L * 86_400, 1, 365L * 86_400));
    if (redis.endpoints().isEmpty()) {
      r.problem("redis.endpoints must list at least one redis:// endpoint");
    }
    for (int i = 0; i < redis.endpoints().size(); i++) {
      String problem = redisEndpointProblem(redis.endpoints().get(i));
      if (problem != null) {
        r.problem("redis.endpoints[" + i + "] " + problem + ", got '" + redis.endpoints().get(i) + "'");
      }
    }
    if (redis.maxTtlSeconds() < redis.negativeTtlSeconds()) {
      r.problem("redis.maxTtlSeconds must be at least redis.negativeTtlSeconds");
    }
    Identity identity = new Identity(r.required("identity.hmacKeyId", null), r.required("identity.hmacSecret", null));
    if (identity.hmacSecret() != null && identity.hmacSecret().length() < 32) {
      r.problem("identity.hmacSecret must be at least 32 characters");
    }
    if ("production".equals(env) && identity.hmacSecret() != null && identity.hmacSecret().startsWith("dev-only")) {
      r.problem("identity.hmacSecret is the development secret; set BUREAU_IDENTITY_HMAC_SECRET for production");
    }
    Auth auth = new Auth(
      r.required("auth.audience", "openbureau"),
      r.intIn("auth.clockSkewSeconds", 30, 0, 30),
      r.intIn("auth.tokenCacheSize", 10000, 0, 10_000_000),
      issuers(r, env),
      r.string("auth.devSigningKeyPem", null));
    Signing signing = new Signing(
      r.required("signing.keyId", null),
      r.required("signing.privateKeyPem", null),
      r.required("signing.publicKeyPem", null),
      r.bool("signing.development", false),
      previousKeys(r, json));
    if ("production".equals(env) && signing.development()) {
      r.problem("signing: the development signing key may not be used with env: production");
    }
    r.string("scoring.scorecardFile", DEFAULT_SCORECARD);
    BureauConfig config = new BureauConfig(env, http, pg, redis, identity, auth, signing,
      r.bool("logging.json", false), r.bool("demo.seed", false), json);
    problems.addAll(r.problems());
    for (var section : ConfigSections.all()) {
      try {
        section.apply(config);
      } catch (ConfigException e) {
        problems.addAll(e.problems());
      } catch (RuntimeException e) {
        if (strict) {
          problems.add("a configuration section could not be read: " + e);
        }
      }
    }
    return config;
  }

  /** Why a {@code redis.endpoints} entry is not usable, or null. */
  static String redisEndpointProblem(String endpoint) {
    String shape = "must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379 (or unix:///path/redis.sock)";
    try {
      java.net.URI u = new java.net.URI(endpoint);
      if ("unix".equals(u.getScheme()) && u.getPath() != null && !u.getPath().isBlank()) {
        return null; // unix:///run/redis.sock
      }
      if (!"redis".equals(u.getScheme()) && !"rediss".equals(u.getScheme())) {
        return shape;
      }
      if (u.getHost() == null || u.getHost().isBlank()) {
        return shape + " (no host)";
      }
      return null;
    } catch (java.net.URISyntaxException e) {
      return shape;
    }
  }

  private static Sessions sessions(Reader r) {
    Sessions d = Sessions.DEFAULTS;
    long hour = 3_600_000L;
    Sessions s = new Sessions(
      r.longIn("postgres.acquireTimeoutMillis", d.acquireTimeoutMillis(), 100, 60_000),
      r.longIn("postgres.statementTimeoutMillis", d.statementTimeoutMillis(), 0, hour),
      r.longIn("postgres.lockTimeoutMillis", d.lockTimeoutMillis(), 0, hour),
      r.longIn("postgres.idleInTransactionTimeoutMillis", d.idleInTransactionTimeoutMillis(), 0, hour),
      r.longIn("postgres.idleSessionTimeoutMillis", d.idleSessionTimeoutMillis(), 0, 24 * hour),
      r.longIn("postgres.complianceStatementTimeoutMillis", d.complianceStatementTimeoutMillis(), 0, 24 * hour),
      r.longIn("postgres.complianceIdleInTransactionTimeoutMillis", d.complianceIdleInTransactionTimeoutMillis(), 0, 24 * hour));
    if (s.idleSessionTimeoutMillis() > 0 && s.idleSessionTimeoutMillis() < 1000) {
      r.problem("postgres.idleSessionTimeoutMillis must be 0 (off) or at least 1000, got " + s.idleSessionTimeoutMillis());
    }
    return s;
  }

  /** {@code signing.previousPublicKeys}: a list of {@code {keyId, publicKeyPem}} (the PEM file is read at start-up). */
  private static List<PreviousKey> previousKeys(Reader r, JsonObject json) {
    JsonArray arr = r.mappings("signing.previousPublicKeys", Set.of("keyId", "publicKeyPem"));
    String current = r.value("signing.keyId") instanceof String kid ? kid : null;
    List<PreviousKey> keys = new ArrayList<>();
    Set<String> seen = new java.util.HashSet<>();
    for (int i = 0; i < arr.size(); i++) {
      String at = "signing.previousPublicKeys[" + i + "]";
      if (!(arr.getValue(i) instanceof JsonObject o) || !(o.getValue("keyId") instanceof String kid)
        || !(o.getValue("publicKeyPem") instanceof String pem) || kid.isBlank() || pem.isBlank()) {
        r.problem(at + " must be a mapping with keyId and publicKeyPem");
        continue;
      }
      if (kid.equals(current) || !seen.add(kid)) {
        r.problem(at + ".keyId '" + kid + "' is already used by another signing key");
        continue;
      }
      keys.add(new PreviousKey(kid, pem));
    }
    return List.copyOf(keys);
  }

  /** The keys an {@code auth.issuers} item may hold. */
  public static final Set<String> ISSUER_KEYS = Set.of("issuer", "publicKeyPem", "jwks", "roles", "development");

  private static List<Issuer> issuers(Reader r, String env) {
    JsonArray arr = r.mappings("auth.issuers", ISSUER_KEYS);
    List<Issuer> issuers = new ArrayList<>();
    if (arr.isEmpty()) {
      r.problem("auth.issuers must list at least one trusted token issuer");
    }
    for (int i = 0; i < arr.size(); i++) {
      String at = "auth.issuers[" + i + "]";
      if (!(arr.getValue(i) instanceof JsonObject o)) {
        r.problem(at + " must be a mapping");
        continue;
      }
      String iss = o.getString("issuer");
      String pem = o.getString("publicKeyPem");
      String jwks = o.getString("jwks");
      if (iss == null || iss.isBlank()) {
        r.problem(at + ".issuer is required");
      }
      if ((pem == null || pem.isBlank()) == (jwks == null || jwks.isBlank())) {
        r.problem(at + " needs exactly one of publicKeyPem or jwks");
      }
      List<String> roles = new ArrayList<>();
      JsonArray rs = o.getJsonArray("roles");
      if (rs != null) {
        for (Object role : rs) {
          if (!(role instanceof String s) || !io.openbureau.auth.Role.NAMES.contains(s)) {
            r.problem(at + ".roles has unknown role '" + role + "'; known: " + io.openbureau.auth.Role.NAMES);
          } else {
            roles.add(s);
          }
        }
      }
      boolean dev = Boolean.TRUE.equals(o.getValue("development"));
      if (dev && "production".equals(env)) {
        r.problem(at + " (" + iss + ") is the development issuer and is refused with env: production");
      }
      issuers.add(new Issuer(iss, pem, jwks, rs == null ? null : List.copyOf(roles), dev));
    }
    return List.copyOf(issuers);
  }
}
