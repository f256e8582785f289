#!/usr/bin/env python3
"""Agreement of `switchboard pcap analyze --json` with tshark on the reference captures.

For every capture F in the pcaps folder that has tshark's reference files beside it
(F.sip_stat.txt, F.sip_messages.txt, F.rtp_streams.txt, F.rtcp.txt, F.rtp_events.txt and,
where present, F.sip_info.txt; made by mkref.sh there, described in EXPECTED.md) it runs
`BINARY pcap analyze F --json` and compares, one named line per check:

  ok   CAPTURE  CHECK: ours X, tshark Y
  FAIL CAPTURE  CHECK: ours X, tshark Y
       note: why our figure and tshark's differ on purpose (when they do)

SIP: message and resent counts, counts per status code and per request method, the
(frame, Call-ID, method or status) of every message, the final status of every Call-ID.
RTP: stream count; per tshark stream (SSRC + source + destination) packets, lost, max and
mean jitter, max delta. RTCP: round-trip times. DTMF: RFC 4733 events and SIP INFO digits.
Exit status 0 when every check passed, 1 when one failed, 77 when the pcaps folder is absent.

  python3 tests/integration/pcap_agreement.py build/switchboard ../shared/testdata/pcaps
  python3 tests/integration/pcap_agreement.py BIN PCAPS --only sngrep_aaa --verbose
  python3 tests/integration/pcap_agreement.py - PCAPS --dump-ref      # what was parsed
  python3 tests/integration/pcap_agreement.py - PCAPS --from-json DIR # DIR/F.json, no binary
"""
import argparse
import collections
import json
import math
import os
import re
import subprocess
import sys

REQUIRED = ("sip_stat", "sip_messages", "rtp_streams", "rtcp", "rtp_events")
DIGITS = "0123456789*#ABCD"  # RFC 4733 events 0-15
JITTER_TOL_MS = 0.01
# tshark prints milliseconds with three decimals: its figure is ours rounded to 0.001 ms,
# so the 0.01 ms tolerance is widened by that half unit of print rounding.
PRINT_HALF_UNIT_MS = 0.0005
DTMF_TIME_TOL_S = 0.001
ANALYZE_TIMEOUT_S = 600


# ---------------------------------------------------------------------------------------------
# tshark's reference files


