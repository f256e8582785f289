#!/usr/bin/env python3
"""Builds a large capture for the `switchboard pcap` benchmark by replaying the sample calls of
../shared/testdata/pcaps many times, many calls live at once.

  python3 bench/pcap/make_capture.py [--size 1G] [--out /tmp/sb_bench_1g.pcap]
                                     [--concurrency 50] [--seed 1]

The samples are the captures of UDP SIP and RTP over Ethernet/IPv4 (see SAMPLES). Only their
IPv4 UDP packets are replayed (ARP, TCP, IP fragments are left out). Replay k of a sample:
  * every IPv4 address of the sample becomes another one with the same number of digits in
    each octet (the first octet kept, the other three a counter in mixed radix), in the IP
    headers and wherever the address is written in SIP, SDP, MGCP or MEGACO text, so the
    Content-Length and the SDP still match; the IPv4 header checksum is recomputed and the
    UDP checksum zeroed (0 means "not computed" in UDP over IPv4);
  * RTP SSRCs (and the SSRCs of RTCP sender and report blocks, SDES chunks, BYE) are XORed
    with k;
  * each Call-ID gets its first six characters overwritten with a base-36 counter, the same
    in every message of that call, so every replayed call is a new dialog and no length
    changes;
  * times are shifted: --concurrency slots each play the samples one after the other (with a
    short pause), the slots staggered by a fraction of a second, and the packets of all
    slots merged in time order, so the analyzer sees many live calls at once.
Classic pcap, microsecond timestamps, Ethernet. Replays start until --size is reached and the
started ones are written to their end, so the file is a little over --size. The output must
not be inside the repository."""
import argparse
import collections
import heapq
import os
import random
import re
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_PCAPS = os.path.normpath(os.path.join(ROOT, "..", "shared", "testdata", "pcaps"))

# Ethernet + IPv4 + UDP captures with SIP and/or RTP (link type checked when read).
SAMPLES = [
    "heplify_rtp_rtcp_sip.pcap",  # INVITE + REGISTER, 5 G.711 streams, RTCP SR/RR
    "heplify_FAX-Call-t38-CA-TDM-SIP-FB-1.pcap",  # B2BUA legs, re-INVITE to T.38, 488, UDPTL
    "pkts_sip_rtp.pcap",  # one call with PCMU
    "sngrep_aaa.pcap",  # REGISTER/INVITE failures, CANCEL, retransmissions, RTP+RTCP
    "pkts_sipp.pcap",  # five short calls, SIP only
    "pkts_cancel.pcap",  # a CANCELled INVITE
    "sipp_g711a.pcap",  # RTP without SIP (heuristic)
    "sipp_dtmf_2833_1.pcap",  # RFC 4733 digit
    "sipp_dtmf_2833_pound.pcap",
]

SIP_START = re.compile(rb"^(?:[A-Z]{3,12} [^ \r\n]+ SIP/2\.0\r?\n|SIP/2\.0 \d{3})")
CALL_ID = re.compile(rb"(?:^|\n)(?:[Cc][Aa][Ll][Ll]-[Ii][Dd]|[Ii])[ \t]*:[ \t]*([^\r\n]*)")
NOT_RTP_PORTS = {53, 67, 68, 123, 137, 138, 161, 162, 514, 5060, 5061}
CALL_ID_PREFIX = 6
ETH_IPV4 = 0x0800


def parse_size(text):
    m = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]?)(?:i?B)?\s*", text, re.I)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text}")
    unit = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[m.group(2).upper()]
    return int(float(m.group(1)) * unit)


