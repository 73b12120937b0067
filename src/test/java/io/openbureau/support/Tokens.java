package io.openbureau.support;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;

/**
 * Builds JWTs by hand, good and bad: the dev issuer (ES256, the committed dev key), an RS256 test
 * issuer whose key pair is made per run, and forgeries (alg none, HS256 keyed with the public key,
 * an unknown key).
 */
public final class Tokens {
  public static final String DEV_ISSUER = "https://dev.openbureau.local";
  public static final String TEST_ISSUER = "https://test-idp.openbureau.local";
  public static final String LIMITED_ISSUER = "https://borrower-app.example";
  public static final String AUDIENCE = "openbureau";

  private static final KeyPair TEST_RSA = generate("RSA", 2048);
  private static final KeyPair OTHER_RSA = generate("RSA", 2048);
  private static Path testIssuerPem;

  private Tokens() {
  }

  public static JsonObject claims(String issuer, String sub, String... roles) {
    long now = System.currentTimeMillis() / 1000;
    return new JsonObject().put("iss", issuer).put("aud", AUDIENCE).put("sub", sub).put("iat", now)
      .put("exp", now + 3600).put("roles", new JsonArray(java.util.List.of((Object[]) roles)));
  }

  /** A valid development-issuer token (ES256). */
  public static String dev(String role, String sub) {
    return es256(claims(DEV_ISSUER, sub, role));
  }

  public static String admin() {
    return dev("admin", "test-admin");
  }

  public static String lender(String memberId) {
    return dev("lender", memberId);
  }

  public static String borrower(String nationalId) {
    return dev("borrower", nationalId);
  }

  public static String compliance() {
    return dev("compliance", "officer-1");
  }

  public static String es256(JsonObject claims) {
    try {
      String pem = Files.readString(Path.of("config/dev/dev-issuer.key.pem"));
      PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der(pem)));
      Signature sig = Signature.getInstance("SHA256withECDSAinP1363Format");
      return sign(new JsonObject().put("alg", "ES256").put("typ", "JWT"), claims, sig, key);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** RS256 signed by the test issuer's key. */
  public static String rs256(JsonObject claims) {
    return rs256(claims, TEST_RSA.getPrivate());
  }

  /** RS256 signed by a key nobody trusts. */
  public static String rs256WithUnknownKey(JsonObject claims) {
    return rs256(claims, OTHER_RSA.getPrivate());
  }

  private static String rs256(JsonObject claims, PrivateKey key) {
    try {
      return sign(new JsonObject().put("alg", "RS256").put("typ", "JWT"), claims, Signature.getInstance("SHA256withRSA"), key);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public static String unsigned(JsonObject claims) {
    return b64(new JsonObject().put("alg", "none").put("typ", "JWT").encode()) + "." + b64(claims.encode()) + ".";
  }

  /** The classic confusion attack: HS256 with the issuer's public key file as the HMAC secret. */
  public static String hs256WithPublicKey(JsonObject claims) {
    try {
      byte[] secret = Files.readAllBytes(Path.of("config/dev/dev-issuer.pub.pem"));
      String input = b64(new JsonObject().put("alg", "HS256").put("typ", "JWT").encode()) + "." + b64(claims.encode());
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return input + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public static synchronized String testIssuerPublicKeyFile() {
    if (testIssuerPem == null) {
      try {
        testIssuerPem = Files.createTempFile("ob-test-issuer", ".pem");
        testIssuerPem.toFile().deleteOnExit();
        String pem = "-----BEGIN PUBLIC KEY-----\n"
          + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(TEST_RSA.getPublic().getEncoded())
          + "\n-----END PUBLIC KEY-----\n";
        Files.writeString(testIssuerPem, pem);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
    return testIssuerPem.toString();
  }

  private static String sign(JsonObject header, JsonObject claims, Signature sig, PrivateKey key) throws Exception {
    String input = b64(header.encode()) + "." + b64(claims.encode());
    sig.initSign(key);
    sig.update(input.getBytes(StandardCharsets.US_ASCII));
    return input + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(sig.sign());
  }

  private static String b64(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] der(String pem) {
    return Base64.getDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", ""));
  }

  private static KeyPair generate(String alg, int bits) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance(alg);
      g.initialize(bits);
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
