package io.openbureau.ageing;

import io.openbureau.config.BusinessTime;
import io.openbureau.furnishing.FurnishingService;
import io.openbureau.scoring.PersonScore;
import io.openbureau.scoring.RateLimitedLog;
import io.openbureau.scoring.ScoreStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;

import java.time.Clock;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ageing pass: deletes the negative information whose behaviour ended more than
 * {@code ageing.negativeDataYears} ago (the rule: {@link AgeingRepository}) from every account,
 * in batches of {@code ageing.batchSize} accounts, each its own transaction that takes the
 * people's advisory locks (the same as furnishing's, so the score versions still follow commit
 * order), deletes, recomputes their scores and records its counts in {@code maintenance_log}; the
 * scores go to Redis after the commit (a failed publish leaves them marked unpublished, for
 * {@link io.openbureau.scoring.ScoreRepublisher}).
 *
 * <p>One pass at a time over all instances: the pass holds a session advisory lock on its
 * connection (released with the session if the process dies). {@link #runIfDue} runs it once a
 * business day: the day's run is a row in {@code maintenance_log}, so a restart or a second
 * instance does not run it again, and a day missed while every instance was down is caught up at
 * the next check. A dry run does the same work in transactions it rolls back: the counts are
 * exactly what a real run would delete, and nothing changes (no scores, no log rows).
 */
public final class NegativeDataAgeing {
  private static final Logger LOG = LoggerFactory.getLogger(NegativeDataAgeing.class);
  private static final RateLimitedLog PUBLISH_FAILURES = new RateLimitedLog(60_000);

  private final Pool pool;
  private final ScoreStore scores;
  private final AgeingSettings settings;
  private final Clock clock;

  public NegativeDataAgeing(Pool pool, ScoreStore scores, AgeingSettings settings, Clock clock) {
    this.pool = pool;
    this.scores = scores;
    this.settings = settings;
    this.clock = clock;
  }

  /** What a run did (or, dry, would do). */
  public record Result(LocalDate date, LocalDate cutoff, boolean dryRun, int batches, AgeingRepository.Aged aged) {
    public JsonObject toJson() {
      return aged.counts().put("date", date.toString()).put("cutoff", cutoff.toString()).put("dryRun", dryRun)
        .put("batches", batches);
    }
  }

  /** Another instance (or the CLI) is running the pass right now. */
  public static final class Busy extends RuntimeException {
    Busy() {
      super("another ageing pass is running (advisory lock held); try again later", null, false, false);
    }
  }

  /** Runs the pass now (the CLI); fails with {@link Busy} when another one is running. */
  public Future<Result> run(boolean dryRun) {
    return pool.withConnection(conn -> AgeingRepository.tryLock(conn).compose(held -> !held
      ? Future.<Result>failedFuture(new Busy())
      : pass(conn, dryRun).eventually(() -> AgeingRepository.unlock(conn))));
  }

  /** The daily schedule: runs the pass unless today's (business date) has run; null when it did not run. */
  public Future<Result> runIfDue() {
    LocalDate today = BusinessTime.today(clock);
    return pool.withConnection(conn -> AgeingRepository.tryLock(conn).compose(held -> !held
      ? Future.<Result>succeededFuture(null)
      : AgeingRepository.ranOn(conn, today)
        .compose(ran -> ran ? Future.<Result>succeededFuture(null) : pass(conn, false))
        .eventually(() -> AgeingRepository.unlock(conn))));
  }

  private Future<Result> pass(SqlConnection conn, boolean dryRun) {
    LocalDate today = BusinessTime.today(clock);
    LocalDate cutoff = settings.cutoff(today);
    return batches(conn, cutoff, dryRun, "", "", 0, AgeingRepository.Aged.NONE).compose(result -> {
      Result r = new Result(today, cutoff, dryRun, result.batches, result.total);
      if (r.aged().any() || !dryRun) {
        LOG.info("negative data ageing{} (cut-off {}): {}", dryRun ? " (dry run)" : "", cutoff, r.aged().counts());
      }
      return dryRun ? Future.succeededFuture(r)
        : AgeingRepository.log(conn, AgeingRepository.RUN_ACTION,
          r.toJson().put("negativeDataYears", settings.negativeDataYears())).map(r);
    });
  }

  private record Progress(int batches, AgeingRepository.Aged total) {
  }

  private Future<Progress> batches(SqlConnection conn, LocalDate cutoff, boolean dryRun, String afterMember,
                                   String afterRef, int done, AgeingRepository.Aged total) {
    return batch(conn, cutoff, dryRun, afterMember, afterRef).compose(b -> {
      AgeingRepository.Aged sum = total.plus(b.aged);
      if (b.last == null) {
        return Future.succeededFuture(new Progress(done, sum));
      }
      return b.full
        ? batches(conn, cutoff, dryRun, b.last.memberId(), b.last.accountRef(), done + 1, sum)
        : Future.succeededFuture(new Progress(done + 1, sum));
    });
  }

  private record Batch(AgeingRepository.Aged aged, AgeingRepository.Candidate last, boolean full) {
  }

  /** One transaction: the next accounts after the cursor, their people locked, aged, re-scored, logged. */
  private Future<Batch> batch(SqlConnection conn, LocalDate cutoff, boolean dryRun, String afterMember,
                              String afterRef) {
    return conn.begin().compose(tx -> AgeingRepository.candidates(conn, cutoff, afterMember, afterRef,
        settings.batchSize())
      .compose(found -> {
        if (found.isEmpty()) {
          return Future.succeededFuture(new Applied(new Batch(AgeingRepository.Aged.NONE, null, false), Map.of()));
        }
        TreeSet<Long> locks = new TreeSet<>();
        String[] members = new String[found.size()];
        String[] refs = new String[found.size()];
        for (int i = 0; i < found.size(); i++) {
          AgeingRepository.Candidate c = found.get(i);
          locks.add(FurnishingService.lockOf(c.borrowerKey()));
          members[i] = c.memberId();
          refs[i] = c.accountRef();
        }
        // re-evaluated under the locks: what furnishing changed meanwhile is seen
        return AgeingRepository.lockPeople(conn, locks.toArray(Long[]::new))
          .compose(v -> AgeingRepository.ageAccounts(conn, members, refs, cutoff))
          .compose(aged -> {
            Batch b = new Batch(aged, found.get(found.size() - 1), found.size() >= settings.batchSize());
            if (dryRun || !aged.any()) {
              return Future.succeededFuture(new Applied(b, Map.<String, PersonScore>of()));
            }
            Future<Map<String, PersonScore>> rescored = scores.recompute(conn, new ArrayList<>(aged.people().values()));
            Future<Void> logged = AgeingRepository.log(conn, AgeingRepository.BATCH_ACTION,
              aged.counts().put("cutoff", cutoff.toString()).put("negativeDataYears", settings.negativeDataYears()));
            return Future.all(rescored, logged).map(all -> new Applied(b, rescored.result()));
          });
      })
      .compose(applied -> (dryRun ? tx.rollback() : tx.commit()).map(applied))
      .recover(e -> tx.rollback().recover(x -> Future.succeededFuture()).compose(x -> Future.failedFuture(e))))
      .compose(applied -> publish(applied.scores).map(applied.batch));
  }

  private record Applied(Batch batch, Map<String, PersonScore> scores) {
  }

  /** After the commit; a failure leaves the scores marked unpublished for the repair loop, the pass goes on. */
  private Future<Void> publish(Map<String, PersonScore> rescored) {
    return rescored.isEmpty() ? Future.succeededFuture() : scores.publish(rescored).recover(e -> {
      PUBLISH_FAILURES.warn(LOG, "aged scores committed but not yet in Redis ({}); the repair loop publishes them",
        e.toString());
      return Future.succeededFuture();
    });
  }

  /** Used by tests: the accounts the pass would look at next (none when nothing is aged). */
  Future<List<AgeingRepository.Candidate>> candidates(LocalDate cutoff) {
    return AgeingRepository.candidates(pool, cutoff, "", "", settings.batchSize());
  }
}
