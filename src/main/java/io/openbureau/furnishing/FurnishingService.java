package io.openbureau.furnishing;

import io.openbureau.identity.BorrowerKeys;
import io.openbureau.scoring.PersonScore;
import io.openbureau.scoring.ScoreStore;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Applies a member's furnishing lines (one for PUT/POST, a chunk of a batch) in one transaction:
 * each line is either applied whole or rejected before anything is written, scores of the people
 * touched are recomputed in the same transaction, and after the commit the new scores are in Redis
 * before the caller answers.
 *
 * <p>Ordering: the transaction takes an advisory lock per person (sorted, so two chunks never
 * deadlock), so changes about one person from several members commit one after another and the
 * score versions follow commit order; the cache keeps the highest version.
 */
public final class FurnishingService {
  static final String EXISTING = """
    SELECT account_ref, borrower_key, product_type, opened_at, principal, credit_limit, currency, term_months, status,
           balance, days_past_due, updated_at
    FROM tradelines WHERE member_id = $1 AND account_ref = ANY($2)""";
  static final String LOCK = "SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k";
  static final String UPSERT_TRADELINE = """
    INSERT INTO tradelines (member_id, account_ref, borrower_key, key_id, product_type, opened_at, principal,
      credit_limit, currency, term_months, status, balance, days_past_due)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
    ON CONFLICT (member_id, account_ref) DO UPDATE SET product_type = EXCLUDED.product_type,
      opened_at = EXCLUDED.opened_at, principal = EXCLUDED.principal, credit_limit = EXCLUDED.credit_limit,
      currency = EXCLUDED.currency, term_months = EXCLUDED.term_months, status = EXCLUDED.status,
      balance = EXCLUDED.balance, days_past_due = EXCLUDED.days_past_due, updated_at = now()""";
  static final String UPSERT_REPAYMENT = """
    INSERT INTO repayments (member_id, account_ref, period, amount_due, amount_paid, days_past_due)
    VALUES ($1, $2, $3, $4, $5, $6)
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

  private final Pool pool;
  private final ScoreStore scores;

  public FurnishingService(Pool pool, ScoreStore scores) {
    this.pool = pool;
    this.scores = scores;
  }

  public Future<List<Outcome>> apply(String memberId, List<Numbered> lines) {
    if (lines.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    String[] refs = lines.stream().map(n -> n.value().accountRef()).distinct().toArray(String[]::new);
    return pool.preparedQuery(EXISTING).execute(Tuple.tuple().addString(memberId).addArrayOfString(refs))
      .compose(pre -> {
        Set<Long> locks = new java.util.TreeSet<>();
        for (Row r : pre) {
          locks.add(lockOf(r.getBuffer("borrower_key").getBytes()));
        }
        for (Numbered n : lines) {
          if (n.value() instanceof Line.Tradeline t) {
            locks.add(lockOf(t.borrowerKey()));
          }
        }
        return pool.withTransaction(tx -> inTransaction(tx, memberId, refs, lines, locks.toArray(Long[]::new)));
      })
      .compose(done -> scores.publish(done.scores()).map(done.outcomes()));
  }

  private record Done(List<Outcome> outcomes, Map<String, PersonScore> scores) {
  }

  private Future<Done> inTransaction(SqlConnection tx, String memberId, String[] refs, List<Numbered> lines, Long[] locks) {
    return tx.preparedQuery(LOCK).execute(Tuple.of((Object) locks))
      .compose(v -> tx.preparedQuery(EXISTING).execute(Tuple.tuple().addString(memberId).addArrayOfString(refs)))
      .compose(existingRows -> {
        Map<String, Line.Tradeline> accounts = new HashMap<>();
        for (Row r : existingRows) {
          accounts.put(r.getString("account_ref"), fromRow(r));
        }
        List<Outcome> outcomes = new ArrayList<>();
        List<Tuple> tradelines = new ArrayList<>();
        List<Tuple> repayments = new ArrayList<>();
        Map<String, byte[]> touched = new LinkedHashMap<>();
        for (Numbered n : lines) {
          Outcome o = decide(memberId, n, accounts, tradelines, repayments, touched);
          outcomes.add(o);
        }
        Future<?> writes = tradelines.isEmpty() ? Future.succeededFuture()
          : tx.preparedQuery(UPSERT_TRADELINE).executeBatch(tradelines);
        return writes
          .compose(v -> repayments.isEmpty() ? Future.succeededFuture() : tx.preparedQuery(UPSERT_REPAYMENT).executeBatch(repayments))
          .compose(v -> touched.isEmpty() ? Future.succeededFuture(Map.<String, PersonScore>of())
            : scores.recompute(tx, new ArrayList<>(touched.values())))
          .map(s -> new Done(outcomes, s));
      });
  }

  private Outcome decide(String memberId, Numbered n, Map<String, Line.Tradeline> accounts, List<Tuple> tradelines,
                         List<Tuple> repayments, Map<String, byte[]> touched) {
    if (n.value() instanceof Line.Tradeline t) {
      Line.Tradeline existing = accounts.get(t.accountRef());
      if (existing != null && !Arrays.equals(existing.borrowerKey(), t.borrowerKey())) {
        return new Outcome(n.line(), null, "account_person_mismatch",
          "account " + t.accountRef() + " was reported for another person; an account's person cannot change", null);
      }
      if (existing != null && same(existing, t)) {
        return new Outcome(n.line(), "UNCHANGED", null, null, t);
      }
      accounts.put(t.accountRef(), t);
      tradelines.add(Tuple.from(new Object[] {memberId, t.accountRef(), Buffer.buffer(t.borrowerKey()), t.keyId(),
        t.productType(), t.openedAt(), t.principal(), t.creditLimit(), t.currency(), t.termMonths(), t.status(),
        t.balance(), t.daysPastDue()}));
      touched.put(BorrowerKeys.hex(t.borrowerKey()), t.borrowerKey());
      return new Outcome(n.line(), existing == null ? "CREATED" : "UPDATED", null, null, t);
    }
    Line.Repayment r = (Line.Repayment) n.value();
    Line.Tradeline account = accounts.get(r.accountRef());
    if (account == null) {
      return new Outcome(n.line(), null, "unknown_account",
        "account " + r.accountRef() + " has not been reported by this member", null);
    }
    repayments.add(Tuple.of(memberId, r.accountRef(), r.period(), r.amountDue(), r.amountPaid(), r.daysPastDue()));
    touched.put(BorrowerKeys.hex(account.borrowerKey()), account.borrowerKey());
    return new Outcome(n.line(), "CREATED", null, null, r);
  }

  private static boolean same(Line.Tradeline a, Line.Tradeline b) {
    return a.productType().equals(b.productType()) && a.openedAt().equals(b.openedAt())
      && a.principal().compareTo(b.principal()) == 0 && eq(a.creditLimit(), b.creditLimit())
      && a.currency().equals(b.currency()) && Objects.equals(a.termMonths(), b.termMonths())
      && a.status().equals(b.status()) && a.balance().compareTo(b.balance()) == 0 && a.daysPastDue() == b.daysPastDue();
  }

  private static boolean eq(BigDecimal a, BigDecimal b) {
    return a == null ? b == null : b != null && a.compareTo(b) == 0;
  }

  static Line.Tradeline fromRow(Row r) {
    return new Line.Tradeline(r.getString("account_ref"), r.getBuffer("borrower_key").getBytes(), null,
      r.getString("product_type"), r.getLocalDate("opened_at"), r.getBigDecimal("principal"),
      r.getBigDecimal("credit_limit"), r.getString("currency"), r.getInteger("term_months"), r.getString("status"),
      r.getBigDecimal("balance"), r.getInteger("days_past_due"));
  }

  static long lockOf(byte[] borrowerKey) {
    return ByteBuffer.wrap(borrowerKey, 0, 8).getLong();
  }

  /** The API's view of a stored tradeline (never the national id). */
  public static JsonObject toJson(String memberId, Line.Tradeline t) {
    return new JsonObject().put("lenderId", memberId).put("accountRef", t.accountRef()).put("productType", t.productType())
      .put("openedAt", t.openedAt().toString()).put("principal", t.principal().toPlainString())
      .put("creditLimit", t.creditLimit() == null ? null : t.creditLimit().toPlainString())
      .put("currency", t.currency()).put("termMonths", t.termMonths()).put("status", t.status())
      .put("balance", t.balance().toPlainString()).put("daysPastDue", t.daysPastDue());
  }

  public static JsonObject toJson(Line.Repayment r) {
    return new JsonObject().put("accountRef", r.accountRef()).put("period", r.period())
      .put("amountDue", r.amountDue().toPlainString()).put("amountPaid", r.amountPaid().toPlainString())
      .put("daysPastDue", r.daysPastDue());
  }

}
