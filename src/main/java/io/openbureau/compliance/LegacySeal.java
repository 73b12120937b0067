package io.openbureau.compliance;

import io.openbureau.audit.AuditWriter;
import io.openbureau.consent.ReceiptSigner;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * The migration path for chains written before signed chain ends existed (every {@code hash_version}
 * 2 row predates V4, and no writer appends to such a chain again): once, at the first start-up after
 * the upgrade, the bureau signs each such chain's end at the head it finds ({@code legacy_sealed}).
 * Without it every old chain's unsigned tail would read as {@code unaccounted_rows} for ever; with it
 * a row appended to an old chain afterwards is refused at once. What the database held at the
 * upgrade is taken as it was: the seal can vouch for nothing older than itself. A
 * {@code maintenance_log} row records that the seal ran, so a later start-up never seals again
 * (which would bless rows forged after the upgrade).
 */
public final class LegacySeal {
  private static final Logger LOG = LoggerFactory.getLogger(LegacySeal.class);
  static final String ACTION = "LEGACY_CHAINS_SEALED";
  static final String DONE = "SELECT 1 FROM maintenance_log WHERE action = '" + ACTION + "' LIMIT 1";
  static final String HEADS = """
    SELECT DISTINCT ON (chain_id) chain_id, chain_seq, row_hash FROM access_log
    WHERE hash_version = 2 AND chain_id NOT IN (SELECT chain_id FROM audit_chain_ends)
    ORDER BY chain_id, chain_seq DESC, id""";
  static final String MARK = "INSERT INTO maintenance_log (action, details) VALUES ('" + ACTION + "', $1::jsonb)";

  private LegacySeal() {
  }

  public static Future<Void> run(Vertx vertx, Pool pool, ReceiptSigner signer) {
    return pool.query(DONE).execute().compose(done -> done.size() > 0 ? Future.succeededFuture()
      : pool.query(HEADS).execute().compose(heads -> {
        ChainCloser closer = new ChainCloser(vertx, pool, signer, Duration.ZERO);
        Future<Void> chain = Future.succeededFuture();
        for (Row r : heads) {
          AuditWriter.Head head = new AuditWriter.Head(r.getString("chain_id"), r.getLong("chain_seq"),
            r.getBuffer("row_hash").getBytes());
          chain = chain.compose(v -> closer.close(head, "legacy_sealed"));
        }
        int sealed = heads.size();
        return chain.compose(v -> pool.preparedQuery(MARK)
            .execute(Tuple.of(new JsonObject().put("chains", sealed).encode())))
          .onSuccess(v -> LOG.info("sealed {} access-log chain(s) written before signed chain ends", sealed))
          .mapEmpty();
      }));
  }
}
