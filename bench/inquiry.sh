#!/usr/bin/env bash
# Inquiry hot-path benchmark (issue 5): POST /v1/inquiries driven by wrk, against a floor server.
#
#   bench/inquiry.sh                      # 100,000 borrowers, all scenarios, then RESULTS.md
#   bench/inquiry.sh --borrowers 1000000  # the 1M run (its own database)
#
# What one run does:
#  1. services (scripts/services.sh), wrk (apt-get when missing), the jar (mvn package when stale);
#  2. (re)creates the database ($DB, default ob_bench_inquiry, ob_bench_inquiry_1m for 1M), starts
#     the server on it (Flyway makes the schema), seeds N borrowers with COPY (bench/seed_inquiry.py:
#     valid national ids, HMAC borrower keys, 1-3 tradelines, a score, an ACTIVE LOAN_ORIGINATION
#     SCORE consent for the lender bench-lender each); ids go to bench/work/ids-N.txt for wrk;
#  3. the floor server (bench/floor/FloorServer.java: parse the request, one Redis GET) at 1/16/32
#     connections;
#  4. cached: every borrower's cache entries in Redis first (the seed's prefill of the consent,
#     score and window-marker entries, or --warm-pass: one inquiry per borrower through the API),
#     then at 1/16/32 connections a discarded warm-up run and a measured run of random borrowers;
#  5. cold: at 1/16/32 connections, every Redis key of the prefix deleted right before the run.
#     The run warms itself as it goes (each miss fills that borrower), so it measures a mix of
#     misses and, later in the run, hits: the share of misses is reported from /metrics;
#  6. raw wrk outputs and summary.tsv in bench/results/inquiry-<N>-<timestamp>/, then
#     bench/report_inquiry.py rewrites the "## Inquiry hot path (issue 5)" section of RESULTS.md
#     from the latest run of each scenario (so a noisy scenario can be re-run alone:
#     --reuse --only hits --conns 16).
#
# Options: --borrowers N  --duration SECS (20)  --warmup SECS (5)  --conns "1 16 32"
#          --db NAME  --port P (18080)  --floor-port P (18081)  --prefix obb:  --reuse (keep the
#          seeded database and Redis entries of a previous run with the same N)  --warm-pass
#          --profile (an extra 32-connection cached run under JFR)  --only "floor hits cold"  --no-report
# The server runs with its rate limit raised (no throttling), 2 HTTP instances, log in bench/work/.
set -euo pipefail
# run from a snapshot, so editing this file while a run is going does not derail that run
if [ -z "${BENCH_SNAPSHOT:-}" ]; then
  snap=$(mktemp /tmp/inquiry-bench.XXXXXX.sh); cp "$0" "$snap"
  BENCH_SNAPSHOT=$snap BENCH_ROOT=$(cd "$(dirname "$0")/.." && pwd) exec bash "$snap" "$@"
fi
rm -f "$BENCH_SNAPSHOT"
cd "$BENCH_ROOT"
ROOT=$(pwd)

N=100000
DURATION=20
WARMUP=5
CONNS="1 16 32"
DB=""
PORT=18080
FLOOR_PORT=18081
PREFIX="obb:"
REUSE=""
PREFILL=""
PROFILE=""
ONLY="floor hits cold"
REPORT=1
while [ $# -gt 0 ]; do
  case "$1" in
    --borrowers) N=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --db) DB=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --floor-port) FLOOR_PORT=$2; shift 2 ;;
    --prefix) PREFIX=$2; shift 2 ;;
    --reuse) REUSE=1; shift ;;
    --prefill) PREFILL=1; shift ;;
    --warm-pass) PREFILL=0; shift ;;
    --profile) PROFILE=1; shift ;;
    --only) ONLY=$2; shift 2 ;;
    --no-report) REPORT=""; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -z "$DB" ]; then
  if [ "$N" = 100000 ]; then DB=ob_bench_inquiry; else DB=ob_bench_inquiry_$(( N / 1000 ))k; fi
  [ "$N" = 1000000 ] && DB=ob_bench_inquiry_1m
fi
# cached runs start from the seed script's Redis prefill (exactly the entries a miss would fill;
# the miss share measured during each run shows they are taken); --warm-pass asks every borrower
# once through the API instead (331 s for 100k on the loaded machine, impractical for 1M)
[ -z "$PREFILL" ] && PREFILL=1
case "$PREFIX" in ob:*|"") echo "refusing prefix '$PREFIX' (the development server's)" >&2; exit 2 ;; esac

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
WORK=$ROOT/bench/work
mkdir -p "$WORK"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$ROOT/bench/results/inquiry-$N-$STAMP
mkdir -p "$OUT"
IDS=$WORK/ids-$N.txt
PREFILL_FILE=$WORK/prefill-$N.resp
SUMMARY=$OUT/summary.tsv
printf 'kind\tborrowers\tcache\tconns\tthreads\trps\tp50_ms\tp90_ms\tp99_ms\tmax_ms\tnon2xx\terrors\tmiss_share\tload\tcommit_ms\tbatch_rows\n' > "$SUMMARY"

