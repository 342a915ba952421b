#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, on 127.0.0.1 and a free port,
# with its data and unix socket in a temp dir. Installs nothing: it needs
# Debian's postgresql package (/usr/lib/postgresql/<v>/bin).
#
#   eval "$(scripts/pg-test.sh start)"   # exports CHARTER_TEST_PG_URL, CHARTER_TEST_PG_DIR
#   scripts/pg-test.sh restart [fast|immediate]
#   scripts/pg-test.sh pause | resume     # stop the server keeping its data; start it again on the same port
#   scripts/pg-test.sh stop              # stops the server and deletes the dir
#
# CHARTER_PG_STATE names the state file (default $TMPDIR/charter-pg-test.state),
# so a test can run its own cluster beside the shared one. As root (CI), the
# server runs as the `postgres` user: PostgreSQL refuses to run as root.
set -euo pipefail

STATE=${CHARTER_PG_STATE:-${TMPDIR:-/tmp}/charter-pg-test.state}
DB=charter_test

bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -z "$d" || ! -x "$d/initdb" ]]; then
    echo "pg-test: no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)" >&2
    exit 1
  fi
  echo "$d"
}

as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

print_env() {
  echo "export CHARTER_TEST_PG_URL=postgres://postgres@127.0.0.1:${PORT}/${DB}"
  echo "export CHARTER_TEST_PG_DIR=${DIR}"
}

load_state() {
  if [[ ! -f "$STATE" ]]; then
    echo "pg-test: no cluster recorded in $STATE (run start first)" >&2
    exit 1
  fi
  # shellcheck disable=SC1090
  source "$STATE"
}

start() {
  if [[ -f "$STATE" ]]; then
    load_state
    if as_pg "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then print_env; return; fi
    rm -rf "$DIR" "$STATE"
  fi
  BIN=$(bindir)
  DIR=$(mktemp -d "${TMPDIR:-/tmp}/charter-pg.XXXXXX")
  mkdir -p "$DIR/sock"
  if [[ $(id -u) -eq 0 ]]; then chown -R postgres: "$DIR"; fi
  # Trust on loopback only: a disposable cluster, deleted by `stop`.
  as_pg "$BIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$DIR/initdb.log" 2>&1 ||
    { cat "$DIR/initdb.log" >&2; exit 1; }
  local tries=0
  while :; do
    PORT=$(free_port)
    if as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR/sock -c max_connections=300" start >/dev/null; then
      break
    fi
    tries=$((tries + 1))
    if [[ $tries -ge 3 ]]; then tail -n 20 "$DIR/server.log" >&2; exit 1; fi
  done
  as_pg "$BIN/createdb" -h "$DIR/sock" -p "$PORT" -U postgres "$DB"
  printf 'BIN=%q\nDIR=%q\nPORT=%q\n' "$BIN" "$DIR" "$PORT" >"$STATE"
  print_env
}

case "${1:-}" in
  start) start ;;
  stop)
    [[ -f "$STATE" ]] || exit 0
    load_state
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$DIR" "$STATE"
    ;;
  restart)
    load_state
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -m "${2:-fast}" -w -t 60 restart >/dev/null
    ;;
  pause)
    load_state
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null
    ;;
  resume)
    load_state
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR/sock -c max_connections=300" start >/dev/null
    ;;
  env)
    load_state
    print_env
    ;;
  *)
    echo "usage: $0 start|stop|restart [fast|immediate]|pause|resume|env" >&2
    exit 2
    ;;
esac
