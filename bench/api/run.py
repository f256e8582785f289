#!/usr/bin/env python3
"""REST API benchmark: wrk against `switchboard serve` on loopback with the SQLite store.

Loads, each a bounded wrk run (--duration) at a fixed number of connections:
  fetch  authenticated GET of one IncomingPhoneNumber (account SID + auth token, Basic)
  list   authenticated GET of a 50-item IncomingPhoneNumbers page
  key    the same fetch authenticated with an API key (SK + secret)
  fetch-close  the fetch with Connection: close, a new connection per request (not in the
         default set): what a connection costs by itself, beside the flood's per-request CPU
  flood  the fetch at --flood-connections (an authenticated client) while --flood-rate
         requests/s with a wrong secret for a known API key SID (one nobody else uses, so
         nothing of it is cached) come from one address: paced fire-and-forget requests, one
         connection each, from --flood-procs processes (wrk has no fixed rate). Its row gives
         the client's latency, and the server's CPU per flood request (the client's share,
         measured alone just before, taken out). At most --flood-seconds long.
For each it reports requests/s, latency p50/p99 (wrk --latency) and the server's CPU time per
request (utime+stime of the serve process from /proc, over the run), medians of --runs runs.
wrk and the server share the machine; nothing else should run.

  python3 bench/api/run.py --build build --connections 64 --duration 10 --runs 3
  python3 bench/api/run.py --build build --loads flood --runs 1

Every process started here is stopped by its pid at the end (also on errors)."""
import argparse
import base64
import json
import multiprocessing
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from proc_stats import cpu_seconds  # noqa: E402  (shared with the other bench scripts)


def parse_latency(text, label):
    m = re.search(r"^\s*" + label + r"\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not m:
        return None
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v if unit == "ms" else v * 1000


def wrk(url, user, password, connections, duration, threads, close=False):
    import base64
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency",
         "--timeout", "5s", "-H", f"Authorization: Basic {auth}", "-H", "Accept: application/json",
         *(["-H", "Connection: close"] if close else []), url],
        capture_output=True, text=True, timeout=duration + 60, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    return {"rps": rps, "requests": total, "errors": errors,
            "p50_ms": parse_latency(out, "50%"), "p99_ms": parse_latency(out, "99%")}


def flood_worker(host, port, request, rate, seconds, out):
    """Sends `request` at `rate` per second for `seconds`, each on a new connection closed at
    once (the answer, slowed down by the server, is not awaited). Puts (sent, errors) in out."""
    sent = errors = 0
    start = time.monotonic()
    total = int(rate * seconds)
    while sent + errors < total:
        due = start + (sent + errors) / rate
        now = time.monotonic()
        if now < due:
            time.sleep(due - now)
        elif now - start > seconds + 5:  # too far behind: stop, bounded in time
            break
        try:
            c = socket.create_connection((host, port), timeout=2)
            c.sendall(request)
            c.close()
            sent += 1
        except OSError:
            errors += 1
    out.put((sent, errors, time.monotonic() - start))


