-- Least privilege. The migrations run as the owner role (postgres.migrationUser), which therefore
-- owns every table, partition and function; the server logs in as postgres.user, which holds only
-- what R__app_privileges.sql grants openbureau_app: it may append to and read the access log,
-- never TRUNCATE, DETACH, DROP, ALTER or disable its triggers (all reserved to the owner), and as a
-- non-superuser it may not set session_replication_role.

-- The server creates next months' partitions periodically (compliance.partitionCheckHours), which
-- needs the owner's rights: the function runs as its owner (SECURITY DEFINER) with a fixed
-- search_path and fully qualified names, so a caller cannot substitute its own objects; its
-- arguments are bounded, so a caller cannot create thousands of partitions.
CREATE OR REPLACE FUNCTION audit_ensure_partitions(months_back integer, months_ahead integer) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  m date;
  name text;
BEGIN
  IF months_back IS NULL OR months_ahead IS NULL OR months_back NOT BETWEEN 0 AND 120
     OR months_ahead NOT BETWEEN 0 AND 24 THEN
    RAISE EXCEPTION 'audit_ensure_partitions(%, %): months_back must be 0..120 and months_ahead 0..24',
      months_back, months_ahead USING ERRCODE = 'invalid_parameter_value';
  END IF;
  FOR i IN -months_back..months_ahead LOOP
    m := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i))::date;
    name := 'access_log_' || to_char(m, 'YYYY_MM');
    IF to_regclass('public.' || quote_ident(name)) IS NULL THEN
      EXECUTE format('CREATE TABLE public.%I PARTITION OF public.access_log FOR VALUES FROM (%L) TO (%L)',
        name, m::timestamp AT TIME ZONE 'UTC', (m + interval '1 month')::timestamp AT TIME ZONE 'UTC');
    END IF;
  END LOOP;
END $$;
-- functions are executable by PUBLIC by default; this one only by the server (granted in R__)
REVOKE ALL ON FUNCTION audit_ensure_partitions(integer, integer) FROM PUBLIC;

-- Nobody but the owner creates objects: not in schema public (already so since Postgres 15, stated
-- for older clusters) and no temporary tables either (a temporary table could shadow a name).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
DO $$
BEGIN
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END $$;
