package io.openbureau.ageing;

import io.openbureau.cli.MaintenanceCommand;
import io.openbureau.config.BusinessTime;
import io.openbureau.identity.NationalId;
import io.openbureau.support.Api;
import io.openbureau.support.TestBureau;
import io.openbureau.support.Tokens;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@DisplayName("maintenance ageing [--dry-run]: the ageing pass from the command line")
class AgeingCommandTest {
  private static TestBureau bureau;
  private static final String A = Tokens.lender("lender-a");
  private static final LocalDate TODAY = BusinessTime.today();

  @BeforeAll
  static void start() {
    bureau = TestBureau.start("ageingcli", new JsonObject().put("ageing", new JsonObject().put("scheduled", false)));
    assertEquals(201, bureau.api.post("/v1/members", Tokens.admin(), new JsonObject().put("id", "lender-a").put("name", "A"))
      .status());
  }

  @AfterAll
  static void stop() {
    bureau.close();
  }

  static Clock on(LocalDate day) {
    return Clock.fixed(day.atTime(12, 0).atZone(BusinessTime.zone()).toInstant(), ZoneOffset.UTC);
  }

  static long accounts() {
    return bureau.count("SELECT count(*) FROM tradelines WHERE account_ref LIKE 'CLI-%'");
  }

  @Test
  @DisplayName("--dry-run prints what it would delete and changes nothing; the real run deletes it, re-scores and logs the counts")
  void dryRunThenRun() {
    String id = NationalId.of("440305", LocalDate.of(1979, 5, 5), 11);
    Api.Res r = bureau.api.put("/v1/tradelines/CLI-DEF-1", A, new JsonObject().put("nationalId", id)
      .put("productType", "MICRO_LOAN").put("openedAt", TODAY.minusYears(2).toString()).put("principal", "5000.00")
      .put("status", "DEFAULTED").put("balance", "0.00").put("daysPastDue", 200)
      .put("closedAt", TODAY.minusDays(3).toString()));
    assertEquals(201, r.status(), r.toString());
    long logs = bureau.count("SELECT count(*) FROM maintenance_log");
    LocalDate later = TODAY.plusYears(6);

    String dry = MaintenanceCommand.ageing(bureau.config(), true, on(later));
    assertTrue(dry.startsWith("dry run: negative data ageing 5 years (business date " + later + ")"), dry);
    assertTrue(dry.contains("would delete 0 late repayment period(s), 1 DEFAULTED/WRITTEN_OFF account(s)"), dry);
    assertTrue(dry.contains("nothing changed"), dry);
    assertEquals(1, accounts(), "a dry run deletes nothing");
    assertEquals(logs, bureau.count("SELECT count(*) FROM maintenance_log"), "and logs nothing");

    String done = MaintenanceCommand.ageing(bureau.config(), false, on(later));
    assertTrue(done.contains("deleted 0 late repayment period(s), 1 DEFAULTED/WRITTEN_OFF account(s)"), done);
    assertTrue(done.contains("recorded in maintenance_log"), done);
    assertEquals(0, accounts());
    assertEquals(1, bureau.count("SELECT count(*) FROM maintenance_log WHERE action = '" + AgeingRepository.RUN_ACTION
      + "' AND details->>'accountsDeleted' = '1'"));
    assertTrue(!done.contains(id), "never a national id");
    String hex = io.openbureau.identity.BorrowerKeys.hex(new io.openbureau.identity.BorrowerKeys(
      bureau.config().identity().hmacKeyId(), bureau.config().identity().hmacSecret()).key(id));
    assertEquals(1, bureau.count("SELECT count(*) FROM scores WHERE borrower_key = '\\x" + hex + "' AND value IS NULL"
      + " AND published_version = version"), "the person is re-scored (no accounts left: no score) and it is published");
  }

  @Test
  @DisplayName("an unknown option is a usage error; a pass already running makes the command fail with a clear message")
  void usageAndBusy() throws Exception {
    assertThrows(IllegalArgumentException.class, () -> MaintenanceCommand.run(bureau.config(), new String[] {"ageing", "--now"}));
    assertThrows(IllegalArgumentException.class, () -> MaintenanceCommand.run(bureau.config(), new String[] {"ageeing"}));
    try (Connection c = bureau.appConnection(); Statement st = c.createStatement()) {
      st.execute("SELECT pg_advisory_lock(" + AgeingRepository.PASS_LOCK + ")");
      IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> MaintenanceCommand.run(bureau.config(), new String[] {"ageing", "--dry-run"}));
      assertTrue(e.getMessage().contains("another ageing pass is running"), e.getMessage());
    }
    assertTrue(MaintenanceCommand.run(bureau.config(), new String[] {"ageing", "--dry-run"}).startsWith("dry run:"));
  }
}
