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
 * dropped that row's partition; the genesis hash for {@code chain_seq} 1). An anchor counts only
 * when the bureau signed it, the maintenance log's drop record lists it and its partition is gone.
 * Then every signed checkpoint and chain end that vouches for the range (those of the walked
 * chains, and every one signed within the range, so a chain deleted whole is still seen) has its
 * signature checked against the bureau's keys, current and previous, and its claims against its
 * columns, and is compared with the stored rows: a checkpointed row that changed or vanished (a
 * deleted tail, a chain re-hashed from a changed row onwards, a vanished chain) is a break too.
 * Last, rows that no signature covers (after a chain's last checkpoint, or in a chain with none)
 * must be young enough for a live writer to sign them yet, and none may follow a signed end.
 *
 * <p>The answer names the first broken row by (at, id) over all chains (or, for a vanished chain,
 * the checkpoint that names it) and the check that failed ({@code problem}).
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
           n.row_hash AS anchor_hash, n.partition AS anchor_partition, n.signature AS anchor_signature,
           """ + ChainVerifier.ANCHOR_CHECKS + """
    FROM unnest($1::text[], $2::bigint[]) AS u(chain_id, seq)
    LEFT JOIN audit_anchors n ON n.chain_id = u.chain_id AND n.chain_seq = u.seq""";
  /** Of an anchor {@code n}: whether its partition is gone and the drop's maintenance_log row lists it. */
  static final String ANCHOR_CHECKS = """
    to_regclass(n.partition) IS NULL AS anchor_gone,
           EXISTS (SELECT 1 FROM maintenance_log m WHERE m.action = 'ACCESS_LOG_RETENTION_DROP'
                   AND m.details->>'partition' = n.partition
                   AND m.details->'anchors' @> jsonb_build_array(jsonb_build_object('chainId', n.chain_id,
                     'chainSeq', n.chain_seq))) AS anchor_logged
    """;
  static final String CHECKPOINTS = """
    WITH walked AS (SELECT * FROM unnest($1::text[], $2::bigint[]) AS u(chain_id, first_seq)),
    signed AS (
      SELECT 'checkpoint'::text AS kind, c.id, c.at, c.chain_id, c.chain_seq, c.head_hash, c.signature
      FROM walked u JOIN audit_checkpoints c ON c.chain_id = u.chain_id AND c.chain_seq >= u.first_seq
      UNION
      SELECT 'checkpoint'::text, c.id, c.at, c.chain_id, c.chain_seq, c.head_hash, c.signature
      FROM walked u CROSS JOIN LATERAL (SELECT * FROM audit_checkpoints c WHERE c.chain_id = u.chain_id
                                        ORDER BY c.chain_seq DESC LIMIT 1) c
      UNION
      SELECT 'checkpoint'::text, c.id, c.at, c.chain_id, c.chain_seq, c.head_hash, c.signature
      FROM audit_checkpoints c WHERE c.at >= $3 AND c.at < $4
      UNION ALL
      SELECT 'end'::text, NULL::bigint, e.at, e.chain_id, e.chain_seq, e.head_hash, e.signature
      FROM audit_chain_ends e WHERE e.chain_id IN (SELECT chain_id FROM walked) OR (e.at >= $3 AND e.at < $4))
    SELECT k.kind, k.id, k.at, k.chain_id, k.chain_seq, k.head_hash, k.signature, a.id AS row_id, a.at AS row_at,
           a.row_hash, n.chain_seq AS anchor_seq, n.row_hash AS anchor_hash, n.partition AS anchor_partition,
           n.signature AS anchor_signature,
           """ + ChainVerifier.ANCHOR_CHECKS + """
    FROM signed k
    LEFT JOIN LATERAL (SELECT id, at, row_hash FROM access_log a WHERE a.chain_id = k.chain_id
                       AND a.chain_seq = k.chain_seq ORDER BY a.id LIMIT 1) a ON true
    LEFT JOIN LATERAL (SELECT * FROM audit_anchors n WHERE a.id IS NULL AND n.chain_id = k.chain_id
                       AND n.chain_seq >= k.chain_seq ORDER BY n.chain_seq LIMIT 1) n ON true""";
  /** The first row of each chain after the part signed checkpoints cover. */
  static final String FIRST_UNCOVERED = """
    SELECT u.chain_id, a.id, a.at FROM unnest($1::text[], $2::bigint[]) AS u(chain_id, seq)
    JOIN LATERAL (SELECT id, at FROM access_log a WHERE a.chain_id = u.chain_id AND a.chain_seq = u.seq
                  ORDER BY a.id LIMIT 1) a ON true""";
  /** Signed checkpoints (and chain ends) handled per worker task. */
  static final int SIGNED_BATCH = 1000;

  /** Batches hashed at once, at most: bounds the rows held in memory. */
  private static final int MAX_IN_FLIGHT = Math.max(2, Runtime.getRuntime().availableProcessors()) * 2;

  /** The outcome of a walk. */
  public record Result(long checked, int chains, boolean intact, Broken firstBroken, long brokenRows, int checkpoints) {
    public JsonObject toJson() {
      JsonObject j = new JsonObject().put("checked", checked).put("intact", intact)
        .put("firstBrokenId", firstBroken == null || firstBroken.id() < 0 ? null : Long.toString(firstBroken.id()))
        .put("chains", chains).put("brokenRows", brokenRows).put("checkpointsCompared", checkpoints);
      if (firstBroken != null) {
        j.put("brokenChain", firstBroken.chainId()).put("brokenChainSeq", firstBroken.chainSeq())
          .put("problem", firstBroken.problem());
        if (firstBroken.checkpointId() != null) {
          j.put("brokenCheckpointId", Long.toString(firstBroken.checkpointId()));
        }
        if (firstBroken.chainEnd()) {
          j.put("brokenChainEnd", true);
        }
        if (firstBroken.crashTail()) {
          j.put("crashTail", true);
        }
      }
      return j;
    }
  }

  /**
   * A row (or a signed checkpoint, chain end or anchor) found broken and why. {@code id} is the
   * row's id, -1 when the break names no row (a vanished chain: then {@code checkpointId} or
   * {@code chainEnd} says which signed record names it). {@code crashTail}: uncovered rows that
   * look like what a writer killed outright leaves (see {@link ChainCloser}).
   */
  public record Broken(long id, Instant at, String chainId, long chainSeq, String problem, Long checkpointId,
                       boolean chainEnd, boolean crashTail) {
    public Broken(long id, Instant at, String chainId, long chainSeq, String problem) {
      this(id, at, chainId, chainSeq, problem, null, false, false);
    }

    boolean before(Broken o) {
      int c = at.compareTo(o.at);
      return c < 0 || (c == 0 && id < o.id);
    }
  }

  /**
   * What verify trusts: the bureau's keys (current and previous, {@code signing.*}), the checkpoint
   * interval, and how long rows may stay uncovered by a signature while a live writer can still
   * sign them ({@link ComplianceSettings#accountableWindow()}).
   */
  public record Trust(io.openbureau.consent.ReceiptSigner keys, int checkpointIntervalSeconds,
                      java.time.Duration accountableWindow) {
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
  private final Trust trust;

  public ChainVerifier(Vertx vertx, Pool pool, BureauConfig.Postgres pg, int batchRows, int parallelism, Trust trust) {
    this.trust = trust;
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
      .compose(v -> checkpoints(walk, range))
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

  /**
   * The first row of each chain must link to the row (or retention anchor) before it. An anchor is
   * relied on only when the bureau signed it as stored, the drop is in the maintenance log naming
   * it and its partition is gone: else {@code anchor_forged}, naming the row that relied on it.
   */
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
      .compose(rows -> {
        List<Row> all = new ArrayList<>();
        rows.forEach(all::add);
        // anchor signatures: RSA, on a worker thread
        return vertx.executeBlocking(() -> {
          List<Broken> broken = new ArrayList<>();
          for (Row r : all) {
            ChainEnds ends = walk.chains.get(r.getString("chain_id"));
            Buffer stored = r.getBuffer("row_hash");
            Buffer anchor = r.getBuffer("anchor_hash");
            byte[] expected = stored != null ? stored.getBytes() : anchor != null ? anchor.getBytes() : null;
            String problem = null;
            if (expected == null) {
              problem = "seq_gap";
            } else if (stored == null && !anchorHolds(r, r.getString("chain_id"), r.getLong("seq"), anchor.getBytes())) {
              problem = "anchor_forged";
            } else if (!Arrays.equals(expected, ends.firstPrev)) {
              problem = "broken_link";
            }
            if (problem != null) {
              broken.add(new Broken(ends.firstId, ends.firstAt, r.getString("chain_id"), ends.firstSeq, problem));
            }
          }
          return broken;
        }, false);
      })
      .map(broken -> {
        broken.forEach(walk::broken);
        return null;
      });
  }

  /** Blocking (RSA): whether the anchor columns of {@code r} (see {@link #ANCHOR_CHECKS}) can be relied on. */
  private boolean anchorHolds(Row r, String chain, long seq, byte[] hash) {
    return Boolean.TRUE.equals(r.getBoolean("anchor_gone")) && Boolean.TRUE.equals(r.getBoolean("anchor_logged"))
      && Anchors.signed(trust.keys(), chain, seq, hash, r.getString("anchor_partition"), r.getString("anchor_signature"));
  }

  /** What one signed checkpoint (or chain end) says, checked against the stored rows (worker thread). */
  private record Signed(boolean end, Long id, Instant at, String chainId, long chainSeq, boolean valid, Long rowId,
                        Instant rowAt, boolean rowMatches, boolean anchored, boolean anchorForged) {
  }

  /**
   * Every signed checkpoint and chain end that vouches for the range: those of the walked chains
   * (from their first walked row on, and each one's last), and every one signed within the range
   * (a chain that vanished has no row left to be walked). Each must carry the bureau's signature
   * over exactly its stored columns ({@code checkpoint_signature}); the row it names must still
   * carry the signed hash ({@code checkpoint_mismatch}) or be gone by retention behind a sound
   * anchor ({@code anchor_forged} otherwise); a row missing beyond a walked chain's end is
   * {@code tail_missing}, before its walked part {@code checkpointed_row_missing}, and a chain with
   * no walked row at all {@code chain_missing}. Then the rows no signature covers: see
   * {@link #unaccounted}.
   */
  private Future<Integer> checkpoints(Walk walk, TimeRange range) {
    List<String> chainIds = new ArrayList<>(walk.chains.keySet());
    Long[] firstSeqs = chainIds.stream().map(c -> walk.chains.get(c).firstSeq).toArray(Long[]::new);
    Tuple params = Tuple.tuple().addArrayOfString(chainIds.toArray(new String[0])).addArrayOfLong(firstSeqs)
      .addOffsetDateTime(AccessLogRepository.utc(range.from())).addOffsetDateTime(AccessLogRepository.utc(range.to()));
    List<Signed> seen = new ArrayList<>();
    return pool.withConnection(conn -> conn.begin().compose(tx -> conn.prepare(CHECKPOINTS).compose(ps -> {
      Promise<Void> done = Promise.promise();
      RowStream<Row> stream = ps.createStream(SIGNED_BATCH, params);
      List<Row>[] batch = new List[] {new ArrayList<Row>()};
      int[] inFlight = {0};
      boolean[] ended = {false};
      Runnable dispatch = () -> {
        if (batch[0].isEmpty()) {
          return;
        }
        List<Row> rows = batch[0];
        batch[0] = new ArrayList<>();
        if (++inFlight[0] >= MAX_IN_FLIGHT) {
          stream.pause();
        }
        vertx.executeBlocking(() -> rows.stream().map(this::signed).toList(), false).onComplete(ar -> {
          inFlight[0]--;
          if (ar.failed()) {
            done.tryFail(ar.cause());
            return;
          }
          seen.addAll(ar.result());
          if (inFlight[0] < MAX_IN_FLIGHT / 2) {
            stream.resume();
          }
          if (ended[0] && inFlight[0] == 0) {
            done.tryComplete();
          }
        });
      };
      stream.exceptionHandler(done::tryFail);
      stream.handler(r -> {
        batch[0].add(r);
        if (batch[0].size() >= SIGNED_BATCH) {
          dispatch.run();
        }
      });
      stream.endHandler(v -> {
        ended[0] = true;
        dispatch.run();
        if (inFlight[0] == 0) {
          done.tryComplete();
        }
      });
      return done.future();
    }).eventually(() -> tx.rollback())))
      .compose(v -> judge(walk, seen))
      .map(v -> seen.size());
  }

  /** Blocking (RSA): one row of {@link #CHECKPOINTS} checked on its own. */
  private Signed signed(Row r) {
    boolean end = "end".equals(r.getString("kind"));
    String chain = r.getString("chain_id");
    long seq = r.getLong("chain_seq");
    byte[] head = r.getBuffer("head_hash").getBytes();
    JsonObject claims = trust.keys().verified(r.getString("signature"));
    boolean valid = claims != null && (end ? ChainCloser.TYPE : Checkpointer.TYPE).equals(claims.getValue("typ"))
      && chain.equals(claims.getValue("chainId")) && claims.getValue("chainSeq") instanceof Number n
      && n.longValue() == seq && io.openbureau.identity.BorrowerKeys.hex(head).equals(claims.getValue("headHash"));
    Long rowId = r.getLong("row_id");
    boolean rowMatches = rowId != null && Arrays.equals(head, r.getBuffer("row_hash").getBytes());
    boolean anchored = false;
    boolean forged = false;
    if (rowId == null && r.getBuffer("anchor_hash") != null) {
      long anchorSeq = r.getLong("anchor_seq");
      byte[] anchorHash = r.getBuffer("anchor_hash").getBytes();
      if (anchorHolds(r, chain, anchorSeq, anchorHash)) {
        // the checkpointed row was dropped by retention; the anchor at its very place must agree
        anchored = anchorSeq != seq || Arrays.equals(anchorHash, head);
      } else {
        forged = true;
      }
    }
    return new Signed(end, r.getLong("id"), r.getOffsetDateTime("at").toInstant(), chain, seq, valid, rowId,
      rowId == null ? null : r.getOffsetDateTime("row_at").toInstant(), rowMatches, anchored, forged);
  }

  /** On the event loop: the checked signatures against the walk, then the uncovered rows. */
  private Future<Void> judge(Walk walk, List<Signed> seen) {
    Map<String, Long> missingBeyond = new HashMap<>();
    Map<String, Signed> lastCovered = new HashMap<>();
    Map<String, Signed> ends = new HashMap<>();
    java.util.Set<String> badSignatures = new java.util.HashSet<>();
    for (Signed c : seen) {
      ChainEnds walked = walk.chains.get(c.chainId());
      long rowId = c.rowId() == null ? -1 : c.rowId();
      Instant at = c.rowAt() == null ? c.at() : c.rowAt();
      if (!c.valid()) {
        walk.broken(new Broken(rowId, at, c.chainId(), c.chainSeq(), "checkpoint_signature", c.id(), c.end(), false));
        badSignatures.add(c.chainId());
        continue;
      }
      if (c.end()) {
        ends.put(c.chainId(), c);
      } else {
        lastCovered.merge(c.chainId(), c, (a, b) -> a.chainSeq() >= b.chainSeq() ? a : b);
      }
      if (c.rowId() != null) {
        if (!c.rowMatches()) {
          walk.broken(new Broken(rowId, at, c.chainId(), c.chainSeq(), "checkpoint_mismatch", c.id(), c.end(), false));
        }
      } else if (c.anchorForged()) {
        walk.broken(new Broken(-1, c.at(), c.chainId(), c.chainSeq(), "anchor_forged", c.id(), c.end(), false));
      } else if (c.anchored()) {
        continue; // dropped by retention
      } else if (walked == null) {
        walk.broken(new Broken(-1, c.at(), c.chainId(), c.chainSeq(), "chain_missing", c.id(), c.end(), false));
      } else if (c.chainSeq() > walked.lastSeq) {
        missingBeyond.merge(c.chainId(), c.chainSeq(), Math::max);
      } else if (c.chainSeq() < walked.firstSeq) {
        walk.broken(new Broken(-1, c.at(), c.chainId(), c.chainSeq(), "checkpointed_row_missing", c.id(), c.end(),
          false));
      }
      // a missing row inside the walked part is already a seq_gap
    }
    missingBeyond.forEach((chain, seq) -> {
      ChainEnds e = walk.chains.get(chain);
      walk.broken(new Broken(e.lastId, e.lastAt, chain, e.lastSeq, "tail_missing"));
    });
    return unaccounted(walk, lastCovered, ends, badSignatures);
  }

  /**
   * Rows no signature covers. After a signed chain end nothing may follow; after a chain's last
   * checkpoint (or in a chain with none) rows are allowed only while a live writer can still sign
   * them: younger than {@link Trust#accountableWindow()}. Older ones (or ones dated in the future)
   * are {@code unaccounted_rows}, naming the first such row; {@code crashTail} when they span no
   * more than that window after the last signature and the chain has no signed end, as a writer
   * killed outright leaves them (forged rows can look like that too: the flag is a hint). A chain
   * with a bad signature is named by it ({@code checkpoint_signature}) instead.
   */
  private Future<Void> unaccounted(Walk walk, Map<String, Signed> lastCovered, Map<String, Signed> ends,
                                   java.util.Set<String> badSignatures) {
    Instant now = Instant.now();
    Instant oldest = now.minus(trust.accountableWindow());
    Instant newest = now.plus(trust.accountableWindow());
    List<String> lookup = new ArrayList<>();
    List<Long> lookupSeqs = new ArrayList<>();
    Map<String, Long> firstSeqOf = new HashMap<>();
    walk.chains.forEach((chain, e) -> {
      if (badSignatures.contains(chain)) {
        return; // already named by its checkpoint_signature: its rows' cover is unknown, not missing
      }
      Signed end = ends.get(chain);
      Signed cp = lastCovered.get(chain);
      long covered = end != null ? end.chainSeq() : cp == null ? 0 : cp.chainSeq();
      if (e.lastSeq <= covered) {
        return;
      }
      long first = Math.max(covered + 1, e.firstSeq);
      if (first == e.firstSeq) {
        judgeUncovered(walk, chain, e, e.firstId, e.firstAt, first, end != null, cp, oldest, newest);
      } else {
        lookup.add(chain);
        lookupSeqs.add(first);
        firstSeqOf.put(chain, first);
      }
    });
    if (lookup.isEmpty()) {
      return Future.succeededFuture();
    }
    return pool.preparedQuery(FIRST_UNCOVERED).execute(Tuple.tuple().addArrayOfString(lookup.toArray(new String[0]))
      .addArrayOfLong(lookupSeqs.toArray(new Long[0]))).map(rows -> {
        for (Row r : rows) {
          String chain = r.getString("chain_id");
          judgeUncovered(walk, chain, walk.chains.get(chain), r.getLong("id"), r.getOffsetDateTime("at").toInstant(),
            firstSeqOf.get(chain), ends.containsKey(chain), lastCovered.get(chain), oldest, newest);
        }
        return null;
      });
  }

  private void judgeUncovered(Walk walk, String chain, ChainEnds e, long id, Instant at, long seq, boolean ended,
                              Signed cp, Instant oldest, Instant newest) {
    if (!ended && at.isAfter(oldest) && at.isBefore(newest)) {
      return; // a live writer may still sign it
    }
    Instant base = cp != null ? cp.at() : at;
    boolean crash = !ended && !e.lastAt.isAfter(base.plus(trust.accountableWindow()));
    walk.broken(new Broken(id, at, chain, seq, "unaccounted_rows", null, false, crash));
  }
}
