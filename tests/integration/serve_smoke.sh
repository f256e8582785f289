#!/usr/bin/env bash
# `switchboard serve` starts on its defaults (data_dir moved to a temporary folder), prints
# its resolved configuration, creates data_dir, and stops with status 0 on SIGTERM; a bad
# key or an unknown command fails with a clear message. Usage: serve_smoke.sh BINARY
set -u
bin=$1
tmp=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2> /dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bin" serve --set data_dir="$tmp/data" --set sip.listen=udp:127.0.0.1:0 \
  --set http.listen=127.0.0.1:0 > "$tmp/out" 2> "$tmp/err" &
pid=$!
for _ in $(seq 1 100); do
  grep -q "active parts" "$tmp/out" 2> /dev/null && break
  sleep 0.1
done
grep -q "data_dir: $tmp/data" "$tmp/out" || fail "resolved configuration not printed: $(cat "$tmp/out" "$tmp/err")"
grep -q "url: sqlite:$tmp/data/switchboard.db" "$tmp/out" || fail "store.url not derived"
[ -d "$tmp/data" ] || fail "data_dir not created"
kill -TERM "$pid"
rc=""
for _ in $(seq 1 100); do
  if ! kill -0 "$pid" 2> /dev/null; then
    wait "$pid"
    rc=$?
    break
  fi
  sleep 0.1
done
pid=""
[ "$rc" = 0 ] || fail "serve exited with '$rc' after SIGTERM"
grep -q "stopping on SIGTERM" "$tmp/err" || fail "no stop log line"

"$bin" serve --set nosuch.key=1 > /dev/null 2> "$tmp/err2"
rc=$?
[ "$rc" -ne 0 ] || fail "unknown key accepted"
grep -q "nosuch.key" "$tmp/err2" || fail "error does not name the key"

"$bin" serve --check --set data_dir="$tmp/d2" > "$tmp/out2" || fail "serve --check failed"
grep -q "max_message_bytes: 65536" "$tmp/out2" || fail "serve --check printed no config"

"$bin" bogus > /dev/null 2>&1
[ $? -eq 2 ] || fail "unknown command did not exit 2"
"$bin" --version | grep -q "^switchboard " || fail "--version"
echo "serve smoke: ok"
