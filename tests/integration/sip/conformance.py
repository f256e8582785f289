#!/usr/bin/env python3
"""SIP conformance and abuse checks against a running `switchboard serve` (RFC 3261, 3581,
5658 and the edge's own rules), with raw SIP from small user agents written here. Standard
library only.

  conformance.py --udp 127.0.0.1:P --tcp 127.0.0.1:Q [--domain example.com] [NAME-FILTER...]
  conformance.py --users        # the SIP users the checks need (password: USER + "pw")

Each check prints "ok: NAME" or "FAIL: NAME: why"; the last line is "N passed, M failed" and
the exit status is 1 when anything failed. The proxy runs with its default timer C (180 s),
so a CANCEL that arrives within the checks' 1 s comes from the guard under test, never from
timer C: removing the caller's CANCEL relay, the CANCEL of the other branches on the first
2xx, or the end of the fork on a 6xx each fails a check here. SB_SIP_TRACE=1 prints every message sent and received on stderr.

Every user agent (UA) is its own socket on 127.0.0.1 with a port the system chooses; every
wait is bounded. To add a check: write `def check_x(t):` using UA, Call and respond() below,
decorate it with @check("name"), and add any new user
to USERS.
"""
import os
import random
import re
import socket
import sys
import time

sys.dont_write_bytecode = True  # importing siptool leaves no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from siptool import authorization, parse_challenge  # noqa: E402  (digest maths)

# Users provisioned by the wrapper (password = user + "pw"); one callee per check, so a
# binding left by one check never rings in another.
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
         "mike", "nina", "oscar", "peggy", "rupert", "sybil", "trent", "uma", "victor", "wendy"]

DOMAIN = "example.com"
SRV_UDP = None  # ("127.0.0.1", port)
SRV_TCP = None
TRACE = bool(os.environ.get("SB_SIP_TRACE"))
T_START = time.monotonic()
SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


def rnd(n=16):
    return "%0*x" % (n, random.getrandbits(4 * n))


def new_branch():
    return "z9hG4bK" + rnd()


# ---------------------------------------------------------------------------------------
# Messages

COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
           "l": "content-length", "c": "content-type", "k": "supported", "s": "subject",
           "e": "content-encoding", "o": "event", "r": "refer-to", "u": "allow-events"}
LIST_HEADERS = {"via", "route", "record-route", "contact", "supported", "allow", "require",
                "proxy-require", "unsupported", "accept"}


def split_list(value):
    """Splits a header value at commas outside <...> and quotes."""
    out, cur, depth, quoted = [], "", 0, False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def param(value, name):
    """A ;name=value parameter of a header value (None if absent, "" if without value)."""
    m = re.search(r";\s*" + re.escape(name) + r"(?:\s*=\s*([^;,\s>]*))?(?=[;,\s>]|$)", value, re.I)
    if not m:
        return None
    return m.group(1) if m.group(1) is not None else ""


class Msg:
    def __init__(self, raw, t, via_proto):
        self.raw = raw
        self.t = t  # time.monotonic() when read
        self.proto = via_proto
        head, _, body = raw.partition(b"\r\n\r\n")
        self.body = body.decode("utf-8", "replace")
        lines = head.decode("utf-8", "replace").split("\r\n")
        self.first = lines[0]
        self.headers = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and self.headers:  # folded line
                n, v = self.headers[-1]
                self.headers[-1] = (n, v + " " + line.strip())
                continue
            if ":" in line:
                n, v = line.split(":", 1)
                n = n.strip().lower()
                self.headers.append((COMPACT.get(n, n), v.strip()))
        parts = self.first.split(" ", 2)
        self.is_response = parts[0].upper().startswith("SIP/")
        self.status = int(parts[1]) if self.is_response and len(parts) > 1 and parts[1].isdigit() else 0
        self.method = None if self.is_response else parts[0]
        self.ruri = None if self.is_response else (parts[1] if len(parts) > 1 else "")

    def h(self, name):
        vals = self.hs(name)
        return vals[0] if vals else None

    def hs(self, name):
        name = COMPACT.get(name.lower(), name.lower())
        vals = [v for n, v in self.headers if n == name]
        if name in LIST_HEADERS:
            vals = [x for v in vals for x in split_list(v)]
        return vals

    def has(self, name):
        name = COMPACT.get(name.lower(), name.lower())
        return any(n == name for n, _ in self.headers)

    @property
    def cseq(self):
        v = (self.h("cseq") or "0 X").split()
        return (int(v[0]) if v[0].isdigit() else -1, v[1] if len(v) > 1 else "")

    @property
    def call_id(self):
        return self.h("call-id")

    @property
    def branch(self):
        v = self.h("via")
        return param(v, "branch") if v else None

    @property
    def to_tag(self):
        v = self.h("to")
        return param(v, "tag") if v else None

    def short(self):
        return self.first + (" [%s]" % self.h("cseq") if self.h("cseq") else "")

    def __repr__(self):
        return "<%s>" % self.short()


def is_req(method, cseq_num=None):
    return lambda m: (not m.is_response and m.method == method and
                      (cseq_num is None or m.cseq[0] == cseq_num))


def is_resp(method=None, final=None, status=None, call_id=None):
    def p(m):
        if not m.is_response:
            return False
        if method and m.cseq[1] != method:
            return False
        if final is True and m.status < 200:
            return False
        if final is False and m.status >= 200:
            return False
        if status is not None and m.status != status:
            return False
        if call_id is not None and m.call_id != call_id:
            return False
        return True
    return p


# ---------------------------------------------------------------------------------------
# User agents


