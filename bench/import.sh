#!/usr/bin/env bash
# Batch-ingestion benchmark through the import command, which runs the same code as
# POST /v1/furnishing/batches (furnishing.BatchIngest): N synthetic tradeline lines (default
# 1,000,000, about N/3.3 people) into a fresh database, recording lines/s and peak heap.
#
#   bench/import.sh [N] [MAX_HEAP]        e.g. bench/import.sh 1000000 512m  (MAX_HEAP default 512m)
#   JAVA_OPTS=-XX:StartFlightRecording=filename=/tmp/ingest.jfr bench/import.sh 100000   (profile)
#
# Uses its own database ob_bench_ingest (dropped and recreated) and Redis key prefix obbench:
# (deleted first), so it never touches the tests' or the dev server's data. Writes
# bench/results/import-N.{txt,progress.txt,gc.txt,time}; the last line of import-N.txt is the result.
# Peak heap: the largest heap occupancy the GC log shows (G1 collects when the heap fills, so the
# "before" figure of a collection is the peak between two collections), and the largest occupancy
# right after a collection (an upper bound of what the import holds; with a small -Xmx it also
# counts old garbage G1 has not reclaimed yet).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
HEAP=${2:-512m}
DB=ob_bench_ingest
PREFIX=obbench:
MEMBER=bench-lender
bash scripts/services.sh
if [ ! -f target/openbureau.jar ] || [ -n "$(find src pom.xml -newer target/openbureau.jar -print -quit)" ]; then
  mvn -q -B -DskipTests package
fi
export BUREAU_POSTGRES_DATABASE=$DB BUREAU_REDIS_KEY_PREFIX=$PREFIX
mkdir -p bench/results
out=bench/results/import-$N
file=$out.ndjson.tmp
trap 'rm -f "$file" "$file.empty"' EXIT

psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
redis-cli -h 127.0.0.1 --scan --pattern "$PREFIX*" | xargs -r -n 1000 redis-cli -h 127.0.0.1 del >/dev/null
python3 bench/gen_ndjson.py "$N" > "$file"
# the import command creates and migrates the database, then refuses the unknown member (status 3)
: > "$file.empty"
java -jar target/openbureau.jar import --member $MEMBER "$file.empty" >/dev/null 2>&1 || [ $? = 3 ]
psql -q -h 127.0.0.1 -U postgres -d $DB -c "INSERT INTO members (id, name) VALUES ('$MEMBER', 'Benchmark lender')"

rm -f "$out".gc.txt*
set +e
/usr/bin/time -f 'max_rss_kb=%M cpu_user_s=%U cpu_sys_s=%S wall_s=%e' -o "$out.time" \
  java ${JAVA_OPTS:-} -Xmx"$HEAP" -Xlog:gc:file="$out.gc.txt" -jar target/openbureau.jar import --member $MEMBER "$file" \
  > "$out.txt" 2> "$out.progress.txt"
status=$?
set -e
cat "$out.txt"
[ $status -le 1 ] || { echo "import failed with status $status; see $out.progress.txt" >&2; exit $status; }

people=$(psql -Atq -h 127.0.0.1 -U postgres -d $DB -c "SELECT count(*) FROM scores")
tradelines=$(psql -Atq -h 127.0.0.1 -U postgres -d $DB -c "SELECT count(*) FROM tradelines")
cached=$(redis-cli -h 127.0.0.1 --scan --pattern "$PREFIX*:score" | wc -l)
peak=$(grep -o '[0-9]*M->[0-9]*M' "$out.gc.txt" | awk -F'M->|M' 'BEGIN{p=0;l=0} {if ($1>p) p=$1; if ($2>l) l=$2} END{print p "MB max_after_gc=" l "MB"}')
secs=$(awk '/^seconds/ {print $2}' "$out.txt")
rate=$(awk '/^lines\/s/ {print $2}' "$out.txt")
echo "date=$(date -u +%FT%TZ) lines=$N people=$people tradelines=$tradelines cached_scores=$cached seconds=$secs lines_per_second=$rate peak_heap_used=$peak xmx=$HEAP $(cat "$out.time")" \
  | tee -a "$out.txt"
