package io.openbureau.db;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.openbureau.config.BureauConfig;
import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("Least privilege: the server's role may append to and read the access log, and nothing a superuser could")
class LeastPrivilegeTest {
  private static final String LO = "LOAN_ORIGINATION";
  private static final AtomicInteger PEOPLE = new AtomicInteger();
  private static TestBureau bureau;
  private static Api api;

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("leastpriv", new JsonObject().put("compliance",
      new JsonObject().put("checkpointIntervalSeconds", 1)));
    api = bureau.api;
    assertEquals(201, api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", "lp-bank").put("name", "LP")).status());
    inquiry(); // rows to change, in this month's partition
  }

  @AfterAll
  static void stop() {
    bureau.close();
  }

  /** One inquiry with consent, answered 200: the log has a row in this month's partition afterwards. */
  static void inquiry() {
    String person = NationalId.of("110105", LocalDate.of(1979, 5, 1).plusDays(PEOPLE.incrementAndGet()), 17);
    assertEquals(201, api.post("/v1/me/consents", Tokens.borrower(person),
      new JsonObject().put("lenderId", "lp-bank").put("purpose", LO).put("scope", "SCORE")).status());
    Api.Res r = api.post("/v1/inquiries", Tokens.lender("lp-bank"), new JsonObject().put("nationalId", person).put("purpose", LO));
    assertEquals(200, r.status(), r.toString());
  }

  static boolean park() {
    LockSupport.parkNanos(50_000_000L);
    return true;
  }

  static Stream<Arguments> superuserMoves() {
    return Stream.of(
      Arguments.of("TRUNCATE access_log", "TRUNCATE access_log"),
      Arguments.of("TRUNCATE a partition", "TRUNCATE " + partition()),
      Arguments.of("UPDATE a row", "UPDATE access_log SET score_value = 850"),
      Arguments.of("UPDATE a row in its partition", "UPDATE " + partition() + " SET score_value = 850"),
      Arguments.of("DELETE a row", "DELETE FROM access_log WHERE id = (SELECT min(id) FROM access_log)"),
      Arguments.of("DISABLE TRIGGER", "ALTER TABLE access_log DISABLE TRIGGER access_log_no_update"),
      Arguments.of("DISABLE TRIGGER ALL", "ALTER TABLE access_log DISABLE TRIGGER ALL"),
      Arguments.of("SET session_replication_role = replica", "SET session_replication_role = replica"),
      Arguments.of("DETACH PARTITION", "ALTER TABLE access_log DETACH PARTITION " + partition()),
      Arguments.of("DROP TABLE a partition", "DROP TABLE " + partition()),
      Arguments.of("DROP TABLE access_log", "DROP TABLE access_log"),
      Arguments.of("DROP TABLE audit_checkpoints", "DROP TABLE audit_checkpoints"),
      Arguments.of("ALTER TABLE audit_checkpoints", "ALTER TABLE audit_checkpoints DISABLE TRIGGER audit_checkpoints_no_change"),
      Arguments.of("UPDATE audit_checkpoints", "UPDATE audit_checkpoints SET head_hash = '\\x00'"),
      Arguments.of("DELETE audit_checkpoints", "DELETE FROM audit_checkpoints"),
      Arguments.of("UPDATE audit_anchors", "UPDATE audit_anchors SET row_hash = '\\x00'"),
      Arguments.of("INSERT audit_anchors (a forged anchor)",
        "INSERT INTO audit_anchors (chain_id, chain_seq, row_hash, partition) VALUES ('x', 1, '\\x00', 'p')"),
      Arguments.of("DELETE maintenance_log", "DELETE FROM maintenance_log"),
      Arguments.of("CREATE TABLE in public", "CREATE TABLE public.lp_evil (id int)"),
      Arguments.of("CREATE TEMP TABLE", "CREATE TEMP TABLE access_log_shadow (id int)"),
      Arguments.of("CREATE FUNCTION in public", "CREATE FUNCTION public.lp_evil() RETURNS int LANGUAGE sql AS 'SELECT 1'"),
      Arguments.of("replace audit_ensure_partitions",
        "CREATE OR REPLACE FUNCTION audit_ensure_partitions(integer, integer) RETURNS void LANGUAGE sql AS ''"),
      Arguments.of("setval on the id sequence", "SELECT setval('access_log_id_seq', 1)"),
      Arguments.of("DELETE a consent", "DELETE FROM consents"),
      Arguments.of("TRUNCATE members", "TRUNCATE members CASCADE"),
      Arguments.of("SET ROLE to the owner", "SET ROLE openbureau_owner"),
      Arguments.of("read the migration history", "SELECT * FROM flyway_schema_history"));
  }

