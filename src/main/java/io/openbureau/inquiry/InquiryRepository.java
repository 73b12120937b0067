package io.openbureau.inquiry;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The SQL of the inquiry feature: a person's inquiry window rebuilt from the access log, by the one
 * counting rule (only GRANTED inquiries of a HARD purpose count), in the window's own fields (see
 * {@link InquiryCache}): the last time per lender in 90 days, the count per UTC day in 30.
 */
final class InquiryRepository {
  static final String WINDOW = """
    SELECT lender_id, NULL::bigint AS day, floor(extract(epoch FROM max(at)) * 1000)::bigint AS v
    FROM access_log
    WHERE borrower_key = $1 AND at >= $2 AND action = 'INQUIRY' AND decision = 'GRANTED' AND purpose = ANY($3)
      AND lender_id IS NOT NULL
    GROUP BY lender_id
    UNION ALL
    SELECT NULL, floor(extract(epoch FROM at) / 86400)::bigint AS day, count(*) AS v
    FROM access_log
    WHERE borrower_key = $1 AND at >= $4 AND action = 'INQUIRY' AND decision = 'GRANTED' AND purpose = ANY($3)
      AND lender_id IS NOT NULL
    GROUP BY 2""";
  private static final String[] HARD = Purposes.HARD_PURPOSES.toArray(String[]::new);

  private final SqlClient pg;

  InquiryRepository(SqlClient pg) {
    this.pg = pg;
  }

  /** The window's fields ({@code l:<lender>} and {@code d:<epochDay>}) as the access log has them at {@code now}. */
  Future<Map<String, Long>> window(byte[] borrowerKey, Instant now) {
    long nowMs = now.toEpochMilli();
    long firstDay = Math.floorDiv(nowMs, InquiryCache.DAY_MS) - InquiryCache.DAY_BUCKETS + 1;
    Tuple args = Tuple.of(Buffer.buffer(borrowerKey),
      Instant.ofEpochMilli(nowMs - InquiryCache.WINDOW_MS).atOffset(ZoneOffset.UTC), HARD,
      Instant.ofEpochMilli(firstDay * InquiryCache.DAY_MS).atOffset(ZoneOffset.UTC));
    return pg.preparedQuery(WINDOW).execute(args).map(rows -> {
      Map<String, Long> out = new LinkedHashMap<>();
      for (Row r : rows) {
        String lender = r.getString("lender_id");
        out.put(lender != null ? "l:" + lender : "d:" + r.getLong("day"), r.getLong("v"));
      }
      return out;
    });
  }
}
