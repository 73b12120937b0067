#!/usr/bin/env bash
# Issue 14's benchmark: the cached inquiry with notifications off, then on with a gateway webhook
# that answers every POST after 200 ms, alternated in one run over the same database (bench/inquiry.sh
# --reuse), same wrk settings. Prints the two sides' rps and p99 per connection count.
#   bench/notify/run.sh [ROUNDS (2)]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-2}
python3 bench/notify/slow_receiver.py 19999 200 > bench/work/slow-receiver.log 2>&1 &
RECEIVER=$!
trap 'kill $RECEIVER 2>/dev/null || true' EXIT
mkdir -p bench/work
out=bench/work/notify-$(date -u +%Y%m%dT%H%M%SZ).txt
first=""
for round in $(seq 1 "$ROUNDS"); do
  for side in off on; do
    if [ "$side" = off ]; then
      export BUREAU_NOTIFICATIONS_ENABLED=false BUREAU_NOTIFICATIONS_WEBHOOK_URL="" BUREAU_NOTIFICATIONS_WEBHOOK_SECRET=""
    else
      export BUREAU_NOTIFICATIONS_ENABLED=true BUREAU_NOTIFICATIONS_WEBHOOK_URL="http://127.0.0.1:19999/hook" \
        BUREAU_NOTIFICATIONS_WEBHOOK_SECRET="bench-secret-bench-secret-bench-secret-0123"
    fi
    echo "== round $round, notifications $side" | tee -a "$out"
    bash bench/inquiry.sh --only hits --repeat 1 --conns "1 32" $first 2>&1 | grep -E '^\[bench.*inquiry hits c=' | tee -a "$out"
    first="--reuse"
  done
done
echo "receiver: $(tail -1 bench/work/slow-receiver.log)" | tee -a "$out"
echo "results in $out"