  static String partition() {
    return "access_log_" + YearMonth.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy_MM"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("superuserMoves")
  @DisplayName("as the server's role, each superuser move on the record is refused")
  void refused(String move, String sql) {
    long rows = bureau.count("SELECT count(*) FROM access_log");
    SQLException e = assertThrows(SQLException.class, () -> {
      try (Connection c = bureau.appConnection(); Statement st = c.createStatement()) {
        st.execute(sql);
      }
    }, move + " was allowed to " + bureau.config().postgres().user());
    assertEquals("42501", e.getSQLState(), move + ": " + e.getMessage()); // insufficient_privilege, must be owner
    assertEquals(rows, bureau.count("SELECT count(*) FROM access_log"));
    assertEquals(0, bureau.count("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'access_log'::regclass AND tgenabled = 'D'"));
  }

  @Test
  @DisplayName("every session the server opens (pools, audit writer, verify's JDBC scan) logs in as postgres.user, never the superuser")
  void serverSessionsAreTheAppRole() throws Exception {
    inquiry();
    assertEquals(200, api.get("/v1/compliance/access-log/verify", Tokens.compliance()).status());
    long deadline = System.nanoTime() + 5_000_000_000L;
    List<String> users;
    do { // a session this test closed a moment ago may still be listed while its backend exits
      users = new ArrayList<>();
      try (Connection c = bureau.superuserConnection(); Statement st = c.createStatement();
           ResultSet rs = st.executeQuery("SELECT DISTINCT usename FROM pg_stat_activity"
             + " WHERE datname = current_database() AND pid <> pg_backend_pid() ORDER BY 1")) {
        while (rs.next()) {
          users.add(rs.getString(1));
        }
      }
    } while (!users.equals(List.of("openbureau_app")) && System.nanoTime() < deadline && park());
    assertEquals(List.of("openbureau_app"), users);
    assertEquals("openbureau_app", bureau.config().postgres().user());
    assertEquals("openbureau_owner", bureau.sqlString("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'access_log'::regclass"));
    assertEquals("openbureau_owner", bureau.sqlString("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"));
  }

  @Test
  @DisplayName("under the restricted role the server still answers inquiries, writes the log and signs checkpoints")
  void serverStillWorks() {
    String inquiries = "SELECT count(*) FROM access_log WHERE action = 'INQUIRY' AND decision = 'GRANTED'";
    long before = bureau.count(inquiries);
    inquiry();
    inquiry();
    assertEquals(before + 2, bureau.count(inquiries));
    long deadline = System.nanoTime() + 20_000_000_000L;
    String uncovered = """
      SELECT count(*) FROM (SELECT chain_id, max(chain_seq) AS head FROM access_log GROUP BY chain_id) h
      WHERE NOT EXISTS (SELECT 1 FROM audit_checkpoints k WHERE k.chain_id = h.chain_id AND k.chain_seq >= h.head)""";
    while (bureau.count(uncovered) > 0) { // the checkpointer signs each head within a second
      assertTrue(System.nanoTime() < deadline, "no checkpoint covers the newest rows");
      LockSupport.parkNanos(50_000_000L);
    }
    Api.Res v = api.get("/v1/compliance/access-log/verify", Tokens.compliance());
    assertEquals(200, v.status(), v.toString());
    assertTrue(v.json().getBoolean("intact"), v.toString());
  }

  @Test
  @DisplayName("the server's role runs audit_ensure_partitions (as its owner) and start-up re-creates a missing future month")
  void partitionsStillCreated() throws Exception {
    String future = "access_log_" + YearMonth.now(ZoneOffset.UTC).plusMonths(3).format(DateTimeFormatter.ofPattern("yyyy_MM"));
    bureau.sql("ALTER TABLE access_log DETACH PARTITION " + future + "; DROP TABLE " + future);
    try (Connection c = bureau.appConnection(); Statement st = c.createStatement()) {
      st.execute("SELECT audit_ensure_partitions(1, 3)"); // what the periodic job runs
    }
    assertEquals("openbureau_owner", bureau.sqlString("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = '" + future + "'"));
    assertEquals(1, bureau.count("SELECT count(*) FROM pg_inherits WHERE inhrelid = '" + future + "'::regclass"));

    bureau.sql("ALTER TABLE access_log DETACH PARTITION " + future + "; DROP TABLE " + future);
    TestBureau sibling = bureau.sibling(); // start-up runs the same maintenance as the server's role
    try {
      assertEquals(1, bureau.count("SELECT count(*) FROM pg_class WHERE relname = '" + future + "'"));
    } finally {
      sibling.stop();
    }

    SQLException e = assertThrows(SQLException.class, () -> {
      try (Connection c = bureau.appConnection(); Statement st = c.createStatement()) {
        st.execute("SELECT audit_ensure_partitions(0, 100000)");
      }
    });
    assertEquals("22023", e.getSQLState(), e.getMessage()); // bounded: no flood of partitions
  }

  /** Tables and sequences of schema public on which the server's role holds no privilege at all. */
  static String ungranted(TestBureau b) {
    return b.sqlString("""
      SELECT string_agg(c.relname, ', ' ORDER BY c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND NOT c.relispartition AND c.relname <> 'flyway_schema_history'
        AND ((c.relkind IN ('r', 'p', 'v', 'm')
              AND NOT has_table_privilege('openbureau_app', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER'))
          OR (c.relkind = 'S' AND NOT has_sequence_privilege('openbureau_app', c.oid, 'USAGE, SELECT, UPDATE')))""");
  }

  @Test
  @DisplayName("every table and sequence in schema public grants the server's role something (a forgotten grant is named)")
  void noTableForgotten() {
    String missing = ungranted(bureau);
    assertEquals(null, missing, "no privilege for openbureau_app on: " + missing
      + " (add a GRANT to src/main/resources/db/migration/R__app_privileges.sql)");
    // and the audit tables hold exactly what the server needs
    for (String table : PrivilegeCheck.AUDIT_TABLES) {
      assertEquals(0, bureau.count("SELECT count(*) FROM pg_class WHERE oid = '" + table + "'::regclass AND"
        + " has_table_privilege('openbureau_app', oid, 'UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')"), table);
    }
  }

  @Test
  @DisplayName("a table a migration adds without a grant is named by that check")
  void forgottenGrantIsNamed() {
    bureau.sql("CREATE TABLE lp_new_feature (id bigserial PRIMARY KEY); ALTER TABLE lp_new_feature OWNER TO openbureau_owner");
    try {
      assertEquals("lp_new_feature, lp_new_feature_id_seq", ungranted(bureau));
    } finally {
      bureau.sql("DROP TABLE lp_new_feature");
    }
  }

  @Test
  @DisplayName("a postgres.user that does not exist stops start-up with a message naming postgres.user")
  void missingLogin() {
    JsonObject raw = TestBureau.testConfig("lp_nologin");
    raw.getJsonObject("postgres").put("user", "lp_no_such_role");
    BureauConfig config = BureauConfig.from(raw);
    try {
      String message = refusal(config);
      assertTrue(message.contains("postgres.user 'lp_no_such_role' does not exist"), message);
    } finally {
      TestBureau.dropDatabase(config);
    }
  }

  /** A production configuration (no development issuer or keys) over its own database. */
  static JsonObject production(String name) {
    JsonObject raw = TestBureau.testConfig(name);
    raw.put("env", "production");
    raw.getJsonObject("identity").put("hmacSecret", "test-production-hmac-secret-0123456789abcdef");
    raw.getJsonObject("signing").put("development", false);
    JsonArray issuers = new JsonArray();
    for (Object o : raw.getJsonObject("auth").getJsonArray("issuers")) {
      if (!Boolean.TRUE.equals(((JsonObject) o).getValue("development"))) {
        issuers.add(o);
      }
    }
    raw.getJsonObject("auth").put("issuers", issuers);
    return raw;
  }

  static String refusal(BureauConfig config) {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> TestBureau.startWith(config).stop());
    return String.valueOf(e.getCause() == null ? e.getMessage() : e.getCause().getMessage());
  }

