"""What the REST API security suites share: a real `switchboard serve` on SQLite in a temporary
data_dir, the `switchboard admin` verbs, HTTP requests with Basic credentials, raw bytes on a
socket for framing checks, and a list of named checks that fails the run if any fails.

    from seclib import Suite
    s = Suite(sys.argv[1], "api_security_example")
    acc = s.admin("account", "create", "--name", "A")       # parsed JSON
    s.start()                                                # serve with s.settings
    st, hdrs, body = s.request("GET", f"/2010-04-01/Accounts/{acc['sid']}.json",
                               auth=(acc["sid"], acc["auth_token"]))
    s.check("the owner reads its account", st == 200, f"got {st}")
    s.finish()                                               # stops serve; exit 1 on a failure

Every process started here is stopped by its pid (also on errors)."""
import atexit
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse


class Suite:
    def __init__(self, binary, name, settings=None):
        self.bin = binary
        self.name = name
        self.tmp = tempfile.mkdtemp(prefix=name + ".")
        self.data_dir = os.path.join(self.tmp, "data")
        self.master_key = os.urandom(32).hex()
        # Settings every command gets; add to them before start().
        self.settings = {
            "data_dir": self.data_dir,
            "api.master_key": self.master_key,
            "http.listen": "127.0.0.1:0",
            "sip.listen": "udp:127.0.0.1:0",
        }
        self.settings.update(settings or {})
        self.proc = None
        self.base = None  # "http://127.0.0.1:PORT"
        self.host = None
        self.port = None
        self.sip_udp = None  # "127.0.0.1:PORT"
        self.passed = 0
        self.failed = []
        atexit.register(self._cleanup)

    # --- processes ---------------------------------------------------------------------------

    def set_args(self, extra=None):
        s = dict(self.settings)
        s.update(extra or {})
        out = []
        for k, v in s.items():
            out += ["--set", f"{k}={v}"]
        return out

    def admin(self, *args, expect_ok=True, settings=None):
        """Runs `switchboard admin ARGS`; returns the parsed JSON of stdout (or the raw text when
        it is not JSON). With expect_ok=False returns (exit code, stdout, stderr)."""
        p = subprocess.run([self.bin, "admin", *self.set_args(settings), *args],
                           capture_output=True, text=True, timeout=60)
        if not expect_ok:
            return p.returncode, p.stdout, p.stderr
        if p.returncode != 0:
            self.fatal(f"admin {' '.join(args)} exited {p.returncode}: {p.stderr.strip()}")
        try:
            return json.loads(p.stdout)
        except ValueError:
            return p.stdout

    def start(self, settings=None, expect_ok=True):
        """Starts serve; returns True once it printed its configuration. With expect_ok=False
        returns False (and keeps stderr in self.serve_err) when it exits instead."""
        self.serve_out = os.path.join(self.tmp, "serve.out")
        self.serve_err_path = os.path.join(self.tmp, "serve.err")
        out = open(self.serve_out, "w")
        err = open(self.serve_err_path, "w")
        self.proc = subprocess.Popen([self.bin, "serve", *self.set_args(settings)], stdout=out,
                                     stderr=err)
        deadline = time.time() + 15
        while time.time() < deadline:
            text = open(self.serve_out).read()
            if "# active parts" in text:
                for line in text.splitlines():
                    if line.startswith("# http listening: http://") and self.base is None:
                        self.base = line.split(": ", 1)[1].strip()
                        u = urllib.parse.urlsplit(self.base)
                        self.host, self.port = u.hostname, u.port
                    if line.startswith("# sip listening: udp:") and self.sip_udp is None:
                        self.sip_udp = line.split("udp:", 1)[1].strip()
                return True
            if self.proc.poll() is not None:
                self.serve_err = open(self.serve_err_path).read()
                self.proc = None
                if expect_ok:
                    self.fatal("serve exited at start: " + self.serve_err[-2000:])
                return False
            time.sleep(0.1)
        self.fatal("serve printed no configuration within 15 s")

    def stop(self):
        """SIGTERM, then waits; returns serve's exit code (None when it was not running)."""
        if not self.proc:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        self.base = self.host = self.port = self.sip_udp = None
        return rc

    def serve_stderr(self):
        return open(self.serve_err_path).read()

    def _cleanup(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- HTTP --------------------------------------------------------------------------------

    def request(self, method, path, auth=None, form=None, headers=None, body=None, timeout=10,
                source=None):
        """One request on a new connection. form: dict or list of pairs (urlencoded). source: the
        local address to connect from (e.g. "127.0.0.2", which Linux has on lo). Returns
        (status, headers as a lower-cased dict, body parsed as JSON when it is JSON, else str)."""
        h = dict(headers or {})
        if auth:
            h["Authorization"] = "Basic " + base64.b64encode(
                f"{auth[0]}:{auth[1]}".encode()).decode()
        if form is not None:
            body = urllib.parse.urlencode(form)
            h.setdefault("Content-Type", "application/x-www-form-urlencoded")
        c = http.client.HTTPConnection(self.host, self.port, timeout=timeout,
                                       source_address=(source, 0) if source else None)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read().decode("utf-8", "replace")
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            try:
                parsed = json.loads(data) if data else None
            except ValueError:
                parsed = data
            return r.status, hdrs, parsed
        finally:
            c.close()

    def api(self, method, path, auth, form=None):
        """request() under /2010-04-01."""
        return self.request(method, "/2010-04-01" + path, auth=auth, form=form)

    def connect(self, source=None, timeout=5):
        """A new TCP connection to serve's HTTP listener (from local address `source`)."""
        return socket.create_connection((self.host, self.port), timeout=timeout,
                                        source_address=(source, 0) if source else None)

    def raw(self, data, timeout=5, source=None):
        """Sends bytes on a new connection and returns everything read until the server closes
        it or `timeout` passes (bytes) and whether the server closed it (or reset it)."""
        s = self.connect(source, timeout)
        closed = False
        out = b""
        try:
            s.sendall(data)
            deadline = time.time() + timeout
            while time.time() < deadline:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                except ConnectionResetError:
                    closed = True
                    break
                if not chunk:
                    closed = True
                    break
                out += chunk
        finally:
            s.close()
        return out, closed

    # --- checks ------------------------------------------------------------------------------

    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {what}", flush=True)
        else:
            self.failed.append(what)
            print(f"FAIL {what}" + (f": {detail}" if detail else ""), flush=True)
        return ok

    def fatal(self, why):
        print(f"FAIL {self.name}: {why}", flush=True)
        self._dump()
        sys.exit(1)

    def _dump(self):
        for f in ("serve.out", "serve.err"):
            p = os.path.join(self.tmp, f)
            if os.path.exists(p):
                lines = open(p).read().splitlines()[-30:]
                print(f"--- {f}\n" + "\n".join(lines))

    def finish(self):
        self.stop()
        if self.failed:
            print(f"{self.name}: {len(self.failed)} of {self.passed + len(self.failed)} checks "
                  f"failed: " + "; ".join(self.failed))
            self._dump()
            sys.exit(1)
        print(f"{self.name}: passed ({self.passed} checks)")
        sys.exit(0)


def sid_of(obj):
    return obj["sid"]
