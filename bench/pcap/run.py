#!/usr/bin/env python3
"""Capture analysis benchmark: `switchboard pcap analyze --json` against tshark on the same
large capture, one after the other, both pinned to one core (`taskset -c 0`).

  python3 bench/pcap/run.py --build build --runs 3 [--size 1G] [--capture PATH]

The capture (default /tmp/sb_bench_1g.pcap, never inside the repository) is made by
make_capture.py when it is missing or smaller than --size. The file is read once first so
both programs find it in the page cache. Then each of --runs runs times, in alternating
order,
  ours:   taskset -c 0 BUILD/switchboard pcap analyze FILE --json > /dev/null
  tshark: taskset -c 0 tshark -r FILE -q -z sip,stat -z rtp,streams > (a file in /tmp)
and once more tshark with --enable-heuristic rtp_udp, the option that also finds RTP not set
up by SDP (what the analyzer does). For each: wall time, user+sys CPU time and maximum
resident set size of the child (os.wait4), and for ours the capture read rate (file size /
wall and / CPU time, MB = 10^6 bytes). Medians of the runs, tshark/ours speed ratios and the
issue's targets (>= 20x tshark, >= 1 GB/s on one core, < 200 MB RSS) as a Markdown table.
One extra run of ours keeps its JSON to check that both agree on the number of SIP messages
and RTP streams of the big file.

Every process is bounded by --timeout and started in its own session; on timeout or error
its process group is killed by its pid."""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_capture import parse_size  # noqa: E402  (one size syntax for both scripts)
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORE = "0"
TSHARK = ["tshark", "-q", "-z", "sip,stat", "-z", "rtp,streams"]
HEURISTIC = ["--enable-heuristic", "rtp_udp"]
TARGET_RATIO, TARGET_MB_S, TARGET_RSS_MB = 20.0, 1000.0, 200.0

_running = set()  # pids of the children alive, for the cleanup


def kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def measure(argv, stdout_path, timeout):
    """Runs argv pinned to one core with stdout to stdout_path; returns wall s, CPU s,
    max RSS MB, exit code and the tail of stderr."""
    err = tempfile.NamedTemporaryFile(prefix="sb-bench-pcap-", suffix=".err", delete=False)
    err.close()
    argv = ["taskset", "-c", CORE] + argv
    actions = [(os.POSIX_SPAWN_OPEN, 1, stdout_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
               (os.POSIX_SPAWN_OPEN, 2, err.name, os.O_WRONLY | os.O_TRUNC, 0o644)]
    start = time.monotonic()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions, setsid=True)
    _running.add(pid)
    timer = threading.Timer(timeout, kill_group, (pid,))
    timer.start()
    try:
        _, status, ru = os.wait4(pid, 0)
    finally:
        timer.cancel()
        _running.discard(pid)
    wall = time.monotonic() - start
    with open(err.name, errors="replace") as f:
        tail = f.read()[-600:]
    os.unlink(err.name)
    code = os.waitstatus_to_exitcode(status)
    if wall >= timeout:
        tail = f"killed after the {timeout} s timeout\n" + tail
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_mb": ru.ru_maxrss / 1024.0,
            "code": code, "stderr": tail.strip()}


def warm(path):
    with open(path, "rb") as f:
        while f.read(16 << 20):
            pass


def tshark_counts(text):
    m = re.search(r"Number of SIP messages:\s*(\d+)", text)
    streams = len(re.findall(r"^\s*[\d.]+\s+[\d.]+\s+\S+\s+\d+\s+\S+\s+\d+\s+0x[0-9A-Fa-f]+\s",
                             text, re.M))
    return (int(m.group(1)) if m else None), streams


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        version = subprocess.run(["tshark", "--version"], capture_output=True, text=True,
                                 timeout=30).stdout.splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        version = "tshark ?"
    return model, os.cpu_count(), os.getloadavg()[0], version