class UA:
    """One socket on 127.0.0.1 (UDP, or a TCP connection to the server) that sends raw SIP
    and reads whole messages; unmatched messages wait in a backlog for a later recv."""

    def __init__(self, name, proto="udp"):
        self.name = name
        self.proto = proto
        self.buf = b""
        self.backlog = []
        self.closed = False
        if proto == "udp":
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind(("127.0.0.1", 0))
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.bind(("127.0.0.1", 0))
            self.sock.settimeout(3)
            self.sock.connect(SRV_TCP)
        self.port = self.sock.getsockname()[1]
        self.hostport = "127.0.0.1:%d" % self.port
        self.VIA = proto.upper()

    def via(self, branch, rport=True):
        return "SIP/2.0/%s %s;branch=%s%s" % (self.VIA, self.hostport, branch, ";rport" if rport else "")

    def contact(self, user):
        return "<sip:%s@%s%s>" % (user, self.hostport, ";transport=tcp" if self.proto == "tcp" else "")

    def send(self, data, to=None):
        if isinstance(data, str):
            data = data.encode()
        if TRACE:
            sys.stderr.write("[%6.3f] %s >>> %s\n%s\n" % (time.monotonic() - T_START, self.name,
                                                          self.proto, data.decode("utf-8", "replace")))
        if self.proto == "udp":
            self.sock.sendto(data, to or SRV_UDP)
        else:
            self.sock.sendall(data)

    def _read(self, deadline):
        """One message, or None when the deadline passes."""
        while True:
            left = deadline - time.monotonic()
            if self.proto == "udp":
                # A deadline already past still reads what is queued (non-blocking).
                self.sock.settimeout(max(left, 0.0))
                try:
                    data, _ = self.sock.recvfrom(65535)
                except (socket.timeout, BlockingIOError):
                    return None
                if not data.strip(b"\r\n"):
                    continue
                return self._got(data)
            # TCP: frame by Content-Length.
            self.buf = self.buf.lstrip(b"\r\n")
            if b"\r\n\r\n" in self.buf:
                head, _, rest = self.buf.partition(b"\r\n\r\n")
                m = re.search(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)", head)
                n = int(m.group(1)) if m else 0
                if len(rest) >= n:
                    self.buf = rest[n:]
                    return self._got(head + b"\r\n\r\n" + rest[:n])
            if self.closed:
                return None
            self.sock.settimeout(max(left, 0.0))
            try:
                chunk = self.sock.recv(65536)
            except (socket.timeout, BlockingIOError):
                return None
            except OSError:
                self.closed = True
                return None
            if not chunk:
                self.closed = True
                return None
            self.buf += chunk

    def _got(self, data):
        m = Msg(data, time.monotonic(), self.proto)
        if TRACE:
            sys.stderr.write("[%6.3f] %s <<< %s\n%s\n" % (m.t - T_START, self.name, self.proto,
                                                          data.decode("utf-8", "replace")))
        return m

    def recv(self, pred=None, timeout=2.0):
        """The first message matching pred (backlog first), or None after timeout seconds."""
        pred = pred or (lambda m: True)
        for i, m in enumerate(self.backlog):
            if pred(m):
                return self.backlog.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            m = self._read(deadline)
            if m is None:
                return None
            if pred(m):
                return m
            self.backlog.append(m)

    def collect(self, pred, duration, count=None):
        """Every message matching pred within duration seconds (backlog included); returns
        early once `count` have come."""
        got = [m for m in self.backlog if pred(m)]
        self.backlog = [m for m in self.backlog if not pred(m)]
        deadline = time.monotonic() + duration
        while count is None or len(got) < count:
            m = self._read(deadline)
            if m is None:
                return got
            if pred(m):
                got.append(m)
            else:
                self.backlog.append(m)
        return got

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def respond(ua, req, status, reason=None, to_tag=None, contact_user=None, extra=(), body="",
            send=True):
    """A UAS response to req (Via, From, To, Call-ID, CSeq copied; To tag added for status >
    100; Record-Route copied on 1xx/2xx to a dialog-creating request)."""
    reasons = {100: "Trying", 180: "Ringing", 200: "OK", 486: "Busy Here", 487: "Request Terminated",
               603: "Decline"}
    lines = ["SIP/2.0 %d %s" % (status, reason or reasons.get(status, "Whatever"))]
    lines += ["Via: " + v for v in req.hs("via")]
    lines.append("From: " + req.h("from"))
    to = req.h("to")
    if status > 100 and to_tag and param(to, "tag") is None:
        to += ";tag=" + to_tag
    lines.append("To: " + to)
    lines.append("Call-ID: " + req.call_id)
    lines.append("CSeq: " + req.h("cseq"))
    if req.method == "INVITE" and 100 < status < 300:
        lines += ["Record-Route: " + r for r in req.hs("record-route")]
    if contact_user and 100 < status < 300:
        lines.append("Contact: " + ua.contact(contact_user))
    lines += list(extra)
    if body:
        lines.append("Content-Type: application/sdp")
    lines += ["Content-Length: %d" % len(body.encode()), "", body]
    text = "\r\n".join(lines)
    if send:
        ua.send(text)
    return text


def register(ua, user, expires=300, contact=None, extra_via_params=""):
    """REGISTER with digest auth. Returns (final response, every response received)."""
    call_id = rnd(24)
    tag = rnd(8)
    got = []
    auth = None
    for cseq in (1, 2):
        lines = ["REGISTER sip:%s SIP/2.0" % DOMAIN,
                 "Via: " + ua.via(new_branch()) + extra_via_params,
                 "Max-Forwards: 70",
                 "From: <sip:%s@%s>;tag=%s" % (user, DOMAIN, tag),
                 "To: <sip:%s@%s>" % (user, DOMAIN),
                 "Call-ID: " + call_id,
                 "CSeq: %d REGISTER" % cseq,
                 "Contact: " + (contact or ua.contact(user)),
                 "Expires: %d" % expires]
        if auth:
            lines.append("Authorization: " + auth)
        lines += ["Content-Length: 0", "", ""]
        ua.send("\r\n".join(lines))
        while True:
            r = ua.recv(is_resp("REGISTER", call_id=call_id), 3)
            if r is None:
                return None, got
            got.append(r)
            if r.status >= 200:
                break
        if r.status != 401 or auth:
            return r, got
        ch = [parse_challenge(v) for v in r.hs("www-authenticate")]
        ch = [c for c in ch if c.get("algorithm", "MD5").upper() == "MD5"]
        if not ch:
            return r, got
        auth = authorization(ch[0], "MD5", user, user + "pw", "REGISTER", "sip:" + DOMAIN, 1)
    return r, got


