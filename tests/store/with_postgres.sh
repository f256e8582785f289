#!/usr/bin/env bash
# Runs the store tests' PostgreSQL instances (or, with --run, any command) against a
# throwaway PostgreSQL 15 server:
# initdb in a temp dir, trust auth, listening on 127.0.0.1 only (a free port, no Unix
# socket), one database.
# The server is stopped by its pid and the dir removed on every way out.
#   with_postgres.sh path/to/store_test [extra gtest args...]
#   with_postgres.sh --run COMMAND [ARGS...]   (SB_TEST_POSTGRES_URL names the database)
# Exits 77 (ctest: skipped) only when the PostgreSQL server binaries are missing.
set -euo pipefail

test_bin=${1:?usage: with_postgres.sh STORE_TEST [ARGS...]}
shift
pg_bin=${SB_PG_BIN:-/usr/lib/postgresql/15/bin}

for tool in initdb pg_ctl postgres; do
  if [[ ! -x $pg_bin/$tool ]]; then
    echo "with_postgres: $pg_bin/$tool not found (Debian package postgresql); skipping" >&2
    exit 77
  fi
done

# initdb refuses to run as root: the server runs as the postgres system user then.
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
  if ! id postgres >/dev/null 2>&1; then
    echo "with_postgres: running as root and there is no 'postgres' user to run the server" >&2
    exit 1
  fi
  as_pg=(runuser -u postgres --)
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sb-postgres.XXXXXX")
server_pid=""
cleanup() {
  local rc=$?
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -INT "$server_pid" 2>/dev/null || true  # fast shutdown
    for _ in $(seq 1 100); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ ${#as_pg[@]} -gt 0 ]]; then
  chown postgres: "$tmp"
fi
chmod 700 "$tmp"

"${as_pg[@]}" "$pg_bin/initdb" -D "$tmp/data" -U postgres -A trust -E UTF8 --locale=C \
  --no-sync >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A port found free can be taken before the server binds it: try a few.
port=""
for attempt in 1 2 3; do
  candidate=$(free_port)
  if "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $candidate -c unix_socket_directories='' -c fsync=off -c max_connections=60" \
      start >"$tmp/pg_ctl.log" 2>&1; then
    port=$candidate
    break
  fi
  echo "with_postgres: start on port $candidate failed (attempt $attempt)" >&2
done
if [[ -z $port ]]; then
  cat "$tmp/pg_ctl.log" "$tmp/server.log" >&2 || true
  exit 1
fi
server_pid=$(head -n 1 "$tmp/data/postmaster.pid")
echo "with_postgres: PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (pid $server_pid)"

"${as_pg[@]}" "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres sb_store_test

export SB_TEST_POSTGRES_URL="postgresql://postgres:unused@127.0.0.1:$port/sb_store_test"
status=0
if [[ $test_bin == --run ]]; then
  "$@" || status=$?
else
  "$test_bin" --gtest_filter='*Postgres*' "$@" || status=$?
fi
if [[ $status -ne 0 ]]; then
  echo "with_postgres: tests failed ($status); server log:" >&2
  tail -n 50 "$tmp/server.log" >&2 || true
fi
exit "$status"