def row(label, runs, size_mb, ours=False):
    med = lambda k: statistics.median(r[k] for r in runs)
    wall, cpu, rss = med("wall"), med("cpu"), med("rss_mb")
    rates = f"{size_mb / wall:.0f} | {size_mb / cpu:.0f}" if ours else "– | –"
    line = f"| {label} | {len(runs)} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {rates} |"
    return wall, cpu, rss, line


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="the build folder holding switchboard")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size", default="1G", help="capture size for make_capture.py (1G, 50M ...)")
    ap.add_argument("--capture", help="the capture file (default /tmp/sb_bench_SIZE.pcap)")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds allowed to each process")
    args = ap.parse_args()

    size = parse_size(args.size)
    capture = os.path.abspath(args.capture or f"/tmp/sb_bench_{args.size.lower()}.pcap")
    binary = os.path.abspath(os.path.join(args.build, "switchboard"))
    for need in ("taskset", "tshark"):
        if not shutil.which(need):
            sys.exit(f"{need} not found (scripts/install-deps.sh --bench installs tshark)")
    if not os.access(binary, os.X_OK):
        sys.exit(f"{binary} not found: build first (make build)")
    if not os.path.exists(capture) or os.path.getsize(capture) < size:
        subprocess.run([sys.executable, os.path.join(HERE, "make_capture.py"), "--size",
                        str(size), "--out", capture], check=True, timeout=args.timeout)
    file_bytes = os.path.getsize(capture)
    size_mb = file_bytes / 1e6

    ours_cmd = [binary, "pcap", "analyze", capture, "--json"]
    # In-band DTMF detection (on by default) runs a tone detector over every G.711 packet;
    # the same analysis without it is measured too, to show what that detector costs.
    fast_cmd = ours_cmd + ["--no-inband-dtmf"]
    tshark_cmd = TSHARK[:1] + ["-r", capture] + TSHARK[1:]
    heur_cmd = TSHARK[:1] + ["-r", capture] + HEURISTIC + TSHARK[1:]
    model, cpus, load, version = machine()
    print(f"# capture: {capture}, {file_bytes} bytes ({size_mb:.0f} MB)")
    print(f"# machine: {model}, {cpus} CPUs, load average {load:.2f}; {version}")
    print(f"# ours:   taskset -c {CORE} {' '.join(ours_cmd)} > /dev/null")
    print(f"# tshark: taskset -c {CORE} {' '.join(tshark_cmd)} > FILE")
    print(f"# tshark with heuristic RTP (once): taskset -c {CORE} {' '.join(heur_cmd)} > FILE")
    sys.stdout.flush()

    work = tempfile.mkdtemp(prefix="sb-bench-pcap-")
    try:
        warm(capture)
        results = {"ours": [], "fast": [], "tshark": []}
        outputs = {"tshark": os.path.join(work, "tshark.txt"),
                   "heur": os.path.join(work, "tshark_heuristic.txt"),
                   "json": os.path.join(work, "ours.json")}
        plan = {"ours": (ours_cmd, os.devnull), "fast": (fast_cmd, os.devnull),
                "tshark": (tshark_cmd, outputs["tshark"])}
        for run in range(args.runs):
            order = ("ours", "fast", "tshark")
            for name in (order if run % 2 == 0 else order[::-1]):
                cmd, out = plan[name]
                r = measure(cmd, out, args.timeout)
                print(f"run {run + 1} {name}: wall {r['wall']:.2f} s, CPU {r['cpu']:.2f} s, "
                      f"max RSS {r['rss_mb']:.0f} MB, exit {r['code']}", flush=True)
                if r["code"] != 0:
                    print(f"  stderr: {r['stderr']}")
                results[name].append(r)
        heur = measure(heur_cmd, outputs["heur"], args.timeout)
        print(f"tshark heuristic: wall {heur['wall']:.2f} s, CPU {heur['cpu']:.2f} s, "
              f"max RSS {heur['rss_mb']:.0f} MB, exit {heur['code']}", flush=True)
        check = measure(ours_cmd, outputs["json"], args.timeout)

        print()
        print(f"| program ({size_mb:.0f} MB capture, one core) | runs | wall s | CPU s (user+sys) "
              "| max RSS MB | MB/s (wall) | MB/s (CPU) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        ow, oc, orss, line = row("`switchboard pcap analyze --json`", results["ours"], size_mb,
                                 True)
        print(line)
        fw, fc, frss, line = row("the same with `--no-inband-dtmf`", results["fast"], size_mb,
                                 True)
        print(line)
        tw, tc, _, line = row("`tshark -q -z sip,stat -z rtp,streams`", results["tshark"], size_mb)
        print(line)
        print(row("the same with `--enable-heuristic rtp_udp`", [heur], size_mb)[3])
        print()
        failed = any(r["code"] != 0 for rs in results.values() for r in rs)
        print(f"Speed-up (tshark / ours): wall {tw / ow:.1f}x, CPU {tc / oc:.1f}x; with "
              f"heuristic RTP: wall {heur['wall'] / ow:.1f}x, CPU {heur['cpu'] / oc:.1f}x.")
        print(f"Without in-band DTMF: wall {tw / fw:.1f}x, CPU {tc / fc:.1f}x; with heuristic "
              f"RTP: wall {heur['wall'] / fw:.1f}x.")
        if failed:
            print("Targets: not judged, our analyzer failed in a run (see above).")
        else:
            verdict = lambda ok: "met" if ok else "**missed**"
            print(f"Targets: >= {TARGET_RATIO:.0f}x tshark (wall): "
                  f"{verdict(tw / ow >= TARGET_RATIO)}; >= 1 GB/s on one core "
                  f"({size_mb / ow:.0f} MB/s wall, {size_mb / oc:.0f} MB/s of CPU time): "
                  f"{verdict(size_mb / ow >= TARGET_MB_S)}; < {TARGET_RSS_MB:.0f} MB RSS "
                  f"({orss:.0f} MB): {verdict(orss < TARGET_RSS_MB)}.")
            print(f"Without in-band DTMF: >= {TARGET_RATIO:.0f}x tshark: "
                  f"{verdict(tw / fw >= TARGET_RATIO)}; >= 1 GB/s on one core "
                  f"({size_mb / fw:.0f} MB/s wall): {verdict(size_mb / fw >= TARGET_MB_S)}; "
                  f"< {TARGET_RSS_MB:.0f} MB RSS ({frss:.0f} MB): "
                  f"{verdict(frss < TARGET_RSS_MB)}.")
        print()
        with open(outputs["tshark"], errors="replace") as f:
            t_sip, t_rtp = tshark_counts(f.read())
        with open(outputs["heur"], errors="replace") as f:
            h_sip, h_rtp = tshark_counts(f.read())
        if check["code"] != 0:
            print(f"agreement: not checked, our extra run exited {check['code']}: "
                  f"{check['stderr']}")
            return 1
        try:
            with open(outputs["json"]) as f:
                doc = json.load(f)
        except ValueError as e:
            print(f"agreement: not checked, our output is not JSON: {e}")
            return 1
        o_sip = sum(len(c.get("messages") or []) for c in doc.get("calls") or [])
        o_rtp = len(doc.get("rtp_streams") or [])
        same = lambda a, b: "agree" if a == b else "**differ**"
        print(f"SIP messages: ours {o_sip}, tshark {t_sip} ({same(o_sip, t_sip)}).")
        print(f"RTP streams: ours {o_rtp}, tshark with heuristic RTP {h_rtp} "
              f"({same(o_rtp, h_rtp)}); tshark without it (SDP-signalled only) {t_rtp}.")
        return 0 if not failed and o_sip == t_sip and o_rtp == h_rtp else 1
    finally:
        for pid in list(_running):
            kill_group(pid)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