class Call:
    """The caller's side of one INVITE and the dialog it makes."""

    def __init__(self, ua, user, target, extra=(), body=SDP):
        self.ua = ua
        self.user = user
        self.target = target if target.startswith("sip:") else "sip:%s@%s" % (target, DOMAIN)
        self.extra = list(extra)
        self.body = body
        self.call_id = rnd(24) + "@conformance"
        self.tag = rnd(8)
        self.cseq = 1
        self.branch = None  # the current INVITE's branch
        self.routes = []
        self.remote = None
        self.peer_to = None
        self.responses = []

    @property
    def frm(self):
        return "<sip:%s@%s>;tag=%s" % (self.user, DOMAIN, self.tag)

    def build(self, method, ruri=None, cseq=None, branch=None, to=None, routes=(), extra=(),
              body="", cseq_method=None):
        lines = ["%s %s SIP/2.0" % (method, ruri or self.target),
                 "Via: " + self.ua.via(branch or new_branch()),
                 "Max-Forwards: 70",
                 "From: " + self.frm,
                 "To: " + (to or "<%s>" % self.target),
                 "Call-ID: " + self.call_id,
                 "CSeq: %d %s" % (self.cseq if cseq is None else cseq, cseq_method or method)]
        lines += ["Route: " + r for r in routes]
        if method in ("INVITE", "BYE", "ACK"):
            lines.append("Contact: " + self.ua.contact(self.user))
        lines += list(extra)
        if body:
            lines.append("Content-Type: application/sdp")
        lines += ["Content-Length: %d" % len(body.encode()), "", body]
        return "\r\n".join(lines)

    def send_invite(self, auth=None):
        self.branch = new_branch()
        extra = self.extra + (["Proxy-Authorization: " + auth] if auth else [])
        self.ua.send(self.build("INVITE", branch=self.branch, extra=extra, body=self.body))

    def final(self, timeout=3.0):
        r = self.ua.recv(is_resp("INVITE", final=True, call_id=self.call_id), timeout)
        if r is not None:
            self.responses.append(r)
        return r

    def invite(self, timeout=3.0):
        """INVITE, answering the 407. Returns the 407's successor's first answer: None when
        nothing came; the 407 (or other final) when the authenticated INVITE was not sent."""
        self.send_invite()
        r = self.final(timeout)
        if r is None or r.status != 407:
            return r
        self.ack_non2xx(r)
        ch = [parse_challenge(v) for v in r.hs("proxy-authenticate")]
        ch = [c for c in ch if c.get("algorithm", "MD5").upper() == "MD5"]
        if not ch:
            return r
        self.cseq += 1
        auth = authorization(ch[0], "MD5", self.user, self.user + "pw", "INVITE", self.target, 1)
        self.send_invite(auth)
        return True

    def ack_non2xx(self, resp):
        """§17.1.1.3: same branch as the INVITE, To with the response's tag."""
        self.ua.send(self.build("ACK", branch=self.branch, to=resp.h("to")))

    def cancel(self):
        self.ua.send(self.build("CANCEL", branch=self.branch))

    def dialog(self, resp):
        """§12.1.2: route set = Record-Route reversed, remote target = Contact."""
        self.routes = list(reversed(resp.hs("record-route")))
        c = resp.h("contact") or ""
        m = re.search(r"<([^>]+)>", c)
        self.remote = m.group(1) if m else c.split(";")[0]
        self.peer_to = resp.h("to")

    def ack_2xx(self):
        self.ua.send(self.build("ACK", ruri=self.remote, to=self.peer_to, routes=self.routes))

    def bye(self):
        self.cseq += 1
        self.ua.send(self.build("BYE", ruri=self.remote, to=self.peer_to, routes=self.routes))


def callee_request(ua, user, inv, my_tag, method, cseq=1):
    """An in-dialog request from the callee of INVITE `inv` (as received), along the route set
    it received (Record-Route in order) to the caller's Contact."""
    m = re.search(r"<([^>]+)>", inv.h("contact") or "")
    target = m.group(1) if m else (inv.h("contact") or "").split(";")[0]
    to = inv.h("to")
    if param(to, "tag") is None:
        to += ";tag=" + my_tag
    lines = ["%s %s SIP/2.0" % (method, target),
             "Via: " + ua.via(new_branch()),
             "Max-Forwards: 70",
             "From: " + to,
             "To: " + inv.h("from"),
             "Call-ID: " + inv.call_id,
             "CSeq: %d %s" % (cseq, method)]
    lines += ["Route: " + r for r in inv.hs("record-route")]
    lines += ["Contact: " + ua.contact(user), "Content-Length: 0", "", ""]
    ua.send("\r\n".join(lines))


# ---------------------------------------------------------------------------------------
# Checks

class Fail(Exception):
    pass


class T:
    """What a check gets: assertions (expect goes on, require stops) and its UAs."""

    def __init__(self):
        self.problems = []
        self.uas = []

    def ua(self, name, proto="udp"):
        u = UA(name, proto)
        self.uas.append(u)
        return u

    def expect(self, cond, why):
        if not cond:
            self.problems.append(why)
        return cond

    def require(self, cond, why):
        if not cond:
            self.problems.append(why)
            raise Fail()
        return cond

    def registered(self, ua, user, **kw):
        r, _ = register(ua, user, **kw)
        self.require(r is not None and r.status == 200,
                     "%s's REGISTER: %s" % (user, r.first if r else "no answer"))
        return r

    def authed_invite(self, call):
        r = call.invite()
        self.require(r is True, "INVITE from %s (407 then credentials): got %s" %
                     (call.user, r.first if isinstance(r, Msg) else "no answer"))

    def close(self):
        for u in self.uas:
            u.close()


CHECKS = []


def check(name):
    def deco(fn):
        CHECKS.append((name, fn))
        return fn
    return deco


