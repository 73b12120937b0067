#!/usr/bin/env bash
# Which access_log index each query of src/main/java uses: a scratch database (ob_bench_explain,
# dropped afterwards) with a copy of access_log (monthly partition, the 5 indexes of V1) holding
# ROWS rows (50 lenders, random borrower keys, 4 chains), ANALYZEd, then EXPLAIN of each query
# shape with representative parameters. usage: bench/index_cost/explain.sh [ROWS (200000)]
set -euo pipefail
ROWS=${1:-200000}
DB=ob_bench_explain
PSQL=(psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qAt)
trap '"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" 2>/dev/null
"${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB"
"${PSQL[@]}" -d "$DB" <<SQL
CREATE TABLE access_log (id bigint NOT NULL, at timestamptz NOT NULL, chain_id text NOT NULL, chain_seq bigint NOT NULL,
  action text NOT NULL, actor_role text NOT NULL, actor_id text, lender_id text, borrower_key bytea, purpose text,
  scope text, decision text NOT NULL, reason text, consent_id uuid, request_id text, score_value integer,
  details jsonb, prev_hash bytea NOT NULL, row_hash bytea NOT NULL, hash_version smallint NOT NULL DEFAULT 3,
  details_json json, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE access_log_now PARTITION OF access_log FOR VALUES FROM (now() - interval '40 days') TO (now() + interval '1 day');
CREATE INDEX access_log_borrower ON access_log (borrower_key, at DESC, id DESC);
CREATE INDEX access_log_lender ON access_log (lender_id, at DESC, id DESC);
CREATE INDEX access_log_at ON access_log (at DESC, id DESC);
CREATE INDEX access_log_chain ON access_log (chain_id, chain_seq);
INSERT INTO access_log (id, at, chain_id, chain_seq, action, actor_role, actor_id, lender_id, borrower_key, purpose,
  scope, decision, consent_id, request_id, score_value, prev_hash, row_hash)
SELECT g, now() - interval '30 days' + g * interval '30 days' / $ROWS, 'chain-' || (g % 4), g / 4, 'INQUIRY', 'lender',
  'lender-' || (g % 50), 'lender-' || (g % 50), sha256((g % ($ROWS / 4))::text::bytea), 'LOAN_ORIGINATION', 'SCORE',
  CASE WHEN g % 5 = 0 THEN 'DENIED' ELSE 'GRANTED' END, gen_random_uuid(), md5(g::text), 650,
  sha256(g::text::bytea), sha256(g::text::bytea)
FROM generate_series(1, $ROWS) g;
ANALYZE access_log;
SQL
q() { # $1 label, $2 query
  echo "### $1"
  "${PSQL[@]}" -d "$DB" -c "EXPLAIN (COSTS OFF) $2" | grep -E 'Index|Seq Scan|Bitmap' | sed 's/^ */  /'
}
B="sha256('123'::bytea)"
q "InquiryRepository.windowRows (window fill/rebuild)" "SELECT id, at, lender_id, decision FROM access_log WHERE borrower_key = $B AND at >= now() - interval '90 days' AND action = 'INQUIRY' AND decision IN ('GRANTED', 'DENIED') AND lender_id IS NOT NULL"
q "AccessLogRepository.aboutPerson (BorrowerRoutes /v1/me/inquiries)" "SELECT id, at FROM access_log WHERE borrower_key = $B AND (at, id) < (now(), 999999999) ORDER BY at DESC, id DESC LIMIT 50"
q "AccessLogRepository.filtered: range only (compliance list)" "SELECT id FROM access_log WHERE at >= now() - interval '7 days' AND at < now() ORDER BY at DESC, id DESC LIMIT 50"
q "AccessLogRepository.filtered: range + lender" "SELECT id FROM access_log WHERE at >= now() - interval '7 days' AND at < now() AND lender_id = 'lender-7' ORDER BY at DESC, id DESC LIMIT 50"
q "AccessLogRepository.filtered: range + lender, rare lender (dropped lender index: see below)" "SELECT id FROM access_log WHERE at >= now() - interval '7 days' AND at < now() AND lender_id = 'nobody' ORDER BY at DESC, id DESC LIMIT 50"
q "AccessLogRepository.filtered: range + borrower" "SELECT id FROM access_log WHERE at >= now() - interval '7 days' AND at < now() AND borrower_key = $B ORDER BY at DESC, id DESC LIMIT 50"
q "AccessLogRepository.OVER_BORROWING (1 day)" "SELECT borrower_key, count(DISTINCT lender_id) FROM access_log WHERE at >= now() - interval '1 day' AND at < now() AND action = 'INQUIRY' AND decision = 'GRANTED' AND borrower_key IS NOT NULL AND lender_id IS NOT NULL GROUP BY borrower_key"
q "AccessLogRepository.FISHING (1 day)" "SELECT lender_id, count(*) FROM access_log WHERE at >= now() - interval '1 day' AND at < now() AND action = 'INQUIRY' AND lender_id IS NOT NULL GROUP BY lender_id"
q "ProofRoutes row (id + borrower)" "SELECT id FROM access_log WHERE id = 4242 AND borrower_key = $B"
q "Checkpointer / WitnessCheck.TREE_ROWS (chain span)" "SELECT chain_seq, prev_hash, row_hash FROM access_log WHERE chain_id = 'chain-1' AND chain_seq BETWEEN 1000 AND 1100 ORDER BY chain_seq"
q "ChainCloser.ROW / ChainVerifier predecessors, FIRST_UNCOVERED" "SELECT row_hash FROM access_log WHERE chain_id = 'chain-1' AND chain_seq = 500 ORDER BY id LIMIT 1"
q "ChainVerifier range batch" "SELECT id FROM access_log WHERE at >= now() - interval '1 hour' AND at < now() AND chain_id = ANY(ARRAY['chain-1']) ORDER BY chain_id, chain_seq, id"
echo
echo "## without access_log_lender"
"${PSQL[@]}" -d "$DB" -c "DROP INDEX access_log_lender"
q "filtered: range + lender (common lender)" "SELECT id FROM access_log WHERE at >= now() - interval '7 days' AND at < now() AND lender_id = 'lender-7' ORDER BY at DESC, id DESC LIMIT 50"
for l in lender-7 nobody; do
  echo "  timing, lender $l:"
  "${PSQL[@]}" -d "$DB" -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT id FROM access_log WHERE at >= now() - interval '7 days' AND at < now() AND lender_id = '$l' ORDER BY at DESC, id DESC LIMIT 50" | grep -E 'Execution Time|Rows Removed' | sed 's/^ */    /'
done
