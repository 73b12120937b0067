#!/usr/bin/env bash
# Throughput and p99 of cached inquiries with one bureau process vs two (issue 16), on one machine:
# the same database and Redis, 5,000 seeded borrowers with consent, wrk at 32 connections in all
# (two processes: 16 on each, run at once, requests/s summed, p99 the worse of the two). One and
# two alternate --repeat times so each pair sees the same machine load.
#
#   bench/scale.sh [--borrowers N (5000)] [--duration SECS (20)] [--repeat R (3)]
#
# Results: bench/results/scale-<timestamp>/ (raw wrk outputs, summary.tsv) and a table on stdout.
# Both processes share the machine's 2 cores with Postgres, Redis and wrk: this measures what a
# second instance adds on the same box (the shared stores and the cores bound it), not a second
# machine.
set -euo pipefail
cd "$(dirname "$0")/.."
N=5000; DURATION=20; REPEAT=3
while [ $# -gt 0 ]; do
  case "$1" in
    --borrowers) N=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
DB=ob_bench_scale; PREFIX="obs:"; WORK=$(pwd)/bench/work; IDS=$WORK/ids-scale-$N.txt
. bench/common.sh
OUT=bench/results/scale-$(date -u +%Y%m%dT%H%M%SZ); mkdir -p "$OUT"
prepare
seed 18190
start_server 18191 server-b
printf 'instances\trep\trps\tp99_ms\tnon2xx\terrors\tload\n' > "$OUT/summary.tsv"
wrk_at() { # port conns secs file
  BENCH_THREADS=1 wrk -t1 -c"$2" -d"$3s" --timeout 10s --latency -s bench/wrk/inquiry.lua \
    "http://127.0.0.1:$1/v1/inquiries" > "$4" 2>&1 || true
}
for rep in $(seq 1 "$REPEAT"); do
  l=$(machine_load)
  wrk_at 18190 32 5 "$OUT/one-warm-r$rep.txt"
  BENCH_THREADS=2 wrk -t2 -c32 -d"${DURATION}s" --timeout 10s --latency -s bench/wrk/inquiry.lua \
    "http://127.0.0.1:18190/v1/inquiries" > "$OUT/one-r$rep.txt" 2>&1 || true
  f=$OUT/one-r$rep.txt
  printf '1\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$(wrk_rps "$f")" "$(wrk_p99 "$f")" "$(wrk_non2xx "$f")" "$(wrk_errors "$f")" "$l" >> "$OUT/summary.tsv"
  log "1 instance rep $rep: $(wrk_rps "$f") rps p99 $(wrk_p99 "$f") ms (load $l)"
  l=$(machine_load)
  wrk_at 18190 16 5 "$OUT/two-a-warm-r$rep.txt" & WRK_PID=$!
  wrk_at 18191 16 5 "$OUT/two-b-warm-r$rep.txt"; wait "$WRK_PID"; WRK_PID=""  # not a bare wait: the servers are children too
  wrk_at 18190 16 "$DURATION" "$OUT/two-a-r$rep.txt" & WRK_PID=$!
  wrk_at 18191 16 "$DURATION" "$OUT/two-b-r$rep.txt"; wait "$WRK_PID"; WRK_PID=""
  a=$OUT/two-a-r$rep.txt; b=$OUT/two-b-r$rep.txt
  rps=$(echo "$(wrk_rps "$a") $(wrk_rps "$b")" | awk '{printf "%.2f", $1 + $2}')
  p99=$(echo "$(wrk_p99 "$a") $(wrk_p99 "$b")" | awk '{printf "%.3f", ($1 > $2) ? $1 : $2}')
  printf '2\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$rps" "$p99" "$(( $(wrk_non2xx "$a") + $(wrk_non2xx "$b") ))" \
    "$(( $(wrk_errors "$a") + $(wrk_errors "$b") ))" "$l" >> "$OUT/summary.tsv"
  log "2 instances rep $rep: $rps rps p99 $p99 ms (load $l)"
done
"${PSQL[@]}" -d "$DB" -c "select 'access_log rows: ' || count(*) from access_log" | tee "$OUT/access-log.txt" >&2
cleanup
column -t -s $'\t' "$OUT/summary.tsv"
log "results in $OUT"
