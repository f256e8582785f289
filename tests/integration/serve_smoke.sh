#!/usr/bin/env bash
# Whole-binary check of `switchboard serve` and the command-line front door:
#   - serve on its defaults (data_dir in a temporary folder, ports chosen by the OS) prints the
#     resolved configuration, creates data_dir, and exits 0 with a log line on SIGTERM;
#   - `serve --check` prints the configuration and exits 0 without creating data_dir;
#   - an unknown key fails and names the key; an unknown command exits 2.
# Usage: serve_smoke.sh path/to/switchboard
set -u
bin=${1:?usage: serve_smoke.sh BINARY}
source "$(dirname "$0")/common.sh"

# 1. serve until SIGTERM.
start_serve "$bin" --set data_dir="$tmp/data" --set http.listen=127.0.0.1:0 \
  --set sip.listen=udp:127.0.0.1:0
grep -qx "data_dir: $tmp/data" "$tmp/serve.out" || fail "data_dir not in the printed configuration"
grep -qx "  listen: 127.0.0.1:0" "$tmp/serve.out" || fail "http.listen override not printed"
grep -qx "  url: sqlite:$tmp/data/switchboard.db" "$tmp/serve.out" || fail "store.url not derived"
[ -d "$tmp/data" ] || fail "data_dir was not created"
kill -0 "$pid" 2> /dev/null || fail "serve exited before SIGTERM"

kill -TERM "$pid"
wait_for 10 sh -c "! kill -0 $pid 2> /dev/null" || fail "serve still running 10 s after SIGTERM"
wait "$pid"
rc=$?
pid=""
[ "$rc" -eq 0 ] || fail "serve exited with $rc after SIGTERM, want 0"
grep -q "info serve: stopping on SIGTERM" "$tmp/serve.err" || fail "no log line for the stop"

# 2. --check validates, prints and exits without side effects.
"$bin" serve --check --set data_dir="$tmp/checked" > "$tmp/check.out" 2> "$tmp/check.err" ||
  fail "serve --check failed"
grep -qx "  max_message_bytes: 65536" "$tmp/check.out" || fail "serve --check printed no configuration"
[ ! -e "$tmp/checked" ] || fail "serve --check created data_dir"

# 3. Mistakes are refused with a message that names them.
"$bin" serve --set nosuch.key=1 > "$tmp/badkey.out" 2> "$tmp/badkey.err"
rc=$?
[ "$rc" -ne 0 ] || fail "an unknown key was accepted"
grep -q "nosuch.key" "$tmp/badkey.err" || fail "the error does not name the unknown key"
"$bin" serve --set sip.listen=udp:127.0.0.1:70000 > /dev/null 2> "$tmp/badport.err"
[ $? -ne 0 ] || fail "a port out of range was accepted"
grep -q "sip.listen" "$tmp/badport.err" || fail "the error does not name sip.listen"

"$bin" bogus > "$tmp/bogus.out" 2> "$tmp/bogus.err"
rc=$?
[ "$rc" -eq 2 ] || fail "an unknown command exited $rc, want 2"
grep -q "^usage: switchboard" "$tmp/bogus.err" || fail "no usage text for an unknown command"
"$bin" status > /dev/null 2>&1
[ $? -eq 2 ] || fail "status should exit 2 (not implemented yet)"
"$bin" --help | grep -q "sip lint FILE" || fail "--help"
"$bin" --version | grep -q "^switchboard [0-9]" || fail "--version"
echo "serve smoke: ok"
