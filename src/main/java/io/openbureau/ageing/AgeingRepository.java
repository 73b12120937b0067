package io.openbureau.ageing;

import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * All SQL of negative data ageing (API.md "Negative data ageing (v1.1)"), for the daily pass and for
 * furnishing (late-arriving old data is aged in its own transaction). The rule, with {@code $cutoff}
 * = business today minus {@code ageing.negativeDataYears}, something negative being deleted when
 * its behaviour ended before the cut-off:
 * <ul>
 *   <li>a late period ({@code days_past_due > 0}) ends with the last day of the first later period
 *       reported with {@code days_past_due = 0}, or with the account's {@code closed_at}, whichever
 *       comes first (never before the late period's own last day). It ended before the cut-off when
 *       its month is before the cut-off's month and the account closed before the cut-off or an
 *       on-time period later than it and before the cut-off's month exists: the period is deleted;</li>
 *   <li>a DEFAULTED or WRITTEN_OFF account ends at its {@code closed_at}: the account itself is the
 *       negative information (its status says it was not repaid, and rewriting it would report
 *       something false), so the tradeline and every repayment period of it are deleted;</li>
 *   <li>any other account closed before the cut-off keeps its positive history, and the days past
 *       due it was last reported with are set to 0 (that lateness ended at the latest at closing).</li>
 * </ul>
 * An account with no {@code closed_at} that is still late or in default has not ended: kept.
 */
public final class AgeingRepository {
  /** The maintenance_log actions (counts only, never a person). */
  public static final String BATCH_ACTION = "negative_data_ageing";
  public static final String RUN_ACTION = "negative_data_ageing_run";
  public static final String ON_ARRIVAL_ACTION = "negative_data_ageing_on_arrival";
  /** The advisory lock of the ageing pass ("ob aging" in ASCII): one pass at a time over all instances. */
  static final long PASS_LOCK = 0x6f62206167696e67L;
  static final String TRY_LOCK = "SELECT pg_try_advisory_lock(" + PASS_LOCK + ") AS held";
  static final String UNLOCK = "SELECT pg_advisory_unlock(" + PASS_LOCK + ")";

  /** A repayment r of account t that is an aged late period ($1 cut-off date, $2 cut-off month). */
  static final String LATE_AGED = """
    (r.days_past_due > 0 AND r.period < $2::text AND (t.closed_at < $1 OR EXISTS (
      SELECT 1 FROM repayments c WHERE c.member_id = r.member_id AND c.account_ref = r.account_ref
        AND c.period > r.period AND c.period < $2::text AND c.days_past_due = 0)))""";
  /** Account t is an aged default: deleted whole ($1 cut-off date). */
  static final String ACCOUNT_AGED = "(t.status IN ('DEFAULTED', 'WRITTEN_OFF') AND t.closed_at < $1)";
  /** Account t closed before the cut-off still carries its last days past due ($1 cut-off date). */
  static final String DPD_AGED = "(t.status NOT IN ('DEFAULTED', 'WRITTEN_OFF') AND t.closed_at < $1 AND t.days_past_due > 0)";

  static final String DELETE_REPAYMENTS = """
    DELETE FROM repayments r USING tradelines t, unnest($3::text[], $4::text[]) AS a(member_id, account_ref)
    WHERE t.member_id = a.member_id AND t.account_ref = a.account_ref
      AND r.member_id = t.member_id AND r.account_ref = t.account_ref
      AND (""" + ACCOUNT_AGED + " OR " + LATE_AGED + """
    )
    RETURNING t.borrower_key, """ + ACCOUNT_AGED + " AS whole";
  static final String DELETE_TRADELINES = """
    DELETE FROM tradelines t USING unnest($2::text[], $3::text[]) AS a(member_id, account_ref)
    WHERE t.member_id = a.member_id AND t.account_ref = a.account_ref AND """ + ACCOUNT_AGED + """

    RETURNING t.borrower_key""";
  static final String CLEAR_DAYS_PAST_DUE = """
    UPDATE tradelines t SET days_past_due = 0, updated_at = now()
    FROM unnest($2::text[], $3::text[]) AS a(member_id, account_ref)
    WHERE t.member_id = a.member_id AND t.account_ref = a.account_ref AND """ + DPD_AGED + """

    RETURNING t.borrower_key""";
  /**
   * The next accounts with something aged, after the cursor ($3, $4), at most $5: each half walks
   * its partial index (V13) in account order from the cursor.
   */
  static final String CANDIDATES = """
    SELECT a.member_id, a.account_ref, t.borrower_key FROM (
      (SELECT DISTINCT r.member_id, r.account_ref
       FROM repayments r JOIN tradelines t ON t.member_id = r.member_id AND t.account_ref = r.account_ref
       WHERE (r.member_id, r.account_ref) > ($3::text, $4::text) AND """ + LATE_AGED + """

       ORDER BY r.member_id, r.account_ref LIMIT $5)
      UNION
      (SELECT t.member_id, t.account_ref FROM tradelines t
       WHERE (t.member_id, t.account_ref) > ($3::text, $4::text) AND t.closed_at < $1
         AND (t.status IN ('DEFAULTED', 'WRITTEN_OFF') OR t.days_past_due > 0)
       ORDER BY t.member_id, t.account_ref LIMIT $5)
    ) a JOIN tradelines t ON t.member_id = a.member_id AND t.account_ref = a.account_ref
    ORDER BY a.member_id, a.account_ref LIMIT $5""";
  static final String LOCK_PEOPLE = "SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k";
  static final String LOG = "INSERT INTO maintenance_log (action, details) VALUES ($1, $2)";
  static final String RAN_ON = """
    SELECT EXISTS (SELECT 1 FROM maintenance_log WHERE action = $1 AND details->>'date' = $2) AS ran""";

  private AgeingRepository() {
  }

  /** What one ageing step deleted, and whose data it was (borrower keys by hex; never logged). */
  public record Aged(long latePeriods, long accounts, long accountPeriods, long clearedDaysPastDue,
                     Map<String, byte[]> people) {
    public static final Aged NONE = new Aged(0, 0, 0, 0, Map.of());

    public boolean any() {
      return latePeriods + accounts + accountPeriods + clearedDaysPastDue > 0;
    }

    public Aged plus(Aged o) {
      Map<String, byte[]> all = new LinkedHashMap<>(people);
      all.putAll(o.people);
      return new Aged(latePeriods + o.latePeriods, accounts + o.accounts, accountPeriods + o.accountPeriods,
        clearedDaysPastDue + o.clearedDaysPastDue, all);
    }

    /** Counts only: what maintenance_log and the CLI show. */
    public JsonObject counts() {
      return new JsonObject().put("latePeriodsDeleted", latePeriods).put("accountsDeleted", accounts)
        .put("accountPeriodsDeleted", accountPeriods).put("daysPastDueCleared", clearedDaysPastDue)
        .put("people", people.size());
    }
  }

  /** An account with something aged on it. */
  record Candidate(String memberId, String accountRef, byte[] borrowerKey) {
  }

  static String month(LocalDate cutoff) {
    return cutoff.format(DateTimeFormatter.ofPattern("yyyy-MM"));
  }

  /**
   * Deletes what is aged on these accounts ({@code members[i]}, {@code refs[i]}): the three
   * statements are sent at once (pipelined, in order: the periods before their accounts), so
   * statements queued after this call on the same connection see the result.
   */
  public static Future<Aged> ageAccounts(SqlClient tx, String[] members, String[] refs, LocalDate cutoff) {
    if (refs.length == 0) {
      return Future.succeededFuture(Aged.NONE);
    }
    Future<RowSet<Row>> periods = tx.preparedQuery(DELETE_REPAYMENTS)
      .execute(Tuple.of(cutoff, month(cutoff), members, refs));
    Future<RowSet<Row>> accounts = tx.preparedQuery(DELETE_TRADELINES).execute(Tuple.of(cutoff, members, refs));
    Future<RowSet<Row>> cleared = tx.preparedQuery(CLEAR_DAYS_PAST_DUE).execute(Tuple.of(cutoff, members, refs));
    return Future.all(periods, accounts, cleared).map(all -> {
      Map<String, byte[]> people = new LinkedHashMap<>();
      long late = 0;
      long ofAccounts = 0;
      for (Row r : periods.result()) {
        byte[] key = r.getBuffer("borrower_key").getBytes();
        people.put(BorrowerKeys.hex(key), key);
        if (Boolean.TRUE.equals(r.getBoolean("whole"))) {
          ofAccounts++;
        } else {
          late++;
        }
      }
      for (Row r : accounts.result()) {
        byte[] key = r.getBuffer("borrower_key").getBytes();
        people.put(BorrowerKeys.hex(key), key);
      }
      for (Row r : cleared.result()) {
        byte[] key = r.getBuffer("borrower_key").getBytes();
        people.put(BorrowerKeys.hex(key), key);
      }
      return new Aged(late, accounts.result().rowCount(), ofAccounts, cleared.result().rowCount(), people);
    });
  }

  /** {@link #ageAccounts} for accounts of one member. */
  public static Future<Aged> ageAccounts(SqlClient tx, String memberId, Collection<String> refs, LocalDate cutoff) {
    String[] members = new String[refs.size()];
    java.util.Arrays.fill(members, memberId);
    return ageAccounts(tx, members, refs.toArray(String[]::new), cutoff);
  }

  static Future<List<Candidate>> candidates(SqlClient c, LocalDate cutoff, String afterMember, String afterRef,
                                            int limit) {
    return c.preparedQuery(CANDIDATES).execute(Tuple.of(cutoff, month(cutoff), afterMember, afterRef, limit))
      .map(rows -> {
        List<Candidate> out = new ArrayList<>();
        for (Row r : rows) {
          out.add(new Candidate(r.getString("member_id"), r.getString("account_ref"),
            r.getBuffer("borrower_key").getBytes()));
        }
        return out;
      });
  }

  static Future<Void> lockPeople(SqlClient tx, Long[] sortedLocks) {
    return sortedLocks.length == 0 ? Future.succeededFuture()
      : tx.preparedQuery(LOCK_PEOPLE).execute(Tuple.of((Object) sortedLocks)).mapEmpty();
  }

  public static Future<Void> log(SqlClient c, String action, JsonObject details) {
    return c.preparedQuery(LOG).execute(Tuple.of(action, details)).mapEmpty();
  }

  static Future<Boolean> ranOn(SqlClient c, LocalDate day) {
    return c.preparedQuery(RAN_ON).execute(Tuple.of(RUN_ACTION, day.toString()))
      .map(rows -> rows.iterator().next().getBoolean("ran"));
  }

  static Future<Boolean> tryLock(SqlClient c) {
    return c.query(TRY_LOCK).execute().map(rows -> rows.iterator().next().getBoolean("held"));
  }

  static Future<Void> unlock(SqlClient c) {
    return c.query(UNLOCK).execute().mapEmpty();
  }
}
