#!/usr/bin/env bash
# Trunks through the edge with real SIPp gateways: numbers dialled by a registered user are
# routed by prefix to a trunk's gateways. A gateway answering 503 or not answering at all is
# failed over to the next one; a 486 is relayed and never tried elsewhere; OPTIONS probes take
# a silent gateway out (calls skip it) and bring it back once it answers; a carrier's INVITE
# is accepted by source address (the trunk's ACL) without a challenge, while the same INVITE
# from elsewhere is refused. Calls on a stateless route complete (authenticated, 180/200,
# ACK, BYE) and a CANCEL on one reaches the gateway, its 487 coming back.
# Usage: sip_edge_trunk.sh BINARY
source "$(dirname "$0")/sip/lib.sh" "$1"
need sipp

# A UDP socket that records what it receives and never answers: a dead gateway we can watch.
black_hole() {
  local port=$1 log=$2
  python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        data, _ = s.recvfrom(65535)
        f.write(data.split(b"\r\n", 1)[0] + b"\n")
' "$port" "$log" &
  LAST_BG=$!
  PIDS+=("$LAST_BG")
}

# wait_log PATTERN SECONDS: until the server's log has PATTERN.
wait_log() {
  local tries=$(($2 * 10))
  while [ $tries -gt 0 ] && ! grep -q "$1" "$WORK/t.err"; do
    sleep 0.1
    tries=$((tries - 1))
  done
  [ $tries -gt 0 ]
}

mkdir -p -m 0700 "$WORK/t"
admin t sip-user add --domain example.com --user alice --password alicepw
admin t sip-user add --domain example.com --user bob --password bobpw

gw503=$(free_udp_port)
gw_after503=$(free_udp_port)
gw486=$(free_udp_port)
gw_unused=$(free_udp_port)
gw_dead=$(free_udp_port)
gw_after_dead=$(free_udp_port)
gw_probed=$(free_udp_port)
gw_spare=$(free_udp_port)
bob_port=$(free_udp_port)
gw_sl=$(free_udp_port)
gw_slc=$(free_udp_port)

# The heavier gateway is the dispatcher's first choice (weighted), the other the failover.
admin t trunk add --name fo503 --algorithm weighted --probe-interval 0 \
  --gateways "udp:127.0.0.1:$gw503*100,udp:127.0.0.1:$gw_after503*1"
admin t trunk add --name busy --algorithm weighted --probe-interval 0 \
  --gateways "udp:127.0.0.1:$gw486*100,udp:127.0.0.1:$gw_unused*1"
admin t trunk add --name dead --algorithm weighted --probe-interval 0 \
  --gateways "udp:127.0.0.1:$gw_dead*100,udp:127.0.0.1:$gw_after_dead*1"
admin t trunk add --name probed --algorithm weighted --probe-interval 1 \
  --gateways "udp:127.0.0.1:$gw_probed*100,udp:127.0.0.1:$gw_spare*1"
admin t trunk add --name carrier --gateways "udp:127.0.0.1:9*1" --probe-interval 0 \
  --acl 127.0.0.5/32
admin t route add --prefix +491 --trunk fo503
admin t route add --prefix +492 --trunk busy
admin t route add --prefix +493 --trunk dead
admin t route add --prefix +494 --trunk probed
admin t trunk add --name sl --probe-interval 0 --gateways "udp:127.0.0.1:$gw_sl*1"
admin t trunk add --name slc --probe-interval 0 --gateways "udp:127.0.0.1:$gw_slc*1"
admin t route add --prefix +495 --trunk sl --stateless
admin t route add --prefix +496 --trunk slc --stateless

# The probed trunk's gateways are up before the server: a silent one and a SIPp that
# answers OPTIONS (-aa; SIPp counts each OPTIONS as a call, hence -m 100: the caller's
# scenario is what tells the call completed, and cleanup stops it).
black_hole "$gw_probed" "$WORK/probed.log"
hole_pid=$LAST_BG
sipp_bg g_spare -sf "$SIPP_DIR/uas_answer.xml" -p "$gw_spare" -m 100 -aa
sleep 0.3
start_server t --set sip.listen=udp:127.0.0.1:0 --set sip.domains=example.com \
  --set sip.dispatcher.gateway_timeout_ms=1000 --set sip.dispatcher.probe_timeout_ms=500
SRV_IP=${SRV_UDP%:*}

