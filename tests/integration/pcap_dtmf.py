#!/usr/bin/env python3
"""DTMF of every kind inside one SIP call, end to end through `switchboard pcap analyze`.

Builds a capture (classic pcap, Ethernet/IPv4/UDP) of one call: INVITE with SDP offering
PCMU and telephone-event/8000 as PT 101, 200 with the answer, ACK, then 20 ms PCMU packets
from the caller carrying the in-band tones of '7' (then silence), RFC 4733 events for '1'
(marker, updates, three end packets) and '#', a SIP INFO with application/dtmf-relay
Signal=5, and a BYE. Then checks the JSON: each digit once, from the right source, at the
right time, tied to the call; the stream's packets and loss; the call's final status,
setup time and duration.

Usage: pcap_dtmf.py SWITCHBOARD   (exit 0 when every check passes)"""
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

CALLER, CALLEE = (10, 0, 0, 1), (10, 0, 0, 2)
CALL_ID = "dtmf-test-1@10.0.0.1"
T0 = 1_700_000_000.0


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(src, dst, sport, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes(src),
                     bytes(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
    return eth + ip + udp


def ulaw(sample):
    """ITU-T G.711 mu-law of one 16-bit sample."""
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    s = min(abs(sample), clip) + bias
    exponent = max(0, s.bit_length() - 8)
    exponent = min(exponent, 7)
    mantissa = (s >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def sip(first_line, cseq, method, body="", to_tag=True, from_caller=True):
    lines = [first_line,
             f"Via: SIP/2.0/UDP 10.0.0.{1 if from_caller else 2}:5060;branch=z9hG4bK{cseq}{method}",
             "From: <sip:alice@example.com>;tag=a1",
             "To: <sip:bob@example.com>" + (";tag=b2" if to_tag else ""),
             f"Call-ID: {CALL_ID}", f"CSeq: {cseq} {method}", "Max-Forwards: 70"]
    if body:
        lines.append("Content-Type: " + ("application/sdp" if body.startswith("v=0")
                                         else "application/dtmf-relay"))
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def sdp(ip, port):
    return (f"v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n")


def build(path):
    packets = []  # (time, bytes)
    add = lambda t, src, dst, sp, dp, data: packets.append((T0 + t, frame(src, dst, sp, dp, data)))
    sig = lambda t, from_caller, data: add(t, CALLER if from_caller else CALLEE,
                                           CALLEE if from_caller else CALLER, 5060, 5060, data)
    sig(0.0, True, sip("INVITE sip:bob@example.com SIP/2.0", 1, "INVITE", sdp("10.0.0.1", 4000),
                       to_tag=False))
    sig(0.1, False, sip("SIP/2.0 180 Ringing", 1, "INVITE", from_caller=False))
    sig(1.0, False, sip("SIP/2.0 200 OK", 1, "INVITE", sdp("10.0.0.2", 5000), from_caller=False))
    sig(1.01, True, sip("ACK sip:bob@10.0.0.2 SIP/2.0", 1, "ACK"))

    seq, ts, ssrc = 1000, 160000, 0x11223344
    def rtp(t, pt, payload, marker=False, timestamp=None):
        nonlocal seq
        header = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                             ts if timestamp is None else timestamp, ssrc)
        add(t, CALLER, CALLEE, 4000, 5000, header + payload)
        seq += 1
    # 4 s of audio from t=1.1: silence, except the tone pair of '7' (852 + 1209 Hz) for
    # 200 ms starting at t=1.5.
    t = 1.1
    for i in range(200):
        samples = []
        for k in range(160):
            now = t + k / 8000
            v = 0
            if 1.5 <= now < 1.7:
                v = int(6000 * (math.sin(2 * math.pi * 852 * now) +
                                math.sin(2 * math.pi * 1209 * now)))
            samples.append(ulaw(v))
        rtp(t, 0, bytes(samples))
        ts += 160
        t += 0.02
        # RFC 4733: '1' at t=2.5 and '#' at t=3.5, each 100 ms of updates then 3 end packets.
        for start, event in ((2.5, 1), (3.5, 11)):
            if abs(t - start) < 1e-6:
                ev_ts = ts
                for n in range(5):
                    rtp(t + n * 0.02 + 0.001, 101, struct.pack("!BBH", event, 10, (n + 1) * 160),
                        marker=(n == 0), timestamp=ev_ts)
                for _ in range(3):
                    rtp(t + 0.101, 101, struct.pack("!BBH", event, 0x80 | 10, 800),
                        timestamp=ev_ts)
    sig(4.0, True, sip("INFO sip:bob@10.0.0.2 SIP/2.0", 2, "INFO", "Signal=5\r\nDuration=160\r\n"))
    sig(4.05, False, sip("SIP/2.0 200 OK", 2, "INFO", from_caller=False))
    sig(6.0, True, sip("BYE sip:bob@10.0.0.2 SIP/2.0", 3, "BYE"))
    sig(6.01, False, sip("SIP/2.0 200 OK", 3, "BYE", from_caller=False))

    packets.sort(key=lambda p: p[0])
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for when, data in packets:
            sec = int(when)
            usec = int(round((when - sec) * 1e6))
            f.write(struct.pack("<IIII", sec, usec, len(data), len(data)) + data)


def main():
    binary = sys.argv[1]
    failures = []
    def check(name, ok, detail=""):
        print(("ok   " if ok else "FAIL ") + name + (f": {detail}" if detail else ""))
        if not ok:
            failures.append(name)
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "dtmf.pcap")
        build(path)
        out = subprocess.run([binary, "pcap", "analyze", path, "--json"], capture_output=True,
                             text=True, timeout=60)
        check("exit 0", out.returncode == 0, out.stderr.strip())
        doc = json.loads(out.stdout)
    calls = doc["calls"]
    check("one call", len(calls) == 1, str(len(calls)))
    call = calls[0]
    check("final 200", call["final_status"] == 200, str(call["final_status"]))
    check("setup 1000 ms", abs((call["setup_ms"] or 0) - 1000) < 1, str(call["setup_ms"]))
    check("duration 5000 ms (200 to BYE)", abs((call["duration_ms"] or 0) - 5000) < 1,
          str(call["duration_ms"]))
    check("hung up by the caller", call["hangup_by"] == "caller", call["hangup_by"])
    check("codecs PCMU + telephone-event",
          call["codecs"] == ["PCMU", "telephone-event"], str(call["codecs"]))
    streams = doc["rtp_streams"]
    check("one RTP stream", len(streams) == 1, str(len(streams)))
    s = streams[0]
    # 200 audio + 2 x (5 updates + 3 end packets) = 216 packets. Each end packet has its own
    # sequence number here, so nothing is lost and nothing duplicated.
    check("216 packets", s["packets"] == 216, str(s["packets"]))
    check("no loss", s["lost"] == 0 and s["duplicates"] == 0, f"{s['lost']} / {s['duplicates']}")
    check("stream tied to the call", s["call_id"] == CALL_ID, s["call_id"])
    got = sorted((d["source"], d["digit"], round(d["time"], 2), d["call_id"]) for d in doc["dtmf"])
    want = sorted([("inband", "7", 1.5, CALL_ID), ("rfc4733", "1", 2.5, CALL_ID),
                   ("rfc4733", "#", 3.5, CALL_ID), ("info", "5", 4.0, CALL_ID)])
    check("digits: in-band 7, RFC 4733 1 and #, INFO 5", got == want, f"ours {got}")
    durations = {d["digit"]: d["duration_ms"] for d in doc["dtmf"]}
    check("RFC 4733 durations 100 ms", durations.get("1") == 100 and durations.get("#") == 100,
          str(durations))
    check("in-band duration about 200 ms", 150 <= durations.get("7", 0) <= 250, str(durations))
    check("INFO duration 160 ms", durations.get("5") == 160, str(durations))
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
