# Shared by bench/scale.sh and bench/soak.sh: services, wrk, the jar, a seeded database, servers.
# Source it after setting N (borrowers), DB, PREFIX and WORK.
PSQL=(psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qAt)
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
SERVER_PIDS=()
WRK_PID=""
cleanup() {
  [ -n "$WRK_PID" ] && kill "$WRK_PID" 2>/dev/null || true
  for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  SERVER_PIDS=()
}
trap cleanup EXIT

prepare() {
  bash scripts/services.sh
  command -v wrk >/dev/null || { log "installing wrk"; apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
  if [ ! -f target/openbureau.jar ] || [ -n "$(find src pom.xml -newer target/openbureau.jar -print -quit)" ]; then
    log "building the jar"; mvn -q -B -Dstyle.color=never -DskipTests package
  fi
  mkdir -p "$WORK"
}

delete_prefix() {
  redis-cli -h 127.0.0.1 --scan --pattern "${PREFIX}*" \
    | awk '{ printf "*2\r\n$6\r\nUNLINK\r\n$%d\r\n%s\r\n", length($0), $0 }' \
    | redis-cli -h 127.0.0.1 --pipe >/dev/null
}

# start_server PORT LOGNAME: one bureau process (2 HTTP verticles) on the bench database; its pid in LAST_PID
start_server() {
  local port=$1 name=$2
  if curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then log "port $port is taken by another process"; exit 1; fi
  BUREAU_POSTGRES_DATABASE=$DB BUREAU_REDIS_KEY_PREFIX=$PREFIX PORT=$port BUREAU_HTTP_INSTANCES=2 \
    BUREAU_INQUIRY_RATE_LIMIT_PER_SECOND=1000000 BUREAU_INQUIRY_RATE_LIMIT_BURST=1000000 \
    java ${BENCH_JAVA_OPTS:--Xms512m -Xmx512m} -jar target/openbureau.jar serve > "$WORK/$name.log" 2>&1 &
  local pid=$!
  SERVER_PIDS+=("$pid")
  for _ in $(seq 1 240); do
    curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && { LAST_PID=$pid; return 0; }
    kill -0 "$pid" 2>/dev/null || { tail -30 "$WORK/$name.log" >&2; exit 1; }
    sleep 0.5
  done
  log "server on $port did not come up"; tail -30 "$WORK/$name.log" >&2; exit 1
}

# seed PORT: recreate the database, start a server on it, seed N borrowers, one warm-up pass
seed() {
  local port=$1
  log "recreating database $DB"
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
  delete_prefix
  start_server "$port" server-a; SERVER_A=$LAST_PID
  log "seeding $N borrowers"
  BENCH_PREFIX=$PREFIX python3 bench/seed_inquiry.py "$N" "$DB" "$IDS"
  TOKEN=$(java -jar target/openbureau.jar token --role lender --sub bench-lender --ttl 86400 2>/dev/null | tail -n 1)
  export BENCH_TOKEN=$TOKEN BENCH_IDS=$IDS
  log "warm-up pass over $N borrowers"
  # wrk's thread:stop() does not end the run: a run long enough for one pass at a few hundred per second
  BENCH_MODE=pass BENCH_THREADS=2 wrk -t2 -c16 -d$(( 5 + N / 300 ))s --timeout 10s -s bench/wrk/inquiry.lua \
    "http://127.0.0.1:$port/v1/inquiries" > "$WORK/warmup-pass.txt" 2>&1 || true
}

to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }
wrk_rps() { awk '/^Requests\/sec/ {print $2}' "$1"; }
wrk_p99() { to_ms "$(awk '$1 == "99%" {print $2}' "$1")"; }
wrk_non2xx() { local v; v=$(awk '/Non-2xx/ {print $NF}' "$1"); echo "${v:-0}"; }
wrk_errors() { awk '/Socket errors/ { for (i = 3; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) s += $i } END { print s + 0 }' "$1"; }
machine_load() { awk '{print $1"/"$2"/"$3}' /proc/loadavg; }
