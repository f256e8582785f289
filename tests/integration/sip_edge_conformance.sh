#!/usr/bin/env bash
# SIP conformance and abuse checks (sip/conformance.py) against one `switchboard serve` on
# loopback: UDP and TCP listeners on ports the OS chooses, the served domain example.com with
# the users the checks need, a carrier trunk known by its source address (ACL), and the
# DEFAULT proxy timers (timer C stays 180 s: the checks prove that CANCELs are prompt, not
# timer-driven). conformance.py prints one line per check and "N passed, M failed";
# amplification.py then measures what an unauthenticated request gets back.
# Usage: sip_edge_conformance.sh BINARY
source "$(dirname "$0")/sip/lib.sh" "$1"
need python3
CONFORMANCE="$HERE_LIB/conformance.py"

mkdir -p -m 0700 "$WORK/a"
for user in $(python3 "$CONFORMANCE" --users); do
  admin a sip-user add --domain example.com --user "$user" --password "${user}pw"
done
# A carrier (trusted by source address 127.0.0.5 only) and a prefix routed to it: requests
# from anywhere else are not the carrier's.
admin a trunk add --name carrier --gateways "udp:127.0.0.1:9*1" --probe-interval 0 --acl 127.0.0.5/32
admin a route add --prefix +4999 --trunk carrier

start_server a --set sip.listen=udp:127.0.0.1:0,tcp:127.0.0.1:0 --set sip.domains=example.com \
  --set http.listen=127.0.0.1:0
[ -n "$SRV_UDP" ] && [ -n "$SRV_TCP" ] || fail "the server did not print its UDP and TCP listeners"

python3 "$CONFORMANCE" --udp "$SRV_UDP" --tcp "$SRV_TCP" --domain example.com
rc=$?
# Bytes out per byte in for each answer to an unauthenticated source (docs/security.md): one
# datagram each, never a retransmitted train, and at most 3x.
python3 "$HERE_LIB/amplification.py" --udp "$SRV_UDP" --domain example.com || rc=1
kill -0 "$SRV_PID" 2> /dev/null || fail "the server died during the checks"
[ $rc -eq 0 ] || fail "conformance checks failed"
echo "PASS"
