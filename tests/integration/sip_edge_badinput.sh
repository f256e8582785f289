#!/usr/bin/env bash
# Bad input against the running edge: every RFC 4475 message over UDP gets the answer of the
# corpus table (rfc4475_udp.py), garbage on a TCP connection closes that connection only,
# and the server still serves afterwards.  Usage: sip_edge_badinput.sh BINARY RFC4475_DIR
source "$(dirname "$0")/sip/lib.sh" "$1"
dir=${2:?usage: sip_edge_badinput.sh BINARY RFC4475_DIR}
[ -d "$dir" ] || { echo "SKIP: shared testdata absent ($dir)"; exit 77; }

start_server b --set sip.listen=udp:127.0.0.1:0,tcp:127.0.0.1:0
python3 "$HERE_LIB/rfc4475_udp.py" "$dir" "$SRV_UDP" > "$WORK/rfc4475.out" || {
  cat "$WORK/rfc4475.out"
  fail "RFC 4475 answers differ from the table"
}
echo "ok: $(grep -c ' ok$' "$WORK/rfc4475.out") RFC 4475 messages answered as the table says"

python3 - "$SRV_TCP" << 'PY' || fail "TCP garbage"
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
good = socket.create_connection((host, int(port)), timeout=3)
bad = socket.create_connection((host, int(port)), timeout=3)
bad.sendall(b"\x16\x03\x01 this is not SIP at all\r\n\r\n")
data = b""
try:
    while True:
        chunk = bad.recv(4096)
        if not chunk:
            break
        data += chunk
except socket.timeout:
    sys.exit("the garbage connection was not closed")
msg = ("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKtcp1\r\n"
       "From: <sip:a@example.com>;tag=1\r\nTo: <sip:%s>\r\nCall-ID: tcp-ok\r\n"
       "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n" % (sys.argv[1], sys.argv[1]))
good.sendall(msg.encode())
reply = good.recv(4096)
if not reply.startswith(b"SIP/2.0 200"):
    sys.exit("the other connection stopped working: %r" % reply[:60])
PY
echo "ok: TCP garbage closed its connection only; the other got 200 to OPTIONS"
kill -0 "$SRV_PID" || fail "the server died"