def within(t, msg, t0, limit):
    t.expect(msg.t - t0 <= limit, "%s arrived %.2f s later (limit %.1f s)" % (msg.short(), msg.t - t0, limit))


def first_lines(msgs):
    """'INVITE sip:x SIP/2.0 [1 INVITE] (x2); ...': what came, repeats counted."""
    seen = []
    for m in msgs:
        if seen and seen[-1][0] == m.short():
            seen[-1][1] += 1
        else:
            seen.append([m.short(), 1])
    return "; ".join(s + (" (x%d)" % n if n > 1 else "") for s, n in seen) or "nothing"


# --- behaviours that exist today -------------------------------------------------------

@check("parallel fork: 200 on one branch cancels the other within 1 s, ACK reaches the answerer")
def check_parallel_fork(t):
    b1, b2 = t.ua("bob-1"), t.ua("bob-2")
    t.registered(b1, "bob")
    t.registered(b2, "bob")
    caller = t.ua("alice")
    call = Call(caller, "alice", "bob")
    t.authed_invite(call)
    i1, i2 = b1.recv(is_req("INVITE"), 3), b2.recv(is_req("INVITE"), 3)
    t.require(i1 and i2, "INVITE reached %s of the two bindings" % ((i1 is not None) + (i2 is not None)))
    respond(b1, i1, 180, to_tag="b1")
    respond(b2, i2, 180, to_tag="b2")
    ringing = caller.collect(is_resp("INVITE", status=180), 1.0, count=2)
    t.expect(len(ringing) == 2, "the caller heard %d 180s, not 2" % len(ringing))
    t0 = time.monotonic()
    respond(b1, i1, 200, to_tag="b1", contact_user="bob", body=SDP)
    c = b2.recv(is_req("CANCEL"), 3)
    t.require(c is not None, "the other branch got no CANCEL within 3 s of the 200 (timer C is 180 s)")
    within(t, c, t0, 1.0)
    t.expect(c.branch == i2.branch, "CANCEL branch %s != INVITE branch %s" % (c.branch, i2.branch))
    respond(b2, c, 200)
    respond(b2, i2, 487, to_tag="b2")
    a = b2.recv(is_req("ACK"), 2)
    t.expect(a is not None and a.branch == i2.branch, "the cancelled branch's 487 got no hop-by-hop ACK")
    r = call.final(3)
    t.require(r is not None and r.status == 200, "the caller got %s, not 200" % (r.first if r else "nothing"))
    t.expect(r.to_tag == "b1", "the caller's 200 has To tag %s, not the answerer's" % r.to_tag)
    call.dialog(r)
    call.ack_2xx()
    ack = b1.recv(is_req("ACK"), 2)
    t.expect(ack is not None, "the caller's ACK did not reach the answering UA")
    t.expect(ack is None or ack.cseq[0] == i1.cseq[0], "ACK CSeq %s" % (ack and ack.h("cseq")))
    extra = caller.collect(is_resp("INVITE", final=True), 0.3)
    t.expect(all(m.status == 200 for m in extra), "the caller also got " + first_lines(extra))
    call.bye()
    bye = b1.recv(is_req("BYE"), 2)
    if t.expect(bye is not None, "the caller's BYE did not reach the answering UA"):
        respond(b1, bye, 200)
        t.expect(caller.recv(is_resp("BYE", final=True), 2) is not None, "no answer to the BYE")


def cancel_flow(t, callee_user, ring_first):
    callee = t.ua(callee_user)
    t.registered(callee, callee_user)
    caller = t.ua("alice")
    call = Call(caller, "alice", callee_user)
    t.authed_invite(call)
    inv = callee.recv(is_req("INVITE"), 3)
    t.require(inv is not None, "the INVITE did not reach the callee")
    if ring_first:
        respond(callee, inv, 180, to_tag="cc")
        t.require(caller.recv(is_resp("INVITE", status=180), 2), "the caller did not hear 180")
    call.cancel()
    t0 = time.monotonic()
    r = caller.recv(is_resp("CANCEL", final=True), 2)
    t.expect(r is not None and r.status == 200, "the caller's CANCEL got %s, not 200" % (r.first if r else "nothing"))
    if not ring_first:
        # §9.1 / §16.10: no CANCEL downstream before a provisional response.
        early = callee.recv(is_req("CANCEL"), 0.6)
        t.expect(early is None, "CANCEL forwarded before the callee sent any provisional response")
        respond(callee, inv, 100)
        t0 = time.monotonic()
        c = early or callee.recv(is_req("CANCEL"), 3)
    else:
        c = callee.recv(is_req("CANCEL"), 3)
    t.require(c is not None, "the callee got no CANCEL")
    within(t, c, t0, 1.0)
    t.expect(c.branch == inv.branch, "CANCEL branch %s != INVITE branch %s" % (c.branch, inv.branch))
    respond(callee, c, 200)
    respond(callee, inv, 487, to_tag="cc")
    a = callee.recv(is_req("ACK"), 2)
    t.expect(a is not None, "the callee got no ACK for its 487")
    t.expect(a is None or a.branch == inv.branch,
             "the ACK of the 487 has branch %s, not the INVITE's %s" % (a and a.branch, inv.branch))
    f = call.final(3)
    t.require(f is not None and f.status == 487, "the caller got %s, not 487" % (f.first if f else "nothing"))
    call.ack_non2xx(f)


@check("CANCEL before any 1xx: 200 to the caller; CANCEL follows the callee's 100 within 1 s; 487; hop-by-hop ACK")
def check_cancel_before_1xx(t):
    cancel_flow(t, "carol", ring_first=False)


@check("CANCEL after 180: 200 to the caller, callee CANCELled within 1 s, 487, hop-by-hop ACK")
def check_cancel_after_180(t):
    cancel_flow(t, "grace", ring_first=True)


