package io.openbureau.disputes;

import io.openbureau.audit.AccessLogEntry;
import io.openbureau.audit.AuditWriter;
import io.openbureau.scoring.PersonScore;
import io.openbureau.scoring.RateLimitedLog;
import io.openbureau.scoring.ScoreStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.SqlConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;

/**
 * Turns disputes still OPEN after {@code dueBy} into OVERDUE, on a timer on every HTTP instance.
 * Nothing is kept in memory: the clock is {@code due_by} in Postgres, so the schedule survives
 * restarts (a dispute that fell due while every instance was down turns at the first pass after).
 *
 * <p>Once with several instances: a pass runs in one transaction holding a try-lock no other pass
 * can hold meanwhile (the others skip that round); it takes the persons' advisory locks (sorted,
 * as furnishing does, before touching any dispute row, so it never deadlocks with a resolution)
 * and turns the due disputes with a conditional {@code UPDATE ... WHERE status = 'OPEN'} (one
 * resolved meanwhile is left alone), recomputing those persons' scores in the same transaction
 * (the disputed data leaves the score at once). After the commit the scores go to Redis (a failed
 * publish is replayed by {@code ScoreRepublisher}) and each event to the access log; a row whose
 * log entry was not written (crash, audit outage) is written by a later pass ({@code overdue_logged}).
 */
public final class OverdueProcessor {
  private static final Logger LOG = LoggerFactory.getLogger(OverdueProcessor.class);
  private static final RateLimitedLog FAILURES = new RateLimitedLog(600_000);

  private final Vertx vertx;
  private final DisputeRepository repository;
  private final ScoreStore scores;
  private final AuditWriter audit;
  private final DisputeSettings settings;
  static final long WARN_AFTER_MILLIS = 300_000;
  private volatile boolean stopped;
  private long timer = -1;
  private long failingSince = -1;

  public OverdueProcessor(Vertx vertx, DisputeRepository repository, ScoreStore scores, AuditWriter audit,
                          DisputeSettings settings) {
    this.vertx = vertx;
    this.repository = repository;
    this.scores = scores;
    this.audit = audit;
    this.settings = settings;
  }

  public void start() {
    schedule(settings.overdueCheckSeconds() * 1000L);
  }

  public void stop() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  private void schedule(long delay) {
    if (stopped) {
      return;
    }
    timer = vertx.setTimer(Math.max(1, delay), id -> pass().onComplete(ar -> {
      if (ar.failed()) {
        failed(ar.cause());
      } else if (failingSince >= 0) {
        failingSince = -1;
        LOG.info("the overdue pass over disputes runs again");
      }
      // a full batch: there may be more, go on at once
      boolean more = ar.succeeded() && ar.result() >= settings.overdueBatch();
      schedule(more ? 1 : settings.overdueCheckSeconds() * 1000L);
    }));
  }

  /**
   * A pass that fails in an outage is retried by the next one and loses nothing (the clock is in
   * Postgres): the outage itself is logged by the requests that meet it, so a short one is noted at
   * INFO here, and only a pass failing for longer than {@link #WARN_AFTER_MILLIS} is a warning.
   */
  private void failed(Throwable cause) {
    long now = System.currentTimeMillis();
    if (failingSince < 0) {
      failingSince = now;
      LOG.info("the overdue pass over disputes failed ({}); retrying every {} s", cause.toString(),
        settings.overdueCheckSeconds());
    } else if (now - failingSince > WARN_AFTER_MILLIS) {
      FAILURES.warn(LOG, "the overdue pass over disputes has failed for {} s ({}); disputes past dueBy stay OPEN"
        + " until it runs", (now - failingSince) / 1000, cause.toString());
    }
  }

  /** One pass: how many disputes it turned overdue (0 when another instance's pass runs). */
  public Future<Integer> pass() {
    return repository.pool().withTransaction(this::turn)
      .compose(turned -> publishAndLog(turned).map(turned.disputes().size()))
      .compose(n -> relog().map(n));
  }

  private record Turned(List<Dispute> disputes, Map<String, PersonScore> scores) {
  }

  private Future<Turned> turn(SqlConnection tx) {
    return DisputeRepository.passLock(tx).compose(got -> !got ? Future.succeededFuture(List.<DisputeRepository.Due>of())
        : DisputeRepository.due(tx, settings.overdueBatch()))
      .compose(due -> {
        if (due.isEmpty()) {
          return Future.succeededFuture(new Turned(List.of(), Map.of()));
        }
        TreeSet<Long> locks = new TreeSet<>();
        List<UUID> ids = new ArrayList<>();
        due.forEach(d -> {
          locks.add(DisputeRepository.lockOf(d.borrowerKey()));
          ids.add(d.id());
        });
        return DisputeRepository.lockPersons(tx, locks)
          .compose(v -> DisputeRepository.turnOverdue(tx, ids))
          .compose(turned -> {
            Map<String, byte[]> persons = new LinkedHashMap<>();
            turned.forEach(d -> persons.put(io.openbureau.identity.BorrowerKeys.hex(d.borrowerKey()), d.borrowerKey()));
            return persons.isEmpty() ? Future.succeededFuture(new Turned(turned, Map.of()))
              : scores.recompute(tx, new ArrayList<>(persons.values())).map(s -> new Turned(turned, s));
          });
      });
  }

  private Future<Void> publishAndLog(Turned turned) {
    if (turned.disputes().isEmpty()) {
      return Future.succeededFuture();
    }
    LOG.info("{} disputes turned overdue: their data is left out of the scores until resolved", turned.disputes().size());
    // committed: a failed publish is replayed by the score repair loop (the rows are marked unpublished)
    Future<Void> published = scores.publish(turned.scores()).recover(e -> Future.succeededFuture());
    return published.compose(v -> log(turned.disputes()));
  }

  /** The access-log rows of these overdue events, then the mark that they are written. */
  private Future<Void> log(List<Dispute> disputes) {
    return append(disputes).compose(v -> DisputeRepository.markLogged(repository.pool(),
      disputes.stream().map(Dispute::id).toList()));
  }

  private Future<Void> append(List<Dispute> disputes) {
    List<Future<AccessLogEntry>> appends = new ArrayList<>();
    for (Dispute d : disputes) {
      appends.add(audit.append(AccessLogEntry.Draft.dispute(AccessLogEntry.DISPUTE_OVERDUE, AccessLogEntry.BUREAU, null,
        d.lenderId(), d.borrowerKey(), null, d.auditDetails().put("status", Dispute.OVERDUE))));
    }
    return Future.all(appends).mapEmpty();
  }

  /**
   * Overdue events whose row a crash or an outage kept out of the log, written by one instance:
   * the rows stay locked (others skip them) until their log rows are written and the mark commits;
   * if the log cannot be written the transaction rolls back and a later pass tries again.
   */
  private Future<Void> relog() {
    return repository.pool().withTransaction(tx -> DisputeRepository.unlogged(tx, settings.overdueBatch())
      .compose(found -> found.isEmpty() ? Future.succeededFuture()
        : append(found).compose(v -> DisputeRepository.markLogged(tx, found.stream().map(Dispute::id).toList()))));
  }
}
