package io.openbureau.consent;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.ConfigException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bureau's RS256 signing key: signs consent receipts (compact JWS) and publishes the public
 * half as a JWK. {@link #load} reads files and {@link #sign} does RSA: both belong on a worker
 * thread, never on an event loop.
 */
public final class ReceiptSigner {
  public static final String ISSUER = "openbureau";
  private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();

  private final String keyId;
  private final PrivateKey privateKey;
  private final RSAPublicKey publicKey;
  /** Every key a signature of the bureau may carry: the current one first, then the previous ones. */
  private final Map<String, RSAPublicKey> verificationKeys;

  ReceiptSigner(String keyId, PrivateKey privateKey, RSAPublicKey publicKey) {
    this(keyId, privateKey, publicKey, Map.of());
  }

  ReceiptSigner(String keyId, PrivateKey privateKey, RSAPublicKey publicKey, Map<String, RSAPublicKey> previous) {
    this.keyId = keyId;
    this.privateKey = privateKey;
    this.publicKey = publicKey;
    Map<String, RSAPublicKey> keys = new LinkedHashMap<>();
    keys.put(keyId, publicKey);
    previous.forEach(keys::putIfAbsent);
    this.verificationKeys = Collections.unmodifiableMap(keys);
  }

  /** Blocking: reads the PEM files of {@code signing.*}. */
  public static ReceiptSigner load(BureauConfig.Signing signing) {
    try {
      KeyFactory rsa = KeyFactory.getInstance("RSA");
      PrivateKey priv = rsa.generatePrivate(new PKCS8EncodedKeySpec(der(Files.readString(Path.of(signing.privateKeyPem())))));
      if (!(priv instanceof RSAPrivateCrtKey crt)) {
        throw new ConfigException("signing.privateKeyPem must be an RSA private key (PKCS#8)");
      }
      RSAPublicKey pub = (RSAPublicKey) rsa.generatePublic(new RSAPublicKeySpec(crt.getModulus(), crt.getPublicExponent()));
      if (signing.publicKeyPem() != null && !signing.publicKeyPem().isBlank()) {
        byte[] configured = der(Files.readString(Path.of(signing.publicKeyPem())));
        if (!Arrays.equals(configured, new X509EncodedKeySpec(pub.getEncoded()).getEncoded())) {
          throw new ConfigException("signing.publicKeyPem does not match signing.privateKeyPem");
        }
      }
      return new ReceiptSigner(signing.keyId(), priv, pub, previousKeys(rsa, signing));
    } catch (IOException e) {
      throw new ConfigException("signing: cannot read key file: " + e.getMessage());
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new ConfigException("signing.privateKeyPem is not a valid PEM RSA private key (PKCS#8)");
    }
  }

  /** {@code signing.previousPublicKeys}: each must be a readable PEM RSA public key (refused at start-up). */
  private static Map<String, RSAPublicKey> previousKeys(KeyFactory rsa, BureauConfig.Signing signing) {
    Map<String, RSAPublicKey> keys = new LinkedHashMap<>();
    List<BureauConfig.PreviousKey> previous = signing.previousPublicKeys() == null ? List.of() : signing.previousPublicKeys();
    for (int i = 0; i < previous.size(); i++) {
      BureauConfig.PreviousKey k = previous.get(i);
      String at = "signing.previousPublicKeys[" + i + "] (" + k.keyId() + ")";
      String pem;
      try {
        pem = Files.readString(Path.of(k.publicKeyPem()));
      } catch (IOException | RuntimeException e) {
        throw new ConfigException(at + ": cannot read " + k.publicKeyPem() + ": " + e.getMessage());
      }
      try {
        if (!(rsa.generatePublic(new X509EncodedKeySpec(der(pem))) instanceof RSAPublicKey pub)) {
          throw new ConfigException(at + " is not an RSA public key");
        }
        keys.put(k.keyId(), pub);
      } catch (GeneralSecurityException | IllegalArgumentException e) {
        throw new ConfigException(at + " is not a valid PEM RSA public key (X.509 SubjectPublicKeyInfo)");
      }
    }
    return keys;
  }

  public String keyId() {
    return keyId;
  }

  /** Blocking (RSA, about a millisecond): the compact JWS of the claims. */
  public String sign(JsonObject claims) {
    JsonObject header = new JsonObject().put("alg", "RS256").put("typ", "JWT").put("kid", keyId);
    String input = b64(header.encode()) + "." + b64(claims.encode());
    try {
      Signature sig = Signature.getInstance("SHA256withRSA");
      sig.initSign(privateKey);
      sig.update(input.getBytes(StandardCharsets.US_ASCII));
      return input + "." + B64URL.encodeToString(sig.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign a consent receipt", e);
    }
  }

  /**
   * {@code {"keys": [JWK, ...]}} for {@code /.well-known/jwks.json}: the current key first, then the
   * previous ones (what was signed before a rotation stays verifiable by outsiders).
   */
  public JsonObject jwks() {
    JsonArray keys = new JsonArray();
    verificationKeys.forEach((kid, key) -> keys.add(new JsonObject().put("kty", "RSA").put("use", "sig")
      .put("alg", "RS256").put("kid", kid)
      .put("n", B64URL.encodeToString(unsigned(key.getModulus())))
      .put("e", B64URL.encodeToString(unsigned(key.getPublicExponent())))));
    return new JsonObject().put("keys", keys);
  }

  /** The bureau's public keys by key id, the current one first. */
  public Map<String, RSAPublicKey> verificationKeys() {
    return verificationKeys;
  }

  /**
   * Blocking (RSA): the claims of a compact JWS this bureau signed (RS256, a {@code kid} of
   * {@link #verificationKeys}, no {@code crit}), or null when it is anything else.
   */
  public JsonObject verified(String jws) {
    if (jws == null) {
      return null;
    }
    String[] parts = jws.split("\\.", -1);
    if (parts.length != 3) {
      return null;
    }
    try {
      JsonObject header = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8));
      RSAPublicKey key = header.getValue("kid") instanceof String kid ? verificationKeys.get(kid) : null;
      if (key == null || !"RS256".equals(header.getValue("alg")) || header.containsKey("crit")) {
        return null;
      }
      if (!rs256Valid(parts, key)) {
        return null;
      }
      return new JsonObject(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      return null;
    }
  }

  /**
   * Blocking (RSA): whether a compact JWS, split in its three parts, carries a valid RS256
   * signature by {@code key}. The one signature check of every JWS the bureau verifies (receipts,
   * checkpoints, chain ends, anchors, and the offline {@code verify-proof}).
   */
  public static boolean rs256Valid(String[] parts, java.security.PublicKey key) {
    try {
      Signature sig = Signature.getInstance("SHA256withRSA");
      sig.initVerify(key);
      sig.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
      return sig.verify(Base64.getUrlDecoder().decode(parts[2]));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }

  /** Big-endian without the sign byte (RFC 7518 6.3.1). */
  private static byte[] unsigned(BigInteger n) {
    byte[] b = n.toByteArray();
    return b.length > 1 && b[0] == 0 ? Arrays.copyOfRange(b, 1, b.length) : b;
  }

  private static String b64(String s) {
    return B64URL.encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] der(String pem) {
    return Base64.getDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", ""));
  }
}
