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

  /** Members whose status the cache may not hold yet (V8's partial index). */
  static final String UNPUBLISHED = """
    SELECT id, status_version FROM members WHERE published_version < status_version LIMIT $1""";
  /** The cache holds the member's status at version $2: done up to it; tell every instance. */
  static final String MARK_PUBLISHED = """
    WITH done AS (
      UPDATE members SET published_version = $2 WHERE id = $1 AND published_version < $2 RETURNING 1)
    SELECT pg_notify($3, $4) FROM done""";

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
    return find(pool, id);
  }

  static Future<Member> find(io.vertx.sqlclient.SqlClient client, String id) {
    return client.preparedQuery(FIND).execute(Tuple.of(id)).map(MemberRepository::first);
  }

  /**
   * The status change, and in the same transaction, for a suspension (it takes access away), a
   * NOTIFY on {@code pendingChannel} naming the member and the new version (see {@link MemberStatus}).
   */
  public Future<Member> setStatus(String id, String status, String pendingChannel) {
    return pool.withTransaction(conn -> conn.preparedQuery(SET_STATUS).execute(Tuple.of(id, status))
      .map(MemberRepository::first)
      .compose(m -> m == null || !Member.SUSPENDED.equals(m.status()) ? Future.succeededFuture(m)
        : conn.preparedQuery(io.openbureau.cache.CacheRepair.NOTIFY)
          .execute(Tuple.of(pendingChannel, MemberStatus.notification(m.id(), m.statusVersion()))).map(m)));
  }

  /** Member id and status version still to publish, at most {@code limit}. */
  Future<java.util.Map<String, Long>> unpublished(int limit) {
    return pool.preparedQuery(UNPUBLISHED).execute(Tuple.of(limit)).map(rows -> {
      java.util.Map<String, Long> out = new java.util.LinkedHashMap<>();
      rows.forEach(r -> out.put(r.getString("id"), r.getLong("status_version")));
      return out;
    });
  }

  Future<Void> markPublished(String id, long version, String channel, String payload) {
    return pool.preparedQuery(MARK_PUBLISHED).execute(Tuple.of(id, version, channel, payload)).mapEmpty();
  }

  private static Member first(RowSet<Row> rows) {
    var it = rows.iterator();
    return it.hasNext() ? Member.fromRow(it.next()) : null;
  }
}
