package io.openbureau.furnishing;

import io.openbureau.http.ApiError;
import io.openbureau.http.InputGuard;
import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.parsetools.RecordParser;
import io.vertx.core.streams.ReadStream;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One streamed NDJSON furnishing batch, from an HTTP request body ({@code POST
 * /v1/furnishing/batches}) or a file (the {@code import} command): the same code path for both.
 *
 * <p>The event loop only splits the stream into numbered lines and cuts chunks of
 * {@link #CHUNK_LINES}. A chunk is parsed and validated on a worker thread (JSON, national id
 * check, HMAC: CPU work that must not hold the event loop), then applied in one transaction
 * ({@link FurnishingService#commit}); while one chunk commits, the next is parsed. When two chunks
 * are outstanding the source is paused, so memory stays flat whatever the size of the input.
 * Chunks commit one after another in line order (a later line about an account always wins); a
 * chunk's scores are published to Redis while the next chunk commits (the versioned cache keeps
 * the highest version, so publications may overlap), and a transaction does not start before the
 * previous chunk's publication is done. The batch completes when every chunk is committed and
 * published.
 *
 * <p>Outages: a chunk Postgres cannot run stops the batch with a 503 (no line is reported
 * rejected because of it; what committed before is whole chunks). A chunk whose scores Redis
 * cannot take is committed all the same and its scores stay marked unpublished in Postgres for
 * {@link io.openbureau.scoring.ScoreRepublisher}; the batch then answers 503 saying so.
 *
 * <p>State is touched only on the caller's context: no locking; the progress getters are meant to
 * be read there too.
 */
public final class BatchIngest {
  private static final Logger LOG = LoggerFactory.getLogger(BatchIngest.class);
  public static final int CHUNK_LINES = 2000;
  /** A longer line is rejected with its line number. */
  public static final int MAX_LINE_BYTES = 64 * 1024;
  /** A line longer than this stops the batch (the parser would have to hold it whole). */
  static final int MAX_BUFFERED_BYTES = 4 * MAX_LINE_BYTES;
  public static final int MAX_LISTED_ERRORS = 1000;
  /** Chunks cut but not yet committed (two in transactions, one being parsed) before the source is paused. */
  private static final int MAX_OUTSTANDING = 3;

  /** The outcome of a batch. {@code errors} holds the first {@link #MAX_LISTED_ERRORS} rejections, by line. */
  public record Summary(long lines, long accepted, long rejected, List<JsonObject> errors, boolean errorsTruncated) {
    public JsonObject toJson() {
      return new JsonObject().put("accepted", accepted).put("rejected", rejected).put("lines", lines)
        .put("errors", new JsonArray(new ArrayList<>(errors))).put("errorsTruncated", errorsTruncated);
    }
  }

  private record Raw(int line, Buffer text) {
  }

  private record Rejection(int line, String code, String field, String message) {
  }

  /** A parsed chunk: the valid lines and the rejected ones. */
  private record Parsed(List<FurnishingService.Numbered> lines, List<Rejection> rejections) {
  }

  private final FurnishingService service;
  private final BorrowerKeys keys;
  private final String member;
  private final int chunkLines;

  private final List<JsonObject> errors = new ArrayList<>();
  private final Promise<Summary> result = Promise.promise();
  private Context context;
  private List<Raw> raw;
  private RecordParser parser;
  private boolean paused;
  private int outstanding;
  /**
   * Chunks cut and not yet done, and the failure of the earliest failed one. Counters, not a chain
   * of futures: a future chained on the previous one through a lambda that captures it keeps every
   * chunk of the run reachable (its lines, outcomes and scores), so the heap grew with the input.
   */
  private int open;
  private boolean ended;
  private long chunks;
  private long failedChunk = Long.MAX_VALUE;
  private Throwable chunkFailure;
  /** The first failed publication, in chunk order (the publications themselves always succeed). */
  private Throwable publishFailure;
  /** The last chunk cut: its parse (null if it failed), its locks held, its completion (never failed). */
  private Future<Parsed> lastParsed = Future.succeededFuture();
  private Future<Void> lastLocked = Future.succeededFuture();
  private Future<Void> lastDone = Future.succeededFuture();
  private Future<Void> lastButOneDone = Future.succeededFuture();
  /** Publications of the committed chunks' scores, in chunk order; never failed (see publishFailure). */
  private Future<Void> publishing = Future.succeededFuture();
  private ApiError tooLong;
  /** Set when a chunk found Postgres unreachable: the chunks after it are not tried. */
  private FurnishingService.DatabaseDown databaseDown;
  private int lineNo;
  private long bytes;
  private long accepted;
  private long rejected;
  private long parseNanos;
  private long commitNanos;
  private final long started = System.nanoTime();

  public BatchIngest(FurnishingService service, BorrowerKeys keys, String member) {
    this(service, keys, member, CHUNK_LINES);
  }

  BatchIngest(FurnishingService service, BorrowerKeys keys, String member, int chunkLines) {
    this.service = service;
    this.keys = keys;
    this.member = member;
    this.chunkLines = chunkLines;
    this.raw = new ArrayList<>(chunkLines);
  }

  /**
   * Reads the source to its end; call on a Vert.x context. Fails with a 400 {@link ApiError} when a
   * line exceeds {@link #MAX_BUFFERED_BYTES} (the lines before it are applied), or with the cause
   * when a chunk could be neither committed nor retried line by line, or its scores not published.
   */
  public Future<Summary> run(ReadStream<Buffer> source) {
    context = Vertx.currentContext();
    if (context == null) {
      throw new IllegalStateException("BatchIngest.run must be called on a Vert.x context");
    }
    parser = RecordParser.newDelimited("\n", source).maxRecordSize(MAX_BUFFERED_BYTES);
    parser.handler(this::onRecord);
    parser.exceptionHandler(e -> {
      if (tooLong != null) {
        return;
      }
      tooLong = ApiError.invalid("line " + (lineNo + 1),
        "is longer than " + MAX_BUFFERED_BYTES + " bytes; lines before it were processed");
      // drain (and drop) the rest instead of buffering it in the parser
      source.handler(b -> bytes += b.length());
      source.resume();
    });
    parser.endHandler(v -> {
      cut();
      ended = true;
      maybeFinish();
    });
    source.resume();
    return result.future();
  }

  /** Lines read so far (including blank and rejected ones). */
  public long lines() {
    return lineNo;
  }

  /** Bytes of the source read so far. */
  public long bytes() {
    return bytes;
  }

  public long accepted() {
    return accepted;
  }

  public long rejected() {
    return rejected;
  }

  private void onRecord(Buffer buffer) {
    lineNo++;
    bytes += buffer.length() + 1;
    if (tooLong != null) {
      return;
    }
    if (buffer.length() > MAX_LINE_BYTES) {
      reject(new Rejection(lineNo, "invalid_request", null, "the line is longer than " + MAX_LINE_BYTES + " bytes"));
    } else {
      raw.add(new Raw(lineNo, buffer));
    }
    if (raw.size() >= chunkLines) {
      cut();
      if (outstanding >= MAX_OUTSTANDING && !paused) {
        paused = true;
        parser.pause();
      }
    }
  }

  /**
   * Sends the current raw lines to a worker for parsing and schedules the chunk's transaction: it
   * starts once the previous chunk's transaction holds its locks if the two chunks share no account
   * and this one has no repayment (a person in both waits for the previous commit on its lock,
   * then reads what it wrote); otherwise once the previous chunk is committed. At most two
   * transactions are open, and the one before the previous is always committed.
   */
  private void cut() {
    if (raw.isEmpty()) {
      return;
    }
    List<Raw> lines = raw;
    raw = new ArrayList<>(chunkLines);
    outstanding++;
    open++;
    long index = chunks++;
    // ordered: one parse at a time per context, chunks in order
    Future<Parsed> parsed = context.executeBlocking(() -> parse(lines), true);
    Future<Parsed> previous = lastParsed;
    Future<Void> previousLocked = lastLocked;
    Future<Void> previousDone = lastDone;
    Future<Void> beforePreviousDone = lastButOneDone;
    Promise<Void> locked = Promise.promise();
    Future<Void> done = Future.join(parsed, previous).compose(all -> {
      Parsed p = parsed.result();
      p.rejections().forEach(this::reject);
      boolean overlap = independent(p, previous.result());
      Future<Void> gate = overlap ? Future.join(previousLocked, beforePreviousDone).mapEmpty() : previousDone;
      return gate.transform(ar -> commit(p.lines(), locked));
    }).andThen(ar -> {
      locked.tryComplete();
      outstanding--;
      if (paused && outstanding < MAX_OUTSTANDING) {
        paused = false;
        parser.resume();
      }
    });
    lastParsed = parsed.transform(ar -> Future.succeededFuture(ar.succeeded() ? ar.result() : null));
    lastLocked = locked.future();
    lastButOneDone = previousDone;
    lastDone = done.transform(ar -> Future.succeededFuture());
    done.onComplete(ar -> {
      if (ar.failed() && index < failedChunk) {
        failedChunk = index;
        chunkFailure = ar.cause();
      }
      open--;
      maybeFinish();
    });
  }

  /** Once the input ended and every chunk is done: the answer, after the publications when no chunk failed. */
  private void maybeFinish() {
    if (!ended || open > 0 || result.future().isComplete() || finishing) {
      return;
    }
    finishing = true;
    if (chunkFailure != null) {
      finish(Future.failedFuture(chunkFailure));
    } else {
      publishing.onComplete(v -> finish(publishFailure == null ? Future.succeededFuture() : Future.failedFuture(publishFailure)));
    }
  }

  private boolean finishing;

  /** Whether a chunk may start before the previous one commits: no repayment, no account in common. */
  private static boolean independent(Parsed chunk, Parsed previous) {
    if (previous == null) {
      return true;
    }
    Set<String> refs = new HashSet<>(previous.lines().size() * 2);
    previous.lines().forEach(n -> refs.add(n.value().accountRef()));
    for (FurnishingService.Numbered n : chunk.lines()) {
      if (n.value() instanceof Line.Repayment || refs.contains(n.value().accountRef())) {
        return false;
      }
    }
    return true;
  }

  /** On a worker thread: touches nothing but its arguments. */
  private Parsed parse(List<Raw> lines) {
    long t0 = System.nanoTime();
    List<FurnishingService.Numbered> valid = new ArrayList<>(lines.size());
    List<Rejection> rejections = new ArrayList<>();
    for (Raw r : lines) {
      String text = r.text().toString().trim();
      if (text.isEmpty()) {
        continue;
      }
      try {
        JsonObject json = new JsonObject(text);
        InputGuard.require(InputGuard.check(json));
        String kind = json.getValue("type") instanceof String s ? s : null;
        String ref = json.getValue("accountRef") instanceof String s ? s : null;
        if ("tradeline".equals(kind)) {
          valid.add(new FurnishingService.Numbered(r.line(), Line.tradeline(ref, json, keys)));
        } else if ("repayment".equals(kind)) {
          valid.add(new FurnishingService.Numbered(r.line(), Line.repayment(ref, json)));
        } else {
          rejections.add(new Rejection(r.line(), "invalid_request", "type", "type must be tradeline or repayment"));
        }
      } catch (ApiError e) {
        ApiError.FieldError first = e.errors().isEmpty() ? null : e.errors().get(0);
        rejections.add(new Rejection(r.line(), e.code(), first == null ? null : first.field(),
          first == null ? e.getMessage() : first.field() + ": " + first.message()));
      } catch (RuntimeException e) {
        rejections.add(new Rejection(r.line(), "invalid_request", null, "the line is not a JSON object"));
      }
    }
    parseNanos += System.nanoTime() - t0; // ordered tasks: never two at once
    return new Parsed(valid, rejections);
  }

  /**
   * Commits a chunk, then starts publishing its scores after the previous publication, and
   * completes when that previous publication is done. A chunk that fails on a line's content (it
   * should not: lines are checked first) is retried line by line, so one line never sinks others.
   * A chunk that fails because Postgres is unreachable stops the batch: no line is reported
   * rejected for an outage, later chunks are not tried, and the batch answers 503.
   */
  private Future<Void> commit(List<FurnishingService.Numbered> chunk, Promise<Void> locked) {
    if (chunk.isEmpty() || databaseDown != null) {
      locked.tryComplete();
      return databaseDown == null ? Future.succeededFuture() : Future.failedFuture(databaseDown);
    }
    long t0 = System.nanoTime();
    return service.commit(member, chunk, locked)
      .compose(done -> {
        CrashHook.betweenCommitAndPublish();
        commitNanos += System.nanoTime() - t0;
        done.outcomes().forEach(this::record);
        // every chunk's scores are tried, after the previous chunk's, even when that one failed:
        // the first failure is kept for the answer; what failed stays marked unpublished in
        // Postgres, and the repair loop publishes it when Redis is back
        Future<Void> before = publishing;
        publishing = before.transform(ar -> service.publish(done)).transform(ar -> {
          if (ar.failed() && publishFailure == null) {
            publishFailure = ar.cause();
          }
          return Future.succeededFuture();
        });
        return before;
      }, e -> {
        if (!FurnishingService.lineFault(e)) {
          if (e instanceof FurnishingService.DatabaseDown down && databaseDown == null) {
            databaseDown = down;
          }
          return Future.failedFuture(e);
        }
        if (chunk.size() == 1) {
          reject(new Rejection(chunk.get(0).line(), "not_applied", null, "the line could not be applied; resubmit it"));
          return Future.succeededFuture();
        }
        LOG.warn("a chunk of {} lines from line {} failed as a whole ({}); applying its lines one by one",
          chunk.size(), chunk.get(0).line(), e.getMessage());
        Future<Void> each = Future.succeededFuture();
        for (FurnishingService.Numbered n : chunk) {
          each = each.compose(v -> commit(List.of(n), Promise.promise()));
        }
        return each;
      });
  }

  private void finish(io.vertx.core.AsyncResult<Void> ar) {
    double seconds = (System.nanoTime() - started) / 1e9;
    LOG.info("batch of member {}: {} lines ({} accepted, {} rejected) in {} s; parsing {} s on a worker, "
        + "transactions {} s, overlapped", member, lineNo, accepted, rejected, String.format("%.1f", seconds),
      String.format("%.1f", parseNanos / 1e9), String.format("%.1f", commitNanos / 1e9));
    if (tooLong != null) {
      result.tryFail(tooLong);
    } else if (ar.failed()) {
      result.tryFail(toApiError(ar.cause()));
    } else {
      errors.sort(Comparator.comparingInt(o -> o.getInteger("line")));
      result.tryComplete(new Summary(lineNo, accepted, rejected, List.copyOf(errors), rejected > errors.size()));
    }
  }

  /** An outage becomes the batch's 503 answer (the lines are neither accepted nor rejected by it). */
  private Throwable toApiError(Throwable e) {
    if (e instanceof FurnishingService.DatabaseDown) {
      return ApiError.unavailable("unavailable", "the database is unavailable: the batch stopped; lines are applied "
        + "in whole chunks of up to " + chunkLines + ", so some chunks may be applied and none only in part; re-send "
        + "the whole batch when it is back (re-sending is idempotent)");
    }
    if (e instanceof FurnishingService.CacheDown) {
      return ApiError.unavailable("unavailable", "the cache is unavailable: the batch was applied (" + accepted
        + " lines accepted, " + rejected + " rejected) but some scores are not in the cache yet; they reach it by "
        + "themselves when it is back, and re-sending the batch is safe");
    }
    return e;
  }

  private void record(FurnishingService.Outcome o) {
    if (o.accepted()) {
      accepted++;
    } else {
      reject(new Rejection(o.line(), o.code(), "accountRef", o.message()));
    }
  }

  private void reject(Rejection r) {
    rejected++;
    if (errors.size() < MAX_LISTED_ERRORS) {
      JsonObject e = new JsonObject().put("line", r.line()).put("code", r.code()).put("message", r.message());
      if (r.field() != null) {
        e.put("field", r.field());
      }
      errors.add(e);
    }
  }
}
