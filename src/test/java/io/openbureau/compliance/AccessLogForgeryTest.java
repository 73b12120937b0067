package io.openbureau.compliance;

import io.openbureau.audit.AccessLogEntry;
import io.openbureau.audit.ChainHash;
import io.openbureau.cli.MaintenanceCommand;
import io.openbureau.config.BureauConfig;
import io.openbureau.config.ConfigException;
import io.openbureau.consent.ReceiptSigner;
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

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The moves of issue 10 (items 2-4) made as the Postgres superuser, triggers bypassed where the
 * move needs it, each named by verify. Each test writes its chains through a second instance of
 * the bureau that it then stops gracefully (so the chain is finished and signed as ended, and no
 * live writer appends to it), tampers only those chains, and verifies from its own start time.
 * {@code compliance.checkpointGraceSeconds: 2} and a one-second interval make the window in which
 * uncovered rows are still allowed three seconds; tests about it poll verify against a deadline.
 */
@DisplayName("Access-log forgery by the database superuser: verify checks every signature and record it relies on")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AccessLogForgeryTest {
  private static final String PERSON = NationalId.of("110101", LocalDate.of(1979, 6, 2), 23);
  private static final Duration WINDOW = Duration.ofSeconds(3);
  private static TestBureau bureau;
  private static int calls;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("forgery", overrides());
  }

  static JsonObject overrides() {
    return new JsonObject().put("compliance", new JsonObject().put("checkpointIntervalSeconds", 1)
      .put("checkpointGraceSeconds", 2).put("verifyBatchRows", 10));
  }

  @AfterAll
  static void stop() {
    bureau.close();
  }

  // ---- helpers

  /** One SELF_INQUIRIES row written by {@code via}; returns its id. */
  static long row(TestBureau via) {
    String rid = "fg-" + (++calls) + "-" + System.nanoTime();
    Api.Res r = via.api.send(via.api.builder("/v1/me/inquiries?limit=1", Tokens.borrower(PERSON))
      .header("X-Request-Id", rid).GET().build());
    assertEquals(200, r.status(), r.toString());
    return bureau.count("SELECT id FROM access_log WHERE request_id = '" + rid + "'");
  }

  /**
   * Rows written by an instance that is then stopped gracefully: returns the ids of the chain of the
   * last row, in chain order (that chain is checkpointed at its head and finished: its end is signed).
   */
  static List<Long> finishedChain(int n) throws InterruptedException {
    TestBureau other = bureau.sibling();
    long last = 0;
    try {
      for (int i = 0; i < n; i++) {
        last = row(other);
      }
      awaitCheckpoint(chainOf(last));
    } finally {
      other.stop();
    }
    return chainIds(chainOf(last));
  }

  static List<Long> chainIds(String chain) {
    List<Long> ids = new ArrayList<>();
    try (Connection c = jdbc(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT id FROM access_log WHERE chain_id = '" + chain + "' ORDER BY chain_seq")) {
      while (rs.next()) {
        ids.add(rs.getLong(1));
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return ids;
  }

  static JsonObject verify(Instant from) {
    Api.Res r = bureau.api.get("/v1/compliance/access-log/verify?from=" + enc(from.toString()) + "&to="
      + enc(Instant.now().plusSeconds(1).toString()), Tokens.compliance());
    assertEquals(200, r.status(), r.toString());
    return r.json();
  }

  /** Verifies until the answer passes {@code until} (or a deadline); returns the last answer. */
  static JsonObject verifyUntil(Instant from, Predicate<JsonObject> until) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    JsonObject v = verify(from);
    while (!until.test(v) && System.nanoTime() < deadline) {
      Thread.sleep(250);
      v = verify(from);
    }
    return v;
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static void tamper(String sql) {
    bureau.sql("SET session_replication_role = replica; " + sql);
  }

  static Instant mark() throws InterruptedException {
    Thread.sleep(5);
    return Instant.now().truncatedTo(ChronoUnit.MILLIS);
  }

  static String chainOf(long id) {
    return bureau.sqlString("SELECT chain_id FROM access_log WHERE id = " + id);
  }

  static Connection jdbc() throws SQLException {
    BureauConfig.Postgres pg = bureau.config().postgres();
    return DriverManager.getConnection(Database.jdbcUrl(pg, pg.database()), pg.user(), pg.password());
  }

  static AccessLogEntry stored(long id) throws SQLException {
    try (Connection c = jdbc(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT id, at, chain_id, chain_seq, action, actor_role, actor_id, lender_id,"
           + " borrower_key, purpose, scope, decision, reason, consent_id, request_id, score_value, details::text,"
           + " prev_hash, row_hash FROM access_log WHERE id = " + id)) {
      assertTrue(rs.next(), "row " + id);
      String details = rs.getString(17);
      return new AccessLogEntry(rs.getLong(1), rs.getObject(2, OffsetDateTime.class).toInstant(), rs.getString(3),
        rs.getLong(4), rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.getBytes(9),
        rs.getString(10), rs.getString(11), rs.getString(12), rs.getString(13), rs.getObject(14, UUID.class),
        rs.getString(15), (Integer) rs.getObject(16), details == null ? null : new JsonObject(details),
        rs.getBytes(18), rs.getBytes(19));
    }
  }

  /** A row like {@code e} at another place: its hash computed as the writer does. */
  static AccessLogEntry forged(AccessLogEntry e, long id, Instant at, String chain, long seq, String lender, byte[] prev) {
    AccessLogEntry draft = new AccessLogEntry(id, at, chain, seq, e.action(), e.actorRole(), e.actorId(), lender,
      e.borrowerKey(), e.purpose(), e.scope(), e.decision(), e.reason(), e.consentId(), e.requestId(), e.scoreValue(),
      e.details(), prev, null);
    return new AccessLogEntry(id, at, chain, seq, e.action(), e.actorRole(), e.actorId(), lender, e.borrowerKey(),
      e.purpose(), e.scope(), e.decision(), e.reason(), e.consentId(), e.requestId(), e.scoreValue(), e.details(), prev,
      ChainHash.rowHash(prev, draft));
  }

  static void insert(AccessLogEntry e) throws SQLException {
    try (Connection c = jdbc(); PreparedStatement ins = c.prepareStatement("INSERT INTO access_log (id, at, chain_id,"
      + " chain_seq, action, actor_role, actor_id, lender_id, borrower_key, purpose, scope, decision, reason, consent_id,"
      + " request_id, score_value, details, prev_hash, row_hash, hash_version, details_json) VALUES (?, ?, ?, ?, ?, ?, ?,"
      + " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?::json)")) {
      ins.setLong(1, e.id());
      ins.setObject(2, e.at().atOffset(ZoneOffset.UTC));
      ins.setString(3, e.chainId());
      ins.setLong(4, e.chainSeq());
      ins.setString(5, e.action());
      ins.setString(6, e.actorRole());
      ins.setString(7, e.actorId());
      ins.setString(8, e.lenderId());
      ins.setBytes(9, e.borrowerKey());
      ins.setString(10, e.purpose());
      ins.setString(11, e.scope());
      ins.setString(12, e.decision());
      ins.setString(13, e.reason());
      ins.setObject(14, e.consentId());
      ins.setString(15, e.requestId());
      ins.setObject(16, e.scoreValue(), java.sql.Types.INTEGER);
      ins.setString(17, e.details() == null ? null : ChainHash.canonicalJson(e.details()));
      ins.setBytes(18, e.prevHash());
      ins.setBytes(19, e.rowHash());
      ins.setInt(20, e.hashVersion());
      ins.setString(21, e.detailsText());
      ins.executeUpdate();
    }
  }

  /**
   * Re-hashes the chain from {@code ids[from]} on, that row's lender changed: a consistent chain,
   * as the superuser would make it. Returns the new hash per index.
   */
  static List<byte[]> rehash(List<Long> ids, int from) throws SQLException {
    List<byte[]> hashes = new ArrayList<>();
    byte[] prev = stored(ids.get(from)).prevHash();
    for (int i = from; i < ids.size(); i++) {
      AccessLogEntry e = stored(ids.get(i));
      AccessLogEntry f = forged(e, e.id(), e.at(), e.chainId(), e.chainSeq(), i == from ? "lender-forged" : e.lenderId(),
        prev);
      tamper("UPDATE access_log SET lender_id = " + (f.lenderId() == null ? "NULL" : "'" + f.lenderId() + "'")
        + ", prev_hash = '\\x" + BorrowerKeys.hex(f.prevHash()) + "', row_hash = '\\x" + BorrowerKeys.hex(f.rowHash())
        + "' WHERE id = " + e.id());
      hashes.add(f.rowHash());
      prev = f.rowHash();
    }
    return hashes;
  }

  /** Deletes the chain's signed end, where that table exists (it does not before V5). */
  static void deleteChainEnd(String chain) {
    tamper("DO $$ BEGIN IF to_regclass('audit_chain_ends') IS NOT NULL THEN"
      + " DELETE FROM audit_chain_ends WHERE chain_id = '" + chain + "'; END IF; END $$");
  }

  /** Waits until the chain's current head is checkpointed. */
  static void awaitCheckpoint(String chain) throws InterruptedException {
    long head = bureau.count("SELECT max(chain_seq) FROM access_log WHERE chain_id = '" + chain + "'");
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (bureau.count("SELECT coalesce(max(chain_seq), 0) FROM audit_checkpoints WHERE chain_id = '" + chain + "'") < head) {
      assertTrue(System.nanoTime() < deadline, "no checkpoint of " + chain + " at " + head);
      Thread.sleep(100);
    }
  }

  static long seqOf(long id) {
    return bureau.count("SELECT chain_seq FROM access_log WHERE id = " + id);
  }

  // ---- item 2: checkpoint signatures

  @Test
  @Order(1)
  @DisplayName("a chain re-hashed with its checkpoints' head_hash rewritten is named: checkpoint_signature")
  void rewrittenCheckpoint() throws Exception {
    Instant t0 = mark();
    List<Long> ids = finishedChain(6);
    String chain = chainOf(ids.get(0));
    assertTrue(bureau.count("SELECT count(*) FROM audit_checkpoints WHERE chain_id = '" + chain + "'") > 0);
    List<byte[]> hashes = rehash(ids, 1);
    for (int i = 1; i < ids.size(); i++) {
      String set = "head_hash = '\\x" + BorrowerKeys.hex(hashes.get(i - 1)) + "' WHERE chain_id = '" + chain
        + "' AND chain_seq = " + seqOf(ids.get(i));
      tamper("UPDATE audit_checkpoints SET " + set);
      tamper("DO $$ BEGIN IF to_regclass('audit_chain_ends') IS NOT NULL THEN UPDATE audit_chain_ends SET " + set
        + "; END IF; END $$");
    }
    JsonObject v = verify(t0);
    assertFalse(v.getBoolean("intact"), v.encode());
    assertEquals("checkpoint_signature", v.getString("problem"), v.encode());
    assertEquals(chain, v.getString("brokenChain"), v.encode());
    assertTrue(ids.subList(1, ids.size()).contains(Long.parseLong(v.getString("firstBrokenId"))), v.encode());
  }

  @Test
  @Order(2)
  @DisplayName("a chain re-hashed with its checkpoints and end deleted is named once its rows are older than the window:"
    + " unaccounted_rows")
  void deletedCheckpoints() throws Exception {
    Instant t0 = mark();
    List<Long> ids = finishedChain(6);
    String chain = chainOf(ids.get(0));
    rehash(ids, 1);
    tamper("DELETE FROM audit_checkpoints WHERE chain_id = '" + chain + "' AND chain_seq >= " + seqOf(ids.get(1)));
    deleteChainEnd(chain);
    long covered = bureau.count("SELECT coalesce(max(chain_seq), 0) FROM audit_checkpoints WHERE chain_id = '" + chain + "'");
    long firstUncovered = ids.get((int) covered);
    JsonObject v = verifyUntil(t0, x -> !x.getBoolean("intact"));
    assertFalse(v.getBoolean("intact"), v.encode());
    assertEquals("unaccounted_rows", v.getString("problem"), v.encode());
    assertEquals(Long.toString(firstUncovered), v.getString("firstBrokenId"), v.encode());
  }

  // ---- item 3: a vanished chain

  @Test
  @Order(3)
  @DisplayName("a whole chain deleted with its checkpoints kept is named by its checkpoint: chain_missing")
  void vanishedChain() throws Exception {
    Instant t0 = mark();
    List<Long> ids = finishedChain(4);
    String chain = chainOf(ids.get(0));
    long firstCheckpoint = bureau.count("SELECT id FROM audit_checkpoints WHERE chain_id = '" + chain
      + "' ORDER BY at, id LIMIT 1");
    tamper("DELETE FROM access_log WHERE chain_id = '" + chain + "'");
    JsonObject v = verify(t0);
    assertFalse(v.getBoolean("intact"), v.encode());
    assertEquals("chain_missing", v.getString("problem"), v.encode());
    assertEquals(chain, v.getString("brokenChain"), v.encode());
    assertNull(v.getValue("firstBrokenId"), v.encode());
    assertEquals(Long.toString(firstCheckpoint), v.getString("brokenCheckpointId"), v.encode());
  }

  // ---- item 4: forged rows and chains

  @Test
  @Order(4)
  @DisplayName("a forged row with a correct hash appended after a finished chain's head is named at once: unaccounted_rows")
  void appendAfterEnd() throws Exception {
    Instant t0 = mark();
    List<Long> ids = finishedChain(4);
    AccessLogEntry head = stored(ids.get(ids.size() - 1));
    long id = bureau.count("SELECT nextval('access_log_id_seq')");
    insert(forged(head, id, Instant.now().truncatedTo(ChronoUnit.MICROS), head.chainId(), head.chainSeq() + 1,
      "lender-forged", head.rowHash()));
    JsonObject v = verify(t0);
    assertFalse(v.getBoolean("intact"), v.encode());
    assertEquals("unaccounted_rows", v.getString("problem"), v.encode());
    assertEquals(Long.toString(id), v.getString("firstBrokenId"), v.encode());
  }

  @Test
  @Order(5)
  @DisplayName("a forged row appended after the head with the chain's signed end deleted is named once older than the"
    + " window: unaccounted_rows")
  void appendAfterDeletedEnd() throws Exception {
    Instant t0 = mark();
    List<Long> ids = finishedChain(4);
    AccessLogEntry head = stored(ids.get(ids.size() - 1));
    deleteChainEnd(head.chainId());
    // the writer's last checkpoint may be before the head (the end covered the rest): the first uncovered row
    long covered = bureau.count("SELECT coalesce(max(chain_seq), 0) FROM audit_checkpoints WHERE chain_id = '"
      + head.chainId() + "'");
    long id = bureau.count("SELECT nextval('access_log_id_seq')");
    insert(forged(head, id, Instant.now().truncatedTo(ChronoUnit.MICROS), head.chainId(), head.chainSeq() + 1,
      "lender-forged", head.rowHash()));
    long expected = covered >= head.chainSeq() ? id : ids.get((int) covered);
    JsonObject v = verifyUntil(t0, x -> !x.getBoolean("intact"));
    assertFalse(v.getBoolean("intact"), v.encode());
    assertEquals("unaccounted_rows", v.getString("problem"), v.encode());
    assertEquals(Long.toString(expected), v.getString("firstBrokenId"), v.encode());
  }

  @Test
  @Order(6)
  @DisplayName("a forged two-row chain with correct hashes is named once older than the window: unaccounted_rows")
  void forgedChain() throws Exception {
    Instant t0 = mark();
    long template = row(bureau);
    AccessLogEntry e = stored(template);
    String chain = "f0rged00-1-" + Long.toString(System.currentTimeMillis(), 36);
    long first = bureau.count("SELECT nextval('access_log_id_seq')");
    long second = bureau.count("SELECT nextval('access_log_id_seq')");
    Instant at = t0.plusMillis(1);
    AccessLogEntry a = forged(e, first, at, chain, 1, "lender-forged", ChainHash.GENESIS);
    AccessLogEntry b = forged(e, second, at.plusMillis(1), chain, 2, "lender-forged", a.rowHash());
    insert(a);
    insert(b);
    JsonObject v = verifyUntil(t0, x -> !x.getBoolean("intact"));
    assertFalse(v.getBoolean("intact"), v.encode());
    assertEquals("unaccounted_rows", v.getString("problem"), v.encode());
    assertEquals(Long.toString(first), v.getString("firstBrokenId"), v.encode());
    assertEquals(chain, v.getString("brokenChain"), v.encode());
  }

  @Test
  @Order(7)
  @DisplayName("the first rows deleted behind a forged anchor (and a forged maintenance_log row) are named: anchor_forged")
  void forgedAnchor() throws Exception {
    Instant t0 = mark();
    List<Long> ids = finishedChain(5);
    AccessLogEntry second = stored(ids.get(1));
    String partition = "access_log_2020_01";
    tamper("DELETE FROM access_log WHERE id IN (" + ids.get(0) + ", " + ids.get(1) + ")");
    bureau.sql("INSERT INTO audit_anchors (chain_id, chain_seq, row_hash, partition) VALUES ('" + second.chainId()
      + "', " + second.chainSeq() + ", '\\x" + BorrowerKeys.hex(second.rowHash()) + "', '" + partition + "')");
    bureau.sql("INSERT INTO maintenance_log (action, details) VALUES ('ACCESS_LOG_RETENTION_DROP', '"
      + new JsonObject().put("partition", partition).put("anchors", new JsonArray().add(new JsonObject()
      .put("chainId", second.chainId()).put("chainSeq", second.chainSeq()))).encode() + "')");
    JsonObject v = verify(t0);
    assertFalse(v.getBoolean("intact"), v.encode());
    assertEquals("anchor_forged", v.getString("problem"), v.encode());
    assertEquals(second.chainId(), v.getString("brokenChain"), v.encode());
  }

  // ---- the honest log

  @Test
  @Order(8)
  @DisplayName("an honest log across a graceful restart verifies intact, before and after the window, its ended chains"
    + " signed")
  void honestRestart() throws Exception {
    Instant t0 = mark();
    TestBureau first = bureau.sibling();
    List<Long> before = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      before.add(row(first));
    }
    first.stop();
    TestBureau second = bureau.sibling();
    try {
      for (int i = 0; i < 6; i++) {
        row(second);
        row(bureau);
      }
      JsonObject v = verify(t0);
      assertTrue(v.getBoolean("intact"), v.encode());
      assertTrue(v.getLong("checked") >= 18, v.encode());
      for (long id : before) {
        String chain = chainOf(id);
        assertEquals(bureau.count("SELECT max(chain_seq) FROM access_log WHERE chain_id = '" + chain + "'"),
          bureau.count("SELECT chain_seq FROM audit_chain_ends WHERE chain_id = '" + chain + "' AND reason = 'stop'"),
          "the stopped writer signed its chain's end");
      }
      // past the window: every row is covered by a signature (live writers keep signing)
      Instant past = Instant.now().plus(WINDOW).plusSeconds(1);
      while (Instant.now().isBefore(past)) {
        Thread.sleep(200);
      }
      v = verify(t0);
      assertTrue(v.getBoolean("intact"), v.encode());
    } finally {
      second.stop();
    }
  }

  @Test
  @Order(9)
  @DisplayName("a writer that abandons its chain after a failed commit signs where the chain really ended; the log"
    + " verifies intact")
  void abandonedChainEnded() throws Exception {
    Instant t0 = mark();
    JsonObject raw = bureau.config().raw().copy();
    raw.getJsonObject("http").put("port", TestBureau.freePort()).put("instances", 1);
    TestBureau one = TestBureau.startWith(BureauConfig.from(raw));
    try {
      long last = 0;
      for (int i = 0; i < 3; i++) {
        last = row(one);
      }
      String chain = chainOf(last);
      long head = seqOf(last);
      bureau.sql("CREATE FUNCTION fg_fail_marked() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        + " IF NEW.request_id LIKE 'fg-fail-%' THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$;"
        + " CREATE TRIGGER fg_fail_marked BEFORE INSERT ON access_log FOR EACH ROW EXECUTE FUNCTION fg_fail_marked()");
      try {
        Api.Res r = one.api.send(one.api.builder("/v1/me/inquiries?limit=1", Tokens.borrower(PERSON))
          .header("X-Request-Id", "fg-fail-" + System.nanoTime()).GET().build());
        assertEquals(503, r.status(), r.toString());
      } finally {
        bureau.sql("DROP TRIGGER fg_fail_marked ON access_log; DROP FUNCTION fg_fail_marked()");
      }
      long next = row(one);
      assertFalse(chain.equals(chainOf(next)), "the writer went on in a new chain");
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (bureau.count("SELECT count(*) FROM audit_chain_ends WHERE chain_id = '" + chain + "'") == 0) {
        assertTrue(System.nanoTime() < deadline, "the abandoned chain's end was never signed");
        Thread.sleep(100);
      }
      assertEquals(head, bureau.count("SELECT chain_seq FROM audit_chain_ends WHERE chain_id = '" + chain
        + "' AND reason = 'abandoned'"), "the end is the last committed row, not the failed batch");
      JsonObject v = verify(t0);
      assertTrue(v.getBoolean("intact"), v.encode());
    } finally {
      one.stop();
    }
  }

  /** Signs a checkpoint as the bureau's Checkpointer does (its claims: see Checkpointer). */
  static void checkpoint(ReceiptSigner signer, AccessLogEntry head, Instant at) {
    String jws = signer.sign(new JsonObject().put("iss", ReceiptSigner.ISSUER).put("typ", Checkpointer.TYPE)
      .put("chainId", head.chainId()).put("chainSeq", head.chainSeq()).put("headHash", BorrowerKeys.hex(head.rowHash()))
      .put("at", at.toString()).put("iat", at.getEpochSecond()));
    bureau.sql("INSERT INTO audit_checkpoints (at, chain_id, chain_seq, head_hash, signature) VALUES ('"
      + at.atOffset(ZoneOffset.UTC) + "', '" + head.chainId() + "', " + head.chainSeq() + ", '\\x"
      + BorrowerKeys.hex(head.rowHash()) + "', '" + jws + "')");
  }

  @Test
  @Order(10)
  @DisplayName("retention signs its anchors and logs them: a chain across a dropped partition verifies intact, and the"
    + " anchor with its signature rewritten is anchor_forged")
  void signedAnchors() throws Exception {
    // a chain written two months ago and three days ago, checkpointed as the bureau would
    ReceiptSigner signer = ReceiptSigner.load(bureau.config().signing());
    AccessLogEntry template = stored(row(bureau));
    String chain = "0a1d0a1d-1-" + Long.toString(System.currentTimeMillis(), 36);
    Instant old = Instant.now().atOffset(ZoneOffset.UTC).minusMonths(2).toInstant().truncatedTo(ChronoUnit.MICROS);
    Instant recent = Instant.now().minus(Duration.ofDays(3)).truncatedTo(ChronoUnit.MICROS);
    byte[] prev = ChainHash.GENESIS;
    List<AccessLogEntry> rows = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Instant at = (i < 2 ? old : recent).plusMillis(i);
      AccessLogEntry e = forged(template, bureau.count("SELECT nextval('access_log_id_seq')"), at, chain, i + 1, null, prev);
      insert(e);
      rows.add(e);
      prev = e.rowHash();
    }
    checkpoint(signer, rows.get(1), old.plusSeconds(1));
    checkpoint(signer, rows.get(3), recent.plusSeconds(1));
    String partition = String.format("access_log_%04d_%02d", old.atOffset(ZoneOffset.UTC).getYear(),
      old.atOffset(ZoneOffset.UTC).getMonthValue());
    String done = MaintenanceCommand.retention(bureau.config(), 1, false, OffsetDateTime.now(ZoneOffset.UTC));
    assertTrue(done.contains("dropped " + partition), done);
    assertEquals(1, bureau.count("SELECT count(*) FROM audit_anchors WHERE chain_id = '" + chain + "' AND chain_seq = 2"
      + " AND signature IS NOT NULL"));
    assertEquals(1, bureau.count("SELECT count(*) FROM maintenance_log WHERE details->>'partition' = '" + partition
      + "' AND details->'anchors' @> '[{\"chainId\": \"" + chain + "\", \"chainSeq\": 2}]'"));

    Instant from = recent.minusSeconds(1);
    Api.Res r = bureau.api.get("/v1/compliance/access-log/verify?from=" + enc(from.toString()) + "&to="
      + enc(recent.plusSeconds(60).toString()), Tokens.compliance());
    assertTrue(r.json().getBoolean("intact"), r.toString());
    assertEquals(2, r.json().getLong("checked"), r.toString());

    String sig = bureau.sqlString("SELECT signature FROM audit_anchors WHERE chain_id = '" + chain + "'");
    tamper("UPDATE audit_anchors SET signature = '" + sig.substring(0, sig.length() - 4) + "AAAA' WHERE chain_id = '"
      + chain + "'");
    r = bureau.api.get("/v1/compliance/access-log/verify?from=" + enc(from.toString()) + "&to="
      + enc(recent.plusSeconds(60).toString()), Tokens.compliance());
    assertFalse(r.json().getBoolean("intact"), r.toString());
    assertEquals("anchor_forged", r.json().getString("problem"), r.toString());
    assertEquals(Long.toString(rows.get(2).id()), r.json().getString("firstBrokenId"), r.toString());
  }

  @Test
  @Order(11)
  @DisplayName("a writer killed with kill -9 leaves its rows after the last checkpoint: allowed within the window, then"
    + " unaccounted_rows flagged crashTail")
  void killedWriter() throws Exception {
    Instant t0 = mark();
    // the bureau as a real process (same database), checkpointing every 5 s so a tail is left for sure
    JsonObject raw = bureau.config().raw().copy();
    int port = TestBureau.freePort();
    raw.getJsonObject("http").put("port", port).put("instances", 1);
    raw.getJsonObject("compliance").put("checkpointIntervalSeconds", 5);
    Path dir = Files.createTempDirectory("ob-killed");
    Path overlay = Files.writeString(dir.resolve("overlay.yaml"), raw.encode());
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
      System.getProperty("java.class.path"), "io.openbureau.Main", "serve")
      .redirectErrorStream(true).redirectOutput(dir.resolve("bureau.log").toFile());
    pb.environment().put("BUREAU_CONFIG", overlay.toString());
    Process process = pb.start();
    try {
      Api child = new Api("http://127.0.0.1:" + port);
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (true) {
        try {
          if (child.get("/health/live", null).status() == 200) {
            break;
          }
        } catch (RuntimeException e) {
          // not listening yet
        }
        assertTrue(process.isAlive() && System.nanoTime() < deadline, "the bureau process did not start; see " + dir);
        Thread.sleep(200);
      }
      long last = 0;
      for (int i = 0; i < 3; i++) {
        last = rowVia(child);
      }
      String chain = chainOf(last);
      awaitCheckpoint(chain);
      long firstTail = rowVia(child);
      rowVia(child);
      process.destroyForcibly().waitFor();
      assertEquals(chain, chainOf(firstTail));
      assertEquals(0, bureau.count("SELECT count(*) FROM audit_chain_ends WHERE chain_id = '" + chain + "'"));
      JsonObject v = verifyUntil(t0, x -> !x.getBoolean("intact"));
      assertFalse(v.getBoolean("intact"), v.encode());
      assertEquals("unaccounted_rows", v.getString("problem"), v.encode());
      assertEquals(Long.toString(firstTail), v.getString("firstBrokenId"), v.encode());
      assertEquals(Boolean.TRUE, v.getBoolean("crashTail"), v.encode());
    } finally {
      process.destroyForcibly().waitFor();
      for (String f : List.of("overlay.yaml", "bureau.log")) {
        Files.deleteIfExists(dir.resolve(f));
      }
      Files.deleteIfExists(dir);
    }
  }

  static long rowVia(Api api) {
    String rid = "fg-" + (++calls) + "-" + System.nanoTime();
    Api.Res r = api.send(api.builder("/v1/me/inquiries?limit=1", Tokens.borrower(PERSON)).header("X-Request-Id", rid)
      .GET().build());
    assertEquals(200, r.status(), r.toString());
    return bureau.count("SELECT id FROM access_log WHERE request_id = '" + rid + "'");
  }

  // ---- signatures after a key rotation (last: the rotated instances sign with a key the others do not know)

  static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
      .encodeToString(der) + "\n-----END " + type + "-----\n";
  }

  @Test
  @Order(20)
  @DisplayName("after a key rotation checkpoints signed with a previous key still verify when it is listed, and do not"
    + " when it is not")
  void rotation() throws Exception {
    Instant t0 = mark();
    for (int i = 0; i < 4; i++) {
      row(bureau);
    }
    awaitCheckpoint(chainOf(row(bureau)));
    KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
    gen.initialize(2048);
    KeyPair pair = gen.generateKeyPair();
    Path dir = Files.createTempDirectory("ob-rotation");
    Path priv = Files.writeString(dir.resolve("new.key.pem"), pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
    Path pub = Files.writeString(dir.resolve("new.pub.pem"), pem("PUBLIC KEY", pair.getPublic().getEncoded()));
    String oldKeyId = bureau.config().signing().keyId();
    String oldPub = bureau.config().signing().publicKeyPem();

    JsonObject raw = bureau.config().raw().copy();
    raw.getJsonObject("http").put("port", TestBureau.freePort());
    raw.put("signing", new JsonObject().put("keyId", "bureau-rotated-2").put("privateKeyPem", priv.toString())
      .put("publicKeyPem", pub.toString()).put("development", true)
      .put("previousPublicKeys", new JsonArray().add(new JsonObject().put("keyId", oldKeyId).put("publicKeyPem", oldPub))));
    TestBureau rotated = TestBureau.startWith(BureauConfig.from(raw));
    try {
      JsonArray keys = rotated.api.get("/.well-known/jwks.json", null).json().getJsonArray("keys");
      assertEquals(2, keys.size(), keys.encode());
      assertEquals("bureau-rotated-2", keys.getJsonObject(0).getString("kid"));
      assertEquals(oldKeyId, keys.getJsonObject(1).getString("kid"));
      Api.Res r = rotated.api.get("/v1/compliance/access-log/verify?from=" + enc(t0.toString()) + "&to="
        + enc(Instant.now().plusSeconds(1).toString()), Tokens.compliance());
      assertTrue(r.json().getBoolean("intact"), r.toString());
      assertTrue(r.json().getInteger("checkpointsCompared") > 0, r.toString());
    } finally {
      rotated.stop();
    }

    JsonObject forgetful = raw.copy();
    forgetful.getJsonObject("http").put("port", TestBureau.freePort());
    forgetful.getJsonObject("signing").remove("previousPublicKeys");
    TestBureau alone = TestBureau.startWith(BureauConfig.from(forgetful));
    try {
      Api.Res r = alone.api.get("/v1/compliance/access-log/verify?from=" + enc(t0.toString()) + "&to="
        + enc(Instant.now().plusSeconds(1).toString()), Tokens.compliance());
      assertFalse(r.json().getBoolean("intact"), r.toString());
      assertEquals("checkpoint_signature", r.json().getString("problem"), r.toString());
    } finally {
      alone.stop();
    }

    // a previous key that is not a readable public key refuses start-up; a reused key id is a config error
    JsonObject broken = raw.copy();
    broken.getJsonObject("signing").put("previousPublicKeys", new JsonArray().add(new JsonObject().put("keyId", "old-x")
      .put("publicKeyPem", dir.resolve("missing.pem").toString())));
    ConfigException missing = assertThrows(ConfigException.class, () -> ReceiptSigner.load(BureauConfig.from(broken).signing()));
    assertTrue(missing.getMessage().contains("signing.previousPublicKeys[0]"), missing.getMessage());
    JsonObject reused = raw.copy();
    reused.getJsonObject("signing").put("previousPublicKeys", new JsonArray().add(new JsonObject()
      .put("keyId", "bureau-rotated-2").put("publicKeyPem", oldPub)));
    ConfigException dup = assertThrows(ConfigException.class, () -> BureauConfig.from(reused));
    assertTrue(dup.getMessage().contains("signing.previousPublicKeys[0].keyId"), dup.getMessage());
    assertNotNull(ReceiptSigner.load(BureauConfig.from(raw).signing()));
  }
}