def flood(base, path, key_sid, rate, seconds, procs):
    """Starts the flood processes; returns a function that waits for them and returns
    (requests sent, errors, seconds)."""
    host, port = base.split("//", 1)[1].rsplit(":", 1)
    wrong = base64.b64encode(f"{key_sid}:{'0' * 32}".encode()).decode()
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {wrong}\r\n"
               f"Connection: close\r\n\r\n").encode()
    out = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=flood_worker,
                                       args=(host, int(port), request, rate / procs, seconds, out))
               for _ in range(procs)]
    for w in workers:
        w.start()

    def wait():
        got = [out.get(timeout=seconds + 30) for _ in workers]
        for w in workers:
            w.join(timeout=10)
            if w.is_alive():
                w.kill()
        return sum(g[0] for g in got), sum(g[1] for g in got), max(g[2] for g in got)
    return wait


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--http-threads", type=int, default=2)
    ap.add_argument("--loads", default="fetch,list,key,flood")
    ap.add_argument("--flood-rate", type=int, default=2000)
    ap.add_argument("--flood-seconds", type=int, default=5)
    ap.add_argument("--flood-procs", type=int, default=2)
    ap.add_argument("--flood-connections", type=int, default=2)
    args = ap.parse_args()
    binary = os.path.join(args.build, "switchboard")
    tmp = tempfile.mkdtemp(prefix="sb-bench-api-")
    common = ["--set", f"data_dir={tmp}/data", "--set", "api.master_key=" + "ab" * 32]

    def admin(*verb):
        return json.loads(subprocess.run([binary, "admin", *common, *verb], check=True,
                                         capture_output=True, text=True).stdout)

    acc = admin("account", "create", "--name", "bench")
    sid, token = acc["sid"], acc["auth_token"]
    first = None
    for i in range(60):
        n = admin("number", "add", "--account", sid, "--number", f"+1555200{i:04d}",
                  "--voice-url", "https://example.com/voice", "--sms-url", "https://example.com/sms")
        first = first or n["sid"]
    user = admin("user", "add", "--account", sid, "--email", "dev@example.com", "--role", "developer")
    key_sid, key_secret = user["api_key"]["sid"], user["api_key"]["secret"]
    target = admin("user", "add", "--account", sid, "--email", "target@example.com", "--role",
                   "developer")["api_key"]["sid"]  # the flood's: known, never used rightly

    serve = subprocess.Popen(
        [binary, "serve", *common, "--set", "http.listen=127.0.0.1:0", "--set",
         "sip.listen=udp:127.0.0.1:0", "--set", f"http.threads={args.http_threads}",
         "--set", "log.level=warn"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        base = None
        for line in serve.stdout:
            if line.startswith("# http listening: "):
                base = line.split(": ", 1)[1].strip()
            if line.startswith("# active parts"):
                break
        if not base:
            sys.exit("serve printed no http listener")
        path = f"/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers"
        loads = {
            "fetch": (f"{base}{path}/{first}.json", sid, token),
            "list": (f"{base}{path}.json?PageSize=50", sid, token),
            "key": (f"{base}{path}/{first}.json", key_sid, key_secret),
            # The fetch on a new connection per request: what a connection costs by itself.
            "fetch-close": (f"{base}{path}/{first}.json", sid, token),
        }
        results = {}
        for name in args.loads.split(","):
            if name == "flood":
                url, u, p = loads["fetch"]
                conns = args.flood_connections
                secs = min(args.duration, args.flood_seconds)
            else:
                url, u, p = loads[name]
                conns, secs = args.connections, args.duration
            wrk(url, u, p, conns, 2, args.wrk_threads)  # warm up (caches, pages)
            for run in range(args.runs):
                if name == "flood":
                    # The client alone first: its share of the server's CPU per request.
                    before = cpu_seconds(serve.pid)
                    alone = wrk(url, u, p, conns, 2, 1)
                    client_us = (cpu_seconds(serve.pid) - before) / max(1, alone["requests"]) * 1e6
                    before = cpu_seconds(serve.pid)
                    wait = flood(base, f"{path}/{first}.json", target, args.flood_rate, secs,
                                 args.flood_procs)
                    r = wrk(url, u, p, conns, secs, 1)
                    sent, ferr, took = wait()
                    cpu = cpu_seconds(serve.pid) - before
                    r["cpu_us_per_req"] = (cpu * 1e6 - r["requests"] * client_us) / max(1, sent)
                    print(f"flood run {run + 1}: {sent} wrong-secret requests in {took:.1f} s "
                          f"({sent / max(took, 1e-9):.0f}/s, {ferr} not sent); client alone "
                          f"{alone['p50_ms']:.2f}/{alone['p99_ms']:.2f} ms p50/p99", flush=True)
                else:
                    before = cpu_seconds(serve.pid)
                    r = wrk(url, u, p, conns, secs, args.wrk_threads, close=name == "fetch-close")
                    r["cpu_us_per_req"] = ((cpu_seconds(serve.pid) - before) /
                                           max(1, r["requests"]) * 1e6)
                results.setdefault(name, []).append(r)
                print(f"{name} run {run + 1}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.2f} ms, "
                      f"p99 {r['p99_ms']:.2f} ms, server CPU {r['cpu_us_per_req']:.1f} us/req, "
                      f"errors {r['errors']}", flush=True)
        print()
        print(f"| load ({args.connections} connections) | req/s | p50 ms | p99 ms | server CPU us/req | errors |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, rs in results.items():
            med = lambda k: statistics.median(r[k] for r in rs)
            if name == "flood":
                name = (f"flood: fetch at {args.flood_connections} connections beside "
                        f"{args.flood_rate}/s wrong key secrets (CPU per flood request)")
            print(f"| {name} | {med('rps'):.0f} | {med('p50_ms'):.2f} | {med('p99_ms'):.2f} | "
                  f"{med('cpu_us_per_req'):.1f} | {sum(r['errors'] for r in rs)} |")
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=10)
        except subprocess.TimeoutExpired:
            serve.kill()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