def read_lines(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read().splitlines()


def read_table(path):
    """The `-T fields -E header=y` tables: a list of {column: text}."""
    lines = read_lines(path)
    if not lines:
        return []
    header = lines[0].split("\t")
    rows = []
    for line in lines[1:]:
        if not line.strip():
            continue
        cells = line.split("\t")
        cells += [""] * (len(header) - len(cells))
        rows.append(dict(zip(header, cells)))
    return rows


def split_multi(text):
    """Fields that occur several times in one frame are comma-separated."""
    return [v for v in text.split(",") if v != ""] if text else []


def parse_sip_stat(path):
    """`-z sip,stat`: total and resent counts, counts per status code and per method."""
    out = {"messages": None, "resent": None, "statuses": {}, "methods": {}}
    section = None
    for line in read_lines(path):
        m = re.match(r"Number of SIP messages:\s*(\d+)", line)
        if m:
            out["messages"] = int(m.group(1))
            continue
        m = re.match(r"Number of resent SIP messages:\s*(\d+)", line)
        if m:
            out["resent"] = int(m.group(1))
            continue
        if line.startswith("* SIP Status Codes"):
            section = "statuses"
            continue
        if line.startswith("* List of SIP Request methods"):
            section = "methods"
            continue
        if line.startswith("*"):
            section = None
            continue
        m = re.match(r"\s+SIP (\d{3}) .*:\s*(\d+) Packets", line)
        if m and section == "statuses":
            out["statuses"][int(m.group(1))] = int(m.group(2))
            continue
        m = re.match(r"\s+(\S+)\s*:\s*(\d+) Packets", line)
        if m and section == "methods":
            out["methods"][m.group(1)] = int(m.group(2))
    return out


def parse_sip_messages(path):
    """`-Y sip` fields, one row per frame: the SIP messages of each frame.

    A frame may hold several messages (TCP segments, SCTP chunks): Call-ID and CSeq occur on
    each of them, Method only on requests and Status-Code only on responses, so the method
    and status lists do not line up with the messages. Each message gets its Call-ID and
    CSeq; `kind` is known when the frame holds only requests or only responses (or when
    the order can be worked out, see below), otherwise the frame is marked ambiguous."""
    frames = []
    for row in read_table(path):
        frame = int(row["frame.number"])
        callids = split_multi(row.get("sip.Call-ID", ""))
        methods = split_multi(row.get("sip.Method", ""))
        statuses = [int(s) for s in split_multi(row.get("sip.Status-Code", ""))]
        cseqs = []
        for c in split_multi(row.get("sip.CSeq", "")):
            parts = c.split()
            cseqs.append((int(parts[0]) if parts and parts[0].isdigit() else 0,
                          parts[1] if len(parts) > 1 else ""))
        n = max(len(cseqs), len(callids), len(methods) + len(statuses))
        msgs, ambiguous = [], False
        mq, sq = list(methods), list(statuses)
        for i in range(n):
            cid = callids[i] if i < len(callids) else ""
            cnum, cmeth = cseqs[i] if i < len(cseqs) else (0, "")
            left = n - i
            if mq and not sq:
                kind = "request"
            elif sq and not mq:
                kind = "response"
            elif len(mq) == left:
                kind = "request"
            elif len(sq) == left:
                kind = "response"
            elif mq and mq[0] != cmeth:
                # A request's method is its CSeq method: this one must be a response.
                kind = "response"
            else:
                kind, ambiguous = "request", True  # a guess: both fit
            if kind == "request" and mq:
                msgs.append({"call_id": cid, "label": mq.pop(0), "status": 0,
                             "cseq": cnum, "cseq_method": cmeth})
            elif sq:
                st = sq.pop(0)
                msgs.append({"call_id": cid, "label": str(st), "status": st,
                             "cseq": cnum, "cseq_method": cmeth})
        time = row.get("frame.time_relative", "")
        frames.append({"frame": frame, "time": float(time) if time else None, "messages": msgs,
                       "ambiguous": ambiguous and len(msgs) > 1})
    return frames


def final_statuses(frames):
    """The final status of each Call-ID, by the rule the analyzer follows.

    Rule (worked out from the reference captures): let M be the method of the Call-ID's
    first request (of its first message when the capture starts with a response). Of the
    final responses (>= 200) whose CSeq method is M, the first 2xx wins; when there is no
    2xx, the last final response counts; 0 when there is none. So an INVITE challenged with
    407 and sent again to be answered 200 is 200 (heplify_sip_tcp_websocket), a call
    established and then re-INVITEd to T.38 and refused with 488 stays 200 (the FAX
    capture), 407 then 403 is 403 (sngrep_aaa), a CANCELled INVITE is its 487 (the 200 to
    the CANCEL has CSeq method CANCEL), a SUBSCRIBE accepted with 202 and refreshed into a
    481 is 202 (heplify_erspan). In words: once the first request succeeded the later ones
    are in-dialog; until then every new attempt supersedes the previous one's failure.
    Returns {call_id: status} and the set of Call-IDs whose status is uncertain because
    a frame mixing requests and responses could not be lined up."""
    first_method, final, locked, uncertain = {}, {}, set(), set()
    for fr in frames:
        for msg in fr["messages"]:
            cid = msg["call_id"]
            if fr["ambiguous"]:
                uncertain.add(cid)
            if cid not in first_method:
                first_method[cid] = None
                final[cid] = 0
            if msg["status"] == 0:
                if first_method[cid] is None:
                    first_method[cid] = msg["label"]
                continue
            if first_method[cid] is None:
                first_method[cid] = msg["cseq_method"]
            if msg["cseq_method"] != first_method[cid] or msg["status"] < 200 or cid in locked:
                continue
            final[cid] = msg["status"]
            if 200 <= msg["status"] < 300:
                locked.add(cid)
    return final, uncertain


RTP_ROW = re.compile(
    r"^\s*(?P<start>[\d.]+)\s+(?P<end>[\d.]+)\s+(?P<src>\S+)\s+(?P<sport>\d+)\s+(?P<dst>\S+)\s+"
    r"(?P<dport>\d+)\s+(?P<ssrc>0x[0-9A-Fa-f]+)\s+(?P<payload>.*?)\s+(?P<pkts>\d+)\s+"
    r"(?P<lost>-?\d+) \((?P<lostpct>-?[\d.]+)%\)\s+(?P<min_delta>-?[\d.]+)\s+"
    r"(?P<mean_delta>-?[\d.]+)\s+(?P<max_delta>-?[\d.]+)\s+(?P<min_jitter>-?[\d.]+)\s+"
    r"(?P<mean_jitter>-?[\d.]+)\s+(?P<max_jitter>-?[\d.]+)\s*(?P<problem>X?)\s*$")


def endpoint(ip, port):
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def parse_rtp_streams(path):
    """`-z rtp,streams`: one dict per stream; times in seconds, deltas and jitter in ms."""
    streams = []
    for line in read_lines(path):
        m = RTP_ROW.match(line)
        if not m:
            continue
        g = m.groupdict()
        streams.append({
            "ssrc": int(g["ssrc"], 16), "src": endpoint(g["src"], g["sport"]),
            "dst": endpoint(g["dst"], g["dport"]), "payload": g["payload"],
            "packets": int(g["pkts"]), "lost": int(g["lost"]), "start": float(g["start"]),
            "end": float(g["end"]), "max_delta_ms": float(g["max_delta"]),
            "mean_jitter_ms": float(g["mean_jitter"]), "max_jitter_ms": float(g["max_jitter"]),
            "problem": g["problem"] == "X"})
    return streams


def parse_rtcp(path):
    """`-Y rtcp` fields: the frames that carry a round-trip delay (whole ms, see below)."""
    out = []
    for row in read_table(path):
        values = split_multi(row.get("rtcp.roundtrip-delay", ""))
        if values:
            out.append({"frame": int(row["frame.number"]), "rtt_ms": [int(v) for v in values],
                        "time": float(row["frame.time_relative"])})
    return out


def event_digit(event_id):
    return DIGITS[event_id] if 0 <= event_id < len(DIGITS) else None


def parse_rtp_events(path):
    """`-Y rtpevent` fields: packets grouped into events by SSRC and RTP timestamp (the
    timestamp of an RFC 4733 event is its start and stays the same in every packet of it,
    retransmitted end packets included). Start time: the first packet; duration: the
    duration field of the last packet, in 8 kHz timestamp units."""
    events = collections.OrderedDict()
    for row in read_table(path):
        ssrc = int(row["rtp.ssrc"], 16)
        key = (ssrc, int(row["rtp.timestamp"]))
        ev = events.get(key)
        if ev is None:
            eid = int(row["rtpevent.event_id"])
            ev = events[key] = {"ssrc": ssrc, "event_id": eid, "digit": event_digit(eid),
                                "time": float(row["frame.time_relative"]), "packets": 0,
                                "end_packets": 0, "frame": int(row["frame.number"])}
        ev["packets"] += 1
        ev["end_packets"] += row["rtpevent.end_of_event"] == "1"
        ev["duration_ms"] = int(row["rtpevent.duration"]) / 8.0
    return list(events.values())


def info_digit(text):
    """The digit of a dtmf-relay Signal= value or an application/dtmf body."""
    t = text.strip().upper()
    if t == "10":
        return "*"
    if t == "11":
        return "#"
    if t.isdigit() and len(t) <= 2 and int(t) < len(DIGITS):
        return DIGITS[int(t)]
    return t if len(t) == 1 and t in DIGITS else None


def parse_sip_info(path, frame_times):
    """The `-O sip` dump of the INFO requests: one digit per INFO that carries one
    (application/dtmf-relay `Signal=` and `Duration=` lines, or an application/dtmf body).
    Retransmissions ([Resent Packet: True]) carry no new digit and are skipped."""
    out, cur, in_body = [], None, False

    def flush():
        if cur and not cur["resent"] and cur["digit"]:
            out.append({"frame": cur["frame"], "call_id": cur["call_id"], "digit": cur["digit"],
                        "duration_ms": cur["duration_ms"], "time": frame_times.get(cur["frame"])})

    for line in read_lines(path):
        m = re.match(r"Frame (\d+):", line)
        if m:
            flush()
            cur, in_body = {"frame": int(m.group(1)), "call_id": "", "ctype": "", "digit": None,
                            "duration_ms": None, "resent": False}, False
            continue
        if cur is None:
            continue
        s = line.strip()
        if s.startswith("[Resent Packet: True]"):
            cur["resent"] = True
        elif s.startswith("Call-ID:"):
            cur["call_id"] = s.split(":", 1)[1].strip()
        elif s.lower().startswith("content-type:"):
            cur["ctype"] = s.split(":", 1)[1].strip().lower()
        elif s == "Message Body":
            in_body = True
        elif in_body:
            body = s.replace("\\r\\n", "").replace("\\n", "").strip()
            if cur["ctype"].startswith("application/dtmf-relay"):
                k, _, v = body.partition("=")
                if k.strip().lower() == "signal":
                    cur["digit"] = info_digit(v)
                elif k.strip().lower() == "duration" and v.strip().isdigit():
                    cur["duration_ms"] = float(v.strip())
            elif cur["ctype"].startswith("application/dtmf") and body and not cur["digit"]:
                cur["digit"] = info_digit(body)
    flush()
    return out


def load_reference(capture):
    ref = {"capture": capture}
    ref["sip_stat"] = parse_sip_stat(capture + ".sip_stat.txt")
    ref["sip_frames"] = parse_sip_messages(capture + ".sip_messages.txt")
    ref["final"], ref["final_uncertain"] = final_statuses(ref["sip_frames"])
    ref["rtp"] = parse_rtp_streams(capture + ".rtp_streams.txt")
    ref["rtcp"] = parse_rtcp(capture + ".rtcp.txt")
    ref["rtp_events"] = parse_rtp_events(capture + ".rtp_events.txt")
    ref["non_sip_t38"] = parse_non_sip_t38(capture + ".sdp.txt")
    info = capture + ".sip_info.txt"
    times = {f["frame"]: f["time"] for f in ref["sip_frames"]}
    ref["sip_info"] = parse_sip_info(info, times) if os.path.exists(info) else None
    return ref


def parse_non_sip_t38(path):
    """Endpoints that an SDP carried by something other than SIP (MEGACO, MGCP: rows of
    sdp.txt without a Call-ID) announced as T.38 (udptl): {"ip:port": frame}. tshark then
    decodes everything sent there as T.38, RTP included."""
    found = {}
    for row in read_table(path) if os.path.exists(path) else []:
        if row.get("sip.Call-ID", "").strip():
            continue
        ip = row.get("sdp.connection_info", "").split(" ")[-1]
        for media in split_multi(row.get("sdp.media", "")):
            parts = media.split(" ")
            if len(parts) >= 3 and "udptl" in parts[2].lower() and ip:
                found.setdefault(f"{ip}:{parts[1]}", int(row["frame.number"]))
    return found


def dump_reference(ref):
    name = os.path.basename(ref["capture"])
    st = ref["sip_stat"]
    print(f"== {name}")
    print(f"  sip: {st['messages']} messages, {st['resent']} resent; statuses "
          f"{dict(sorted(st['statuses'].items()))}; methods {st['methods']}")
    nmsg = sum(len(f["messages"]) for f in ref["sip_frames"])
    amb = [f["frame"] for f in ref["sip_frames"] if f["ambiguous"]]
    print(f"  sip_messages: {len(ref['sip_frames'])} frames, {nmsg} messages"
          + (f", ambiguous frames {amb}" if amb else ""))
    for cid, status in ref["final"].items():
        print(f"    final {status:3d}  {cid}")
    print(f"  rtp: {len(ref['rtp'])} streams")
    for s in ref["rtp"]:
        print(f"    0x{s['ssrc']:08X} {s['src']} -> {s['dst']} {s['payload']}: {s['packets']} pkts,"
              f" lost {s['lost']}, max jitter {s['max_jitter_ms']}, mean jitter "
              f"{s['mean_jitter_ms']}, max delta {s['max_delta_ms']}")
    print("  rtcp round trips: " + ", ".join(f"frame {r['frame']}: {r['rtt_ms']} ms"
                                             for r in ref["rtcp"]))
    for e in ref["rtp_events"]:
        print(f"  rtp event: ssrc 0x{e['ssrc']:08X} event {e['event_id']} digit {e['digit']!r} "
              f"t={e['time']:.6f} duration {e['duration_ms']} ms, {e['packets']} packets "
              f"({e['end_packets']} end)")
    if ref["sip_info"] is not None:
        for d in ref["sip_info"]:
            print(f"  info digit {d['digit']!r} frame {d['frame']} t={d['time']} "
                  f"call {d['call_id']} duration {d['duration_ms']}")


# ---------------------------------------------------------------------------------------------
# The comparison


class Checks:
    def __init__(self, capture, verbose):
        self.name = os.path.basename(capture)
        self.verbose = verbose
        self.passed = 0
        self.failed = []

    def check(self, label, ok, ours, theirs, note=None, detail=None):
        word = "ok  " if ok else "FAIL"
        print(f"{word} {self.name}  {label}: ours {ours}, tshark {theirs}")
        if note:
            print(f"       note: {note}")
        if detail and (not ok or self.verbose):
            for line in detail:
                print(f"       {line}")
        if ok:
            self.passed += 1
        else:
            self.failed.append(label)
        return ok

    def info(self, text):
        if self.verbose:
            print(f"     {self.name}  {text}")


def close(a, b, tol):
    return a is not None and b is not None and abs(a - b) <= tol


def compare_sip(c, ref, doc):
    calls = doc.get("calls") or []
    msgs = [(call.get("call_id", ""), m) for call in calls for m in call.get("messages") or []]
    st = ref["sip_stat"]
    c.check("sip.messages", len(msgs) == st["messages"], len(msgs), st["messages"])
    resent = sum(1 for _, m in msgs if m.get("retransmission"))
    c.check("sip.resent", resent == st["resent"], resent, st["resent"])

    statuses = collections.Counter(m.get("status", 0) for _, m in msgs if m.get("status", 0))
    for code in sorted(set(statuses) | set(st["statuses"])):
        c.check(f"sip.status[{code}]", statuses.get(code, 0) == st["statuses"].get(code, 0),
                statuses.get(code, 0), st["statuses"].get(code, 0))
    methods = collections.Counter(m.get("method", "") for _, m in msgs if not m.get("status", 0))
    for meth in sorted(set(methods) | set(st["methods"])):
        c.check(f"sip.method[{meth}]", methods.get(meth, 0) == st["methods"].get(meth, 0),
                methods.get(meth, 0), st["methods"].get(meth, 0))

    # Per frame: the Call-IDs and methods/statuses of its messages (multisets, since the
    # order inside a multi-message frame is not recoverable from the field table).
    def label(m):
        return str(m.get("status")) if m.get("status", 0) else m.get("method", "")

    ours, theirs = {}, {}
    for cid, m in msgs:
        ours.setdefault(m.get("frame"), []).append((cid, label(m)))
    for fr in ref["sip_frames"]:
        theirs[fr["frame"]] = [(m["call_id"], m["label"]) for m in fr["messages"]]
    diff = []
    for frame in sorted(set(ours) | set(theirs), key=lambda x: (x is None, x or 0)):
        a, b = sorted(ours.get(frame, [])), sorted(theirs.get(frame, []))
        if a != b:
            diff.append(f"frame {frame}: ours {a or '-'}, tshark {b or '-'}")
    n_theirs = sum(len(v) for v in theirs.values())
    c.check("sip.frames (frame, Call-ID, method/status)", not diff,
            f"{sum(len(v) for v in ours.values())} messages in {len(ours)} frames",
            f"{n_theirs} messages in {len(theirs)} frames", detail=diff[:15] +
            ([f"... {len(diff) - 15} more"] if len(diff) > 15 else []))

    ours_final = {call.get("call_id", ""): call.get("final_status", 0) for call in calls}
    only_ours = sorted(set(ours_final) - set(ref["final"]))
    only_theirs = sorted(set(ref["final"]) - set(ours_final))
    c.check("sip.call_ids", not only_ours and not only_theirs, len(ours_final), len(ref["final"]),
            detail=[f"only ours: {only_ours}", f"only tshark: {only_theirs}"])
    for cid, status in ref["final"].items():
        note = None
        if cid in ref["final_uncertain"]:
            note = "tshark's field table mixes requests and responses in one frame; guessed"
        c.check(f"sip.final[{cid}]", ours_final.get(cid) == status,
                ours_final.get(cid, "absent"), status, note=note)


def compare_rtp(c, ref, doc):
    streams = doc.get("rtp_streams") or []
    c.check("rtp.streams", len(streams) == len(ref["rtp"]), len(streams), len(ref["rtp"]),
            detail=[f"ours: 0x{s.get('ssrc', 0):08X} {s.get('src')} -> {s.get('dst')}"
                    for s in streams])
    by_key = {(s.get("ssrc"), s.get("src"), s.get("dst")): s for s in streams}
    tol = JITTER_TOL_MS + PRINT_HALF_UNIT_MS
    for t in ref["rtp"]:
        name = f"rtp[0x{t['ssrc']:08X} {t['src']}->{t['dst']}]"
        s = by_key.get((t["ssrc"], t["src"], t["dst"]))
        if not c.check(f"{name}.found", s is not None, "found" if s else "absent", "present"):
            continue
        t38_frame = ref.get("non_sip_t38", {}).get(t["dst"])
        if t38_frame is not None and s.get("packets", 0) > t["packets"]:
            # Differs on purpose: an H.248/MGCP SDP (not SIP) announced image/t38 on this
            # port, so tshark decodes every later packet there as T.38, although they are RTP
            # of the same SSRC. We analyse SIP's SDP only and keep counting them as RTP; the
            # jitter and deltas then cover more packets than tshark's and are not compared.
            c.check(f"{name}.packets", s.get("packets") > t["packets"], s.get("packets"),
                    t["packets"],
                    note=(f"tshark took the later packets to {t['dst']} for T.38 because a "
                          f"non-SIP SDP in frame {t38_frame} announced udptl there; their bytes "
                          f"are RTP of SSRC 0x{t['ssrc']:08X}, which we keep counting"))
            continue
        c.check(f"{name}.packets", s.get("packets") == t["packets"], s.get("packets"),
                t["packets"])
        lost, dups = s.get("lost", 0), s.get("duplicates", 0)
        note = None
        if dups or t["lost"] < 0:
            note = (f"tshark's Lost is expected minus received, duplicates included, so "
                    f"{dups} duplicate(s) count as negative loss; ours: lost {lost} (missing "
                    f"sequence numbers, never negative) and duplicates {dups}, compared as "
                    f"lost - duplicates = {lost - dups}")
        c.check(f"{name}.lost", lost - dups == t["lost"] and lost >= 0 and dups >= 0,
                f"{lost} - {dups} duplicates",
                t["lost"], note=note)
        for key in ("max_jitter_ms", "mean_jitter_ms", "max_delta_ms"):
            v = s.get(key)
            c.check(f"{name}.{key}", close(v, t[key], tol),
                    f"{v:.4f}" if isinstance(v, (int, float)) else v, f"{t[key]:.3f}")


def tshark_rtt_candidates(ours_ms, dlsr):
    """What tshark prints for a round trip we computed exactly.

    packet-rtcp.c works in whole milliseconds: the gap between the SR and this report is
    seconds*1000 + (nanosecond difference / 1e6) in C integer division, which truncates
    toward zero, so the gap is floored when the nanosecond part of the later time is the
    larger and ceiled otherwise; DLSR is truncated on its own ((int)(dlsr/65536*1000)); the
    delay is gap - DLSR. Our figure is exact (gap - dlsr/65.536 in ms), so the gap is
    rebuilt from it and both roundings of it are allowed."""
    dlsr_ms = dlsr / 65536.0 * 1000.0
    gap = ours_ms + dlsr_ms
    return {math.floor(gap + 1e-6) - int(dlsr_ms), math.ceil(gap - 1e-6) - int(dlsr_ms)}


def compare_rtcp(c, ref, doc):
    by_frame = {r.get("frame"): r for r in doc.get("rtcp") or []}
    note_given = False
    for t in ref["rtcp"]:
        theirs = t["rtt_ms"][0]
        r = by_frame.get(t["frame"])
        label = f"rtcp[frame {t['frame']}].round_trip_ms"
        if r is None or r.get("round_trip_ms") is None:
            c.check(label, False, "absent" if r is None else "null", theirs)
            continue
        ours = r["round_trip_ms"]
        cands = set()
        for b in r.get("blocks") or []:
            if b.get("lsr") and b.get("dlsr"):
                cands |= tshark_rtt_candidates(ours, b["dlsr"])
        ok = theirs in cands and abs(ours - theirs) < 2.0
        note = None
        if not note_given:
            note = ("tshark truncates the SR-to-report gap and the DLSR to whole ms before "
                    "subtracting; ours is exact: compared after the same truncation "
                    f"(tshark would print {sorted(cands) or '-'})")
            note_given = True
        c.check(label, ok, f"{ours:.3f}", theirs, note=note)


def compare_dtmf(c, ref, doc):
    dtmf = doc.get("dtmf") or []
    ours = [d for d in dtmf if d.get("source") == "rfc4733" and d.get("digit") in DIGITS
            and len(d.get("digit", "")) == 1]
    theirs = [e for e in ref["rtp_events"] if e["digit"] is not None]
    others = [e for e in ref["rtp_events"] if e["digit"] is None]
    note = None
    if others:
        ids = sorted({e["event_id"] for e in others})
        note = (f"tshark also shows event id(s) {ids} ({len(others)} event(s)), which are not "
                "DTMF digits; not compared")
    if any(e["end_packets"] > 1 for e in theirs):
        extra = "the end packet is sent 3 times (RFC 4733 §2.5.1.4): one digit per event"
        note = f"{note}; {extra}" if note else extra
    c.check("dtmf.rfc4733.count", len(ours) == len(theirs), len(ours), len(theirs), note=note)
    ours_sorted = sorted(ours, key=lambda d: (d.get("time", 0), d.get("ssrc", 0)))
    for i, (e, d) in enumerate(zip(sorted(theirs, key=lambda e: (e["time"], e["ssrc"])),
                                   ours_sorted)):
        ok = (d.get("digit") == e["digit"] and d.get("ssrc") == e["ssrc"]
              and close(d.get("time"), e["time"], DTMF_TIME_TOL_S)
              and close(d.get("duration_ms"), e["duration_ms"], 0.5))
        c.check(f"dtmf.rfc4733[{i}]", ok,
                f"{d.get('digit')!r} ssrc {d.get('ssrc')} t={d.get('time')} "
                f"{d.get('duration_ms')} ms",
                f"{e['digit']!r} ssrc {e['ssrc']} t={e['time']:.6f} {e['duration_ms']} ms")

    if ref["sip_info"] is None:
        ours_info = [d for d in dtmf if d.get("source") == "info"]
        if ours_info:
            c.check("dtmf.info.count", False, len(ours_info), "0 (no INFO in the capture)")
        return
    ours_info = sorted((d for d in dtmf if d.get("source") == "info"),
                       key=lambda d: d.get("time", 0))
    theirs_info = sorted(ref["sip_info"], key=lambda d: d["frame"])
    c.check("dtmf.info.count", len(ours_info) == len(theirs_info), len(ours_info),
            len(theirs_info), note="retransmitted INFO requests carry no new digit")
    for i, (e, d) in enumerate(zip(theirs_info, ours_info)):
        ok = d.get("digit") == e["digit"] and d.get("call_id") == e["call_id"]
        if e["time"] is not None:
            ok = ok and close(d.get("time"), e["time"], DTMF_TIME_TOL_S)
        if e["duration_ms"] is not None:
            ok = ok and close(d.get("duration_ms"), e["duration_ms"], 0.5)
        c.check(f"dtmf.info[{i}]", ok,
                f"{d.get('digit')!r} {d.get('call_id')} t={d.get('time')} "
                f"{d.get('duration_ms')} ms",
                f"{e['digit']!r} {e['call_id']} t={e['time']} {e['duration_ms']} ms")


def analyze(binary, capture, from_json):
    """Our JSON document, or (None, reason)."""
    if from_json:
        path = os.path.join(from_json, os.path.basename(capture) + ".json")
        try:
            with open(path) as f:
                return json.load(f), None
        except (OSError, ValueError) as e:
            return None, f"cannot read {path}: {e}"
    try:
        p = subprocess.run([binary, "pcap", "analyze", capture, "--json"], capture_output=True,
                           timeout=ANALYZE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None, f"no answer in {ANALYZE_TIMEOUT_S} s"
    except OSError as e:
        return None, str(e)
    if p.returncode != 0:
        return None, (f"exit status {p.returncode}: "
                      + p.stderr.decode(errors="replace").strip()[-400:])
    try:
        return json.loads(p.stdout), None
    except ValueError as e:
        return None, f"output is not JSON: {e}"


def run_capture(binary, capture, args):
    ref = load_reference(capture)
    if args.verbose:
        dump_reference(ref)
    c = Checks(capture, args.verbose)
    doc, err = analyze(binary, capture, args.from_json)
    if not c.check("analyze", doc is not None, err or "exit 0, JSON", "-"):
        return c
    c.check("error", doc.get("error") is None, doc.get("error"), "null")
    compare_sip(c, ref, doc)
    compare_rtp(c, ref, doc)
    compare_rtcp(c, ref, doc)
    compare_dtmf(c, ref, doc)
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary", help="the switchboard binary ('-' with --dump-ref/--from-json)")
    ap.add_argument("pcaps", help="the folder of captures and tshark reference files")
    ap.add_argument("--only", action="append", default=[],
                    help="only captures whose file name contains NAME (repeatable)")
    ap.add_argument("--verbose", action="store_true",
                    help="print what was read from tshark's files and every detail")
    ap.add_argument("--dump-ref", action="store_true",
                    help="print what was read from tshark's files and stop")
    ap.add_argument("--from-json", metavar="DIR",
                    help="read our output from DIR/CAPTURE.json instead of running the binary")
    args = ap.parse_args()

    if not os.path.isdir(args.pcaps):
        print("skipped: ../shared/testdata/pcaps not found")
        return 77
    captures = []
    for f in sorted(os.listdir(args.pcaps)):
        path = os.path.join(args.pcaps, f)
        if not re.search(r"\.(pcap|pcapng|cap)$", f):
            continue
        if args.only and not any(o in f for o in args.only):
            continue
        if all(os.path.exists(f"{path}.{r}.txt") for r in REQUIRED):
            captures.append(path)
    if not captures:
        print("FAIL: no capture with tshark reference files"
              + (" matches --only" if args.only else ""))
        return 1
    if args.dump_ref:
        for cap in captures:
            dump_reference(load_reference(cap))
        return 0

    results = [run_capture(args.binary, cap, args) for cap in captures]
    passed = sum(r.passed for r in results)
    failed = [(r.name, label) for r in results for label in r.failed]
    print(f"\n{len(results)} captures, {passed} checks passed, {len(failed)} failed")
    for name, label in failed:
        print(f"  FAIL {name}  {label}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
