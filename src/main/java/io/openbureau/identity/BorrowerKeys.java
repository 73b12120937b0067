package io.openbureau.identity;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;

/**
 * Derives the borrower key, HMAC-SHA-256(secret, normalized national id): the only way a person is
 * stored, cached, logged or counted. The key id of the secret is kept beside every stored key so
 * the secret can be rotated (re-keying is an offline job that needs the raw ids from furnishers).
 */
public final class BorrowerKeys {
  private final String keyId;
  private final ThreadLocal<Mac> mac;

  public BorrowerKeys(String keyId, String secret) {
    this.keyId = keyId;
    byte[] key = secret.getBytes(StandardCharsets.UTF_8);
    this.mac = ThreadLocal.withInitial(() -> {
      try {
        Mac m = Mac.getInstance("HmacSHA256");
        m.init(new SecretKeySpec(key, "HmacSHA256"));
        return m;
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  public String keyId() {
    return keyId;
  }

  /** 32 bytes. The caller must have validated the id. */
  public byte[] key(String nationalId) {
    return mac.get().doFinal(NationalId.normalize(nationalId).getBytes(StandardCharsets.US_ASCII));
  }

  public static String hex(byte[] key) {
    return HexFormat.of().formatHex(key);
  }

  public static byte[] fromHex(String hex) {
    return HexFormat.of().parseHex(hex);
  }
}
