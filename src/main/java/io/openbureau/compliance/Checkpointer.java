package io.openbureau.compliance;

import io.openbureau.audit.AuditWriter;
import io.openbureau.audit.MerkleTree;
import io.openbureau.consent.ReceiptSigner;
import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * Signs the head of one {@link AuditWriter}'s chain every {@code compliance.checkpointIntervalSeconds}
 * (only when it moved), and as soon as the chain grew by {@code compliance.checkpointMaxRows}, with
 * the bureau's key and stores it in {@code audit_checkpoints}; the checkpoints are public
 * ({@code GET /v1/audit/checkpoints}, optionally pushed to a witness: {@link WitnessPush}), so
 * anyone who keeps a copy can later hold the bureau to that history.
 *
 * <p>Each checkpoint covers the rows of its chain since the chain's previous checkpoint
 * ({@code fromSeq..chainSeq}, at most {@code checkpointMaxRows}) with a Merkle tree over their
 * {@code row_hash} ({@link MerkleTree}), so a person can be given an inclusion proof of one row.
 * The leaves are the hashes the writer committed, held in memory until checkpointed
 * ({@link AuditWriter#committed()}), never read back from the database: a row changed in the
 * database before its checkpoint is signed as it was written, and the change shows in every
 * comparison with the checkpoint (verify, the outsider's-copy verify, a proof that no longer fits).
 *
 * <p>The JWS is RS256 over {@code {iss, typ, chainId, chainSeq, headHash (hex), fromSeq, treeSize,
 * merkleRoot (hex), merkle: "RFC9162-SHA256", at, iat}}, hashed and signed on a worker thread,
 * verifiable with {@code /.well-known/jwks.json}.
 *
 * <p><b>The uncovered window.</b> Rows newer than their chain's last checkpoint are held to
 * nothing signed yet: at most {@code checkpointIntervalSeconds} (default 5) of rows, and never more
 * than {@code checkpointMaxRows}, plus the milliseconds of a signature and an insert. While the
 * writer lives even those are safe from the database (it signs the hashes it holds). What is open
 * to someone who controls the database but not the signing key is the unsigned tail of a chain
 * whose writer stopped before checkpointing it (a crash, a chain abandoned after a failed commit):
 * up to one interval of rows per writer. Everything older is fixed once a witness holds the
 * checkpoint.
 *
 * <p>Checkpoints are inserted under a transaction-scoped advisory lock, so their ids commit in
 * ascending order: a reader of the feed ({@code after=<id>}) who has seen id n will never later
 * find a smaller id appear (no skips).
 */
public final class Checkpointer {
  private static final Logger LOG = LoggerFactory.getLogger(Checkpointer.class);
  public static final String TYPE = "access-log-checkpoint";
  /** Serializes checkpoint inserts of every writer of the database (ids commit in order). */
  static final long INSERT_LOCK = 0x0B_C4EC_9017L;
  static final String LOCK = "SELECT pg_advisory_xact_lock($1)";
  static final String INSERT = """
    INSERT INTO audit_checkpoints (at, chain_id, chain_seq, head_hash, signature, from_seq, merkle_root)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (chain_id, chain_seq) DO NOTHING RETURNING id""";
  static final String ROWS = """
    SELECT chain_seq, prev_hash, row_hash FROM access_log
    WHERE chain_id = $1 AND chain_seq BETWEEN $2 AND $3 ORDER BY chain_seq""";
  static final long FULL_CHECK_MILLIS = 250;

  /** What the last checkpoint of the writer's current chain covered up to. */
  private record Covered(String chainId, long chainSeq, byte[] hash) {
  }

  /** The rows of one checkpoint (fromSeq 0: a checkpoint of the head alone, without a tree). */
  private record Span(String chainId, long fromSeq, long toSeq, List<byte[]> hashes) {
    byte[] last() {
      return hashes.get(hashes.size() - 1);
    }
  }

  private final Vertx vertx;
  private final Pool pg;
  private final AuditWriter writer;
  private final ReceiptSigner signer;
  private final int maxRows;
  private final WitnessPush push;
  private Covered last;
  private boolean running;
  private long timer = -1;
  private long fullTimer = -1;

  public Checkpointer(Vertx vertx, Pool pg, AuditWriter writer, ReceiptSigner signer) {
    this(vertx, pg, writer, signer, WitnessSettings.DEFAULT_MAX_ROWS, null);
  }

  public Checkpointer(Vertx vertx, Pool pg, AuditWriter writer, ReceiptSigner signer, int maxRows, WitnessPush push) {
    this.vertx = vertx;
    this.pg = pg;
    this.writer = writer;
    this.signer = signer;
    this.maxRows = maxRows;
    this.push = push;
  }

  public void start(int intervalSeconds) {
    timer = vertx.setPeriodic(intervalSeconds * 1000L, id -> checkpoint());
    // cheap (one int); keeps a checkpoint's tree within maxRows between ticks
    fullTimer = vertx.setPeriodic(FULL_CHECK_MILLIS, id -> {
      if (writer.heldCount() >= maxRows) {
        checkpoint();
      }
    });
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    if (fullTimer >= 0) {
      vertx.cancelTimer(fullTimer);
    }
    if (push != null) {
      push.close();
    }
  }

  private long coveredSeq(String chainId) {
    return last != null && last.chainId().equals(chainId) ? last.chainSeq() : 0;
  }

  /** Signs and stores the current head (at most maxRows past the last checkpoint) if it moved. */
  public Future<Void> checkpoint() {
    AuditWriter.Committed held = writer.committed();
    if (running || held.hashes().isEmpty()) {
      return Future.succeededFuture();
    }
    long covered = coveredSeq(held.chainId());
    long headSeq = held.fromSeq() + held.hashes().size() - 1;
    if (covered >= headSeq) {
      return Future.succeededFuture();
    }
    Span span;
    if (covered + 1 < held.fromSeq()) {
      // the writer let go of hashes no checkpoint covered (checkpoints failed for long): sign where
      // they end, without a tree, then go on with trees
      span = new Span(held.chainId(), 0, held.fromSeq() - 1, List.of(held.prevHash()));
    } else {
      long to = Math.min(headSeq, covered + maxRows);
      int start = (int) (covered + 1 - held.fromSeq());
      span = new Span(held.chainId(), covered + 1, to, held.hashes().subList(start, start + (int) (to - covered)));
    }
    running = true;
    Instant at = Instant.now().truncatedTo(ChronoUnit.MICROS);
    return vertx.executeBlocking(() -> {
        byte[] root = span.fromSeq() == 0 ? null : MerkleTree.of(span.hashes()).root();
        return new Signed(root, signer.sign(claims(span, root, at)));
      }, false)
      .compose(signed -> insert(span, signed, at).map(id -> {
        last = new Covered(span.chainId(), span.toSeq(), span.last());
        writer.release(span.chainId(), span.toSeq());
        if (id != null && push != null) {
          push.offer(id, span.chainId(), span.toSeq(), signed.jws());
        }
        return span;
      }))
      .onFailure(e -> io.openbureau.http.OutageLog.POSTGRES.failed("an access-log checkpoint", e))
      .onComplete(ar -> {
        running = false;
        if (ar.succeeded() && ar.result().toSeq() < headSeq) {
          vertx.runOnContext(v -> checkpoint()); // more than maxRows behind: the next span right away
        }
      })
      .<Void>mapEmpty()
      .recover(e -> Future.succeededFuture());
  }

  private record Signed(byte[] root, String jws) {
  }

  /** The id of the new checkpoint, or null when (chainId, chainSeq) was already checkpointed. */
  private Future<Long> insert(Span span, Signed signed, Instant at) {
    return pg.withTransaction(conn -> conn.preparedQuery(LOCK).execute(Tuple.of(INSERT_LOCK))
      .compose(v -> conn.preparedQuery(INSERT).execute(Tuple.of(AccessLogRepository.utc(at), span.chainId(),
        span.toSeq(), Buffer.buffer(span.last()), signed.jws(), signed.root() == null ? null : span.fromSeq(),
        signed.root() == null ? null : Buffer.buffer(signed.root()))))
      .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getLong("id")));
  }

  static JsonObject claims(Span span, byte[] root, Instant at) {
    JsonObject claims = new JsonObject().put("iss", ReceiptSigner.ISSUER).put("typ", TYPE)
      .put("chainId", span.chainId()).put("chainSeq", span.toSeq()).put("headHash", BorrowerKeys.hex(span.last()));
    if (root != null) {
      claims.put("fromSeq", span.fromSeq()).put("treeSize", span.toSeq() - span.fromSeq() + 1)
        .put("merkleRoot", BorrowerKeys.hex(root)).put("merkle", MerkleTree.ALGORITHM);
    }
    return claims.put("at", at.toString()).put("iat", at.getEpochSecond());
  }
}
