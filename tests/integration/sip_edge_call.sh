#!/usr/bin/env bash
# A call through the edge with real SIPp peers: bob's SIPp callee is registered (digest, by a
# second SIPp on his behalf), alice's SIPp caller authenticates (407) and calls bob:
# INVITE, 180, 200, ACK, BYE, 200 end to end. Then a callee that answers 486 (relayed, not
# failed over), a call to a user with no binding (480), a parallel fork to two bindings of
# one user (one answers, the other is cancelled), a caller's CANCEL propagated to the
# callee, no answer (timer C: the ringing callee is cancelled, the caller gets 408), a
# redirect domain (302), and the same call over TCP and over TLS.
# Usage: sip_edge_call.sh BINARY
source "$(dirname "$0")/sip/lib.sh" "$1"
need sipp

mkdir -p -m 0700 "$WORK/a"
admin a sip-user add --domain example.com --user alice --password alicepw
admin a sip-user add --domain example.com --user bob --password bobpw
admin a sip-user add --domain example.com --user carol --password carolpw
admin a sip-user add --domain example.com --user erin --password erinpw
admin a sip-user add --domain example.com --user frank --password frankpw
start_server a --set sip.listen=udp:127.0.0.1:0 --set sip.proxy.timer_c=2

# 1. bob answers.
uas=$(free_udp_port)
sipp_bg uas -sf "$SIPP_DIR/uas_answer.xml" -p "$uas" -m 1
sleep 0.3
sipp_run reg_bob -sf "$SIPP_DIR/register.xml" -m 1 -au bob -ap bobpw -key user bob \
  -key domain example.com -key contact_port "$uas" -auth_uri example.com "$SRV_UDP" \
  || fail "bob's REGISTER did not get 200"
sipp_run call -sf "$SIPP_DIR/uac_call.xml" -m 1 -s alice -au alice -ap alicepw -key callee bob \
  -key domain example.com "$SRV_UDP" || fail "the call alice -> bob did not complete"
wait "$LAST_BG" || fail "bob's SIPp did not see the whole call"
# Our Record-Route carries the dialog's token: only this dialog's requests may route through it.
grep -Eq "^Record-Route: <sip:${SRV_UDP};lr;sbd=[0-9a-f]{16}>" "$WORK/uas.msg" \
  || fail "no Record-Route (with its dialog token) at the callee"
grep -q "^SIP/2.0 180 Ringing" "$WORK/call.msg" || fail "the caller did not hear 180"
echo "ok: authenticated call alice -> bob (INVITE/180/200/ACK/BYE/200)"

# 2. carol is busy: the 486 reaches the caller.
busy=$(free_udp_port)
sipp_bg busy -sf "$SIPP_DIR/uas_busy.xml" -p "$busy" -m 1
sleep 0.3
sipp_run reg_carol -sf "$SIPP_DIR/register.xml" -m 1 -au carol -ap carolpw -key user carol \
  -key domain example.com -key contact_port "$busy" -auth_uri example.com "$SRV_UDP" \
  || fail "carol's REGISTER did not get 200"
sed 's/\[expect\]/486/' "$SIPP_DIR/uac_call_fail.xml" > "$WORK/uac_486.xml"
sipp_run call486 -sf "$WORK/uac_486.xml" -m 1 -s alice -au alice -ap alicepw -key callee carol \
  -key domain example.com "$SRV_UDP" || fail "486 was not relayed to the caller"
wait "$LAST_BG" || fail "carol's SIPp did not get its ACK"
echo "ok: 486 relayed"

# 3. dave has no binding: 480.
sed 's/\[expect\]/480/' "$SIPP_DIR/uac_call_fail.xml" > "$WORK/uac_480.xml"
sipp_run call480 -sf "$WORK/uac_480.xml" -m 1 -s alice -au alice -ap alicepw -key callee dave \
  -key domain example.com "$SRV_UDP" || fail "a call to an unregistered user did not get 480"
echo "ok: 480 for a user without bindings"

