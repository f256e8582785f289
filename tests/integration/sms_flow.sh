#!/usr/bin/env bash
# SMS end to end on loopback: `switchboard serve` bound over SMPP to the SMSC simulator
# (sms/smsc.js, on the npm `smpp` package), driven through the official Twilio Node library
# (sms/twilio_sms.js: sending, segments, receipts of each status, inbound with a TwiML reply,
# STOP/START across two numbers, the rate limit, throttling, a dropped bind), then kill -9 in
# the middle of a burst of 2,000 queued messages and a restart: every accepted message reaches
# the SMSC once, duplicates only where serve re-sent a submit the SMSC never acknowledged.
# Usage: sms_flow.sh path/to/switchboard NPM_DIR
# Environment: SMS_FLOW_ONLY=a,b (run only these driver checks), SMS_FLOW_CRASH=0 (skip the
# kill -9 part), SMS_FLOW_CRASH_COUNT (default 2000), SMS_FLOW_KEEP=DIR (copy the logs and
# the data_dir there at exit).
# Exits 77 (skipped) only when node or npm is missing.
set -u
bin=${1:?usage: sms_flow.sh BINARY NPM_DIR}
npm_dir=${2:?usage: sms_flow.sh BINARY NPM_DIR}
here=$(cd "$(dirname "$0")" && pwd)
source "$(dirname "$0")/common.sh"
for tool in node npm; do
  command -v $tool > /dev/null || { echo "sms_flow: $tool not found (Debian packages nodejs, npm); skipping"; exit 77; }
done

# Every process this script starts is stopped by its pid on exit (serve's is common.sh's $pid).
smsc_pid=""
burst_pid=""
stop_all() {
  for p in $burst_pid $smsc_pid; do kill -KILL "$p" 2> /dev/null; done
  if [ -n "${SMS_FLOW_KEEP:-}" ]; then mkdir -p "$SMS_FLOW_KEEP" && cp -r "$tmp"/. "$SMS_FLOW_KEEP"/; fi
  cleanup
}
trap stop_all EXIT

# The packages (twilio, smpp), installed once per build tree from the committed lock file.
mkdir -p "$npm_dir"
if ! cmp -s "$here/sms/package-lock.json" "$npm_dir/package-lock.json" ||
  [ ! -d "$npm_dir/node_modules/twilio" ] || [ ! -d "$npm_dir/node_modules/smpp" ]; then
  cp "$here/sms/package.json" "$here/sms/package-lock.json" "$npm_dir/"
  (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error) > "$tmp/npm.err" 2>&1 ||
    fail "npm ci failed"
fi
export NODE_PATH="$npm_dir/node_modules"

# The simulator on its own first.
node "$here/sms/selfcheck.js" > "$tmp/selfcheck.out" 2>&1 || fail "the SMSC simulator's self-check"
echo "ok   smsc.js self-check"

free_tcp_port() {
  python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])"
}

node "$here/sms/smsc.js" --port 0 --control-port 0 --system-id sb --password secret \
  --receipt-delay-ms 50 > "$tmp/smsc.out" 2> "$tmp/smsc.err" &
smsc_pid=$!
wait_for 10 grep -qs '^smsc listening' "$tmp/smsc.out" || fail "smsc.js did not start"
SMPP_PORT=$(sed -n 's/^smsc listening \([0-9]*\) control \([0-9]*\)$/\1/p' "$tmp/smsc.out")
SMSC_CONTROL="http://127.0.0.1:$(sed -n 's/^smsc listening \([0-9]*\) control \([0-9]*\)$/\2/p' "$tmp/smsc.out")"
smsc_get() { python3 -c "import json,sys,urllib.request; d=json.load(urllib.request.urlopen(sys.argv[1]+sys.argv[2])); print(eval('d'+sys.argv[3]))" "$SMSC_CONTROL" "$1" "$2"; }
smsc_post() { python3 -c "import sys,urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1]+sys.argv[2], data=sys.argv[3].encode(), headers={'Content-Type':'application/json'})).read()" "$SMSC_CONTROL" "$1" "$2"; }

key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
common=(--set "data_dir=$tmp/data" --set "api.master_key=$key")
admin() { "$bin" admin "${common[@]}" "$@" 2>> "$tmp/admin.err"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }

HOOK_PORT=$(free_tcp_port)
HTTP_PORT=$(free_tcp_port)
NUMBER1=+15005550001
NUMBER2=+15005550002
NUMBER3=+15005550003
admin account create --name "SMS flow" > "$tmp/a.json" || fail "account create"
ACCOUNT_SID=$(json '["sid"]' < "$tmp/a.json")
AUTH_TOKEN=$(json '["auth_token"]' < "$tmp/a.json")
admin number add --account "$ACCOUNT_SID" --number $NUMBER1 --sms-url "http://127.0.0.1:$HOOK_PORT/sms/1" > /dev/null ||
  fail "number add 1"
