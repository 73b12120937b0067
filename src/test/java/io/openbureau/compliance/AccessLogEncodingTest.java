package io.openbureau.compliance;

import io.openbureau.audit.AccessLogEntry;
import io.openbureau.audit.ChainHash;
import io.openbureau.config.BureauConfig;
import io.openbureau.db.Database;
import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.PlainChainHash;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonObject;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hash encoding against a superuser who edits rows in place (triggers bypassed with
 * {@code session_replication_role = replica}) by the smallest amounts, the ones encoding v2 could
 * not see; and old v2 chains, written before the V4 migration by a plain reimplementation of the
 * old encoder ({@link PlainChainHash}), still verifying as they were written.
 *
 * <p>The database is first migrated only to V3 (the schema of the old code) and given the old
 * chains with the old writer's INSERT; the bureau then starts on it and migrates it to V4. Each
 * test verifies only its own time range, so one test's damage is not another's.
 */
@DisplayName("Access-log encoding: the smallest edit of any row is named by verify, and old v2 chains still verify")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AccessLogEncodingTest {
  private static final String LENDER = "enc-lender";
  private static final String LO = "LOAN_ORIGINATION";
  private static final String PERSON = NationalId.of("330106", LocalDate.of(1984, 7, 9), 41);
  private static final int LEGACY_ROWS = 6;
  /** The legacy chains, one per scenario, each alone in its own second of time. */
  private static final String[] SCENARIOS = {"intact", "text", "score_tens", "version", "details_json", "jsonb"};
  private static final List<Legacy> LEGACY = new ArrayList<>();
  private static TestBureau bureau;
  private static Api api;
  private static int calls;

  /** A v2 chain inserted before V4: its rows, and the range that holds only them. */
  record Legacy(String chain, List<AccessLogEntry> rows, Instant from, Instant to) {
  }

  @BeforeAll
  static void start() throws Exception {
    BureauConfig config = BureauConfig.from(TestBureau.testConfig("encoding"));
    BureauConfig.Postgres pg = config.postgres();
    try (Connection c = DriverManager.getConnection(Database.jdbcUrl(pg, "postgres"), TestBureau.SUPERUSER,
      TestBureau.SUPERUSER_PASSWORD); Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE " + pg.database() + " OWNER " + pg.migrationUser());
    }
    // the schema the old code ran on (V1..V3, without today's repeatable grants), and rows its writer produced
    BureauConfig.Postgres owner = pg.asOwner();
    Flyway.configure().dataSource(Database.jdbcUrl(owner, owner.database()), owner.user(), owner.password())
      .locations("classpath:db/migration").repeatableSqlMigrationPrefix("NONE__").target("3").load().migrate();
    Instant base = Instant.now().minus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS);
    try (Connection c = DriverManager.getConnection(Database.jdbcUrl(pg, pg.database()), TestBureau.SUPERUSER,
      TestBureau.SUPERUSER_PASSWORD)) {
      for (int k = 0; k < SCENARIOS.length; k++) {
        // the intact one just before the bureau starts, so a range holds it and the first v3 rows
        Instant from = k == 0 ? Instant.now().minusSeconds(2).truncatedTo(ChronoUnit.SECONDS) : base.plusSeconds(10L * k);
        LEGACY.add(writeLegacyChain(c, "legacy-" + SCENARIOS[k] + "-" + System.nanoTime(), from));
      }
      try (Statement st = c.createStatement()) {
        st.execute("SELECT setval('access_log_id_seq', (SELECT max(id) FROM access_log))");
      }
    }
    bureau = TestBureau.startWith(config); // migrates to V4 and later
    api = bureau.api;
    assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", LENDER).put("name", LENDER))
      .status());
    JsonObject loan = new JsonObject().put("nationalId", PERSON).put("productType", "CONSUMER_LOAN")
      .put("openedAt", "2021-03-15").put("principal", "20000.00").put("status", "OPEN").put("balance", "15000.00")
      .put("daysPastDue", 0);
    assertEquals(201, api.put("/v1/tradelines/ENC-1", Tokens.lender(LENDER), loan).status());
    assertEquals(201, api.post("/v1/me/consents", Tokens.borrower(PERSON),
      new JsonObject().put("lenderId", LENDER).put("purpose", LO).put("scope", "SCORE")).status());
  }

  @AfterAll
  static void stop() {
    if (bureau != null) {
      bureau.close();
    }
  }

  /**
   * Inserts a v2 chain as the old writer did (19 columns, details as jsonb text), hashed by the
   * plain reimplementation of the old encoder; every row has numbers of several digits.
   */
  static Legacy writeLegacyChain(Connection c, String chain, Instant from) throws SQLException {
    List<AccessLogEntry> rows = new ArrayList<>();
    byte[] prev = ChainHash.GENESIS;
    long id;
    try (Statement st = c.createStatement(); var rs = st.executeQuery("SELECT nextval('access_log_id_seq') + 1000")) {
      rs.next();
      id = rs.getLong(1);
    }
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO access_log (id, at, chain_id, chain_seq, action,"
      + " actor_role, actor_id, lender_id, borrower_key, purpose, scope, decision, reason, consent_id, request_id,"
      + " score_value, details, prev_hash, row_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb,"
      + " ?, ?)")) {
      for (int i = 0; i < LEGACY_ROWS; i++) {
        boolean granted = i % 3 != 2;
        byte[] key = new byte[32];
        key[0] = (byte) i;
        key[31] = (byte) (7 * i + 3);
        String details = granted ? null : "{\"fields\": [\"purpose\"], \"status\": 400}";
        // at ends in ...21 us: +-37 us and a last digit both stay where v2 could not see them
        Instant at = from.plus(1000L * i + 521, ChronoUnit.MICROS);
        AccessLogEntry e = new AccessLogEntry(id + 10L * i + 1, at, chain, i + 1, "INQUIRY", "lender", "legacy-lender",
          "legacy-lender", key, LO, "SCORE", granted ? "GRANTED" : "DENIED", granted ? null : "no_consent",
          granted ? UUID.nameUUIDFromBytes(key) : null, "req-legacy-" + i, granted ? 621 + i : null, null, prev, null,
          ChainHash.V2, details);
        byte[] hash = PlainChainHash.rowHash(prev, e);
        e = e.withRowHash(hash);
        ps.setLong(1, e.id());
        ps.setObject(2, at.atOffset(ZoneOffset.UTC));
        ps.setString(3, chain);
        ps.setLong(4, e.chainSeq());
        ps.setString(5, e.action());
        ps.setString(6, e.actorRole());
        ps.setString(7, e.actorId());
        ps.setString(8, e.lenderId());
        ps.setBytes(9, key);
        ps.setString(10, e.purpose());
        ps.setString(11, e.scope());
        ps.setString(12, e.decision());
        ps.setString(13, e.reason());
        ps.setObject(14, e.consentId());
        ps.setString(15, e.requestId());
        ps.setObject(16, e.scoreValue(), java.sql.Types.INTEGER);
        ps.setString(17, details);
        ps.setBytes(18, prev);
        ps.setBytes(19, hash);
        ps.executeUpdate();
        rows.add(e);
        prev = hash;
      }
    }
    return new Legacy(chain, rows, from, from.plusSeconds(1));
  }

  // ---- helpers

  /** A granted inquiry (a row with a score, a consent and a borrower key); its row id. */
  static long inquiry() {
    Api.Res r = api.post("/v1/inquiries", Tokens.lender(LENDER), new JsonObject().put("nationalId", PERSON)
      .put("purpose", LO));
    assertEquals(200, r.status(), r.toString());
    return Long.parseLong(r.json().getString("inquiryId"));
  }

  /** A person's read of who looked at them: a row with details {@code {"rows": n}}; its id. */
  static long selfRead() {
    String rid = "enc-" + (++calls) + "-" + System.nanoTime();
    Api.Res r = api.send(api.builder("/v1/me/inquiries?limit=1", Tokens.borrower(PERSON)).header("X-Request-Id", rid)
      .GET().build());
    assertEquals(200, r.status(), r.toString());
    return bureau.count("SELECT id FROM access_log WHERE request_id = '" + rid + "'");
  }

  /** A few rows of each kind; the tampered one is {@code rows().get(1)} or {@code get(2)}, with rows after it. */
  static List<Long> rows() {
    List<Long> ids = new ArrayList<>();
    ids.add(selfRead());
    ids.add(inquiry());
    ids.add(selfRead());
    ids.add(inquiry());
    ids.add(selfRead());
    return ids;
  }

  static Instant mark() throws InterruptedException {
    Thread.sleep(5);
    return Instant.now().truncatedTo(ChronoUnit.MILLIS);
  }

  static JsonObject verify(Instant from, Instant to) {
    Api.Res r = api.get("/v1/compliance/access-log/verify?from=" + enc(from.toString()) + "&to=" + enc(to.toString()),
      Tokens.compliance());
    assertEquals(200, r.status(), r.toString());
    return r.json();
  }

  static JsonObject verifyFrom(Instant from) {
    return verify(from, Instant.now().plusSeconds(1));
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static void tamper(String sql) {
    bureau.sql("SET session_replication_role = replica; " + sql);
  }

  static void assertNamed(JsonObject v, long id, String problem) {
    assertFalse(v.getBoolean("intact"), v.encode());
    assertEquals(Long.toString(id), v.getString("firstBrokenId"), v.encode());
    assertEquals(problem, v.getString("problem"), v.encode());
  }

  static long number(String sql) {
    return bureau.count(sql);
  }

  // ---- v3: rows the bureau writes now

  @Test
  @Order(1)
  @DisplayName("new rows are written as v3 with their details as the exact json text hashed, and verify intact beside v2 ones")
  void newRowsAreV3() throws Exception {
    List<Long> ids = rows();
    for (long id : ids) {
      assertEquals(3, number("SELECT hash_version FROM access_log WHERE id = " + id));
      assertEquals(1, number("SELECT count(*) FROM access_log WHERE id = " + id
        + " AND details IS NOT DISTINCT FROM details_json::jsonb"), "the jsonb copy for queries");
    }
    assertEquals("{\"rows\": 1}", bureau.sqlString("SELECT details_json::text FROM access_log WHERE id = " + ids.get(2)));
    assertEquals(0, number("SELECT count(DISTINCT hash_version) - 1 FROM access_log WHERE chain_id = (SELECT chain_id"
      + " FROM access_log WHERE id = " + ids.get(0) + ")"), "a chain never mixes encodings");
    // the range holds the intact v2 chain written before the migration and these v3 rows
    JsonObject v = verifyFrom(LEGACY.get(0).from());
    assertTrue(v.getBoolean("intact"), v.encode());
    assertTrue(v.getLong("checked") >= LEGACY_ROWS + ids.size(), v.encode());
    assertTrue(v.getInteger("chains") >= 2, v.encode());
  }

  @Test
  @Order(2)
  @DisplayName("a score changed by 4 (the last digit only) is named: hash_mismatch on that row")
  void scoreLastDigit() throws Exception {
    Instant t0 = mark();
    long id = rows().get(1);
    long score = number("SELECT score_value FROM access_log WHERE id = " + id);
    long forged = score % 10 < 6 ? score + 4 : score - 4; // same tens: the change v2 could not see
    tamper("UPDATE access_log SET score_value = " + forged + " WHERE id = " + id);
    assertNamed(verifyFrom(t0), id, "hash_mismatch");
  }

  @Test
  @Order(3)
  @DisplayName("a row's id changed in its last digit is named: hash_mismatch on the row under its new id")
  void idLastDigit() throws Exception {
    Instant t0 = mark();
    long id = rows().get(1);
    long forged = -1;
    for (int d = 1; d < 10 && forged < 0; d++) {
      long candidate = id - id % 10 + (id % 10 + d) % 10;
      // the primary key is (id, at): another row may hold the id at another time, like a forger's copy
      if (number("SELECT count(*) FROM access_log WHERE id = " + candidate + " AND at = (SELECT at FROM access_log"
        + " WHERE id = " + id + ")") == 0) {
        forged = candidate;
      }
    }
    assertTrue(forged > 0);
    tamper("UPDATE access_log SET id = " + forged + " WHERE id = " + id);
    assertNamed(verifyFrom(t0), forged, "hash_mismatch");
  }

  @Test
  @Order(4)
  @DisplayName("a row moved by 37 microseconds is named: hash_mismatch on that row")
  void at37Micros() throws Exception {
    Instant t0 = mark();
    long id = rows().get(1);
    long micros = number("SELECT (extract(epoch FROM at) * 1000000)::bigint FROM access_log WHERE id = " + id);
    // within the same hundred microseconds: the change v2 could not see
    String shift = micros % 100 < 63 ? "+" : "-";
    tamper("UPDATE access_log SET at = at " + shift + " interval '37 microseconds' WHERE id = " + id);
    assertNamed(verifyFrom(t0), id, "hash_mismatch");
  }

  @Test
  @Order(5)
  @DisplayName("one character of the details changed, even only a space of the json text, is named: hash_mismatch")
  void detailsOneCharacter() throws Exception {
    for (String change : List.of("replace(details_json::text, '1', '2')", "replace(details_json::text, ': ', ':')")) {
      Instant t0 = mark();
      long id = rows().get(2);
      String before = bureau.sqlString("SELECT details_json::text FROM access_log WHERE id = " + id);
      tamper("UPDATE access_log SET details_json = " + change + "::json WHERE id = " + id);
      String after = bureau.sqlString("SELECT details_json::text FROM access_log WHERE id = " + id);
      assertEquals(before.length(), after.length() + (change.contains("': '") ? 1 : 0), before + " -> " + after);
      assertNamed(verifyFrom(t0), id, "hash_mismatch");
    }
  }

  @Test
  @Order(6)
  @DisplayName("the jsonb copy of the details (for queries) is checked too: changed, or added to a row without details")
  void jsonbCopyChecked() throws Exception {
    Instant t0 = mark();
    long id = rows().get(2);
    tamper("UPDATE access_log SET details = jsonb_set(details, '{rows}', '2') WHERE id = " + id);
    assertNamed(verifyFrom(t0), id, "hash_mismatch");

    t0 = mark();
    id = rows().get(1);
    tamper("UPDATE access_log SET details = '{\"note\": \"added later\"}' WHERE id = " + id);
    assertNamed(verifyFrom(t0), id, "hash_mismatch");

    t0 = mark();
    id = rows().get(2);
    tamper("UPDATE access_log SET details = NULL WHERE id = " + id);
    assertNamed(verifyFrom(t0), id, "hash_mismatch");
  }

  @Test
  @Order(7)
  @DisplayName("a v3 row relabelled as v2 or as an unknown encoding is named, never a 500")
  void versionRelabelled() throws Exception {
    for (int version : new int[] {2, 9, -1}) {
      Instant t0 = mark();
      long id = rows().get(1);
      tamper("UPDATE access_log SET hash_version = " + version + " WHERE id = " + id);
      assertNamed(verifyFrom(t0), id, "hash_mismatch");
    }
  }

  // ---- v2: rows written before V4

  @Test
  @Order(8)
  @DisplayName("v2 chains written by the old encoder before the migration verify intact")
  void legacyChainIntact() throws Exception {
    Legacy l = LEGACY.get(0);
    for (AccessLogEntry e : l.rows()) {
      assertEquals(2, number("SELECT hash_version FROM access_log WHERE id = " + e.id()), "V4 marked old rows v2");
    }
    JsonObject v = verify(l.from(), l.to());
    assertTrue(v.getBoolean("intact"), v.encode());
    assertEquals(LEGACY_ROWS, v.getLong("checked"), v.encode());
    // the other legacy chains, untouched so far, together
    JsonObject others = verify(LEGACY.get(1).from(), LEGACY.get(LEGACY.size() - 1).to());
    assertTrue(others.getBoolean("intact"), others.encode());
    assertEquals((long) LEGACY_ROWS * (LEGACY.size() - 1), others.getLong("checked"), others.encode());
    assertEquals(LEGACY.size() - 1, others.getInteger("chains"), others.encode());
  }

  @Test
  @Order(9)
  @DisplayName("tampering a v2 row where v2 can see it (a text, a score's tens, the details) is still named")
  void legacyTamperSeen() {
    AccessLogEntry text = LEGACY.get(1).rows().get(2);
    tamper("UPDATE access_log SET lender_id = 'legacy-lendes' WHERE id = " + text.id());
    assertNamed(verify(LEGACY.get(1).from(), LEGACY.get(1).to()), text.id(), "hash_mismatch");

    AccessLogEntry scored = LEGACY.get(2).rows().get(1);
    tamper("UPDATE access_log SET score_value = score_value + 10 WHERE id = " + scored.id());
    assertNamed(verify(LEGACY.get(2).from(), LEGACY.get(2).to()), scored.id(), "hash_mismatch");

    AccessLogEntry withDetails = LEGACY.get(5).rows().get(2);
    tamper("UPDATE access_log SET details = '{\"fields\": [\"purposE\"], \"status\": 400}' WHERE id = "
      + withDetails.id());
    assertNamed(verify(LEGACY.get(5).from(), LEGACY.get(5).to()), withDetails.id(), "hash_mismatch");
  }

  @Test
  @Order(10)
  @DisplayName("a v2 row relabelled v3, or given a details_json its hash never covered, is named")
  void legacyRelabelled() {
    AccessLogEntry relabelled = LEGACY.get(3).rows().get(1);
    tamper("UPDATE access_log SET hash_version = 3 WHERE id = " + relabelled.id());
    assertNamed(verify(LEGACY.get(3).from(), LEGACY.get(3).to()), relabelled.id(), "hash_mismatch");

    AccessLogEntry added = LEGACY.get(4).rows().get(3);
    tamper("UPDATE access_log SET details_json = '{\"rows\": 1}' WHERE id = " + added.id());
    assertNamed(verify(LEGACY.get(4).from(), LEGACY.get(4).to()), added.id(), "hash_mismatch");
  }
}
