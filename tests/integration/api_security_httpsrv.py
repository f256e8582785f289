#!/usr/bin/env python3
"""The HTTP layer and the store's files on a real `switchboard serve` (issue 23, findings 4 and 6,
connection limits, X-Forwarded-For):
  - a fresh serve makes data_dir 0700 and every file in it 0600; a data_dir or a database file
    that group or others can reach makes serve (and admin) refuse to start with the chmod to run;
  - a Transfer-Encoding that does not end in chunked is 400, one with another coding before
    chunked is 501, and the connection closes without reading the body as a next request;
  - one address at its connection cap (unfinished requests, slowloris) loses its oldest idle
    connections to newer ones, so a normal client from it and from elsewhere is served; a
    connection's last allowed request says Connection: close;
  - X-Forwarded-For names the client (audit log, failure slowdown) only from a trusted proxy.
Usage: api_security_httpsrv.py path/to/switchboard"""
import base64
import os
import re
import socket
import stat
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "api"))
from seclib import Suite  # noqa: E402


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def statuses(data):
    """The status codes of every response in raw bytes, in order (a response follows the JSON
    body of the one before it without a line break)."""
    return [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)]


s = Suite(sys.argv[1], "api_security_httpsrv")
acc = s.admin("account", "create", "--name", "A")
auth = (acc["sid"], acc["auth_token"])
acc_path = f"/2010-04-01/Accounts/{acc['sid']}.json"
basic = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()

# --- finding 4: file modes -----------------------------------------------------------------
s.start()
st, _, _ = s.api("GET", f"/Accounts/{acc['sid']}.json", auth)  # a write to the audit log
s.check("the owner reads its account", st == 200, f"got {st}")
s.stop()
db = os.path.join(s.data_dir, "switchboard.db")
s.check("data_dir is 0700", mode(s.data_dir) == 0o700, oct(mode(s.data_dir)))
files = sorted(os.listdir(s.data_dir))
s.check("the database file exists", "switchboard.db" in files, str(files))
loose = [f"{f} {oct(mode(os.path.join(s.data_dir, f)))}" for f in files
         if mode(os.path.join(s.data_dir, f)) != 0o600]
s.check("every file in data_dir is 0600", not loose, ", ".join(loose))

os.chmod(s.data_dir, 0o755)
ok = s.start(expect_ok=False)
if ok:
    s.stop()
err = "" if ok else s.serve_err
s.check("serve refuses a data_dir 0755", not ok)
s.check("... naming the chmod to run", f"chmod 0700 {s.data_dir}" in err, err.strip()[-300:])
rc, _, aerr = s.admin("account", "show", "--account", acc["sid"], expect_ok=False)
s.check("admin refuses a data_dir 0755 with the chmod",
        rc != 0 and f"chmod 0700 {s.data_dir}" in aerr, f"exit {rc}: {aerr.strip()[-300:]}")
os.chmod(s.data_dir, 0o700)

os.chmod(db, 0o644)
ok = s.start(expect_ok=False)
if ok:
    s.stop()
err = "" if ok else s.serve_err
s.check("serve refuses a database file 0644", not ok)
s.check("... naming the chmod to run", f"chmod 0600 {db}" in err, err.strip()[-300:])
os.chmod(db, 0o600)

# --- finding 6: Transfer-Encoding -------------------------------------------------------------
s.start()
get_acc = (f"GET {acc_path} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {basic}\r\n\r\n").encode()

out, closed = s.raw(
    (f"POST {acc_path} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {basic}\r\n"
     "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n"
     "Connection: close\r\n\r\n"
     "f\r\nFriendlyName=Ch\r\n6\r\nunked1\r\n0\r\n\r\n").encode())
s.check("a chunked form is served", statuses(out) == [200] and b"Chunked1" in out,
        out[:200].decode("latin-1"))

out, closed = s.raw(b"POST " + acc_path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                    b"Transfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n" +
                    get_acc)
s.check("TE 'chunked, identity' is 400, one answer, closed",
        statuses(out) == [400] and closed, f"{statuses(out)} closed={closed}")

out, closed = s.raw(b"POST " + acc_path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                    b"Transfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello")
s.check("TE 'gzip' with Content-Length is 400 and closed",
        statuses(out) == [400] and closed, f"{statuses(out)} closed={closed}")

