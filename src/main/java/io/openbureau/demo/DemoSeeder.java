package io.openbureau.demo;

import io.openbureau.cli.TokenCommand;
import io.openbureau.config.BureauConfig;
import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;

/**
 * A small demo data set: three member lenders, three people with loans at several lenders, and
 * consents for lender-a. Idempotent: running it twice changes nothing.
 */
public final class DemoSeeder {
  private static final Logger LOG = LoggerFactory.getLogger(DemoSeeder.class);

  /** The demo people. Synthetic ids: valid checksums, not real persons. */
  public static final String ALICE = NationalId.of("110105", LocalDate.of(1988, 3, 14), 123);
  public static final String BOB = NationalId.of("310104", LocalDate.of(1992, 11, 2), 456);
  public static final String CHEN = NationalId.of("440305", LocalDate.of(1979, 7, 30), 789);

  private final BureauConfig config;
  private final Pool pool;
  private final BorrowerKeys keys;

  private final io.openbureau.scoring.ScoreStore scores;

  public DemoSeeder(BureauConfig config, Pool pool, io.openbureau.scoring.ScoreStore scores) {
    this.scores = scores;
    this.config = config;
    this.pool = pool;
    this.keys = new BorrowerKeys(config.identity().hmacKeyId(), config.identity().hmacSecret());
  }

  public Future<Void> seed() {
    List<Tuple> members = List.of(
      Tuple.of("lender-a", "Lender A Consumer Finance"),
      Tuple.of("lender-b", "Lender B Micro Loans"),
      Tuple.of("lender-c", "Lender C Bank"));
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    List<Tuple> tradelines = List.of(
      tradeline("lender-a", "A-1001", ALICE, "CONSUMER_LOAN", today.minusYears(3), "20000.00", null, "OPEN", "8000.00", 0),
      tradeline("lender-b", "B-2001", ALICE, "CREDIT_CARD", today.minusYears(5), "0.00", "30000.00", "OPEN", "4500.00", 0),
      tradeline("lender-b", "B-2002", BOB, "MICRO_LOAN", today.minusMonths(2), "5000.00", null, "OPEN", "5000.00", 45),
      tradeline("lender-c", "C-3001", BOB, "BNPL", today.minusMonths(1), "3000.00", null, "OPEN", "3000.00", 0),
      tradeline("lender-c", "C-3002", CHEN, "MORTGAGE", today.minusYears(10), "900000.00", null, "OPEN", "420000.00", 0));
    return pool.preparedQuery("INSERT INTO members (id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING")
      .executeBatch(members)
      .compose(v -> pool.preparedQuery("""
          INSERT INTO tradelines (member_id, account_ref, borrower_key, key_id, product_type, opened_at, principal,
            credit_limit, status, balance, days_past_due)
          VALUES ($1, $2, $3, $4, $5, $6, $7::numeric, $8::numeric, $9, $10::numeric, $11)
          ON CONFLICT DO NOTHING""").executeBatch(tradelines))
      .compose(v -> pool.withTransaction(tx -> scores.recompute(tx, List.of(keys.key(ALICE), keys.key(BOB), keys.key(CHEN)))))
      .compose(scores::publish)
      .compose(v -> consent(ALICE, "lender-a", "LOAN_ORIGINATION", "REPORT"))
      .compose(v -> consent(BOB, "lender-a", "LOAN_ORIGINATION", "SCORE"))
      .onSuccess(v -> LOG.info("demo data seeded: 3 members, 3 people, {} loans", tradelines.size()))
      .mapEmpty();
  }

  private Tuple tradeline(String member, String ref, String id, String product, LocalDate opened, String principal,
                          String limit, String status, String balance, int dpd) {
    return Tuple.from(new Object[] {member, ref, io.vertx.core.buffer.Buffer.buffer(keys.key(id)), keys.keyId(), product,
      opened, new java.math.BigDecimal(principal), limit == null ? null : new java.math.BigDecimal(limit), status,
      new java.math.BigDecimal(balance), dpd});
  }

  private Future<Void> consent(String person, String lender, String purpose, String scope) {
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    return pool.preparedQuery("""
        INSERT INTO consents (id, borrower_key, key_id, lender_id, purpose, scope, status, granted_at, expires_at, version)
        SELECT $1, $2, $3, $4, $5, $6, 'ACTIVE', $7, $8, nextval('consent_version_seq')
        WHERE NOT EXISTS (SELECT 1 FROM consents WHERE borrower_key = $2 AND lender_id = $4 AND purpose = $5
                          AND status = 'ACTIVE')""")
      .execute(Tuple.of(UUID.randomUUID(), io.vertx.core.buffer.Buffer.buffer(keys.key(person)), keys.keyId(), lender,
        purpose, scope).addValue(now).addValue(now.plusDays(30)))
      .mapEmpty();
  }

  /**
   * Development tokens and a curl walk-through a person can paste. Called on a Vert.x thread (the
   * bureau's start-up callback), it uses that Vert.x: a second instance created on an event loop is
   * a warning, and a waste.
   */
  public static String walkthrough(BureauConfig config) {
    io.vertx.core.Context current = Vertx.currentContext();
    Vertx vertx = current != null ? current.owner() : Vertx.vertx();
    try {
      String admin = TokenCommand.mint(vertx, config, "admin", "ops-admin", 8 * 3600);
      String lender = TokenCommand.mint(vertx, config, "lender", "lender-a", 8 * 3600);
      String borrower = TokenCommand.mint(vertx, config, "borrower", ALICE, 8 * 3600);
      String compliance = TokenCommand.mint(vertx, config, "compliance", "officer-1", 8 * 3600);
      String base = "http://localhost:" + config.http().port();
      return """

        ==================== OpenBureau demo ====================
        Development tokens (valid 8 hours; dev issuer, refused in production):
        export ADMIN=%s
        export LENDER=%s
        export BORROWER=%s
        export COMPLIANCE=%s
        export BASE=%s

        Demo people (synthetic ids): Alice %s (consent for lender-a, REPORT), Bob %s, Chen %s

        # Is it up?
        curl -s $BASE/health/ready
        # Members (admin)
        curl -s -H "Authorization: Bearer $ADMIN" $BASE/v1/members
        # Suspend and reinstate a member: lender-a's token is refused on its very next request
        curl -s -X POST -H "Authorization: Bearer $ADMIN" $BASE/v1/members/lender-a/suspend
        curl -s -X POST -H "Authorization: Bearer $ADMIN" $BASE/v1/members/lender-a/reinstate
        # Errors are problem+json
        curl -s -H "Authorization: Bearer $LENDER" $BASE/v1/members
        # A lender asks for Alice's full report (she consented to lender-a, scope REPORT)
        curl -s -X POST -H "Authorization: Bearer $LENDER" -H 'Content-Type: application/json' $BASE/v1/inquiries \
          -d '{"nationalId":"%s","purpose":"LOAN_ORIGINATION","scope":"REPORT"}'
        # Chen gave lender-a no consent: 403 consent_required, and the attempt is in the access log
        curl -s -X POST -H "Authorization: Bearer $LENDER" -H 'Content-Type: application/json' $BASE/v1/inquiries \
          -d '{"nationalId":"%s","purpose":"LOAN_ORIGINATION"}'
        ==========================================================
        """.formatted(admin, lender, borrower, compliance, base, ALICE, BOB, CHEN, ALICE, CHEN);
    } finally {
      if (current == null) {
        vertx.close();
      }
    }
  }
}
