"""What a benchmarked server process costs, read from /proc (Linux): CPU time over its
threads and resident memory. Shared by the bench scripts that measure one process."""

import os

CLK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of every live thread of `pid`, in seconds."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / CLK


def rss_mb(pid):
    """The process's resident size (VmRSS) in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0
