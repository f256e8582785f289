#!/usr/bin/env bash
# The registrar and digest authentication over every transport, with siptool.py (a small UA
# of our own) and SIPp:
#   good password -> 200 with the binding; wrong password -> 401 again; the same
#   Authorization sent twice (replayed nc) -> 401; an expired nonce -> 401 stale=true;
#   SHA-256; TCP, TLS (1.2/1.3), WS and WSS; a query; registrar-only listener -> 501;
#   bindings back after a restart.
# Usage: sip_edge_register.sh BINARY
source "$(dirname "$0")/sip/lib.sh" "$1"
need sipp
need openssl

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" > /dev/null 2>&1 || fail "openssl req"

admin r sip-user add --domain example.com --user alice --password alicepw
admin r sip-user add --domain secure.example.com --user alice --password alicepw
start_server r --set sip.listen=udp:127.0.0.1:0,tcp:127.0.0.1:0,tls:127.0.0.1:0,ws:127.0.0.1:0,wss:127.0.0.1:0 \
  --set sip.tls.certificate="$WORK/cert.pem" --set sip.tls.key="$WORK/key.pem" \
  --set sip.auth.nonce_lifetime=10 --set sip.domains=example.com,secure.example.com \
  --set sip.auth.sha256_domains=secure.example.com

reg() { $SIPTOOL register --user alice --domain example.com "$@"; }
status_of() { json_get "$1" "['steps'][$2]['status']"; }

out=$(reg --server "udp:$SRV_UDP" --password alicepw) || fail "siptool: $out"
[ "$(status_of "$out" 0)" = 401 ] || fail "first REGISTER not challenged: $out"
[ "$(status_of "$out" 1)" = 200 ] || fail "good password not accepted: $out"
json_get "$out" "['steps'][1]['contact'][0]" | grep -q "expires=300" || fail "no binding in 200: $out"
echo "ok: digest MD5 over UDP"

out=$(reg --server "udp:$SRV_UDP" --password wrong)
[ "$(status_of "$out" 1)" = 401 ] || fail "wrong password accepted: $out"
echo "ok: wrong password -> 401"

out=$(reg --server "udp:$SRV_UDP" --password alicepw --replay)
[ "$(status_of "$out" 1)" = 200 ] && [ "$(status_of "$out" 2)" = 401 ] || fail "replay not refused: $out"
echo "ok: replayed nonce-count -> 401"

# By default one MD5 challenge (what common phones take); SHA-256 where configured.
out=$(reg --server "udp:$SRV_UDP" --password alicepw --algorithm SHA-256)
[ "$(json_get "$out" "['error']")" = "no challenge for SHA-256" ] \
  || fail "example.com offered SHA-256 without sip.auth.sha256_domains: $out"
out=$($SIPTOOL register --user alice --domain secure.example.com --server "udp:$SRV_UDP" \
  --password alicepw --algorithm SHA-256)
[ "$(status_of "$out" 1)" = 200 ] || fail "SHA-256 not accepted in secure.example.com: $out"
out=$($SIPTOOL register --user alice --domain secure.example.com --server "udp:$SRV_UDP" \
  --password alicepw)
[ "$(status_of "$out" 1)" = 200 ] || fail "MD5 not accepted next to SHA-256: $out"
echo "ok: digest SHA-256 in a sha256 domain, MD5 alone elsewhere"

for t in tcp tls ws wss; do
  var="SRV_${t^^}"
  out=$(reg --server "$t:${!var}" --password alicepw) || fail "siptool over $t: $out"
  [ "$(status_of "$out" 1)" = 200 ] || fail "REGISTER over $t: $out"
  if [ "$t" = tls ] || [ "$t" = wss ]; then
    v=$(json_get "$out" "['tls_version']")
    [ "$v" = TLSv1.3 ] || [ "$v" = TLSv1.2 ] || fail "TLS version $v"
  fi
  echo "ok: REGISTER over $t"
done
# TLS 1.1 is refused.
if echo | openssl s_client -connect "$SRV_TLS" -tls1_1 > "$WORK/tls11.out" 2>&1; then
  grep -q "Protocol  *: TLSv1.1" "$WORK/tls11.out" && fail "TLS 1.1 accepted"
fi
echo "ok: TLS 1.1 refused"

# SIPp registers too (its digest over UDP).
sipp_run sipp_reg -sf "$SIPP_DIR/register.xml" -m 1 -au alice -ap alicepw -key user alice \
  -key domain example.com -key contact_port 5999 -auth_uri example.com "$SRV_UDP" \
  || fail "SIPp REGISTER"
echo "ok: SIPp digest REGISTER"

# An expired nonce with the right password: 401 with stale=true.
out=$(reg --server "udp:$SRV_UDP" --password alicepw --wait 11.5)
[ "$(status_of "$out" 1)" = 401 ] || fail "expired nonce accepted: $out"
[ "$(json_get "$out" "['steps'][1]['stale']")" = True ] || fail "no stale=true: $out"
echo "ok: expired nonce -> 401 stale=true"

# A REGISTER for another domain.
out=$($SIPTOOL register --user alice --domain other.org --server "udp:$SRV_UDP" --password x)
[ "$(status_of "$out" 0)" = 403 ] || fail "foreign domain: $out"
echo "ok: foreign domain -> 403"

# Restart: the bindings come back from the store (a query, no Contact, lists them).
stop_server
start_server r --set sip.listen=udp:127.0.0.1:0 --set sip.domains=example.com
out=$(reg --server "udp:$SRV_UDP" --password alicepw --query)
[ "$(status_of "$out" 1)" = 200 ] || fail "query after restart: $out"
n=$(json_get "$out" "['steps'][1]['contact'].__len__()")
[ "$n" -ge 6 ] || fail "bindings lost in the restart (got $n): $out"
echo "ok: $n bindings back after a restart"
stop_server

# A registrar-only listener answers everything but REGISTER with 501.
start_server ro --set sip.listen=udp:127.0.0.1:0,tcp:127.0.0.1:0 --set sip.registrar_only=tcp:127.0.0.1:0
cat > "$WORK/options.txt" <<MSG
OPTIONS sip:bob@example.com SIP/2.0
Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKro1;rport
From: <sip:alice@example.com>;tag=1
To: <sip:bob@example.com>
Call-ID: ro-1
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

MSG
out=$($SIPTOOL raw --server "tcp:$SRV_TCP" --file "$WORK/options.txt")
[ "$(json_get "$out" "['status']")" = 501 ] || fail "registrar-only listener: $out"
out=$($SIPTOOL register --user alice --domain example.com --server "tcp:$SRV_TCP")
[ "$(status_of "$out" 0)" = 401 ] || fail "REGISTER on the registrar-only listener: $out"
echo "ok: registrar-only listener: 501 for OPTIONS, REGISTER served"
