package io.openbureau.cli;

import io.openbureau.auth.Role;
import io.openbureau.auth.Subjects;
import io.openbureau.config.BureauConfig;
import io.openbureau.config.ConfigException;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** {@code token --role lender --sub lender-a [--ttl 3600]}: a token from the development issuer. */
public final class TokenCommand {
  private TokenCommand() {
  }

  public static String run(BureauConfig config, String[] args) {
    String role = null;
    String sub = null;
    int ttl = 3600;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--role" -> role = args[i + 1];
        case "--sub" -> sub = args[i + 1];
        case "--ttl" -> ttl = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (role == null || !Role.NAMES.contains(role)) {
      throw new IllegalArgumentException("--role must be one of " + Role.NAMES);
    }
    if (sub == null || sub.isBlank()) {
      throw new IllegalArgumentException("--sub is required (member id, national id, or officer id)");
    }
    String refused = subjectProblem(role, sub);
    if (refused != null) {
      throw new IllegalArgumentException(refused);
    }
    if (ttl < 1 || ttl > 30 * 86_400) {
      throw new IllegalArgumentException("--ttl must be between 1 and 2592000 seconds, got " + ttl);
    }
    Vertx vertx = Vertx.vertx();
    try {
      return mint(vertx, config, role, sub, ttl);
    } finally {
      vertx.close();
    }
  }

  /**
   * Why the server would refuse {@code sub} under {@code role} (the same rule as the server's,
   * {@link Subjects}), or null. The value itself is not repeated: it may be a person's national id.
   */
  static String subjectProblem(String role, String sub) {
    if (Subjects.validFor(role, sub)) {
      return null;
    }
    String wanted = switch (role) {
      case Role.BORROWER -> "a valid national id (17 digits and a check character, e.g. 11010519491231002X)";
      case Role.COMPLIANCE -> "an officer id (letters, digits and . _ @ : -, at most 64 characters, not shaped like a national id)";
      default -> "a member id (" + Subjects.MEMBER_ID.pattern() + ", not shaped like a national id)";
    };
    return "--sub is refused for --role " + role + ": the server accepts only " + wanted;
  }

  /** Signs with the development issuer's key; refused in production. */
  public static String mint(Vertx vertx, BureauConfig config, String role, String sub, int ttlSeconds) {
    if (config.production()) {
      throw new ConfigException("development tokens are refused with env: production");
    }
    BureauConfig.Issuer dev = config.auth().issuers().stream().filter(BureauConfig.Issuer::development).findFirst()
      .orElseThrow(() -> new ConfigException("no issuer is marked development: true"));
    String keyFile = config.auth().devSigningKeyPem();
    if (keyFile == null) {
      throw new ConfigException("auth.devSigningKeyPem is not set");
    }
    String pem;
    try {
      pem = Files.readString(Path.of(keyFile));
    } catch (java.io.IOException e) {
      throw new ConfigException("auth.devSigningKeyPem: cannot read " + keyFile + ": "
        + io.openbureau.config.ConfigLoader.reason(e));
    }
    JWTAuth auth = JWTAuth.create(vertx, new JWTAuthOptions()
      .addPubSecKey(new PubSecKeyOptions().setAlgorithm("ES256").setBuffer(pem)));
    return auth.generateToken(new JsonObject().put("roles", new JsonArray().add(role)),
      new JWTOptions().setAlgorithm("ES256").setIssuer(dev.issuer()).setAudience(List.of(config.auth().audience()))
        .setSubject(sub).setExpiresInSeconds(ttlSeconds));
  }
}
