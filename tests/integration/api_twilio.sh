#!/usr/bin/env bash
# The REST API driven by the official Twilio Node library (twilio@6.2.0 from npm), on a
# real `switchboard serve` over loopback: provisioning from the shell with `switchboard admin`
# (two accounts, a developer and a read-only user), then api/twilio_client.js, then a SIP
# REGISTER (SIPp and siptool.py) through the same serve's edge with the credentials the script
# provisioned through the SIP Domains and Credential Lists API.
# The store is SQLite in a temp data_dir, or the PostgreSQL database named by
# SB_TEST_POSTGRES_URL (tests/store/with_postgres.sh --run starts a throwaway server).
# Usage: api_twilio.sh path/to/switchboard NPM_DIR
# Exits 77 (skipped) only when node or npm is missing.
set -u
bin=${1:?usage: api_twilio.sh BINARY NPM_DIR}
npm_dir=${2:?usage: api_twilio.sh BINARY NPM_DIR}
here=$(cd "$(dirname "$0")" && pwd)
source "$(dirname "$0")/common.sh"
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

# The SIP domain and user the node script provisions last, for the REGISTER below. Both
# digest algorithms are challenged, MD5 first (SIPp answers the first challenge and knows
# only MD5; siptool picks SHA-256), so the API's HA1s of both kinds are checked.
SIP_DOMAIN="edge-$$.example.com"
# The example's VoiceUrl is on loopback: admitted for this test only (webhooks.allow).
start_serve "$bin" "${common[@]}" --set http.listen=127.0.0.1:0 --set sip.listen=udp:127.0.0.1:0 \
  --set sip.auth.algorithms=md5,sha-256 --set webhooks.allow=127.0.0.0/8,::1/128
BASE_URL=$(sed -n 's/^# http listening: \(http:.*\)$/\1/p' "$tmp/serve.out" | head -n 1)
[ -n "$BASE_URL" ] || fail "serve printed no http listener"
echo "api_twilio: $label store, serve at $BASE_URL"

SIP_USER=alice
SIP_PASSWORD="Edge$((RANDOM))Secret9x"
export BASE_URL ACCOUNT_SID AUTH_TOKEN OTHER_SID OTHER_TOKEN OTHER_NUMBER_SID DEV_KEY_SID \
  DEV_KEY_SECRET RO_KEY_SID RO_KEY_SECRET SIP_DOMAIN SIP_USER SIP_PASSWORD
NODE_PATH="$npm_dir/node_modules" node "$here/api/twilio_client.js" || fail "twilio client checks"

# The SIP edge of the same serve authenticates the user provisioned through the API (the
# store derived its HA1 rows in the API request's transaction). The edge caches a found HA1
# for 30 s and an unknown user for 5 s (edge::EdgeStore); this user was never asked for
# before, so no wait is needed.
SIP_UDP=$(sed -n 's/^# sip listening: udp:\(.*\)$/\1/p' "$tmp/serve.out" | head -n 1)
[ -n "$SIP_UDP" ] || fail "serve printed no sip udp listener"
siptool="python3 $here/sip/siptool.py"
status_of() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['steps'][$2]['status'])" "$1"; }
if command -v sipp > /dev/null; then
  port=$(python3 -c "import socket;s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
  sipp -nostdin -i 127.0.0.1 -p "$port" -timeout 20s -timeout_error -trace_err \
    -error_file "$tmp/sipp.err" -sf "$here/sip/sipp/register.xml" -m 1 \
    -au "$SIP_USER" -ap "$SIP_PASSWORD" -key user "$SIP_USER" -key domain "$SIP_DOMAIN" \
    -key contact_port 5999 -auth_uri "$SIP_DOMAIN" "$SIP_UDP" > "$tmp/sipp.out" 2>&1 ||
    fail "SIPp REGISTER with the API-provisioned credentials was not accepted"
  echo "ok   sip edge: SIPp REGISTER with the API's credentials -> 200"
else
  echo "api_twilio: sipp not found (Debian package sip-tester): SIPp REGISTER skipped"
fi
out=$($siptool register --server "udp:$SIP_UDP" --user "$SIP_USER" --domain "$SIP_DOMAIN" \
  --password "$SIP_PASSWORD" --algorithm SHA-256) || fail "siptool: $out"
[ "$(status_of "$out" 0)" = 401 ] && [ "$(status_of "$out" 1)" = 200 ] ||
  fail "SHA-256 REGISTER with the API's credentials: $out"
echo "ok   sip edge: digest SHA-256 REGISTER -> 200"
out=$($siptool register --server "udp:$SIP_UDP" --user "$SIP_USER" --domain "$SIP_DOMAIN" \
  --password "Wrong${SIP_PASSWORD}") || fail "siptool: $out"
s1=$(status_of "$out" 1)
[ "$s1" = 401 ] || [ "$s1" = 403 ] || fail "a wrong password was not refused: $out"
echo "ok   sip edge: wrong password -> $s1"
out=$($siptool register --server "udp:$SIP_UDP" --user bob --domain "$SIP_DOMAIN" \
  --password "$SIP_PASSWORD") || fail "siptool: $out"
s1=$(status_of "$out" 1)
[ "$s1" = 401 ] || [ "$s1" = 403 ] || fail "a user of no list was accepted: $out"
echo "ok   sip edge: unknown user -> $s1"

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""
[ "$rc" -eq 0 ] || fail "serve exited with $rc after SIGTERM"
grep -q "authentication failures" "$tmp/serve.err" || fail "no http counters at stop"
echo "api_twilio: passed ($label)"
