#!/usr/bin/env bash
# Where a cached inquiry's time goes outside the server's CPU (issue 12), measured against a running
# bench server (bench/inquiry.sh --profile calls it; it can also run alone while a server runs):
#  1. Redis round trip: redis-benchmark PING at 1 connection (p50), i.e. the cost of one hop;
#  2. Redis's own time per script: SLOWLOG with a 0 us threshold for a short 1-connection wrk run
#     (thresholds restored afterwards), grouped by script (SHA-1 of src/main/resources/lua/*.lua):
#     calls, mean, p50, p99 of the time Redis spent executing each one; then the window sizes
#     (ZCARD of a sample of {b:...}:inq sorted sets, the set inquiry.lua scans);
#  3. Postgres: the access-log commit's two round trips as the AuditWriter makes them (round trip
#     1: BEGIN + set_config limits + INSERT of the batch, pipelined; round trip 2: deadline check +
#     COMMIT, pipelined; synchronous_commit on), by pgbench at 1 client on a scratch database
#     (ob_bench_rtt, dropped afterwards) with a copy of access_log and its 5 indexes, 1 row per
#     batch (the 1-connection case) and 6 rows (the 32-connection batch size); plus SELECT 1.
# env: BENCH_PORT (18080), BENCH_TOKEN, BENCH_IDS (wrk inputs, as bench/inquiry.sh exports them),
#      BENCH_PREFIX (obb:), BREAKDOWN_SECS (5)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PORT=${BENCH_PORT:-18080}
PREFIX=${BENCH_PREFIX:-obb:}
SECS=${BREAKDOWN_SECS:-5}
PSQL=(psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qAt)
TMP=$(mktemp -d /tmp/breakdown.XXXXXX)
RTT_DB=ob_bench_rtt

echo "## Redis round trip (redis-benchmark PING, 1 connection)"
redis-benchmark -h 127.0.0.1 -c 1 -n 20000 -q -t ping 2>/dev/null | tr '\r' '\n' | grep -v '^$' | tail -n 2

if [ -n "${BENCH_TOKEN:-}" ] && [ -n "${BENCH_IDS:-}" ]; then
  echo
  echo "## Redis time per script (SLOWLOG at 0 us during a ${SECS} s 1-connection run)"
  old_slower=$(redis-cli -h 127.0.0.1 config get slowlog-log-slower-than | tail -n 1)
  old_len=$(redis-cli -h 127.0.0.1 config get slowlog-max-len | tail -n 1)
  redis-cli -h 127.0.0.1 config set slowlog-max-len 200000 >/dev/null
  redis-cli -h 127.0.0.1 slowlog reset >/dev/null
  redis-cli -h 127.0.0.1 config set slowlog-log-slower-than 0 >/dev/null
  BENCH_THREADS=1 wrk -t1 -c1 -d"${SECS}s" --timeout 10s -s bench/wrk/inquiry.lua "http://127.0.0.1:$PORT/v1/inquiries" \
    > "$TMP/wrk.txt" 2>&1
  # the cost of a script as such: an empty one and one GET, 200 each, in the same log
  redis-cli -h 127.0.0.1 -r 200 eval "return 1" 0 >/dev/null
  redis-cli -h 127.0.0.1 -r 200 eval "return redis.call('GET', KEYS[1])" 1 "${PREFIX}breakdown-none" >/dev/null
  redis-cli -h 127.0.0.1 config set slowlog-log-slower-than "$old_slower" >/dev/null
  redis-cli -h 127.0.0.1 -2 --json slowlog get 200000 > "$TMP/slowlog.json"
  redis-cli -h 127.0.0.1 config set slowlog-max-len "$old_len" >/dev/null
  redis-cli -h 127.0.0.1 slowlog reset >/dev/null
  echo "wrk: $(awk '/requests in/' "$TMP/wrk.txt")"
  python3 - "$TMP/slowlog.json" "$(awk '/requests in/ {print $1}' "$TMP/wrk.txt")" <<'PY'
import hashlib, json, glob, os, statistics, sys
names = {}
for f in glob.glob("src/main/resources/lua/*.lua"):
    names[hashlib.sha1(open(f, "rb").read()).hexdigest()] = os.path.basename(f)
entries = json.load(open(sys.argv[1]))
reqs = int(sys.argv[2] or 0)
by = {}
for e in entries:
    # [id, timestamp, micros, [args...], client, name]
    args = e[3]
    cmd = args[0].lower() if args else "?"
    key = cmd
    if cmd == "evalsha" and len(args) > 1:
        key = "evalsha " + names.get(args[1], args[1][:10])
    elif cmd == "eval":
        key = "eval " + repr(args[1][:40])
    by.setdefault(key, []).append(int(e[2]))
print(f"{len(entries)} commands logged, {reqs} inquiries answered in the run")
print("| command | calls | calls/inquiry | mean us | p50 us | p99 us | total ms |")
print("|---|---|---|---|---|---|---|")
for k, v in sorted(by.items(), key=lambda kv: -sum(kv[1])):
    v.sort()
    p99 = v[min(len(v) - 1, int(0.99 * len(v)))]
    print(f"| {k} | {len(v)} | {len(v) / reqs if reqs else 0:.2f} | {statistics.mean(v):.1f} | {statistics.median(v):.0f} | {p99} | {sum(v) / 1000:.1f} |")