# 4. Parallel fork: erin has two bindings; one answers, the other rings and gets CANCEL.
p1=$(free_udp_port)
p2=$(free_udp_port)
sipp_bg fork_answer -sf "$SIPP_DIR/uas_answer.xml" -p "$p1" -m 1
pid_answer=$LAST_BG
sipp_bg fork_ring -sf "$SIPP_DIR/uas_ring_cancel.xml" -p "$p2" -m 1
pid_ring=$LAST_BG
sleep 0.3
for port in "$p1" "$p2"; do
  sipp_run "reg_erin_$port" -sf "$SIPP_DIR/register.xml" -m 1 -au erin -ap erinpw -key user erin \
    -key domain example.com -key contact_port "$port" -auth_uri example.com "$SRV_UDP" \
    || fail "erin's REGISTER for $port"
done
sipp_run fork -sf "$SIPP_DIR/uac_call.xml" -m 1 -s alice -au alice -ap alicepw -key callee erin \
  -key domain example.com "$SRV_UDP" || fail "the forked call was not answered"
wait "$pid_answer" || fail "the answering branch did not complete"
wait "$pid_ring" || fail "the other branch was not cancelled (CANCEL, 487, ACK)"
echo "ok: parallel fork, 2xx forwarded, other branch cancelled"

# 5. The caller cancels: CANCEL reaches the ringing callee, 487 comes back.
p3=$(free_udp_port)
sipp_bg cancel_callee -sf "$SIPP_DIR/uas_ring_cancel.xml" -p "$p3" -m 1
sleep 0.3
sipp_run reg_frank -sf "$SIPP_DIR/register.xml" -m 1 -au frank -ap frankpw -key user frank \
  -key domain example.com -key contact_port "$p3" -auth_uri example.com "$SRV_UDP" \
  || fail "frank's REGISTER"
sipp_run cancel -sf "$SIPP_DIR/uac_cancel.xml" -m 1 -s alice -au alice -ap alicepw -key callee frank \
  -key domain example.com "$SRV_UDP" || fail "the caller's CANCEL did not end the call with 487"
wait "$LAST_BG" || fail "the callee did not see CANCEL/ACK"
echo "ok: caller CANCEL propagated"

# 6. No answer: frank rings past timer C (2 s): the branch is cancelled, the caller gets 408.
p4=$(free_udp_port)
sipp_bg noanswer_callee -sf "$SIPP_DIR/uas_ring_cancel.xml" -p "$p4" -m 1
sleep 0.3
sipp_run reg_frank2 -sf "$SIPP_DIR/register.xml" -m 1 -au frank -ap frankpw -key user frank \
  -key domain example.com -key contact_port "$p4" -auth_uri example.com "$SRV_UDP" \
  || fail "frank's second REGISTER"
# Only the new binding should ring: remove the old one first (its SIPp has exited).
sed 's/\[expect\]/408/' "$SIPP_DIR/uac_call_fail.xml" > "$WORK/uac_408.xml"
sipp_run noanswer -sf "$WORK/uac_408.xml" -m 1 -s alice -au alice -ap alicepw -key callee frank \
  -key domain example.com "$SRV_UDP" || fail "no answer did not give 408"
wait "$LAST_BG" || fail "the unanswered callee was not cancelled"
echo "ok: no answer -> CANCEL to the callee, 408 to the caller"

# 7. Redirect mode: a domain configured so answers 302 with the bindings as Contacts.
stop_server
admin d sip-user add --domain redirect.example.com --user rita --password ritapw
start_server d --set sip.listen=udp:127.0.0.1:0 --set sip.redirect_domains=redirect.example.com
sipp_run reg_rita -sf "$SIPP_DIR/register.xml" -m 1 -au rita -ap ritapw -key user rita \
  -key domain redirect.example.com -key contact_port 5999 -auth_uri redirect.example.com "$SRV_UDP" \
  || fail "rita's REGISTER"
sipp_run redirect -sf "$SIPP_DIR/uac_redirect.xml" -m 1 -s alice -key callee rita \
  -key domain redirect.example.com "$SRV_UDP" || fail "no 302 from the redirect domain"
