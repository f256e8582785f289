#!/usr/bin/env python3
"""SMS benchmark: messages accepted by the REST API and submitted over SMPP to the simulator.

A Release `switchboard serve` on loopback with the SQLite store, bound to
tests/integration/sms/smsc.js (answers at once, receipts on, 64 submits in flight at most),
one account whose rate limit is raised to 100,000/s. wrk POSTs Messages.json (form, Basic
auth) on --connections keep-alive connections for --duration seconds at full speed; then the
script waits until the SMSC has every accepted message. Per run it reports:
  API msgs/s        201 answers per second over the load
  API p50/p99 ms    wrk's per-request latency percentiles
  SMSC msgs/s       submits per second at the SMSC, sustained: (count - 1) / (last - first)
  drain s           from the end of the load to the last submit
  CPU us/msg        the serve's utime+stime (/proc) from the load's start to the drain's end,
                    per accepted message
  RSS MB            the serve's resident size after the run (VmRSS)
--runs N repeats the load and prints medians as a markdown table for bench/RESULTS.md.

  python3 bench/sms/run.py --build build --connections 16 --duration 10 --runs 3

The npm packages (smpp, twilio) are installed from tests/integration/sms's lock file into
BUILD/npm/sms when missing. wrk, node, the server and the simulator share the machine; nothing
else should run. Every process started here is stopped by its pid at the end (also on errors)."""
import argparse
import base64
import filecmp
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from proc_stats import cpu_seconds, rss_mb  # noqa: E402  (shared with the other bench scripts)
HERE = os.path.dirname(os.path.abspath(__file__))
SMS_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "tests", "integration", "sms"))

