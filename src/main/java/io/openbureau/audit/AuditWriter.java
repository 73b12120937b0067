package io.openbureau.audit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.openbureau.http.ApiError;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Commits access-log rows durably, many requests per commit (group commit), one writer per HTTP
 * verticle instance, confined to its event loop (no locks).
 *
 * <p>{@link #append} queues a row and answers once the row is committed in Postgres; the caller
 * sends its response only then. While one batch commits, newly appended rows wait and go together
 * in the next batch (one multi-row INSERT, one commit), so under load commits are shared and
 * at one request at a time nothing waits for a timer.
 *
 * <p><b>Chaining.</b> Each writer owns a hash chain ({@link ChainHash}, always in the current
 * encoding: a writer on new code starts a new chain, so a chain never mixes encodings): rows get
 * consecutive {@code chain_seq} and each row's hash covers the previous one. Only one batch is in
 * flight per writer, so the chain in Postgres never has a gap from a failed batch. When a commit fails or its
 * outcome is unknown (timeout, connection lost: it may or may not have committed), the writer
 * starts a new chain rather than guess, so a chain is never forked; verification walks each chain.
 *
 * <p><b>Deadlines: a row whose request already answered is never written.</b> Every row carries
 * its request's {@link Deadline}. A row still queued when its request gives up is dropped from the
 * queue. A batch is one transaction on the writer's own connection, sent in one round trip (all
 * five statements pipelined, only while every request of the batch is still waiting):
 * <ol>
 *   <li>{@code BEGIN}, the transaction's limits ({@code statement_timeout} and
 *   {@code idle_in_transaction_session_timeout} = what is left of the batch's budget, so a
 *   half-open session cannot sit on an open transaction and commit much later);</li>
 *   <li>the INSERT, which inserts nothing unless it runs inside that very transaction (a
 *   transaction-local token), so a lost {@code BEGIN} cannot turn it into an autocommit (the writer
 *   then sees fewer rows inserted than sent: not committed);</li>
 *   <li>{@link #COMMIT_CHECK}: fails when the database's clock is past the batch's earliest deadline
 *   less {@link #guardNanos}, which aborts the transaction, and then</li>
 *   <li>{@code COMMIT}, which rolls an aborted transaction back.</li>
 * </ol>
 * So no {@code COMMIT} is ever sent once a request of the batch has given up (it goes with the
 * batch, while all of them wait), and a {@code COMMIT} that reaches the database late (a frozen
 * link that delivers it after the thaw, an INSERT that waited on a lock) is refused by the database
 * itself, or its session is already gone. Issue 11 sent the check and {@code COMMIT} in a second
 * round trip, once the INSERT had answered; the database-side check makes that wait unnecessary,
 * and it cost a round trip and an event-loop turn per commit ({@code bench/audit/writer.sh}).
 *
 * <p><b>The residual window, honestly.</b> A link that freezes after the batch was sent and before
 * its answers came back leaves a batch that may well have committed (before its deadline) while its
 * requests answer 503: no protocol closes that window, the answer of a commit can always be lost.
 * It is as wide as one batch's round trip, at most one batch per writer per freeze. The writer
 * knows which batches these are: their requests answer 503
 * {@code audit_unavailable} with {@code Access-Log-Outcome: unknown} and a detail saying the
 * attempt may be in the log; the writer starts a new chain (the chain's end is signed as
 * "either/or", see {@link Abandoned}), counts them ({@code bureau.audit.uncertain.batches}) and, if
 * the answer arrives after all, logs whether they did commit. Such a row says GRANTED although
 * nothing was served; the log over-reports an access, it never hides one.
 *
 * <p><b>A row Postgres refuses.</b> A batch refused for a data error (SQLSTATE class 22 or 23) is
 * certainly not committed: the chain goes on from before it and the batch is re-sent in halves,
 * ahead of the queue, until the bad row is alone; only its request fails (503, not in the log), the
 * others commit in order. Logged once per refused batch, naming the SQLSTATE and the database's
 * message. Any other failure (connection, timeout) starts a new chain as above.
 *
 * <p><b>Depends on nothing shared.</b> Batches and id blocks go over connections of the writer's
 * own ({@link #connecting}), never a pool's: a shared pool whose connections all wait on locks
 * cannot turn inquiries into 503.
 *
 * <p><b>Load.</b> At most {@code audit.maxQueuedRows} rows wait; beyond, an append is refused at
 * once with 503 {@code audit_unavailable} and {@code Retry-After} (shed before memory grows). Rows
 * given up are let go from the queue's memory too, whatever the offered load.
 */
public final class AuditWriter {
  private static final Logger LOG = LoggerFactory.getLogger(AuditWriter.class);
  /** Answers of an inquiry whose row's commit was cut off carry this header, value {@code unknown}. */
  public static final String OUTCOME_HEADER = "Access-Log-Outcome";
  static final String INSERT = """
    INSERT INTO access_log (id, at, chain_id, chain_seq, action, actor_role, actor_id, lender_id, borrower_key,
      purpose, scope, decision, reason, consent_id, request_id, score_value, details_json, details, prev_hash,
      row_hash, hash_version)
    SELECT u.id, u.at, $3, u.seq, u.action, u.actor_role, u.actor_id, u.lender_id, u.borrower_key, u.purpose, u.scope,
      u.decision, u.reason, u.consent_id, u.request_id, u.score_value, u.details::json, u.copy::jsonb, u.prev_hash,
      u.row_hash, $20
    FROM unnest($1::bigint[], $2::timestamptz[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[],
      $9::bytea[], $10::text[], $11::text[], $12::text[], $13::text[], $14::uuid[], $15::text[], $16::int[],
      $17::text[], $18::bytea[], $19::bytea[], $21::text[])
      AS u(id, at, seq, action, actor_role, actor_id, lender_id, borrower_key, purpose, scope, decision, reason,
           consent_id, request_id, score_value, details, prev_hash, row_hash, copy)
    WHERE current_setting('openbureau.batch', true) = $22""";
  static final String RESERVE_IDS = "SELECT nextval('access_log_id_seq') AS id FROM generate_series(1, $1)";
  /** The batch transaction's limits and token (transaction-local: gone with the transaction). */
  static final String LIMITS = """
    SELECT set_config('statement_timeout', $1, true), set_config('idle_in_transaction_session_timeout', $2, true),
      set_config('openbureau.batch', $3, true)""";
  /**
   * The last statement before COMMIT: an error (so the transaction aborts and COMMIT rolls back)
   * once the database's clock is past {@code $1}. A cast of a non-constant CASE fails at run time
   * only, never at planning time, and needs no function (no migration, no grant).
   */
  static final String COMMIT_CHECK = """
    SELECT (CASE WHEN clock_timestamp() <= $1 THEN '1' ELSE 'access-log batch past its commit deadline' END)::int""";

  /** The head of this writer's chain after its last commit (for signed checkpoints). */
  public record Head(String chainId, long chainSeq, byte[] hash) {
  }

  /**
   * A chain this writer gave up after an uncertain commit: it ends either at {@code committed} (the
   * last batch known committed, null when none was) or at {@code attempted} (the last row of the
   * batch whose outcome is unknown; the batch is one transaction: all of it or none).
   */
  public record Abandoned(String chainId, Head committed, Head attempted) {
  }

  /**
   * The row hashes of the current chain committed and not yet released by the checkpointer: rows
   * {@code fromSeq..fromSeq + hashes.size() - 1}; {@code prevHash} is the hash of row
   * {@code fromSeq - 1} (null when {@code fromSeq} is 1).
   */
  public record Committed(String chainId, long fromSeq, byte[] prevHash, List<byte[]> hashes) {
  }

  /**
   * At most this many committed row hashes are held for the checkpointer; beyond, the oldest are let
   * go (their rows get a checkpoint without a Merkle tree). Only reached when checkpoints fail for
   * long while rows still commit.
   */
  public static final int MAX_HELD_HASHES = 1 << 18;

  /** QUEUED: waits in the queue; RETRY: waits to be re-sent in a smaller batch (its batch had a data error). */
  private enum State { QUEUED, RETRY, SENT, DONE }

  private static final class Pending {
    final AccessLogEntry.Draft draft;
    final long id;
    final Promise<AccessLogEntry> promise = Promise.promise();
    final Deadline deadline;
    State state = State.QUEUED;
    /** Re-sent after its batch was refused for a data error. */
    boolean retried;

    Pending(AccessLogEntry.Draft draft, long id, Deadline deadline) {
      this.draft = draft;
      this.id = id;
      this.deadline = deadline;
    }
  }

  /** One batch in flight: its rows, and whether its COMMIT has been sent (then its outcome can be unknown). */
  private static final class Batch {
    final long number;
    final List<Pending> pending;
    final List<AccessLogEntry> rows;
    final long started = System.nanoTime();
    SqlConnection conn;
    Future<Void> commit;
    boolean commitSent;
    boolean settled;
    long timer;

    Batch(long number, List<Pending> pending, List<AccessLogEntry> rows) {
      this.number = number;
      this.pending = pending;
      this.rows = rows;
    }
  }

  /** The database refused the batch, or it never got to COMMIT: certainly not committed. */
  private static final class NotCommitted extends RuntimeException {
    NotCommitted(String message, Throwable cause) {
      super(message, cause, false, false);
    }
  }

  private final Vertx vertx;
  private final SqlClient pg;
  private final Supplier<Future<SqlConnection>> connector;
  private final AuditSettings settings;
  private final String writerId = UUID.randomUUID().toString().substring(0, 8);
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private int queued;
  private final ArrayDeque<Long> ids = new ArrayDeque<>();
  /** Parts of a batch the database refused for a data error, re-sent (in order, before the queue) to find the bad row. */
  private final ArrayDeque<List<Pending>> retry = new ArrayDeque<>();
  /** Ids are reserved over a connection of the writer's own (never a shared pool's), opened by {@link #connector}. */
  private final boolean ownIds;
  /** The writer's own connections: one for batches, one for id blocks. */
  private final Own batchConnection = new Own();
  private final Own idBlocks = new Own();
  /** Issue 11's commit in two round trips (COMMIT sent only once the INSERT answered): kept for side-by-side benchmarks. */
  boolean twoRoundTrips;
  private final Timer commitTimer;
  private final DistributionSummary batchRows;
  private final Counter droppedRows;
  private final Counter shedRows;
  private final Counter refusedRows;
  private final MeterRegistry registry;
  /**
   * The database refuses a COMMIT this long before the batch's first deadline, so a commit that
   * passes the check still has this long for its WAL flush and answer before the request gives up.
   */
  private final long guardNanos;
  /** A row with less time left than this is not sent (it would doom its whole batch): 503 at once. */
  private final long floorNanos;
  private int chainNumber;
  private String chainId;
  private long seq;
  private byte[] head = ChainHash.GENESIS;
  private Head committedHead;
  // the leaves of the next checkpoint's Merkle tree, as committed: a checkpoint signs what this
  // writer wrote, never what the database holds by the time it is signed
  private final ArrayList<byte[]> held = new ArrayList<>();
  private String heldChain;
  private long heldFrom = 1;
  private byte[] heldPrev;
  private boolean committing;
  private long batches;
  private Future<Void> refilling;
  private java.util.function.Consumer<Abandoned> onAbandoned = a -> { };
  private final List<Promise<Void>> idle = new ArrayList<>();

  /**
   * A writer whose batches go over connections of {@code pg} (a {@link Pool}). A connection left
   * behind by a hung commit goes back to that pool: for tests and tools; the server uses
   * {@link #AuditWriter(Vertx, SqlClient, Supplier, AuditSettings, MeterRegistry)}.
   */
  public AuditWriter(Vertx vertx, SqlClient pg, AuditSettings settings, MeterRegistry registry) {
    this(vertx, pg, ((Pool) pg)::getConnection, false, settings, registry);
  }

  /**
   * {@code connector} opens the writer's own connections: one for the batches (one batch at a time,
   * so one connection), one for reserving id blocks. A connection whose batch hung is closed, never
   * handed to anyone else. The writer depends on no shared pool ({@code pg} is not used): a shared
   * pool whose connections all wait on locks (a large furnishing batch) cannot make inquiries 503.
   */
  public AuditWriter(Vertx vertx, SqlClient pg, Supplier<Future<SqlConnection>> connector, AuditSettings settings,
                     MeterRegistry registry) {
    this(vertx, pg, connector, true, settings, registry);
  }

  private AuditWriter(Vertx vertx, SqlClient pg, Supplier<Future<SqlConnection>> connector, boolean ownIds,
                      AuditSettings settings, MeterRegistry registry) {
    this.vertx = vertx;
    this.ownIds = ownIds;
    this.pg = pg;
    this.connector = connector;
    this.settings = settings;
    this.registry = registry;
    this.guardNanos = Math.min(20_000_000L, settings.commitTimeoutMillis() * 100_000L);
    this.floorNanos = 2 * guardNanos;
    this.commitTimer = Timer.builder("bureau.audit.commit").description("Access-log batch commit latency")
      .publishPercentileHistogram().register(registry);
    this.batchRows = DistributionSummary.builder("bureau.audit.batch.rows").description("Access-log rows per commit")
      .publishPercentileHistogram().register(registry);
    this.droppedRows = Counter.builder("bureau.audit.rows.dropped").tag("reason", "deadline")
      .description("Access-log rows never sent because their request gave up (or the queue was full)").register(registry);
    this.shedRows = Counter.builder("bureau.audit.rows.dropped").tag("reason", "queue_full").register(registry);
    this.refusedRows = Counter.builder("bureau.audit.rows.dropped").tag("reason", "data_error").register(registry);
    newChain();
  }

  /** Opens a connection of its own for each writer (the server's connector). */
  public static Supplier<Future<SqlConnection>> connecting(Vertx vertx, PgConnectOptions options) {
    return () -> PgConnection.connect(vertx, options).map(c -> (SqlConnection) c);
  }

  /** A deadline of {@code audit.commitTimeoutMillis} from {@code startedNanos}: a request's whole budget. */
  public Deadline deadline(long startedNanos) {
    return Deadline.after(vertx, startedNanos, settings.commitTimeoutMillis());
  }

  /**
   * An id for a row about to be appended (so a request can name its row before it is committed).
   * Ids come from blocks reserved in advance; fails with 503 when none can be reserved.
   */
  public Future<Long> reserveId() {
    if (ids.size() < settings.idBlockSize() / 4) {
      refill();
    }
    Long id = ids.poll();
    if (id != null) {
      return Future.succeededFuture(id);
    }
    return refill().compose(v -> {
      Long next = ids.poll();
      return next != null ? Future.succeededFuture(next) : Future.failedFuture(unavailable());
    });
  }

  /** Appends a row with a new id; completes when it is committed. */
  public Future<AccessLogEntry> append(AccessLogEntry.Draft draft) {
    return reserveId().compose(id -> append(id, draft));
  }

  /** Appends the row {@code id} (from {@link #reserveId}) within {@code audit.commitTimeoutMillis}. */
  public Future<AccessLogEntry> append(long id, AccessLogEntry.Draft draft) {
    Deadline deadline = deadline(System.nanoTime());
    return append(id, draft, deadline).onComplete(ar -> deadline.cancel());
  }

  /**
   * Appends the row {@code id} within its request's {@code deadline}: completes when it is
   * committed, or fails with 503 {@code audit_unavailable} by the deadline, and then the row is
   * not in the log (unless {@link #isUncertain} says its commit was cut off, see the class comment).
   */
  public Future<AccessLogEntry> append(long id, AccessLogEntry.Draft draft, Deadline deadline) {
    if (deadline.remainingNanos() < floorNanos) {
      LOG.debug("row refused: its request has {} ns left", deadline.remainingNanos());
      droppedRows.increment();
      return Future.failedFuture(unavailable());
    }
    if (queued >= settings.maxQueuedRows()) {
      LOG.debug("row refused: {} rows queued", queued);
      shedRows.increment();
      return Future.failedFuture(overloaded());
    }
    Pending p = new Pending(draft, id, deadline);
    if (queue.size() >= 2 * settings.maxQueuedRows()) {
      // rows given up stay in the deque until a batch passes them: while a commit hangs, let them go
      // here, so the deque (not only the count) stays bounded whatever the offered load
      queue.removeIf(q -> q.state != State.QUEUED);
    }
    queue.add(p);
    queued++;
    deadline.onExpiry(() -> {
      if (p.state == State.QUEUED || p.state == State.RETRY) { // not sent (again) yet: it never will be
        if (p.state == State.QUEUED) {
          queued--;
        }
        p.state = State.DONE;
        droppedRows.increment();
        p.promise.tryFail(unavailable());
      }
    });
    if (!committing) {
      flush();
    }
    return p.promise.future();
  }

  /** Whether {@code failure} (from {@link #append}) means the row may be in the log after all. */
  public static boolean isUncertain(Throwable failure) {
    return failure instanceof ApiError e && "unknown".equals(e.headers().get(OUTCOME_HEADER));
  }

  /** Entries in the queue, rows given up included until they are let go (bounded by twice {@code audit.maxQueuedRows}). */
  int backlog() {
    return queue.size();
  }

  /** Rows waiting for a batch (never more than {@code audit.maxQueuedRows}). */
  public int queued() {
    return queued;
  }

  /** Closes the writer's own connections (once in-flight requests are done). */
  public Future<Void> close() {
    return Future.join(batchConnection.close(), idBlocks.close()).mapEmpty();
  }

  public Head head() {
    return committedHead;
  }

  /** Told of each chain this writer abandons (so its end can be signed); on the event loop. */
  public void onAbandoned(java.util.function.Consumer<Abandoned> listener) {
    this.onAbandoned = listener;
  }

  /** Completes once no batch is in flight and nothing is queued (at once when idle). */
  public Future<Void> whenIdle() {
    if (!committing && queued == 0 && retry.isEmpty()) {
      return Future.succeededFuture();
    }
    Promise<Void> p = Promise.promise();
    idle.add(p);
    return p.future();
  }

  private void abandon(List<AccessLogEntry> attempted) {
    AccessLogEntry last = attempted.get(attempted.size() - 1);
    Head committed = committedHead != null && committedHead.chainId().equals(chainId) ? committedHead : null;
    Abandoned a = new Abandoned(chainId, committed, new Head(chainId, last.chainSeq(), last.rowHash()));
    try {
      onAbandoned.accept(a);
    } catch (RuntimeException e) {
      LOG.warn("abandoned-chain listener failed: {}", e.toString());
    }
  }

  /** The next batch: live rows in queue order, leaving out those whose request has (all but) given up. */
  private List<Pending> take() {
    while (!retry.isEmpty()) {
      List<Pending> part = new ArrayList<>();
      for (Pending p : retry.poll()) {
        if (p.state != State.RETRY) {
          continue;
        }
        if (p.deadline.remainingNanos() < floorNanos) {
          p.state = State.DONE;
          droppedRows.increment();
          p.promise.tryFail(unavailable());
          continue;
        }
        p.state = State.SENT;
        part.add(p);
      }
      if (!part.isEmpty()) {
        return part;
      }
    }
    List<Pending> batch = new ArrayList<>(Math.min(queued, settings.maxBatchRows()));
    while (!queue.isEmpty() && batch.size() < settings.maxBatchRows()) {
      Pending p = queue.poll();
      if (p.state != State.QUEUED) {
        continue;
      }
      queued--;
      if (p.deadline.remainingNanos() < floorNanos) {
        p.state = State.DONE;
        droppedRows.increment();
        p.promise.tryFail(unavailable());
        continue;
      }
      p.state = State.SENT;
      batch.add(p);
    }
    return batch;
  }

  private void flush() {
    List<Pending> pending = take();
    if (pending.isEmpty()) {
      committing = false;
      List<Promise<Void>> waiting = new ArrayList<>(idle);
      idle.clear();
      waiting.forEach(Promise::tryComplete);
      return;
    }
    committing = true;
    Instant at = Instant.now().truncatedTo(ChronoUnit.MICROS);
    List<AccessLogEntry> rows = new ArrayList<>(pending.size());
    byte[] prev = head;
    long earliest = Long.MAX_VALUE;
    Instant commitBy = null;
    for (Pending p : pending) {
      AccessLogEntry row = AccessLogEntry.chained(p.id, at, chainId, ++seq, p.draft, prev);
      rows.add(row);
      prev = row.rowHash();
      if (p.deadline.remainingNanos() < earliest) {
        earliest = p.deadline.remainingNanos();
      }
      Instant wall = p.deadline.wall();
      if (commitBy == null || wall.isBefore(commitBy)) {
        commitBy = wall;
      }
    }
    head = prev;
    Batch b = new Batch(++batches, pending, rows);
    long budgetMillis = Math.max(1, earliest / 1_000_000);
    // the batch gives up with its first request: a commit that hangs (a dead connection, a
    // stalled server) must not stall the writer, nor answer anyone late
    b.timer = vertx.setTimer(budgetMillis, t -> settle(b, Future.failedFuture(new java.util.concurrent.TimeoutException())));
    Instant checkBy = commitBy.minusNanos(guardNanos);
    batchConnection.get().compose(c -> {
      b.conn = c;
      return b.settled ? Future.<Void>failedFuture(new NotCommitted("abandoned", null)) : send(b, c, checkBy, budgetMillis);
    }).onComplete(ar -> settle(b, ar));
  }

  /**
   * One attempt at opening a connection, shared by whoever needs it meanwhile (one per writer and
   * purpose, however many batches give up during an outage); {@code forget} runs when it completes,
   * or after {@code audit.commitTimeoutMillis} if it hangs (a handshake with a frozen server), so
   * the next batch tries anew.
   */
  private Future<SqlConnection> open(java.util.function.Consumer<Future<SqlConnection>> forget) {
    Future<SqlConnection> f = connector.get();
    long timer = vertx.setTimer(settings.commitTimeoutMillis(), t -> forget.accept(f));
    f.onComplete(ar -> {
      vertx.cancelTimer(timer);
      forget.accept(f);
    });
    return f;
  }

  /**
   * A connection of the writer's own (never a pool's), opened when first needed and again after it
   * closed or was dropped; one opening attempt at a time ({@link #open}). Confined to the event loop.
   */
  private final class Own {
    private SqlConnection current;
    private Future<SqlConnection> opening;

    Future<SqlConnection> get() {
      if (current != null) {
        return Future.succeededFuture(current);
      }
      Future<SqlConnection> attempt = opening != null ? opening : open(f -> {
        if (opening == f) {
          opening = null;
        }
      });
      if (!attempt.isComplete()) {
        opening = attempt;
      }
      return attempt.map(c -> {
        if (current != null) {
          if (current != c) {
            c.close();
          }
          return current;
        }
        current = c;
        c.closeHandler(v -> {
          if (current == c) {
            current = null;
          }
        });
        return c;
      });
    }

    /** {@code c} is never used again (closed unless {@code keepOpen}: its owner closes it later). */
    void forget(SqlConnection c, boolean keepOpen) {
      if (c != null && current == c) {
        current = null;
      }
      if (c != null && !keepOpen) {
        c.close();
      }
    }

    void drop() {
      forget(current, false);
    }

    Future<Void> close() {
      SqlConnection c = current;
      current = null;
      return c == null ? Future.succeededFuture() : c.close().recover(e -> Future.succeededFuture());
    }
  }

  /**
   * The batch's transaction, in one round trip: {@code BEGIN}, its limits, the INSERT, the deadline
   * check and {@code COMMIT}, pipelined (see the class comment for what is certain when).
   */
  private Future<Void> send(Batch b, SqlConnection c, Instant checkBy, long budgetMillis) {
    String token = chainId + ":" + b.number;
    String budget = Long.toString(budgetMillis);
    Future<?> begin = c.query("BEGIN").execute();
    Future<?> limits = c.preparedQuery(LIMITS).execute(Tuple.of(budget, budget, token));
    Future<RowSet<Row>> insert = c.preparedQuery(INSERT).execute(tuple(b.rows).addString(token));
    if (twoRoundTrips) {
      return sendInTwo(b, c, checkBy, begin, limits, insert);
    }
    Future<?> check = c.preparedQuery(COMMIT_CHECK).execute(Tuple.of(checkBy.atOffset(ZoneOffset.UTC)));
    Future<?> commit = c.query("COMMIT").execute();
    b.commitSent = true;
    b.commit = Future.join(begin, limits, insert, check, commit).transform(ar -> {
      // any statement of the transaction refused by the database aborts it: its COMMIT rolls back
      for (Future<?> step : List.of(begin, limits, insert, check)) {
        if (step.failed() && step.cause() instanceof io.vertx.pgclient.PgException) {
          return Future.failedFuture(new NotCommitted(step == check ? "refused by the database" : "insert failed",
            step.cause()));
        }
      }
      if (commit.failed() && commit.cause() instanceof io.vertx.pgclient.PgException) {
        return Future.failedFuture(new NotCommitted("commit failed", commit.cause()));
      }
      if (ar.failed()) {
        return Future.failedFuture(firstCause(begin, limits, insert, check, commit));
      }
      if (insert.result().rowCount() != b.rows.size()) {
        // a lost BEGIN: the INSERT ran outside the transaction, and then inserted nothing
        return Future.failedFuture(new NotCommitted("the INSERT ran outside its transaction", null));
      }
      return Future.succeededFuture();
    });
    return b.commit.mapEmpty();
  }

  private Future<Void> sendInTwo(Batch b, SqlConnection c, Instant checkBy, Future<?> begin, Future<?> limits,
                                 Future<RowSet<Row>> insert) {
    return Future.all(begin, limits, insert).recover(e -> Future.failedFuture(new NotCommitted("insert failed", e)))
      .compose(v -> {
        if (b.settled) {
          return Future.failedFuture(new NotCommitted("abandoned", null));
        }
        if (insert.result().rowCount() != b.rows.size()) {
          return Future.failedFuture(new NotCommitted("the INSERT ran outside its transaction", null));
        }
        b.commitSent = true;
        Future<?> check = c.preparedQuery(COMMIT_CHECK).execute(Tuple.of(checkBy.atOffset(ZoneOffset.UTC)));
        Future<?> commit = c.query("COMMIT").execute();
        b.commit = Future.join(check, commit).transform(ar -> {
          if (check.failed()) {
            return Future.failedFuture(new NotCommitted("refused by the database", check.cause()));
          }
          if (commit.failed() && commit.cause() instanceof io.vertx.pgclient.PgException) {
            return Future.failedFuture(new NotCommitted("commit failed", commit.cause()));
          }
          return commit.failed() ? Future.failedFuture(commit.cause()) : Future.succeededFuture();
        });
        return b.commit.mapEmpty();
      });
  }

  private static Throwable firstCause(Future<?>... steps) {
    for (Future<?> f : steps) {
      if (f.failed()) {
        return f.cause();
      }
    }
    return new IllegalStateException("no step failed");
  }

  /** A data exception (class 22) or an integrity violation (class 23): a row's content, not an outage. */
  static boolean dataError(Throwable e) {
    Throwable cause = e instanceof NotCommitted n ? n.getCause() : e;
    String state = cause instanceof io.vertx.pgclient.PgException pg ? pg.getSqlState() : null;
    return state != null && (state.startsWith("22") || state.startsWith("23"));
  }

  /** SQLSTATE and message of a database's refusal, for the log (nothing of the rows themselves). */
  static String describe(Throwable e) {
    Throwable cause = e instanceof NotCommitted n && n.getCause() != null ? n.getCause() : e;
    if (cause instanceof io.vertx.pgclient.PgException pg) {
      return "SQLSTATE " + pg.getSqlState() + ": " + pg.getErrorMessage();
    }
    return cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
  }

  /** A batch's end (once, whichever comes first: its outcome or its deadline), then the next batch. */
  private void settle(Batch b, io.vertx.core.AsyncResult<Void> ar) {
    if (b.settled) {
      return;
    }
    b.settled = true;
    vertx.cancelTimer(b.timer);
    commitTimer.record(System.nanoTime() - b.started, java.util.concurrent.TimeUnit.NANOSECONDS);
    batchRows.record(b.rows.size());
    if (ar.succeeded()) {
      AccessLogEntry last = b.rows.get(b.rows.size() - 1);
      committedHead = new Head(chainId, last.chainSeq(), last.rowHash());
      hold(b.rows);
      for (int i = 0; i < b.pending.size(); i++) {
        Pending p = b.pending.get(i);
        p.state = State.DONE;
        p.promise.tryComplete(b.rows.get(i));
      }
    } else if (dataError(ar.cause())) {
      split(b, ar.cause());
    } else {
      boolean uncertain = b.commitSent && !(ar.cause() instanceof NotCommitted);
      String why = ar.cause() instanceof java.util.concurrent.TimeoutException ? "did not finish in time"
        : ar.cause() instanceof NotCommitted n ? n.getMessage() + (n.getCause() == null ? ""
          : " (" + describe(n.getCause()) + ")") : "failed (" + describe(ar.cause()) + ")";
      if (uncertain) {
        // once per outage (the outage's own line, whoever noticed it first), each such batch counted
        // in bureau.audit.uncertain.batches: a freeze cuts off one batch per writer, the COMMIT
        // being sent with the batch
        io.openbureau.http.OutageLog.POSTGRES.failed("access-log commit of " + b.rows.size() + " rows (" + why
          + " after its COMMIT was sent: they may be in the log although their requests answer 503 with"
          + " Access-Log-Outcome: unknown; a new chain follows)", ar.cause());
        LOG.debug("access-log commit of {} rows {} after its COMMIT was sent; a new chain follows", b.rows.size(), why);
        counter("bureau.audit.uncertain.batches", "outcome", "unknown").increment();
      } else {
        // once per outage, not once per batch
        io.openbureau.http.OutageLog.POSTGRES.failed("access-log commit (" + why + "; a new chain follows)",
          ar.cause() instanceof NotCommitted n && n.getCause() != null ? n.getCause() : ar.cause());
      }
      abandon(b.rows);
      newChain();
      ApiError error = uncertain ? uncertain() : unavailable();
      for (Pending p : b.pending) {
        p.state = State.DONE;
        p.promise.tryFail(error);
      }
      if (uncertain && b.commit != null) {
        learnLate(b);
      } else {
        batchConnection.forget(b.conn, false);
      }
    }
    committing = false;
    flush();
  }

  /**
   * The database refused the batch for a row's content (class 22 or 23) before anything committed:
   * the chain goes on from before the batch (none of it is in the log), and the batch is re-sent in
   * halves, ahead of the queue and in order, until the bad row is alone: only its request fails
   * (503, certainly not in the log); the others commit in order in the chain. Logged once per
   * refused batch (not per row), naming the SQLSTATE and the database's message.
   */
  private void split(Batch b, Throwable cause) {
    AccessLogEntry first = b.rows.get(0);
    head = first.prevHash();
    seq = first.chainSeq() - 1;
    if (b.pending.size() == 1) {
      Pending p = b.pending.get(0);
      LOG.warn("access-log row {} refused by the database ({}): its request answers 503; the chain goes on",
        p.id, describe(cause));
      refusedRows.increment();
      p.state = State.DONE;
      p.promise.tryFail(unavailable());
      return;
    }
    if (!b.pending.get(0).retried) {
      LOG.warn("access-log batch of {} rows refused by the database ({}): re-sending it split to find the bad row",
        b.rows.size(), describe(cause));
    }
    int half = b.pending.size() / 2;
    List<Pending> left = new ArrayList<>(b.pending.subList(0, half));
    List<Pending> right = new ArrayList<>(b.pending.subList(half, b.pending.size()));
    for (Pending p : b.pending) {
      p.state = State.RETRY;
      p.retried = true;
    }
    retry.addFirst(right);
    retry.addFirst(left);
  }

  /**
   * 503 {@code audit_unavailable} for a row refused because {@code audit.maxQueuedRows} rows wait:
   * {@code Retry-After} is the commit timeout in seconds (at least 1), by when every row queued now
   * has been committed or given up.
   */
  ApiError overloaded() {
    long seconds = Math.max(1, (settings.commitTimeoutMillis() + 999) / 1000);
    return new ApiError(503, "audit_unavailable", "Service unavailable",
      "postgres (the database) is behind: the access log's queue is full, so this request cannot be recorded;"
        + " nothing was served, retry later", null, java.util.Map.of("Retry-After", Long.toString(seconds)));
  }

  /** An uncertain batch: its connection is kept a little to hear what happened, for the log and the metrics. */
  private void learnLate(Batch b) {
    SqlConnection c = b.conn;
    batchConnection.forget(c, true); // never used again: its state is unknown (closed below)
    long closer = vertx.setTimer(settings.commitTimeoutMillis(), t -> c.close());
    b.commit.onComplete(ar -> {
      vertx.cancelTimer(closer);
      c.close();
      if (ar.succeeded()) {
        LOG.warn("an access-log batch of {} rows given up as uncertain did commit: their requests answered 503",
          b.rows.size());
        counter("bureau.audit.uncertain.batches", "outcome", "committed").increment();
      } else if (ar.cause() instanceof NotCommitted) {
        LOG.info("an access-log batch of {} rows given up as uncertain did not commit", b.rows.size());
        counter("bureau.audit.uncertain.batches", "outcome", "rolled_back").increment();
      } // else the connection went first: it stays unknown (counted as such)
    });
  }

  private Counter counter(String name, String tag, String value) {
    return Counter.builder(name).tag(tag, value).register(registry);
  }

  private void newChain() {
    chainId = writerId + "-" + (++chainNumber) + "-" + Long.toString(System.currentTimeMillis(), 36);
    seq = 0;
    head = ChainHash.GENESIS;
    held.clear();
    heldChain = chainId;
    heldFrom = 1;
    heldPrev = null;
  }

  private void hold(List<AccessLogEntry> rows) {
    if (held.size() + rows.size() > MAX_HELD_HASHES) {
      LOG.warn("access-log chain {}: {} row hashes wait for a checkpoint; letting them go", chainId, held.size());
      heldPrev = rows.get(0).prevHash();
      heldFrom = rows.get(0).chainSeq();
      held.clear();
    }
    for (AccessLogEntry row : rows) {
      held.add(row.rowHash());
    }
  }

  /** The committed row hashes the checkpointer has not released yet (a copy). */
  public Committed committed() {
    return new Committed(heldChain, heldFrom, heldPrev, List.copyOf(held));
  }

  /** How many committed row hashes wait for a checkpoint. */
  public int heldCount() {
    return held.size();
  }

  /** The rows of {@code chain} up to {@code throughSeq} are checkpointed: their hashes are no longer needed. */
  public void release(String chain, long throughSeq) {
    if (!chain.equals(heldChain) || throughSeq < heldFrom) {
      return;
    }
    int n = (int) Math.min(held.size(), throughSeq - heldFrom + 1);
    if (n > 0) {
      heldPrev = held.get(n - 1);
      held.subList(0, n).clear();
      heldFrom += n;
    }
  }

  private Future<Void> refill() {
    if (refilling != null) {
      return refilling;
    }
    Promise<Void> done = Promise.promise();
    refilling = done.future();
    long timer = vertx.setTimer(settings.commitTimeoutMillis(), t -> {
      if (done.tryFail(unavailable())) {
        idBlocks.drop(); // its answer may never come: a new connection next time
      }
    });
    Future<RowSet<Row>> reserved = ownIds
      ? idBlocks.get().compose(c -> c.preparedQuery(RESERVE_IDS).execute(Tuple.of(settings.idBlockSize())))
      : pg.preparedQuery(RESERVE_IDS).execute(Tuple.of(settings.idBlockSize()));
    reserved.onComplete(ar -> {
      if (ar.succeeded()) {
        if (!done.future().isComplete()) {
          for (Row r : ar.result()) {
            ids.add(r.getLong(0));
          }
        } // else given up: those ids stay unused (a gap in ids is harmless; the chain has its own sequence)
      } else if (ownIds) {
        idBlocks.drop();
      }
      done.tryComplete();
    });
    Future<Void> f = refilling;
    f.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (refilling == f) {
        refilling = null;
      }
    });
    return f;
  }

  private static Tuple tuple(List<AccessLogEntry> rows) {
    int n = rows.size();
    Long[] id = new Long[n];
    OffsetDateTime[] at = new OffsetDateTime[n];
    Long[] seq = new Long[n];
    String[] action = new String[n];
    String[] actorRole = new String[n];
    String[] actorId = new String[n];
    String[] lender = new String[n];
    Buffer[] borrower = new Buffer[n];
    String[] purpose = new String[n];
    String[] scope = new String[n];
    String[] decision = new String[n];
    String[] reason = new String[n];
    UUID[] consent = new UUID[n];
    String[] request = new String[n];
    Integer[] score = new Integer[n];
    String[] details = new String[n];
    String[] copies = new String[n];
    Buffer[] prev = new Buffer[n];
    Buffer[] hash = new Buffer[n];
    for (int i = 0; i < n; i++) {
      AccessLogEntry e = rows.get(i);
      id[i] = e.id();
      at[i] = e.at().atOffset(ZoneOffset.UTC);
      seq[i] = e.chainSeq();
      action[i] = e.action();
      actorRole[i] = e.actorRole();
      actorId[i] = e.actorId();
      lender[i] = e.lenderId();
      borrower[i] = e.borrowerKey() == null ? null : Buffer.buffer(e.borrowerKey());
      purpose[i] = e.purpose();
      scope[i] = e.scope();
      decision[i] = e.decision();
      reason[i] = e.reason();
      consent[i] = e.consentId();
      request[i] = e.requestId();
      score[i] = e.scoreValue();
      details[i] = e.detailsText(); // the very text the hash covers
      copies[i] = DetailsJson.jsonbCopy(e.detailsText()); // for queries; verify checks it still matches
      prev[i] = Buffer.buffer(e.prevHash());
      hash[i] = Buffer.buffer(e.rowHash());
    }
    return Tuple.tuple().addArrayOfLong(id).addArrayOfOffsetDateTime(at).addString(rows.get(0).chainId())
      .addArrayOfLong(seq).addArrayOfString(action).addArrayOfString(actorRole).addArrayOfString(actorId)
      .addArrayOfString(lender).addArrayOfBuffer(borrower).addArrayOfString(purpose).addArrayOfString(scope)
      .addArrayOfString(decision).addArrayOfString(reason).addArrayOfUUID(consent).addArrayOfString(request)
      .addArrayOfInteger(score).addArrayOfString(details).addArrayOfBuffer(prev).addArrayOfBuffer(hash)
      .addShort((short) ChainHash.CURRENT).addArrayOfString(copies);
  }

  /** The answer when the row's commit was cut off after its COMMIT was sent: it may be in the log. */
  static ApiError uncertain() {
    return new ApiError(503, "audit_unavailable", "Service unavailable",
      "the access log's commit of this request was cut off: the attempt may be in the log, but nothing was served;"
        + " retry later", null, java.util.Map.of(OUTCOME_HEADER, "unknown",
      "Retry-After", Integer.toString(ApiError.RETRY_AFTER_SECONDS)));
  }

  /** 503 {@code audit_unavailable}: the row is not in the log, nothing was served. */
  public static ApiError unavailable() {
    return ApiError.dependencyUnavailable("audit_unavailable", "postgres",
      "is unavailable: the access log cannot record this request; nothing was served, retry later");
  }
}