  @Test
  @DisplayName("with env: production the server refuses to start as the superuser postgres, naming postgres.user")
  void productionRefusesSuperuser() {
    JsonObject raw = production("lp_prod_su");
    raw.getJsonObject("postgres").put("user", "postgres");
    BureauConfig config = BureauConfig.from(raw);
    try {
      String message = refusal(config);
      assertTrue(message.contains("postgres.user 'postgres'"), message);
      assertTrue(message.contains("superuser"), message);
      assertTrue(message.contains("production"), message);
    } finally {
      TestBureau.dropDatabase(config);
    }
  }

  @Test
  @DisplayName("with env: production it starts as openbureau_app, and refuses once that role may UPDATE the access log")
  void productionChecksGrants() {
    BureauConfig config = BureauConfig.from(production("lp_prod_app"));
    try {
      TestBureau prod = TestBureau.startWith(config);
      assertEquals(200, prod.api.get("/health/ready", null).status());
      prod.stop();
      prod.sql("GRANT UPDATE ON access_log TO openbureau_app");
      String message = refusal(config);
      assertTrue(message.contains("postgres.user 'openbureau_app' may UPDATE, DELETE or TRUNCATE access_log"), message);
      prod.sql("REVOKE UPDATE ON access_log FROM openbureau_app; GRANT openbureau_owner TO openbureau_app");
      try {
        message = refusal(config);
        assertTrue(message.contains("owns access_log"), message);
      } finally {
        prod.sql("REVOKE openbureau_owner FROM openbureau_app");
      }
    } finally {
      TestBureau.dropDatabase(config);
    }
  }

