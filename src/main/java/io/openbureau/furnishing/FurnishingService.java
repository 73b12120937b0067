package io.openbureau.furnishing;

import io.openbureau.ageing.AgeingRepository;
import io.openbureau.ageing.AgeingSettings;
import io.openbureau.config.BusinessTime;
import io.openbureau.identity.BorrowerKeys;
import io.openbureau.reciprocity.Contributions;
import io.openbureau.scoring.PersonScore;
import io.openbureau.scoring.ScoreStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Applies a member's furnishing lines (one for PUT/POST, a chunk of a batch) in one transaction:
 * each line is either applied whole or rejected before anything is written, scores of the people
 * touched are recomputed in the same transaction, and after the commit the new scores are in Redis
 * before the caller answers. When Postgres cannot run the transaction the caller answers 503 (no
 * line is reported rejected for an outage); when Redis cannot take the scores, they are committed
 * and marked unpublished, and {@link io.openbureau.scoring.ScoreRepublisher} publishes them later.
 *
 * <p>Ordering: the transaction takes an advisory lock per person (sorted, so two chunks never
 * deadlock), so changes about one person from several members commit one after another and the
 * score versions follow commit order; the cache keeps the highest version.
 *
 * <p>Ageing on arrival: a line that brings negative information whose behaviour ended more than
 * {@code ageing.negativeDataYears} ago (an old late period now followed by an on-time one, an
 * account closed in default years ago) is accepted, and the same transaction deletes what the
 * ageing rule says is aged on its account ({@link AgeingRepository}) before the scores are
 * recomputed: it is never in a committed state, a report or a score. After a commit with an
 * accepted line the member's contribution is recorded (give to get: {@link Contributions}).
 */
public final class FurnishingService {
  /**
   * Autovacuum may be off (it is on the project's machines), so tables may never be analyzed and a
   * generic plan cached while a table was empty would scan it whole for ever after: every statement
   * of a furnishing transaction is planned for its actual parameters.
   */
  static final String CUSTOM_PLANS = "SELECT set_config('plan_cache_mode', 'force_custom_plan', true)";
  static final String EXISTING = """
    SELECT account_ref, borrower_key, product_type, opened_at, principal, credit_limit, currency, term_months, status,
           balance, days_past_due, closed_at, updated_at
    FROM tradelines WHERE member_id = $1 AND account_ref = ANY($2)""";
  /**
   * The member check, once per chunk instead of once per row (V17 replaced the per-row foreign key
   * {@code tradelines.member_id -> members}): the same lock the foreign key's check took on every
   * row, {@code FOR KEY SHARE} of the member's row, held to the commit, so the member cannot be
   * deleted or renamed while the chunk writes; V17's trigger on {@code members} refuses to delete
   * or rename a member that has tradelines, the other half of what the foreign key did.
   */
  static final String MEMBER = "SELECT 1 FROM members WHERE id = $1 FOR KEY SHARE";
  static final String PERSONS_OF = "SELECT borrower_key FROM tradelines WHERE member_id = $1 AND account_ref = ANY($2)";
  /** The people's advisory locks, taken in ascending order (ageing.NegativeDataAgeing takes the same ones). */
  static final String LOCK = "SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k";
  /** One statement per chunk: the rows come as parallel arrays (money as decimal strings, cast to numeric). */
  static final String UPSERT_TRADELINES = """
    INSERT INTO tradelines (member_id, account_ref, borrower_key, key_id, product_type, opened_at, principal,
      credit_limit, currency, term_months, status, balance, days_past_due, closed_at)
    SELECT $1, u.account_ref, u.borrower_key, u.key_id, u.product_type, u.opened_at, u.principal::numeric,
      u.credit_limit::numeric, u.currency, u.term_months, u.status, u.balance::numeric, u.days_past_due, u.closed_at
    FROM unnest($2::text[], $3::bytea[], $4::text[], $5::text[], $6::date[], $7::text[], $8::text[], $9::text[],
                $10::int[], $11::text[], $12::text[], $13::int[], $14::date[])
      AS u(account_ref, borrower_key, key_id, product_type, opened_at, principal, credit_limit, currency,
           term_months, status, balance, days_past_due, closed_at)
    ON CONFLICT (member_id, account_ref) DO UPDATE SET product_type = EXCLUDED.product_type,
      opened_at = EXCLUDED.opened_at, principal = EXCLUDED.principal, credit_limit = EXCLUDED.credit_limit,
      currency = EXCLUDED.currency, term_months = EXCLUDED.term_months, status = EXCLUDED.status,
      balance = EXCLUDED.balance, days_past_due = EXCLUDED.days_past_due, closed_at = EXCLUDED.closed_at,
      updated_at = now()
      WHERE tradelines.borrower_key = EXCLUDED.borrower_key""";
  static final String UPSERT_REPAYMENTS = """
    INSERT INTO repayments (member_id, account_ref, period, amount_due, amount_paid, days_past_due)
    SELECT $1, u.account_ref, u.period, u.amount_due::numeric, u.amount_paid::numeric, u.days_past_due
    FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[])
      AS u(account_ref, period, amount_due, amount_paid, days_past_due)
    ON CONFLICT (member_id, account_ref, period) DO UPDATE SET amount_due = EXCLUDED.amount_due,
      amount_paid = EXCLUDED.amount_paid, days_past_due = EXCLUDED.days_past_due, reported_at = now()""";