out, closed = s.raw(b"POST " + acc_path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                    b"Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + get_acc)
s.check("TE 'gzip, chunked' is 501, one answer, closed",
        statuses(out) == [501] and closed, f"{statuses(out)} closed={closed}")

# The body of an unframed request is a whole authenticated request: it must not be answered.
out, closed = s.raw(b"POST " + acc_path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                    b"Transfer-Encoding: xchunked\r\n\r\n" + get_acc)
s.check("TE 'xchunked' is 400 and its body is not served as the next request",
        statuses(out) == [400] and closed, f"{statuses(out)} closed={closed}")

out, closed = s.raw(b"POST " + acc_path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"5\r\nhello\r\n0\r\n\r\n")
s.check("Content-Length with Transfer-Encoding is still 400", statuses(out) == [400],
        str(statuses(out)))
out, closed = s.raw(get_acc + get_acc, timeout=1)
s.check("keep-alive still serves two pipelined requests", statuses(out) == [200, 200],
        str(statuses(out)))
s.stop()

# --- connection limits --------------------------------------------------------------------------
# Small caps keep it quick; a serve that does not know the settings is checked at the defaults.
cap, per_conn = 4, 3
if not s.start({"http.max_connections_per_address": cap,
                "http.max_requests_per_connection": per_conn}, expect_ok=False):
    s.check("serve takes http.max_connections_per_address and http.max_requests_per_connection",
            False, s.serve_err.strip()[-300:])
    cap, per_conn = 128, 1000
    s.start()
held = []
for _ in range(cap + 3):
    c = s.connect("127.0.0.2")
    c.sendall(b"GET / HTTP/1.1\r\n")  # a request never finished (slowloris)
    held.append(c)
    time.sleep(0.05)  # accepted in this order


def closed_by_server(c):
    """True when the server closed `c` (EOF or reset); False when it is still open."""
    c.settimeout(0.3)
    try:
        return c.recv(100) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


gone = [closed_by_server(c) for c in held]
s.check(f"{cap + 3} unfinished connections from 127.0.0.2: the 3 oldest are closed, {cap} stay",
        gone == [True] * 3 + [False] * cap, str(gone))
st, _, _ = s.request("GET", acc_path, auth=auth, source="127.0.0.2")
s.check("a normal request from the address holding its cap is served", st == 200, f"got {st}")
s.check("... in the place of the oldest idle connection",
        [closed_by_server(c) for c in held[3:]] == [True] + [False] * (cap - 1))
st, _, _ = s.api("GET", f"/Accounts/{acc['sid']}.json", auth)
s.check("127.0.0.1 is served while 127.0.0.2 holds its cap", st == 200, f"got {st}")
for c in held:
    c.close()

out, closed = s.raw(get_acc * (per_conn + 2), timeout=5)
s.check(f"a connection carries {per_conn} requests, the last with Connection: close",
        statuses(out) == [200] * per_conn and out.count(b"Connection: close") == 1 and closed,
        f"{len(statuses(out))} answers, closed={closed}")
s.stop()
log = s.serve_stderr()
m = re.search(r" (\d+) idle ones closed at the per-address cap", log)
s.check("the stop line counts the connections closed at the cap", m and int(m.group(1)) >= 4,
        log.strip()[-300:])


# --- X-Forwarded-For ----------------------------------------------------------------------------
def audit_sources(paths):
    """{path: source} of the audit log's entries for `paths`, once all are written (bounded)."""
    deadline = time.time() + 5
    while True:
        st, _, body = s.api("GET", f"/Accounts/{acc['sid']}/AuditEvents.json?PageSize=100", auth)
        found = {}
        for e in (body or {}).get("audit_events", []) if st == 200 else []:
            if e["path"] in paths:
                found.setdefault(e["path"], e["source"])  # newest first
        if len(found) == len(paths) or time.time() > deadline:
            return found
        time.sleep(0.05)


if not s.start({"http.trusted_proxies": "127.0.0.1/32"}, expect_ok=False):
    s.check("serve takes http.trusted_proxies", False, s.serve_err.strip()[-300:])
    s.start()
base = f"/2010-04-01/Accounts/{acc['sid']}"
via_proxy, untrusted, malformed = (acc_path, base + "/IncomingPhoneNumbers.json",
                                   base + "/Keys.json")
s.request("GET", via_proxy, auth=auth,
          headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"})
s.request("GET", untrusted, auth=auth, source="127.0.0.2",
          headers={"X-Forwarded-For": "198.51.100.77"})
s.request("GET", malformed, auth=auth, headers={"X-Forwarded-For": "203.0.113.9, bogus"})
src = audit_sources([via_proxy, untrusted, malformed])
s.check("audit source: the client a trusted proxy names", src.get(via_proxy) == "203.0.113.9",
        str(src))
s.check("audit source: an untrusted peer's XFF is ignored",
        src.get(untrusted) == "127.0.0.2", str(src))
s.check("audit source: a malformed XFF from the proxy gives the proxy",
        src.get(malformed) == "127.0.0.1", str(src))

# The failure slowdown keys on the client a trusted proxy names ...
for i in range(6):
    t0 = time.time()
    st, _, _ = s.request("GET", acc_path, auth=(acc["sid"], f"wrong{i}"),
                         headers={"X-Forwarded-For": "203.0.113.1"})
    took = time.time() - t0
s.check("the 6th failure of one forwarded client is slowed", took >= 0.2, f"{took:.3f} s")
t0 = time.time()
st, _, _ = s.request("GET", acc_path, auth=(acc["sid"], "wrong"),
                     headers={"X-Forwarded-For": "203.0.113.2"})
took = time.time() - t0
s.check("another client behind the same proxy is not", st == 401 and took < 0.2,
        f"{st} in {took:.3f} s")
# ... and an untrusted peer cannot escape it by inventing one.
for i in range(6):
    t0 = time.time()
    s.request("GET", acc_path, auth=(acc["sid"], f"wrong{i}"), source="127.0.0.2",
              headers={"X-Forwarded-For": f"192.0.2.{i}"})
    took = time.time() - t0
s.check("an untrusted peer's invented XFF does not reset its slowdown", took >= 0.2,
        f"{took:.3f} s")
s.stop()

s.finish()
