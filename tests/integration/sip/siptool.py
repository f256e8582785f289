#!/usr/bin/env python3
"""A small SIP user agent for the integration tests: sends requests over UDP, TCP, TLS, WS
or WSS, answers digest challenges (MD5 or SHA-256, qop=auth) and prints what came back as
JSON, so a test script can assert on status codes and headers. Standard library only.

  siptool.py register --server udp:127.0.0.1:5060 --user alice --password pw --domain example.com
  siptool.py register ... --replay         # send the authenticated REGISTER twice, same nc
  siptool.py raw --server udp:127.0.0.1:5060 --file msg.txt   # one message, print the reply
  siptool.py call --server tls:127.0.0.1:5061 --user alice --password pw --domain example.com \
      --callee bob          # INVITE (answering 407), ACK, BYE over one flow; JSON of each step
"""
import argparse
import base64
import hashlib
import json
import os
import random
import re
import socket
import ssl
import struct
import sys
import time


def parse_response(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("utf-8", "replace").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = []
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers.append((name.strip(), value.strip()))
    return {"status": status, "reason": lines[0].split(" ", 2)[2] if lines[0].count(" ") >= 2 else "",
            "headers": headers, "body": body.decode("utf-8", "replace")}


def header(resp, name, all_values=False):
    vals = [v for n, v in resp["headers"] if n.lower() == name.lower()]
    return vals if all_values else (vals[0] if vals else None)


class Conn:
    """One flow to the server; reads whole SIP messages."""

    def __init__(self, spec, timeout):
        proto, rest = spec.split(":", 1)
        host, port = rest.rsplit(":", 1)
        host = host.strip("[]")
        self.proto = proto.lower()
        self.addr = (host, int(port))
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.buf = b""
        if self.proto == "udp":
            self.sock = socket.socket(fam, socket.SOCK_DGRAM)
            self.sock.bind((host, 0))
        else:
            self.sock = socket.create_connection(self.addr, timeout=timeout)
            if self.proto in ("tls", "wss"):
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                self.sock = ctx.wrap_socket(self.sock)
                self.tls_version = self.sock.version()
            if self.proto in ("ws", "wss"):
                self._ws_handshake(host, port)
        self.sock.settimeout(timeout)
        self.local = self.sock.getsockname()

    def _ws_handshake(self, host, port):
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n")
        self.sock.sendall(req.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("websocket handshake: connection closed")
            data += chunk
        head, _, self.buf = data.partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError("websocket handshake refused: " + head.decode())

    def via_transport(self):
        return self.proto.upper()

    def local_hostport(self):
        h, p = self.local[0], self.local[1]
        return (f"[{h}]" if ":" in h else h) + f":{p}"

    def send(self, text):
        data = text.encode()
        if self.proto == "udp":
            self.sock.sendto(data, self.addr)
        elif self.proto in ("ws", "wss"):
            mask = os.urandom(4)
            n = len(data)
            hdr = bytes([0x81])
            if n < 126:
                hdr += bytes([0x80 | n])
            elif n < 65536:
                hdr += bytes([0x80 | 126]) + struct.pack("!H", n)
            else:
                hdr += bytes([0x80 | 127]) + struct.pack("!Q", n)
            masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            self.sock.sendall(hdr + mask + masked)
        else:
            self.sock.sendall(data)

    def _recv_more(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        self.buf += chunk

    def recv(self):
        if self.proto == "udp":
            data, _ = self.sock.recvfrom(65536)
            return data
        if self.proto in ("ws", "wss"):
            while True:
                while len(self.buf) < 2:
                    self._recv_more()
                b1 = self.buf[1] & 0x7F
                off = 2
                if b1 == 126:
                    while len(self.buf) < 4:
                        self._recv_more()
                    b1 = struct.unpack("!H", self.buf[2:4])[0]
                    off = 4
                elif b1 == 127:
                    while len(self.buf) < 10:
                        self._recv_more()
                    b1 = struct.unpack("!Q", self.buf[2:10])[0]
                    off = 10
                while len(self.buf) < off + b1:
                    self._recv_more()
                payload = self.buf[off:off + b1]
                opcode = self.buf[0] & 0x0F
                self.buf = self.buf[off + b1:]
                if opcode in (1, 2):
                    return payload
        while b"\r\n\r\n" not in self.buf:
            self._recv_more()
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        m = re.search(rb"(?im)^(content-length|l)\s*:\s*(\d+)", head)
        length = int(m.group(2)) if m else 0
        while len(rest) < length:
            self._recv_more()
            head, _, rest = self.buf.partition(b"\r\n\r\n")
        self.buf = rest[length:]
        return head + b"\r\n\r\n" + rest[:length]

    def recv_final(self):
        """Skips provisional responses."""
        while True:
            resp = parse_response(self.recv())
            if resp["status"] >= 200:
                return resp


def digest(alg, *parts):
    h = hashlib.sha256() if alg.upper() == "SHA-256" else hashlib.md5()
    h.update(":".join(parts).encode())
    return h.hexdigest()


def parse_challenge(value):
    pairs = re.findall(r'(\w+)\s*=\s*(?:"([^"]*)"|([^,\s]+))', value)
    return {k.lower(): a or b for k, a, b in pairs}


def pick_challenge(resp, want_alg):
    name = "WWW-Authenticate" if resp["status"] == 401 else "Proxy-Authenticate"
    for value in header(resp, name, all_values=True):
        ch = parse_challenge(value)
        if ch.get("algorithm", "MD5").upper() == want_alg.upper():
            return ch
    return None


def authorization(ch, alg, user, password, method, uri, nc):
    ha1 = digest(alg, user, ch["realm"], password)
    cnonce = "%08x" % random.getrandbits(32)
    ncs = "%08x" % nc
    ha2 = digest(alg, method, uri)
    resp = digest(alg, ha1, ch["nonce"], ncs, cnonce, "auth", ha2)
    return (f'Digest username="{user}", realm="{ch["realm"]}", nonce="{ch["nonce"]}", '
            f'uri="{uri}", response="{resp}", algorithm={alg}, cnonce="{cnonce}", '
            f'qop=auth, nc={ncs}')


def build_register(conn, args, cseq, call_id, auth=None, contact=None, expires=None):
    branch = "z9hG4bK" + "%016x" % random.getrandbits(64)
    uri = f"sip:{args.domain}"
    contact = contact or f"<sip:{args.user}@{conn.local_hostport()};transport={conn.proto}>"
    lines = [
        f"REGISTER {uri} SIP/2.0",
        f"Via: SIP/2.0/{conn.via_transport()} {conn.local_hostport()};branch={branch};rport",
        f"From: <sip:{args.user}@{args.domain}>;tag=t{call_id[:8]}",
        f"To: <sip:{args.user}@{args.domain}>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
    ] + ([] if args.query else [f"Contact: {contact}"]) + [
        "Max-Forwards: 70",
        f"Expires: {args.expires if expires is None else expires}",
    ]
    if auth:
        lines.append(f"Authorization: {auth}")
    lines += ["Content-Length: 0", "", ""]
    return "\r\n".join(lines)


def cmd_register(args):
    conn = Conn(args.server, args.timeout)
    out = {"tls_version": getattr(conn, "tls_version", None), "steps": []}
    call_id = "%032x" % random.getrandbits(128)
    conn.send(build_register(conn, args, 1, call_id, contact=args.contact))
    first = conn.recv_final()
    out["steps"].append({"status": first["status"]})
    if first["status"] == 401 and args.password is not None:
        ch = pick_challenge(first, args.algorithm)
        if ch is None:
            out["error"] = "no challenge for " + args.algorithm
            print(json.dumps(out))
            return 1
        if args.wait:
            time.sleep(args.wait)
        auth = authorization(ch, args.algorithm, args.user, args.password,
                             "REGISTER", f"sip:{args.domain}", 1)
        conn.send(build_register(conn, args, 2, call_id, auth, contact=args.contact))
        second = conn.recv_final()
        step = {"status": second["status"], "contact": header(second, "Contact", True)}
        if second["status"] == 401:
            ch2 = pick_challenge(second, args.algorithm)
            step["stale"] = bool(ch2 and ch2.get("stale", "").lower() == "true")
        out["steps"].append(step)
        if args.replay:
            conn.send(build_register(conn, args, 3, call_id, auth, contact=args.contact))
            third = conn.recv_final()
            out["steps"].append({"status": third["status"]})
    print(json.dumps(out))
    return 0


def cmd_call(args):
    """A whole call from a UA on one flow: INVITE (again with credentials after 407), the
    provisional and final responses, ACK and BYE along the route set the 200 set up."""
    conn = Conn(args.server, args.timeout)
    out = {"tls_version": getattr(conn, "tls_version", None), "steps": []}
    call_id = "%032x" % random.getrandbits(128)
    tag = "%08x" % random.getrandbits(32)
    target = f"sip:{args.callee}@{args.domain}"
    me = f"<sip:{args.user}@{args.domain}>;tag={tag}"
    contact = f"<sip:{args.user}@{conn.local_hostport()};transport={conn.proto}>"
    sdp = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")

    last_branch = [""]

    def request(method, uri, cseq, to, routes=(), auth=None, body="", same_branch=False):
        # The ACK of a non-2xx belongs to the INVITE's transaction: same branch (§17.1.1.3).
        branch = last_branch[0] if same_branch else "z9hG4bK" + "%016x" % random.getrandbits(64)
        last_branch[0] = branch
        lines = [f"{method} {uri} SIP/2.0",
                 f"Via: SIP/2.0/{conn.via_transport()} {conn.local_hostport()};branch={branch};rport",
                 f"From: {me}", f"To: {to}", f"Call-ID: {call_id}", f"CSeq: {cseq} {method}",
                 f"Contact: {contact}", "Max-Forwards: 70"]
        lines += [f"Route: {r}" for r in routes]
        if auth:
            lines.append(f"Proxy-Authorization: {auth}")
        if body:
            lines.append("Content-Type: application/sdp")
        lines += [f"Content-Length: {len(body)}", "", body]
        return "\r\n".join(lines)

    def final(step_name):
        provisional = []
        while True:
            resp = parse_response(conn.recv())
            if resp["status"] < 200:
                provisional.append(resp["status"])
                continue
            out["steps"].append({"step": step_name, "status": resp["status"],
                                 "provisional": provisional})
            return resp

    to = f"<{target}>"
    conn.send(request("INVITE", target, 1, to, body=sdp))
    resp = final("invite")
    cseq = 1
    if resp["status"] == 407 and args.password is not None:
        conn.send(request("ACK", target, 1, header(resp, "To"), same_branch=True))
        ch = pick_challenge(resp, args.algorithm)
        auth = authorization(ch, args.algorithm, args.user, args.password, "INVITE", target, 1)
        cseq = 2
        conn.send(request("INVITE", target, cseq, to, auth=auth, body=sdp))
        resp = final("invite_auth")
    if resp["status"] != 200:
        conn.send(request("ACK", target, cseq, header(resp, "To"), same_branch=True))
        print(json.dumps(out))
        return 0
    # §12.1.2: the route set is the Record-Route reversed; the remote target its Contact.
    rr = []
    for v in header(resp, "Record-Route", all_values=True):
        rr += [x.strip() for x in v.split(",")]
    routes = list(reversed(rr))
    remote = re.search(r"<([^>]+)>", header(resp, "Contact")).group(1)
    out["record_route"] = rr
    peer_to = header(resp, "To")
    conn.send(request("ACK", remote, cseq, peer_to, routes))
    time.sleep(args.hold)
    conn.send(request("BYE", remote, cseq + 1, peer_to, routes))
    final("bye")
    print(json.dumps(out))
    return 0


def cmd_raw(args):
    conn = Conn(args.server, args.timeout)
    with open(args.file, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    conn.send(text)
    try:
        resp = parse_response(conn.recv())
        print(json.dumps({"status": resp["status"], "reason": resp["reason"]}))
    except socket.timeout:
        print(json.dumps({"status": None}))
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("register")
    r.add_argument("--server", required=True)
    r.add_argument("--user", required=True)
    r.add_argument("--password")
    r.add_argument("--domain", required=True)
    r.add_argument("--algorithm", default="MD5")
    r.add_argument("--expires", type=int, default=300)
    r.add_argument("--contact")
    r.add_argument("--replay", action="store_true")
    r.add_argument("--query", action="store_true", help="no Contact: list the bindings")
    r.add_argument("--wait", type=float, default=0)
    r.add_argument("--timeout", type=float, default=5)
    c = sub.add_parser("call")
    c.add_argument("--server", required=True)
    c.add_argument("--user", required=True)
    c.add_argument("--password")
    c.add_argument("--domain", required=True)
    c.add_argument("--callee", required=True)
    c.add_argument("--algorithm", default="MD5")
    c.add_argument("--hold", type=float, default=0.2, help="seconds between ACK and BYE")
    c.add_argument("--timeout", type=float, default=10)
    w = sub.add_parser("raw")
    w.add_argument("--server", required=True)
    w.add_argument("--file", required=True)
    w.add_argument("--timeout", type=float, default=3)
    args = p.parse_args()
    return {"register": cmd_register, "call": cmd_call, "raw": cmd_raw}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
