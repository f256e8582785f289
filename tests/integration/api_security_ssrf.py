#!/usr/bin/env python3
"""Issue 23, finding 2 (SSRF through webhooks) against a real `serve`: webhook URLs whose host
is a local, private or metadata address are refused with 400 when stored through the API
(developer key); deliveries to loopback are refused after DNS unless webhooks.allow admits
them, and the message records the failure (ErrorCode 11200).

The lightest real path to a webhook is SMS over SIP MESSAGE: one UDP socket on 127.0.0.5 is
both the carrier (its inbound MESSAGEs reach a number whose SmsUrl, set by the operator with
`admin number add`, is the loopback web app below) and the SIP trunk's gateway (it answers
202 to the MESSAGEs serve sends, which makes a message "sent" and calls its StatusCallback).

  1. webhooks.allow=127.0.0.0/8: a StatusCallback and the SmsUrl reach the web app. A second
     message's MESSAGE is held unanswered while serve stops, so the message stays unfinished
     with a loopback StatusCallback stored while that was allowed.
  2. default policy: serve sends that message again on start; its status callback is refused
     (not called, ErrorCode 11200 on the message), so is the SmsUrl of a new inbound message;
     the API refuses the issue's URLs; serve's stop line counts the refusals.

Usage: api_security_ssrf.py BINARY"""
import http.server
import os
import re
import socket
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "api"))
from seclib import Suite  # noqa: E402

NUMBER = "+15005550006"
HANDSET = "+4930123456"
CARRIER_IP = "127.0.0.5"