@check("603 on one branch of a parallel fork: the other branch is CANCELled within 1 s, the caller gets 603")
def check_fork_603(t):
    b1, b2 = t.ua("dave-1"), t.ua("dave-2")
    t.registered(b1, "dave")
    t.registered(b2, "dave")
    caller = t.ua("alice")
    call = Call(caller, "alice", "dave")
    t.authed_invite(call)
    i1, i2 = b1.recv(is_req("INVITE"), 3), b2.recv(is_req("INVITE"), 3)
    t.require(i1 and i2, "INVITE reached %s of the two bindings" % ((i1 is not None) + (i2 is not None)))
    respond(b1, i1, 180, to_tag="d1")
    respond(b2, i2, 180, to_tag="d2")
    caller.collect(is_resp("INVITE", status=180), 1.0, count=2)
    t0 = time.monotonic()
    respond(b1, i1, 603, to_tag="d1")
    c = b2.recv(is_req("CANCEL"), 3)
    t.require(c is not None, "the other branch got no CANCEL after the 603")
    within(t, c, t0, 1.0)
    respond(b2, c, 200)
    respond(b2, i2, 487, to_tag="d2")
    a1 = b1.recv(is_req("ACK"), 2)
    t.expect(a1 is not None and a1.branch == i1.branch, "the 603 got no hop-by-hop ACK")
    f = call.final(3)
    t.require(f is not None, "the caller got no final response")
    t.expect(f.status == 603, "the caller got %s, not 603" % f.first)
    call.ack_non2xx(f)


@check("486: hop-by-hop ACK from the proxy (INVITE's branch), the caller's ACK absorbed")
def check_486_ack(t):
    callee = t.ua("erin")
    t.registered(callee, "erin")
    caller = t.ua("alice")
    call = Call(caller, "alice", "erin")
    t.authed_invite(call)
    inv = callee.recv(is_req("INVITE"), 3)
    t.require(inv is not None, "the INVITE did not reach the callee")
    respond(callee, inv, 486, to_tag="busy")
    a = callee.recv(is_req("ACK"), 2)
    t.require(a is not None, "the callee got no ACK for its 486")
    t.expect(a.branch == inv.branch, "ACK branch %s != INVITE branch %s" % (a.branch, inv.branch))
    t.expect(a.to_tag == "busy", "ACK To tag %s, not the 486's" % a.to_tag)
    t.expect(a.cseq == (inv.cseq[0], "ACK"), "ACK CSeq %s" % a.h("cseq"))
    f = call.final(3)
    t.require(f is not None and f.status == 486, "the caller got %s, not 486" % (f.first if f else "nothing"))
    call.ack_non2xx(f)
    more = callee.collect(is_req("ACK"), 1.0)
    t.expect(not more, "the caller's ACK was forwarded too: " + first_lines(more))


def fnv_field(h, s):
    for b in s.encode():
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return ((h ^ 0xFF) * 1099511628211) & 0xFFFFFFFFFFFFFFFF


def loop_hash(ruri, call_id, from_tag, to_tag, cseq_num, top_route=""):
    """src/edge/proxy_rules.cc loopHash(): the part of our branch ids a loop repeats."""
    h = 1469598103934665603
    for f in (ruri, call_id, from_tag, to_tag, str(cseq_num), top_route):
        h = fnv_field(h, f)
    return "%016x" % h


def simple_request(ua, method, ruri, call_id, extra=(), cseq="1", to_tag=None, branch=None):
    return ["%s %s SIP/2.0" % (method, ruri),
            "Via: " + ua.via(branch or new_branch()),
            "Max-Forwards: 70",
            "From: <sip:alice@%s>;tag=ftag1" % DOMAIN,
            "To: <%s>%s" % (ruri, ";tag=" + to_tag if to_tag else ""),
            "Call-ID: " + call_id,
            "CSeq: %s %s" % (cseq, method)] + list(extra) + ["Content-Length: 0"]


@check("482 Loop Detected for a request carrying our own Via and loop branch (a spiral is not a loop)")
def check_482(t):
    for looped in (True, False):
        ua = t.ua("looper")
        ruri = "sip:bob@" + DOMAIN
        call_id = rnd(20)
        h = loop_hash(ruri, call_id, "ftag1", "", 1)
        if not looped:
            h = "%016x" % (int(h, 16) ^ 1)  # another hash: the request changed (a spiral)
        lines = simple_request(ua, "OPTIONS", ruri, call_id)
        lines.insert(2, "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bKsb%s.000000000007;rport=5060" % (
            SRV_UDP[0], SRV_UDP[1], h))
        ua.send("\r\n".join(lines + ["", ""]))
        r = ua.recv(is_resp(final=True), 2)
        if looped:
            t.expect(r is not None and r.status == 482, "looped OPTIONS got %s, not 482" % (r.first if r else "nothing"))
        else:
            t.expect(r is not None and r.status != 482, "a spiral (other hash) got %s" % (r.first if r else "nothing"))


@check("483 Too Many Hops for Max-Forwards: 0 on an INVITE to be proxied")
def check_483(t):
    ua = t.ua("mf0")
    call = Call(ua, "alice", "bob")
    call.branch = new_branch()
    ua.send(call.build("INVITE", branch=call.branch, body=SDP).replace("Max-Forwards: 70", "Max-Forwards: 0"))
    r = call.final(2)
    t.require(r is not None and r.status == 483, "got %s, not 483" % (r.first if r else "nothing"))
    call.ack_non2xx(r)


@check("420 Bad Extension with Unsupported: foo for Proxy-Require: foo")
def check_420(t):
    ua = t.ua("preq")
    call = Call(ua, "alice", "bob", extra=["Proxy-Require: foo"])
    call.send_invite()
    r = call.final(2)
    t.require(r is not None and r.status == 420, "got %s, not 420" % (r.first if r else "nothing"))
    t.expect("foo" in [x.lower() for x in r.hs("unsupported")], "Unsupported: %s" % r.hs("unsupported"))
    call.ack_non2xx(r)


