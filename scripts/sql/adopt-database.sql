-- Hands a database whose schema was migrated by another role (before release with least privilege:
-- usually the superuser postgres) to openbureau_owner, so the migrations can continue as the owner.
-- Run once, as a superuser, connected to that database, after scripts/sql/roles.sql:
--   psql -h HOST -U postgres -d openbureau -v ON_ERROR_STOP=1 -f scripts/sql/adopt-database.sql
-- Then start the server with postgres.migrationUser: openbureau_owner and postgres.user: openbureau_app;
-- the next migrations (V7, R__app_privileges) restrict the server's role.
DO $$
DECLARE
  r record;
BEGIN
  EXECUTE format('ALTER DATABASE %I OWNER TO openbureau_owner', current_database());
  -- tables first: their indexes and the sequences they own (serial columns) follow them
  FOR r IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
             AND c.relowner <> 'openbureau_owner'::regrole LOOP
    EXECUTE format('ALTER TABLE %s OWNER TO openbureau_owner', r.name);
  END LOOP;
  FOR r IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind = 'S' AND c.relowner <> 'openbureau_owner'::regrole LOOP
    EXECUTE format('ALTER SEQUENCE %s OWNER TO openbureau_owner', r.name);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'public' AND p.proowner <> 'openbureau_owner'::regrole LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO openbureau_owner', r.name);
  END LOOP;
END $$;
