#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on 127.0.0.1 (5432, 6379): starts them when installed but
# stopped, installs them with apt-get when missing. Also checks Java 17+ and Maven. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[services] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

ensure_tools() {
  command -v java >/dev/null || { log "installing Java 17"; apt_install openjdk-17-jdk-headless; }
  command -v mvn >/dev/null || { log "installing Maven"; apt_install maven; }
}

ensure_postgres() {
  if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    log "installing PostgreSQL"
    apt_install postgresql postgresql-client
  fi
  if ! pg_up; then
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    log "starting PostgreSQL $version"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { log "PostgreSQL does not answer on 127.0.0.1:5432"; exit 1; }
  # the project connects as postgres over TCP with trust auth on a development machine
  if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
    log "PostgreSQL refuses user postgres over TCP without a password: allowing trust on 127.0.0.1 (development only)"
    local hba
    hba=$(as_root su postgres -c "psql -Atc 'show hba_file'")
    as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    as_root su postgres -c "psql -Atc 'select pg_reload_conf()'" >/dev/null
  fi
}

# The server logs in as openbureau_app (INSERT and SELECT on the access log, what each feature needs)
# and the migrations run as openbureau_owner, which owns the databases it creates (CREATEDB here, for
# postgres.createDatabase: true). Idempotent and safe when several runs start at once (tests do).
ensure_roles() {
  psql -h 127.0.0.1 -U postgres -d postgres -q -v ON_ERROR_STOP=1 -v owner_createdb=on \
    -f scripts/sql/roles.sql >/dev/null
  # a development database created before the roles existed belongs to postgres: hand it to the owner
  local owner
  owner=$(psql -h 127.0.0.1 -U postgres -d postgres -Atc \
    "select pg_get_userbyid(datdba) from pg_database where datname = 'openbureau'")
  if [ -n "$owner" ] && [ "$owner" != "openbureau_owner" ]; then
    log "handing the development database openbureau (owned by $owner) to openbureau_owner"
    psql -h 127.0.0.1 -U postgres -d openbureau -q -v ON_ERROR_STOP=1 -f scripts/sql/adopt-database.sql >/dev/null
  fi
}

ensure_redis() {
  command -v redis-server >/dev/null || { log "installing Redis"; apt_install redis-server; }
  if ! redis_up; then
    log "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  fi
  for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
  redis_up || { log "Redis does not answer on 127.0.0.1:6379"; exit 1; }
}

# The browser tests (issue 15) drive Debian's chromium through Debian's chromedriver (never a
# downloaded browser), and check each page with axe-core, fetched from npm into target/axe/.
# OB_SKIP_BROWSER=1 skips this part (the browser tests then skip themselves, saying why).
ensure_browser() {
  [ "${OB_SKIP_BROWSER:-}" = 1 ] && { log "OB_SKIP_BROWSER=1: not installing chromium"; return 0; }
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    log "installing chromium and chromium-driver (browser tests)"
    apt_install chromium chromium-driver || log "chromium could not be installed: the browser tests will be skipped"
  fi
  if [ ! -f target/axe/axe.min.js ] && command -v npm >/dev/null; then
    log "fetching axe-core from npm into target/axe"
    mkdir -p target/axe
    if (cd target/axe && npm pack axe-core@4 --silent >/dev/null 2>&1 && tar -xzf axe-core-*.tgz package/axe.min.js \
        && mv package/axe.min.js axe.min.js && rm -rf package axe-core-*.tgz); then :; else
      log "axe-core could not be fetched: the browser tests fetch it themselves or fail"
    fi
  fi
}

command -v pg_isready >/dev/null || apt_install postgresql-client
command -v redis-cli >/dev/null || apt_install redis-tools
ensure_tools
ensure_postgres
ensure_roles
ensure_redis
ensure_browser
log "PostgreSQL and Redis are up"