SERVER_PID=""
FLOOR_PID=""
WRK_PID=""
cleanup() {
  [ -n "$WRK_PID" ] && kill "$WRK_PID" 2>/dev/null || true
  [ -n "$FLOOR_PID" ] && kill "$FLOOR_PID" 2>/dev/null || true
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

# 1. tools and services
bash scripts/services.sh
command -v wrk >/dev/null || { log "installing wrk"; apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
if [ ! -f target/openbureau.jar ] || [ -n "$(find src pom.xml -newer target/openbureau.jar -print -quit)" ]; then
  log "building the jar"
  mvn -q -B -DskipTests package
fi
PSQL=(psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qAt)

delete_prefix() {
  # every key of this benchmark's prefix (never anything else)
  redis-cli -h 127.0.0.1 --scan --pattern "${PREFIX}*" \
    | awk '{ printf "*2\r\n$6\r\nUNLINK\r\n$%d\r\n%s\r\n", length($0), $0 }' \
    | redis-cli -h 127.0.0.1 --pipe >/dev/null
}

start_server() {
  log "starting the server on :$PORT (database $DB, prefix $PREFIX)"
  BUREAU_POSTGRES_DATABASE=$DB BUREAU_REDIS_KEY_PREFIX=$PREFIX PORT=$PORT BUREAU_HTTP_INSTANCES=2 \
    BUREAU_INQUIRY_RATE_LIMIT_PER_SECOND=1000000 BUREAU_INQUIRY_RATE_LIMIT_BURST=1000000 \
    java ${BENCH_JAVA_OPTS:--Xms1g -Xmx1g} -jar target/openbureau.jar serve > "$WORK/server-$N.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$PORT/health/live" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -30 "$WORK/server-$N.log" >&2; exit 1; }
    sleep 0.5
  done
  log "server did not come up"; tail -30 "$WORK/server-$N.log" >&2; exit 1
}

# 2. database, server, seed
seeded=$("${PSQL[@]}" -d "$DB" -c "select count(*) from scores" 2>/dev/null || echo 0)
if [ -n "$REUSE" ] && [ "$seeded" = "$N" ] && [ -s "$IDS" ]; then
  log "reusing $DB ($N borrowers; Redis entries of $PREFIX kept)"
  start_server
else
  log "recreating database $DB"
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
  delete_prefix
  start_server
  log "seeding $N borrowers"
  t0=$(date +%s)
  BENCH_PREFILL=$PREFILL_FILE BENCH_PREFIX=$PREFIX python3 bench/seed_inquiry.py "$N" "$DB" "$IDS"
  log "seeded in $(( $(date +%s) - t0 )) s: $("${PSQL[@]}" -d "$DB" -c "select (select count(*) from scores) || ' scores, ' || (select count(*) from tradelines) || ' tradelines, ' || (select count(*) from consents) || ' consents'")"
fi
TOKEN=$(java -jar target/openbureau.jar token --role lender --sub bench-lender --ttl 86400 2>/dev/null | tail -n 1)
export BENCH_TOKEN=$TOKEN BENCH_IDS=$IDS
first=$(head -n 1 "$IDS")
probe=$(curl -s -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"nationalId\":\"$first\",\"purpose\":\"LOAN_ORIGINATION\"}" "http://127.0.0.1:$PORT/v1/inquiries")
echo "$probe" | grep -q '"consentId"' || { log "probe inquiry not granted: $probe"; exit 1; }
log "probe inquiry granted"

inquiries_total() {
  curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^bureau_inquiries_total/ { t += $NF } END { printf "%d\n", t }'
}

# metrics: access-log commits (count, seconds, rows) for the mean commit latency and batch size
audit_counts() {
  curl -s "http://127.0.0.1:$PORT/metrics" | awk '
    /^bureau_audit_commit_seconds_count/ { c = $NF } /^bureau_audit_commit_seconds_sum/ { s = $NF }
    /^bureau_audit_batch_rows_sum/ { r = $NF } END { printf "%d %.6f %d\n", c, s, r }'
}
audit_delta() {
  echo "$1 $2" | awk '{ c = $4 - $1; printf "%s\t%s", c ? sprintf("%.2f", 1000 * ($5 - $2) / c) : "-", c ? sprintf("%.1f", ($6 - $3) / c) : "-" }'
}

# metrics: inquiries answered after a fill (miss) vs from Redis alone (hit)
cache_counts() {
  curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^bureau_inquiry_cache_total/ {
      if ($0 ~ /result="hit"/) h += $NF; else if ($0 ~ /result="miss"/) m += $NF }
    END { printf "%d %d\n", h, m }'
}

# one wrk run; $1 label $2 url-port $3 conns $4 secs; extra env for the Lua script passes through
run_wrk() {
  local label=$1 port=$2 conns=$3 secs=$4 threads=1
  [ "$conns" -gt 1 ] && threads=2
  BENCH_THREADS=$threads wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 10s --latency \
    -s bench/wrk/inquiry.lua "http://127.0.0.1:$port/v1/inquiries" > "$OUT/$label.txt" 2>&1 || true
}

# wrk latency "123.45us" / "1.23ms" / "1.2s" -> ms
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }

record() {
  local kind=$1 cache=$2 conns=$3 file=$4 miss=${5:-} load=$6 audit=${7:--	-} threads=1
  [ "$conns" -gt 1 ] && threads=2
  local rps p50 p90 p99 max non2xx errors
  rps=$(awk '/^Requests\/sec/ {print $2}' "$file")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$file")")
  p90=$(to_ms "$(awk '$1 == "90%" {print $2}' "$file")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$file")")
  max=$(to_ms "$(awk '$1 == "Latency" && NF >= 4 {print $4; exit}' "$file")")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$file"); non2xx=${non2xx:-0}
  errors=$(awk '/Socket errors/ {print $0}' "$file" | tr '\t' ' '); errors=${errors:-none}
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$N" "$cache" "$conns" "$threads" \
    "$rps" "$p50" "$p90" "$p99" "$max" "$non2xx" "$errors" "$miss" "$load" "$audit" >> "$SUMMARY"
  log "$kind $cache c=$conns: $rps rps p50 $p50 p90 $p90 p99 $p99 max $max ms (non-2xx $non2xx) $load; commit ms/batch rows: $audit"
}

# machine load before a run: load average and the CPU busy share over the last 2 s (our server idle
# then, so that is the other engineers' work); with QUIET_WAIT=secs, wait up to that long for the
# busy share to drop under 35 %
cpu_busy() {
  local a b
  a=($(head -n 1 /proc/stat)); sleep 2; b=($(head -n 1 /proc/stat))
  local total=0 idle i
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
  idle=$(( b[4] - a[4] + b[5] - a[5] ))
  echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}
QUIET_WAIT=${QUIET_WAIT:-0}
load_now() {
  local busy waited=0
  busy=$(cpu_busy)
  while [ "$busy" -ge 35 ] && [ "$waited" -lt "$QUIET_WAIT" ]; do sleep 3; waited=$(( waited + 5 )); busy=$(cpu_busy); done
  echo "load $(awk '{print $1"/"$2"/"$3}' /proc/loadavg), busy ${busy}%"
}

# 3. floor server
if [[ " $ONLY " == *" floor "* ]]; then
  FLOOR_PORT=$FLOOR_PORT FLOOR_INSTANCES=2 FLOOR_KEY="${PREFIX}floor" \
    java ${BENCH_JAVA_OPTS:--Xms1g -Xmx1g} -cp target/openbureau.jar bench/floor/FloorServer.java > "$WORK/floor.log" 2>&1 &
  FLOOR_PID=$!
  for _ in $(seq 1 60); do grep -q listening "$WORK/floor.log" 2>/dev/null && break; sleep 0.5; done
  for c in $CONNS; do
    run_wrk "floor-c$c-warmup" "$FLOOR_PORT" "$c" "$WARMUP"
    l=$(load_now)
    run_wrk "floor-c$c" "$FLOOR_PORT" "$c" "$DURATION"
    record floor - "$c" "$OUT/floor-c$c.txt" "" "$l"
  done
  kill "$FLOOR_PID"; wait "$FLOOR_PID" 2>/dev/null || true; FLOOR_PID=""
fi

# 4. cached
warm=0
if [[ " $ONLY " == *" hits "* ]]; then
  cached=$(redis-cli -h 127.0.0.1 --scan --pattern "${PREFIX}{b:*}:score" | wc -l)
  [ "$cached" -ge "$N" ] && { warm=1; log "$cached score entries cached already: no warm-up pass"; }
