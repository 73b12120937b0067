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
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.MessageDigest;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
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
 * The rows are read back from Postgres and must link to what this writer committed (each
 * {@code prev_hash} the previous {@code row_hash}, the first linked to the previous checkpoint,
 * the last equal to the head the writer holds in memory): a chain changed in the database before
 * its checkpoint is not signed.
 *
 * <p>The JWS is RS256 over {@code {iss, typ, chainId, chainSeq, headHash (hex), fromSeq, treeSize,
 * merkleRoot (hex), merkle: "RFC9162-SHA256", at, iat}}, hashed and signed on a worker thread,
 * verifiable with {@code /.well-known/jwks.json}.
 *
 * <p><b>The uncovered window.</b> Rows newer than their chain's last checkpoint are held to
 * nothing signed yet: at most {@code checkpointIntervalSeconds} (default 5) of rows, and never more
 * than {@code checkpointMaxRows}, plus the milliseconds of a read-back, a signature and an insert.
 * While the writer lives, even those are guarded: the read-back must end at the head it holds in
 * memory, so a chain rewritten in the database is refused a signature (logged as an error). What
 * remains open to someone who controls the database but not the signing key is the unsigned tail
 * of a chain whose writer stopped (a crash, or a chain abandoned after a failed commit): up to one
 * interval of rows per writer. Everything before is fixed once a witness holds the checkpoint.
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

  /** The rows of one checkpoint, read back and checked. */
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
    // cheap: compares two longs; keeps a checkpoint's tree within maxRows between ticks
    fullTimer = vertx.setPeriodic(FULL_CHECK_MILLIS, id -> {
      AuditWriter.Head head = writer.head();
      if (head != null && head.chainSeq() - coveredSeq(head) >= maxRows) {
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

  private long coveredSeq(AuditWriter.Head head) {
    return last != null && last.chainId().equals(head.chainId()) ? last.chainSeq() : 0;
  }

  /** Signs and stores the current head (at most maxRows past the last checkpoint) if it moved. */
  public Future<Void> checkpoint() {
    AuditWriter.Head head = writer.head();
    if (running || head == null || coveredSeq(head) >= head.chainSeq()) {
      return Future.succeededFuture();
    }
    running = true;
    long from = coveredSeq(head) + 1;
    long to = Math.min(head.chainSeq(), from + maxRows - 1);
    byte[] prev = from > 1 ? last.hash() : null;
    Instant at = Instant.now().truncatedTo(ChronoUnit.MICROS);
    return pg.preparedQuery(ROWS).execute(Tuple.of(head.chainId(), from, to))
      .map(rows -> span(head, from, to, prev, rows))
      .compose(span -> vertx.executeBlocking(() -> {
        byte[] root = MerkleTree.of(span.hashes()).root();
        String jws = signer.sign(claims(span, root, at));
        return new Object[] {span, root, jws};
      }, false))
      .compose(done -> {
        Span span = (Span) done[0];
        byte[] root = (byte[]) done[1];
        String jws = (String) done[2];
        return insert(span, root, jws, at).map(id -> {
          last = new Covered(span.chainId(), span.toSeq(), span.last());
          if (id != null && push != null) {
            push.offer(id, span.chainId(), span.toSeq(), jws);
          }
          return span;
        });
      })
      .onFailure(e -> {
        if (e instanceof IllegalStateException) {
          LOG.error("access-log checkpoint refused: {}", e.getMessage()); // the database disagrees with the writer
        } else {
          LOG.warn("access-log checkpoint of chain {} failed: {}", head.chainId(), e.getMessage());
        }
      })
      .onComplete(ar -> {
        running = false;
        if (ar.succeeded() && ar.result().toSeq() < head.chainSeq()) {
          vertx.runOnContext(v -> checkpoint()); // more than maxRows behind: the next span right away
        }
      })
      .<Void>mapEmpty()
      .recover(e -> Future.succeededFuture());
  }

  /** The id of the new checkpoint, or null when (chainId, chainSeq) was already checkpointed. */
  private Future<Long> insert(Span span, byte[] root, String jws, Instant at) {
    return pg.withTransaction(conn -> conn.preparedQuery(LOCK).execute(Tuple.of(INSERT_LOCK))
      .compose(v -> conn.preparedQuery(INSERT).execute(Tuple.of(AccessLogRepository.utc(at), span.chainId(),
        span.toSeq(), Buffer.buffer(span.last()), jws, span.fromSeq(), Buffer.buffer(root))))
      .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getLong("id")));
  }

  /** The rows fromSeq..toSeq as committed by this writer, or a failure if the database disagrees. */
  private static Span span(AuditWriter.Head head, long from, long to, byte[] prev, RowSet<Row> rows) {
    List<byte[]> hashes = new ArrayList<>(rows.size());
    long expected = from;
    byte[] link = prev;
    for (Row r : rows) {
      byte[] rowPrev = r.getBuffer("prev_hash").getBytes();
      if (r.getLong("chain_seq") != expected || (link != null && !MessageDigest.isEqual(link, rowPrev))) {
        throw new IllegalStateException("chain " + head.chainId() + " in the database does not link at seq "
          + expected + "; not signing it");
      }
      link = r.getBuffer("row_hash").getBytes();
      hashes.add(link);
      expected++;
    }
    if (expected != to + 1) {
      throw new IllegalStateException("chain " + head.chainId() + " lacks rows " + expected + ".." + to
        + " in the database; not signing it");
    }
    if (to == head.chainSeq() && !MessageDigest.isEqual(link, head.hash())) {
      throw new IllegalStateException("chain " + head.chainId() + " head in the database is not the one committed;"
        + " not signing it");
    }
    return new Span(head.chainId(), from, to, hashes);
  }

  static JsonObject claims(Span span, byte[] root, Instant at) {
    return new JsonObject().put("iss", ReceiptSigner.ISSUER).put("typ", TYPE).put("chainId", span.chainId())
      .put("chainSeq", span.toSeq()).put("headHash", BorrowerKeys.hex(span.last()))
      .put("fromSeq", span.fromSeq()).put("treeSize", span.toSeq() - span.fromSeq() + 1)
      .put("merkleRoot", BorrowerKeys.hex(root)).put("merkle", MerkleTree.ALGORITHM)
      .put("at", at.toString()).put("iat", at.getEpochSecond());
  }
}
