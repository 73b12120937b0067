package io.openbureau.compliance;

import io.openbureau.audit.AuditWriter;
import io.openbureau.consent.ReceiptSigner;
import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;

/**
 * Signs the head of one {@link AuditWriter}'s chain every {@code compliance.checkpointIntervalSeconds}
 * (only when it moved) with the bureau's key and stores it in {@code audit_checkpoints}; the
 * checkpoints are public ({@code GET /v1/audit/checkpoints}), so anyone who keeps a copy can later
 * hold the bureau to that history: a chain re-hashed or cut after a checkpoint no longer matches it.
 * The JWS is RS256 over {@code {iss, typ, chainId, chainSeq, headHash (hex), at}}, signed on a worker
 * thread and verifiable with {@code /.well-known/jwks.json}.
 */
public final class Checkpointer {
  private static final Logger LOG = LoggerFactory.getLogger(Checkpointer.class);
  public static final String TYPE = "access-log-checkpoint";
  static final String INSERT = """
    INSERT INTO audit_checkpoints (at, chain_id, chain_seq, head_hash, signature) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (chain_id, chain_seq) DO NOTHING""";

  private final Vertx vertx;
  private final SqlClient pg;
  private final AuditWriter writer;
  private final ReceiptSigner signer;
  private AuditWriter.Head last;
  private boolean running;
  private long timer = -1;

  public Checkpointer(Vertx vertx, SqlClient pg, AuditWriter writer, ReceiptSigner signer) {
    this.vertx = vertx;
    this.pg = pg;
    this.writer = writer;
    this.signer = signer;
  }

  public void start(int intervalSeconds) {
    timer = vertx.setPeriodic(intervalSeconds * 1000L, id -> checkpoint());
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  /** Signs and stores the current head if it moved since the last checkpoint. */
  public Future<Void> checkpoint() {
    AuditWriter.Head head = writer.head();
    if (running || head == null || (last != null && last.chainId().equals(head.chainId())
      && last.chainSeq() == head.chainSeq() && Arrays.equals(last.hash(), head.hash()))) {
      return Future.succeededFuture();
    }
    running = true;
    Instant at = Instant.now().truncatedTo(ChronoUnit.MICROS);
    JsonObject claims = claims(head, at);
    return vertx.executeBlocking(() -> signer.sign(claims), false)
      .compose(jws -> pg.preparedQuery(INSERT).execute(Tuple.of(AccessLogRepository.utc(at), head.chainId(),
        head.chainSeq(), Buffer.buffer(head.hash()), jws)))
      .onSuccess(r -> last = head)
      .onFailure(e -> LOG.warn("access-log checkpoint of chain {} failed: {}", head.chainId(), e.getMessage()))
      .onComplete(ar -> running = false)
      .<Void>mapEmpty()
      .recover(e -> Future.succeededFuture());
  }

  static JsonObject claims(AuditWriter.Head head, Instant at) {
    return new JsonObject().put("iss", ReceiptSigner.ISSUER).put("typ", TYPE).put("chainId", head.chainId())
      .put("chainSeq", head.chainSeq()).put("headHash", BorrowerKeys.hex(head.hash())).put("at", at.toString())
      .put("iat", at.getEpochSecond());
  }
}
