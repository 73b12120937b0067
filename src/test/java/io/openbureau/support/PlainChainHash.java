package io.openbureau.support;

import io.openbureau.audit.AccessLogEntry;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The access-log hash written out plainly from its specification (see
 * {@code src/test/resources/chainhash/golden.py}), sharing no code with
 * {@link io.openbureau.audit.ChainHash}: Strings, {@code Long.toString}, {@link HexFormat},
 * {@code UUID.toString}, a {@link ByteArrayOutputStream}. Slow and obviously right; a bug in the
 * bureau's encoder cannot hide here too.
 */
public final class PlainChainHash {
  private static final HexFormat HEX = HexFormat.of();

  private PlainChainHash() {
  }

  /** v3: every field {@code <length>:<bytes>}, null {@code ~}, numbers whole. */
  public static byte[] v3(AccessLogEntry e) {
    return encode(e, "v3", false);
  }

  /**
   * v2 as it was written, flaw included: a number's last digits replaced by the digits of its
   * length (21 and 29 both become {@code 2:22}).
   */
  public static byte[] v2(AccessLogEntry e) {
    return encode(e, "v2", true);
  }

  public static byte[] canonical(AccessLogEntry e) {
    return switch (e.hashVersion()) {
      case 3 -> v3(e);
      case 2 -> v2(e);
      default -> throw new IllegalArgumentException("version " + e.hashVersion());
    };
  }

  public static byte[] rowHash(byte[] prev, AccessLogEntry e) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(prev);
      md.update(canonical(e));
      return md.digest();
    } catch (NoSuchAlgorithmException x) {
      throw new IllegalStateException(x);
    }
  }

  private static byte[] encode(AccessLogEntry e, String tag, boolean v2) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    field(out, tag);
    number(out, e.id(), v2);
    long micros = e.at().getEpochSecond() * 1_000_000L + e.at().getNano() / 1000;
    number(out, micros, v2);
    field(out, e.chainId());
    number(out, e.chainSeq(), v2);
    field(out, e.action());
    field(out, e.actorRole());
    field(out, e.actorId());
    field(out, e.lenderId());
    field(out, e.borrowerKey() == null ? null : HEX.formatHex(e.borrowerKey()));
    field(out, e.purpose());
    field(out, e.scope());
    field(out, e.decision());
    field(out, e.reason());
    field(out, e.consentId() == null ? null : e.consentId().toString());
    field(out, e.requestId());
    if (e.scoreValue() == null) {
      field(out, null);
    } else {
      number(out, e.scoreValue(), v2);
    }
    field(out, e.detailsText());
    return out.toByteArray();
  }

  private static void number(ByteArrayOutputStream out, long v, boolean v2) {
    String digits = Long.toString(v);
    if (v2) {
      String n = Integer.toString(digits.length());
      digits = digits.substring(0, digits.length() - n.length()) + n;
    }
    field(out, digits);
  }

  private static void field(ByteArrayOutputStream out, String value) {
    if (value == null) {
      out.write('~');
      return;
    }
    byte[] b = value.getBytes(StandardCharsets.UTF_8);
    out.writeBytes((b.length + ":").getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(b);
  }
}
