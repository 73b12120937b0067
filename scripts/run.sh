#!/usr/bin/env bash
# Runs OpenBureau locally with demo data and prints development tokens and a curl walk-through.
# Starts (or installs) PostgreSQL and Redis first; builds the jar when sources changed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
if [ ! -f target/openbureau.jar ] || [ -n "$(find src pom.xml -newer target/openbureau.jar -print -quit)" ]; then
  mvn -q -B -DskipTests package
fi
exec java ${JAVA_OPTS:-} -jar target/openbureau.jar demo