grep -q "^Contact: <sip:rita@127.0.0.1:5999>" "$WORK/redirect.msg" || fail "302 without the binding"
echo "ok: redirect mode: 302 with the binding as Contact"

# 8. The same call over TCP and over TLS (the caller's leg; siptool.py as the caller since
# Debian's SIPp has no TLS). Over TCP the callee is a SIPp on TCP too, registered with a
# ;transport=tcp Contact; over TLS the callee answers on UDP, so the proxy changes transport
# and records its route twice (RFC 5658).
stop_server
need openssl
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" > /dev/null 2>&1 || fail "openssl req"
admin x sip-user add --domain example.com --user alice --password alicepw
admin x sip-user add --domain example.com --user tina --password tinapw
admin x sip-user add --domain example.com --user lars --password larspw
start_server x --set sip.listen=udp:127.0.0.1:0,tcp:127.0.0.1:0,tls:127.0.0.1:0 \
  --set sip.tls.certificate="$WORK/cert.pem" --set sip.tls.key="$WORK/key.pem"

check_call() {  # check_call JSON LABEL
  local out=$1
  [ "$(json_get "$out" "['steps'][0]['status']")" = 407 ] || fail "$2: no 407 first: $out"
  [ "$(json_get "$out" "['steps'][1]['status']")" = 200 ] || fail "$2: INVITE not answered: $out"
  json_get "$out" "['steps'][1]['provisional']" | grep -q 180 || fail "$2: no 180: $out"
  [ "$(json_get "$out" "['steps'][2]['status']")" = 200 ] || fail "$2: BYE not answered: $out"
}

tcp_port=$(free_udp_port)
sipp_bg tcp_callee -sf "$SIPP_DIR/uas_answer.xml" -t t1 -p "$tcp_port" -m 1
pid_tcp=$LAST_BG
sed 's/\[contact_port\]>/[contact_port];transport=tcp>/' "$SIPP_DIR/register.xml" > "$WORK/register_tcp.xml"
sleep 0.3
sipp_run reg_tina -sf "$WORK/register_tcp.xml" -m 1 -au tina -ap tinapw -key user tina \
  -key domain example.com -key contact_port "$tcp_port" -auth_uri example.com "$SRV_UDP" \
  || fail "tina's REGISTER"
out=$($SIPTOOL call --server "tcp:$SRV_TCP" --user alice --password alicepw --domain example.com \
  --callee tina) || fail "siptool call over TCP: $out"
check_call "$out" TCP
wait "$pid_tcp" || fail "the TCP callee did not see the whole call"
grep -Eq "^Record-Route: <sip:${SRV_TCP};transport=tcp;lr;sbd=[0-9a-f]{16}>" "$WORK/tcp_callee.msg" \
  || fail "no TCP Record-Route at the TCP callee"
echo "ok: call over TCP, caller and callee (INVITE/407/180/200/ACK/BYE/200)"

udp_port=$(free_udp_port)
sipp_bg tls_callee -sf "$SIPP_DIR/uas_answer.xml" -p "$udp_port" -m 1
pid_tls=$LAST_BG
sleep 0.3
sipp_run reg_lars -sf "$SIPP_DIR/register.xml" -m 1 -au lars -ap larspw -key user lars \
  -key domain example.com -key contact_port "$udp_port" -auth_uri example.com "$SRV_UDP" \
  || fail "lars's REGISTER"
out=$($SIPTOOL call --server "tls:$SRV_TLS" --user alice --password alicepw --domain example.com \
  --callee lars) || fail "siptool call over TLS: $out"
check_call "$out" TLS
[ "$(json_get "$out" "['tls_version']")" != None ] || fail "not TLS"
json_get "$out" "['record_route']" | grep -q "transport=tls" || fail "no TLS Record-Route: $out"
wait "$pid_tls" || fail "the callee of the TLS caller did not see the whole call"
echo "ok: call over TLS (caller) to a UDP callee, double Record-Route"