  /** What happened to one line. */
  public record Outcome(int line, String status, String code, String message, Line applied) {
    public boolean accepted() {
      return code == null;
    }
  }

  public record Numbered(int line, Line value) {
  }

  /**
   * Two transactions created the same new account for two different people at once (each read
   * "no such account" under its own people's locks). The upsert refuses to move the account, the
   * loser's transaction rolls back and runs once more, now seeing the account: a clean
   * {@code account_person_mismatch} for that line instead of one person's account carrying the
   * other's figures.
   */
  static final class AccountRace extends RuntimeException {
    AccountRace() {
      super("account created concurrently for another person", null, false, false);
    }
  }

  /** A committed chunk: what happened to each line, and the new scores still to be published to Redis. */
  public record Committed(List<Outcome> outcomes, Map<String, PersonScore> scores) {
  }

  private final Pool pool;
  private final ScoreStore scores;

  public FurnishingService(Pool pool, ScoreStore scores) {
    this.pool = pool;
    this.scores = scores;
  }

  /** Applies the lines, then publishes the new scores; completes when both are done. */
  public Future<List<Outcome>> apply(String memberId, List<Numbered> lines) {
    return commit(memberId, lines).compose(done -> publish(done).map(done.outcomes()));
  }

  /**
   * After {@link #commit}: the new scores to Redis (a higher version always wins there, so chunks
   * may overlap), and those of the people whose lines changed nothing (so a re-send repairs what a
   * crash left behind). Fails with {@link CacheDown} when Redis could not be written: the scores
   * stay marked unpublished in Postgres and the repair loop publishes them when Redis is back.
   */
  public Future<Void> publish(Committed committed) {
    return committed.scores().isEmpty() ? Future.succeededFuture()
      : scores.publish(committed.scores()).recover(e -> Future.failedFuture(new CacheDown(e)));
  }

  /**
   * Applies the lines in one transaction and commits: each line applied whole or rejected before
   * anything is written, later lines of the chunk seeing earlier ones, the scores of the people
   * touched recomputed. The scores are not yet in Redis: call {@link #publish}.
   */
  public Future<Committed> commit(String memberId, List<Numbered> lines) {
    return commit(memberId, lines, Promise.promise());
  }

