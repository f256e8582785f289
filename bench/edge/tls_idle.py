#!/usr/bin/env python3
"""Memory per idle TLS connection: starts `switchboard serve` with a TLS listener on loopback,
opens N TLS connections (handshake done, then silent), and reports how much the server's
resident set grew per connection. Bounded: N connections, held for a few seconds, closed, and
the server is stopped by its pid.

  python3 bench/edge/tls_idle.py --build build --connections 2000
"""
import argparse
import os
import resource
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--connections", type=int, default=2000)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.connections + 256), hard))
    work = tempfile.mkdtemp(prefix="sb-tls-idle-")
    key, cert = os.path.join(work, "key.pem"), os.path.join(work, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = free_port()
    binary = os.path.join(ROOT, args.build, "switchboard")
    # The server needs file descriptors too: prlimit through a shell ulimit.
    cmd = (f"ulimit -n {args.connections + 256}; exec {binary} serve --set data_dir={work} "
           f"--set log.level=warn --set sip.listen=tls:127.0.0.1:{port} --set sip.workers=1 "
           f"--set sip.tls.certificate={cert} --set sip.tls.key={key} "
           f"--set sip.flood.enabled=off")
    server = subprocess.Popen(["bash", "-c", cmd], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    conns = []
    try:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        # Warm up (first handshakes allocate the TLS context's caches), then measure.
        for _ in range(20):
            conns.append(ctx.wrap_socket(socket.create_connection(("127.0.0.1", port))))
        time.sleep(1)
        before = rss_kib(server.pid)
        for _ in range(args.connections):
            conns.append(ctx.wrap_socket(socket.create_connection(("127.0.0.1", port))))
        time.sleep(2)
        after = rss_kib(server.pid)
        versions = {c.version() for c in conns}
        print(f"connections: {args.connections} ({', '.join(sorted(versions))}); "
              f"server RSS {before} KiB -> {after} KiB; "
              f"{(after - before) / args.connections:.1f} KiB per idle TLS connection")
    finally:
        for c in conns:
            c.close()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
