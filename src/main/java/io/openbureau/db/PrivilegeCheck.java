package io.openbureau.db;

import io.openbureau.config.BureauConfig;
import io.openbureau.config.ConfigException;
import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * Checks at start-up that the server's own login ({@code postgres.user}) cannot rewrite the record:
 * it must not be a superuser (who may disable triggers and set {@code session_replication_role}),
 * bypass row security, own (or be a member of the owner of) an audit table, or hold UPDATE, DELETE
 * or TRUNCATE on one. With {@code env: production} any of these stops start-up; otherwise one
 * warning is logged (a developer may choose to run as the superuser).
 */
public final class PrivilegeCheck {
  private static final Logger LOG = LoggerFactory.getLogger(PrivilegeCheck.class);

  /** The append-only tables (the access log's partitions are checked with it). */
  static final List<String> AUDIT_TABLES = List.of("access_log", "audit_checkpoints", "audit_anchors", "maintenance_log");

  static final String QUERY = """
    SELECT r.rolsuper, r.rolbypassrls,
      (SELECT string_agg(DISTINCT CASE WHEN c.relispartition THEN 'partitions of access_log' ELSE c.relname::text END,
          ', ') FROM pg_class c
        WHERE c.oid = ANY (t.audit) AND pg_has_role(current_user, c.relowner, 'MEMBER')) AS owned,
      (SELECT string_agg(DISTINCT CASE WHEN c.relispartition THEN 'partitions of access_log' ELSE c.relname::text END,
          ', ') FROM pg_class c
        WHERE c.oid = ANY (t.audit) AND has_table_privilege(c.oid, 'UPDATE, DELETE, TRUNCATE')) AS changeable,
      has_schema_privilege('public', 'CREATE') AS creates,
      current_setting('server_version_num')::int AS version
    FROM pg_roles r,
      (SELECT array_agg(c.oid) AS audit FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND (c.relname::text = ANY ($1::text[])
          OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'public.access_log'::regclass))) t
    WHERE r.rolname = current_user""";

  /** Postgres 15 lets a superuser grant SET on a superuser-only parameter to anyone. */
  static final String REPLICATION_ROLE = "SELECT has_parameter_privilege('session_replication_role', 'SET')";

  private PrivilegeCheck() {
  }

  /** Fails (production) or warns (otherwise) when the pool's role could change the audit tables. */
  public static Future<Void> run(SqlClient client, BureauConfig config) {
    return problems(client).recover(e -> Future.failedFuture(loginFailure(e, config))).compose(problems -> {
      if (problems.isEmpty()) {
        return Future.succeededFuture();
      }
      String message = "postgres.user '" + config.postgres().user() + "' " + String.join("; ", problems)
        + ": the server must log in as a role that may only append to and read the access log"
        + " (openbureau_app, see scripts/sql/roles.sql)";
      if (config.production()) {
        return Future.failedFuture(new ConfigException(message + "; refused with env: production"));
      }
      LOG.warn("{} (refused with env: production)", message);
      return Future.succeededFuture();
    });
  }

  /** The first query on the server's pool: a refused login names the key to fix. */
  private static Throwable loginFailure(Throwable e, BureauConfig config) {
    if (e instanceof PgException pg && pg.getSqlState() != null && pg.getSqlState().startsWith("28")) {
      return new ConfigException("postgres.user '" + config.postgres().user() + "' cannot log in to "
        + config.postgres().database() + " (" + pg.getErrorMessage() + "); " + Database.ROLES_HINT);
    }
    return e;
  }

  /** What the connected role could do to the audit tables; empty when nothing. */
  public static Future<List<String>> problems(SqlClient client) {
    return client.preparedQuery(QUERY).execute(io.vertx.sqlclient.Tuple.of(AUDIT_TABLES.toArray(new String[0])))
      .compose(rows -> {
        Row row = rows.iterator().next();
        List<String> problems = new ArrayList<>();
        if (row.getBoolean("rolsuper")) {
          problems.add("is a superuser");
        }
        if (row.getBoolean("rolbypassrls")) {
          problems.add("has BYPASSRLS");
        }
        if (row.getBoolean("rolsuper")) {
          return Future.succeededFuture(problems); // may do anything: the rest would only repeat it
        }
        if (row.getString("owned") != null) {
          problems.add("owns " + row.getString("owned"));
        }
        if (row.getString("changeable") != null) {
          problems.add("may UPDATE, DELETE or TRUNCATE " + row.getString("changeable"));
        }
        if (row.getBoolean("creates")) {
          problems.add("may CREATE in schema public (REVOKE CREATE ON SCHEMA public FROM PUBLIC)");
        }
        if (row.getInteger("version") < 150000) {
          return Future.succeededFuture(problems);
        }
        return client.query(REPLICATION_ROLE).execute().map(r -> {
          if (r.iterator().next().getBoolean(0)) {
            problems.add("may SET session_replication_role (which skips the append-only triggers)");
          }
          return problems;
        });
      });
  }
}