# 1. 503 from the first gateway: the call completes on the second.
sed 's/486 Busy Here/503 Service Unavailable/' "$SIPP_DIR/uas_busy.xml" > "$WORK/uas_503.xml"
sipp_bg g503 -sf "$WORK/uas_503.xml" -p "$gw503" -m 1
pid_503=$LAST_BG
sipp_bg g_after503 -sf "$SIPP_DIR/uas_answer.xml" -p "$gw_after503" -m 1
pid_after503=$LAST_BG
sleep 0.3
sipp_run call503 -sf "$SIPP_DIR/uac_call.xml" -m 1 -s alice -au alice -ap alicepw \
  -key callee +4911111 -key domain example.com "$SRV_UDP" || fail "the call did not fail over on 503"
wait "$pid_503" || fail "the first gateway did not get the INVITE and its ACK"
wait "$pid_after503" || fail "the second gateway did not carry the call"
grep -q "^INVITE sip:+4911111@127.0.0.1:$gw_after503 SIP/2.0" "$WORK/g_after503.msg" \
  || fail "the gateway's Request-URI is not the dialled number at the gateway"
echo "ok: 503 from a gateway -> failover to the next, call completed"

# 2. 486 from the first gateway is the callee's answer: relayed, the other never rung.
sipp_bg g486 -sf "$SIPP_DIR/uas_busy.xml" -p "$gw486" -m 1
pid_486=$LAST_BG
black_hole "$gw_unused" "$WORK/unused.log"
sleep 0.3
sed 's/\[expect\]/486/' "$SIPP_DIR/uac_call_fail.xml" > "$WORK/uac_486.xml"
sipp_run call486 -sf "$WORK/uac_486.xml" -m 1 -s alice -au alice -ap alicepw \
  -key callee +4922222 -key domain example.com "$SRV_UDP" || fail "486 was not relayed"
wait "$pid_486" || fail "the busy gateway did not get its ACK"
sleep 0.5
[ ! -s "$WORK/unused.log" ] || fail "486 was failed over: $(cat "$WORK/unused.log")"
echo "ok: 486 relayed, not failed over"

# 3. A gateway that does not answer at all: after the gateway timeout, the next one.
black_hole "$gw_dead" "$WORK/dead.log"
sipp_bg g_after_dead -sf "$SIPP_DIR/uas_answer.xml" -p "$gw_after_dead" -m 1
pid_after_dead=$LAST_BG
sleep 0.3
sipp_run calldead -sf "$SIPP_DIR/uac_call.xml" -m 1 -s alice -au alice -ap alicepw \
  -key callee +4933333 -key domain example.com "$SRV_UDP" || fail "no failover from a silent gateway"
wait "$pid_after_dead" || fail "the second gateway did not carry the call"
grep -q "^INVITE sip:+4933333@" "$WORK/dead.log" || fail "the silent gateway was never tried"
echo "ok: silent gateway -> failover after the gateway timeout"

# 4. Probes: the silent probed gateway is taken out; calls go to the spare at once and the
# silent one never sees them; when it answers OPTIONS again it is back in.
wait_log "gateway udp:127.0.0.1:$gw_probed of trunk probed out" 5 \
  || fail "the silent gateway was not taken out by its probes"
grep -q "^OPTIONS sip:127.0.0.1:$gw_probed SIP/2.0" "$WORK/probed.log" || fail "no OPTIONS probe seen"
sipp_run callprobed -sf "$SIPP_DIR/uac_call.xml" -m 1 -s alice -au alice -ap alicepw \
  -key callee +4944444 -key domain example.com "$SRV_UDP" || fail "the call to the probed trunk"
grep -q "^INVITE sip:+4944444@127.0.0.1:$gw_spare " "$WORK/g_spare.msg" \
  || fail "the spare gateway did not carry the call"
! grep -q "^INVITE" "$WORK/probed.log" || fail "a call went to the gateway the probes took out"
kill "$hole_pid"
wait "$hole_pid" 2> /dev/null
sipp_bg g_probed -sf "$SIPP_DIR/uas_answer.xml" -p "$gw_probed" -m 100 -aa
wait_log "gateway udp:127.0.0.1:$gw_probed of trunk probed back in" 5 \
  || fail "the gateway was not brought back after answering OPTIONS"
