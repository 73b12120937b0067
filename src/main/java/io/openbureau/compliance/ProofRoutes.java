package io.openbureau.compliance;

import io.openbureau.audit.AccessLogEntry;
import io.openbureau.audit.AuditWriter;
import io.openbureau.audit.MerkleTree;
import io.openbureau.auth.Guards;
import io.openbureau.auth.Principal;
import io.openbureau.auth.Role;
import io.openbureau.http.ApiError;
import io.openbureau.http.RequestIds;
import io.openbureau.http.Requests;
import io.openbureau.http.RouteMounter;
import io.openbureau.identity.BorrowerKeys;
import io.openbureau.identity.NationalId;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code GET /v1/me/inquiries/{id}/proof}: the inclusion proof that one access-log row about the
 * caller is in the bureau's signed log. The answer holds the row (as {@code /v1/me/inquiries}
 * shows it, plus its chain position and hashes), the RFC 9162 audit path from its leaf to the
 * Merkle root of the checkpoint that covers it, and that checkpoint's JWS; with the bureau's public
 * key alone ({@code /.well-known/jwks.json}) anyone can check it, e.g. with
 * {@code java -jar openbureau.jar verify-proof proof.json --jwks jwks.json}.
 *
 * <ul>
 *   <li>404 {@code not_found} for a row that does not exist or is not about the caller (the same
 *   answer, so ids reveal nothing).</li>
 *   <li>409 {@code not_checkpointed} with {@code Retry-After} for a row no checkpoint covers yet
 *   (rows are checkpointed within {@code compliance.checkpointIntervalSeconds}).</li>
 *   <li>409 {@code proof_unavailable} for a row covered only by a checkpoint signed before
 *   checkpoints had trees, or whose stored rows no longer give the signed root.</li>
 * </ul>
 * Logged as {@code SELF_PROOF} (the caller's borrower key, the row id) before the answer.
 */
public final class ProofRoutes {
  public static final String SELF_PROOF = "SELF_PROOF";
  static final Pattern ID = Pattern.compile("[0-9]{1,18}");
  /** Trees of more leaves than this are hashed on a worker thread. */
  static final int INLINE_LEAVES = 256;
  static final String ROW = """
    SELECT id, at, action, lender_id, purpose, scope, decision, chain_id, chain_seq, prev_hash, row_hash
    FROM access_log WHERE id = $1 AND borrower_key = $2""";
  static final String COVERING = """
    SELECT id, chain_seq, from_seq, merkle_root, signature FROM audit_checkpoints
    WHERE chain_id = $1 AND chain_seq >= $2 ORDER BY chain_seq LIMIT 1""";

  private final Vertx vertx;
  private final Pool pool;
  private final AuditWriter audit;
  private final BorrowerKeys keys;
  private final int retryAfterSeconds;

  public ProofRoutes(Vertx vertx, Pool pool, AuditWriter audit, BorrowerKeys keys, int checkpointIntervalSeconds) {
    this.vertx = vertx;
    this.pool = pool;
    this.audit = audit;
    this.keys = keys;
    this.retryAfterSeconds = checkpointIntervalSeconds + 1;
  }

  public void mount(RouteMounter routes, Guards guards) {
    routes.secured("myInquiryProof", guards.require(Role.BORROWER), this::proof);
  }

  private void proof(RoutingContext ctx) {
    String sub = Principal.of(ctx).subject();
    if (!NationalId.valid(sub)) {
      throw ApiError.forbidden("the token's subject is not a valid national id");
    }
    byte[] key = keys.key(sub);
    String rawId = Requests.path(ctx, "id");
    if (rawId == null || !ID.matcher(rawId).matches()) {
      throw ApiError.invalid("id", "must be an access-log entry id (a whole number)");
    }
    long id = Long.parseLong(rawId);
    pool.preparedQuery(ROW).execute(Tuple.of(id, Buffer.buffer(key)))
      .compose(rows -> {
        if (rows.size() == 0) {
          return Future.failedFuture(ApiError.notFound("not_found", "no access-log entry " + rawId + " about you"));
        }
        Row row = rows.iterator().next();
        return pool.preparedQuery(COVERING).execute(Tuple.of(row.getString("chain_id"), row.getLong("chain_seq")))
          .compose(cps -> cps.size() == 0 ? Future.failedFuture(notYet())
            : build(row, cps.iterator().next()));
      })
      .compose(proof -> audit.append(new AccessLogEntry.Draft(SELF_PROOF, Role.BORROWER, null, null, key, null, null,
        AccessLogEntry.GRANTED, null, null, RequestIds.get(ctx), null, new JsonObject().put("rowId", rawId)))
        .map(proof))
      .onSuccess(body -> Requests.json(ctx, 200, body))
      .onFailure(ctx::fail);
  }

  private Future<JsonObject> build(Row row, Row cp) {
    Long from = cp.getLong("from_seq");
    long seq = row.getLong("chain_seq");
    if (from == null || from > seq) {
      return Future.failedFuture(ApiError.conflict("proof_unavailable",
        "this entry is covered by a checkpoint signed before checkpoints carried a Merkle tree; no proof exists"));
    }
    long to = cp.getLong("chain_seq");
    return pool.preparedQuery(Checkpointer.ROWS).execute(Tuple.of(row.getString("chain_id"), from, to))
      .compose(rows -> {
        List<byte[]> hashes = new ArrayList<>(rows.size());
        rows.forEach(r -> hashes.add(r.getBuffer("row_hash").getBytes()));
        if (hashes.size() != to - from + 1) {
          return Future.failedFuture(inconsistent());
        }
        int index = (int) (seq - from);
        return hashes.size() > INLINE_LEAVES
          ? vertx.executeBlocking(() -> tree(hashes, index), false)
          : Future.succeededFuture(tree(hashes, index));
      })
      .compose(t -> {
        if (!MessageDigest.isEqual(t.root(), cp.getBuffer("merkle_root").getBytes())) {
          return Future.failedFuture(inconsistent());
        }
        JsonArray path = new JsonArray();
        t.path().forEach(p -> path.add(BorrowerKeys.hex(p)));
        return Future.succeededFuture(new JsonObject()
          .put("row", item(row))
          .put("rowHash", BorrowerKeys.hex(row.getBuffer("row_hash").getBytes()))
          .put("leafIndex", seq - from).put("treeSize", to - from + 1)
          .put("auditPath", path)
          .put("checkpointId", Long.toString(cp.getLong("id")))
          .put("checkpoint", cp.getString("signature"))
          .put("merkle", MerkleTree.ALGORITHM));
      });
  }

  private record Tree(byte[] root, List<byte[]> path) {
  }

  private static Tree tree(List<byte[]> hashes, int index) {
    MerkleTree t = MerkleTree.of(hashes);
    return new Tree(t.root(), t.path(index));
  }

  static JsonObject item(Row r) {
    return new JsonObject().put("id", Long.toString(r.getLong("id")))
      .put("at", r.getOffsetDateTime("at").toInstant().toString())
      .put("lenderId", r.getString("lender_id")).put("purpose", r.getString("purpose"))
      .put("scope", r.getString("scope")).put("decision", r.getString("decision"))
      .put("action", r.getString("action"))
      .put("chainId", r.getString("chain_id")).put("chainSeq", r.getLong("chain_seq"))
      .put("prevHash", BorrowerKeys.hex(r.getBuffer("prev_hash").getBytes()));
  }

  private ApiError notYet() {
    return new ApiError(409, "not_checkpointed", "Not checkpointed yet",
      "this entry is not covered by a signed checkpoint yet; retry after " + retryAfterSeconds + " s", null,
      Map.of("Retry-After", Integer.toString(retryAfterSeconds)));
  }

  private static ApiError inconsistent() {
    return ApiError.conflict("proof_unavailable",
      "the stored rows of this entry's checkpoint no longer give its signed Merkle root; no proof can be given"
        + " (a compliance officer's verify names the damage)");
  }
}
