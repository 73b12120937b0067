#!/usr/bin/env bash
# Inquiry hot-path benchmark (issues 5 and 12): POST /v1/inquiries driven by wrk, side by side
# with a floor server.
#
#   bench/inquiry.sh                      # issue 12's bars: cached, 5,000 borrowers, 1 and 32
#                                         # connections, floor and bureau alternating in one run,
#                                         # 3 repeats, then the bars table (bench/bars.py)
#   bench/inquiry.sh --profile            # the same, then a JFR run per connection count, the
#                                         # Redis/Postgres round trips and Redis's own time per script
#   bench/inquiry.sh --borrowers 100000 --conns "1 16 32" --only "floor hits cold" --repeat 1 --report
#                                         # the issue-5 run (rewrites its section of RESULTS.md)
#
# What one run does:
#  1. services (scripts/services.sh), wrk (apt-get when missing), the jar (mvn package when stale);
#  2. (re)creates the database ($DB, default ob_bench_inquiry_<N/1000>k, ob_bench_inquiry for 100k,
#     ob_bench_inquiry_1m for 1M), starts the server on it (Flyway makes the schema), seeds N
#     borrowers with COPY (bench/seed_inquiry.py: valid national ids, HMAC borrower keys, 1-3
#     tradelines, a score, an ACTIVE LOAN_ORIGINATION SCORE consent for the lender bench-lender
#     each); ids go to bench/work/ids-N.txt for wrk;
#  3. the floor server (bench/floor/FloorServer.java: parse the request, one Redis GET) runs next
#     to the bureau for the whole run;
#  4. cached: every borrower's cache entries in Redis first: up to 20,000 borrowers one inquiry per
#     borrower through the API (seconds; works whatever the server's Redis key layout), above that
#     the seed's prefill of the consent, score and window-marker entries (--prefill / --warm-pass
#     choose); a JIT warm-up (--jit-warmup s at 32 connections on both servers, discarded); then
#     --repeat times, per connection count: floor (warm-up + measured) and bureau (warm-up +
#     measured, random borrowers) back to back, so each pair sees the same machine load;
#  5. cold (only with --only "... cold"): at each connection count, every Redis key of the prefix
#     deleted right before the run. The run warms itself as it goes (each miss fills that
#     borrower), so it measures a mix of misses and, later in the run, hits (miss share from /metrics);
#  6. raw wrk outputs and summary.tsv in bench/results/inquiry-<N>-<timestamp>/, the bars table
#     (bench/bars.py: rps, p50, p99 and the ratios to the floor, median over the repeats) in
#     bars.md there and on stdout; with --report, bench/report_inquiry.py also rewrites the
#     "## Inquiry hot path (issue 5)" section of RESULTS.md from the latest run of each scenario;
#  7. with --profile: per connection count a JFR run (kind "profiled", not in the bars), its
#     aggregation (bench/jfr_top.py) in hits-c<C>-profile.txt, and bench/breakdown.sh in
#     breakdown.txt (Redis PING, Redis's own time per script from SLOWLOG, window sizes, the
#     access-log commit's two Postgres round trips timed by pgbench).
# Every measured run also records: the Redis EVALSHA calls and time per inquiry (INFO commandstats
# delta), the CPU per request of the server under test and of redis-server (/proc), and the
# access-log commit latency and batch size (server metrics). Set QUIET_WAIT=SECS to wait (up to that
# long, before each measured run) for the machine to drop under 35 % busy.
#
# Options: --borrowers N (5000)  --duration SECS (20)  --warmup SECS (5)  --conns "1 32"
#          --repeat R (3)  --jit-warmup SECS (15)  --db NAME  --port P (18080)
#          --floor-port P (18081)  --prefix obb:  --reuse (keep the seeded database and Redis
#          entries of a previous run with the same N)  --prefill  --warm-pass  --profile
#          --profile-secs SECS (40)  --only "floor hits" (add "cold" for the miss path)
#          --report  --no-report (default)
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

N=5000
DURATION=20
WARMUP=5
CONNS="1 32"
REPEAT=3
JIT_WARMUP=15
PROFILE_SECS=40
DB=""
PORT=18080
FLOOR_PORT=18081
PREFIX="obb:"
REUSE=""
PREFILL=""
PROFILE=""
ONLY="floor hits"
REPORT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --borrowers) N=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --jit-warmup) JIT_WARMUP=$2; shift 2 ;;
    --profile-secs) PROFILE_SECS=$2; shift 2 ;;
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
    --report) REPORT=1; shift ;;
    -h|--help) sed -n '2,50p' "$BENCH_ROOT/bench/inquiry.sh"; exit 0 ;;
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
# up to 20,000 borrowers the pass takes seconds and, going through the API, fills whatever the
# server's cache layout is (the seed's prefill writes today's key layout: a server whose Redis keys
# changed would start with misses), so it is the default there
if [ -z "$PREFILL" ]; then
  if [ "$N" -le 20000 ]; then PREFILL=0; else PREFILL=1; fi
