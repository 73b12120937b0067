#!/usr/bin/env bash
# Batch-ingestion benchmark: N tradeline lines (default 1,000,000, ~N/3.3 people) posted as one
# streamed NDJSON batch to a running server (scripts/run.sh), reporting lines/s.
# usage: bench/ingest.sh [N] [base-url]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
BASE=${2:-http://localhost:8080}
mkdir -p bench/results
file=bench/results/ingest-$N.ndjson.tmp
python3 bench/gen_ndjson.py "$N" > "$file"
TOKEN=$(java -jar target/openbureau.jar token --role lender --sub lender-a 2>/dev/null)
start=$(date +%s.%N)
curl -s -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/x-ndjson' \
  --data-binary @"$file" "$BASE/v1/furnishing/batches" -o bench/results/ingest-$N.json
end=$(date +%s.%N)
secs=$(echo "$end - $start" | bc)
echo "lines=$N seconds=$secs lines_per_second=$(echo "$N / $secs" | bc) result=$(head -c 200 bench/results/ingest-$N.json)" \
  | tee bench/results/ingest-$N.txt
rm -f "$file"
