#!/usr/bin/env bash
# Cost per row of each access_log index (issue 12): on a scratch database, a copy of access_log
# (same columns, monthly partition, same 5 indexes as V1: primary key (id, at), borrower, lender,
# at, chain) filled with ROWS rows in batches of 32 rows per transaction, one client,
# like the AuditWriter's group commit (one INSERT ... SELECT per batch, one COMMIT per batch), in a
# DO block on the server (no client round trips; synchronous_commit off: no WAL flush wait). Run
# once with every index, once with no secondary index, and once without each one; the cost of an
# index = (time with all) - (time without it), per row. Each variant is run REPEAT times
# (alternating), the median is reported.
#
#   bench/index_cost/run.sh [ROWS (200000)] [REPEAT (3)]
#
# Output: a table on stdout and bench/results/index-cost-<stamp>/ (raw pgbench logs, summary.tsv).
# Needs: postgres superuser on 127.0.0.1:5432 (scripts/services.sh). The database
# ob_bench_index_cost is created and dropped by the script.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROWS=${1:-200000}
REPEAT=${2:-3}
BATCH=32
TX=$(( ROWS / BATCH ))
DB=ob_bench_index_cost
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$ROOT/bench/results/index-cost-$STAMP
mkdir -p "$OUT"
PSQL=(psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qAt)
trap '"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
"${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB"

# a batch of 32 rows as the writer makes them: ids from the sequence, one chain, increasing
# chain_seq, random 32-byte borrower keys and hashes, 50 lenders, small details json/jsonb
cat > "$OUT/batch.sql" <<SQL
INSERT INTO al (id, at, chain_id, chain_seq, action, actor_role, actor_id, lender_id, borrower_key, purpose,
  scope, decision, reason, consent_id, request_id, score_value, details_json, details, prev_hash, row_hash, hash_version)
SELECT nextval('al_id_seq'), clock_timestamp(), 'bench-chain-' || :client_id, nextval('al_seq'), 'INQUIRY', 'lender',
  'lender-' || (random() * 50)::int, 'lender-' || (random() * 50)::int, sha256(random()::text::bytea),
  'LOAN_ORIGINATION', 'SCORE', 'GRANTED', NULL, gen_random_uuid(), md5(random()::text), 650,
  '{"fields":["nationalId","purpose"]}'::json, '{"fields":["nationalId","purpose"]}'::jsonb,
  sha256(random()::text::bytea), sha256(random()::text::bytea), 3
FROM generate_series(1, $BATCH);
SQL

INDEXES="pkey borrower lender at chain"
create_table() { # $1: indexes to create (names from INDEXES)
  local ddl="DROP TABLE IF EXISTS al; DROP SEQUENCE IF EXISTS al_id_seq; DROP SEQUENCE IF EXISTS al_seq;
CREATE SEQUENCE al_id_seq CACHE 100; CREATE SEQUENCE al_seq;
CREATE TABLE al (id bigint NOT NULL, at timestamptz NOT NULL, chain_id text NOT NULL, chain_seq bigint NOT NULL,
  action text NOT NULL, actor_role text NOT NULL, actor_id text, lender_id text, borrower_key bytea, purpose text,
  scope text, decision text NOT NULL, reason text, consent_id uuid, request_id text, score_value integer,
  details jsonb, prev_hash bytea NOT NULL, row_hash bytea NOT NULL, hash_version smallint NOT NULL DEFAULT 3,
  details_json json) PARTITION BY RANGE (at);
CREATE TABLE al_now PARTITION OF al FOR VALUES FROM (now() - interval '1 day') TO (now() + interval '30 days');"
  for i in $1; do
    case $i in
      pkey) ddl+=" ALTER TABLE al ADD PRIMARY KEY (id, at);" ;;
      borrower) ddl+=" CREATE INDEX al_borrower ON al (borrower_key, at DESC, id DESC);" ;;
      lender) ddl+=" CREATE INDEX al_lender ON al (lender_id, at DESC, id DESC);" ;;
      at) ddl+=" CREATE INDEX al_at ON al (at DESC, id DESC);" ;;
      chain) ddl+=" CREATE INDEX al_chain ON al (chain_id, chain_seq);" ;;
    esac
  done
  "${PSQL[@]}" -d "$DB" -c "$ddl"
  "${PSQL[@]}" -d "$DB" -c "CHECKPOINT" >/dev/null
}

run_variant() { # $1 label $2 indexes; prints µs/row
  create_table "$2"
  local log=$OUT/$1-$3.txt lsn0 lsn1
  lsn0=$("${PSQL[@]}" -d "$DB" -c "select pg_current_wal_insert_lsn()")
  # the batches run inside the server (a DO block, one COMMIT per batch of 32, like the writer's
  # group commit) with synchronous_commit off: the client round trip and the WAL flush of each
  # COMMIT (0.5-2 ms on this shared disk, the same with or without an index) are left out, so what
  # is timed is the INSERT with its index upkeep; the result is the block's own clock
  "${PSQL[@]}" -d "$DB" -c "SET synchronous_commit = off" -c "DO \$\$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  FOR i IN 1..$TX LOOP
    $(sed 's/:client_id/1/' "$OUT/batch.sql")
    COMMIT;
  END LOOP;
  RAISE NOTICE 'latency average = % ms', 1000 * extract(epoch FROM clock_timestamp() - t0) / $TX;
END \$\$" > "$log" 2>&1
  lsn1=$("${PSQL[@]}" -d "$DB" -c "select pg_current_wal_insert_lsn()")
  local lat size wal
  lat=$(awk '/latency average/ {print $(NF-1)}' "$log")
  size=$("${PSQL[@]}" -d "$DB" -c "select coalesce(sum(pg_relation_size(indexrelid)), 0) from pg_index where indrelid = 'al_now'::regclass")
  # cluster-wide, so it includes the WAL of anything else running (kept raw in summary.tsv only)
  wal=$("${PSQL[@]}" -d "$DB" -c "select pg_wal_lsn_diff('$lsn1', '$lsn0')::bigint")
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$3" "$lat" "$size" "$wal" >> "$OUT/summary.tsv"
  echo "[index-cost $(date +%H:%M:%S)] $1 run $3: $lat ms per batch of $BATCH, index bytes $size, WAL bytes $wal" >&2
}

printf 'variant\trun\tms_per_batch\tindex_bytes\twal_bytes\n' > "$OUT/summary.tsv"
echo "[index-cost] $ROWS rows, $TX batches of $BATCH, $REPEAT runs per variant; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $(seq 1 "$REPEAT"); do
  run_variant all "$INDEXES" "$r"
  run_variant none "" "$r"
  for drop in $INDEXES; do
    run_variant "without-$drop" "$(echo " $INDEXES " | sed "s/ $drop / /")" "$r"
  done
done
python3 bench/index_cost/table.py "$OUT/summary.tsv" "$BATCH" "$ROWS" | tee "$OUT/table.md"
