-- Hash encoding v3 (see io.openbureau.audit.ChainHash). v2 lost the last digits of every number,
-- so a change there went unseen. Rows now say which encoding their hash uses: every row written
-- before this migration is v2 (and keeps being verified as it was written), every new row is v3.
-- Both columns are added without rewriting the table (a constant default is kept in the catalog).
ALTER TABLE access_log ADD COLUMN hash_version smallint NOT NULL DEFAULT 2;
ALTER TABLE access_log ALTER COLUMN hash_version SET DEFAULT 3;

-- v3 rows store their details as the exact text the bureau produced and hashed: json (unlike
-- jsonb) is validated but kept byte for byte, so the verifier hashes the stored bytes as they come
-- and never has to predict how Postgres prints a jsonb. The jsonb details column stays, a copy of
-- the same value for queries (details->>'x' works for old and new rows); verify checks the copy
-- still holds the value the hash covers. jsonb cannot hold a NUL in a string: such details have no copy.
ALTER TABLE access_log ADD COLUMN details_json json;

COMMENT ON COLUMN access_log.hash_version IS
  'canonical encoding of row_hash: 2 = legacy (rows before V4), 3 = current; see ChainHash';
COMMENT ON COLUMN access_log.details_json IS
  'v3 rows: the details text exactly as hashed (details, jsonb, is its copy for queries); NULL on v2 rows';
