package io.openbureau.audit;

import io.openbureau.support.PlainChainHash;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The canonical encoding checked against two implementations that share nothing with it: the
 * golden vectors made by {@code src/test/resources/chainhash/golden.py} (Python, from the
 * specification) and {@link #plainV3}, the specification written out plainly in Java below.
 */
@DisplayName("The access-log hash: every field counts, and the encoding matches independent ones")
class ChainHashTest {
  private static final HexFormat HEX = HexFormat.of();

  // ---- the second, plain encoder: io.openbureau.support.PlainChainHash (nothing from ChainHash)

  static byte[] plainV3(AccessLogEntry e) {
    return PlainChainHash.v3(e);
  }

  static byte[] plainHash(byte[] prev, byte[] canonical) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    md.update(prev);
    md.update(canonical);
    return md.digest();
  }

  // ---- rows

  /** The 17 hashed values of a row, in encoding order; a mutable copy is a variant. */
  static Object[] base() {
    byte[] key = new byte[32];
    for (int i = 0; i < key.length; i++) {
      key[i] = (byte) (i * 37 + 11);
    }
    return new Object[] {123456789L, micros(1764596141541604L), "a1b2c3d4-1-mi2k3", 98765L, "INQUIRY", "lender",
      "lender-a", "lender-a", key, "LOAN_ORIGINATION", "SCORE", "DENIED", "no_consent",
      UUID.fromString("0f8fad5b-d9cb-469f-a165-70867728950e"), "req-7f3a", 625, "{\"status\": 400, \"x\": \"y\"}"};
  }

  static final String[] NAMES = {"id", "at", "chain_id", "chain_seq", "action", "actor_role", "actor_id", "lender_id",
    "borrower_key", "purpose", "scope", "decision", "reason", "consent_id", "request_id", "score_value", "details"};

  static AccessLogEntry entry(Object[] v, int version) {
    return new AccessLogEntry((Long) v[0], (Instant) v[1], (String) v[2], (Long) v[3], (String) v[4], (String) v[5],
      (String) v[6], (String) v[7], (byte[]) v[8], (String) v[9], (String) v[10], (String) v[11], (String) v[12],
      (UUID) v[13], (String) v[14], (Integer) v[15], null, ChainHash.GENESIS, null, version, (String) v[16]);
  }

  static Instant micros(long epochMicros) {
    return Instant.ofEpochSecond(Math.floorDiv(epochMicros, 1_000_000L), Math.floorMod(epochMicros, 1_000_000L) * 1000L);
  }

  /** Every smallest change of every field of {@link #base}: name -> variant. */
  static Map<String, Object[]> variants() {
    Map<String, Object[]> out = new LinkedHashMap<>();
    Object[] b = base();
    // one digit anywhere in each number, the last included; and +-1
    for (int f : new int[] {0, 3, 15}) {
      long v = ((Number) b[f]).longValue();
      String digits = Long.toString(v);
      for (int i = 0; i < digits.length(); i++) {
        char[] cs = digits.toCharArray();
        cs[i] = cs[i] == '9' ? (i == 0 ? '1' : '0') : (char) (cs[i] + 1);
        put(out, b, f, "digit " + i + " -> " + new String(cs), number(f, Long.parseLong(new String(cs))));
      }
      put(out, b, f, "+1", number(f, v + 1));
      put(out, b, f, "-1", number(f, v - 1));
    }
    long at = 1764596141541604L;
    String atDigits = Long.toString(at);
    for (int i = 0; i < atDigits.length(); i++) {
      char[] cs = atDigits.toCharArray();
      cs[i] = cs[i] == '9' ? '8' : (char) (cs[i] + 1);
      put(out, b, 1, "digit " + i, micros(Long.parseLong(new String(cs))));
    }
    put(out, b, 1, "+1 us", micros(at + 1));
    put(out, b, 1, "-1 us", micros(at - 1));
    put(out, b, 1, "+37 us", micros(at + 37));
    put(out, b, 1, "+95 us", micros(at + 95));
    // one character of each text, at its start, middle and end; one more, one less; null vs empty
    for (int f : new int[] {2, 4, 5, 6, 7, 9, 10, 11, 12, 14, 16}) {
      String s = (String) b[f];
      for (int i : new int[] {0, s.length() / 2, s.length() - 1}) {
        char[] cs = s.toCharArray();
        cs[i] = (char) (cs[i] ^ 1);
        put(out, b, f, "char " + i, new String(cs));
      }
      put(out, b, f, "one more", s + "a");
      put(out, b, f, "one less", s.substring(0, s.length() - 1));
      put(out, b, f, "empty", "");
      put(out, b, f, "null", null);
      put(out, b, f, "accent", s.substring(0, s.length() - 1) + "\u00e9");
    }
    // each byte of the key; a shorter, an empty and no key
    byte[] key = (byte[]) b[8];
    for (int i = 0; i < key.length; i++) {
      byte[] k = key.clone();
      k[i] ^= 1;
      put(out, b, 8, "byte " + i, k);
    }
    put(out, b, 8, "31 bytes", Arrays.copyOf(key, 31));
    put(out, b, 8, "empty", new byte[0]);
    put(out, b, 8, "null", null);
    UUID consent = (UUID) b[13];
    put(out, b, 13, "last bit", new UUID(consent.getMostSignificantBits(), consent.getLeastSignificantBits() ^ 1));
    put(out, b, 13, "first bit", new UUID(consent.getMostSignificantBits() ^ Long.MIN_VALUE,
      consent.getLeastSignificantBits()));
    put(out, b, 13, "null", null);
    put(out, b, 15, "null", null);
    put(out, b, 15, "0", 0);
    // a boundary moved: the last character of one field becomes the first of the next
    Object[] moved = b.clone();
    moved[4] = "INQUIR";
    moved[5] = "Ylender";
    out.put("action/actor_role boundary moved", moved);
    Object[] swapped = b.clone();
    swapped[6] = "lender-b";
    swapped[7] = "lender-a";
    out.put("actor_id and lender_id differ", swapped);
    return out;
  }

  private static Object number(int field, long v) {
    return field == 15 ? (Object) (int) v : (Object) v;
  }

  private static void put(Map<String, Object[]> out, Object[] base, int field, String what, Object value) {
    Object[] v = base.clone();
    v[field] = value;
    out.put(NAMES[field] + ": " + what, v);
  }

  // ---- tests

  @Test
  @DisplayName("the smallest change of any field (a digit, a microsecond, a character, a byte, null vs empty) changes the hash")
  void everyFieldCounts() throws Exception {
    AccessLogEntry base = entry(base(), ChainHash.V3);
    byte[] baseHash = ChainHash.rowHash(ChainHash.GENESIS, base);
    // hash -> the (plainly encoded) row it came from: two different rows with one hash fail
    Map<String, String> seen = new LinkedHashMap<>();
    seen.put(HEX.formatHex(baseHash), HEX.formatHex(plainV3(base)));
    List<String> failures = new ArrayList<>();
    Map<String, Object[]> variants = variants();
    for (Map.Entry<String, Object[]> v : variants.entrySet()) {
      AccessLogEntry e = entry(v.getValue(), ChainHash.V3);
      byte[] h = ChainHash.rowHash(ChainHash.GENESIS, e);
      String row = HEX.formatHex(plainV3(e));
      String was = seen.putIfAbsent(HEX.formatHex(h), row);
      if (Arrays.equals(h, baseHash)) {
        failures.add(v.getKey() + " hashes like the base row");
      } else if (was != null && !was.equals(row)) {
        failures.add(v.getKey() + " hashes like another variant");
      }
      // and the plain encoder agrees on every one
      if (!Arrays.equals(plainV3(e), ChainHash.canonical(e))) {
        failures.add(v.getKey() + ": ChainHash and the plain encoder differ");
      }
    }
    assertTrue(variants.size() > 150, "variants: " + variants.size());
    assertEquals(List.of(), failures);
    // the previous hash counts too, down to its last bit
    byte[] prev = new byte[32];
    prev[31] = 1;
    assertFalse(Arrays.equals(baseHash, ChainHash.rowHash(prev, base)));
  }

  @Test
  @DisplayName("the rows the issue found colliding (ids 21/29, seq 5/7, scores 625/629, at ...604/...699) hash apart")
  void issueCollisionsGone() {
    Object[] b = base();
    b[0] = 21L;
    b[3] = 5L;
    b[15] = 625;
    b[1] = micros(1764596141541604L);
    byte[] h = ChainHash.rowHash(ChainHash.GENESIS, entry(b, ChainHash.V3));
    for (Object[] change : new Object[][] {{0, 29L}, {3, 7L}, {15, 629}, {1, micros(1764596141541699L)},
      {15, 799}}) {
      Object[] v = b.clone();
      v[(Integer) change[0]] = change[1];
      assertFalse(Arrays.equals(h, ChainHash.rowHash(ChainHash.GENESIS, entry(v, ChainHash.V3))),
        NAMES[(Integer) change[0]] + " = " + change[1]);
    }
  }

  @Test
  @DisplayName("the golden vectors (made in Python from the specification) come out byte for byte, v3 and frozen v2")
  void goldenVectors() throws Exception {
    JsonArray vectors = golden();
    assertTrue(vectors.size() >= 10);
    int v2 = 0;
    for (int i = 0; i < vectors.size(); i++) {
      JsonObject v = vectors.getJsonObject(i);
      AccessLogEntry e = fromVector(v);
      String name = v.getString("name");
      assertEquals(v.getString("canonicalHex"), HEX.formatHex(ChainHash.canonical(e)), name);
      assertEquals(v.getString("rowHash"), HEX.formatHex(ChainHash.rowHash(e.prevHash(), e)), name);
      assertEquals(v.getString("rowHash"), HEX.formatHex(plainHash(e.prevHash(),
        HEX.parseHex(v.getString("canonicalHex")))), name);
      assertEquals(v.getString("canonicalHex"), HEX.formatHex(PlainChainHash.canonical(e)), name + " (plain encoder)");
      if (e.hashVersion() == ChainHash.V2) {
        v2++;
      }
      if (i > 0) {
        assertEquals(vectors.getJsonObject(i - 1).getString("rowHash"), v.getString("prevHash"), "chained");
      }
    }
    assertTrue(v2 >= 3, "v2 vectors");
  }

  @Test
  @DisplayName("the frozen v2 encoder still has its flaw (so old chains verify as written), v3 does not")
  void legacyV2Frozen() {
    Object[] a = base();
    a[0] = 21L;
    Object[] b = a.clone();
    b[0] = 29L;
    assertArrayEquals(ChainHash.canonical(entry(a, ChainHash.V2)), ChainHash.canonical(entry(b, ChainHash.V2)));
    assertFalse(Arrays.equals(ChainHash.canonical(entry(a, ChainHash.V3)), ChainHash.canonical(entry(b, ChainHash.V3))));
    // v2 and v3 of the same row never hash alike; an unknown version has no hash
    assertFalse(Arrays.equals(ChainHash.rowHash(ChainHash.GENESIS, entry(a, ChainHash.V2)),
      ChainHash.rowHash(ChainHash.GENESIS, entry(a, ChainHash.V3))));
    assertNull(ChainHash.rowHash(ChainHash.GENESIS, entry(a, 4)));
    assertNull(ChainHash.encoder(1));
  }

  @Test
  @DisplayName("random rows encode exactly as the plain encoder does, v3 and v2 (10,000 rows, fixed seed)")
  void randomRowsMatchPlain() throws Exception {
    Random rnd = new Random(20261201);
    ChainHash.Canonical reused = ChainHash.encoder(ChainHash.V3);
    for (int n = 0; n < 10_000; n++) {
      Object[] v = base();
      v[0] = rnd.nextInt(4) == 0 ? rnd.nextLong() : (long) rnd.nextInt(1_000_000);
      // anywhere within Instant-to-microseconds range (+-292 years of 1970)
      v[1] = micros(rnd.nextInt(4) == 0 ? rnd.nextLong() % 9_000_000_000_000_000L : 1_700_000_000_000_000L + rnd.nextInt());
      v[3] = rnd.nextInt(3) == 0 ? Long.MIN_VALUE + rnd.nextInt(2) : (long) rnd.nextInt(100_000);
      for (int f : new int[] {2, 4, 5, 6, 7, 9, 10, 11, 12, 14, 16}) {
        v[f] = randomText(rnd);
      }
      v[8] = rnd.nextInt(5) == 0 ? null : randomBytes(rnd);
      v[13] = rnd.nextInt(3) == 0 ? null : new UUID(rnd.nextLong(), rnd.nextLong());
      v[15] = rnd.nextInt(3) == 0 ? null : rnd.nextInt();
      AccessLogEntry e = entry(v, ChainHash.V3);
      byte[] expected = plainV3(e);
      assertArrayEquals(expected, ChainHash.canonical(e), () -> "row " + Arrays.deepToString(v));
      assertArrayEquals(plainHash(ChainHash.GENESIS, expected), ChainHash.rowHash(ChainHash.GENESIS, e));
      // the reusable builder fed field by field (as the verifier's fast pass does) gives the same
      feed(reused, e);
      assertArrayEquals(expected, reused.bytes());
      // and the frozen v2 encoder is the flawed one the plain v2 describes
      AccessLogEntry old = entry(v, ChainHash.V2);
      assertArrayEquals(PlainChainHash.v2(old), ChainHash.canonical(old), () -> "v2 row " + Arrays.deepToString(v));
    }
  }

  @Test
  @DisplayName("the writer's row hashes exactly the details text it stores")
  void writerHashesWhatItStores() throws Exception {
    JsonObject details = new JsonObject().put("status", 400).put("fields", new JsonArray().add("purpose"))
      .put("\u00e9", "a\u0000b").put("nan", Double.NaN).put("lone", "x\ud800y");
    AccessLogEntry.Draft d = new AccessLogEntry.Draft("INQUIRY", "lender", "lender-a", "lender-a", new byte[32],
      null, null, "INVALID", "bad_request", null, "req-1", null, details);
    AccessLogEntry e = AccessLogEntry.chained(41, Instant.parse("2026-12-01T10:00:00.123456Z"), "c-1", 3, d,
      ChainHash.GENESIS);
    assertEquals(ChainHash.CURRENT, e.hashVersion());
    // the draft scrubbed what Postgres cannot hold (the NUL) before anything was hashed
    assertEquals(ChainHash.canonicalJson(d.details()), e.detailsText());
    assertTrue(e.detailsText().contains("a\ufffdb"), e.detailsText());
    assertTrue(e.detailsText().contains("\"nan\": \"NaN\""), e.detailsText());
    assertTrue(e.detailsText().contains("x\ufffdy"), e.detailsText());
    assertArrayEquals(plainHash(ChainHash.GENESIS, plainV3(e)), e.rowHash());
    assertNotEquals(null, e.rowHash());
  }

  @Test
  @DisplayName("a jsonb copy of the details matches by JSON value, however jsonb prints it, and never after a change")
  void jsonbCopyMatchesByValue() {
    String text = ChainHash.canonicalJson(new JsonObject().put("rows", 20).put("d", 1.5).put("s", "a\"b")
      .put("list", new JsonArray().add(1).add(new JsonObject().put("k", true))));
    assertEquals(text, DetailsJson.jsonbCopy(text));
    assertTrue(DetailsJson.copyMatches(text, text));
    // another spelling of the same value: key order, spacing, number forms, escapes, a repeated key
    assertTrue(DetailsJson.copyMatches(text,
      "{\"s\":\"a\\u0022b\",\"list\":[1.00,{\"k\":true}],\"rows\":2e1,\"d\":1.50,\"d\":1.5}"));
    assertTrue(DetailsJson.copyMatches(null, null));
    for (String changed : List.of(text.replace("20", "21"), text.replace("1.5", "1.6"), text.replace("true", "false"),
      text.replace("a\\\"b", "a\\\"c"), text.replace("\"rows\"", "\"rowz\""), "{}", "null", "[]",
      text.replace("[1, ", "[1, 1, "), "{\"rows\": 20}")) {
      assertFalse(DetailsJson.copyMatches(text, changed), changed);
    }
    assertFalse(DetailsJson.copyMatches(text, null), "a copy removed");
    assertFalse(DetailsJson.copyMatches(null, "{}"), "a copy added");
    // jsonb cannot hold a NUL: such details have no copy, and a copy of them is not theirs
    String nul = ChainHash.canonicalJson(new JsonObject().put("k\u0000", 1));
    assertNull(DetailsJson.jsonbCopy(nul));
    assertTrue(DetailsJson.copyMatches(nul, null));
    assertFalse(DetailsJson.copyMatches(nul, "{\"k\": 1}"));
  }

  private static void feed(ChainHash.Canonical c, AccessLogEntry e) {
    c.start();
    c.number(e.id());
    c.number(ChainHash.micros(e.at()));
    if (e.chainId() == null) {
      c.nul();
    } else {
      byte[] chain = e.chainId().getBytes(StandardCharsets.UTF_8);
      c.utf8(chain, 0, chain.length);
    }
    c.number(e.chainSeq());
    for (String s : new String[] {e.action(), e.actorRole(), e.actorId(), e.lenderId()}) {
      c.text(s);
    }
    if (e.borrowerKey() == null) {
      c.nul();
    } else {
      c.hex(e.borrowerKey(), 0, e.borrowerKey().length);
    }
    for (String s : new String[] {e.purpose(), e.scope(), e.decision(), e.reason()}) {
      c.text(s);
    }
    if (e.consentId() == null) {
      c.nul();
    } else {
      c.uuid(e.consentId().getMostSignificantBits(), e.consentId().getLeastSignificantBits());
    }
    c.text(e.requestId());
    if (e.scoreValue() == null) {
      c.nul();
    } else {
      c.number(e.scoreValue());
    }
    c.text(e.detailsText());
  }

  private static String randomText(Random rnd) {
    int kind = rnd.nextInt(6);
    if (kind == 0) {
      return null;
    }
    if (kind == 1) {
      return "";
    }
    int n = rnd.nextInt(kind == 5 ? 700 : 20);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int pick = rnd.nextInt(10);
      if (pick < 6) {
        sb.append((char) (' ' + rnd.nextInt(95)));
      } else if (pick < 8) {
        sb.append((char) (0x80 + rnd.nextInt(0xd000)));
      } else if (pick < 9) {
        sb.appendCodePoint(0x10000 + rnd.nextInt(0x10000));
      } else {
        sb.append("~:0123456789".charAt(rnd.nextInt(12)));
      }
    }
    return sb.toString();
  }

  private static byte[] randomBytes(Random rnd) {
    byte[] b = new byte[rnd.nextInt(3) == 0 ? rnd.nextInt(40) : 32];
    rnd.nextBytes(b);
    return b;
  }

  static JsonArray golden() throws IOException {
    try (InputStream in = ChainHashTest.class.getResourceAsStream("/chainhash/golden.json")) {
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8)).getJsonArray("vectors");
    }
  }

  static AccessLogEntry fromVector(JsonObject v) {
    String key = v.getString("borrowerKey");
    String consent = v.getString("consentId");
    return new AccessLogEntry(v.getLong("id"), micros(v.getLong("atMicros")), v.getString("chainId"),
      v.getLong("chainSeq"), v.getString("action"), v.getString("actorRole"), v.getString("actorId"),
      v.getString("lenderId"), key == null ? null : HEX.parseHex(key), v.getString("purpose"), v.getString("scope"),
      v.getString("decision"), v.getString("reason"), consent == null ? null : UUID.fromString(consent),
      v.getString("requestId"), v.getInteger("scoreValue"), null, HEX.parseHex(v.getString("prevHash")), null,
      v.getInteger("version"), v.getString("details"));
  }
}
