#!/usr/bin/env python3
"""Sends each RFC 4475 torture message to a running switchboard over UDP and checks the
answer against the corpus table (testdata/sip/rfc4475/README.md), read as a proxy with
digest authentication would answer:
  - invalid rows: the status of the table (400, 505), or nothing for those to drop;
  - responses (scalarlg, bigcode, bcast...): no answer at all (never answer a response);
  - valid-syntax rows with a required status: 416 (unkscm, novelsc), 420 (bext01),
    483 (zeromf), 401 (regaut01: the unknown scheme is ignored and a challenge sent);
  - mpart01 carries a Route to 127.0.0.1:5080, which is not this server, and comes from
    nobody the proxy knows: a preloaded route is refused (403), never followed (this script
    listens on that port to see that nothing arrives there);
  - other valid requests: an answer that is not a parse error (not 400/505/513).
The top Via's sent-by is pointed at this script's socket (with rport) so the answer comes
back here; every other byte is the corpus's. Prints one line per file; exits 1 on any
mismatch.  Usage: rfc4475_udp.py DIR HOST:PORT"""
import os
import re
import socket
import sys

EXPECT = {
    "badinv01": 400, "clerr": 400, "ncl": 400, "scalar02": 400, "scalarlg": None,
    "quotbal": 400, "ltgtruri": 400, "lwsruri": 400, "lwsstart": 400, "trws": 400,
    "escruri": 400, "baddate": 400, "regbadct": 400, "badaspec": 400, "baddn": 400,
    "badvers": 505, "mismatch01": 400, "mismatch02": 400, "bigcode": None, "insuf": 400,
    "multi01": 400, "mcl01": 400, "bcast": None,
    "unkscm": 416, "novelsc": 416, "bext01": 420, "zeromf": 483, "regaut01": 401,
}
PARSE_ERRORS = {400, 505, 513}


def point_via_here(data, here):
    """The first Via's sent-by replaced by `here` with rport (bytes elsewhere untouched)."""
    m = re.search(rb"(?im)^(via|v)[ \t]*:\s*SIP\s*/\s*2\.0\s*/\s*([A-Za-z]+)\s+([^;, \r\n]+)", data)
    if not m:
        return data
    start, end = m.start(3), m.end(3)
    return data[:start] + here.encode() + b";rport" + data[end:]


def main():
    folder, server = sys.argv[1], sys.argv[2]
    host, port = server.rsplit(":", 1)
    bad = 0
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".dat"):
            continue
        key = name[:-4]
        with open(os.path.join(folder, name), "rb") as f:
            data = f.read()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        here = "127.0.0.1:%d" % s.getsockname()[1]
        is_response = data.startswith(b"SIP/")
        if not is_response:
            data = point_via_here(data, here)
        expected = EXPECT.get(key, "answer")
        if is_response:
            expected = None
        if key == "mpart01":
            nexthop = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                nexthop.bind(("127.0.0.1", 5080))
            except OSError:
                print("%-11s skipped: 127.0.0.1:5080 is in use" % key)
                continue
            s.sendto(data, (host, int(port)))
            s.settimeout(2.0)
            got = None
            try:
                while got is None or got < 200:
                    reply, _ = s.recvfrom(65535)
                    got = int(reply.split(b" ", 2)[1])
            except socket.timeout:
                pass
            nexthop.settimeout(0.5)
            try:
                nexthop.recvfrom(65535)
                relayed = True
            except socket.timeout:
                relayed = False
            nexthop.close()
            ok = got == 403 and not relayed
            print("%-11s expected 403     got %-5s %s%s" % (key, got, "ok" if ok else "MISMATCH",
                                                         " (relayed!)" if relayed else ""))
            bad += 0 if ok else 1
            continue
        s.sendto(data, (host, int(port)))
        s.settimeout(0.6 if expected is None else 2.0)
        got = None
        try:
            while True:
                reply, _ = s.recvfrom(65535)
                status = int(reply.split(b" ", 2)[1])
                if status >= 200 or expected is None:
                    got = status
                    break
        except socket.timeout:
            pass
        s.close()
        if expected == "answer":
            ok = got is not None and got not in PARSE_ERRORS
        else:
            ok = got == expected
        print("%-11s expected %-7s got %-5s %s" % (key, expected, got, "ok" if ok else "MISMATCH"))
        bad += 0 if ok else 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
