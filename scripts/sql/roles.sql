-- OpenBureau's two database roles. Run as a superuser (or a role with CREATEROLE) on the cluster:
--   psql -h HOST -U postgres -d postgres -v ON_ERROR_STOP=1 \
--        -v owner_password="$OWNER_PW" -v app_password="$APP_PW" -v database=openbureau -f scripts/sql/roles.sql
-- Roles are cluster-wide; the script is idempotent and safe to run from several sessions at once.
--   openbureau_owner  LOGIN NOSUPERUSER: owns the database and every table, runs the migrations
--                     (postgres.migrationUser) and `maintenance retention`. Never the server's login.
--   openbureau_app    LOGIN NOSUPERUSER NOBYPASSRLS: the server's login (postgres.user). Its
--                     privileges are granted by the migrations (R__app_privileges.sql): INSERT and
--                     SELECT on the access log, what each feature needs elsewhere, nothing else.
-- Variables (all optional): owner_password, app_password (empty: no password is set, e.g. trust or
-- peer authentication on a development machine), owner_createdb (on: the owner may CREATE DATABASE,
-- for postgres.createDatabase: true in development), database (when given: created owned by the owner).
-- A login role of another name may be used as postgres.user instead: GRANT openbureau_app TO that role.
\if :{?owner_password} \else \set owner_password '' \endif
\if :{?app_password} \else \set app_password '' \endif
\if :{?owner_createdb} \else \set owner_createdb off \endif
\if :{?database} \else \set database '' \endif

BEGIN;
-- serializes concurrent runs (advisory locks are per database; every run connects to the same one)
SELECT pg_advisory_xact_lock(hashtext('openbureau roles'));
SELECT set_config('openbureau.owner_password', :'owner_password', true),
       set_config('openbureau.app_password', :'app_password', true),
       set_config('openbureau.owner_createdb', :'owner_createdb', true);
DO $$
DECLARE
  createdb boolean := current_setting('openbureau.owner_createdb')::boolean;
BEGIN
  BEGIN
    CREATE ROLE openbureau_owner LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- exists (or created this instant by a session that did not take the lock, e.g. an old migration)
  END;
  BEGIN
    CREATE ROLE openbureau_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
  END;
  -- attributes are altered only when they differ: an ALTER ROLE racing another fails
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'openbureau_owner'
             AND (NOT rolcanlogin OR rolsuper OR rolbypassrls OR rolcreatedb <> createdb)) THEN
    EXECUTE format('ALTER ROLE openbureau_owner LOGIN NOSUPERUSER NOBYPASSRLS %s',
      CASE WHEN createdb THEN 'CREATEDB' ELSE 'NOCREATEDB' END);
  END IF;
  -- V2 of the migrations created openbureau_app NOLOGIN on older installations
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'openbureau_app'
             AND (NOT rolcanlogin OR rolsuper OR rolbypassrls OR rolcreatedb OR rolcreaterole OR rolreplication)) THEN
    ALTER ROLE openbureau_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION;
  END IF;
  -- the server's role may not act as the owner
  IF pg_has_role('openbureau_app', 'openbureau_owner', 'MEMBER') THEN
    REVOKE openbureau_owner FROM openbureau_app;
  END IF;
  IF current_setting('openbureau.owner_password') <> '' THEN
    EXECUTE format('ALTER ROLE openbureau_owner PASSWORD %L', current_setting('openbureau.owner_password'));
  END IF;
  IF current_setting('openbureau.app_password') <> '' THEN
    EXECUTE format('ALTER ROLE openbureau_app PASSWORD %L', current_setting('openbureau.app_password'));
  END IF;
END $$;
COMMIT;

-- CREATE DATABASE cannot run in a transaction block: built as text, run by \gexec when missing
SELECT format('CREATE DATABASE %I OWNER openbureau_owner', :'database')
WHERE :'database' <> '' AND NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'database') \gexec
