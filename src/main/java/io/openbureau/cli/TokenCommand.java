package io.openbureau.cli;

import io.openbureau.auth.Role;
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
    Vertx vertx = Vertx.vertx();
    try {
      return mint(vertx, config, role, sub, ttl);
    } finally {
      vertx.close();
    }
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
    } catch (Exception e) {
      throw new ConfigException("cannot read auth.devSigningKeyPem " + keyFile);
    }
    JWTAuth auth = JWTAuth.create(vertx, new JWTAuthOptions()
      .addPubSecKey(new PubSecKeyOptions().setAlgorithm("ES256").setBuffer(pem)));
    return auth.generateToken(new JsonObject().put("roles", new JsonArray().add(role)),
      new JWTOptions().setAlgorithm("ES256").setIssuer(dev.issuer()).setAudience(List.of(config.auth().audience()))
        .setSubject(sub).setExpiresInSeconds(ttlSeconds));
  }
}
