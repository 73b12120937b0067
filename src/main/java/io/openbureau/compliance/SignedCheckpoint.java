package io.openbureau.compliance;

import io.openbureau.consent.ReceiptSigner;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.RSAPublicKeySpec;
import java.util.Base64;
import java.util.HexFormat;

/**
 * A checkpoint JWS checked against a JWKS (the bureau's {@code /.well-known/jwks.json}, or a copy
 * of it kept by an outsider): RS256 only, a known {@code kid}, no {@code crit}, the claims of
 * {@link Checkpointer}. Used by the outsider's-copy verify and the offline {@code verify-proof}
 * command. Blocking (RSA): off the event loop.
 *
 * @param fromSeq    first chain_seq the Merkle tree covers; null on checkpoints signed before trees
 * @param merkleRoot root of the tree over rows fromSeq..chainSeq; null on checkpoints before trees
 */
public record SignedCheckpoint(String jws, String kid, String chainId, long chainSeq, byte[] headHash,
                               Long fromSeq, byte[] merkleRoot, JsonObject claims) {

  /** Why a JWS is refused: {@code malformed} (not a checkpoint at all) or {@code bad_signature}. */
  public static final class Invalid extends Exception {
    private final String problem;

    Invalid(String problem, String detail) {
      super(detail, null, false, false);
      this.problem = problem;
    }

    public String problem() {
      return problem;
    }
  }

  public long treeSize() {
    return fromSeq == null ? 0 : chainSeq - fromSeq + 1;
  }

  public static SignedCheckpoint verify(String jws, JsonObject jwks) throws Invalid {
    if (jws == null || jws.length() > 16_384) {
      throw new Invalid("malformed", "not a compact JWS");
    }
    String[] parts = jws.split("\\.", -1);
    if (parts.length != 3) {
      throw new Invalid("malformed", "not a compact JWS (three base64url parts)");
    }
    JsonObject header = json(parts[0], "header");
    JsonObject claims = json(parts[1], "claims");
    if (!"RS256".equals(header.getValue("alg"))) {
      throw new Invalid("bad_signature", "alg must be RS256");
    }
    if (header.containsKey("crit")) {
      throw new Invalid("bad_signature", "crit is not understood");
    }
    PublicKey key = key(jwks, header.getValue("kid"));
    if (!ReceiptSigner.rs256Valid(parts, key)) {
      throw new Invalid("bad_signature", "the signature does not verify with key " + header.getValue("kid"));
    }
    // signed by the bureau: now the claims must be a checkpoint's
    try {
      if (!Checkpointer.TYPE.equals(claims.getValue("typ")) || !ReceiptSigner.ISSUER.equals(claims.getValue("iss"))) {
        throw new Invalid("malformed", "signed, but not an access-log checkpoint (typ, iss)");
      }
      String chainId = claims.getString("chainId");
      Long chainSeq = claims.getLong("chainSeq");
      byte[] head = hex(claims.getString("headHash"));
      Long fromSeq = claims.getLong("fromSeq");
      String root = claims.getString("merkleRoot");
      if (chainId == null || chainSeq == null || chainSeq < 1 || head == null
        || (fromSeq != null && (fromSeq < 1 || fromSeq > chainSeq)) || (fromSeq == null) != (root == null)) {
        throw new Invalid("malformed", "signed, but its checkpoint claims are incomplete");
      }
      return new SignedCheckpoint(jws, (String) header.getValue("kid"), chainId, chainSeq, head, fromSeq,
        root == null ? null : hex(root), claims);
    } catch (ClassCastException e) {
      throw new Invalid("malformed", "signed, but its checkpoint claims have the wrong types");
    }
  }

  private static PublicKey key(JsonObject jwks, Object kid) throws Invalid {
    JsonArray keys = jwks == null ? null : jwks.getValue("keys") instanceof JsonArray a ? a : null;
    if (keys != null && kid instanceof String id) {
      for (Object o : keys) {
        if (o instanceof JsonObject jwk && id.equals(jwk.getValue("kid")) && "RSA".equals(jwk.getValue("kty"))) {
          try {
            return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(
              new BigInteger(1, Base64.getUrlDecoder().decode(jwk.getString("n"))),
              new BigInteger(1, Base64.getUrlDecoder().decode(jwk.getString("e")))));
          } catch (GeneralSecurityException | RuntimeException e) {
            throw new Invalid("bad_signature", "key " + id + " of the JWKS is not an RSA public key");
          }
        }
      }
    }
    throw new Invalid("bad_signature", "kid " + kid + " is not a key of the bureau");
  }

  private static JsonObject json(String part, String what) throws Invalid {
    try {
      return new JsonObject(new String(Base64.getUrlDecoder().decode(part), StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      throw new Invalid("malformed", "the " + what + " is not base64url JSON");
    }
  }

  static byte[] hex(String s) {
    if (s == null || !s.matches("[0-9a-f]{64}")) {
      return null;
    }
    return HexFormat.of().parseHex(s);
  }
}
