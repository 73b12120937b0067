package io.openbureau.compliance;

import io.openbureau.audit.AccessLogEntry;
import io.openbureau.audit.ChainHash;
import io.openbureau.db.Database;
import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.math.BigInteger;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.RSAPublicKeySpec;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.UUID;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tampering done directly in Postgres as the superuser (bypassing the append-only trigger with
 * {@code session_replication_role = replica}) is found by verify, which names the row. Each test
 * writes its own rows and verifies only its own time range, and leaves untouched rows after its
 * tampering, so the tests do not see each other's damage; the tail deletion runs last.
 */
@DisplayName("Access-log verification: the hash chains expose any change made behind the bureau's back")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AccessLogVerifyTest {
  private static TestBureau bureau;
  private static Api api;
  private static final String PERSON = NationalId.of("110101", LocalDate.of(1988, 3, 4), 17);
  private static int calls;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("verify", new JsonObject().put("compliance",
      new JsonObject().put("checkpointIntervalSeconds", 1).put("verifyBatchRows", 10)));
    api = bureau.api;
  }

  @AfterAll
  static void stop() {
    bureau.close();
  }

  /** Appends one SELF_INQUIRIES row (with jsonb details) and returns its id. */
  static long row() {
    String rid = "vt-" + (++calls) + "-" + System.nanoTime();
    Api.Res r = api.send(api.builder("/v1/me/inquiries?limit=1", Tokens.borrower(PERSON)).header("X-Request-Id", rid)
      .GET().build());
    assertEquals(200, r.status(), r.toString());
    return bureau.count("SELECT id FROM access_log WHERE request_id = '" + rid + "'");
  }

  static List<Long> rows(int n) {
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(row());
    }
    return ids;
  }

  static JsonObject verify(Instant from) {
    Api.Res r = api.get("/v1/compliance/access-log/verify?from=" + enc(from.toString()) + "&to="
      + enc(Instant.now().plusSeconds(1).toString()), Tokens.compliance());
    assertEquals(200, r.status(), r.toString());
    return r.json();
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static void tamper(String sql) {
    bureau.sql("SET session_replication_role = replica; " + sql);
  }

  /**
   * Keeps copies of the rows a test is about to damage. A signed checkpoint may be taken of any
   * row at any moment (every second here), so damage left behind would become every later test's
   * finding: each test puts the log back as it was and checks that it verifies intact again.
   */
  static void keep(List<Long> ids) {
    bureau.sql("DROP TABLE IF EXISTS kept_rows; CREATE TABLE kept_rows AS SELECT * FROM access_log WHERE id IN ("
      + join(ids) + ")");
  }

  /** Removes the rows {@code ids} (forged or damaged) and puts back those kept; the log verifies intact again. */
  static void putBack(List<Long> ids, Instant t0) {
    tamper("DELETE FROM access_log WHERE id IN (" + join(ids) + "); INSERT INTO access_log SELECT * FROM kept_rows;"
      + " DROP TABLE kept_rows");
    JsonObject v = verify(t0);
    assertTrue(v.getBoolean("intact"), "put back, the log verifies intact again: " + v.encode());
  }

  static String join(List<Long> ids) {
    return ids.isEmpty() ? "NULL" : String.join(", ", ids.stream().map(String::valueOf).toList());
  }

  static Instant mark() throws InterruptedException {
    Thread.sleep(5);
    return Instant.now().truncatedTo(ChronoUnit.MILLIS);
  }

  @Test
  @Order(1)
  @DisplayName("an untouched log verifies intact, every row checked")
  void intact() throws Exception {
    Instant t0 = mark();
    rows(20);
    JsonObject v = verify(t0);
    assertTrue(v.getBoolean("intact"), v.encode());
    assertNull(v.getValue("firstBrokenId"));
    assertEquals(20, v.getLong("checked"), v.encode());
    // over the whole default range too (compliance reads of earlier calls included)
    Api.Res all = api.get("/v1/compliance/access-log/verify", Tokens.compliance());
    assertTrue(all.json().getBoolean("intact"), all.toString());
  }

  @Test
  @Order(2)
  @DisplayName("a superuser UPDATE of one column is named: that exact row")
  void update() throws Exception {
    Instant t0 = mark();
    List<Long> ids = rows(6);
    keep(List.of(ids.get(2)));
    tamper("UPDATE access_log SET purpose = 'LOAN_ORIGINATION' WHERE id = " + ids.get(2));
    rows(2);
    JsonObject v = verify(t0);
    assertFalse(v.getBoolean("intact"), v.encode());
    assertEquals(Long.toString(ids.get(2)), v.getString("firstBrokenId"), v.encode());
    assertEquals("hash_mismatch", v.getString("problem"));
    putBack(List.of(ids.get(2)), t0);
  }

  @Test
  @Order(3)
  @DisplayName("a superuser DELETE is named: the row after the hole")
  void delete() throws Exception {
    Instant t0 = mark();
    List<Long> ids = rows(6);
    String chain = chainOf(ids.get(3));
    long seq = seqOf(ids.get(3));
    keep(List.of(ids.get(3)));
    tamper("DELETE FROM access_log WHERE id = " + ids.get(3));
    rows(2);
    long next = bureau.count("SELECT id FROM access_log WHERE chain_id = '" + chain + "' AND chain_seq = " + (seq + 1));
    JsonObject v = verify(t0);
    assertFalse(v.getBoolean("intact"), v.encode());
    assertEquals(Long.toString(next), v.getString("firstBrokenId"), v.encode());
    assertEquals("seq_gap", v.getString("problem"));
    putBack(List.of(ids.get(3)), t0);
  }

  @Test
  @Order(4)
  @DisplayName("a forged row INSERTed into a chain is named")
  void insert() throws Exception {
    Instant t0 = mark();
    List<Long> ids = rows(5);
    long forged = bureau.count("SELECT nextval('access_log_id_seq')");
    keep(List.of());
    bureau.sql("INSERT INTO access_log SELECT " + forged + ", at, chain_id, chain_seq, action, actor_role, actor_id,"
      + " 'lender-x', borrower_key, purpose, scope, 'GRANTED', reason, consent_id, request_id, score_value, details,"
      + " prev_hash, sha256('forged'::bytea) FROM access_log WHERE id = " + ids.get(2));
    rows(2);
    JsonObject v = verify(t0);
    assertFalse(v.getBoolean("intact"), v.encode());
    assertEquals(Long.toString(forged), v.getString("firstBrokenId"), v.encode());
    putBack(List.of(forged), t0);
  }

  @Test
  @Order(5)
  @DisplayName("swapping the contents of two rows (a reorder) is named: the earlier of the two")
  void reorder() throws Exception {
    Instant t0 = mark();
    List<Long> ids = rows(6);
    long a = ids.get(1);
    long b = ids.get(4);
    keep(List.of(a, b));
    tamper("UPDATE access_log x SET request_id = y.request_id, details = y.details, chain_seq = y.chain_seq,"
      + " prev_hash = y.prev_hash, row_hash = y.row_hash FROM access_log y"
      + " WHERE (x.id, y.id) IN ((" + a + ", " + b + "), (" + b + ", " + a + "))");
    rows(2);
    JsonObject v = verify(t0);
    assertFalse(v.getBoolean("intact"), v.encode());
    assertEquals(Long.toString(a), v.getString("firstBrokenId"), v.encode());
    putBack(List.of(a, b), t0);
  }

  @Test
  @Order(6)
  @DisplayName("the application's role may not UPDATE or DELETE the log, nor switch the trigger off")
  void appRoleRefused() {
    long id = row();
    String before = bureau.count("SELECT count(*) FROM access_log WHERE id = " + id + " AND purpose IS NULL") + "";
    for (String change : List.of("UPDATE access_log SET purpose = 'ACCOUNT_REVIEW' WHERE id = " + id,
      "DELETE FROM access_log WHERE id = " + id, "SET session_replication_role = replica")) {
      IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> bureau.sql("BEGIN; SET LOCAL ROLE openbureau_app; " + change + "; COMMIT;"), change);
      assertTrue(e.getMessage().contains("append-only") || e.getMessage().contains("permission denied"), e.getMessage());
    }
    // the superuser without bypassing the trigger is refused too
    assertThrows(IllegalStateException.class, () -> bureau.sql("DELETE FROM access_log WHERE id = " + id));
    assertEquals(before, bureau.count("SELECT count(*) FROM access_log WHERE id = " + id + " AND purpose IS NULL") + "");
    assertEquals(1, bureau.count("SELECT count(*) FROM access_log WHERE id = " + id));
  }

  @Test
  @Order(7)
  @DisplayName("signed checkpoints are published and verify with the bureau's JWKS")
  void checkpointsPublished() throws Exception {
    rows(3);
    String chain = chainOf(row());
    long seq = awaitCheckpoint(chain);
    Api.Res r = api.get("/v1/audit/checkpoints?chainId=" + enc(chain) + "&limit=5", null);
    assertEquals(200, r.status(), r.toString());
    JsonObject cp = r.items().getJsonObject(0);
    assertEquals(seq, cp.getLong("chainSeq"));
    String[] jws = cp.getString("signature").split("\\.");
    JsonObject claims = new JsonObject(new String(Base64.getUrlDecoder().decode(jws[1]), StandardCharsets.UTF_8));
    assertEquals(chain, claims.getString("chainId"));
    assertEquals(seq, claims.getLong("chainSeq"));
    assertEquals(cp.getString("headHash"), claims.getString("headHash"));
    assertEquals(cp.getString("headHash"), bureau.sqlString("SELECT encode(row_hash, 'hex') FROM access_log WHERE chain_id = '"
      + chain + "' AND chain_seq = " + seq));
    JsonObject jwk = api.get("/.well-known/jwks.json", null).json().getJsonArray("keys").getJsonObject(0);
    PublicKey key = KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(
      new BigInteger(1, Base64.getUrlDecoder().decode(jwk.getString("n"))),
      new BigInteger(1, Base64.getUrlDecoder().decode(jwk.getString("e")))));
    Signature sig = Signature.getInstance("SHA256withRSA");
    sig.initVerify(key);
    sig.update((jws[0] + "." + jws[1]).getBytes(StandardCharsets.US_ASCII));
    assertTrue(sig.verify(Base64.getUrlDecoder().decode(jws[2])));
    assertEquals(400, api.get("/v1/audit/checkpoints?limit=0", null).status());
  }

  @Test
  @Order(8)
  @DisplayName("a row changed with its hash recomputed passes the chain walk but not its signed checkpoint")
  void rehashedRowCaughtByCheckpoint() throws Exception {
    Instant t0 = mark();
    List<Long> ids = rows(4);
    String chain = chainOf(ids.get(3));
    long seq = awaitCheckpoint(chain);
    long head = bureau.count("SELECT id FROM access_log WHERE chain_id = '" + chain + "' AND chain_seq = " + seq);
    AccessLogEntry original = stored(head);
    AccessLogEntry forged = new AccessLogEntry(original.id(), original.at(), original.chainId(), original.chainSeq(),
      original.action(), original.actorRole(), original.actorId(), "lender-forged", original.borrowerKey(),
      original.purpose(), original.scope(), original.decision(), original.reason(), original.consentId(),
      original.requestId(), original.scoreValue(), original.details(), original.prevHash(), null);
    String hash = BorrowerKeys.hex(ChainHash.rowHash(original.prevHash(), forged));
    tamper("UPDATE access_log SET lender_id = 'lender-forged', row_hash = '\\x" + hash + "' WHERE id = " + head);
    try {
      JsonObject v = verify(t0);
      assertFalse(v.getBoolean("intact"), v.encode());
      assertEquals(Long.toString(head), v.getString("firstBrokenId"), v.encode());
      assertEquals("checkpoint_mismatch", v.getString("problem"), v.encode());
    } finally {
      // put it back: later rows of this chain link to the original hash
      tamper("UPDATE access_log SET lender_id = NULL, row_hash = '\\x" + BorrowerKeys.hex(original.rowHash())
        + "' WHERE id = " + head);
    }
    assertTrue(verify(t0).getBoolean("intact"));
  }

  static Connection jdbc() throws SQLException {
    return DriverManager.getConnection(Database.jdbcUrl(bureau.config().postgres(),
      bureau.config().postgres().database()), bureau.config().postgres().user(), bureau.config().postgres().password());
  }

  /** Tricky details: what Postgres prints for them as jsonb must be exactly what the writer hashed. */
  static List<JsonObject> trickyDetails() {
    List<JsonObject> out = new ArrayList<>();
    out.add(new JsonObject());
    out.add(new JsonObject().put("status", 400).put("fields", new JsonArray().add("purpose").add("scope")));
    out.add(new JsonObject().put("bbb", 1).put("a", 2).put("cc", 3).put("B", 4).put("\u00e9", 5).put("z", 6)
      .put("\u4e2d\u6587", "\u503c").put("ab", null));
    out.add(new JsonObject().put("nested", new JsonObject().put("y", new JsonArray().add(1).add(new JsonObject()
      .put("k", true).put("j", false)).add(new JsonArray())).put("x", new JsonObject())));
    out.add(new JsonObject().put("q", "say \"hi\" \\ back/slash").put("ctl", "a\tb\nc\rd\be\ff\u0001g\u001fh\u007f")
      .put("emoji", "\ud83d\ude00 caf\u00e9 \u2028 \u00a0"));
    out.add(new JsonObject().put("i", Integer.MAX_VALUE).put("l", Long.MIN_VALUE).put("d", 1.5).put("e", 1.0e20)
      .put("s", 1.5e-7).put("z", 0.0).put("nz", -0.0).put("f", 0.1f).put("big", new BigInteger("123456789012345678901234567890"))
      .put("dec", new java.math.BigDecimal("1.2300")).put("one", 1.0).put("neg", -42));
    out.add(new JsonObject().put("list", java.util.Map.of("k", List.of(1, "two"))));
    return out;
  }

  @Test
  @Order(7)
  @DisplayName("details survive jsonb exactly: tricky objects hash the same in the writer and from the stored column")
  void detailsRoundTripJsonb() throws Exception {
    try (Connection c = jdbc()) {
      for (JsonObject d : trickyDetails()) {
        String text = ChainHash.canonicalJson(d);
        try (var ps = c.prepareStatement("SELECT ?::jsonb::text")) {
          ps.setString(1, text);
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            assertEquals(text, rs.getString(1), "jsonb prints " + d.encode() + " differently");
          }
        }
      }
      // a whole chain of such rows, inserted as the writer would, verifies intact
      Instant t0 = mark();
      String chain = "jsonb-" + System.nanoTime();
      byte[] prev = ChainHash.GENESIS;
      long seq = 0;
      {
        for (JsonObject d : trickyDetails()) {
          long id = bureau.count("SELECT nextval('access_log_id_seq')");
          Instant at = Instant.now().truncatedTo(ChronoUnit.MICROS);
          UUID consent = seq % 2 == 0 ? UUID.randomUUID() : null;
          AccessLogEntry e = new AccessLogEntry(id, at, chain, ++seq, "TEST", "compliance", "officer-\u00e9", null,
            seq % 2 == 0 ? new byte[32] : null, null, null, "GRANTED", "r\u00e9ason \"q\"", consent, "req-" + seq,
            seq % 2 == 0 ? 712 : null, d, prev, null);
          byte[] hash = ChainHash.rowHash(prev, e);
          try (var ins = c.prepareStatement("INSERT INTO access_log (id, at, chain_id, chain_seq, action, actor_role,"
            + " actor_id, lender_id, borrower_key, purpose, scope, decision, reason, consent_id, request_id, score_value,"
            + " details_json, details, prev_hash, row_hash) VALUES (?, ?, ?, ?, 'TEST', 'compliance', ?, NULL, ?, NULL,"
            + " NULL, 'GRANTED', ?, ?, ?, ?, ?::json, ?::jsonb, ?, ?)")) {
            ins.setLong(1, id);
            ins.setObject(2, at.atOffset(java.time.ZoneOffset.UTC));
            ins.setString(3, chain);
            ins.setLong(4, seq);
            ins.setString(5, e.actorId());
            ins.setBytes(6, e.borrowerKey());
            ins.setString(7, e.reason());
            ins.setObject(8, consent);
            ins.setString(9, e.requestId());
            ins.setObject(10, e.scoreValue(), java.sql.Types.INTEGER);
            ins.setString(11, ChainHash.canonicalJson(d));
            ins.setString(12, ChainHash.canonicalJson(d));
            ins.setBytes(13, prev);
            ins.setBytes(14, hash);
            ins.executeUpdate();
          }
          prev = hash;
        }
      }
      JsonObject v = verify(t0);
      assertTrue(v.getBoolean("intact"), v.encode());
      assertTrue(v.getLong("checked") >= seq, v.encode());
    }
  }

  static AccessLogEntry stored(long id) throws SQLException {
    try (Connection c = DriverManager.getConnection(Database.jdbcUrl(bureau.config().postgres(),
      bureau.config().postgres().database()), bureau.config().postgres().user(), bureau.config().postgres().password());
         Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT id, at, chain_id, chain_seq, action, actor_role, actor_id, lender_id,"
           + " borrower_key, purpose, scope, decision, reason, consent_id, request_id, score_value,"
           + " coalesce(details_json::text, details::text),"
           + " prev_hash, row_hash FROM access_log WHERE id = " + id)) {
      rs.next();
      String details = rs.getString(17);
      return new AccessLogEntry(rs.getLong(1), rs.getObject(2, OffsetDateTime.class).toInstant(), rs.getString(3),
        rs.getLong(4), rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.getBytes(9),
        rs.getString(10), rs.getString(11), rs.getString(12), rs.getString(13), rs.getObject(14, UUID.class),
        rs.getString(15), (Integer) rs.getObject(16), details == null ? null : new JsonObject(details),
        rs.getBytes(18), rs.getBytes(19));
    }
  }

  @Test
  @Order(9)
  @DisplayName("a deleted tail, invisible to a chain walk, is caught by the signed checkpoint")
  void tailDeletion() throws Exception {
    Instant t0 = mark();
    List<Long> ids = rows(5);
    String chain = chainOf(ids.get(4));
    long seq = awaitCheckpoint(chain);
    long survivor = bureau.count("SELECT id FROM access_log WHERE chain_id = '" + chain + "' AND chain_seq = " + (seq - 2));
    tamper("DELETE FROM access_log WHERE chain_id = '" + chain + "' AND chain_seq > " + (seq - 2));
    JsonObject v = verify(t0);
    assertFalse(v.getBoolean("intact"), v.encode());
    assertEquals("tail_missing", v.getString("problem"), v.encode());
    assertEquals(Long.toString(survivor), v.getString("firstBrokenId"), v.encode());
  }

  static String chainOf(long id) {
    return bureau.sqlString("SELECT chain_id FROM access_log WHERE id = " + id);
  }

  static long seqOf(long id) {
    return bureau.count("SELECT chain_seq FROM access_log WHERE id = " + id);
  }

  /** Waits until the chain's current head is checkpointed; returns its seq. */
  static long awaitCheckpoint(String chain) throws InterruptedException {
    long head = bureau.count("SELECT max(chain_seq) FROM access_log WHERE chain_id = '" + chain + "'");
    for (int i = 0; i < 100; i++) {
      if (bureau.count("SELECT coalesce(max(chain_seq), 0) FROM audit_checkpoints WHERE chain_id = '" + chain + "'") >= head) {
        return head;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no checkpoint of " + chain + " at " + head);
  }

}
