#!/usr/bin/env bash
# Soak (issue 16): cached inquiries at a fixed offered rate (default half the capacity measured by
# bench/scale.sh, see bench/RESULTS.md) for --minutes (default 30), recording per minute: requests/s
# answered, p99, non-2xx and socket errors, the server's RSS, and its heap after a full GC (jcmd
# GC.run then GC.heap_info; one forced GC a minute, a small perturbation, said in the results).
# The bar: heap after GC and RSS flat (no growth trend), no errors.
#
#   bench/soak.sh [--minutes M (30)] [--rate RPS (3000)] [--conns C (16)] [--borrowers N (5000)]
#
# Results: bench/results/soak-<timestamp>/minutes.tsv and the raw wrk outputs.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=30; RATE=3000; CONNS=16; N=5000
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MINUTES=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --borrowers) N=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
DB=ob_bench_soak; PREFIX="obk:"; WORK=$(pwd)/bench/work; IDS=$WORK/ids-soak-$N.txt
. bench/common.sh
OUT=bench/results/soak-$(date -u +%Y%m%dT%H%M%SZ); mkdir -p "$OUT"
prepare
seed 18195
PID=$SERVER_A
DELAY=$(awk -v c="$CONNS" -v r="$RATE" 'BEGIN { printf "%d", c * 1000 / r }')
log "soak: $MINUTES min at ~$RATE rps offered ($CONNS connections, ${DELAY} ms between requests each)"
printf 'minute\trps\tp99_ms\tnon2xx\terrors\trss_mb\theap_after_gc_mb\tload\n' > "$OUT/minutes.tsv"
heap_after_gc() {
  jcmd "$PID" GC.run >/dev/null 2>&1 || true
  jcmd "$PID" GC.heap_info 2>/dev/null | awk '/used/ { for (i = 1; i <= NF; i++) if ($i == "used") { v = $(i + 1); sub(/K,?$/, "", v); print int(v / 1024); exit } }'
}
for m in $(seq 1 "$MINUTES"); do
  f=$OUT/minute-$m.txt
  BENCH_DELAY_MS=$DELAY BENCH_THREADS=2 wrk -t2 -c"$CONNS" -d60s --timeout 10s --latency -s bench/wrk/inquiry.lua \
    "http://127.0.0.1:18195/v1/inquiries" > "$f" 2>&1 || true
  rss=$(awk '/^VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$PID/status")
  heap=$(heap_after_gc)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$(wrk_rps "$f")" "$(wrk_p99 "$f")" "$(wrk_non2xx "$f")" "$(wrk_errors "$f")" \
    "$rss" "$heap" "$(machine_load)" >> "$OUT/minutes.tsv"
  log "minute $m: $(tail -n 1 "$OUT/minutes.tsv")"
done
cleanup
column -t -s $'\t' "$OUT/minutes.tsv"
# trend: heap and RSS of the last third against the first third (after the first minute's warm-up)
awk -F'\t' 'NR > 2 { n++; rss[n] = $6; heap[n] = $7 } END {
  t = int(n / 3); if (t < 1) { print "too short for a trend"; exit }
  for (i = 1; i <= t; i++) { r1 += rss[i]; h1 += heap[i]; r3 += rss[n - t + i]; h3 += heap[n - t + i] }
  printf "first third: RSS %.0f MB heap-after-GC %.0f MB; last third: RSS %.0f MB heap-after-GC %.0f MB\n", r1 / t, h1 / t, r3 / t, h3 / t }' "$OUT/minutes.tsv" | tee "$OUT/trend.txt"
log "results in $OUT"
