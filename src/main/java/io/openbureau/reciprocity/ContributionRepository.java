package io.openbureau.reciprocity;

import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.util.Iterator;

/** All SQL of give to get: when each member last had furnishing accepted (V13). */
public final class ContributionRepository {
  /**
   * Raised at most once an hour per member whatever the number of instances and chunks: a row
   * written less than an hour ago is left as it is (and not locked), so busy furnishing never
   * queues on it.
   */
  static final String ACCEPTED = """
    INSERT INTO member_contributions (member_id, last_accepted_at) VALUES ($1, now())
    ON CONFLICT (member_id) DO UPDATE SET last_accepted_at = EXCLUDED.last_accepted_at
      WHERE member_contributions.last_accepted_at < EXCLUDED.last_accepted_at - interval '1 hour'""";
  static final String LAST = "SELECT last_accepted_at FROM member_contributions WHERE member_id = $1";

  private final SqlClient pg;

  public ContributionRepository(SqlClient pg) {
    this.pg = pg;
  }

  public Future<Void> accepted(String memberId) {
    return pg.preparedQuery(ACCEPTED).execute(Tuple.of(memberId)).mapEmpty();
  }

  /** The member's last accepted furnishing (within the hour), or null when it never furnished. */
  public Future<Instant> last(String memberId) {
    return pg.preparedQuery(LAST).execute(Tuple.of(memberId)).map(rows -> {
      Iterator<Row> it = rows.iterator();
      return it.hasNext() ? it.next().getOffsetDateTime("last_accepted_at").toInstant() : null;
    });
  }
}
