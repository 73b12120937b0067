package io.openbureau.audit;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.openbureau.http.ApiError;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
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
 * <p><b>Failure.</b> A row not committed within {@code audit.commitTimeoutMillis} fails its
 * request with 503 {@code audit_unavailable}; a row that commits after its request gave up is
 * harmless (logged but not answered). A 200 is never sent without its committed row.
 */
public final class AuditWriter {
  private static final Logger LOG = LoggerFactory.getLogger(AuditWriter.class);
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
           consent_id, request_id, score_value, details, prev_hash, row_hash, copy)""";
  static final String RESERVE_IDS = "SELECT nextval('access_log_id_seq') AS id FROM generate_series(1, $1)";

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

  private record Pending(AccessLogEntry.Draft draft, long id, Promise<AccessLogEntry> promise) {
  }

  private final Vertx vertx;
  private final SqlClient pg;
  private final AuditSettings settings;
  private final String writerId = UUID.randomUUID().toString().substring(0, 8);
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private final ArrayDeque<Long> ids = new ArrayDeque<>();
  private final Timer commitTimer;
  private final DistributionSummary batchRows;
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

  public AuditWriter(Vertx vertx, SqlClient pg, AuditSettings settings, MeterRegistry registry) {
    this.vertx = vertx;
    this.pg = pg;
    this.settings = settings;
    this.commitTimer = Timer.builder("bureau.audit.commit").description("Access-log batch commit latency")
      .publishPercentileHistogram().register(registry);
    this.batchRows = DistributionSummary.builder("bureau.audit.batch.rows").description("Access-log rows per commit")
      .publishPercentileHistogram().register(registry);
    newChain();
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

  /** Appends the row {@code id} (from {@link #reserveId}); completes when it is committed. */
  public Future<AccessLogEntry> append(long id, AccessLogEntry.Draft draft) {
    Promise<AccessLogEntry> promise = Promise.promise();
    long timer = vertx.setTimer(settings.commitTimeoutMillis(), t -> promise.tryFail(unavailable()));
    queue.add(new Pending(draft, id, promise));
    if (!committing) {
      flush();
    }
    return promise.future().onComplete(ar -> vertx.cancelTimer(timer));
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
    if (!committing && queue.isEmpty()) {
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

  private void flush() {
    if (queue.isEmpty()) {
      committing = false;
      List<Promise<Void>> waiting = new ArrayList<>(idle);
      idle.clear();
      waiting.forEach(Promise::tryComplete);
      return;
    }
    committing = true;
    List<Pending> batch = new ArrayList<>(Math.min(queue.size(), settings.maxBatchRows()));
    while (!queue.isEmpty() && batch.size() < settings.maxBatchRows()) {
      batch.add(queue.poll());
    }
    Instant at = Instant.now().truncatedTo(ChronoUnit.MICROS);
    List<AccessLogEntry> rows = new ArrayList<>(batch.size());
    byte[] prev = head;
    for (Pending p : batch) {
      AccessLogEntry row = AccessLogEntry.chained(p.id(), at, chainId, ++seq, p.draft(), prev);
      rows.add(row);
      prev = row.rowHash();
    }
    head = prev;
    long started = System.nanoTime();
    long batchNumber = ++batches;
    // a commit that hangs (a dead connection, a stalled server) must not stall the writer forever:
    // give up on it, start a new chain (it may still commit later: no fork), go on with the queue
    long watchdog = vertx.setTimer(settings.commitTimeoutMillis(), t -> {
      if (batches == batchNumber && committing) {
        io.openbureau.http.OutageLog.POSTGRES.failed("access-log commit (no answer in time; a new chain follows)", null);
        batches++;
        abandon(rows);
        newChain();
        batch.forEach(p -> p.promise().tryFail(unavailable()));
        flush();
      }
    });
    pg.preparedQuery(INSERT).execute(tuple(rows)).onComplete(ar -> {
      vertx.cancelTimer(watchdog);
      if (batches != batchNumber) {
        return; // abandoned by the watchdog; whatever happened to it, the writer has moved on
      }
      commitTimer.record(System.nanoTime() - started, java.util.concurrent.TimeUnit.NANOSECONDS);
      batchRows.record(rows.size());
      if (ar.succeeded()) {
        AccessLogEntry last = rows.get(rows.size() - 1);
        committedHead = new Head(chainId, last.chainSeq(), last.rowHash());
        hold(rows);
        for (int i = 0; i < batch.size(); i++) {
          batch.get(i).promise().tryComplete(rows.get(i));
        }
      } else {
        io.openbureau.http.OutageLog.POSTGRES.failed("access-log commit (a new chain follows)", ar.cause()); // once per outage
        abandon(rows);
        newChain();
        batch.forEach(p -> p.promise().tryFail(unavailable()));
      }
      flush();
    });
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
    long timer = vertx.setTimer(settings.commitTimeoutMillis(), t -> done.tryFail(unavailable()));
    pg.preparedQuery(RESERVE_IDS).execute(Tuple.of(settings.idBlockSize())).onComplete(ar -> {
      if (ar.succeeded()) {
        for (Row r : ar.result()) {
          ids.add(r.getLong(0));
        }
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

  static ApiError unavailable() {
    return ApiError.unavailable("audit_unavailable",
      "the access log cannot record this request right now; nothing was served, retry later");
  }
}