def bad_cseq_invite(t):
    ua = t.ua("bad")
    call = Call(ua, "alice", "bob")
    ua.send(call.build("INVITE", branch=new_branch(), body=SDP).replace("CSeq: 1 INVITE", "CSeq: abc INVITE"))
    r = ua.recv(is_resp(final=True), 2)
    t.require(r is not None and r.status == 400, "got %s, not 400" % (r.first if r else "nothing"))
    return r


@check("400 for a malformed request (bad CSeq)")
def check_400(t):
    bad_cseq_invite(t)


# Found by this suite, not in the list of bugs being fixed: the transport's 400 (and other
# answers to unparsable/invalid requests) copies To unchanged (src/transport/transport.cc
# rawErrorResponse, and ResponseBuilder without toTag). §8.2.6.2: the UAS MUST add a tag.
@check("the 400 for a malformed request carries a To tag (§8.2.6.2)")
def check_400_to_tag(t):
    r = bad_cseq_invite(t)
    t.expect(r.to_tag, "the 400 has no To tag: To: %s" % r.h("to"))


@check("TCP framing: a request in 3 segments, 2 pipelined requests, Content-Length waits for the rest")
def check_tcp_framing(t):
    ua = t.ua("tcp", "tcp")
    ruri = "sip:%s:%d" % SRV_TCP

    def opts(call_id, body=""):
        lines = simple_request(ua, "OPTIONS", ruri, call_id)[:-1]
        if body:
            lines.append("Content-Type: text/plain")
        return "\r\n".join(lines) + "\r\n"

    cid = rnd(12)
    data = (opts(cid) + "Content-Length: 0\r\n\r\n").encode()
    for piece in (data[:25], data[25:len(data) - 30], data[len(data) - 30:]):
        ua.send(piece)
        time.sleep(0.1)
    r = ua.recv(is_resp(call_id=cid), 2)
    t.expect(r is not None and r.status == 200, "split request: %s" % (r.first if r else "no answer"))
    c1, c2 = rnd(12), rnd(12)
    ua.send(opts(c1) + "Content-Length: 0\r\n\r\n" + opts(c2) + "Content-Length: 0\r\n\r\n")
    r1 = ua.recv(is_resp(call_id=c1), 2)
    r2 = ua.recv(is_resp(call_id=c2), 2)
    t.expect(r1 is not None and r2 is not None, "pipelined: answers to %s of 2" % ((r1 is not None) + (r2 is not None)))
    c3 = rnd(12)
    ua.send(opts(c3, body="x") + "Content-Length: 10\r\n\r\nhello")
    early = ua.recv(is_resp(call_id=c3), 0.6)
    t.expect(early is None, "answered before the body was complete: " + (early.first if early else ""))
    ua.send("world")
    r3 = early or ua.recv(is_resp(call_id=c3), 2)
    t.expect(r3 is not None and r3.status == 200, "after the rest of the body: %s" % (r3.first if r3 else "no answer"))
    t.expect(not ua.closed, "the server closed the connection")


@check("OPTIONS to the server's own address: 200 with Allow")
def check_options_self(t):
    ua = t.ua("opt")
    ua.send("\r\n".join(simple_request(ua, "OPTIONS", "sip:%s:%d" % SRV_UDP, rnd(12)) + ["", ""]))
    r = ua.recv(is_resp(final=True), 2)
    t.require(r is not None and r.status == 200, "got %s" % (r.first if r else "nothing"))
    t.expect("INVITE" in [x.upper() for x in r.hs("allow")], "Allow: %s" % r.hs("allow"))


# --- relaying rules, interop and the answers the edge writes itself (issue 15) ---------

@check("no open relay: unauthenticated in-dialog-looking INVITE/BYE (and a forged Route to us) to a foreign address")
def check_open_relay(t):
    cases = []
    for label, method, route in (("INVITE", "INVITE", False), ("BYE", "BYE", False),
                                 ("INVITE+Route", "INVITE", True)):
        victim = t.ua("victim-" + label)
        attacker = t.ua("attacker-" + label)
        ruri = "sip:anyone@127.0.0.1:%d" % victim.port
        lines = ["%s %s SIP/2.0" % (method, ruri),
                 "Via: " + attacker.via(new_branch()),
                 "Max-Forwards: 70",
                 "From: <sip:mallory@evil.invalid>;tag=%s" % rnd(8),
                 "To: <sip:x@127.0.0.1:%d>;tag=abc" % victim.port,
                 "Call-ID: " + rnd(20),
                 "CSeq: 1 " + method,
                 "Contact: <sip:mallory@%s>" % attacker.hostport]
        if route:
            lines.append("Route: <sip:%s:%d;lr>" % SRV_UDP)
        lines += ["Content-Length: 0", "", ""]
        attacker.send("\r\n".join(lines))
        cases.append((label, method, victim, attacker, lines))
    deadline = time.monotonic() + 1.5
    for label, method, victim, attacker, lines in cases:
        got = victim.collect(lambda m: True, max(0.0, deadline - time.monotonic()))
        t.expect(not got, "%s relayed to the foreign address: %s" % (label, first_lines(got)))
    deadline = time.monotonic() + 0.5
    for label, method, victim, attacker, lines in cases:
        r = attacker.recv(is_resp(method, final=True), max(0.0, deadline - time.monotonic()))
        if r is None:
            r1 = attacker.recv(is_resp(method), 0)
            label += " (provisional: %s)" % (r1.first if r1 else "none")
        t.expect(r is not None and r.status in (403, 404),
                 "%s answered %s, not 403/404" % (label, r.first if r else "nothing"))
        if r is not None and r.status >= 300 and method == "INVITE":
            ack = ["ACK " + lines[0].split(" ")[1] + " SIP/2.0", lines[1], lines[2], lines[3],
                   "To: " + r.h("to"), lines[5], "CSeq: 1 ACK"]
            ack += [x for x in lines if x.startswith("Route:")]
            attacker.send("\r\n".join(ack + ["Content-Length: 0", "", ""]))


