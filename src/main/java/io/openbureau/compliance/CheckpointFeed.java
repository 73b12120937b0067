package io.openbureau.compliance;

import io.openbureau.http.ApiError;
import io.openbureau.http.Cursors;
import io.openbureau.http.RouteMounter;
import io.openbureau.http.Requests;
import io.openbureau.identity.BorrowerKeys;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * {@code GET /v1/audit/checkpoints}, public: the signed checkpoints, two ways.
 * <ul>
 *   <li>Without {@code after}: newest first, paged with {@code cursor} (a look at the latest).</li>
 *   <li>With {@code after=<id>} ({@code 0} from the start): the feed for a witness or regulator who
 *   keeps a copy, oldest first, ids strictly above {@code after}, at most {@code limit}; the answer's
 *   {@code nextAfter} is what to send next time (the same value when nothing is new). Ids commit in
 *   ascending order ({@link Checkpointer}), so polling from {@code nextAfter} neither skips nor
 *   repeats a checkpoint. Each answer carries a strong {@code ETag} of its body; a poll with
 *   {@code If-None-Match} of an unchanged page gets 304 with no body.</li>
 * </ul>
 * An open route (no contract validation step): the query is read and checked here.
 */
public final class CheckpointFeed {
  static final String COLUMNS = "SELECT id, at, chain_id, chain_seq, head_hash, signature, from_seq, merkle_root"
    + " FROM audit_checkpoints";
  static final Pattern CHAIN_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
  static final Pattern AFTER = Pattern.compile("[0-9]{1,18}");

  private final Pool pool;

  public CheckpointFeed(Pool pool) {
    this.pool = pool;
  }

  public void mount(RouteMounter routes) {
    routes.open("auditCheckpoints", this::checkpoints);
  }

  private void checkpoints(RoutingContext ctx) {
    int limit = limit(ctx.queryParams().get("limit"));
    String rawAfter = ctx.queryParams().get("after");
    String rawCursor = ctx.queryParams().get("cursor");
    String chain = ctx.queryParams().get("chainId");
    if (chain != null && !CHAIN_ID.matcher(chain).matches()) {
      throw ApiError.invalid("chainId", "is not a chain id (1 to 128 of A-Z a-z 0-9 . _ : -)");
    }
    Long after = null;
    if (rawAfter != null) {
      if (!AFTER.matcher(rawAfter).matches()) {
        throw ApiError.invalid("after", "must be a checkpoint id (a whole number, 0 for the first page)");
      }
      if (rawCursor != null) {
        throw ApiError.invalid("cursor", "cannot be combined with after (after pages oldest first, cursor newest first)");
      }
      after = Long.parseLong(rawAfter);
    }
    Tuple params = Tuple.tuple();
    StringBuilder sql = new StringBuilder(COLUMNS).append(" WHERE true");
    if (after != null) {
      params.addLong(after);
      sql.append(" AND id > $").append(params.size());
    } else if (rawCursor != null) {
      params.addLong(before(rawCursor));
      sql.append(" AND id < $").append(params.size());
    }
    if (chain != null) {
      params.addString(chain);
      sql.append(" AND chain_id = $").append(params.size());
    }
    params.addInteger(limit);
    sql.append(after != null ? " ORDER BY id ASC" : " ORDER BY id DESC").append(" LIMIT $").append(params.size());
    Long afterUsed = after;
    pool.preparedQuery(sql.toString()).execute(params).onSuccess(rows -> {
      JsonArray items = new JsonArray();
      long lastId = afterUsed == null ? 0 : afterUsed;
      for (Row r : rows) {
        lastId = r.getLong("id");
        items.add(item(r));
      }
      JsonObject body = new JsonObject().put("items", items);
      if (afterUsed != null) {
        body.put("nextAfter", Long.toString(lastId));
        send(ctx, body, "no-cache");
      } else {
        body.put("nextCursor", items.size() == limit ? Cursors.encode(new JsonObject().put("i", lastId)) : null);
        send(ctx, body, "public, max-age=10");
      }
    }).onFailure(ctx::fail);
  }

  static JsonObject item(Row r) {
    Buffer root = r.getBuffer("merkle_root");
    Long from = r.getLong("from_seq");
    return new JsonObject().put("id", Long.toString(r.getLong("id")))
      .put("at", r.getOffsetDateTime("at").toInstant().toString()).put("chainId", r.getString("chain_id"))
      .put("chainSeq", r.getLong("chain_seq")).put("headHash", BorrowerKeys.hex(r.getBuffer("head_hash").getBytes()))
      .put("fromSeq", from).put("merkleRoot", root == null ? null : BorrowerKeys.hex(root.getBytes()))
      .put("signature", r.getString("signature"));
  }

  private static void send(RoutingContext ctx, JsonObject body, String cacheControl) {
    Buffer bytes = body.toBuffer();
    String etag = "\"" + etag(bytes) + "\"";
    ctx.response().putHeader("ETag", etag).putHeader("Cache-Control", cacheControl).putHeader("Vary", "Accept-Encoding");
    String match = ctx.request().getHeader("If-None-Match");
    if (match != null && (match.equals(etag) || match.equals("W/" + etag))) {
      ctx.response().setStatusCode(304).end();
      return;
    }
    ctx.response().setStatusCode(200).putHeader("Content-Type", "application/json").end(bytes);
  }

  static String etag(Buffer bytes) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(bytes.getBytes());
      return Base64.getUrlEncoder().withoutPadding().encodeToString(java.util.Arrays.copyOf(d, 18));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static int limit(String raw) {
    if (raw == null) {
      return Requests.DEFAULT_LIMIT;
    }
    int limit;
    try {
      limit = Integer.parseInt(raw);
    } catch (NumberFormatException e) {
      limit = -1;
    }
    if (limit < 1 || limit > Requests.MAX_LIMIT) {
      throw ApiError.invalid("limit", "must be a whole number from 1 to " + Requests.MAX_LIMIT);
    }
    return limit;
  }

  private static long before(String cursor) {
    JsonObject c = Cursors.decode(cursor);
    Long before;
    try {
      before = c == null ? null : c.getLong("i");
    } catch (RuntimeException e) {
      before = null;
    }
    if (before == null) {
      throw ApiError.invalid("cursor", "is not a cursor this API returned");
    }
    return before;
  }
}