sipp_run callprobed2 -sf "$SIPP_DIR/uac_call.xml" -m 1 -s alice -au alice -ap alicepw \
  -key callee +4944445 -key domain example.com "$SRV_UDP" || fail "the call after recovery"
grep -q "^INVITE sip:+4944445@127.0.0.1:$gw_probed " "$WORK/g_probed.msg" \
  || fail "the recovered gateway did not carry the call"
echo "ok: OPTIONS probes take a silent gateway out and bring it back"

# 5. Inbound from the carrier (ACL 127.0.0.5): no challenge, delivered to bob's binding.
sipp_bg bob -sf "$SIPP_DIR/uas_answer.xml" -p "$bob_port" -m 1
pid_bob=$LAST_BG
sleep 0.3
sipp_run reg_bob -sf "$SIPP_DIR/register.xml" -m 1 -au bob -ap bobpw -key user bob \
  -key domain example.com -key contact_port "$bob_port" -auth_uri example.com "$SRV_UDP" \
  || fail "bob's REGISTER"
sipp -nostdin -i 127.0.0.5 -p "$(free_udp_port)" -timeout 20s -timeout_error \
  -trace_err -error_file "$WORK/inbound.errors.log" -trace_msg -message_file "$WORK/inbound.msg" \
  -sf "$SIPP_DIR/uac_call_trunk.xml" -m 1 -key callee bob -key domain "$SRV_UDP" "$SRV_UDP" \
  > "$WORK/inbound.out" 2>&1 || fail "the carrier's call to bob (by ACL) did not complete"
wait "$pid_bob" || fail "bob did not get the carrier's call"
# The same INVITE from an address outside the ACL is refused.
sipp -nostdin -i 127.0.0.6 -p "$(free_udp_port)" -timeout 10s -timeout_error \
  -trace_msg -message_file "$WORK/outsider.msg" -sf "$SIPP_DIR/uac_call_trunk.xml" -m 1 \
  -key callee bob -key domain "$SRV_UDP" "$SRV_UDP" > "$WORK/outsider.out" 2>&1 \
  && fail "a call from outside the ACL got through"
grep -q "^SIP/2.0 403" "$WORK/outsider.msg" || fail "no 403 for a call from outside the ACL"
echo "ok: carrier's call accepted by ACL without a challenge; the same from elsewhere refused"

# 6. Stateless routes: an authenticated call completes, and a CANCEL reaches the gateway.
sipp_bg g_sl -sf "$SIPP_DIR/uas_answer.xml" -p "$gw_sl" -m 1
pid_sl=$LAST_BG
sipp_bg g_slc -sf "$SIPP_DIR/uas_ring_cancel.xml" -p "$gw_slc" -m 1
pid_slc=$LAST_BG
sleep 0.3
sipp_run callsl -sf "$SIPP_DIR/uac_call.xml" -m 1 -s alice -au alice -ap alicepw \
  -key callee +4955555 -key domain example.com "$SRV_UDP" || fail "the call on a stateless route"
wait "$pid_sl" || fail "the stateless route's gateway did not carry the call"
grep -q "^INVITE sip:+4955555@127.0.0.1:$gw_sl SIP/2.0" "$WORK/g_sl.msg" \
  || fail "the gateway's Request-URI on the stateless route"
grep -qi "^Via: SIP/2.0/UDP $SRV_IP:[0-9]*;branch=z9hG4bKsb" "$WORK/g_sl.msg" \
  || fail "the gateway's INVITE has no Via of ours"
sipp_run cancelsl -sf "$SIPP_DIR/uac_cancel.xml" -m 1 -s alice -au alice -ap alicepw \
  -key callee +4966666 -key domain example.com "$SRV_UDP" \
  || fail "the CANCEL on a stateless route did not end the call with 487"
wait "$pid_slc" || fail "the gateway did not see the CANCEL and the ACK of its 487"
echo "ok: stateless route: call completed, CANCEL propagated"
stop_server
# Both INVITEs (after their challenges), the CANCEL and the ACK of the 487 went by the
# stateless routes; the challenges were answered statefully.
routed=$(sed -n 's/.* \([0-9]*\) by stateless routes.*/\1/p' "$WORK/t.err" | tail -1)
[ -n "$routed" ] && [ "$routed" -ge 4 ] || fail "stateless routes counted '$routed' requests, not 4"
echo "ok: $routed requests went by stateless routes"
echo "PASS"
