package io.openbureau.compliance;

import io.openbureau.audit.AccessLogEntry;
import io.openbureau.audit.AuditWriter;
import io.openbureau.audit.MerkleTree;
import io.openbureau.auth.Guards;
import io.openbureau.auth.Principal;
import io.openbureau.auth.Role;
import io.openbureau.consent.ReceiptSigner;
import io.openbureau.http.ApiError;
import io.openbureau.http.RequestIds;
import io.openbureau.http.Requests;
import io.openbureau.http.RouteMounter;
import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.openapi.validation.RequestParameter;
import io.vertx.openapi.validation.ValidatedRequest;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code POST /v1/compliance/access-log/verify-checkpoints}: an outsider's copy of the checkpoints
 * (a JSON array of compact JWS, as published or pushed) held against the database. Each one must
 * <ol>
 *   <li>be signed by the bureau ({@code bad_signature}; {@code malformed} if not a checkpoint),</li>
 *   <li>still be in {@code audit_checkpoints} at its (chainId, chainSeq), unchanged
 *   ({@code missing_checkpoint}, {@code changed_checkpoint}),</li>
 *   <li>have its head row still there carrying {@code headHash} ({@code missing_row},
 *   {@code changed_row}),</li>
 *   <li>and its rows fromSeq..chainSeq still give its signed Merkle root ({@code missing_rows},
 *   {@code changed_rows}), within a budget of {@link #TREE_ROW_BUDGET} rows a call (the rest are
 *   counted in {@code treesSkipped}).</li>
 * </ol>
 * Logged as {@code COMPLIANCE_VERIFY_CHECKPOINTS} before the answer, like every compliance read.
 */
public final class WitnessCheck {
  public static final String ACTION = "COMPLIANCE_VERIFY_CHECKPOINTS";
  public static final int MAX_CHECKPOINTS = 1000;
  static final int TREE_ROW_BUDGET = 262_144;
  static final String STORED = """
    SELECT c.chain_id, c.chain_seq, c.head_hash, c.signature, c.from_seq, c.merkle_root
    FROM audit_checkpoints c JOIN unnest($1::text[], $2::bigint[]) AS w(chain_id, chain_seq)
      ON c.chain_id = w.chain_id AND c.chain_seq = w.chain_seq""";
  static final String HEADS = """
    SELECT a.chain_id, a.chain_seq, a.row_hash
    FROM access_log a JOIN unnest($1::text[], $2::bigint[]) AS w(chain_id, chain_seq)
      ON a.chain_id = w.chain_id AND a.chain_seq = w.chain_seq""";
  static final String TREE_ROWS = """
    SELECT row_hash FROM access_log WHERE chain_id = $1 AND chain_seq BETWEEN $2 AND $3 ORDER BY chain_seq""";

  private record Key(String chainId, long chainSeq) {
  }

  /** One entry of the copy: parsed, or why not. */
  private record Entry(int index, SignedCheckpoint cp, SignedCheckpoint.Invalid invalid) {
  }

  private final Vertx vertx;
  private final Pool pool;
  private final AuditWriter audit;
  private final JsonObject jwks;

  public WitnessCheck(Vertx vertx, Pool pool, AuditWriter audit, ReceiptSigner signer) {
    this.vertx = vertx;
    this.pool = pool;
    this.audit = audit;
    this.jwks = signer.jwks();
  }

  public void mount(RouteMounter routes, Guards guards) {
    routes.secured("accessLogVerifyCheckpoints", guards.require(Role.COMPLIANCE), this::verify);
  }

  private void verify(RoutingContext ctx) {
    List<String> copy = copy(ctx);
    vertx.executeBlocking(() -> parse(copy), false)
      .compose(this::compare)
      .compose(result -> record(ctx, result).map(result))
      .onSuccess(result -> Requests.json(ctx, 200, result))
      .onFailure(ctx::fail);
  }

  private static List<String> copy(RoutingContext ctx) {
    ValidatedRequest v = Requests.validated(ctx);
    RequestParameter body = v == null ? null : v.getBody();
    if (body == null || body.isNull() || !(body.get() instanceof JsonArray arr)) {
      throw ApiError.invalid("body", "a JSON array of checkpoint JWS strings is required");
    }
    if (arr.isEmpty() || arr.size() > MAX_CHECKPOINTS) {
      throw ApiError.invalid("body", "must hold 1 to " + MAX_CHECKPOINTS + " checkpoints");
    }
    List<String> out = new ArrayList<>(arr.size());
    for (int i = 0; i < arr.size(); i++) {
      if (!(arr.getValue(i) instanceof String s)) {
        throw ApiError.invalid("body[" + i + "]", "must be a compact JWS string");
      }
      out.add(s);
    }
    return out;
  }

  private List<Entry> parse(List<String> copy) {
    List<Entry> out = new ArrayList<>(copy.size());
    for (int i = 0; i < copy.size(); i++) {
      try {
        out.add(new Entry(i, SignedCheckpoint.verify(copy.get(i), jwks), null));
      } catch (SignedCheckpoint.Invalid e) {
        out.add(new Entry(i, null, e));
      }
    }
    return out;
  }