  /**
   * {@link #commit(String, List)}, completing {@code locked} as soon as the transaction holds the
   * locks of every person it touches and has read the accounts (or when it fails): from then on,
   * any other transaction touching one of these people waits for this one to commit.
   */
  public Future<Committed> commit(String memberId, List<Numbered> lines, Promise<Void> locked) {
    if (lines.isEmpty()) {
      locked.tryComplete();
      return Future.succeededFuture(new Committed(List.of(), Map.of()));
    }
    return pool.withTransaction(tx -> inTransaction(tx, memberId, lines, locked))
      .recover(e -> e instanceof AccountRace // once: the accounts are committed now, so the re-read sees them
        ? pool.withTransaction(tx -> inTransaction(tx, memberId, lines, locked))
        : Future.failedFuture(e))
      .recover(e -> Future.failedFuture(lineFault(e) || programmingError(e) ? e : new DatabaseDown(e)))
      .onComplete(ar -> locked.tryComplete())
      // give to get: not awaited, so recording it (at most hourly) never delays or fails the answer
      .onSuccess(done -> {
        if (done.outcomes().stream().anyMatch(Outcome::accepted)) {
          contributions().accepted(memberId);
        }
      });
  }

  /** Give to get: this service's recorder of accepted furnishing, made on first use (same pool). */
  private Contributions.Recorder contributions() {
    if (contributions == null) {
      contributions = new Contributions.Recorder(pool, Clock.systemUTC());
    }
    return contributions;
  }

  private Contributions.Recorder contributions;

  /**
   * Postgres could not run the transaction (unreachable, a pool or statement timeout, shutting
   * down, ...): nothing of it is committed, unless the connection died just as it committed; the
   * lines are neither applied nor rejected, and the caller answers 503 (re-sending is idempotent).
   */
  public static final class DatabaseDown extends RuntimeException {
    DatabaseDown(Throwable cause) {
      super("the database is unavailable: " + cause, cause, false, false);
    }
  }

  /** The chunk is committed but its scores could not be written to Redis: the repair loop will (see ScoreStore). */
  public static final class CacheDown extends RuntimeException {
    CacheDown(Throwable cause) {
      super("the cache is unavailable: " + cause, cause, false, false);
    }
  }

  /**
   * A failure a line's content may cause (a value the checks let through that Postgres refuses): a
   * data exception (class 22) or an integrity violation (class 23). Only those make a chunk worth
   * retrying line by line; an outage would make every line fail alike.
   */
  static boolean lineFault(Throwable e) {
    if (e instanceof AccountRace) {
      return true; // raced twice: line by line, each line then sees the other's account
    }
    String state = e instanceof PgException pg ? pg.getSqlState() : null;
    return state != null && (state.startsWith("22") || state.startsWith("23"));
  }

  /** A statement or privilege error (class 42): our bug, not an outage; it stays a 500. */
  private static boolean programmingError(Throwable e) {
    String state = e instanceof PgException pg ? pg.getSqlState() : null;
    return state != null && state.startsWith("42");
  }