PY
  echo
  echo "## Window sizes (ZCARD of up to 500 ${PREFIX}{b:*}:inq sets)"
  redis-cli -h 127.0.0.1 --scan --pattern "${PREFIX}{b:*}:inq" | head -n 500 > "$TMP/wkeys"
  if [ -s "$TMP/wkeys" ]; then
    awk '{ printf "ZCARD %s\n", $0 }' "$TMP/wkeys" | redis-cli -h 127.0.0.1 | sort -n \
      | awk '{ a[NR] = $1; s += $1 } END { printf "sets %d, mean %.1f, p50 %d, p99 %d, max %d entries\n", NR, s / NR, a[int(NR / 2) + 1], a[(int(NR * 0.99) + 1 > NR) ? NR : int(NR * 0.99) + 1], a[NR] }'
  fi
fi

echo
echo "## Postgres: the access-log commit's two round trips (pgbench, 1 client, synchronous_commit on)"
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $RTT_DB WITH (FORCE)" 2>/dev/null
"${PSQL[@]}" -d postgres -c "CREATE DATABASE $RTT_DB"
"${PSQL[@]}" -d "$RTT_DB" -c "
CREATE SEQUENCE al_id_seq CACHE 100; CREATE SEQUENCE al_seq;
CREATE TABLE al (id bigint NOT NULL, at timestamptz NOT NULL, chain_id text NOT NULL, chain_seq bigint NOT NULL,
  action text NOT NULL, actor_role text NOT NULL, actor_id text, lender_id text, borrower_key bytea, purpose text,
  scope text, decision text NOT NULL, reason text, consent_id uuid, request_id text, score_value integer,
  details jsonb, prev_hash bytea NOT NULL, row_hash bytea NOT NULL, hash_version smallint NOT NULL DEFAULT 3,
  details_json json, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE al_now PARTITION OF al FOR VALUES FROM (now() - interval '1 day') TO (now() + interval '30 days');
CREATE INDEX al_borrower ON al (borrower_key, at DESC, id DESC);
CREATE INDEX al_lender ON al (lender_id, at DESC, id DESC);
CREATE INDEX al_at ON al (at DESC, id DESC);
CREATE INDEX al_chain ON al (chain_id, chain_seq);"
for rows in 1 6; do
  cat > "$TMP/commit-$rows.sql" <<SQL
\\startpipeline
BEGIN;
SELECT set_config('statement_timeout', '2000', true), set_config('idle_in_transaction_session_timeout', '2000', true), set_config('openbureau.batch', 'b1', true);
INSERT INTO al (id, at, chain_id, chain_seq, action, actor_role, actor_id, lender_id, borrower_key, purpose, scope, decision, reason, consent_id, request_id, score_value, details_json, details, prev_hash, row_hash, hash_version) SELECT nextval('al_id_seq'), clock_timestamp(), 'rtt-chain', nextval('al_seq'), 'INQUIRY', 'lender', 'bench-lender', 'bench-lender', sha256(random()::text::bytea), 'LOAN_ORIGINATION', 'SCORE', 'GRANTED', NULL, gen_random_uuid(), md5(random()::text), 650, '{"fields":["nationalId","purpose"]}'::json, '{"fields":["nationalId","purpose"]}'::jsonb, sha256(random()::text::bytea), sha256(random()::text::bytea), 3 FROM generate_series(1, $rows) WHERE current_setting('openbureau.batch', true) = 'b1';
\\endpipeline
\\startpipeline
SELECT (CASE WHEN clock_timestamp() <= now() + interval '1 minute' THEN '1' ELSE 'late' END)::int;
COMMIT;
\\endpipeline
SQL
  echo "### batch of $rows row(s): per-statement latency (ms; a pipeline's wait shows on its \\endpipeline)"
  pgbench -h 127.0.0.1 -U postgres -n -M prepared -c 1 -T "$SECS" -r -f "$TMP/commit-$rows.sql" "$RTT_DB" 2>&1 \
    | sed -n '/latency average/p;/statement latencies/,$p'
done
# the same batch of 1 row in ONE round trip (all five statements in one pipeline): what merging
# the two round trips would save
{ echo '\startpipeline'; grep -v -e '^\\startpipeline$' -e '^\\endpipeline$' "$TMP/commit-1.sql"; echo '\endpipeline'; } \
  > "$TMP/commit-1-one.sql"
echo "### batch of 1 row in one round trip (one pipeline)"
pgbench -h 127.0.0.1 -U postgres -n -M prepared -c 1 -T "$SECS" -f "$TMP/commit-1-one.sql" "$RTT_DB" 2>&1 | grep 'latency average'
echo "### batch of 1 row in two round trips again (same minute, for comparison)"
pgbench -h 127.0.0.1 -U postgres -n -M prepared -c 1 -T "$SECS" -f "$TMP/commit-1.sql" "$RTT_DB" 2>&1 | grep 'latency average'
echo 'SELECT 1;' > "$TMP/select1.sql"
echo "### SELECT 1 (one bare round trip)"
pgbench -h 127.0.0.1 -U postgres -n -M prepared -c 1 -T "$SECS" -f "$TMP/select1.sql" "$RTT_DB" 2>&1 | grep 'latency average'
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $RTT_DB WITH (FORCE)"
rm -rf "$TMP"