class WebApp:
    """The customer's web app on loopback: records every request it gets."""

    def __init__(self):
        self.hits = []
        self.lock = threading.Lock()
        app = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _record(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
                with app.lock:
                    app.hits.append((self.command, self.path, body))
                data = b"<Response/>"
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET = _record

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def paths(self, prefix):
        with self.lock:
            return [h for h in self.hits if h[1].startswith(prefix)]


class SipPeer:
    """The carrier and the SIP trunk's gateway on one UDP socket."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((CARRIER_IP, 0))
        self.port = self.sock.getsockname()[1]
        self.hold = False  # True: MESSAGEs from serve are received and left unanswered
        self.received = []  # bodies of the MESSAGEs serve sent
        self.responses = []  # status codes serve answered with
        self.lock = threading.Lock()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                data, addr = self.sock.recvfrom(65535)
            except OSError:
                return
            text = data.decode("utf-8", "replace")
            head, _, body = text.partition("\r\n\r\n")
            lines = head.split("\r\n")
            if lines[0].startswith("SIP/2.0 "):
                with self.lock:
                    self.responses.append(int(lines[0].split(" ")[1]))
                continue
            if not lines[0].startswith("MESSAGE "):
                continue
            with self.lock:
                if body not in self.received:
                    self.received.append(body)
                hold = self.hold
            if hold:
                continue
            keep = [l for l in lines[1:]
                    if l.split(":", 1)[0].strip().lower() in ("via", "from", "call-id", "cseq")]
            to = [l for l in lines[1:] if l.split(":", 1)[0].strip().lower() == "to"][0]
            if ";tag=" not in to:
                to += ";tag=gw1"
            reply = "SIP/2.0 202 Accepted\r\n" + "\r\n".join(keep + [to]) + \
                "\r\nContent-Length: 0\r\n\r\n"
            self.sock.sendto(reply.encode(), addr)

    def send_inbound(self, server, body):
        """A carrier's MO message to NUMBER at `server` ("127.0.0.1:PORT")."""
        host, port = server.rsplit(":", 1)
        msg = (f"MESSAGE sip:{NUMBER[1:]}@{host}:{port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {CARRIER_IP}:{self.port};branch=z9hG4bK{uuid.uuid4().hex}\r\n"
               f"From: <sip:{HANDSET[1:]}@{CARRIER_IP}:{self.port}>;tag={uuid.uuid4().hex[:8]}\r\n"
               f"To: <sip:{NUMBER[1:]}@{host}:{port}>\r\n"
               f"Call-ID: {uuid.uuid4().hex}@{CARRIER_IP}\r\n"
               "CSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n"
               "Content-Type: text/plain;charset=UTF-8\r\n"
               f"Content-Length: {len(body.encode())}\r\n\r\n{body}")
        self.sock.sendto(msg.encode(), (host, int(port)))


def wait_for(what, limit=10.0):
    deadline = time.time() + limit
    while time.time() < deadline:
        v = what()
        if v:
            return v
        time.sleep(0.05)
    return what()


def main():
    s = Suite(sys.argv[1], "api_security_ssrf")
    app = WebApp()
    peer = SipPeer()
    hook = f"http://127.0.0.1:{app.port}"

    acc = s.admin("account", "create", "--name", "Acme")
    owner = (acc["sid"], acc["auth_token"])
    dev = s.admin("user", "add", "--account", acc["sid"], "--email", "dev@acme.test", "--role",
                  "developer")["api_key"]
    developer = (dev["sid"], dev["secret"])
    # The operator may store a local SmsUrl (admin is trusted); delivery follows the policy.
    num = s.admin("number", "add", "--account", acc["sid"], "--number", NUMBER, "--sms-url",
                  f"{hook}/sms")
    rc, out, err = s.admin("number", "add", "--account", acc["sid"], "--number", "+15005550007",
                           "--voice-url", "http://10.0.0.1/voice", expect_ok=False)
    s.check("admin: a private --voice-url is stored, with a note naming webhooks.allow",
            rc == 0 and '"voice_url":"http://10.0.0.1/voice"' in out.replace(" ", "") and
            "webhooks.allow" in err, f"exit {rc}, stderr: {err.strip()}")
    s.admin("trunk", "add", "--name", "carrier", "--gateways", f"udp:{CARRIER_IP}:{peer.port}*1",
            "--probe-interval", "0", "--acl", f"{CARRIER_IP}/32")
    s.admin("sms-trunk", "add", "--name", "sipsms", "--sip", "carrier")
    base = f"/Accounts/{acc['sid']}"

    def send(body, callback):
        return s.api("POST", f"{base}/Messages.json", developer,
                     {"From": NUMBER, "To": HANDSET, "Body": body, "StatusCallback": callback})

    def message(sid):
        st, _, m = s.api("GET", f"{base}/Messages/{sid}.json", owner)
        return m if st == 200 else {}

    def inbound_with(body):
        st, _, page = s.api("GET", f"{base}/Messages.json?To=%2B{NUMBER[1:]}", owner)
        if st != 200:
            return None
        found = [m for m in page.get("messages", [])
                 if m["direction"] == "inbound" and m["body"].strip() == body]
        return found[0] if found else None

    # --- 1. webhooks.allow admits loopback ------------------------------------------------
    if not s.start({"webhooks.allow": "127.0.0.0/8,::1/128"}, expect_ok=False):
        if "webhooks.allow': unknown key" not in s.serve_err:
            s.fatal("serve exited at start: " + s.serve_err[-2000:])
        print("note: this binary has no webhooks.allow (a build before the policy); "
              "phase 1 runs without it", flush=True)
        s.start()
    st, _, m1 = send("allowed", f"{hook}/status?m=1")
    s.check("allowed: a message with a loopback StatusCallback is accepted", st == 201,
            f"{st} {m1}")
    hit = wait_for(lambda: app.paths("/status?m=1"))
    s.check("allowed: its status callback reaches the loopback web app", bool(hit),
            f"web app hits: {app.hits}")
    peer.send_inbound(s.sip_udp, "hello allowed")
    hit = wait_for(lambda: app.paths("/sms"))
    s.check("allowed: an inbound message's SmsUrl reaches the loopback web app", bool(hit),
            f"web app hits: {app.hits}")

    peer.hold = True
    st, _, m2 = send("held", f"{hook}/status?m=2")
    if st != 201:
        s.fatal(f"the second message was not accepted: {st} {m2}")
    if not wait_for(lambda: "held" in peer.received):
        s.fatal("the gateway never got the held message")
    s.stop()
    peer.hold = False
    hits_before = len(app.hits)

    # --- 2. the default policy: public addresses only -----------------------------------------
    s.start()
    got = wait_for(lambda: message(m2["sid"]).get("error_code") == 11200 and
                   message(m2["sid"]).get("status") == "sent")
    m2_now = message(m2["sid"])
    s.check("refused: the unfinished message is sent again on start", m2_now.get("status") ==
            "sent", f"{m2_now}")
    s.check("refused: its loopback status callback records ErrorCode 11200 on the message",
            bool(got), f"error_code={m2_now.get('error_code')} "
                       f"error_message={m2_now.get('error_message')}")
    s.check("refused: the error message says the address is refused",
            "address refused" in (m2_now.get("error_message") or "") and
            "loopback" in (m2_now.get("error_message") or ""),
            f"{m2_now.get('error_message')}")
    peer.send_inbound(s.sip_udp, "hello refused")
    mo = wait_for(lambda: (inbound_with("hello refused") or {}).get("error_code") == 11200 and
                  inbound_with("hello refused"))
    s.check("refused: an inbound message whose SmsUrl is loopback records ErrorCode 11200",
            bool(mo), f"{inbound_with('hello refused')}")
    time.sleep(0.3)  # a delivery, had one been made, would have arrived by now
    s.check("refused: the loopback web app got no request at all",
            len(app.hits) == hits_before and not app.paths("/status?m=2"),
            f"web app hits after the restart: {app.hits[hits_before:]}")

    # The issue's URLs as VoiceUrl, through the API, with a developer key.
    number_path = f"{base}/IncomingPhoneNumbers/{num['sid']}.json"
    issue_urls = [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:22/",
        "http://localhost:6379/",
        "http://[::1]:8080/admin",
        "http://2130706433/",
        "http://10.0.0.1/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://192.168.1.1/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
    ]

    def brief(st, body):
        if isinstance(body, dict):
            body = {k: body.get(k) for k in ("code", "message", "voice_url", "status") if k in body}
        return f"{st} {body}"

    def refused_400(st, body):
        return (st == 400 and isinstance(body, dict) and body.get("code") == 21205 and
                "webhooks.allow" in body.get("message", ""))

    for url in issue_urls:
        st, _, body = s.api("POST", number_path, developer, {"VoiceUrl": url})
        s.check(f"API: VoiceUrl {url} is refused with 400 naming webhooks.allow",
                refused_400(st, body), brief(st, body))
    for field, url in [("VoiceFallbackUrl", "http://0x7f000001/"),
                       ("SmsUrl", "http://100.100.100.200/latest/meta-data/"),
                       ("SmsFallbackUrl", "http://172.16.0.1/"),
                       ("StatusCallback", "http://[fd00:ec2::254]/latest/")]:
        st, _, body = s.api("POST", number_path, developer, {field: url})
        s.check(f"API: {field} {url} is refused with 400", refused_400(st, body), brief(st, body))
    st, _, body = send("never", f"{hook}/status?m=3")
    s.check("API: a message's loopback StatusCallback is refused with 400",
            refused_400(st, body), brief(st, body))
    st, _, body = s.api("POST", number_path, developer,
                        {"VoiceUrl": "https://hooks.example.com/voice"})
    s.check("API: a public VoiceUrl is still accepted", st == 200, f"{st} {body}")
    st, _, n = s.api("GET", number_path, developer)
    s.check("API: the refused URLs were not stored",
            st == 200 and n.get("voice_url") == "https://hooks.example.com/voice" and
            n.get("sms_url") == f"{hook}/sms", f"{st} {n}")

    s.stop()
    err = s.serve_stderr()
    line = re.search(r"webhooks: .*\((\d+) refused by the target policy", err)
    s.check("stop line: the refused deliveries are counted",
            bool(line) and int(line.group(1)) >= 2, line.group(0) if line else err[-1500:])
    warns = [l for l in err.splitlines()
             if " webhook: " in l and "refused: 127.0.0.1 is loopback" in l]
    s.check("log: a refused host is logged once a minute, not per delivery", len(warns) == 1,
            "\n".join(warns) or err[-1500:])
    s.finish()


if __name__ == "__main__":
    main()
