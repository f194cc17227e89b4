#!/usr/bin/env bash
# Start Debian's PostgreSQL cluster and make the role the tests use.
# Prints the admin URL the tests create their databases through.
set -euo pipefail
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
cluster=$(pg_lsclusters -h | head -n 1)
if [ -z "$cluster" ]; then
  version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
  $sudo pg_createcluster "$version" main >/dev/null
  cluster=$(pg_lsclusters -h | head -n 1)
fi
read -r version name port status _ <<<"$cluster"
if [ "$status" != "online" ]; then
  $sudo pg_ctlcluster "$version" "$name" start
fi
as_postgres() { if [ "$(id -u)" -eq 0 ]; then su postgres -c "$1"; else sudo -u postgres bash -c "$1"; fi; }
for _ in $(seq 1 30); do
  as_postgres "psql -p $port -tAc 'select 1'" >/dev/null 2>&1 && break
  sleep 1
done
as_postgres "psql -p $port -tAc \"select 1 from pg_roles where rolname='tracebot'\"" | grep -q 1 ||
  as_postgres "psql -p $port -qc \"create role tracebot login createdb password 'tracebot'\""
# Dropping a test database WITH (FORCE) may have to end an autovacuum worker busy on it.
as_postgres "psql -p $port -qc 'grant pg_signal_backend to tracebot'" >/dev/null 2>&1 || true
echo "postgresql+psycopg://tracebot:tracebot@127.0.0.1:$port/postgres"
