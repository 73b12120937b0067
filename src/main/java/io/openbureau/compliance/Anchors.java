package io.openbureau.compliance;

import io.openbureau.consent.ReceiptSigner;
import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * Retention anchors: when {@code maintenance retention} drops a partition it keeps, per chain, the
 * hash of the chain's last row there, signed by the bureau (RS256 JWS over {@code {iss, typ:
 * access-log-anchor, chainId, chainSeq, rowHash (hex), partition, at}}), and lists the anchors in
 * the {@code maintenance_log} row of the drop. Verify relies on an anchor only when its signature
 * holds, its claims are its columns, the drop is in the maintenance log naming it, and the partition
 * is really gone; anything else is {@code anchor_forged}.
 */
public final class Anchors {
  public static final String TYPE = "access-log-anchor";
  public static final String DROP_ACTION = "ACCESS_LOG_RETENTION_DROP";

  private Anchors() {
  }

  public static JsonObject claims(String chainId, long chainSeq, byte[] rowHash, String partition, Instant at) {
    return new JsonObject().put("iss", ReceiptSigner.ISSUER).put("typ", TYPE).put("chainId", chainId)
      .put("chainSeq", chainSeq).put("rowHash", BorrowerKeys.hex(rowHash)).put("partition", partition)
      .put("at", at.toString()).put("iat", at.getEpochSecond());
  }

  /** Blocking (RSA): whether the stored anchor is one the bureau signed, as stored. */
  static boolean signed(ReceiptSigner keys, String chainId, long chainSeq, byte[] rowHash, String partition,
                        String signature) {
    JsonObject c = keys.verified(signature);
    return c != null && TYPE.equals(c.getValue("typ")) && chainId.equals(c.getValue("chainId"))
      && c.getValue("chainSeq") instanceof Number n && n.longValue() == chainSeq
      && BorrowerKeys.hex(rowHash).equals(c.getValue("rowHash")) && partition.equals(c.getValue("partition"));
  }
}