admin number add --account "$ACCOUNT_SID" --number $NUMBER2 --sms-url "http://127.0.0.1:$HOOK_PORT/sms/2" > /dev/null ||
  fail "number add 2"
admin number add --account "$ACCOUNT_SID" --number $NUMBER3 --sms-url "http://127.0.0.1:$HOOK_PORT/sms/3" \
  --sms-native-opt-out off > /dev/null || fail "number add 3 (native opt-out off)"
admin sms-trunk add --name smsc --smpp "127.0.0.1:$SMPP_PORT" --system-id sb --password secret \
  --window 10 > /dev/null || fail "sms-trunk add"

# The test's web app (SmsUrl, StatusCallback) listens on loopback: admitted (webhooks.allow).
serve_args=("${common[@]}" --set "http.listen=127.0.0.1:$HTTP_PORT" --set sip.listen=udp:127.0.0.1:0
  --set "webhooks.allow=127.0.0.0/8,::1/128")
start_serve "$bin" "${serve_args[@]}"
BASE_URL=$(sed -n 's/^# http listening: \(http:.*\)$/\1/p' "$tmp/serve.out" | head -n 1)
[ -n "$BASE_URL" ] || fail "serve printed no http listener"
bound() { [ "$(smsc_get /stats "['bound_sessions']")" -ge 1 ]; }
wait_for 10 bound || fail "serve did not bind to the SMSC within 10 s"
echo "sms_flow: serve at $BASE_URL, bound to the SMSC at 127.0.0.1:$SMPP_PORT"

export BASE_URL ACCOUNT_SID AUTH_TOKEN NUMBER1 NUMBER2 NUMBER3 SMSC_CONTROL HOOK_PORT
export SB_ADMIN="$bin admin ${common[*]}"
only=()
[ -n "${SMS_FLOW_ONLY:-}" ] && only=(--only "$SMS_FLOW_ONLY")
node "$here/sms/twilio_sms.js" "${only[@]}" || fail "twilio_sms.js checks"

if [ "${SMS_FLOW_CRASH:-1}" != 0 ]; then
  # kill -9 in the middle of a burst: the rate raised so the queue drains as fast as the SMSC
  # answers, and the SMSC holding each answer 100 ms so submits are in flight at the kill.
  count=${SMS_FLOW_CRASH_COUNT:-2000}
  admin account set --account "$ACCOUNT_SID" --sms-per-second 500 > /dev/null || fail "account set"
  sleep 1.5
  smsc_post /reset '{}'
  smsc_post /hold '{"ms": 100}'
  handset=+15557770001
  node "$here/sms/crash_burst.js" send --base "$BASE_URL" --account "$ACCOUNT_SID" --token "$AUTH_TOKEN" \
    --from $NUMBER1 --to $handset --count "$count" --concurrency 20 --kill-after $((count * 2 / 5)) \
    --kill-pid "$pid" --out "$tmp/burst.json" > "$tmp/burst.out" 2>&1 &
  burst_pid=$!
  while kill -0 "$pid" 2> /dev/null && kill -0 "$burst_pid" 2> /dev/null; do sleep 0.05; done
  kill -0 "$pid" 2> /dev/null && fail "the burst ended without killing serve"
  wait "$pid"
  echo "sms_flow: serve killed (exit $?) mid-burst; restarting on the same data_dir"
  smsc_post /hold '{"ms": 0}'
  mv "$tmp/serve.out" "$tmp/serve-killed.log.out"
  mv "$tmp/serve.err" "$tmp/serve-killed.log.err"
  start_serve "$bin" "${serve_args[@]}"
  wait "$burst_pid" || fail "the burst failed"
  burst_pid=""
  cat "$tmp/burst.out"
  # Duplicates are held to what the restarted serve logs as re-sent after a submit the SMSC
  # had not acknowledged (resent_unacknowledged=N, read once everything arrived).
  node "$here/sms/crash_burst.js" verify --base "$BASE_URL" --account "$ACCOUNT_SID" --token "$AUTH_TOKEN" \
    --to $handset --smsc "$SMSC_CONTROL" --in "$tmp/burst.json" --serve-logs "$tmp/serve.out,$tmp/serve.err" \
    --window 10 --timeout 180 || fail "kill -9 mid-burst"
fi

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""
[ "$rc" -eq 0 ] || fail "serve exited with $rc after SIGTERM"
kill -TERM "$smsc_pid"
wait "$smsc_pid" || fail "smsc.js did not stop cleanly"
smsc_pid=""
echo "sms_flow: passed"