  private Future<JsonObject> compare(List<Entry> entries) {
    List<Entry> signed = entries.stream().filter(e -> e.cp() != null).toList();
    String[] chains = signed.stream().map(e -> e.cp().chainId()).toArray(String[]::new);
    Long[] seqs = signed.stream().map(e -> e.cp().chainSeq()).toArray(Long[]::new);
    Tuple keys = Tuple.tuple().addArrayOfString(chains).addArrayOfLong(seqs);
    Future<Map<Key, Row>> stored = signed.isEmpty() ? Future.succeededFuture(Map.of())
      : pool.preparedQuery(STORED).execute(keys).map(WitnessCheck::byKey);
    Future<Map<Key, Row>> heads = signed.isEmpty() ? Future.succeededFuture(Map.of())
      : pool.preparedQuery(HEADS).execute(keys).map(WitnessCheck::byKey);
    return Future.all(stored, heads).compose(v -> {
      JsonArray mismatches = new JsonArray();
      List<Entry> trees = new ArrayList<>();
      for (Entry e : entries) {
        if (e.cp() == null) {
          mismatches.add(mismatch(e, null, e.invalid().problem(), e.invalid().getMessage()));
          continue;
        }
        SignedCheckpoint cp = e.cp();
        Key key = new Key(cp.chainId(), cp.chainSeq());
        Row s = stored.result().get(key);
        if (s == null) {
          mismatches.add(mismatch(e, cp, "missing_checkpoint", "no checkpoint of this chain at this seq in the database"));
        } else if (!cp.jws().equals(s.getString("signature"))
          || !MessageDigest.isEqual(cp.headHash(), s.getBuffer("head_hash").getBytes())) {
          mismatches.add(mismatch(e, cp, "changed_checkpoint", "the stored checkpoint differs from this signed copy"));
        }
        Row head = heads.result().get(key);
        if (head == null) {
          mismatches.add(mismatch(e, cp, "missing_row", "the checkpointed head row is gone"));
        } else if (!MessageDigest.isEqual(cp.headHash(), head.getBuffer("row_hash").getBytes())) {
          mismatches.add(mismatch(e, cp, "changed_row", "the head row's row_hash is not the signed headHash"));
        }
        if (cp.fromSeq() != null) {
          trees.add(e);
        }
      }
      return trees(trees, mismatches).map(counts -> result(entries.size(), mismatches, counts));
    });
  }

  /** Recomputes the signed Merkle roots from the stored rows, one checkpoint after the other, within the budget. */
  private Future<int[]> trees(List<Entry> trees, JsonArray mismatches) {
    int[] counts = new int[2]; // checked, skipped
    long[] budget = {TREE_ROW_BUDGET};
    Future<Void> chain = Future.succeededFuture();
    for (Entry e : trees) {
      SignedCheckpoint cp = e.cp();
      chain = chain.compose(v -> {
        if (cp.treeSize() > budget[0]) {
          counts[1]++;
          return Future.succeededFuture();
        }
        budget[0] -= cp.treeSize();
        counts[0]++;
        return pool.preparedQuery(TREE_ROWS).execute(Tuple.of(cp.chainId(), cp.fromSeq(), cp.chainSeq()))
          .compose(rows -> {
            List<byte[]> hashes = new ArrayList<>(rows.size());
            rows.forEach(r -> hashes.add(r.getBuffer("row_hash").getBytes()));
            if (hashes.size() != cp.treeSize()) {
              mismatches.add(mismatch(e, cp, "missing_rows", (cp.treeSize() - hashes.size())
                + " of the rows " + cp.fromSeq() + ".." + cp.chainSeq() + " are gone"));
              return Future.succeededFuture();
            }
            return vertx.executeBlocking(() -> MerkleTree.of(hashes).root(), false).map(root -> {
              if (!MessageDigest.isEqual(root, cp.merkleRoot())) {
                mismatches.add(mismatch(e, cp, "changed_rows", "the rows " + cp.fromSeq() + ".." + cp.chainSeq()
                  + " no longer give the signed Merkle root"));
              }
              return null;
            });
          });
      });
    }
    return chain.map(counts);
  }

  private static JsonObject result(int checked, JsonArray mismatches, int[] trees) {
    Map<String, Integer> byProblem = new TreeMap<>();
    for (Object o : mismatches) {
      byProblem.merge(((JsonObject) o).getString("problem"), 1, Integer::sum);
    }
    return new JsonObject().put("checked", checked).put("intact", mismatches.isEmpty())
      .put("mismatches", mismatches).put("problems", new JsonObject(new HashMap<>(byProblem)))
      .put("treesChecked", trees[0]).put("treesSkipped", trees[1]);
  }

  private static JsonObject mismatch(Entry e, SignedCheckpoint cp, String problem, String detail) {
    JsonObject m = new JsonObject().put("index", e.index()).put("problem", problem).put("detail", detail);
    if (cp != null) {
      m.put("chainId", cp.chainId()).put("chainSeq", cp.chainSeq()).put("headHash", BorrowerKeys.hex(cp.headHash()));
    }
    return m;
  }

  private static Map<Key, Row> byKey(io.vertx.sqlclient.RowSet<Row> rows) {
    Map<Key, Row> out = new HashMap<>();
    rows.forEach(r -> out.put(new Key(r.getString("chain_id"), r.getLong("chain_seq")), r));
    return out;
  }

  private Future<AccessLogEntry> record(RoutingContext ctx, JsonObject result) {
    Principal officer = Principal.of(ctx);
    JsonObject details = new JsonObject().put("checked", result.getInteger("checked"))
      .put("intact", result.getBoolean("intact")).put("problems", result.getJsonObject("problems"))
      .put("treesChecked", result.getInteger("treesChecked"));
    return audit.append(new AccessLogEntry.Draft(ACTION, Role.COMPLIANCE, officer.subject(), null, null, null, null,
      AccessLogEntry.GRANTED, null, null, RequestIds.get(ctx), null, details));
  }
}
