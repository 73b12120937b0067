package io.openbureau.members;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayList;
import java.util.List;

/** All member SQL. */
public final class MemberRepository {
  static final String INSERT = """
    INSERT INTO members (id, name) VALUES ($1, $2)
    ON CONFLICT (id) DO NOTHING
    RETURNING id, name, status, status_version, created_at, updated_at""";
  static final String LIST = """
    SELECT id, name, status, status_version, created_at, updated_at FROM members
    WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2""";
  static final String FIND = """
    SELECT id, name, status, status_version, created_at, updated_at FROM members WHERE id = $1""";
  // every status change (even to the same status) bumps the version, so the cache write that
  // follows always wins over an older fill
  static final String SET_STATUS = """
    UPDATE members SET status = $2, status_version = status_version + 1, updated_at = now() WHERE id = $1
    RETURNING id, name, status, status_version, created_at, updated_at""";

  private final Pool pool;

  public MemberRepository(Pool pool) {
    this.pool = pool;
  }

  /** The new member, or null when the id is taken. */
  public Future<Member> insert(String id, String name) {
    return pool.preparedQuery(INSERT).execute(Tuple.of(id, name)).map(MemberRepository::first);
  }

  public Future<List<Member>> list(String afterId, int limit) {
    return pool.preparedQuery(LIST).execute(Tuple.of(afterId, limit)).map(rows -> {
      List<Member> out = new ArrayList<>();
      rows.forEach(r -> out.add(Member.fromRow(r)));
      return out;
    });
  }

  public Future<Member> find(String id) {
    return pool.preparedQuery(FIND).execute(Tuple.of(id)).map(MemberRepository::first);
  }

  public Future<Member> setStatus(String id, String status) {
    return pool.preparedQuery(SET_STATUS).execute(Tuple.of(id, status)).map(MemberRepository::first);
  }

  private static Member first(RowSet<Row> rows) {
    var it = rows.iterator();
    return it.hasNext() ? Member.fromRow(it.next()) : null;
  }
}
