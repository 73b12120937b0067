#!/usr/bin/env bash
# Access log at scale (issue 6): fills ob_bench_audit with N valid chained rows, starts the bureau on
# it (-Xmx256m: a flat-memory export must fit), then measures the filtered list by person and by
# lender (p50/p99 of sequential requests), export rows/s (NDJSON, default 30-day range), verify rows/s.
# Usage: bench/audit.sh [ROWS=10000000] [DAYS=300]   (raw output: bench/results/audit-<ROWS>.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-10000000}
DAYS=${2:-300}
DB=${BENCH_DB:-ob_bench_audit}
PORT=${BENCH_PORT:-18086}
OUT=bench/results/audit-$ROWS.txt
mkdir -p bench/results
[ -f target/openbureau.jar ] || mvn -q -B -o -DskipTests package
CP=target/openbureau.jar  # the shaded jar carries every dependency
{
echo "# access-log bench $(date -u +%FT%TZ) rows=$ROWS days=$DAYS db=$DB"
if [ "${SKIP_FILL:-0}" != 1 ]; then
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
  java -cp "$CP" bench/audit/AccessLogFill.java "$DB" "$ROWS" "$DAYS" 4
fi
psql -h 127.0.0.1 -U postgres -d $DB -Atc "SELECT 'table size: ' || (SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits WHERE inhparent = 'access_log'::regclass) || ' (' || (SELECT count(*) FROM access_log) || ' rows)'" 2>/dev/null \
  || psql -h 127.0.0.1 -U postgres -d $DB -Atc "SELECT 'rows: ' || count(*) FROM access_log"
} | tee "$OUT"

BUREAU_POSTGRES_DATABASE=$DB PORT=$PORT BUREAU_HTTP_INSTANCES=2 java -Xmx256m -jar target/openbureau.jar serve \
  > /tmp/ob_bench_audit_server.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for i in $(seq 1 60); do curl -sf localhost:$PORT/health/live >/dev/null && break; sleep 1; done
TOKEN=$(java -jar target/openbureau.jar token --role compliance --sub bench-officer --ttl 7200)
python3 bench/audit/measure.py "http://127.0.0.1:$PORT" "$TOKEN" "$DB" "$SERVER" | tee -a "$OUT"
