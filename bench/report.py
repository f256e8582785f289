#!/usr/bin/env python3
"""Turns Google Benchmark JSON (with repetitions) into the side-by-side table of RESULTS.md:
median CPU time per message for Switchboard and the reference, messages per second on one
core, and the ratio."""
import json
import sys


def main(path):
    data = json.load(open(path))
    med = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        med[b["run_name"]] = b["cpu_time"]  # nanoseconds (the default time unit)
    print(f"machine: {data['context'].get('num_cpus')} CPUs at "
          f"{data['context'].get('mhz_per_cpu')} MHz; {data['context'].get('date')}")
    print()
    print("| message | Switchboard ns/msg | msgs/s (1 core) | libosip2 ns/msg | msgs/s | speed-up |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in sorted(med):
        if not name.startswith("BM_Switchboard_Parse/"):
            continue
        case = name.split("/", 1)[1]
        ours = med[name]
        ref = med.get("BM_Osip_Parse/" + case)
        if ref is None:
            continue
        print(f"| {case} | {ours:.0f} | {1e9 / ours / 1e6:.2f} M | {ref:.0f} | "
              f"{1e9 / ref / 1e3:.0f} k | {ref / ours:.1f}x |")
    print()
    print("| serializer | ns/msg |")
    print("|---|---:|")
    for name in sorted(med):
        if "Serialize" in name:
            print(f"| {name.replace('BM_', '')} | {med[name]:.0f} |")


if __name__ == "__main__":
    main(sys.argv[1])