def read_pcap(path):
    """(link type, [(time in µs, original length, frame bytes)]) of a classic pcap."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise ValueError(f"{path}: not a classic pcap file")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    link = struct.unpack_from(end + "I", data, 20)[0]
    packets, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack_from(end + "IIII", data, off)
        off += 16
        if off + incl > len(data):
            break
        us = sec * 1_000_000 + (frac // 1000 if nano else frac)
        packets.append((us, orig, data[off:off + incl]))
        off += incl
    return link, packets


def looks_rtp(p):
    return len(p) >= 12 and p[0] >> 6 == 2 and not 72 <= (p[1] & 0x7F) <= 76


def rtcp_ssrc_offsets(p):
    """Offsets (in the UDP payload) of the SSRCs of a compound RTCP packet, or None."""
    out, o = [], 0
    while o + 8 <= len(p):
        if p[o] >> 6 != 2 or not 200 <= p[o + 1] <= 206:
            return out or None
        rc, pt = p[o] & 0x1F, p[o + 1]
        end = o + (struct.unpack_from(">H", p, o + 2)[0] + 1) * 4
        if end > len(p):
            return out or None
        if pt in (200, 201):
            out.append(o + 4)
            first = o + (28 if pt == 200 else 8)
            out += [first + 24 * i for i in range(rc) if first + 24 * i + 4 <= end]
        elif pt == 202:  # SDES: chunks of an SSRC and items up to a null, padded to 4
            q = o + 4
            for _ in range(rc):
                if q + 4 > end:
                    break
                out.append(q)
                q += 4
                while q < end and p[q] != 0:
                    q += 2 + (p[q + 1] if q + 1 < end else 0)
                q += 1
                q = o + ((q - o + 3) & ~3)
        elif pt == 203:
            out += [o + 4 + 4 * i for i in range(rc) if o + 8 + 4 * i <= end]
        else:
            out.append(o + 4)
            if pt in (205, 206) and o + 12 <= end:
                out.append(o + 8)
        o = end
    return out or None


def printable(p):
    head = p[:64]
    return head and sum(32 <= c < 127 or c in (9, 10, 13) for c in head) >= 0.9 * len(head)


class Sample:
    """The packets of one sample as templates: bytes with the UDP checksum zeroed, and the
    places to patch for each replay."""

    def __init__(self, path):
        self.name = os.path.basename(path)
        link, packets = read_pcap(path)
        if link != 1:
            raise ValueError(f"{self.name}: link type {link}, not Ethernet")
        udp = []
        for us, orig, frame in packets:
            if len(frame) < 34 or struct.unpack_from(">H", frame, 12)[0] != ETH_IPV4:
                continue
            ip = 14
            ver_ihl, total, frag, proto = frame[ip], *struct.unpack_from(">H2xH", frame, ip + 2), \
                frame[ip + 9]
            ihl = (ver_ihl & 0x0F) * 4
            if ver_ihl >> 4 != 4 or ihl < 20 or proto != 17 or frag & 0x3FFF:
                continue
            u = ip + ihl
            if u + 8 > len(frame) or total > len(frame) - ip:
                continue
            ulen = struct.unpack_from(">H", frame, u + 4)[0]
            payload_end = min(u + max(ulen, 8), ip + total)
            udp.append((us, orig, frame, ip, ihl, u, payload_end))
        if not udp:
            raise ValueError(f"{self.name}: no IPv4 UDP packets")

        # Addresses, and which flows are RTP (most packets RTP-shaped, a steady SSRC).
        ips = {}
        flows = collections.defaultdict(lambda: [0, collections.Counter()])
        for us, orig, frame, ip, ihl, u, pe in udp:
            for a in (frame[ip + 12:ip + 16], frame[ip + 16:ip + 20]):
                ips.setdefault(a, len(ips))
            sport, dport = struct.unpack_from(">HH", frame, u)
            p = frame[u + 8:pe]
            key = (frame[ip + 12:ip + 20], sport, dport)
            flows[key][0] += 1
            if looks_rtp(p) and not SIP_START.match(p):
                flows[key][1][p[8:12]] += 1
        rtp_flows = {}
        for key, (n, ssrcs) in flows.items():
            if key[1] in NOT_RTP_PORTS or key[2] in NOT_RTP_PORTS:
                continue
            good = {s for s, c in ssrcs.items() if c >= 3}
            if sum(ssrcs[s] for s in good) >= max(3, n // 2):
                rtp_flows[key] = good
        self.ips = [a for a, _ in sorted(ips.items(), key=lambda kv: kv[1])]
        texts = [".".join(str(b) for b in a).encode() for a in self.ips]
        ip_patterns = [(i, re.compile(rb"(?<![0-9.])" + re.escape(t) + rb"(?![0-9]|\.[0-9])"))
                       for i, t in enumerate(texts)]

        call_ids = {}
        self.templates = []
        self.bytes = 0
        self.rtp_packets = self.rtcp_packets = self.sip_packets = 0
        t0 = udp[0][0]
        for us, orig, frame, ip, ihl, u, pe in udp:
            b = bytearray(frame)
            b[u + 6:u + 8] = b"\0\0"  # UDP checksum: not computed
            hdr = bytes(b[ip:ip + ihl])
            hdr = hdr[:10] + b"\0\0" + b"\0" * 8 + hdr[20:]
            base = sum(struct.unpack(f">{ihl // 2}H", hdr))
            src, dst = ips[frame[ip + 12:ip + 16]], ips[frame[ip + 16:ip + 20]]
            sport, dport = struct.unpack_from(">HH", frame, u)
            p = bytes(frame[u + 8:pe])
            ssrcs, text, cids = [], [], []
            key = (frame[ip + 12:ip + 20], sport, dport)
            if SIP_START.match(p):
                self.sip_packets += 1
            if key in rtp_flows and looks_rtp(p) and p[8:12] in rtp_flows[key]:
                ssrcs.append(u + 8 + 8)
                self.rtp_packets += 1
            elif sport not in NOT_RTP_PORTS and dport not in NOT_RTP_PORTS and \
                    (offs := rtcp_ssrc_offsets(p)) is not None:
                ssrcs += [u + 8 + o for o in offs if o + 4 <= len(p)]
                self.rtcp_packets += 1
            elif printable(p):
                for i, pat in ip_patterns:
                    text += [(u + 8 + m.start(), i) for m in pat.finditer(p)]
                if SIP_START.match(p):
                    head = p.split(b"\r\n\r\n", 1)[0]
                    for m in CALL_ID.finditer(head):
                        value = m.group(1).rstrip(b" \t")
                        if value:
                            j = call_ids.setdefault(value, len(call_ids))
                            cids.append((u + 8 + m.start(1), min(CALL_ID_PREFIX, len(value)), j))
            # SSRC 0 (an empty report block) stays 0.
            ssrcs = tuple((o, v) for o in ssrcs if (v := struct.unpack_from(">I", b, o)[0]))
            self.templates.append((us - t0, orig, bytes(b), ip, base, src, dst, ssrcs,
                                   tuple(text), tuple(cids)))
            self.bytes += 16 + len(b)
        self.duration_us = udp[-1][0] - t0
        self.call_ids = len(call_ids)


OCTET_VALUES = {1: list(range(0, 10)), 2: list(range(10, 100)), 3: list(range(100, 255))}
LAST_OCTET_VALUES = {1: list(range(1, 10)), 2: list(range(10, 100)), 3: list(range(100, 255))}


def map_ip(addr, n):
    """Address number n for the original addr: first octet kept, the others from n in
    mixed radix, each with as many digits as the original octet."""
    digits = [len(str(o)) for o in addr]
    radices = [OCTET_VALUES[digits[1]], OCTET_VALUES[digits[2]], LAST_OCTET_VALUES[digits[3]]]
    n %= len(radices[0]) * len(radices[1]) * len(radices[2])
    out = [addr[0]]
    for values, div in ((radices[0], len(radices[1]) * len(radices[2])),
                        (radices[1], len(radices[2])), (radices[2], 1)):
        out.append(values[(n // div) % len(values)])
    return bytes(out)


def base36(n, width):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    s = ""
    while n:
        n, r = divmod(n, 36)
        s = digits[r] + s
    return s.rjust(width, "0")[-width:].encode()


class Replayer:
    """Hands out replay numbers, address numbers and Call-ID counters, and renders the
    packets of one replay."""

    def __init__(self):
        self.replays = 0
        self.addresses = 0
        self.calls = 0
        self.per_sample = collections.Counter()

    def replay(self, sample, start_us):
        self.replays += 1
        self.per_sample[sample.name] += 1
        k = self.replays
        ipb, ipsum = [], []
        for a in sample.ips:
            self.addresses += 1
            m = map_ip(a, self.addresses)
            ipb.append(m)
            ipsum.append((m[0] << 8 | m[1]) + (m[2] << 8 | m[3]))
        iptxt = [".".join(str(o) for o in m).encode() for m in ipb]
        prefix = [base36(self.calls + j + 1, CALL_ID_PREFIX) for j in range(sample.call_ids)]
        self.calls += sample.call_ids
        pack_into, pack = struct.pack_into, struct.pack
        for rel, orig, frame, ip, base, src, dst, ssrcs, text, cids in sample.templates:
            b = bytearray(frame)
            b[ip + 12:ip + 16] = ipb[src]
            b[ip + 16:ip + 20] = ipb[dst]
            s = base + ipsum[src] + ipsum[dst]
            s = (s & 0xFFFF) + (s >> 16)
            s = (s & 0xFFFF) + (s >> 16)
            pack_into(">H", b, ip + 10, ~s & 0xFFFF)
            for off, v in ssrcs:
                pack_into(">I", b, off, v ^ k)
            for off, i in text:
                t = iptxt[i]
                b[off:off + len(t)] = t
            for off, n, j in cids:
                b[off:off + n] = prefix[j][:n]
            t = start_us + rel
            yield t, pack("<IIII", t // 1_000_000, t % 1_000_000, len(b), orig) + b


def slot(index, samples, replayer, budget, start_us, rng):
    """One slot: the samples one after the other, from a different one per slot, until the
    shared byte budget is spent."""
    t = start_us
    i = index
    while budget[0] < budget[1]:
        sample = samples[i % len(samples)]
        i += 1
        budget[0] += sample.bytes
        yield from replayer.replay(sample, t)
        t += sample.duration_us + rng.randrange(200_000, 1_500_000)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=parse_size, default=parse_size("1G"),
                    help="at least this many bytes (suffixes K M G, powers of 1024); default 1G")
    ap.add_argument("--out", default="/tmp/sb_bench_1g.pcap")
    ap.add_argument("--pcaps", default=DEFAULT_PCAPS, help="folder of the sample captures")
    ap.add_argument("--concurrency", type=int, default=50, help="replays live at once")
    ap.add_argument("--stagger", type=float, default=0.37, help="seconds between slot starts")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    out = os.path.abspath(args.out)
    if out.startswith(ROOT + os.sep):
        sys.exit(f"refusing to write {out} inside the repository")
    started = time.monotonic()
    samples = []
    for name in SAMPLES:
        path = os.path.join(args.pcaps, name)
        if not os.path.exists(path):
            print(f"# {name}: absent, left out", file=sys.stderr)
            continue
        s = Sample(path)
        samples.append(s)
        print(f"# {s.name}: {len(s.templates)} UDP packets ({s.sip_packets} SIP, "
              f"{s.rtp_packets} RTP, {s.rtcp_packets} RTCP), {s.call_ids} Call-IDs, "
              f"{s.bytes / 1e6:.2f} MB, {s.duration_us / 1e6:.1f} s", file=sys.stderr)
    if not samples:
        sys.exit(f"no sample capture found in {args.pcaps}")

    rng = random.Random(args.seed)
    replayer = Replayer()
    budget = [24, args.size]
    epoch_us = 1_700_000_000 * 1_000_000
    slots = [slot(j, samples, replayer, budget, epoch_us + int(j * args.stagger * 1e6),
                  random.Random(rng.random())) for j in range(args.concurrency)]
    tmp = out + ".part"
    written = packets = 0
    first = last = None
    with open(tmp, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        written = 24
        chunk, chunk_len = [], 0
        for t, rec in heapq.merge(*slots, key=lambda item: item[0]):
            chunk.append(rec)
            chunk_len += len(rec)
            packets += 1
            if first is None:
                first = t
            last = t
            if chunk_len >= 8 << 20:
                f.write(b"".join(chunk))
                written += chunk_len
                chunk, chunk_len = [], 0
        f.write(b"".join(chunk))
        written += chunk_len
    os.replace(tmp, out)
    took = time.monotonic() - started
    print(f"{out}: {written} bytes ({written / (1 << 20):.1f} MiB), {packets} packets, "
          f"{replayer.replays} replays, {replayer.calls} Call-IDs, "
          f"{(last - first) / 1e6:.0f} s of traffic, {args.concurrency} live replays; "
          f"written in {took:.1f} s ({written / 1e6 / took:.0f} MB/s)")
    print("# replays per sample: " + ", ".join(f"{n} {c}" for n, c in replayer.per_sample.items()),
          file=sys.stderr)
    # What tshark should find: each sample's reference figures (mkref.sh) times its replays.
    sip = rtp = 0
    for name, count in replayer.per_sample.items():
        ref = os.path.join(args.pcaps, name)
        try:
            with open(ref + ".sip_stat.txt") as f:
                sip += count * int(re.search(r"Number of SIP messages:\s*(\d+)", f.read()).group(1))
            with open(ref + ".rtp_streams.txt") as f:
                rtp += count * len(re.findall(r"\s0x[0-9A-F]{8}\s", f.read()))
        except (OSError, AttributeError):
            print(f"# {name}: no reference figures, no expected counts", file=sys.stderr)
            return
    print(f"# expected from the samples' tshark figures: {sip} SIP messages, {rtp} RTP streams "
          "(with --enable-heuristic rtp_udp)", file=sys.stderr)


if __name__ == "__main__":
    main()