  private Future<Committed> inTransaction(SqlConnection tx, String memberId, List<Numbered> lines,
                                          Promise<Void> locked) {
    Set<String> refSet = new LinkedHashSet<>();
    Set<String> repaid = new LinkedHashSet<>();
    Set<Long> locks = new TreeSet<>();
    for (Numbered n : lines) {
      refSet.add(n.value().accountRef());
      if (n.value() instanceof Line.Tradeline t) {
        locks.add(lockOf(t.borrowerKey()));
      } else {
        repaid.add(n.value().accountRef());
      }
    }
    String[] refs = refSet.toArray(String[]::new);
    // Statements that do not need each other's results are pipelined (sent without waiting; the
    // connection runs them in order). A repayment names only the account: its person (which never
    // changes) is locked too; a tradeline naming another person than its account's is rejected and
    // writes nothing.
    Future<?> plans = tx.query(CUSTOM_PLANS).execute();
    Future<RowSet<Row>> member = tx.preparedQuery(MEMBER).execute(Tuple.of(memberId));
    Future<?> persons = repaid.isEmpty() ? Future.succeededFuture()
      : tx.preparedQuery(PERSONS_OF).execute(Tuple.tuple().addString(memberId).addArrayOfString(repaid.toArray(String[]::new)))
        .map(rows -> {
          rows.forEach(r -> locks.add(lockOf(r.getBuffer("borrower_key").getBytes())));
          return null;
        });
    Future<RowSet<Row>> read = persons.compose(v -> {
      Future<Void> held = lock(tx, locks);
      Future<RowSet<Row>> existing = tx.preparedQuery(EXISTING)
        .execute(Tuple.tuple().addString(memberId).addArrayOfString(refs));
      return Future.join(held, existing).map(all -> existing.result());
    });
    return Future.join(plans, member, read).map(all -> read.result())
      .compose(existingRows -> {
        if (member.result().size() == 0) {
          return Future.succeededFuture((Map<String, Line.Tradeline>) null).onComplete(ar -> locked.tryComplete());
        }
        Map<String, Line.Tradeline> accounts = new HashMap<>();
        Set<Long> late = new TreeSet<>();
        for (Row r : existingRows) {
          Line.Tradeline t = fromRow(r);
          accounts.put(t.accountRef(), t);
          if (repaid.contains(t.accountRef()) && !locks.contains(lockOf(t.borrowerKey()))) {
            late.add(lockOf(t.borrowerKey())); // the account was created meanwhile by another transaction
          }
        }
        return lock(tx, late).map(accounts).onComplete(ar -> locked.tryComplete());
      })
      .compose(accounts -> {
        if (accounts == null) { // no such member (the foreign key's check used to refuse each row)
          List<Outcome> refused = new ArrayList<>(lines.size());
          lines.forEach(n -> refused.add(new Outcome(n.line(), null, "unknown_member",
            "member " + memberId + " is not registered", null)));
          return Future.succeededFuture(new Committed(refused, Map.of()));
        }
        Writes writes = new Writes();
        List<Outcome> outcomes = new ArrayList<>(lines.size());
        for (Numbered n : lines) {
          outcomes.add(decide(n, accounts, writes));
        }
        Future<Void> tradelines = writeTradelines(tx, memberId, writes.tradelines.values());
        Future<Void> repayments = writeRepayments(tx, memberId, writes.repayments.values());
        // queued behind the writes and before the score read: old negative data is aged at once
        Future<Void> aged = ageOnArrival(tx, memberId, writes);
        // the score read is queued behind the writes on the same connection, so it sees them
        Future<Map<String, PersonScore>> rescored = writes.touched.isEmpty() ? Future.succeededFuture(Map.of())
          : scores.recompute(tx, new ArrayList<>(writes.touched.values()));
        // a line that changes nothing still republishes its person's current score (read under the
        // person's lock): a re-sent batch repairs a score a crash kept out of Redis
        List<byte[]> unchanged = new ArrayList<>();
        writes.unchanged.forEach((hex, key) -> {
          if (!writes.touched.containsKey(hex)) {
            unchanged.add(key);
          }
        });
        Future<Map<String, PersonScore>> current = scores.current(tx, unchanged);
        return Future.join(tradelines, repayments, aged, rescored, current).map(all -> {
          Map<String, PersonScore> publish = new HashMap<>(current.result());
          publish.putAll(rescored.result());
          return new Committed(outcomes, publish);
        });
      });
  }

  /**
   * Ages the accounts of this chunk that brought something which may end negative behaviour
   * before the cut-off (a period before the cut-off's month, a closedAt before the cut-off):
   * furnishing of current data sends nothing more. What it deleted is counted in maintenance_log.
   */
  private static Future<Void> ageOnArrival(SqlConnection tx, String memberId, Writes writes) {
    AgeingSettings settings = AgeingSettings.current();
    LocalDate cutoff = settings.cutoff(BusinessTime.today());
    String cutoffMonth = cutoff.format(DateTimeFormatter.ofPattern("yyyy-MM"));
    Set<String> refs = new LinkedHashSet<>();
    for (Line.Tradeline t : writes.tradelines.values()) {
      if (t.closedAt() != null && t.closedAt().isBefore(cutoff)) {
        refs.add(t.accountRef());
      }
    }
    for (Line.Repayment r : writes.repayments.values()) {
      if (r.period().compareTo(cutoffMonth) < 0) {
        refs.add(r.accountRef());
      }
    }
    if (refs.isEmpty()) {
      return Future.succeededFuture();
    }
    return AgeingRepository.ageAccounts(tx, memberId, refs, cutoff).compose(aged -> !aged.any()
      ? Future.succeededFuture()
      : AgeingRepository.log(tx, AgeingRepository.ON_ARRIVAL_ACTION, aged.counts().put("memberId", memberId)
        .put("cutoff", cutoff.toString()).put("negativeDataYears", settings.negativeDataYears())));
  }