@check("no reflection: a response with a foreign top Via (our branch prefix) is not forwarded (UDP, TCP)")
def check_reflection(t):
    victim = t.ua("victim-udp")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.2)
    tcp_port = listener.getsockname()[1]
    try:
        for via2 in ("SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKvictim1" % victim.port,
                     "SIP/2.0/TCP 127.0.0.1:%d;branch=z9hG4bKvictim2" % tcp_port):
            attacker = t.ua("reflector")
            attacker.send("\r\n".join([
                "SIP/2.0 200 OK",
                "Via: SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bKsb%s.000000000001" % rnd(16),
                "Via: " + via2,
                "From: <sip:a@127.0.0.1>;tag=%s" % rnd(8),
                "To: <sip:b@127.0.0.1>;tag=%s" % rnd(8),
                "Call-ID: " + rnd(20),
                "CSeq: 1 INVITE",
                "Contact: <sip:b@127.0.0.1:9>",
                "Content-Length: 0", "", ""]))
        deadline = time.monotonic() + 1.5
        accepted = []
        while time.monotonic() < deadline:
            try:
                conn, peer = listener.accept()
                conn.settimeout(0.5)
                try:
                    data = conn.recv(4096)
                except OSError:
                    data = b""
                accepted.append("%s:%d sent %r" % (peer[0], peer[1], data.split(b"\r\n", 1)[0]))
                conn.close()
            except socket.timeout:
                pass
        got = victim.collect(lambda m: True, 0.05)
        t.expect(not got, "UDP: the response was reflected to the second Via: " + first_lines(got))
        t.expect(not accepted, "TCP: the server connected to the second Via's address: " + "; ".join(accepted))
    finally:
        listener.close()


@check("2xx retransmissions from the callee are all relayed; the late ACK reaches the callee")
def check_2xx_retransmissions(t):
    callee = t.ua("trent")
    t.registered(callee, "trent")
    caller = t.ua("alice")
    call = Call(caller, "alice", "trent")
    t.authed_invite(call)
    inv = callee.recv(is_req("INVITE"), 3)
    t.require(inv is not None, "the INVITE did not reach the callee")
    respond(callee, inv, 180, to_tag="tt")
    ok = respond(callee, inv, 200, to_tag="tt", contact_user="trent", body=SDP)
    t0 = time.monotonic()
    for at in (0.6, 1.6):
        time.sleep(max(0.0, t0 + at - time.monotonic()))
        callee.send(ok)
    oks = caller.collect(is_resp("INVITE", status=200), max(0.1, t0 + 2.2 - time.monotonic()))
    t.expect(len(oks) >= 3, "the caller got %d copies of the 200 (callee sent 3, at 0, 0.6, 1.6 s)" % len(oks))
    t.require(oks, "no 200 at the caller")
    call.dialog(oks[0])
    call.ack_2xx()
    ack = callee.recv(is_req("ACK"), 2)
    t.expect(ack is not None, "the caller's ACK did not reach the callee")
    call.bye()
    bye = callee.recv(is_req("BYE"), 2)
    if bye is not None:
        respond(callee, bye, 200)


def mixed_call(t, caller, caller_user, caller_proto, callee, callee_user, callee_proto, who_hangs_up):
    """One call across transports; returns after the BYE (by caller or callee) and its 200."""
    tag = "%s-%s, %s hangs up" % (caller_proto, callee_proto, who_hangs_up)
    call = Call(caller, caller_user, callee_user)
    t.authed_invite(call)
    inv = callee.recv(is_req("INVITE"), 3)
    t.require(inv is not None, "%s: the INVITE did not reach the callee" % tag)
    # RFC 5658: two entries when the transport changes, each naming our side of one leg.
    rr = inv.hs("record-route")
    srv = {"udp": SRV_UDP, "tcp": SRV_TCP}
    want = [(callee_proto, srv[callee_proto]), (caller_proto, srv[caller_proto])]
    ok_rr = len(rr) == 2
    for (proto, addr), entry in zip(want, rr):
        ok_rr &= ("%s:%d" % addr) in entry
        ok_rr &= (param(entry, "transport") or "udp").lower() == proto
    t.expect(ok_rr, "%s: Record-Route at the callee %s, want [%s]" % (
        tag, rr, ", ".join("%s %s:%d" % (p, a[0], a[1]) for p, a in want)))
    respond(callee, inv, 180, to_tag="mx")
    respond(callee, inv, 200, to_tag="mx", contact_user=callee_user, body=SDP)
    r = call.final(3)
    t.require(r is not None and r.status == 200, "%s: the caller got %s" % (tag, r.first if r else "nothing"))
    call.dialog(r)
    call.ack_2xx()
    t.expect(callee.recv(is_req("ACK"), 2) is not None,
             "%s: the caller's ACK (Route %s, to %s) did not reach the callee" % (tag, call.routes, call.remote))
    if who_hangs_up == "caller":
        call.bye()
        bye = callee.recv(is_req("BYE"), 2)
        t.require(bye is not None, "%s: the caller's BYE (Route %s, to %s) did not reach the %s callee" % (
            tag, call.routes, call.remote, callee_proto))
        respond(callee, bye, 200)
        r = caller.recv(is_resp("BYE", final=True), 2)
        t.expect(r is not None and r.status == 200, "%s: the callee's 200 to BYE did not reach the %s caller" % (
            tag, caller_proto))
    else:
        callee_request(callee, callee_user, inv, "mx", "BYE")
        bye = caller.recv(is_req("BYE"), 2)
        t.require(bye is not None, "%s: the callee's BYE (Route %s, to %s) did not reach the %s caller" % (
            tag, inv.hs("record-route"), inv.h("contact"), caller_proto))
        respond(caller, bye, 200)
        r = callee.recv(is_resp("BYE", final=True), 2)
        t.expect(r is not None and r.status == 200, "%s: the caller's 200 to BYE did not reach the callee" % tag)


