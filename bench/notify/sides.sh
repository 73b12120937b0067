#!/usr/bin/env bash
# Short side-by-side check at 32 connections only, in any order of sides, over the database that
# bench/notify/run.sh seeded (--reuse, so no side gets a warm-up): "off" (notifications disabled),
# "followers" (followers, no gateway), "on" (followers plus the 200 ms gateway). Before each side
# the access-log follower's cursor is moved to the present. Load (uptime) printed per side.
#   SIDES="on off on off" bench/notify/sides.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
python3 bench/notify/slow_receiver.py 19999 200 > bench/work/slow-receiver2.log 2>&1 &
R=$!
trap 'kill $R 2>/dev/null || true' EXIT
for side in ${SIDES:-off followers on}; do
  case $side in
    off) export BUREAU_NOTIFICATIONS_ENABLED=false BUREAU_NOTIFICATIONS_WEBHOOK_URL="" BUREAU_NOTIFICATIONS_WEBHOOK_SECRET="" ;;
    followers) export BUREAU_NOTIFICATIONS_ENABLED=true BUREAU_NOTIFICATIONS_WEBHOOK_URL="" BUREAU_NOTIFICATIONS_WEBHOOK_SECRET="" ;;
    on) export BUREAU_NOTIFICATIONS_ENABLED=true BUREAU_NOTIFICATIONS_WEBHOOK_URL="http://127.0.0.1:19999/hook" BUREAU_NOTIFICATIONS_WEBHOOK_SECRET="bench-secret-bench-secret-bench-secret-0123" ;;
  esac
  psql -h 127.0.0.1 -U postgres -qAt -d ob_bench_inquiry_5k -c "UPDATE notification_cursors SET safe_at = now(), safe_pos = 0 WHERE source = 'access_log'" >/dev/null
  echo "== $side, $(uptime | sed 's/.*load/load/')"
  bash bench/inquiry.sh --only hits --repeat 1 --conns "32" --reuse 2>&1 | grep -E 'inquiry hits c=|probe inquiry'
done
