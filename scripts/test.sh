#!/usr/bin/env bash
# Runs the whole test suite against real PostgreSQL and Redis (started or installed when needed).
# Every run uses its own databases (ob_t_<run>_*) and Redis key prefix, and drops them at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
run_id="$(date +%s)$$"
exec mvn -B -Dtest.run.id="$run_id" "$@" test
