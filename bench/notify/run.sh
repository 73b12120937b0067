#!/usr/bin/env bash
# Issue 14's benchmark: the cached inquiry with notifications off, then on with a gateway webhook
# that answers every POST after 200 ms, alternated in one run over the same database (bench/inquiry.sh
# --reuse), same wrk settings. Prints the two sides' rps and p99 per connection count, with the
# machine's load (uptime) before each side: the machine is shared, read every pair next to its load.
# A side whose server fails to start (an overloaded machine) is tried once more. Before each "on"
# side the access-log follower's cursor is moved to the present: the "off" side's inquiries were
# not followed (notifications off), and catching up on them would bill the "on" side for the "off"
# side's load (the first cut's figures included that). Deliveries still pile up across "on" sides
# (the 200 ms gateway takes 40 a second), as they would behind a slow gateway.
#   bench/notify/run.sh [ROUNDS (2)]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-2}
mkdir -p bench/work
python3 bench/notify/slow_receiver.py 19999 200 > bench/work/slow-receiver.log 2>&1 &
RECEIVER=$!
trap 'kill $RECEIVER 2>/dev/null || true' EXIT
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
    if [ "$side" = on ] && [ -n "$first" ]; then
      psql -h 127.0.0.1 -U postgres -qAt -d ob_bench_inquiry_5k -c "UPDATE notification_cursors SET safe_at = now(), safe_pos = 0 WHERE source = 'access_log'" >/dev/null
    fi
    for attempt in 1 2; do
      echo "== round $round, notifications $side (attempt $attempt), $(uptime | sed 's/.*load/load/')" | tee -a "$out"
      lines=$(bash bench/inquiry.sh --only hits --repeat 1 --conns "1 32" $first 2>&1 \
        | grep -E '^\[bench.*inquiry hits c=|probe inquiry' || true)
      echo "$lines" | tee -a "$out"
      if echo "$lines" | grep -q 'inquiry hits c='; then
        first="--reuse"
        break
      fi
    done
    if [ "$side" = on ]; then
      psql -h 127.0.0.1 -U postgres -qAt -d ob_bench_inquiry_5k -c "select 'notifications ' || count(*) || ', deliveries pending ' || (select count(*) from webhook_deliveries where delivered_at is null) from notifications" 2>/dev/null | tee -a "$out" || true
    fi
  done
done
echo "receiver: $(tail -1 bench/work/slow-receiver.log)" | tee -a "$out"
echo "results in $out"