  @Test
  @DisplayName("in development a superuser login only logs one warning naming postgres.user, and the server starts")
  void developmentWarns() {
    JsonObject raw = TestBureau.testConfig("lp_dev_su");
    raw.put("env", "development");
    raw.getJsonObject("postgres").put("user", "postgres");
    BureauConfig config = BureauConfig.from(raw);
    Logger logger = (Logger) LoggerFactory.getLogger(PrivilegeCheck.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try (TestBureau dev = TestBureau.startWith(config)) {
      assertEquals(200, dev.api.get("/health/ready", null).status());
      List<ILoggingEvent> warnings = appender.list.stream().filter(e -> e.getLevel() == Level.WARN).toList();
      assertEquals(1, warnings.size(), warnings.toString());
      assertTrue(warnings.get(0).getFormattedMessage().contains("postgres.user 'postgres' is a superuser"),
        warnings.get(0).getFormattedMessage());
    } finally {
      logger.detachAppender(appender);
      TestBureau.dropDatabase(config);
    }
  }

  @Test
  @DisplayName("a database the superuser migrated before is handed to the owner by scripts/sql/adopt-database.sql and then restricted")
  void adoptsAnOldDatabase() throws Exception {
    BureauConfig config = BureauConfig.from(TestBureau.testConfig("lp_adopt"));
    BureauConfig.Postgres pg = config.postgres();
    String url = Database.jdbcUrl(pg, pg.database());
    try {
      try (Connection c = DriverManager.getConnection(Database.jdbcUrl(pg, "postgres"), TestBureau.SUPERUSER,
        TestBureau.SUPERUSER_PASSWORD); Statement st = c.createStatement()) {
        st.execute("CREATE DATABASE " + pg.database());
      }
      // as the server did before: migrated (to V3, the last release) by the superuser
      Flyway.configure().dataSource(url, TestBureau.SUPERUSER, TestBureau.SUPERUSER_PASSWORD)
        .locations("classpath:db/migration").repeatableSqlMigrationPrefix("NONE__").target("3").load().migrate();
      try (Connection c = DriverManager.getConnection(url, TestBureau.SUPERUSER, TestBureau.SUPERUSER_PASSWORD);
           Statement st = c.createStatement()) {
        st.execute(Files.readString(Path.of("scripts/sql/adopt-database.sql")));
      }
      try (TestBureau adopted = TestBureau.startWith(config)) {
        assertEquals(0, adopted.count("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
          + " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S') AND pg_get_userbyid(c.relowner) <> 'openbureau_owner'"));
        try (Connection c = adopted.appConnection(); Statement st = c.createStatement()) {
          SQLException e = assertThrows(SQLException.class, () -> st.execute("TRUNCATE access_log"));
          assertEquals("42501", e.getSQLState());
        }
        assertEquals(201, adopted.api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", "lp-old").put("name", "Old"))
          .status());
      }
    } finally {
      TestBureau.dropDatabase(config);
    }
  }
}
