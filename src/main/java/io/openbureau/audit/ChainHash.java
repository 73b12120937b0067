package io.openbureau.audit;

import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.TreeMap;

/**
 * The tamper evidence of the access log: {@code row_hash = SHA-256(prev_hash || canonical(row))},
 * chained per writer ({@code chain_id}, ordered by {@code chain_seq}; the first row of a chain has
 * 32 zero bytes as {@code prev_hash}).
 *
 * <p>The canonical encoding is version-tagged and unambiguous: every field, in a fixed order, is
 * written as {@code <byte length>:<UTF-8 bytes>}, a null as {@code ~}. Timestamps are epoch
 * microseconds (Postgres' precision), the borrower key lower-case hex, {@code details} JSON with
 * keys sorted at every level (so the jsonb column, which reorders keys, re-encodes identically).
 * Every column except {@code row_hash} itself is covered, {@code id} included.
 */
public final class ChainHash {
  public static final byte[] GENESIS = new byte[32];
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  });

  private ChainHash() {
  }

  public static byte[] rowHash(byte[] prevHash, AccessLogEntry e) {
    MessageDigest md = SHA256.get();
    md.reset();
    md.update(prevHash);
    md.update(canonical(e));
    return md.digest();
  }

  static byte[] canonical(AccessLogEntry e) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    field(out, "v1");
    field(out, Long.toString(e.id()));
    field(out, Long.toString(micros(e.at())));
    field(out, e.chainId());
    field(out, Long.toString(e.chainSeq()));
    field(out, e.action());
    field(out, e.actorRole());
    field(out, e.actorId());
    field(out, e.lenderId());
    field(out, e.borrowerKey() == null ? null : BorrowerKeys.hex(e.borrowerKey()));
    field(out, e.purpose());
    field(out, e.scope());
    field(out, e.decision());
    field(out, e.reason());
    field(out, e.consentId() == null ? null : e.consentId().toString());
    field(out, e.requestId());
    field(out, e.scoreValue() == null ? null : e.scoreValue().toString());
    field(out, e.details() == null ? null : canonicalJson(e.details()));
    return out.toByteArray();
  }

  public static long micros(Instant at) {
    return ChronoUnit.MICROS.between(Instant.EPOCH, at);
  }

  /** JSON with object keys sorted at every level. */
  public static String canonicalJson(JsonObject json) {
    return sorted(json).toString();
  }

  private static Object sorted(Object value) {
    if (value instanceof JsonObject o) {
      Map<String, Object> m = new TreeMap<>();
      o.forEach(en -> m.put(en.getKey(), sorted(en.getValue())));
      return new JsonObject(new java.util.LinkedHashMap<>(m));
    }
    if (value instanceof JsonArray a) {
      JsonArray out = new JsonArray();
      a.forEach(v -> out.add(sorted(v)));
      return out;
    }
    return value;
  }

  private static void field(ByteArrayOutputStream out, String value) {
    if (value == null) {
      out.write('~');
      return;
    }
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    out.writeBytes(Integer.toString(bytes.length).getBytes(StandardCharsets.US_ASCII));
    out.write(':');
    out.writeBytes(bytes);
  }
}
