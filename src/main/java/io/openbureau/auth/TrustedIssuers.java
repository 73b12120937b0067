package io.openbureau.auth;

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
import java.security.KeyFactory;
import java.security.interfaces.ECPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One {@link JWTAuth} per trusted issuer, each with only that issuer's keys and with issuer,
 * audience and leeway configured, so the library checks them. Built from files: blocking, so
 * call it from a worker thread at start-up.
 *
 * <p>Traps of vertx-auth-jwt guarded here: a provider with no keys is "unsecure" and accepts
 * unsigned tokens (an issuer without a usable RS256/ES256 key is a start-up error); embedded keys
 * (x5c) are never allowed.
 */
public final class TrustedIssuers {
  public static final Set<String> ALGORITHMS = Set.of("RS256", "ES256");

  public record Trusted(String issuer, JWTAuth provider, Set<String> allowedRoles, int keyCount) {
  }

  private final Map<String, Trusted> byIssuer;

  private TrustedIssuers(Map<String, Trusted> byIssuer) {
    this.byIssuer = Map.copyOf(byIssuer);
  }

  public Trusted get(String issuer) {
    return issuer == null ? null : byIssuer.get(issuer);
  }

  public static TrustedIssuers load(Vertx vertx, BureauConfig.Auth auth) {
    Map<String, Trusted> map = new HashMap<>();
    for (BureauConfig.Issuer issuer : auth.issuers()) {
      JWTAuthOptions options = new JWTAuthOptions().setJWTOptions(new JWTOptions()
        .setIssuer(issuer.issuer())
        .setAudience(List.of(auth.audience()))
        .setLeeway(auth.clockSkewSeconds())
        .setIgnoreExpiration(false));
      int keys;
      if (issuer.publicKeyPem() != null && !issuer.publicKeyPem().isBlank()) {
        String pem = read(issuer.publicKeyPem(), issuer.issuer());
        options.addPubSecKey(new PubSecKeyOptions().setAlgorithm(algorithmOf(pem, issuer.issuer())).setBuffer(pem));
        keys = 1;
      } else {
        JsonArray jwks = new JsonObject(read(issuer.jwks(), issuer.issuer())).getJsonArray("keys", new JsonArray());
        keys = 0;
        for (Object o : jwks) {
          if (o instanceof JsonObject jwk && usable(jwk)) {
            options.addJwk(jwk.copy());
            keys++;
          }
        }
      }
      if (keys == 0) {
        throw new ConfigException("auth.issuers: " + issuer.issuer() + " has no usable RS256 or ES256 public key");
      }
      Set<String> roles = issuer.roles() == null ? Role.NAMES : Set.copyOf(issuer.roles());
      map.put(issuer.issuer(), new Trusted(issuer.issuer(), JWTAuth.create(vertx, options), roles, keys));
    }
    return new TrustedIssuers(map);
  }

  /** A JWKS entry is used only for RS256 or ES256 (P-256); an entry for another algorithm is ignored. */
  private static boolean usable(JsonObject jwk) {
    String kty = jwk.getString("kty");
    String alg = jwk.getString("alg");
    String use = jwk.getString("use");
    if (use != null && !use.equals("sig")) {
      return false;
    }
    if ("RSA".equals(kty) && (alg == null || alg.equals("RS256"))) {
      jwk.put("alg", "RS256");
      return true;
    }
    if ("EC".equals(kty) && "P-256".equals(jwk.getString("crv")) && (alg == null || alg.equals("ES256"))) {
      jwk.put("alg", "ES256");
      return true;
    }
    return false;
  }

  private static String read(String file, String issuer) {
    try {
      return Files.readString(Path.of(file));
    } catch (Exception e) {
      throw new ConfigException("auth.issuers: cannot read key file '" + file + "' of " + issuer + ": " + e.getMessage());
    }
  }

  static String algorithmOf(String pem, String issuer) {
    try {
      String b64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
      byte[] der = Base64.getDecoder().decode(b64);
      for (String kty : List.of("EC", "RSA")) {
        try {
          var key = KeyFactory.getInstance(kty).generatePublic(new X509EncodedKeySpec(der));
          if (key instanceof ECPublicKey ec) {
            if (ec.getParams().getCurve().getField().getFieldSize() != 256) {
              throw new ConfigException("auth.issuers: " + issuer + " EC key must be P-256 (ES256)");
            }
            return "ES256";
          }
          return "RS256";
        } catch (java.security.spec.InvalidKeySpecException ignored) {
          // try the next key type
        }
      }
    } catch (ConfigException e) {
      throw e;
    } catch (Exception e) {
      throw new ConfigException("auth.issuers: " + issuer + " public key is not a valid PEM public key");
    }
    throw new ConfigException("auth.issuers: " + issuer + " public key is neither RSA nor EC");
  }

  public List<String> names() {
    return new ArrayList<>(byIssuer.keySet());
  }
}
