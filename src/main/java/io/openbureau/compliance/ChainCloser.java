package io.openbureau.compliance;

import io.openbureau.audit.AuditWriter;
import io.openbureau.consent.ReceiptSigner;
import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Signs the end of a chain its {@link AuditWriter} will never append to again, in
 * {@code audit_chain_ends}: on a graceful stop (the head once the last batch committed) and when
 * the writer abandons a chain after an uncertain commit. The JWS is RS256 over
 * {@code {iss, typ: access-log-chain-end, chainId, chainSeq, headHash (hex), at, reason}}; verify
 * refuses every row after a signed end ({@code unaccounted_rows}, however young).
 *
 * <p>An abandoned chain ends either at the last batch known committed or at the uncertain batch
 * (one transaction: all of it or none). Once {@code settle} has passed (the uncertain commit has
 * finished or failed by then) the closer looks: if the uncertain batch's last row is in the log with
 * the hash the writer computed, the chain ends there, else at the last committed batch. Until the
 * database answers it retries on its timer. A commit that still lands after that (a connection
 * hung for longer than {@code settle}) leaves rows after the signed end: verify names them; that
 * is the documented cost of not guessing. A writer killed outright (kill -9) signs nothing: the
 * rows it committed after its last checkpoint (at most one checkpoint interval of them) are
 * reported as {@code unaccounted_rows} with {@code crashTail: true} once they are older than
 * {@link ComplianceSettings#accountableWindow()}.
 */
public final class ChainCloser {
  private static final Logger LOG = LoggerFactory.getLogger(ChainCloser.class);
  public static final String TYPE = "access-log-chain-end";
  static final String INSERT = """
    INSERT INTO audit_chain_ends (chain_id, chain_seq, head_hash, at, reason, signature) VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (chain_id) DO NOTHING""";
  static final String ROW = "SELECT row_hash FROM access_log WHERE chain_id = $1 AND chain_seq = $2 ORDER BY id LIMIT 1";

  private record Waiting(AuditWriter.Abandoned chain, Instant since) {
  }

  private final Vertx vertx;
  private final SqlClient pg;
  private final ReceiptSigner signer;
  private final Duration settle;
  private final List<Waiting> pending = new ArrayList<>();
  private boolean resolving;
  private long timer = -1;

  public ChainCloser(Vertx vertx, SqlClient pg, ReceiptSigner signer, Duration settle) {
    this.vertx = vertx;
    this.pg = pg;
    this.signer = signer;
    this.settle = settle;
  }

  /** Looks at abandoned chains every {@code seconds}. */
  public void start(int seconds) {
    timer = vertx.setPeriodic(Math.max(1, seconds) * 1000L, id -> resolve(false));
  }

  /** An {@link AuditWriter#onAbandoned} listener: the chain's end is signed once it settled. */
  public void abandoned(AuditWriter.Abandoned chain) {
    pending.add(new Waiting(chain, Instant.now()));
  }

  /**
   * Graceful stop: once {@code writer} is idle (at most {@code maxWaitMillis}), signs the end of
   * its chain and of the chains it abandoned. Never fails.
   */
  public Future<Void> stop(AuditWriter writer, long maxWaitMillis) {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    io.vertx.core.Promise<Void> idle = io.vertx.core.Promise.promise();
    long t = vertx.setTimer(Math.max(1, maxWaitMillis), x -> idle.tryComplete());
    writer.whenIdle().onComplete(ar -> {
      vertx.cancelTimer(t);
      idle.tryComplete();
    });
    return idle.future().compose(v -> {
      AuditWriter.Head head = writer.head();
      boolean abandoned = head != null && pending.stream().anyMatch(w -> w.chain().chainId().equals(head.chainId()));
      Future<Void> own = head == null || abandoned ? Future.succeededFuture() : close(head, "stop");
      return own.compose(x -> resolve(true));
    }).recover(e -> Future.succeededFuture());
  }

  private Future<Void> resolve(boolean now) {
    if (resolving || pending.isEmpty()) {
      return Future.succeededFuture();
    }
    resolving = true;
    Instant ready = Instant.now().minus(settle);
    List<Future<Void>> work = new ArrayList<>();
    for (Waiting w : List.copyOf(pending)) {
      if (!now && w.since().isAfter(ready)) {
        continue;
      }
      work.add(end(w.chain()).compose(head -> head == null ? Future.succeededFuture() : close(head, "abandoned"))
        .onSuccess(v -> pending.remove(w)));
    }
    return Future.join(work).<Void>mapEmpty().recover(e -> Future.succeededFuture())
      .onComplete(ar -> resolving = false);
  }

  /** Where the abandoned chain really ends: the uncertain batch if it is in the log as written, else before it. */
  private Future<AuditWriter.Head> end(AuditWriter.Abandoned chain) {
    AuditWriter.Head tried = chain.attempted();
    return pg.preparedQuery(ROW).execute(Tuple.of(tried.chainId(), tried.chainSeq())).map(rows -> {
      Row r = rows.iterator().hasNext() ? rows.iterator().next() : null;
      if (r != null && Arrays.equals(r.getBuffer(0).getBytes(), tried.hash())) {
        return tried;
      }
      return chain.committed();
    });
  }

  /** Signs (worker thread) and stores the end of a chain. */
  public Future<Void> close(AuditWriter.Head head, String reason) {
    Instant at = Instant.now().truncatedTo(ChronoUnit.MICROS);
    JsonObject claims = claims(head, at, reason);
    return vertx.executeBlocking(() -> signer.sign(claims), false)
      .compose(jws -> pg.preparedQuery(INSERT).execute(Tuple.of(head.chainId(), head.chainSeq(),
        Buffer.buffer(head.hash()), AccessLogRepository.utc(at), reason, jws)))
      .onSuccess(r -> LOG.info("access-log chain {} ended at {} ({})", head.chainId(), head.chainSeq(), reason))
      .onFailure(e -> io.openbureau.http.OutageLog.POSTGRES.failed("storing the end of an access-log chain", e))
      .mapEmpty();
  }

  static JsonObject claims(AuditWriter.Head head, Instant at, String reason) {
    return new JsonObject().put("iss", ReceiptSigner.ISSUER).put("typ", TYPE).put("chainId", head.chainId())
      .put("chainSeq", head.chainSeq()).put("headHash", BorrowerKeys.hex(head.hash())).put("at", at.toString())
      .put("reason", reason).put("iat", at.getEpochSecond());
  }
}
