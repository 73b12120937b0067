-- Verification relies on nothing it cannot check (issue 10):
--  * retention anchors are signed by the bureau (RS256 JWS over chainId, chainSeq, rowHash,
--    partition), and the maintenance_log row of the drop lists them; an anchor made before this
--    migration has no signature and no longer verifies (anchor_forged);
--  * a writer that will never append to its chain again (graceful stop, or a new chain after an
--    uncertain commit) signs the chain's end: verify then refuses any row after it;
--  * checkpoints are also looked up by time (chains that vanished from a range).
ALTER TABLE audit_anchors ADD COLUMN signature text;

CREATE TABLE audit_chain_ends (
  chain_id   text PRIMARY KEY,
  chain_seq  bigint NOT NULL CHECK (chain_seq >= 1),
  head_hash  bytea NOT NULL,
  at         timestamptz NOT NULL,
  reason     text NOT NULL,
  signature  text NOT NULL
);
CREATE INDEX audit_chain_ends_at ON audit_chain_ends (at);
CREATE INDEX audit_checkpoints_at ON audit_checkpoints (at);

CREATE TRIGGER audit_chain_ends_no_change BEFORE UPDATE OR DELETE ON audit_chain_ends
  FOR EACH ROW EXECUTE FUNCTION access_log_reject_change();

GRANT SELECT, INSERT ON audit_chain_ends TO openbureau_app;
