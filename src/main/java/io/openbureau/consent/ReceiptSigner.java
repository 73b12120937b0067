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

  ReceiptSigner(String keyId, PrivateKey privateKey, RSAPublicKey publicKey) {
    this.keyId = keyId;
    this.privateKey = privateKey;
    this.publicKey = publicKey;
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
      return new ReceiptSigner(signing.keyId(), priv, pub);
    } catch (IOException e) {
      throw new ConfigException("signing: cannot read key file: " + e.getMessage());
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new ConfigException("signing.privateKeyPem is not a valid PEM RSA private key (PKCS#8)");
    }
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

  /** {@code {"keys": [JWK]}} for {@code /.well-known/jwks.json}. */
  public JsonObject jwks() {
    JsonObject jwk = new JsonObject().put("kty", "RSA").put("use", "sig").put("alg", "RS256").put("kid", keyId)
      .put("n", B64URL.encodeToString(unsigned(publicKey.getModulus())))
      .put("e", B64URL.encodeToString(unsigned(publicKey.getPublicExponent())));
    return new JsonObject().put("keys", new JsonArray().add(jwk));
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
