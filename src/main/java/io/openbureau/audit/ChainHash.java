package io.openbureau.audit;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The tamper evidence of the access log: {@code row_hash = SHA-256(prev_hash || canonical(row))},
 * chained per writer ({@code chain_id}, ordered by {@code chain_seq}; the first row of a chain has
 * 32 zero bytes as {@code prev_hash}). Each row says which canonical encoding its hash uses
 * ({@code access_log.hash_version}); a chain never mixes them (the writer starts a new chain at
 * start-up, and only ever writes {@link #CURRENT}).
 *
 * <p><b>Version 3</b> (every row written since V4): a sequence of fields, each
 * {@code <decimal byte length>:<bytes>}, a null as {@code ~} (so no field can be confused with
 * another, a null with an empty string, or a field boundary moved), in this order:
 * <pre>
 *   "v3", id, at, chain_id, chain_seq, action, actor_role, actor_id, lender_id, borrower_key,
 *   purpose, scope, decision, reason, consent_id, request_id, score_value, details_json
 * </pre>
 * Numbers (id, chain_seq, score_value) in decimal ASCII with a {@code -} when negative; {@code at}
 * in microseconds since 1970-01-01 UTC (Postgres' precision), decimal; text as UTF-8; the borrower
 * key as lower-case hex; the consent id in the 36-character lower-case form; {@code details_json}
 * as its stored bytes. {@code hash_version} is covered by the leading tag. The encoding is written
 * out independently in {@code src/test/resources/chainhash/} (a Python script and the golden
 * vectors it made), and the tests check this class against it and against a second Java encoder.
 *
 * <p><b>Why {@code details_json} (a {@code json} column) rather than jsonb's text.</b> v2 hashed
 * Postgres' {@code details::text} of the stored jsonb, so the writer had to predict
 * {@code jsonb_out} byte for byte in Java (key order, spacing, number and escape forms): any
 * value it predicted wrong, or any change of jsonb's printing in a later Postgres, would make
 * honest rows fail verification. v3 stores the exact text the bureau produced and hashed in a
 * {@code json} column, which Postgres validates as JSON but keeps byte for byte, and hashes those
 * bytes as they come back: nothing to predict, and the verifier's fast pass hashes the column
 * without parsing it. The jsonb {@code details} column stays as a copy for queries
 * ({@code details->>'rows'} keeps working for old and new rows); it is not hashed, so the
 * verifier checks that it still holds the same JSON value ({@link DetailsJson}, compared as
 * values, so again independent of how jsonb prints), and reports a changed, added or removed copy
 * as a hash mismatch of its row. A v2 row with a {@code details_json} carries a value its hash
 * does not cover and is reported the same way.
 *
 * <p><b>Version 2</b> (rows written before V4) is verified with {@link LegacyV2}, frozen with its
 * bug: its numbers lose their last one or two digits, so in v2 rows a change confined to those
 * digits of {@code id}, {@code at}, {@code chain_seq} or {@code score_value} cannot be seen (any
 * other change still can). Turning a v3 row into a v2 one needs its hash recomputed, which breaks
 * the link from the next row (and the signed checkpoints), like any other re-hash.
 */
public final class ChainHash {
  public static final byte[] GENESIS = new byte[32];
  /** The frozen, flawed encoding of rows written before V4. */
  public static final int V2 = 2;
  /** The encoding of every new row. */
  public static final int V3 = 3;
  public static final int CURRENT = V3;
  /** Microseconds between 1970-01-01 and 2000-01-01 (Postgres' binary timestamp epoch). */
  public static final long PG_EPOCH_MICROS = 946_684_800_000_000L;
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(ChainHash::sha256);
  private static final ThreadLocal<Canonical> ENCODER_V3 = ThreadLocal.withInitial(V3Encoder::new);
  private static final ThreadLocal<Canonical> ENCODER_V2 = ThreadLocal.withInitial(LegacyV2::new);

  private ChainHash() {
  }

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The row's hash in its own encoding ({@link AccessLogEntry#hashVersion()}), {@code details} as
   * {@link AccessLogEntry#detailsText()}; null for an unknown version.
   */
  public static byte[] rowHash(byte[] prevHash, AccessLogEntry e) {
    Canonical c = threadEncoder(e.hashVersion());
    if (c == null) {
      return null;
    }
    encode(c, e);
    return c.digest(SHA256.get(), prevHash);
  }

  /** The canonical bytes of the row in its own encoding (tests, diagnostics); null for an unknown version. */
  public static byte[] canonical(AccessLogEntry e) {
    Canonical c = encoder(e.hashVersion());
    if (c == null) {
      return null;
    }
    encode(c, e);
    return c.bytes();
  }

  /** A new encoder of {@code version} (one per thread), or null when there is no such version. */
  public static Canonical encoder(int version) {
    return switch (version) {
      case V3 -> new V3Encoder();
      case V2 -> new LegacyV2();
      default -> null;
    };
  }

  private static Canonical threadEncoder(int version) {
    return switch (version) {
      case V3 -> ENCODER_V3.get();
      case V2 -> ENCODER_V2.get();
      default -> null;
    };
  }

  private static void encode(Canonical c, AccessLogEntry e) {
    c.start();
    c.number(e.id());
    c.number(micros(e.at()));
    c.text(e.chainId());
    c.number(e.chainSeq());
    c.text(e.action());
    c.text(e.actorRole());
    c.text(e.actorId());
    c.text(e.lenderId());
    byte[] key = e.borrowerKey();
    if (key == null) {
      c.nul();
    } else {
      c.hex(key, 0, key.length);
    }
    c.text(e.purpose());
    c.text(e.scope());
    c.text(e.decision());
    c.text(e.reason());
    UUID consent = e.consentId();
    if (consent == null) {
      c.nul();
    } else {
      c.uuid(consent.getMostSignificantBits(), consent.getLeastSignificantBits());
    }
    c.text(e.requestId());
    if (e.scoreValue() == null) {
      c.nul();
    } else {
      c.number(e.scoreValue());
    }
    c.text(e.detailsText());
  }

  public static long micros(Instant at) {
    return ChronoUnit.MICROS.between(Instant.EPOCH, at);
  }

  /**
   * A reusable builder of the canonical bytes of one row, field by field in the order above,
   * without intermediate Strings. The writer ({@link #rowHash}) and the verifier (from Postgres'
   * binary COPY) both build through it. Implementations are not thread-safe.
   */
  public interface Canonical {
    /** Starts a row: the version tag. */
    void start();

    void nul();

    /** A field of UTF-8 bytes as they are. */
    void utf8(byte[] src, int off, int n);

    void text(String s);

    /** A decimal number. */
    void number(long v);

    /** Bytes as lower-case hex. */
    void hex(byte[] src, int off, int n);

    /** A UUID in its 36-character lower-case form. */
    void uuid(long msb, long lsb);

    byte[] digest(MessageDigest md, byte[] prevHash);

    /** Digest with the previous hash taken from a buffer (no copy). */
    void digest(MessageDigest md, byte[] prev, int prevOff, int prevLen, byte[] out);

    /** The bytes so far. */
    byte[] bytes();
  }

  /** Version 3: every field {@code <length>:<bytes>} or {@code ~}, numbers written whole. */
  static final class V3Encoder implements Canonical {
    private byte[] buf = new byte[512];
    private int len;

    @Override
    public void start() {
      len = 0;
      ensure(4);
      buf[len++] = '2';
      buf[len++] = ':';
      buf[len++] = 'v';
      buf[len++] = '3';
    }

    @Override
    public void nul() {
      ensure(1);
      buf[len++] = '~';
    }

    @Override
    public void utf8(byte[] src, int off, int n) {
      prefix(n);
      ensure(n);
      System.arraycopy(src, off, buf, len, n);
      len += n;
    }

    @Override
    public void text(String s) {
      if (s == null) {
        nul();
        return;
      }
      int n = s.length();
      for (int i = 0; i < n; i++) {
        if (s.charAt(i) >= 0x80) {
          byte[] b = s.getBytes(StandardCharsets.UTF_8);
          utf8(b, 0, b.length);
          return;
        }
      }
      prefix(n);
      ensure(n);
      for (int i = 0; i < n; i++) {
        buf[len++] = (byte) s.charAt(i);
      }
    }

    @Override
    public void number(long v) {
      int n = width(v);
      prefix(n);
      decimal(v, n);
    }

    @Override
    public void hex(byte[] src, int off, int n) {
      prefix(2 * n);
      ensure(2 * n);
      for (int i = 0; i < n; i++) {
        int b = src[off + i] & 0xff;
        buf[len++] = HEX[b >>> 4];
        buf[len++] = HEX[b & 15];
      }
    }

    @Override
    public void uuid(long msb, long lsb) {
      prefix(36);
      ensure(36);
      hexDigits(msb >>> 32, 8);
      buf[len++] = '-';
      hexDigits(msb >>> 16, 4);
      buf[len++] = '-';
      hexDigits(msb, 4);
      buf[len++] = '-';
      hexDigits(lsb >>> 48, 4);
      buf[len++] = '-';
      hexDigits(lsb, 12);
    }

    @Override
    public byte[] digest(MessageDigest md, byte[] prevHash) {
      md.reset();
      md.update(prevHash);
      md.update(buf, 0, len);
      return md.digest();
    }

    @Override
    public void digest(MessageDigest md, byte[] prev, int prevOff, int prevLen, byte[] out) {
      md.reset();
      md.update(prev, prevOff, prevLen);
      md.update(buf, 0, len);
      try {
        md.digest(out, 0, 32);
      } catch (java.security.DigestException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public byte[] bytes() {
      return Arrays.copyOf(buf, len);
    }

    private void hexDigits(long v, int n) {
      for (int i = n - 1; i >= 0; i--) {
        buf[len + i] = HEX[(int) (v & 15)];
        v >>>= 4;
      }
      len += n;
    }

    private void prefix(int n) {
      decimal(n, width(n));
      ensure(1);
      buf[len++] = ':';
    }

    /** Characters of v in decimal, the sign included. */
    static int width(long v) {
      if (v == Long.MIN_VALUE) {
        return 20;
      }
      int n = v < 0 ? 2 : 1;
      for (long x = Math.abs(v); x >= 10; x /= 10) {
        n++;
      }
      return n;
    }

    /** Writes v's {@code n} decimal characters straight into the row, right to left. */
    private void decimal(long v, int n) {
      ensure(n);
      int end = len + n;
      int i = end;
      // digits of the negative value, so Long.MIN_VALUE needs no special case
      long x = v < 0 ? v : -v;
      do {
        buf[--i] = (byte) ('0' - (x % 10));
        x /= 10;
      } while (x != 0);
      if (v < 0) {
        buf[--i] = '-';
      }
      len = end;
    }

    private void ensure(int n) {
      if (len + n > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
      }
    }
  }

  /**
   * FROZEN: the v2 encoder exactly as it was written (2026-11), bug included, so that rows hashed
   * by it still verify as they were written. {@link #number} loses the last digits of the number
   * (its length prefix is built in the same scratch buffer and overwrites them): rows that differ
   * only there hash alike. Never used for new rows; do not fix or tidy (that would break every v2
   * chain). Not thread-safe.
   */
  static final class LegacyV2 implements Canonical {
    private byte[] buf = new byte[512];
    private int len;
    private final byte[] digits = new byte[20];

    /** Starts a row: the version tag. */
    @Override
    public void start() {
      len = 0;
      ensure(4);
      buf[len++] = '2';
      buf[len++] = ':';
      buf[len++] = 'v';
      buf[len++] = '2';
    }

    @Override
    public void nul() {
      ensure(1);
      buf[len++] = '~';
    }

    /** A field of UTF-8 bytes as they are. */
    @Override
    public void utf8(byte[] src, int off, int n) {
      prefix(n);
      ensure(n);
      System.arraycopy(src, off, buf, len, n);
      len += n;
    }

    @Override
    public void text(String s) {
      if (s == null) {
        nul();
        return;
      }
      int n = s.length();
      boolean ascii = true;
      for (int i = 0; i < n; i++) {
        if (s.charAt(i) >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (!ascii) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        utf8(b, 0, b.length);
        return;
      }
      prefix(n);
      ensure(n);
      for (int i = 0; i < n; i++) {
        buf[len++] = (byte) s.charAt(i);
      }
    }

    /** A decimal number. */
    @Override
    public void number(long v) {
      int n = digits(v);
      prefix(n);
      ensure(n);
      System.arraycopy(digits, digits.length - n, buf, len, n);
      len += n;
    }

    /** Bytes as lower-case hex. */
    @Override
    public void hex(byte[] src, int off, int n) {
      prefix(2 * n);
      ensure(2 * n);
      for (int i = 0; i < n; i++) {
        int b = src[off + i] & 0xff;
        buf[len++] = HEX[b >>> 4];
        buf[len++] = HEX[b & 15];
      }
    }

    /** A UUID in its 36-character lower-case form. */
    @Override
    public void uuid(long msb, long lsb) {
      prefix(36);
      ensure(36);
      hexDigits(msb >>> 32, 8);
      buf[len++] = '-';
      hexDigits(msb >>> 16, 4);
      buf[len++] = '-';
      hexDigits(msb, 4);
      buf[len++] = '-';
      hexDigits(lsb >>> 48, 4);
      buf[len++] = '-';
      hexDigits(lsb, 12);
    }

    @Override
    public byte[] digest(MessageDigest md, byte[] prevHash) {
      md.reset();
      md.update(prevHash);
      md.update(buf, 0, len);
      return md.digest();
    }

    /** Digest with the previous hash taken from a buffer (no copy). */
    @Override
    public void digest(MessageDigest md, byte[] prev, int prevOff, int prevLen, byte[] out) {
      md.reset();
      md.update(prev, prevOff, prevLen);
      md.update(buf, 0, len);
      try {
        md.digest(out, 0, 32);
      } catch (java.security.DigestException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public byte[] bytes() {
      return Arrays.copyOf(buf, len);
    }

    private void hexDigits(long v, int n) {
      for (int i = n - 1; i >= 0; i--) {
        buf[len + i] = HEX[(int) (v & 15)];
        v >>>= 4;
      }
      len += n;
    }

    private void prefix(int n) {
      int d = digits(n);
      ensure(d + 1);
      System.arraycopy(digits, digits.length - d, buf, len, d);
      len += d;
      buf[len++] = ':';
    }

    /** Writes v's decimal digits at the end of {@code digits}; returns how many. */
    private int digits(long v) {
      if (v == Long.MIN_VALUE) {
        byte[] s = Long.toString(v).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(s, 0, digits, digits.length - s.length, s.length);
        return s.length;
      }
      boolean negative = v < 0;
      long x = negative ? -v : v;
      int i = digits.length;
      do {
        digits[--i] = (byte) ('0' + (x % 10));
        x /= 10;
      } while (x != 0);
      if (negative) {
        digits[--i] = '-';
      }
      return digits.length - i;
    }

    private void ensure(int n) {
      if (len + n > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
      }
    }
  }

  // ---- details: the text the bureau produces for a row's details

  /**
   * The text a row's {@code details} is stored (in {@code details_json}) and hashed as. Since v3
   * nothing has to reproduce it (the stored bytes are hashed as they are); it stays deterministic
   * (keys sorted, one spacing) and in the form jsonb prints, so equal details read alike and
   * {@code details_json::jsonb::text} gives the same text back. A non-finite number becomes a
   * string and a lone surrogate U+FFFD, so the text is always valid JSON and UTF-8.
   */
  public static String canonicalJson(JsonObject json) {
    StringBuilder sb = new StringBuilder(64);
    jsonb(sb, json);
    return sb.toString();
  }

  private static void jsonb(StringBuilder sb, Object v) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof JsonObject o) {
      object(sb, o.getMap());
    } else if (v instanceof Map<?, ?> m) {
      object(sb, m);
    } else if (v instanceof JsonArray a) {
      array(sb, a.getList());
    } else if (v instanceof List<?> l) {
      array(sb, l);
    } else if (v instanceof String s) {
      string(sb, s);
    } else if (v instanceof Boolean b) {
      sb.append(b.booleanValue());
    } else if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte
      || v instanceof BigInteger) {
      sb.append(v);
    } else if ((v instanceof Double d && !Double.isFinite(d)) || (v instanceof Float f && !Float.isFinite(f))) {
      string(sb, v.toString());
    } else if (v instanceof Double || v instanceof Float || v instanceof BigDecimal) {
      sb.append(numeric(v.toString()));
    } else {
      // anything else Vert.x can encode (Instant, byte[], Buffer, enums, ...): as it would, re-read
      jsonb(sb, Json.decodeValue(Json.encode(v)));
    }
  }

  /** A JSON number as Postgres' numeric prints it: plain decimal, the scale kept, never negative. */
  static String numeric(String number) {
    BigDecimal d = new BigDecimal(number);
    if (d.scale() < 0) {
      d = d.setScale(0);
    }
    return d.toPlainString();
  }

  private static void object(StringBuilder sb, Map<?, ?> map) {
    List<Map.Entry<byte[], Object>> entries = new ArrayList<>(map.size());
    for (Map.Entry<?, ?> en : map.entrySet()) {
      entries.add(Map.entry(String.valueOf(en.getKey()).getBytes(StandardCharsets.UTF_8),
        en.getValue() == null ? NULL : en.getValue()));
    }
    // jsonb: shorter keys first, then bytewise
    entries.sort((a, b) -> a.getKey().length != b.getKey().length ? Integer.compare(a.getKey().length, b.getKey().length)
      : Arrays.compareUnsigned(a.getKey(), b.getKey()));
    sb.append('{');
    for (int i = 0; i < entries.size(); i++) {
      if (i > 0) {
        sb.append(", ");
      }
      string(sb, new String(entries.get(i).getKey(), StandardCharsets.UTF_8));
      sb.append(": ");
      Object value = entries.get(i).getValue();
      jsonb(sb, value == NULL ? null : value);
    }
    sb.append('}');
  }

  private static final Object NULL = new Object();

  private static void array(StringBuilder sb, List<?> list) {
    sb.append('[');
    for (int i = 0; i < list.size(); i++) {
      if (i > 0) {
        sb.append(", ");
      }
      jsonb(sb, list.get(i));
    }
    sb.append(']');
  }

  private static void string(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      switch (ch) {
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        default -> {
          if (ch < ' ') {
            sb.append("\\u00").append((char) HEX[ch >>> 4]).append((char) HEX[ch & 15]);
          } else if (Character.isHighSurrogate(ch) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
            sb.append(ch).append(s.charAt(++i));
          } else if (Character.isSurrogate(ch)) {
            sb.append('\ufffd');
          } else {
            sb.append(ch);
          }
        }
      }
    }
    sb.append('"');
  }
}
