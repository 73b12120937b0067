-- Each checkpoint covers the rows of its chain since the chain's previous checkpoint
-- (from_seq..chain_seq) with a Merkle tree over their row_hash (RFC 9162 §2.1, SHA-256; see
-- audit.MerkleTree); merkle_root is its root, also in the signed claims. Checkpoints signed before
-- this migration have neither (no inclusion proofs for their rows).
ALTER TABLE audit_checkpoints ADD COLUMN from_seq bigint, ADD COLUMN merkle_root bytea;
ALTER TABLE audit_checkpoints ADD CONSTRAINT audit_checkpoints_tree CHECK (
  (from_seq IS NULL) = (merkle_root IS NULL)
  AND (from_seq IS NULL OR (from_seq BETWEEN 1 AND chain_seq AND length(merkle_root) = 32)));
