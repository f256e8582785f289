#!/usr/bin/env python3
"""Side-by-side SIP edge benchmark: Kamailio and Switchboard, one after the other, under the
same SIPp load on loopback. For each server, test and offered rate it reports CPU time per
transaction (utime+stime of every process and thread of the server, from /proc, divided by
the calls SIPp completed) and the failure rate; medians of --runs runs.

  python3 bench/edge/run.py --build build --tests register,digest,call --rates 1000,2000 --runs 3
  python3 bench/edge/run.py --build build --baseline build-base \
      --servers kamailio,switchboard,switchboard-base     # a change against the commit before it

Each load is bounded by a call count and SIPp's own timeout; every process started here is
stopped by its pid at the end (also on errors)."""
import argparse
import csv
import glob
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import hashlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DOMAIN = "bench.local"
CLK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def descendants(pid):
    """pid and every process below it."""
    children = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.split("/")[2]))
        except (OSError, IndexError, ValueError):
            pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pid):
    total = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (all threads)
        except (OSError, IndexError, ValueError):
            pass
    return total / CLK


def rss_kib(pid):
    total = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def stop(proc):
    if proc and proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_udp(port, proc, timeout=10):
    """Until the server answers an OPTIONS (any response) or the time runs out."""
    deadline = time.time() + timeout
    msg = (f"OPTIONS sip:{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKping;rport\r\n"
           f"From: <sip:ping@{DOMAIN}>;tag=1\r\nTo: <sip:{DOMAIN}>\r\nCall-ID: ping\r\n"
           "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.3)
    try:
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("server exited early")
            s.sendto(msg, ("127.0.0.1", port))
            try:
                s.recvfrom(65535)
                return
            except socket.timeout:
                pass
    finally:
        s.close()
    raise RuntimeError("server did not answer on port %d" % port)


def ha1(user, password):
    return hashlib.md5(f"{user}:{DOMAIN}:{password}".encode()).hexdigest()


class Kamailio:
    name = "kamailio"

    def start(self, test, port, work):
        cmd = ["kamailio", "-DD", "-E", "-x", "tlsf", "-m", "256", "-M", "16",
               "-f", os.path.join(HERE, "kamailio.cfg"), "-l", f"udp:127.0.0.1:{port}",
               "-w", work, "-P", os.path.join(work, "kamailio.pid")]
        if test == "digest":
            db = os.path.join(work, "kamailio.db")
            con = sqlite3.connect(db)
            for sql in ("standard-create.sql", "auth_db-create.sql"):
                con.executescript(open(f"/usr/share/kamailio/db_sqlite/{sql}").read())
            con.execute("INSERT INTO subscriber(username, domain, password, ha1) VALUES (?,?,?,?)",
                        ("u1", DOMAIN, "", ha1("u1", "pw")))
            con.commit()
            con.close()
            cmd += ["-A", "WITH_AUTH", "-A", f'DBURL="sqlite:///{db}"']
        log = open(os.path.join(work, "server.log"), "w")
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


class Switchboard:
    """persist=False runs the registrar in memory only (sip.registrar.persist=off), the
    equivalent of the Kamailio config's usrloc db_mode 0; True is the product default."""

    def __init__(self, build, persist=True, name=None):
        self.binary = os.path.join(ROOT, build, "switchboard")
        self.persist = persist
        self.name = name or ("switchboard" if persist else "switchboard-mem")

    def start(self, test, port, work):
        common = ["--set", f"data_dir={work}", "--set", "log.level=warn"]
        if test == "digest":
            subprocess.run([self.binary, "admin", *common, "sip-user", "add", "--domain", DOMAIN,
                            "--user", "u1", "--password", "pw"], check=True,
                           stdout=subprocess.DEVNULL)
        cmd = [self.binary, "serve", *common, "--set", f"sip.listen=udp:127.0.0.1:{port}",
               "--set", "sip.workers=1", "--set", f"sip.domains={DOMAIN}",
               "--set", "sip.auth.register=" + ("on" if test == "digest" else "off"),
               "--set", "sip.auth.calls=off",
               # SIPp's thousands of requests per second from one address are the load, not
               # a flood (Kamailio's config loads no pike either).
               "--set", "sip.flood.enabled=off",
               "--set", "sip.registrar.persist=" + ("on" if self.persist else "off")]
        log = open(os.path.join(work, "server.log"), "w")
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def sipp(args, work, label, timeout):
    stf = os.path.join(work, f"{label}.csv")
    cmd = ["sipp", "-nostdin", "-trace_stat", "-stf", stf, "-fd", "1", "-timeout", f"{timeout}s",
           "-timeout_error", "-max_socket", "1000", *args]
    res = subprocess.run(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         timeout=timeout + 30)
    ok = failed = 0
    if os.path.exists(stf):
        with open(stf) as f:
            rows = list(csv.reader(f, delimiter=";"))
        if len(rows) >= 2:
            head, last = rows[0], rows[-1]
            ok = int(last[head.index("SuccessfulCall(C)")])
            failed = int(last[head.index("FailedCall(C)")])
    return res.returncode, ok, failed


def run_once(server, test, rate, count):
    work = tempfile.mkdtemp(prefix=f"sb-bench-{server.name}-")
    port = free_port()
    proc = None
    uas = None
    try:
        proc = server.start(test, port, work)
        wait_udp(port, proc)
        target = f"127.0.0.1:{port}"
        base = ["-i", "127.0.0.1", "-r", str(rate), "-m", str(count), "-l", str(max(rate, 100))]
        if test == "call":
            uas_port = free_port()
            uas = subprocess.Popen(["sipp", "-nostdin", "-sf", os.path.join(HERE, "sipp/uas.xml"),
                                    "-i", "127.0.0.1", "-p", str(uas_port), "-bg"],
                                   cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
            time.sleep(0.5)
            rc, ok, _ = sipp(["-sf", os.path.join(HERE, "sipp/register_callee.xml"), "-i",
                              "127.0.0.1", "-m", "1", "-key", "uas_port", str(uas_port), target],
                             work, "reg", 20)
            if ok != 1:
                raise RuntimeError("could not register the callee")
        before = cpu_seconds(proc.pid)
        start = time.time()
        scenario = {"register": "register.xml", "digest": "register_digest.xml",
                    "call": "uac.xml"}[test]
        extra = ["-s", "u1", "-ap", "pw"] if test == "digest" else []
        rc, ok, failed = sipp(["-sf", os.path.join(HERE, "sipp", scenario), *base, *extra, target],
                              work, "load", int(count / rate * 3) + 30)
        elapsed = time.time() - start
        cpu = cpu_seconds(proc.pid) - before
        rss = rss_kib(proc.pid)
        return {"ok": ok, "failed": failed, "cpu_s": cpu, "elapsed_s": elapsed,
                "us_per_call": cpu / ok * 1e6 if ok else None,
                "failure_pct": 100.0 * failed / max(ok + failed, 1), "rss_kib": rss}
    finally:
        if uas:
            stop(uas)
        stop(proc)
        # SIPp -bg forks: stop any left of ours by the work directory it ran in.
        for p in descendants(1):
            try:
                if os.readlink(f"/proc/{p}/cwd") == work:
                    os.kill(p, signal.SIGTERM)
            except OSError:
                pass
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--tests", default="register,digest,call")
    ap.add_argument("--rates", default="1000")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--servers", default="kamailio,switchboard,switchboard-mem")
    # Another build (e.g. the commit before a change) as server "switchboard-base", with the
    # product defaults as "switchboard": add it to --servers to compare the two in one run.
    ap.add_argument("--baseline", default="")
    args = ap.parse_args()
    servers = {"kamailio": Kamailio(), "switchboard": Switchboard(args.build),
               "switchboard-mem": Switchboard(args.build, persist=False)}
    if args.baseline:
        servers["switchboard-base"] = Switchboard(args.baseline, name="switchboard-base")
    names = args.servers.split(",")
    results = []
    for test in args.tests.split(","):
        for rate in [int(r) for r in args.rates.split(",")]:
            count = int(rate * args.seconds)
            # Interleaved (A B C A B C ...), so drift in the machine's load hits every server.
            all_runs = {name: [] for name in names}
            for _ in range(args.runs):
                for name in names:
                    all_runs[name].append(run_once(servers[name], test, rate, count))
            for name in names:
                runs = all_runs[name]
                per = [r["us_per_call"] for r in runs if r["us_per_call"]]
                row = {"test": test, "rate": rate, "server": name, "count": count,
                       "median_us_per_call": statistics.median(per) if per else None,
                       "max_failure_pct": max(r["failure_pct"] for r in runs),
                       "median_rss_kib": statistics.median(r["rss_kib"] for r in runs),
                       "runs": runs}
                results.append(row)
                print(json.dumps({k: v for k, v in row.items() if k != "runs"}), flush=True)
    print("\n| test | offered/s | server | CPU µs per call (median) | worst failures % |")
    print("|---|---:|---|---:|---:|")
    for r in results:
        us = "%.1f" % r["median_us_per_call"] if r["median_us_per_call"] else "-"
        print(f"| {r['test']} | {r['rate']} | {r['server']} | {us} | {r['max_failure_pct']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
