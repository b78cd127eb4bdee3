#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite and the benchmarks (no docker):
#   tests/pg-cluster.sh start DIR [durable]   initdb into DIR, start on a free port, print the URL
#   tests/pg-cluster.sh createdb DIR NAME     create database NAME in it, print its URL
#   tests/pg-cluster.sh stop DIR              stop it and remove DIR
# Installs Debian's `postgresql` package when no PostgreSQL binaries are found. As root the
# cluster runs as the `postgres` user (initdb refuses root). Without `durable` it runs with
# fsync off: the suite kills Chorus processes, never PostgreSQL, and an acknowledged COMMIT is
# in the kernel's page cache either way; the benchmarks pass `durable` (fsync on, the default).
set -euo pipefail

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "tests/pg-cluster.sh: '$*' needs root (or sudo)" >&2; return 1
  fi
}

bin=$(find_bin || true)
if [ -z "$bin" ]; then
  echo "== installing postgresql (apt)" >&2
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq postgresql >/dev/null
  bin=$(find_bin)
fi

run_as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cmd=${1:?start or stop}
dir=${2:?a directory}
case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    run_as_pg "$bin/initdb" -D "$dir/pgdata" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
    # One role logs in with a password (the suite's wrong-password test); everyone else is
    # trusted on this throwaway cluster.
    sed -i '1i host all chorus_password 127.0.0.1/32 scram-sha-256' "$dir/pgdata/pg_hba.conf"
    extra=(-c fsync=off -c full_page_writes=off)
    [ "${3:-}" = durable ] && extra=()
    run_as_pg "$bin/pg_ctl" -D "$dir/pgdata" -l "$dir/postgres.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c shared_buffers=256MB ${extra[*]}" \
      start >/dev/null
    echo "$port" >"$dir/port"
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  createdb)
    port=$(cat "$dir/port")
    name=${3:?a database name}
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$name"
    echo "postgres://postgres@127.0.0.1:$port/$name"
    ;;
  stop)
    if [ -d "$dir/pgdata" ]; then
      run_as_pg "$bin/pg_ctl" -D "$dir/pgdata" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start DIR [durable] | createdb DIR NAME | stop DIR" >&2; exit 2 ;;
esac