fi
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
printf 'kind\tborrowers\tcache\tconns\tthreads\trps\tp50_ms\tp90_ms\tp99_ms\tmax_ms\tnon2xx\terrors\tmiss_share\tload\tcommit_ms\tbatch_rows\trep\tredis_evals_per_req\tredis_us_per_eval\tcpu_us_per_req\tredis_cpu_us_per_req\n' > "$SUMMARY"

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

# Redis server time in scripts: EVALSHA calls and usec so far (INFO commandstats; the whole Redis,
# so other work on it counts too: the per-request figure is only meaningful while wrk dominates)
redis_evals() {
  redis-cli -h 127.0.0.1 info commandstats | tr -d '\r' | awk -F'[:=,]' '/^cmdstat_evalsha:/ { c = $3; u = $5 } END { printf "%d %d\n", c, u }'
}
# $1 before, $2 after, $3 requests -> "evals/request<TAB>us/eval"
redis_delta() {
  echo "$1 $2 ${3:-0}" | awk '{ c = $3 - $1; u = $4 - $2; printf "%s\t%s", ($5 > 0) ? sprintf("%.2f", c / $5) : "-", (c > 0) ? sprintf("%.1f", u / c) : "-" }'
}
wrk_requests() { awk '/requests in/ {print $1}' "$1"; }
# CPU time (user + system, clock ticks) of a process so far, and of Redis; per request after a run
REDIS_PID=$(redis-cli -h 127.0.0.1 info server | tr -d '\r' | awk -F: '/^process_id:/ {print $2}')
ticks() { [ -n "$1" ] && [ -r "/proc/$1/stat" ] && awk '{ print $14 + $15 }' "/proc/$1/stat" || echo 0; }
cpu_now() { echo "$(ticks "$1") $(ticks "$REDIS_PID")"; }
# $1 before, $2 after (cpu_now), $3 requests -> "server us/req<TAB>redis us/req"
cpu_delta() {
  local hz; hz=$(getconf CLK_TCK)
  echo "$1 $2 ${3:-0} $hz" | awk '{ if ($5 > 0) printf "%.1f\t%.1f", ($3 - $1) * 1e6 / $6 / $5, ($4 - $2) * 1e6 / $6 / $5; else printf "-\t-" }'
}

record() {
  local kind=$1 cache=$2 conns=$3 file=$4 miss=${5:-} load=$6 audit=${7:--	-} redis=${8:--	-} cpu=${9:--	-} threads=1
  [ "$conns" -gt 1 ] && threads=2
  local rps p50 p90 p99 max non2xx errors
  rps=$(awk '/^Requests\/sec/ {print $2}' "$file")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$file")")
  p90=$(to_ms "$(awk '$1 == "90%" {print $2}' "$file")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$file")")
  max=$(to_ms "$(awk '$1 == "Latency" && NF >= 4 {print $4; exit}' "$file")")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$file"); non2xx=${non2xx:-0}
  errors=$(awk '/Socket errors/ {print $0}' "$file" | tr '\t' ' '); errors=${errors:-none}
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$N" "$cache" "$conns" "$threads" \
    "$rps" "$p50" "$p90" "$p99" "$max" "$non2xx" "$errors" "$miss" "$load" "$audit" "${REP:-1}" "$redis" "$cpu" >> "$SUMMARY"
  log "$kind $cache c=$conns rep ${REP:-1}: $rps rps p50 $p50 p90 $p90 p99 $p99 max $max ms (non-2xx $non2xx) $load; commit ms/batch rows: $audit; redis evals/req, us/eval: $redis; cpu us/req server, redis: $cpu"
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
  grep -q listening "$WORK/floor.log" || { log "floor server did not come up"; tail -20 "$WORK/floor.log" >&2; exit 1; }
fi
# the floor's measured run at $1 connections (right before the bureau's at the same count)
floor_run() {
  local c=$1 sfx=$2 l
  run_wrk "floor-c$c$sfx-warmup" "$FLOOR_PORT" "$c" "$WARMUP"
  l=$(load_now)
  local cb; cb=$(cpu_now "$FLOOR_PID")
  run_wrk "floor-c$c$sfx" "$FLOOR_PORT" "$c" "$DURATION"
  record floor - "$c" "$OUT/floor-c$c$sfx.txt" "" "$l" "-	-" "-	-" \
    "$(cpu_delta "$cb" "$(cpu_now "$FLOOR_PID")" "$(wrk_requests "$OUT/floor-c$c$sfx.txt")")"
}