# wrk: form POSTs with a fresh body each, and a JSON summary at the end.
WRK_LUA = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic %(auth)s"
local n = 0
local prefix = "To=%%2B%(to)s&From=%%2B%(from)s&Body=bench+"
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, prefix .. n)
end
done = function(summary, latency, requests)
  io.write(string.format('SUMMARY {"requests": %%d, "duration_us": %%d, "status_errors": %%d, ' ..
    '"connect": %%d, "read": %%d, "write": %%d, "timeout": %%d, "p50_us": %%d, "p99_us": %%d, "max_us": %%d}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def http_json(url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def npm_install(npm_dir):
    lock = os.path.join(SMS_DIR, "package-lock.json")
    have = os.path.join(npm_dir, "package-lock.json")
    if (os.path.exists(have) and filecmp.cmp(lock, have, shallow=False)
            and os.path.isdir(os.path.join(npm_dir, "node_modules", "smpp"))):
        return
    os.makedirs(npm_dir, exist_ok=True)
    for f in ("package.json", "package-lock.json"):
        shutil.copy(os.path.join(SMS_DIR, f), npm_dir)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=npm_dir,
                   check=True)


def run_wrk(url, script, connections, duration, threads):
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "5s",
         "-s", script, url],
        capture_output=True, text=True, timeout=duration + 120, check=True).stdout
    m = re.search(r"^SUMMARY (\{.*\})$", out, re.M)
    if not m:
        raise RuntimeError("wrk printed no summary:\n" + out)
    return json.loads(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("--wrk-threads", type=int, default=1)
    ap.add_argument("--http-threads", type=int, default=2)
    ap.add_argument("--drain-timeout", type=int, default=300)
    ap.add_argument("--npm-dir", help="where the npm packages go (default BUILD/npm/sms)")
    args = ap.parse_args()
    binary = os.path.join(args.build, "switchboard")
    if not os.access(binary, os.X_OK):
        sys.exit(f"{binary}: no such program (--build)")
    for tool in ("node", "npm", "wrk"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found (scripts/install-deps.sh --bench)")
    npm_dir = os.path.abspath(args.npm_dir or os.path.join(args.build, "npm", "sms"))
    npm_install(npm_dir)

    tmp = tempfile.mkdtemp(prefix="sb-bench-sms-")
    procs = []

    def stop_all():
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    try:
        env = dict(os.environ, NODE_PATH=os.path.join(npm_dir, "node_modules"))
        smsc = subprocess.Popen(
            ["node", os.path.join(SMS_DIR, "smsc.js"), "--port", "0", "--control-port", "0",
             "--system-id", "sb", "--password", "secret", "--receipt-delay-ms", "50"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        procs.append(smsc)
        m = re.match(r"smsc listening (\d+) control (\d+)", smsc.stdout.readline())
        if not m:
            sys.exit("smsc.js did not start")
        smpp_port, control = m.group(1), f"http://127.0.0.1:{m.group(2)}"

        common = ["--set", f"data_dir={tmp}/data", "--set", "api.master_key=" + "cd" * 32]

        def admin(*verb):
            out = subprocess.run([binary, "admin", *common, *verb], check=True,
                                 capture_output=True, text=True).stdout
            return json.loads(out) if out.strip().startswith("{") else out

        acc = admin("account", "create", "--name", "bench")
        sid, token = acc["sid"], acc["auth_token"]
        admin("number", "add", "--account", sid, "--number", "+15005550100", "--sms-url",
              "http://127.0.0.1:9/sms")
        admin("account", "set", "--account", sid, "--sms-per-second", "100000")
        admin("sms-trunk", "add", "--name", "smsc", "--smpp", f"127.0.0.1:{smpp_port}",
              "--system-id", "sb", "--password", "secret", "--window", str(args.window))

        serve = subprocess.Popen(
            [binary, "serve", *common, "--set", "http.listen=127.0.0.1:0", "--set",
             "sip.listen=udp:127.0.0.1:0", "--set", f"http.threads={args.http_threads}",
             "--set", "log.level=warn"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(serve)
        base = None
        for line in serve.stdout:
            if line.startswith("# http listening: "):
                base = line.split(": ", 1)[1].strip()
            if line.startswith("# active parts"):
                break
        if not base:
            sys.exit("serve printed no http listener")
        deadline = time.time() + 15
        while http_json(control + "/stats")["bound_sessions"] < 1:
            if time.time() > deadline:
                sys.exit("serve did not bind to the SMSC")
            time.sleep(0.1)

        script = os.path.join(tmp, "post.lua")
        with open(script, "w") as f:
            f.write(WRK_LUA % {"auth": base64.b64encode(f"{sid}:{token}".encode()).decode(),
                               "to": "15557000001", "from": "15005550100"})
        url = f"{base}/2010-04-01/Accounts/{sid}/Messages.json"

        results = []
        for run in range(args.runs):
            http_json(control + "/reset", {})
            cpu0 = cpu_seconds(serve.pid)
            w = run_wrk(url, script, args.connections, args.duration, args.wrk_threads)
            load_end = time.time()
            failed = w["status_errors"] + w["connect"] + w["read"] + w["write"] + w["timeout"]
            accepted = w["requests"] - w["status_errors"]
            while True:
                st = http_json(control + "/stats")
                if st["submits"] >= accepted or time.time() - load_end > args.drain_timeout:
                    break
                time.sleep(0.05)
            drained = time.time()
            cpu = cpu_seconds(serve.pid) - cpu0
            span_s = max(1e-3, (st["last_submit_ms"] - st["first_submit_ms"]) / 1000) if st["submits"] else 0
            r = {
                "api_rps": accepted / (w["duration_us"] / 1e6),
                "p50_ms": w["p50_us"] / 1000,
                "p99_ms": w["p99_us"] / 1000,
                "smsc_rps": (st["submits"] - 1) / span_s if st["submits"] > 1 else 0.0,
                "drain_s": max(0.0, st["last_submit_ms"] / 1000 - load_end) if st["submits"] else None,
                "cpu_us_per_msg": cpu / max(1, accepted) * 1e6,
                "rss_mb": rss_mb(serve.pid),
                "accepted": accepted,
                "submitted": st["submits"],
                "errors": failed,
            }
            if st["submits"] < accepted:
                print(f"run {run + 1}: only {st['submits']} of {accepted} accepted messages reached "
                      f"the SMSC within {args.drain_timeout} s", flush=True)
            results.append(r)
            print(f"run {run + 1}: API {r['api_rps']:.0f} msgs/s (p50 {r['p50_ms']:.2f} ms, p99 "
                  f"{r['p99_ms']:.2f} ms), SMSC {r['smsc_rps']:.0f} msgs/s sustained, drain "
                  f"{r['drain_s'] or 0:.2f} s, serve CPU {r['cpu_us_per_msg']:.0f} us/msg, RSS "
                  f"{r['rss_mb']:.0f} MB, {r['accepted']} accepted, {r['submitted']} submitted, "
                  f"{r['errors']} errors (drained {drained - load_end:.1f} s after the load)",
                  flush=True)

        def med(k):
            return statistics.median(r[k] or 0 for r in results)

        print()
        print(f"| SMS, {args.connections} connections, window {args.window} | API msgs/s | "
              "API p50 ms | API p99 ms | SMSC msgs/s sustained | drain s | server CPU us/msg | "
              "RSS MB | errors |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        print(f"| median of {len(results)} runs of {args.duration} s | {med('api_rps'):.0f} | "
              f"{med('p50_ms'):.2f} | {med('p99_ms'):.2f} | {med('smsc_rps'):.0f} | "
              f"{med('drain_s'):.2f} | {med('cpu_us_per_msg'):.0f} | {med('rss_mb'):.0f} | "
              f"{sum(r['errors'] for r in results)} |")
        print()
        print(f"targets: SMSC >= 2000 msgs/s sustained: {med('smsc_rps'):.0f} "
              f"({'met' if med('smsc_rps') >= 2000 else 'NOT met'}); API p99 < 10 ms: "
              f"{med('p99_ms'):.2f} ({'met' if med('p99_ms') < 10 else 'NOT met'})")
        short = [r for r in results if r["submitted"] < r["accepted"]]
        if short:
            sys.exit(f"{len(short)} runs did not get every accepted message to the SMSC")
    finally:
        stop_all()


if __name__ == "__main__":
    main()
