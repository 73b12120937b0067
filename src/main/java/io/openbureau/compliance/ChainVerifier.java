package io.openbureau.compliance;

import io.openbureau.audit.AccessLogEntry;
import io.openbureau.audit.ChainHash;
import io.openbureau.audit.DetailsJson;
import io.openbureau.config.BureauConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowStream;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Walks every hash chain with rows in a time range and reports whether the log is intact.
 *
 * <p>The rows of the range are streamed from a Postgres cursor in (chain_id, chain_seq, id) order.
 * On the event loop each row is checked against its neighbour: consecutive {@code chain_seq} (a
 * gap is a deleted row, a repeat an inserted one) and {@code prev_hash} equal to the previous
 * row's {@code row_hash}. Recomputing {@code row_hash} (SHA-256 over the canonical encoding, the
 * jsonb {@code details} re-canonicalized) needs only the row itself, so batches are hashed on
 * worker threads in parallel while the stream goes on; the stream pauses while too many batches
 * are in flight (memory stays flat).
 *
 * <p>Then the edges: the first row of each chain in the range must link to its predecessor (the
 * row before it, possibly older than the range, or the anchor the retention command left when it
 * dropped that row's partition; the genesis hash for {@code chain_seq} 1). Finally the signed
 * checkpoints of these chains are compared with the stored rows: a checkpointed row that changed
 * or vanished (a deleted tail, or a chain re-hashed from a changed row onwards) is a break too.
 *
 * <p>The answer names the first broken row by (at, id) over all chains.
 */
public final class ChainVerifier {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ChainVerifier.class);
  static final String WALK = """
    SELECT id, at, chain_id, chain_seq, action, actor_role, actor_id, lender_id, borrower_key, purpose, scope,
           decision, reason, consent_id, request_id, score_value, details::text AS details, prev_hash, row_hash,
           hash_version, details_json::text AS details_json
    FROM access_log WHERE at >= $1 AND at < $2 AND chain_id = ANY($3)
    ORDER BY chain_id, chain_seq, id""";
  static final String PREDECESSORS = """
    SELECT u.chain_id, u.seq,
           (SELECT a.row_hash FROM access_log a WHERE a.chain_id = u.chain_id AND a.chain_seq = u.seq
            ORDER BY a.id LIMIT 1) AS row_hash,
           (SELECT n.row_hash FROM audit_anchors n WHERE n.chain_id = u.chain_id AND n.chain_seq = u.seq) AS anchor_hash
    FROM unnest($1::text[], $2::bigint[]) AS u(chain_id, seq)""";
  static final String CHECKPOINTS = """
    SELECT c.chain_id, c.chain_seq, c.head_hash, a.id, a.at, a.row_hash
    FROM unnest($1::text[], $2::bigint[]) AS u(chain_id, first_seq)
    JOIN audit_checkpoints c ON c.chain_id = u.chain_id AND c.chain_seq >= u.first_seq
    LEFT JOIN LATERAL (SELECT id, at, row_hash FROM access_log a WHERE a.chain_id = c.chain_id
                       AND a.chain_seq = c.chain_seq ORDER BY a.id LIMIT 1) a ON true""";

  /** Batches hashed at once, at most: bounds the rows held in memory. */
  private static final int MAX_IN_FLIGHT = Math.max(2, Runtime.getRuntime().availableProcessors()) * 2;

  /** The outcome of a walk. */
  public record Result(long checked, int chains, boolean intact, Broken firstBroken, long brokenRows, int checkpoints) {
    public JsonObject toJson() {
      JsonObject j = new JsonObject().put("checked", checked).put("intact", intact)
        .put("firstBrokenId", firstBroken == null ? null : Long.toString(firstBroken.id()))
        .put("chains", chains).put("brokenRows", brokenRows).put("checkpointsCompared", checkpoints);
      if (firstBroken != null) {
        j.put("brokenChain", firstBroken.chainId()).put("brokenChainSeq", firstBroken.chainSeq())
          .put("problem", firstBroken.problem());
      }
      return j;
    }
  }

  /** A row found broken and why. */
  public record Broken(long id, Instant at, String chainId, long chainSeq, String problem) {
    boolean before(Broken o) {
      int c = at.compareTo(o.at);
      return c < 0 || (c == 0 && id < o.id);
    }
  }

  /** Threads of the fast pass (blocking JDBC); daemon, created on demand, idle ones expire. */
  private static final ExecutorService SCAN_THREADS = new ThreadPoolExecutor(0, 64, 30, TimeUnit.SECONDS,
    new SynchronousQueue<>(), r -> {
      Thread t = new Thread(r, "access-log-verify");
      t.setDaemon(true);
      return t;
    });

  /** Verifications running in this process at most (the rest get 429 verify_busy). */
  static final int MAX_RUNNING = 2;
  private static final java.util.concurrent.Semaphore RUNNING = new java.util.concurrent.Semaphore(MAX_RUNNING);

  private final Vertx vertx;
  private final Pool pool;
  private final BureauConfig.Postgres pg;
  private final int batchRows;
  private final int parallelism;

  public ChainVerifier(Vertx vertx, Pool pool, BureauConfig.Postgres pg, int batchRows, int parallelism) {
    this.vertx = vertx;
    this.pool = pool;
    this.pg = pg;
    this.batchRows = batchRows;
    this.parallelism = parallelism;
  }

  public Future<Result> verify(TimeRange range) {
    // each verify holds `parallelism` Postgres connections and as many threads: a few at a time
    if (!RUNNING.tryAcquire()) {
      return Future.failedFuture(new io.openbureau.http.ApiError(429, "verify_busy", "Too many requests",
        "verifications are already running; retry when they finish", null, java.util.Map.of("Retry-After", "5")));
    }
    return verifyNow(range).onComplete(ar -> RUNNING.release());
  }

  private Future<Result> verifyNow(TimeRange range) {
    Walk walk = new Walk();
    Promise<ChainScan.Outcome> scanned = Promise.promise();
    // the fast pass: every row hashed from binary COPY on its own threads; chains that do not
    // come out clean are then walked in order (below) so the exact broken row is named
    SCAN_THREADS.execute(() -> {
      try {
        scanned.complete(ChainScan.run(pg, range.from(), range.to(), parallelism, SCAN_THREADS));
      } catch (Throwable e) {
        scanned.fail(e);
      }
    });
    return Future.fromCompletionStage(scanned.future().toCompletionStage(), vertx.getOrCreateContext())
      .compose(outcome -> {
        LOG.info("verify {}..{}: fast pass {} rows, {} chains clean, {} suspect (walked in order)", range.from(),
          range.to(), outcome.rows(), outcome.clean().size(), outcome.suspect().size());
        walk.chains.putAll(outcome.clean());
        if (outcome.suspect().isEmpty()) {
          return Future.succeededFuture(outcome.rows());
        }
        return pool.withConnection(conn -> stream(conn, range, outcome.suspect(), walk)).map(outcome.rows());
      })
      .map(rows -> {
        walk.checked = rows;
        return null;
      })
      .compose(v -> predecessors(walk))
      .compose(v -> checkpoints(walk))
      .map(n -> new Result(walk.checked, walk.chains.size(), walk.firstBroken == null, walk.firstBroken,
        walk.brokenRows, n));
  }

  /** First and last row of a chain within the range. */
  static final class ChainEnds {
    long firstSeq;
    long firstId;
    Instant firstAt;
    byte[] firstPrev;
    long lastSeq;
    long lastId;
    Instant lastAt;
  }

  /** The walk's state; touched only on the event loop. */
  private final class Walk {
    final Map<String, ChainEnds> chains = new LinkedHashMap<>();
    long checked;
    long brokenRows;
    Broken firstBroken;
    ChainEnds current;
    String currentChain;
    byte[] lastHash;
    List<Row> batch = new ArrayList<>();
    int inFlight;
    boolean ended;
    boolean paused;
    RowStream<Row> stream;
    final Promise<Void> done = Promise.promise();

    void broken(Broken b) {
      brokenRows++;
      if (firstBroken == null || b.before(firstBroken)) {
        firstBroken = b;
      }
    }

    void row(Row r) {
      checked++;
      String chain = r.getString(2);
      long seq = r.getLong(3);
      long id = r.getLong(0);
      Instant at = r.getOffsetDateTime(1).toInstant();
      byte[] prev = r.getBuffer(17).getBytes();
      byte[] hash = r.getBuffer(18).getBytes();
      if (!chain.equals(currentChain)) {
        currentChain = chain;
        current = new ChainEnds();
        current.firstSeq = seq;
        current.firstId = id;
        current.firstAt = at;
        current.firstPrev = prev;
        chains.put(chain, current);
        lastHash = hash;
      } else if (seq == current.lastSeq) {
        // a second row with the same place in the chain: an insertion (the later id is the intruder)
        broken(new Broken(id, at, chain, seq, "duplicate_seq"));
        add(r);
        return;
      } else {
        if (seq != current.lastSeq + 1) {
          broken(new Broken(id, at, chain, seq, "seq_gap"));
        } else if (!Arrays.equals(prev, lastHash)) {
          broken(new Broken(id, at, chain, seq, "broken_link"));
        }
        lastHash = hash;
      }
      current.lastSeq = seq;
      current.lastId = id;
      current.lastAt = at;
      add(r);
    }

    void add(Row r) {
      batch.add(r);
      if (batch.size() >= batchRows) {
        dispatch();
      }
    }

    void dispatch() {
      if (batch.isEmpty()) {
        return;
      }
      List<Row> rows = batch;
      batch = new ArrayList<>(batchRows);
      inFlight++;
      if (inFlight >= MAX_IN_FLIGHT && stream != null && !paused) {
        paused = true;
        stream.pause();
      }
      vertx.executeBlocking(() -> hashBatch(rows), false).onComplete(ar -> {
        inFlight--;
        if (ar.failed()) {
          done.tryFail(ar.cause());
        } else {
          ar.result().forEach(this::broken);
        }
        if (paused && inFlight < MAX_IN_FLIGHT / 2) {
          paused = false;
          stream.resume();
        }
        finishIfDone();
      });
    }

    void finishIfDone() {
      if (ended && inFlight == 0) {
        done.tryComplete();
      }
    }
  }

  private Future<Void> stream(SqlConnection conn, TimeRange range, List<String> chains, Walk walk) {
    Tuple params = Tuple.of(AccessLogRepository.utc(range.from()), AccessLogRepository.utc(range.to()))
      .addArrayOfString(chains.toArray(new String[0]));
    return conn.begin().compose(tx -> conn
      // walking by the chain index beats sorting the whole range; the planner misjudges it for large ranges
      .query("SET LOCAL enable_sort = off").execute()
      .compose(v -> conn.prepare(WALK))
      .compose(ps -> {
        RowStream<Row> stream = ps.createStream(batchRows, params);
        walk.stream = stream;
        stream.exceptionHandler(walk.done::tryFail);
        stream.endHandler(v -> {
          walk.dispatch();
          walk.ended = true;
          walk.finishIfDone();
        });
        stream.handler(walk::row);
        return walk.done.future();
      })
      .eventually(() -> tx.rollback()));
  }

  /**
   * Recomputes each row's hash over its stored columns in the row's own encoding (worker thread).
   * A details copy that no longer matches, a value the encoding does not cover or an unknown
   * encoding is a mismatch too.
   */
  private static List<Broken> hashBatch(List<Row> rows) {
    List<Broken> broken = new ArrayList<>();
    for (Row r : rows) {
      AccessLogEntry e = entry(r);
      boolean uncovered = e.hashVersion() == ChainHash.V2 ? r.getString(20) != null
        : !DetailsJson.copyMatches(r.getString(20), r.getString(16));
      byte[] hash = ChainHash.rowHash(e.prevHash(), e);
      if (uncovered || hash == null || !Arrays.equals(hash, e.rowHash())) {
        broken.add(new Broken(e.id(), e.at(), e.chainId(), e.chainSeq(), "hash_mismatch"));
      }
    }
    return broken;
  }

  /** The row as stored, its details as the stored text its encoding hashes (never re-encoded). */
  static AccessLogEntry entry(Row r) {
    Buffer key = r.getBuffer(8);
    int version = r.getShort(19);
    return new AccessLogEntry(r.getLong(0), r.getOffsetDateTime(1).toInstant(), r.getString(2), r.getLong(3),
      r.getString(4), r.getString(5), r.getString(6), r.getString(7), key == null ? null : key.getBytes(),
      r.getString(9), r.getString(10), r.getString(11), r.getString(12), r.getUUID(13), r.getString(14),
      r.getInteger(15), null, r.getBuffer(17).getBytes(), r.getBuffer(18).getBytes(), version,
      version == ChainHash.V2 ? r.getString(16) : r.getString(20));
  }

  /** The first row of each chain must link to the row (or retention anchor) before it. */
  private Future<Void> predecessors(Walk walk) {
    List<String> chainIds = new ArrayList<>();
    List<Long> seqs = new ArrayList<>();
    walk.chains.forEach((chain, ends) -> {
      if (ends.firstSeq <= 1) {
        if (ends.firstSeq < 1 || !Arrays.equals(ends.firstPrev, ChainHash.GENESIS)) {
          walk.broken(new Broken(ends.firstId, ends.firstAt, chain, ends.firstSeq, "broken_link"));
        }
      } else {
        chainIds.add(chain);
        seqs.add(ends.firstSeq - 1);
      }
    });
    if (chainIds.isEmpty()) {
      return Future.succeededFuture();
    }
    return pool.preparedQuery(PREDECESSORS)
      .execute(Tuple.tuple().addArrayOfString(chainIds.toArray(new String[0])).addArrayOfLong(seqs.toArray(new Long[0])))
      .map(rows -> {
        for (Row r : rows) {
          ChainEnds ends = walk.chains.get(r.getString("chain_id"));
          Buffer stored = r.getBuffer("row_hash");
          Buffer anchor = r.getBuffer("anchor_hash");
          byte[] expected = stored != null ? stored.getBytes() : anchor != null ? anchor.getBytes() : null;
          if (expected == null) {
            walk.broken(new Broken(ends.firstId, ends.firstAt, r.getString("chain_id"), ends.firstSeq, "seq_gap"));
          } else if (!Arrays.equals(expected, ends.firstPrev)) {
            walk.broken(new Broken(ends.firstId, ends.firstAt, r.getString("chain_id"), ends.firstSeq, "broken_link"));
          }
        }
        return null;
      });
  }

  /**
   * Signed checkpoints of the walked chains against the stored rows. A checkpointed row inside
   * the walked part must still carry the signed hash; one beyond it must still exist (else the
   * chain's tail was deleted: the last surviving row is named).
   */
  private Future<Integer> checkpoints(Walk walk) {
    if (walk.chains.isEmpty()) {
      return Future.succeededFuture(0);
    }
    List<String> chainIds = new ArrayList<>(walk.chains.keySet());
    Long[] firstSeqs = chainIds.stream().map(c -> walk.chains.get(c).firstSeq).toArray(Long[]::new);
    return pool.preparedQuery(CHECKPOINTS).execute(Tuple.tuple().addArrayOfString(chainIds.toArray(new String[0])).addArrayOfLong(firstSeqs)).map(rows -> {
      Map<String, Long> missingBeyond = new HashMap<>();
      for (Row r : rows) {
        String chain = r.getString("chain_id");
        long seq = r.getLong("chain_seq");
        ChainEnds ends = walk.chains.get(chain);
        Long id = r.getLong("id");
        if (id == null) {
          if (seq > ends.lastSeq) {
            missingBeyond.put(chain, seq);
          }
          // a missing row inside the walked part is already a seq_gap
        } else if (!Arrays.equals(r.getBuffer("head_hash").getBytes(), r.getBuffer("row_hash").getBytes())) {
          walk.broken(new Broken(id, r.getOffsetDateTime("at").toInstant(), chain, seq, "checkpoint_mismatch"));
        }
      }
      missingBeyond.forEach((chain, seq) -> {
        ChainEnds ends = walk.chains.get(chain);
        walk.broken(new Broken(ends.lastId, ends.lastAt, chain, ends.lastSeq, "tail_missing"));
      });
      return rows.size();
    });
  }
}
