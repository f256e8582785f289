#!/usr/bin/env python3
"""Bytes out per byte in for every answer the edge gives an unauthenticated source over UDP
(what a forged source address could aim at a victim), measured against a running
`switchboard serve`. Each case is one minimal request from its own socket; everything that
comes back within the window is counted, so a response retransmitted by a timer (G, or a
relay) shows up as a larger factor. Prints a Markdown table (docs/security.md quotes it) and
exits 1 when a case gets more than one datagram back or a factor exceeds the bound.

  amplification.py --udp 127.0.0.1:PORT [--domain example.com] [--window 3.5] [--max 3.0]
"""
import argparse
import random
import socket
import sys
import time


def request(method, ruri, local, domain, to_tag="", extra=(), cseq_method=None, from_domain=None):
    branch = "z9hG4bK%08x" % random.getrandbits(32)
    lines = [
        "%s %s SIP/2.0" % (method, ruri),
        "Via: SIP/2.0/UDP %s;branch=%s;rport" % (local, branch),
        "Max-Forwards: 70",
        "From: <sip:mallory@%s>;tag=%08x" % (from_domain or domain, random.getrandbits(32)),
        "To: <sip:victim@%s>%s" % (domain, ";tag=" + to_tag if to_tag else ""),
        "Call-ID: amp-%08x" % random.getrandbits(32),
        "CSeq: 1 %s" % (cseq_method or method),
    ] + list(extra) + ["Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode()


def cases(server, domain):
    victim = "127.0.0.1:9"  # discard: nothing listens there
    return [
        ("REGISTER without credentials", "401",
         lambda l: request("REGISTER", "sip:" + domain, l, domain, extra=["Contact: <sip:m@%s>" % l])),
        ("INVITE to a user without credentials", "407",
         lambda l: request("INVITE", "sip:victim@" + domain, l, domain)),
        ("MESSAGE to a user without credentials", "407",
         lambda l: request("MESSAGE", "sip:victim@" + domain, l, domain)),
        ("INVITE from a domain not served", "403",
         lambda l: request("INVITE", "sip:victim@" + domain, l, domain, from_domain="elsewhere.example")),
        ("INVITE to a domain not served (relay attempt)", "403",
         lambda l: request("INVITE", "sip:victim@" + victim, l, domain)),
        ("in-dialog BYE to a foreign address (relay attempt)", "403",
         lambda l: request("BYE", "sip:victim@" + victim, l, domain, to_tag="x")),
        ("BYE through a forged Route of ours", "403",
         lambda l: request("BYE", "sip:victim@" + victim, l, domain, to_tag="x",
                           extra=["Route: <sip:%s;lr;sbd=0123456789abcdef>" % server])),
        ("CANCEL matching no transaction", "481",
         lambda l: request("CANCEL", "sip:victim@" + domain, l, domain)),
        ("OPTIONS to the served domain", "200",
         lambda l: request("OPTIONS", "sip:" + domain, l, domain)),
        ("OPTIONS to the server's address", "200",
         lambda l: request("OPTIONS", "sip:" + server, l, domain)),
        ("malformed request (bad CSeq)", "400",
         lambda l: request("OPTIONS", "sip:" + domain, l, domain, cseq_method="OPTIONS x")),
        ("ACK through a forged Route", "-",
         lambda l: request("ACK", "sip:victim@" + victim, l, domain, to_tag="x",
                           extra=["Route: <sip:%s;lr;sbd=0123456789abcdef>" % server])),
        ("response with our branch prefix, foreign Via", "-",
         lambda l: ("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bKsb00000000"
                    "00000000.000000000001\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKv\r\n"
                    "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: amp-r\r\n"
                    "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n" % victim).encode()),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--udp", required=True)
    ap.add_argument("--domain", default="example.com")
    ap.add_argument("--window", type=float, default=3.5)
    ap.add_argument("--max", type=float, default=3.0)
    args = ap.parse_args()
    host, port = args.udp.rsplit(":", 1)
    server = (host, int(port))
    runs = []
    for name, expect, make in cases(args.udp, args.domain):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        local = "127.0.0.1:%d" % s.getsockname()[1]
        data = make(local)
        s.sendto(data, server)
        runs.append({"name": name, "expect": expect, "sock": s, "in": len(data), "out": 0,
                     "datagrams": 0, "statuses": []})
    end = time.monotonic() + args.window
    while time.monotonic() < end:
        for r in runs:
            try:
                while True:
                    reply = r["sock"].recv(65535)
                    r["out"] += len(reply)
                    r["datagrams"] += 1
                    r["statuses"].append(reply.split(b" ", 2)[1].decode())
            except BlockingIOError:
                pass
        time.sleep(0.02)
    bad = 0
    print("| unauthenticated request (UDP) | answer | bytes in | bytes out | factor |")
    print("|---|---|---:|---:|---:|")
    for r in runs:
        r["sock"].close()
        factor = r["out"] / r["in"]
        got = ",".join(r["statuses"]) or "-"
        print("| %s | %s | %d | %d | %.2f |" % (r["name"], got, r["in"], r["out"], factor))
        problems = []
        if got != r["expect"]:
            problems.append("expected %s, got %s" % (r["expect"], got))
        if factor > args.max:
            problems.append("factor %.2f above %.1f" % (factor, args.max))
        if problems:
            bad += 1
            print("FAIL: %s: %s" % (r["name"], "; ".join(problems)), file=sys.stderr)
    print("%d passed, %d failed" % (len(runs) - bad, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
