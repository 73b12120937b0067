package io.openbureau.inquiry;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/** The SQL of the inquiry feature: the access-log rows an inquiry window is rebuilt from. */
final class InquiryRepository {
  static final String WINDOW_ROWS = """
    SELECT id, at, lender_id, decision FROM access_log
    WHERE borrower_key = $1 AND at >= $2 AND action = 'INQUIRY' AND decision IN ('GRANTED', 'DENIED')
      AND lender_id IS NOT NULL""";

  record WindowRow(long id, long atMillis, String lenderId, String decision) {
  }

  private final SqlClient pg;

  InquiryRepository(SqlClient pg) {
    this.pg = pg;
  }

  Future<List<WindowRow>> windowRows(byte[] borrowerKey, Instant since) {
    return pg.preparedQuery(WINDOW_ROWS).execute(Tuple.of(Buffer.buffer(borrowerKey), since.atOffset(ZoneOffset.UTC)))
      .map(rows -> {
        List<WindowRow> out = new ArrayList<>(rows.size());
        for (Row r : rows) {
          out.add(new WindowRow(r.getLong("id"), r.getOffsetDateTime("at").toInstant().toEpochMilli(),
            r.getString("lender_id"), r.getString("decision")));
        }
        return out;
      });
  }
}
