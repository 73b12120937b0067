#!/bin/sh
# Run once by the postgres image on a fresh data directory (/docker-entrypoint-initdb.d), as the
# image's superuser: creates openbureau_owner (owns the database, runs the migrations) and
# openbureau_app (the server's login: INSERT and SELECT on the access log, what features need),
# and the database openbureau owned by openbureau_owner. The SQL is scripts/sql/roles.sql.
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$OPENBUREAU_OWNER_PASSWORD" -v app_password="$OPENBUREAU_APP_PASSWORD" \
  -v database=openbureau -f /openbureau-sql/roles.sql
