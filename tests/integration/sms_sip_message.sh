#!/usr/bin/env bash
# SMS over SIP MESSAGE (RFC 3428) with SIPp as the carrier's SIP trunk: a MESSAGE from the
# trunk's ACL address to one of an account's numbers is answered 202 and stored as an inbound
# message; the same MESSAGE from elsewhere is not taken as an SMS; a message sent through the
# REST API to a destination of a "sip" SMS trunk reaches the trunk's gateway as one MESSAGE
# (text/plain, UTF-8, From the account's number, To the destination) and, answered 202,
# becomes "sent".
# Usage: sms_sip_message.sh BINARY
source "$(dirname "$0")/sip/lib.sh" "$1"
need sipp
need curl

KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
DATA="$WORK/t"
mkdir -p -m 0700 "$DATA"
sb_admin() {
  "$SB_BIN" admin --set data_dir="$DATA" --set api.master_key="$KEY" "$@"
}

sb_admin account create --name Acme > "$WORK/account.json" || fail "account create"
SID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sid"])' "$WORK/account.json")
TOKEN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["auth_token"])' \
  "$WORK/account.json")
sb_admin number add --account "$SID" --number +15005550006 --sms-url http://127.0.0.1:9/sms \
  > /dev/null || fail "number add"

gw=$(free_udp_port)
sb_admin trunk add --name carrier --gateways "udp:127.0.0.1:$gw*1" --probe-interval 0 \
  --acl 127.0.0.5/32 > /dev/null || fail "trunk add"
# The SMS trunk that sends through SIP trunk "carrier" (the lead's admin verb; see the report).
sb_admin sms-trunk add --name sipsms --sip carrier > /dev/null || fail "sms-trunk add --sip"

start_server t --set api.master_key="$KEY" --set sip.listen=udp:127.0.0.1:0 \
  --set http.listen=127.0.0.1:0
SRV_IP=${SRV_UDP%:*}
SRV_PORT=${SRV_UDP##*:}
API=$(sed -n 's/^# http listening: \(http:.*\)$/\1/p' "$WORK/t.out" | head -n 1)
[ -n "$API" ] || fail "no http listener"
MSGS="$API/2010-04-01/Accounts/$SID/Messages.json"

# 1. Inbound: the carrier (ACL 127.0.0.5) sends a MESSAGE to the account's number.
sipp -nostdin -i 127.0.0.5 -p "$(free_udp_port)" -timeout 20s -timeout_error \
  -trace_err -error_file "$WORK/in.errors.log" -trace_msg -message_file "$WORK/in.msg" \
  -sf "$SIPP_DIR/uac_message.xml" -m 1 -key sms_from 4930123456 -key sms_to 15005550006 \
  -key sms_body "Hello from SIP" "$SRV_UDP" > "$WORK/in.out" 2>&1 \
  || fail "the carrier's MESSAGE was not answered 202"
found=""
for _ in $(seq 50); do
  curl -sf -u "$SID:$TOKEN" "$MSGS?To=%2B15005550006" > "$WORK/in.json" || true
  if python3 - "$WORK/in.json" << 'EOF'; then
import json, sys
d = json.load(open(sys.argv[1]))
ok = [m for m in d.get("messages", [])
      if m["from"] == "+4930123456" and m["direction"] == "inbound"
      and m["body"].strip() == "Hello from SIP"]
sys.exit(0 if ok else 1)
EOF
    found=1
    break
  fi
  sleep 0.1
done
[ -n "$found" ] || fail "the inbound MESSAGE is not stored: $(cat "$WORK/in.json")"
echo "ok: MESSAGE from the trunk answered 202 and stored as an inbound SMS"

# 2. The same MESSAGE from an address outside the ACL is not an SMS: it is challenged like any
#    request from an unknown source (407), as the edge does today.
sed 's/response="202"/response="407"/' "$SIPP_DIR/uac_message.xml" > "$WORK/uac_407.xml"
sipp_run stranger -sf "$WORK/uac_407.xml" -m 1 -key sms_from 4930999 -key sms_to 15005550006 \
  -key sms_body "not an sms" "$SRV_UDP" || fail "a MESSAGE from outside the ACL was not refused"
echo "ok: MESSAGE from outside the trunk's ACL challenged (407), not taken as an SMS"

# 3. Outbound: the API's message goes to the gateway as one MESSAGE, answered 202 -> sent.
sipp_bg gw -sf "$SIPP_DIR/uas_message.xml" -p "$gw" -m 1
pid_gw=$LAST_BG
sleep 0.3
curl -sf -u "$SID:$TOKEN" -X POST "$MSGS" --data-urlencode "From=+15005550006" \
  --data-urlencode "To=+4930123456" --data-urlencode "Body=Grüße über SIP" \
  > "$WORK/out.json" || fail "POST Messages.json failed"
MSID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sid"])' "$WORK/out.json")
wait "$pid_gw" || fail "the gateway did not get the MESSAGE"
grep -q "^MESSAGE sip:+4930123456@127.0.0.1:$gw SIP/2.0" "$WORK/gw.msg" \
  || fail "the MESSAGE's Request-URI is not the destination at the gateway"
grep -qi "^Content-Type: text/plain;charset=UTF-8" "$WORK/gw.msg" || fail "not text/plain UTF-8"
grep -q "^From: <sip:+15005550006@" "$WORK/gw.msg" || fail "From is not the account's number"
grep -q "Grüße über SIP" "$WORK/gw.msg" || fail "the body did not arrive intact"
status=""
for _ in $(seq 50); do
  status=$(curl -sf -u "$SID:$TOKEN" "$API/2010-04-01/Accounts/$SID/Messages/$MSID.json" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
  [ "$status" = "sent" ] && break
  sleep 0.1
done
[ "$status" = "sent" ] || fail "the message is '$status', not sent"
echo "ok: API message sent as one MESSAGE to the trunk's gateway, 202 -> sent"