  private static Future<Void> lock(SqlConnection tx, Set<Long> sortedLocks) {
    return sortedLocks.isEmpty() ? Future.succeededFuture()
      : tx.preparedQuery(LOCK).execute(Tuple.of((Object) sortedLocks.toArray(Long[]::new))).mapEmpty();
  }

  /** The rows a chunk writes: the last line about an account (or an account's period) wins, as if applied one by one. */
  private static final class Writes {
    final Map<String, Line.Tradeline> tradelines = new LinkedHashMap<>();
    final Map<String, Line.Repayment> repayments = new LinkedHashMap<>();
    final Map<String, byte[]> touched = new LinkedHashMap<>();
    /** People of lines that changed nothing: their stored score is republished as it is. */
    final Map<String, byte[]> unchanged = new LinkedHashMap<>();
  }

  private Outcome decide(Numbered n, Map<String, Line.Tradeline> accounts, Writes writes) {
    if (n.value() instanceof Line.Tradeline t) {
      Line.Tradeline existing = accounts.get(t.accountRef());
      if (existing != null && !Arrays.equals(existing.borrowerKey(), t.borrowerKey())) {
        return new Outcome(n.line(), null, "account_person_mismatch",
          "account " + t.accountRef() + " was reported for another person; an account's person cannot change", null);
      }
      if (existing != null && same(existing, t)) {
        writes.unchanged.put(BorrowerKeys.hex(t.borrowerKey()), t.borrowerKey());
        return new Outcome(n.line(), "UNCHANGED", null, null, t);
      }
      accounts.put(t.accountRef(), t);
      writes.tradelines.put(t.accountRef(), t);
      writes.touched.put(BorrowerKeys.hex(t.borrowerKey()), t.borrowerKey());
      return new Outcome(n.line(), existing == null ? "CREATED" : "UPDATED", null, null, t);
    }
    Line.Repayment r = (Line.Repayment) n.value();
    Line.Tradeline account = accounts.get(r.accountRef());
    if (account == null) {
      return new Outcome(n.line(), null, "unknown_account",
        "account " + r.accountRef() + " has not been reported by this member", null);
    }
    writes.repayments.put(r.accountRef() + "\n" + r.period(), r);
    writes.touched.put(BorrowerKeys.hex(account.borrowerKey()), account.borrowerKey());
    return new Outcome(n.line(), "CREATED", null, null, r);
  }

  private static Future<Void> writeTradelines(SqlConnection tx, String memberId, Collection<Line.Tradeline> rows) {
    if (rows.isEmpty()) {
      return Future.succeededFuture();
    }
    int n = rows.size();
    String[] refs = new String[n];
    Buffer[] persons = new Buffer[n];
    String[] keyIds = new String[n];
    String[] products = new String[n];
    LocalDate[] opened = new LocalDate[n];
    String[] principals = new String[n];
    String[] limits = new String[n];
    String[] currencies = new String[n];
    Integer[] terms = new Integer[n];
    String[] statuses = new String[n];
    String[] balances = new String[n];
    Integer[] dpds = new Integer[n];
    LocalDate[] closed = new LocalDate[n];
    int i = 0;
    for (Line.Tradeline t : rows) {
      refs[i] = t.accountRef();
      persons[i] = Buffer.buffer(t.borrowerKey());
      keyIds[i] = t.keyId();
      products[i] = t.productType();
      opened[i] = t.openedAt();
      principals[i] = t.principal().toPlainString();
      limits[i] = t.creditLimit() == null ? null : t.creditLimit().toPlainString();
      currencies[i] = t.currency();
      terms[i] = t.termMonths();
      statuses[i] = t.status();
      balances[i] = t.balance().toPlainString();
      dpds[i] = t.daysPastDue();
      closed[i] = t.closedAt();
      i++;
    }
    return tx.preparedQuery(UPSERT_TRADELINES).execute(Tuple.from(new Object[] {memberId, refs, persons, keyIds,
      products, opened, principals, limits, currencies, terms, statuses, balances, dpds, closed})).compose(result ->
        // fewer rows than sent: another transaction created one of these accounts for another person
        // after this one read the accounts (the WHERE refused to move it); redo the chunk
        result.rowCount() == n ? Future.succeededFuture() : Future.failedFuture(new AccountRace()));
  }

