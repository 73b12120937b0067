-- Retention drops whole access-log partitions. A chain that crosses the dropped boundary would then
-- start with a row whose predecessor is gone; before dropping a partition the retention command
-- keeps, for each chain in it, the hash of the chain's last row there (an anchor), so verification
-- can still link the first surviving row. Anchors, checkpoints and the maintenance log are
-- append-only like the access log itself.
CREATE TABLE audit_anchors (
  chain_id   text NOT NULL,
  chain_seq  bigint NOT NULL,
  row_hash   bytea NOT NULL,
  at         timestamptz NOT NULL DEFAULT now(),
  partition  text NOT NULL,
  PRIMARY KEY (chain_id, chain_seq)
);

CREATE TRIGGER audit_anchors_no_change BEFORE UPDATE OR DELETE ON audit_anchors
  FOR EACH ROW EXECUTE FUNCTION access_log_reject_change();
CREATE TRIGGER audit_checkpoints_no_change BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION access_log_reject_change();
CREATE TRIGGER maintenance_log_no_change BEFORE UPDATE OR DELETE ON maintenance_log
  FOR EACH ROW EXECUTE FUNCTION access_log_reject_change();

GRANT SELECT ON audit_anchors TO openbureau_app;
