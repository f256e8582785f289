#!/usr/bin/env bash
# The REST API's transport rules on a real `switchboard serve`:
#   - plain HTTP on a non-loopback address is refused at start (naming the setting) unless
#     http.allow_plain_remote is on;
#   - with a certificate, HTTPS answers over TLS 1.2 and 1.3 and refuses TLS 1.1;
#   - repeated authentication failures from one address are answered ever more slowly, while
#     correct credentials stay fast;
#   - keep-alive: several requests on one connection.
# Usage: api_transport.sh path/to/switchboard
set -u
bin=${1:?usage: api_transport.sh BINARY}
source "$(dirname "$0")/common.sh"
for tool in curl openssl; do
  command -v $tool > /dev/null || fail "$tool not found (Debian packages curl, openssl)"
done
common=(--set "data_dir=$tmp/data" --set sip.listen=udp:127.0.0.1:0)

# 1. Plain HTTP beyond loopback.
if "$bin" serve "${common[@]}" --set http.listen=0.0.0.0:0 > "$tmp/plain.out" 2> "$tmp/plain.err"; then
  fail "serve started plain HTTP on 0.0.0.0"
fi
grep -q "http.allow_plain_remote" "$tmp/plain.err" || fail "the refusal does not name http.allow_plain_remote"

# 2. HTTPS with a self-signed certificate made here.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 2 \
  -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" > /dev/null 2>&1 ||
  fail "openssl could not make a certificate"
acc=$("$bin" admin "${common[@]}" account create --name tls 2> "$tmp/admin.err") || fail "account create"
sid=$(echo "$acc" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sid"])')
token=$(echo "$acc" | python3 -c 'import json,sys; print(json.load(sys.stdin)["auth_token"])')
start_serve "$bin" "${common[@]}" --set http.listen=127.0.0.1:0 --set http.tls.listen=127.0.0.1:0 \
  --set "http.tls.certificate=$tmp/cert.pem" --set "http.tls.key=$tmp/key.pem"
https=$(sed -n 's/^# http listening: \(https:.*\)$/\1/p' "$tmp/serve.out")
http=$(sed -n 's/^# http listening: \(http:.*\)$/\1/p' "$tmp/serve.out")
[ -n "$https" ] && [ -n "$http" ] || fail "serve did not print both listeners"
url="/2010-04-01/Accounts/$sid.json"

for v in 1.2 1.3; do
  code=$(curl -s -o "$tmp/tls.json" -w '%{http_code}' --cacert "$tmp/cert.pem" --tlsv$v --tls-max $v \
    -u "$sid:$token" "$https$url")
  [ "$code" = 200 ] || fail "HTTPS over TLS $v answered $code"
  grep -q "\"sid\":\"$sid\"" "$tmp/tls.json" || fail "HTTPS over TLS $v: wrong body"
done
if curl -s -o /dev/null --cacert "$tmp/cert.pem" --tlsv1.1 --tls-max 1.1 -u "$sid:$token" "$https$url" 2> /dev/null; then
  fail "TLS 1.1 was accepted"
fi
if curl -s -o /dev/null -u "$sid:$token" "$https$url" 2> /dev/null; then
  fail "an unverified certificate was accepted by curl (test is broken)"
fi

# 3. Keep-alive: three requests, one connection.
curl -s -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' -u "$sid:$token" \
  "$http$url" "$http$url" "$http$url" > "$tmp/connects.out" || fail "keep-alive requests failed"
connects=$(awk '{ n += $1 } END { print n }' "$tmp/connects.out")
[ "$connects" = 1 ] || fail "three requests took $connects connections"

# 4. Failures slow down; the right token does not.
for i in $(seq 1 5); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -u "$sid:wrong$i" "$http$url")
  [ "$code" = 401 ] || fail "wrong token answered $code"
done
t=$(curl -s -o /dev/null -w '%{time_total}' -u "$sid:wrong6" "$http$url")
t2=$(curl -s -o /dev/null -w '%{time_total}' -u "$sid:wrong7" "$http$url")
python3 -c "import sys; sys.exit(0 if float('$t') >= 0.2 and float('$t2') >= 2 * 0.2 else 1)" ||
  fail "the 6th and 7th failures took ${t}s and ${t2}s; want >= 0.25 s, doubling"
ok=$(curl -s -o /dev/null -w '%{time_total}' -u "$sid:$token" "$http$url")
python3 -c "import sys; sys.exit(0 if float('$ok') < 0.2 else 1)" ||
  fail "correct credentials took ${ok}s after the failures"

kill -TERM "$pid"
wait "$pid" || fail "serve exited with an error"
pid=""
grep -q " 7 authentication failures" "$tmp/serve.err" || fail "the stop line does not count 7 failures"
echo "api_transport: passed"
