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
 * 32 zero bytes as {@code prev_hash}).
 *
 * <p>The canonical encoding (version {@code v2}) is unambiguous: every field, in a fixed order, is
 * written as {@code <byte length>:<UTF-8 bytes>}, a null as {@code ~}, starting with the version
 * tag {@code 2:v2}. Numbers are decimal ASCII, timestamps epoch microseconds (Postgres'
 * precision), the borrower key lower-case hex, the consent id the usual 36-character UUID form.
 * Every column except {@code row_hash} itself is covered, {@code id} included.
 *
 * <p>{@code details} is encoded as exactly the text Postgres prints for the stored {@code jsonb}
 * ({@code details::text}): object keys ordered by UTF-8 byte length, then bytes; {@code ", "} and
 * {@code ": "} separators; strings escaped as Postgres does ({@code \" \\ \b \f \n \r \t}, other
 * control characters as backslash-u00xx, everything else raw UTF-8); numbers in Postgres'
 * {@code numeric} output form (plain decimal, no exponent). The writer stores that same text
 * ({@link #canonicalJson}), which Postgres reads back unchanged, so the verifier can hash the
 * stored column as it comes (no JSON parsing) and the encoding stays cheap to compute in Java and
 * also expressible in SQL (see {@code ChainVerifier}).
 */
public final class ChainHash {
  public static final byte[] GENESIS = new byte[32];
  public static final String VERSION = "v2";
  /** Microseconds between 1970-01-01 and 2000-01-01 (Postgres' binary timestamp epoch). */
  public static final long PG_EPOCH_MICROS = 946_684_800_000_000L;
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(ChainHash::sha256);
  private static final ThreadLocal<Canonical> ENCODER = ThreadLocal.withInitial(Canonical::new);

  private ChainHash() {
  }

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The writer's hash: {@code details} encoded as the jsonb text it will be stored as. */
  public static byte[] rowHash(byte[] prevHash, AccessLogEntry e) {
    return rowHash(prevHash, e, e.details() == null ? null : canonicalJson(e.details()));
  }

  /** A stored row's hash, {@code detailsText} being the stored {@code details::text} as is. */
  public static byte[] rowHash(byte[] prevHash, AccessLogEntry e, String detailsText) {
    Canonical c = ENCODER.get();
    encode(c, e, detailsText);
    return c.digest(SHA256.get(), prevHash);
  }

  /** The canonical bytes (tests, diagnostics). */
  static byte[] canonical(AccessLogEntry e) {
    Canonical c = new Canonical();
    encode(c, e, e.details() == null ? null : canonicalJson(e.details()));
    return c.bytes();
  }

  private static void encode(Canonical c, AccessLogEntry e, String detailsText) {
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
    c.text(detailsText);
  }

  public static long micros(Instant at) {
    return ChronoUnit.MICROS.between(Instant.EPOCH, at);
  }

  /**
   * A reusable builder of the canonical bytes of one row, field by field, without intermediate
   * Strings. The writer ({@link #rowHash}) and the verifier (from Postgres' binary COPY) both
   * build through it, so they cannot drift apart. Not thread-safe.
   */
  public static final class Canonical {
    private byte[] buf = new byte[512];
    private int len;
    private final byte[] digits = new byte[20];

    /** Starts a row: the version tag. */
    public void start() {
      len = 0;
      ensure(4);
      buf[len++] = '2';
      buf[len++] = ':';
      buf[len++] = 'v';
      buf[len++] = '2';
    }

    public void nul() {
      ensure(1);
      buf[len++] = '~';
    }

    /** A field of UTF-8 bytes as they are. */
    public void utf8(byte[] src, int off, int n) {
      prefix(n);
      ensure(n);
      System.arraycopy(src, off, buf, len, n);
      len += n;
    }

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
    public void number(long v) {
      int n = digits(v);
      prefix(n);
      ensure(n);
      System.arraycopy(digits, digits.length - n, buf, len, n);
      len += n;
    }

    /** Bytes as lower-case hex. */
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

    public byte[] digest(MessageDigest md, byte[] prevHash) {
      md.reset();
      md.update(prevHash);
      md.update(buf, 0, len);
      return md.digest();
    }

    /** Digest with the previous hash taken from a buffer (no copy). */
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

    byte[] bytes() {
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

  // ---- details: the text Postgres prints for a jsonb value

  /**
   * {@code json} as Postgres prints it once stored as jsonb ({@code jsonb_out}): the writer stores
   * this text and hashes it; Postgres reads it back unchanged.
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
          } else {
            sb.append(ch);
          }
        }
      }
    }
    sb.append('"');
  }
}
