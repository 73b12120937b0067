-- The access log is append-only at the database level: UPDATE and DELETE are rejected by a
-- trigger for every role, and the application role is granted only INSERT and SELECT. Retention
-- works by detaching and dropping whole old partitions (an explicit, logged maintenance command).
CREATE FUNCTION access_log_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'access_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
  FOR EACH ROW EXECUTE FUNCTION access_log_reject_change();
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
  FOR EACH ROW EXECUTE FUNCTION access_log_reject_change();

-- The role the application is meant to run as in production (created without login; an operator
-- gives it a password or maps it). It may read and append to the log, never change it.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'openbureau_app') THEN
    CREATE ROLE openbureau_app NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL; -- another database on this cluster created it at the same moment
END $$;
GRANT SELECT, INSERT ON access_log TO openbureau_app;
GRANT USAGE ON SEQUENCE access_log_id_seq TO openbureau_app;
GRANT SELECT, INSERT, UPDATE ON members, tradelines, repayments, scores, consents TO openbureau_app;
GRANT SELECT, INSERT ON audit_checkpoints, maintenance_log TO openbureau_app;
GRANT USAGE ON SEQUENCE score_version_seq, consent_version_seq, audit_checkpoints_id_seq, maintenance_log_id_seq TO openbureau_app;
