#!/usr/bin/env bash
# The access-log writer alone (no HTTP, no Redis): p50/p99 per append at 1 concurrent request and
# throughput at 32. Usage: bench/audit/writer.sh [appends] [seconds]
# Runs io.openbureau.audit.AuditWriterBench (test scope) against the local Postgres.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/services.sh
mvn -B -q test-compile
mvn -B -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-cp.txt >/dev/null
CP=$(cat target/bench-cp.txt)
java -cp "target/test-classes:target/classes:$CP" -Dbench.appends="${1:-4000}" -Dbench.seconds="${2:-5}" \
  -Dtest.run.id="bench$$" ${BENCH_OPTS:-} io.openbureau.audit.AuditWriterBench 2>&1 | grep --line-buffered -E "^BENCH|Exception|TRACE"
