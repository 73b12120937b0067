package io.openbureau.report;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

/**
 * A person's full report from the system of record: every tradeline any member furnished about
 * them, with its repayment history (newest period first). Used by REPORT-scope inquiries and by
 * the person's own {@code /v1/me/report}; the caller adds the score and over-borrowing block.
 *
 * <p>Disputes (V12): a tradeline or period carries {@code "dispute": {disputeId, status,
 * statement}} of its latest dispute (the person's statement travels with the report, also once
 * resolved); one a dispute resolved DELETED is left out. Read in the same statement as the data,
 * so a report never shows a deleted period beside a dispute that says it is there.
 */
public final class ReportReader {
  static final String TRADELINES = """
    SELECT t.member_id, t.account_ref, t.product_type, t.opened_at, t.principal::text AS principal,
           t.credit_limit::text AS credit_limit, t.currency, t.term_months, t.status, t.balance::text AS balance,
           t.days_past_due, t.closed_at, t.updated_at,
           coalesce((SELECT json_agg(json_build_object('period', r.period, 'amountDue', r.amount_due::text,
                                                       'amountPaid', r.amount_paid::text,
                                                       'daysPastDue', r.days_past_due) ORDER BY r.period DESC)
                     FROM repayments r WHERE r.member_id = t.member_id AND r.account_ref = t.account_ref
                       AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.member_id = r.member_id
                                         AND d.account_ref = r.account_ref AND d.period = r.period
                                         AND d.outcome = 'DELETED')),
                    '[]'::json) AS repayments,
           (SELECT json_agg(json_build_object('disputeId', d.id, 'period', d.period, 'status', d.status,
                                              'statement', d.statement) ORDER BY d.opened_at, d.id)
            FROM disputes d WHERE d.member_id = t.member_id AND d.account_ref = t.account_ref) AS disputes
    FROM tradelines t WHERE t.borrower_key = $1
      AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.member_id = t.member_id AND d.account_ref = t.account_ref
                        AND d.period IS NULL AND d.outcome = 'DELETED')
    ORDER BY t.opened_at DESC, t.member_id, t.account_ref""";

  private final SqlClient pg;

  public ReportReader(SqlClient pg) {
    this.pg = pg;
  }

  /** The person's tradelines, as {@code [{"lenderId", "accountRef", ...furnished fields, "repayments"}]}. */
  public Future<JsonArray> tradelines(byte[] borrowerKey) {
    return pg.preparedQuery(TRADELINES).execute(Tuple.of(Buffer.buffer(borrowerKey))).map(rows -> {
      JsonArray out = new JsonArray();
      for (Row r : rows) {
        Object repayments = r.getValue("repayments");
        JsonArray periods = repayments instanceof JsonArray a ? a : new JsonArray();
        JsonObject tradeline = new JsonObject().put("lenderId", r.getString("member_id"))
          .put("accountRef", r.getString("account_ref"))
          .put("productType", r.getString("product_type")).put("openedAt", r.getLocalDate("opened_at").toString())
          .put("principal", r.getString("principal")).put("creditLimit", r.getString("credit_limit"))
          .put("currency", r.getString("currency")).put("termMonths", r.getInteger("term_months"))
          .put("status", r.getString("status")).put("balance", r.getString("balance"))
          .put("daysPastDue", r.getInteger("days_past_due"))
          .put("closedAt", r.getLocalDate("closed_at") == null ? null : r.getLocalDate("closed_at").toString())
          .put("updatedAt", r.getOffsetDateTime("updated_at").toInstant().toString())
          .put("repayments", periods);
        if (r.getValue("disputes") instanceof JsonArray disputes) {
          mark(tradeline, periods, disputes);
        }
        out.add(tradeline);
      }
      return out;
    });
  }

  /** The latest dispute of the tradeline and of each period (the list is oldest first: the last wins). */
  private static void mark(JsonObject tradeline, JsonArray periods, JsonArray disputes) {
    java.util.Map<String, JsonObject> byPeriod = new java.util.HashMap<>();
    for (int i = 0; i < disputes.size(); i++) {
      JsonObject d = disputes.getJsonObject(i);
      JsonObject mark = new JsonObject().put("disputeId", d.getString("disputeId")).put("status", d.getString("status"))
        .put("statement", d.getString("statement"));
      String period = d.getString("period");
      if (period == null) {
        tradeline.put("dispute", mark);
      } else {
        byPeriod.put(period, mark);
      }
    }
    for (int i = 0; i < periods.size(); i++) {
      JsonObject p = periods.getJsonObject(i);
      JsonObject mark = byPeriod.get(p.getString("period"));
      if (mark != null) {
        p.put("dispute", mark);
      }
    }
  }
}