  private static Future<Void> writeRepayments(SqlConnection tx, String memberId, Collection<Line.Repayment> rows) {
    if (rows.isEmpty()) {
      return Future.succeededFuture();
    }
    int n = rows.size();
    String[] refs = new String[n];
    String[] periods = new String[n];
    String[] due = new String[n];
    String[] paid = new String[n];
    Integer[] dpds = new Integer[n];
    int i = 0;
    for (Line.Repayment r : rows) {
      refs[i] = r.accountRef();
      periods[i] = r.period();
      due[i] = r.amountDue().toPlainString();
      paid[i] = r.amountPaid().toPlainString();
      dpds[i] = r.daysPastDue();
      i++;
    }
    return tx.preparedQuery(UPSERT_REPAYMENTS).execute(Tuple.from(new Object[] {memberId, refs, periods, due, paid,
      dpds})).mapEmpty();
  }

  private static boolean same(Line.Tradeline a, Line.Tradeline b) {
    return a.productType().equals(b.productType()) && a.openedAt().equals(b.openedAt())
      && a.principal().compareTo(b.principal()) == 0 && eq(a.creditLimit(), b.creditLimit())
      && a.currency().equals(b.currency()) && Objects.equals(a.termMonths(), b.termMonths())
      && a.status().equals(b.status()) && a.balance().compareTo(b.balance()) == 0 && a.daysPastDue() == b.daysPastDue()
      && Objects.equals(a.closedAt(), b.closedAt());
  }

  private static boolean eq(BigDecimal a, BigDecimal b) {
    return a == null ? b == null : b != null && a.compareTo(b) == 0;
  }

  static Line.Tradeline fromRow(Row r) {
    return new Line.Tradeline(r.getString("account_ref"), r.getBuffer("borrower_key").getBytes(), null,
      r.getString("product_type"), r.getLocalDate("opened_at"), r.getBigDecimal("principal"),
      r.getBigDecimal("credit_limit"), r.getString("currency"), r.getInteger("term_months"), r.getString("status"),
      r.getBigDecimal("balance"), r.getInteger("days_past_due"), r.getLocalDate("closed_at"));
  }

  /** A person's advisory lock key (furnishing and the ageing pass lock people by it, in ascending order). */
  public static long lockOf(byte[] borrowerKey) {
    return ByteBuffer.wrap(borrowerKey, 0, 8).getLong();
  }

  /** The API's view of a stored tradeline (never the national id). */
  public static JsonObject toJson(String memberId, Line.Tradeline t) {
    return new JsonObject().put("lenderId", memberId).put("accountRef", t.accountRef()).put("productType", t.productType())
      .put("openedAt", t.openedAt().toString()).put("principal", t.principal().toPlainString())
      .put("creditLimit", t.creditLimit() == null ? null : t.creditLimit().toPlainString())
      .put("currency", t.currency()).put("termMonths", t.termMonths()).put("status", t.status())
      .put("balance", t.balance().toPlainString()).put("daysPastDue", t.daysPastDue())
      .put("closedAt", t.closedAt() == null ? null : t.closedAt().toString());
  }

  public static JsonObject toJson(Line.Repayment r) {
    return new JsonObject().put("accountRef", r.accountRef()).put("period", r.period())
      .put("amountDue", r.amountDue().toPlainString()).put("amountPaid", r.amountPaid().toPlainString())
      .put("daysPastDue", r.daysPastDue());
  }

}
