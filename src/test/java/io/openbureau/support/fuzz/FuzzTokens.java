package io.openbureau.support.fuzz;

import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;

/** Correctly signed development-issuer tokens with a header of the fuzzer's choosing (crit, kid, ...). */
public final class FuzzTokens {
  private static final PrivateKey DEV_KEY = devKey();

  private FuzzTokens() {
  }

  /** ES256 over {@code header} (alg ES256 is added when missing) and {@code claims}, with the dev issuer's key. */
  public static String es256(JsonObject header, JsonObject claims) {
    try {
      JsonObject h = header.copy();
      if (!h.containsKey("alg")) {
        h.put("alg", "ES256");
      }
      String input = b64(h.encode()) + "." + b64(claims.encode());
      Signature sig = Signature.getInstance("SHA256withECDSAinP1363Format");
      sig.initSign(DEV_KEY);
      sig.update(input.getBytes(StandardCharsets.US_ASCII));
      return input + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(sig.sign());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public static String withCrit(JsonArray crit, String role, String sub) {
    JsonObject header = new JsonObject().put("typ", "JWT").put("crit", crit);
    if (!crit.isEmpty()) {
      header.put(crit.getString(0), true);
    }
    return es256(header, Tokens.claims(Tokens.DEV_ISSUER, sub, role));
  }

  static String b64(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static PrivateKey devKey() {
    try {
      String pem = Files.readString(Path.of("config/dev/dev-issuer.key.pem"));
      byte[] der = Base64.getDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", ""));
      return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