fi
if [ "$PREFILL" = 1 ] && [ ! -s "$PREFILL_FILE" ]; then
  log "no prefill file $PREFILL_FILE (seeded without it): warm-up pass instead"; PREFILL=0
fi
if [[ " $ONLY " == *" hits "* ]] && [ "$warm" = 0 ] && [ "$PREFILL" = 1 ]; then
  log "prefilling Redis for $N borrowers (instead of a warm-up pass)"
  redis-cli -h 127.0.0.1 --pipe < "$PREFILL_FILE" | tail -n 1 >&2
fi
if [[ " $ONLY " == *" hits "* ]] && [ "$warm" = 0 ] && [ "$PREFILL" = 0 ]; then
  log "warm-up pass over all $N borrowers"
  t0=$(date +%s)
  # wrk's thread:stop() does not end a run early: watch the server's inquiry count and stop wrk
  # once every borrower was asked once
  base=$(inquiries_total)
  BENCH_MODE=pass BENCH_THREADS=2 wrk -t2 -c16 -d3600s --timeout 10s -s bench/wrk/inquiry.lua \
    "http://127.0.0.1:$PORT/v1/inquiries" > "$OUT/warmup-pass.txt" 2>&1 &
  WRK_PID=$!
  while kill -0 "$WRK_PID" 2>/dev/null; do
    [ $(( $(inquiries_total) - base )) -ge "$N" ] && break
    sleep 1
  done
  kill "$WRK_PID" 2>/dev/null || true; wait "$WRK_PID" 2>/dev/null || true; WRK_PID=""
  log "warm-up pass: $(( $(inquiries_total) - base )) inquiries in $(( $(date +%s) - t0 )) s"
fi
if [[ " $ONLY " == *" hits "* ]]; then
  for c in $CONNS; do
    run_wrk "hits-c$c-warmup" "$PORT" "$c" "$WARMUP"
    l=$(load_now)
    before=$(cache_counts); abefore=$(audit_counts)
    run_wrk "hits-c$c" "$PORT" "$c" "$DURATION"
    after=$(cache_counts); aafter=$(audit_counts)
    miss=$(echo "$before $after" | awk '{ h = $3 - $1; m = $4 - $2; printf "%.4f", (h + m) ? m / (h + m) : 0 }')
    record inquiry hits "$c" "$OUT/hits-c$c.txt" "$miss" "$l" "$(audit_delta "$abefore" "$aafter")"
  done
  if [ -n "$PROFILE" ]; then
    # a separate 32-connection run under JFR (recorded as kind "profiled", not as the scenario's row:
    # starting a recording and its events cost throughput on 2 cores)
    l=$(load_now)
    abefore=$(audit_counts)
    jcmd "$SERVER_PID" JFR.start name=bench settings=profile filename="$OUT/hits-c32.jfr" >/dev/null
    sleep 2
    run_wrk "hits-c32-profiled" "$PORT" 32 "$DURATION"
    jcmd "$SERVER_PID" JFR.stop name=bench >/dev/null
    aafter=$(audit_counts)
    record profiled hits 32 "$OUT/hits-c32-profiled.txt" "" "$l" "$(audit_delta "$abefore" "$aafter")"
    jfr print --events jdk.ExecutionSample --stack-depth 64 "$OUT/hits-c32.jfr" | python3 bench/jfr_top.py 15 \
      > "$OUT/hits-c32-profile.txt"
  fi
fi

# 5. cold
if [[ " $ONLY " == *" cold "* ]]; then
  for c in $CONNS; do
    log "deleting every ${PREFIX}* key"
    l=$(load_now)
    delete_prefix
    before=$(cache_counts); abefore=$(audit_counts)
    run_wrk "cold-c$c" "$PORT" "$c" "$DURATION"
    after=$(cache_counts); aafter=$(audit_counts)
    miss=$(echo "$before $after" | awk '{ h = $3 - $1; m = $4 - $2; printf "%.4f", (h + m) ? m / (h + m) : 0 }')
    record inquiry cold "$c" "$OUT/cold-c$c.txt" "$miss" "$l" "$(audit_delta "$abefore" "$aafter")"
  done
fi

# access log: every 200 has its row (count rows vs granted answers is in the server metrics)
"${PSQL[@]}" -d "$DB" -c "select 'access_log rows: ' || count(*) from access_log" | tee "$OUT/access-log.txt" >&2
curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^bureau_(audit|inquiries|inquiry_cache)' > "$OUT/metrics.txt" || true
cp "$WORK/server-$N.log" "$OUT/server.log"
log "results in $OUT"
cleanup; SERVER_PID=""
trap - EXIT

if [ -n "$REPORT" ]; then
  python3 bench/report_inquiry.py
fi