def mixed(t, caller_proto, callee_proto, users):
    caller_user, callee_user = users
    callee = t.ua("%s(%s)" % (callee_user, callee_proto), callee_proto)
    t.registered(callee, callee_user)
    caller = t.ua("%s(%s)" % (caller_user, caller_proto), caller_proto)
    t.registered(caller, caller_user)
    for who in ("caller", "callee"):
        try:
            mixed_call(t, caller, caller_user, caller_proto, callee, callee_user, callee_proto, who)
        except Fail:
            pass
    if t.problems:
        raise Fail()


@check("mixed transports, TCP caller -> UDP callee: double Record-Route, ACK and BYEs both ways")
def check_mixed_tcp_udp(t):
    mixed(t, "tcp", "udp", ("mike", "judy"))


@check("mixed transports, UDP caller -> TCP callee: double Record-Route, ACK and BYEs both ways")
def check_mixed_udp_tcp(t):
    mixed(t, "udp", "tcp", ("oscar", "nina"))


@check("empty Supported:/Allow: in an INVITE are proxied (not 400); an empty Supported: in a 200 is relayed")
def check_empty_headers(t):
    callee = t.ua("peggy")
    t.registered(callee, "peggy")
    caller = t.ua("alice")
    call = Call(caller, "alice", "peggy", extra=["Supported:", "Allow:"])
    t.authed_invite(call)
    inv = callee.recv(is_req("INVITE"), 3)
    t.require(inv is not None, "the INVITE with empty headers did not reach the callee: caller got %s" %
              first_lines(call.responses + caller.collect(is_resp(final=True), 0.1)))
    respond(callee, inv, 200, to_tag="pp", contact_user="peggy", body=SDP, extra=["Supported:"])
    r = call.final(2)
    t.require(r is not None and r.status == 200, "the 200 with an empty Supported: was not relayed (caller got %s)"
              % (r.first if r else "nothing"))
    call.dialog(r)
    call.ack_2xx()
    call.bye()
    bye = callee.recv(is_req("BYE"), 2)
    if bye is not None:
        respond(callee, bye, 200)


@check("OPTIONS to the served domain (sip:example.com): 200 with Allow, Accept, Supported")
def check_options_domain(t):
    ua = t.ua("optdom")
    ruri = "sip:" + DOMAIN
    ua.send("\r\n".join(simple_request(ua, "OPTIONS", ruri, rnd(12)) + ["", ""]))
    r = ua.recv(is_resp(final=True), 2)
    t.require(r is not None, "no answer")
    if r.status != 200:
        note = ""
        if r.status == 407:  # what it does with credentials, for the record
            ch = [c for c in map(parse_challenge, r.hs("proxy-authenticate"))
                  if c.get("algorithm", "MD5").upper() == "MD5"]
            if ch:
                auth = authorization(ch[0], "MD5", "alice", "alicepw", "OPTIONS", ruri, 1)
                lines = simple_request(ua, "OPTIONS", ruri, rnd(12), extra=["Proxy-Authorization: " + auth])
                ua.send("\r\n".join(lines + ["", ""]))
                r2 = ua.recv(is_resp(final=True), 2)
                note = " (with credentials: %s)" % (r2.first if r2 else "nothing")
        t.require(False, "got %s, not 200%s" % (r.first, note))
    for h in ("allow", "accept", "supported"):
        t.expect(r.has(h), "no %s header" % h.title())


@check("rport: the edge's own responses (401/407, REGISTER 200) carry rport=PORT and received=127.0.0.1")
def check_rport(t):
    ua = t.ua("rport")
    final, got = register(ua, "rupert")
    t.require(final is not None and final.status == 200, "REGISTER: %s" % (final.first if final else "no answer"))
    call = Call(ua, "rupert", "bob")
    call.send_invite()
    got += ua.collect(is_resp("INVITE"), 0.4)
    f = [m for m in got if m.cseq[1] == "INVITE" and m.status >= 200]
    if f:
        call.ack_non2xx(f[0])
    t.expect(any(m.status == 407 for m in got), "no 407 to the INVITE")
    for m in got:
        via = m.h("via")
        t.expect(param(via, "rport") == str(ua.port) and param(via, "received") == "127.0.0.1",
                 "%s: top Via %s" % (m.first, via))


@check("the registrar's 200 OK carries a Date header")
def check_register_date(t):
    ua = t.ua("date")
    r = t.registered(ua, "sybil")
    d = r.h("date")
    t.require(d is not None, "no Date header in: %s" % " | ".join(
        "%s: %s" % (n, v) for n, v in r.headers if n not in ("via", "from", "to", "call-id")))
    t.expect(re.match(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$", d),
             "Date not in RFC 1123 GMT form: %s" % d)


# ---------------------------------------------------------------------------------------

def hostport(s):
    host, port = s.rsplit(":", 1)
    return (host.strip("[]"), int(port))


def main(argv):
    global SRV_UDP, SRV_TCP, DOMAIN
    if "--users" in argv:
        print("\n".join(USERS))
        return 0
    filters = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--udp", "--tcp", "--domain"):
            v = argv[i + 1]
            i += 2
            if a == "--udp":
                SRV_UDP = hostport(v)
            elif a == "--tcp":
                SRV_TCP = hostport(v)
            else:
                DOMAIN = v
            continue
        filters.append(a)
        i += 1
    if not SRV_UDP or not SRV_TCP:
        print("usage: conformance.py --udp HOST:PORT --tcp HOST:PORT [--domain D] [NAME-FILTER...]")
        return 2
    passed = failed = 0
    for name, fn in CHECKS:
        if filters and not any(f.lower() in (name + fn.__name__).lower() for f in filters):
            continue
        t = T()
        t0 = time.monotonic()
        try:
            fn(t)
        except Fail:
            pass
        except Exception as e:  # a crash in a check is a failure of that check
            t.problems.append("%s: %s" % (type(e).__name__, e))
        finally:
            t.close()
        took = time.monotonic() - t0
        if not t.problems:
            passed += 1
            print("ok: %s" % name)
        else:
            failed += 1
            print("FAIL: %s: %s" % (name, "; ".join(t.problems)))
        if TRACE:
            sys.stderr.write("--- %s: %.2f s\n" % (name, took))
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
