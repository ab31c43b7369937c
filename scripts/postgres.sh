#!/usr/bin/env bash
# Starts the local PostgreSQL 15 cluster if it is down and makes sure Huginn's role can log in over TCP.
# Idempotent: CI and developers call it before the PostgreSQL tests or a durable silo.
# Prints the connection string (ConnectionStrings__Huginn) on its last line.
#
#   HUGINN_PG_USER / HUGINN_PG_PASSWORD / HUGINN_PG_DATABASE / HUGINN_PG_PORT override the defaults.
set -euo pipefail

user="${HUGINN_PG_USER:-huginn}"
password="${HUGINN_PG_PASSWORD:-huginn}"
database="${HUGINN_PG_DATABASE:-huginn}"
port="${HUGINN_PG_PORT:-5432}"
version="${HUGINN_PG_VERSION:-15}"
cluster="${HUGINN_PG_CLUSTER:-main}"

# Run a command as the postgres superuser, whether we are root or postgres already.
as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"
  elif [ "$(id -u)" = 0 ]; then su postgres -c "$(printf '%q ' "$@")"
  else sudo -u postgres "$@"
  fi
}

if ! pg_lsclusters -h "$version" "$cluster" 2>/dev/null | awk '{print $4}' | grep -q online; then
  echo "starting PostgreSQL $version/$cluster" >&2
  if [ "$(id -u)" = 0 ]; then pg_ctlcluster "$version" "$cluster" start
  else as_postgres pg_ctlcluster "$version" "$cluster" start
  fi
fi

for _ in $(seq 1 30); do
  if as_postgres pg_isready -q -h 127.0.0.1 -p "$port"; then break; fi
  sleep 1
done
as_postgres pg_isready -h 127.0.0.1 -p "$port" >&2

psql_su() { as_postgres psql -v ON_ERROR_STOP=1 -q -p "$port" -d postgres "$@"; }

# The role: a login with a password (scram, the default pg_hba for 127.0.0.1), allowed to create the
# test databases. The password is (re)set every time so that a changed HUGINN_PG_PASSWORD takes effect.
psql_su -c "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${user}') THEN
    CREATE ROLE \"${user}\" LOGIN CREATEDB PASSWORD '${password}';
  ELSE
    ALTER ROLE \"${user}\" LOGIN CREATEDB PASSWORD '${password}';
  END IF;
END \$\$;"

if [ -z "$(psql_su -tAc "SELECT 1 FROM pg_database WHERE datname = '${database}'")" ]; then
  psql_su -c "CREATE DATABASE \"${database}\" OWNER \"${user}\""
fi

echo "Host=127.0.0.1;Port=${port};Database=${database};Username=${user};Password=${password}"
