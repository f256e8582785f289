#!/usr/bin/env bash
# The REST API driven by the official Twilio Node library (twilio@6.2.0 from npm), on a
# real `switchboard serve` over loopback: provisioning from the shell with `switchboard admin`
# (two accounts, a developer and a read-only user), then api/twilio_client.js.
# The store is SQLite in a temp data_dir, or the PostgreSQL database named by
# SB_TEST_POSTGRES_URL (tests/store/with_postgres.sh --run starts a throwaway server).
# Usage: api_twilio.sh path/to/switchboard NPM_DIR
# Exits 77 (skipped) only when node or npm is missing.
set -u
bin=${1:?usage: api_twilio.sh BINARY NPM_DIR}
npm_dir=${2:?usage: api_twilio.sh BINARY NPM_DIR}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -KILL "$pid" 2> /dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$tmp"/*.err; do [ -s "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
  exit 1
}
for tool in node npm; do
  command -v $tool > /dev/null || { echo "api_twilio: $tool not found (Debian packages nodejs, npm); skipping"; exit 77; }
done

# The library, installed once per build tree from the committed lock file.
mkdir -p "$npm_dir"
if ! cmp -s "$here/api/package-lock.json" "$npm_dir/package-lock.json" || [ ! -d "$npm_dir/node_modules/twilio" ]; then
  cp "$here/api/package.json" "$here/api/package-lock.json" "$npm_dir/"
  (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error) > "$tmp/npm.err" 2>&1 ||
    fail "npm ci failed"
fi

store=()
label="sqlite"
if [ -n "${SB_TEST_POSTGRES_URL:-}" ]; then
  store=(--set "store.url=$SB_TEST_POSTGRES_URL")
  label="postgresql"
fi
common=(--set "data_dir=$tmp/data" --set "api.master_key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" "${store[@]}")

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }
"$bin" admin "${common[@]}" account create --name "Acme ($label)" > "$tmp/a.json" 2> "$tmp/admin.err" ||
  fail "account create"
ACCOUNT_SID=$(json '["sid"]' < "$tmp/a.json")
AUTH_TOKEN=$(json '["auth_token"]' < "$tmp/a.json")
"$bin" admin "${common[@]}" account create --name Other > "$tmp/b.json" 2>> "$tmp/admin.err" ||
  fail "account create (other)"
OTHER_SID=$(json '["sid"]' < "$tmp/b.json")
OTHER_TOKEN=$(json '["auth_token"]' < "$tmp/b.json")
"$bin" admin "${common[@]}" number add --account "$OTHER_SID" --number +15557770001 \
  --voice-url http://127.0.0.1:9/v > "$tmp/n.json" 2>> "$tmp/admin.err" || fail "number add"
OTHER_NUMBER_SID=$(json '["sid"]' < "$tmp/n.json")
"$bin" admin "${common[@]}" user add --account "$ACCOUNT_SID" --email dev@example.com \
  --role developer > "$tmp/dev.json" 2>> "$tmp/admin.err" || fail "user add (developer)"
DEV_KEY_SID=$(json '["api_key"]["sid"]' < "$tmp/dev.json")
DEV_KEY_SECRET=$(json '["api_key"]["secret"]' < "$tmp/dev.json")
"$bin" admin "${common[@]}" user add --account "$ACCOUNT_SID" --email ro@example.com \
  --role read-only > "$tmp/ro.json" 2>> "$tmp/admin.err" || fail "user add (read-only)"
RO_KEY_SID=$(json '["api_key"]["sid"]' < "$tmp/ro.json")
RO_KEY_SECRET=$(json '["api_key"]["secret"]' < "$tmp/ro.json")

"$bin" serve "${common[@]}" --set http.listen=127.0.0.1:0 --set sip.listen=udp:127.0.0.1:0 \
  > "$tmp/serve.out" 2> "$tmp/serve.err" &
pid=$!
for _ in $(seq 1 100); do
  grep -q "^# active parts" "$tmp/serve.out" && break
  kill -0 "$pid" 2> /dev/null || fail "serve exited"
  sleep 0.1
done
BASE_URL=$(sed -n 's/^# http listening: \(http:.*\)$/\1/p' "$tmp/serve.out" | head -n 1)
[ -n "$BASE_URL" ] || fail "serve printed no http listener"
echo "api_twilio: $label store, serve at $BASE_URL"

export BASE_URL ACCOUNT_SID AUTH_TOKEN OTHER_SID OTHER_TOKEN OTHER_NUMBER_SID DEV_KEY_SID \
  DEV_KEY_SECRET RO_KEY_SID RO_KEY_SECRET
NODE_PATH="$npm_dir/node_modules" node "$here/api/twilio_client.js" || fail "twilio client checks"

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""
[ "$rc" -eq 0 ] || fail "serve exited with $rc after SIGTERM"
grep -q "authentication failures" "$tmp/serve.err" || fail "no http counters at stop"
echo "api_twilio: passed ($label)"