# 4. cached
warm=0
# only a reused run skips the warm-up: a fresh server publishes every score to Redis at start,
# so score entries alone do not show that consents and windows are cached
if [[ " $ONLY " == *" hits "* ]] && [ -n "$REUSE" ]; then
  cached=$(redis-cli -h 127.0.0.1 --scan --pattern "${PREFIX}{b:*}:inq:ready" | wc -l)
  [ "$cached" -ge "$N" ] && { warm=1; log "$cached window markers cached already: no warm-up pass"; }
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
if [ "$JIT_WARMUP" -gt 0 ]; then
  log "JIT warm-up: $JIT_WARMUP s at 32 connections on each server (discarded)"
  [[ " $ONLY " == *" floor "* ]] && run_wrk "floor-jit-warmup" "$FLOOR_PORT" 32 "$JIT_WARMUP"
  [[ " $ONLY " == *" hits "* ]] && run_wrk "hits-jit-warmup" "$PORT" 32 "$JIT_WARMUP"
fi
if [[ " $ONLY " == *" hits "* ]] || [[ " $ONLY " == *" floor "* ]]; then
  for REP in $(seq 1 "$REPEAT"); do
    sfx=""; [ "$REPEAT" -gt 1 ] && sfx="-r$REP"
    for c in $CONNS; do
      [[ " $ONLY " == *" floor "* ]] && floor_run "$c" "$sfx"
      [[ " $ONLY " == *" hits "* ]] || continue
      run_wrk "hits-c$c$sfx-warmup" "$PORT" "$c" "$WARMUP"
      l=$(load_now)
      before=$(cache_counts); abefore=$(audit_counts); rbefore=$(redis_evals); cb=$(cpu_now "$SERVER_PID")
      run_wrk "hits-c$c$sfx" "$PORT" "$c" "$DURATION"
      ca=$(cpu_now "$SERVER_PID"); after=$(cache_counts); aafter=$(audit_counts); rafter=$(redis_evals)
      miss=$(echo "$before $after" | awk '{ h = $3 - $1; m = $4 - $2; printf "%.4f", (h + m) ? m / (h + m) : 0 }')
      record inquiry hits "$c" "$OUT/hits-c$c$sfx.txt" "$miss" "$l" "$(audit_delta "$abefore" "$aafter")" \
        "$(redis_delta "$rbefore" "$rafter" "$(wrk_requests "$OUT/hits-c$c$sfx.txt")")" \
        "$(cpu_delta "$cb" "$ca" "$(wrk_requests "$OUT/hits-c$c$sfx.txt")")"
    done
  done
  REP=""
fi
if [[ " $ONLY " == *" hits "* ]] && [ -n "$PROFILE" ]; then
  for c in $CONNS; do
    # a separate run under JFR per connection count (kind "profiled", not in the bars: a recording
    # costs throughput on 2 cores); execution samples every 10 ms (profile settings)
    l=$(load_now)
    abefore=$(audit_counts); rbefore=$(redis_evals)
    jcmd "$SERVER_PID" JFR.start name=bench settings=profile filename="$OUT/hits-c$c.jfr" >/dev/null
    sleep 2
    run_wrk "hits-c$c-profiled" "$PORT" "$c" "$PROFILE_SECS"
    jcmd "$SERVER_PID" JFR.stop name=bench >/dev/null
    aafter=$(audit_counts); rafter=$(redis_evals)
    record profiled hits "$c" "$OUT/hits-c$c-profiled.txt" "" "$l" "$(audit_delta "$abefore" "$aafter")" \
      "$(redis_delta "$rbefore" "$rafter" "$(wrk_requests "$OUT/hits-c$c-profiled.txt")")"
    jfr print --events jdk.ExecutionSample --stack-depth 64 "$OUT/hits-c$c.jfr" | python3 bench/jfr_top.py 25 \
      > "$OUT/hits-c$c-profile.txt"
  done
  # the round trips on their own: Redis PING and each script, Postgres's two commit round trips
  BENCH_PORT=$PORT BENCH_PREFIX=$PREFIX BENCH_IDS=$IDS bash bench/breakdown.sh > "$OUT/breakdown.txt" 2>&1 || true
  cat "$OUT/breakdown.txt" >&2
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

if [[ " $ONLY " == *" floor "* ]] && [[ " $ONLY " == *" hits "* ]]; then
  python3 bench/bars.py "$SUMMARY" | tee "$OUT/bars.md"
fi
if [ -n "$REPORT" ]; then
  python3 bench/report_inquiry.py
fi
