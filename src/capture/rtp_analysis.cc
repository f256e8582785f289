#include "capture/rtp_analysis.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "capture/emodel.h"
#include "media/dtmf_detector.h"
#include "media/g711.h"
#include "media/rtcp.h"
#include "media/rtp.h"

namespace capture {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
// An idle stream gives back its in-band detector (closing any digit) after this long.
constexpr int64_t kDetectorIdleNs = 5 * kSecond;
// How often (capture time) idle streams and unused bindings are swept.
constexpr int64_t kSweepEveryNs = 5 * kSecond;
// A binding no stream uses is dropped after this many sweeps (10 minutes of capture time
// with datagrams flowing) since it was made or last used. Counted in sweeps, not read from
// the clock: bindMedia has no time, and SIP may come long after the last datagram.
constexpr uint64_t kBindingIdleSweeps = 120;
// A stream with no SDP of its own looks again for one at most this often.
constexpr int64_t kRebindEveryNs = 50'000'000;
// Heuristic flows waiting for a second packet; past this many the table starts over.
constexpr size_t kMaxCandidates = 1 << 16;
// The duplicate window: sequence numbers within 512 of the highest are remembered.
constexpr int64_t kSeqWindow = 512;
// A bound flow takes new SSRCs at once up to this many streams; past it (a flood of random
// SSRCs) a new one must show two agreeing packets first, as on an unbound flow.
constexpr uint32_t kStreamsPerFlow = 8;
// Bounds on what a hostile capture can make us hold; past them, counted and dropped.
constexpr size_t kMaxSenderReports = 1 << 16;
constexpr size_t kMaxRtcpReports = 1'000'000;
constexpr size_t kMaxDtmfEvents = 1'000'000;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}
bool istartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Static payload types (RFC 3551): encoding name and the clock rate tshark uses for them
// (ui/tap-rtp-analysis.c clock_map; types it does not list have no rate: no jitter).
struct StaticType {
  const char* name;
  uint32_t clock;
};
constexpr StaticType staticType(int pt) {
  switch (pt) {
    case 0:
      return {"PCMU", 8000};
    case 1:
      return {"1016", 8000};
    case 2:
      return {"G721", 8000};
    case 3:
      return {"GSM", 8000};
    case 4:
      return {"G723", 8000};
    case 5:
      return {"DVI4", 8000};
    case 6:
      return {"DVI4", 16000};
    case 7:
      return {"LPC", 8000};
    case 8:
      return {"PCMA", 8000};
    case 9:
      return {"G722", 8000};
    case 10:
      return {"L16", 44100};
    case 11:
      return {"L16", 44100};
    case 12:
      return {"QCELP", 8000};
    case 13:
      return {"CN", 8000};
    case 14:
      return {"MPA", 90000};
    case 15:
      return {"G728", 8000};
    case 16:
      return {"DVI4", 11025};
    case 17:
      return {"DVI4", 22050};
    case 18:
      return {"G729", 8000};
    case 19:
      return {"CN", 8000};
    case 25:
      return {"CelB", 90000};
    case 26:
      return {"JPEG", 90000};
    case 28:
      return {"nv", 90000};
    case 31:
      return {"H261", 90000};
    case 32:
      return {"MPV", 90000};
    case 33:
      return {"MP2T", 90000};
    case 34:
      return {"H263", 90000};
    default:
      return {"", 0};
  }
}

// Clock rates tshark knows for dynamic types named by an rtpmap that gives none (its
// mimetype_and_clock_map; matched as a case-insensitive prefix, the longest name first).
uint32_t dynamicClock(std::string_view encoding) {
  static constexpr std::pair<std::string_view, uint32_t> kTable[] = {{"telephone-event", 8000},
                                                                     {"t140", 1000},
                                                                     {"SMV0", 8000},
                                                                     {"SMV", 8000},
                                                                     {"red", 1000},
                                                                     {"raw", 90000},
                                                                     {"pointer", 90000},
                                                                     {"opus", 48000},
                                                                     {"mpa-robust", 90000},
                                                                     {"MP4V-ES", 90000},
                                                                     {"MP2P", 90000},
                                                                     {"MP1S", 90000},
                                                                     {"H264", 90000},
                                                                     {"H263-2000", 90000},
                                                                     {"H263-1998", 90000},
                                                                     {"GSM-EFR", 8000},
                                                                     {"G729E", 8000},
                                                                     {"G729D", 8000},
                                                                     {"G726-40", 8000},
                                                                     {"G726-32", 8000},
                                                                     {"G726-24", 8000},
                                                                     {"G726-16", 8000},
                                                                     {"G7221", 16000},
                                                                     {"EVS", 16000},
                                                                     {"EVRCWB1", 16000},
                                                                     {"EVRCWB0", 16000},
                                                                     {"EVRCWB", 16000},
                                                                     {"EVRCB1", 8000},
                                                                     {"EVRCB0", 8000},
                                                                     {"EVRCB", 8000},
                                                                     {"EVRC1", 8000},
                                                                     {"EVRC0", 8000},
                                                                     {"EVRC", 8000},
                                                                     {"DV", 90000},
                                                                     {"BT656", 90000},
                                                                     {"BMPEG", 90000},
                                                                     {"AMR-WB", 16000},
                                                                     {"AMR", 8000}};
  for (const auto& [name, clock] : kTable) {
    if (istartsWith(encoding, name)) return clock;
  }
  return 0;
}

bool isNumber(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

char dtmfDigit(int event) {
  static constexpr char kDigits[] = "0123456789*#ABCD";
  return event >= 0 && event < 16 ? kDigits[event] : 0;
}

// A plausible RFC 4733 DTMF event payload when nothing names the payload type: 4 octets,
// a digit event (0-15), the reserved bit clear.
bool looksLikeDtmfEvent(std::string_view p) {
  return p.size() == 4 && uint8_t(p[0]) <= 15 && (uint8_t(p[1]) & 0x40) == 0;
}

uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdULL;
}
uint64_t hashEndpoint(uint64_t h, const Endpoint& e) {
  h = mix(h, load64(e.addr.data()));
  if (e.v6) h = mix(h, load64(e.addr.data() + 8));
  return mix(h, (uint64_t(e.port) << 1) | uint64_t(e.v6));
}

struct FlowKey {
  Endpoint src, dst;
  bool operator==(const FlowKey&) const = default;
};
struct FlowKeyHash {
  size_t operator()(const FlowKey& k) const {
    return size_t(hashEndpoint(hashEndpoint(0, k.src), k.dst));
  }
};

struct StreamKey {
  Endpoint src, dst;
  uint32_t ssrc = 0;
  bool operator==(const StreamKey&) const = default;
};
struct StreamKeyHash {
  size_t operator()(const StreamKey& k) const {
    return size_t(hashEndpoint(hashEndpoint(k.ssrc, k.src), k.dst));
  }
};

// What a payload type means for one stream, resolved when the type or binding changes.
struct TypeInfo {
  int pt = -1;
  uint32_t clock = 0;  // as tshark: 0 means no jitter for these packets
  uint32_t event_clock = 8000;
  bool event = false;    // telephone-event by rtpmap, or PT 101 that nothing else names
  bool unnamed = false;  // dynamic type without an rtpmap: the payload may say event
  bool ulaw = false, alaw = false;
  bool audio = false;  // not CN, not an event: counts for the packet interval
};

struct BindingEntry {
  MediaBinding binding;
  uint32_t version = 0;
  uint64_t touched = 0;  // the sweep count when bound or last released by a stream
  uint32_t streams = 0;  // streams resolved to it
};

struct PendingEvent {
  bool active = false;
  uint32_t timestamp = 0;
  int event = -1;
  int64_t start_ns = 0;
  uint32_t duration = 0;
  uint32_t clock = 8000;
};

struct Stream {
  StreamKey key;
  uint64_t order = 0;
  bool in_active = false;  // listed in Impl::active (seen within the idle limits)
  // Binding: the destination's, else the source's (tshark's conversation lookup order).
  BindingEntry* binding = nullptr;
  uint32_t binding_version = 0;
  bool by_dst = false;
  bool taken = true;  // false while bound to a non-RTP m= line
  bool ever_bound = false;
  uint64_t insertions_seen = 0;
  int64_t looked_up_ns = 0;
  std::string call_id;
  TypeInfo type;

  uint64_t packets = 0;
  int64_t start_ns = 0, end_ns = 0;
  int first_pt = -1;
  std::array<uint64_t, 2> pt_seen{};
  std::vector<int> payload_types;

  // Sequence numbers: extended (RFC 3550 A.1), a ring bitmap of the last kSeqWindow.
  int64_t max_seq = 0, min_seq = 0;
  uint64_t distinct = 0, duplicates = 0, out_of_order = 0;
  std::array<uint64_t, kSeqWindow / 64> seen{};

  // tshark 4.0's rtppacket_analyse state (times in ms since the stream's first packet).
  uint32_t first_ts = 0;    // packets are "in time sequence" up to 2^31 ticks after it
  double time_ms = 0;       // arrival of the last packet in time sequence
  double last_nominal = 0;  // its timestamp, in ms after first_ts (packets with a clock)
  double delta = 0, jitter = 0, max_jitter = 0, mean_jitter = 0, max_delta = 0, mean_delta = 0;
  int64_t ext_ts = 0;  // last extended timestamp (in-band DTMF positions, intervals)
  uint64_t total = 0;
  int last_pt = -1;

  // For the E-model: the packet interval, and an RFC 3550 jitter that, unlike tshark's,
  // restarts at a discontinuity (marker, timestamp jump, gap over a second) instead of
  // carrying it, since a jitter buffer resynchronises there too.
  int64_t last_audio_seq = -1, last_audio_ts = 0, last_audio_ns = 0;
  uint32_t interval_samples = 0, interval_clock = 8000;
  double voice_jitter = 0, max_voice_jitter = 0;

  PendingEvent event;

  // In-band DTMF.
  std::unique_ptr<media::DtmfDetector> detector;
  int64_t audio_base_ts = 0;
  struct Fed {
    int64_t position = 0, time_ns = 0;
  };
  std::array<Fed, 16> fed{};
  size_t fed_next = 0, fed_count = 0;
};

struct Candidate {
  uint32_t ssrc = 0;
  uint16_t seq = 0;
  std::string datagram;
  Payload payload;  // bytes point into `datagram`
};

struct SenderReportSeen {
  uint64_t frame = 0;
  int64_t time_ns = 0;
  uint32_t lsr = 0;
};

int64_t extendTimestamp(int64_t previous, uint32_t ts) {
  int64_t t = (previous & ~int64_t(0xffffffff)) | int64_t(ts);
  if (t + 0x80000000LL < previous) {
    t += 0x100000000LL;
  } else if (previous + 0x80000000LL < t) {
    t -= 0x100000000LL;
  }
  return t;
}

// tshark's round trip from LSR/DLSR (packet-rtcp.c): whole milliseconds between the two
// capture times, seconds and nanoseconds subtracted apart, less DLSR in whole milliseconds.
double tsharkRoundTrip(int64_t sr_ns, int64_t now_ns, uint32_t dlsr) {
  auto split = [](int64_t ns) {
    int64_t s = ns / kSecond, n = ns % kSecond;
    if (n < 0) n += kSecond, --s;
    return std::pair<int64_t, int64_t>(s, n);
  };
  const auto [s1, n1] = split(sr_ns);
  const auto [s2, n2] = split(now_ns);
  const int64_t gap = (s2 - s1) * 1000 + (n2 - n1) / 1'000'000;  // C division: toward zero
  const int64_t dlsr_ms = int64_t(double(dlsr) / 65536.0 * 1000.0);
  return double(gap - dlsr_ms);
}

}  // namespace

struct RtpAnalyzer::Impl {
  explicit Impl(RtpOptions o) : options(std::move(o)) {}

  RtpOptions options;
  std::unordered_map<Endpoint, std::unique_ptr<BindingEntry>, EndpointHash> bindings;
  uint64_t insertions = 0;
  std::unordered_map<StreamKey, Stream, StreamKeyHash> streams;
  // The streams a sweep has to look at: those that carried packets since they went idle.
  // A capture of hours holds thousands of finished streams; sweeping them all every 5 s
  // of capture time cost more than their packets did.
  std::vector<Stream*> active;
  uint64_t next_order = 0;
  std::unordered_map<FlowKey, Candidate, FlowKeyHash> candidates;
  std::unordered_map<FlowKey, uint32_t, FlowKeyHash> flow_streams;
  std::unordered_map<FlowKey, SenderReportSeen, FlowKeyHash> sender_reports;
  std::vector<RtcpPacketReport> rtcp;
  std::vector<DtmfEvent> dtmf;
  int64_t now_ns = 0, last_sweep_ns = 0;
  uint64_t sweeps = 0;
  bool seen_any = false;
  uint64_t rtp_packets = 0, rtcp_packets = 0, malformed = 0, other_events = 0, dropped = 0;

  BindingEntry* lookup(const Endpoint& e) {
    auto it = bindings.find(e);
    return it == bindings.end() ? nullptr : it->second.get();
  }

  void bind(const Endpoint& e, MediaBinding b) {
    auto& slot = bindings[e];
    if (!slot) {
      slot = std::make_unique<BindingEntry>();
      ++insertions;
    }
    slot->binding = std::move(b);
    ++slot->version;
    slot->touched = sweeps;
  }

  // Points the stream at its binding: the destination's, else the source's.
  void resolve(Stream& s) {
    BindingEntry* b = lookup(s.key.dst);
    s.by_dst = b != nullptr;
    if (!b) b = lookup(s.key.src);
    if (b != s.binding) {
      if (s.binding) {
        --s.binding->streams;
        s.binding->touched = sweeps;
      }
      if (b) ++b->streams;
      s.binding = b;
    }
    s.ever_bound |= b != nullptr;
    s.insertions_seen = insertions;
    s.looked_up_ns = now_ns;
    refresh(s);
  }

  void refresh(Stream& s) {
    s.binding_version = s.binding ? s.binding->version : 0;
    s.taken = !s.binding || s.binding->binding.rtp;
    if (s.binding && s.call_id != s.binding->binding.call_id)
      s.call_id = s.binding->binding.call_id;
    s.type.pt = -1;  // re-read the payload type's meaning
  }

  void release(Stream& s) {
    if (!s.binding) return;
    --s.binding->streams;
    s.binding->touched = sweeps;
    s.binding = nullptr;
    s.binding_version = 0;
    s.by_dst = false;
    s.insertions_seen = ~uint64_t(0);  // look again if the stream comes back
  }

  TypeInfo typeInfo(const Stream& s, int pt) const {
    TypeInfo t;
    t.pt = pt;
    const MediaBinding* b = s.binding ? &s.binding->binding : nullptr;
    const std::string* name = nullptr;
    uint32_t rate = 0;
    if (b) {
      // A bare number is a format listed in m= without an rtpmap: nothing names it.
      if (auto it = b->encodings.find(pt); it != b->encodings.end() && !isNumber(it->second)) {
        name = &it->second;
      }
      if (auto it = b->clock_rates.find(pt); it != b->clock_rates.end()) rate = it->second;
    }
    if (pt < 96) {
      const StaticType st = staticType(pt);
      t.clock = st.clock;
      t.ulaw = pt == 0;
      t.alaw = pt == 8;
      t.audio = pt != 13 && pt != 19;
      // An rtpmap may give a static type to an event (seen with some gateways).
      if (name && iequals(*name, "telephone-event")) t.event = true, t.audio = false;
      return t;
    }
    if (name) {
      if (istartsWith(*name, "telephone-event")) {
        t.event = true;
        t.event_clock = rate ? rate : 8000;
      } else {
        t.clock = rate ? rate : dynamicClock(*name);
        t.ulaw = iequals(*name, "PCMU");
        t.alaw = iequals(*name, "PCMA");
        t.audio = !iequals(*name, "CN");
      }
      return t;
    }
    // Nothing names it: tshark decodes 101 as telephone-event by its default preference.
    t.event = pt == 101;
    t.unnamed = pt != 101;
    return t;
  }

  std::string codecName(const Stream& s, int pt) const {
    if (pt < 0) return "";
    if (pt < 96) {
      if (*staticType(pt).name) return staticType(pt).name;
    }
    if (s.binding) {
      const auto& enc = s.binding->binding.encodings;
      if (auto it = enc.find(pt); it != enc.end() && !isNumber(it->second)) return it->second;
    }
    if (pt == 101) return "telephone-event";
    return "";
  }

  // ---- RTP ----

  bool onRtp(const Payload& p) {
    media::RtpPacket rtp;
    if (!media::tryParseRtp(p.bytes, rtp)) return false;
    auto it = streams.find(StreamKey{p.src, p.dst, rtp.ssrc});
    if (it != streams.end()) {
      Stream& s = it->second;
      activate(s);
      if (s.binding && s.binding->version != s.binding_version) refresh(s);
      if (!s.by_dst && s.insertions_seen != insertions &&
          now_ns - s.looked_up_ns >= kRebindEveryNs) {
        resolve(s);
      }
      if (!s.taken) return false;
      process(s, rtp, p);
      return true;
    }
    return onNewFlow(rtp, p);
  }

  Stream& newStream(const Payload& p, uint32_t ssrc) {
    ++flow_streams[FlowKey{p.src, p.dst}];
    StreamKey key{p.src, p.dst, ssrc};
    Stream& s = streams[key];
    s.key = key;
    s.order = next_order++;
    activate(s);
    resolve(s);
    return s;
  }

  bool onNewFlow(const media::RtpPacket& rtp, const Payload& p) {
    BindingEntry* b = lookup(p.dst);
    if (!b) b = lookup(p.src);
    const FlowKey flow{p.src, p.dst};
    if (b) {
      if (!b->binding.rtp) return false;
      auto n = flow_streams.find(flow);
      if (n == flow_streams.end() || n->second < kStreamsPerFlow) {
        Stream& s = newStream(p, rtp.ssrc);
        process(s, rtp, p);
        return true;
      }
    } else if (p.dst.port % 2 != 0 || p.dst.port < 1024 || p.src.port < 1024) {
      // Heuristic, as tshark's rtp_udp: to an even port. Well-known ports are other protocols.
      return false;
    }
    auto c = candidates.find(flow);
    if (c != candidates.end() && c->second.ssrc == rtp.ssrc &&
        std::abs(int(int16_t(uint16_t(rtp.sequence - c->second.seq)))) <= 64) {
      Candidate first = std::move(c->second);
      candidates.erase(c);
      first.payload.bytes = first.datagram;
      media::RtpPacket first_rtp;
      if (!media::tryParseRtp(first.payload.bytes, first_rtp)) return false;
      Stream& s = newStream(p, rtp.ssrc);
      const int64_t now = now_ns;
      now_ns = first.payload.time_ns;
      process(s, first_rtp, first.payload);
      now_ns = now;
      process(s, rtp, p);
      return true;
    }
    if (candidates.size() >= kMaxCandidates) candidates.clear();
    Candidate& slot = candidates[flow];
    slot.ssrc = rtp.ssrc;
    slot.seq = rtp.sequence;
    slot.datagram.assign(p.bytes);
    slot.payload = p;
    slot.payload.bytes = slot.datagram;
    return false;
  }

  void process(Stream& s, const media::RtpPacket& rtp, const Payload& p) {
    ++rtp_packets;
    const int64_t t = p.time_ns;
    const int pt = rtp.payload_type;
    const bool first = s.packets++ == 0;
    if (first) {
      s.start_ns = t;
      s.first_pt = pt;
    }
    s.end_ns = t;
    if (!(s.pt_seen[size_t(pt) >> 6] & (uint64_t(1) << (pt & 63)))) {
      s.pt_seen[size_t(pt) >> 6] |= uint64_t(1) << (pt & 63);
      s.payload_types.push_back(pt);
    }
    if (s.type.pt != pt) s.type = typeInfo(s, pt);
    const TypeInfo& type = s.type;

    const int64_t seq = trackSequence(s, rtp.sequence, first);
    s.ext_ts =
        first ? (int64_t(1) << 32) + rtp.timestamp : extendTimestamp(s.ext_ts, rtp.timestamp);
    analyse(s, t, rtp.timestamp, pt, rtp.marker, type.clock, first);

    if (type.audio && type.clock) voiceJitter(s, seq, t, type.clock, rtp.marker);

    if (type.event || (type.unnamed && looksLikeDtmfEvent(rtp.payload))) {
      onEvent(s, rtp, t, type.event_clock);
    } else if ((type.ulaw || type.alaw) && options.inband_dtmf && !rtp.payload.empty()) {
      feedInband(s, rtp.payload, type.ulaw, t);
    }
  }

  static void voiceJitter(Stream& s, int64_t seq, int64_t t, uint32_t clock, bool marker) {
    if (s.last_audio_seq >= 0 && seq > s.last_audio_seq) {
      const int64_t ticks = s.ext_ts - s.last_audio_ts;
      const double d = double(t - s.last_audio_ns) / 1e6 - double(ticks) * 1000.0 / clock;
      if (marker || ticks <= 0 || std::fabs(d) > 1000.0) {
        s.voice_jitter = 0;
      } else {
        s.voice_jitter += (std::fabs(d) - s.voice_jitter) / 16;
        s.max_voice_jitter = std::max(s.max_voice_jitter, s.voice_jitter);
        if (seq == s.last_audio_seq + 1 && ticks <= int64_t(clock)) {
          s.interval_samples = uint32_t(ticks);
          s.interval_clock = clock;
        }
      }
    }
    if (seq > s.last_audio_seq) {
      s.last_audio_seq = seq;
      s.last_audio_ts = s.ext_ts;
      s.last_audio_ns = t;
    }
  }

  // Returns the extended sequence number; counts distinct, duplicate and late packets.
  static int64_t trackSequence(Stream& s, uint16_t seq, bool first) {
    auto bit = [&](int64_t e) -> uint64_t& { return s.seen[size_t(e % kSeqWindow) >> 6]; };
    auto mask = [](int64_t e) { return uint64_t(1) << ((e % kSeqWindow) & 63); };
    if (first) {
      s.max_seq = s.min_seq = (int64_t(1) << 32) + seq;  // room to go below the first
      s.distinct = 1;
      bit(s.max_seq) |= mask(s.max_seq);
      return s.max_seq;
    }
    const int64_t e = s.max_seq + int16_t(uint16_t(seq - uint16_t(s.max_seq)));
    if (e > s.max_seq) {
      if (e - s.max_seq >= kSeqWindow) {
        s.seen.fill(0);
      } else {
        for (int64_t k = s.max_seq + 1; k <= e; ++k) bit(k) &= ~mask(k);
      }
      s.max_seq = e;
      bit(e) |= mask(e);
      ++s.distinct;
      return e;
    }
    if (s.max_seq - e < kSeqWindow) {
      if (bit(e) & mask(e)) {
        ++s.duplicates;
        return e;
      }
      bit(e) |= mask(e);
    }
    ++s.distinct;
    ++s.out_of_order;
    s.min_seq = std::min(s.min_seq, e);
    return e;
  }

  // tshark 4.0 rtppacket_analyse (ui/tap-rtp-analysis.c), which the figures must match:
  //  - a packet is in time sequence when its timestamp is 0 to 2^31 ticks after the
  //    stream's first (so not after a timestamp reset, nor after a 32-bit wrap);
  //  - only those update the jitter (RFC 3550 J += (|D| - J) / 16, D against the last
  //    packet in sequence that had a clock), the delta and the reference time;
  //  - the maxima and the running means (over the packet count so far) take only regular
  //    packets: in time sequence, no marker, not comfort noise (13, 19), not right after it;
  //  - the clock is the static type's, else the rtpmap's; none (no jitter) for events and
  //    for dynamic types nothing names. tshark divides by clock/1000 in integers.
  static void analyse(Stream& s, int64_t t_ns, uint32_t ts, int pt, bool marker, uint32_t clock,
                      bool first) {
    const double now = double(t_ns - s.start_ns) / 1e6;
    if (first) {
      s.first_ts = ts;
      s.time_ms = now;
      s.last_nominal = 0;
      s.last_pt = pt;
      s.total = 1;
      return;
    }
    const bool in_sequence = s.first_ts <= ts && int64_t(ts) - int64_t(s.first_ts) < 0x80000000LL;
    const bool cn = pt == 13 || pt == 19;
    const bool after_cn = s.last_pt == 13 || s.last_pt == 19;
    s.last_pt = pt;
    const uint32_t per_ms = clock / 1000;
    double current_jitter = 0;
    if (in_sequence) {
      if (per_ms != 0) {
        const double nominal = double(ts - s.first_ts) / double(per_ms);
        const double diff = std::fabs(now - (s.time_ms + (nominal - s.last_nominal)));
        current_jitter = (15 * s.jitter + diff) / 16;
        s.jitter = current_jitter;
        s.last_nominal = nominal;
      }
      s.delta = now - s.time_ms;
    }
    if (in_sequence && !marker && !cn && !after_cn) {
      const double n = double(s.total);
      s.max_delta = std::max(s.max_delta, s.delta);
      s.mean_delta = (s.mean_delta * (n - 1) + s.delta) / n;
      if (per_ms != 0) {
        s.max_jitter = std::max(s.max_jitter, s.jitter);
        s.mean_jitter = (s.mean_jitter * (n - 1) + current_jitter) / n;
      }
    }
    if (in_sequence) s.time_ms = now;
    ++s.total;
  }

  // ---- RFC 4733 ----

  void onEvent(Stream& s, const media::RtpPacket& rtp, int64_t t, uint32_t clock) {
    if (rtp.payload.size() < 4) return;
    const int event = uint8_t(rtp.payload[0]);
    const uint32_t duration = media::load16(rtp.payload.data() + 2);
    PendingEvent& e = s.event;
    if (!e.active || e.timestamp != rtp.timestamp || e.event != event) {
      if (e.active) emitEvent(s);
      e = PendingEvent{true, rtp.timestamp, event, t, duration, clock};
      return;
    }
    e.duration = std::max(e.duration, duration);  // end packets repeat the final duration
  }

  void emitEvent(Stream& s) {
    PendingEvent& e = s.event;
    if (!e.active) return;
    e.active = false;
    const char digit = dtmfDigit(e.event);
    if (!digit) {
      ++other_events;
      if (!options.report_other_events) return;
    }
    DtmfEvent d;
    d.digit = digit ? digit : 'X';
    d.event_id = e.event;
    d.source = "rfc4733";
    d.time_ns = e.start_ns;
    d.duration_ms = double(e.duration) * 1000.0 / double(e.clock ? e.clock : 8000);
    d.ssrc = s.key.ssrc;
    d.call_id = s.call_id;
    addDtmf(std::move(d));
  }

  void addDtmf(DtmfEvent&& e) {
    if (dtmf.size() >= kMaxDtmfEvents) {
      ++dropped;
      return;
    }
    dtmf.push_back(std::move(e));
  }

  // ---- in-band DTMF ----

  void feedInband(Stream& s, std::string_view payload, bool ulaw, int64_t t) {
    if (!s.detector) {
      s.detector = std::make_unique<media::DtmfDetector>();
      if (s.fed_count == 0) s.audio_base_ts = s.ext_ts;
    }
    int64_t position = s.ext_ts - s.audio_base_ts;
    s.fed[s.fed_next] = {position, t};
    s.fed_next = (s.fed_next + 1) % s.fed.size();
    s.fed_count = std::min(s.fed_count + 1, s.fed.size());
    int16_t pcm[512];
    while (!payload.empty()) {
      const size_t n = std::min(payload.size(), std::size(pcm));
      if (ulaw) {
        media::decodeUlaw(payload.substr(0, n), pcm);
      } else {
        media::decodeAlaw(payload.substr(0, n), pcm);
      }
      s.detector->feed(position, pcm, n);
      position += int64_t(n);
      payload.remove_prefix(n);
    }
    if (s.detector->hasDigits()) collectInband(s);
  }

  // The arrival of the packet that carried sample `position`, from the last packets fed.
  static int64_t timeOfSample(const Stream& s, int64_t position) {
    const Stream::Fed* best = nullptr;
    const Stream::Fed* oldest = nullptr;
    for (size_t i = 0; i < s.fed_count; ++i) {
      const Stream::Fed& f = s.fed[i];
      if (f.position <= position && (!best || f.position > best->position)) best = &f;
      if (!oldest || f.position < oldest->position) oldest = &f;
    }
    if (best) return best->time_ns;
    if (!oldest) return s.end_ns;
    return oldest->time_ns - (oldest->position - position) * kSecond / 8000;
  }

  void collectInband(Stream& s) {
    for (const media::DtmfDigit& d : s.detector->takeDigits()) {
      DtmfEvent e;
      e.digit = d.digit;
      e.source = "inband";
      e.time_ns = timeOfSample(s, d.start);
      e.duration_ms = double(d.duration) / 8.0;
      e.ssrc = s.key.ssrc;
      e.call_id = s.call_id;
      addDtmf(std::move(e));
    }
  }

  void closeDetector(Stream& s) {
    if (!s.detector) return;
    s.detector->finish();
    collectInband(s);
    s.detector.reset();
  }

  // ---- RTCP ----

  // The binding an RTCP datagram belongs to: RTP port below it, or the port itself (mux).
  BindingEntry* rtcpBinding(const Payload& p) {
    for (const Endpoint* e : {&p.dst, &p.src}) {
      if (e->port > 0) {
        Endpoint rtp = *e;
        rtp.port = uint16_t(e->port - 1);
        if (BindingEntry* b = lookup(rtp)) return b;
      }
      if (BindingEntry* b = lookup(*e)) return b;
    }
    return nullptr;
  }

  bool onRtcp(const Payload& p) {
    BindingEntry* b = rtcpBinding(p);
    if (b && !b->binding.rtp) return false;
    if (!b) {
      // tshark's rtcp_udp heuristic: to an odd port, a report, BYE, APP or PSFB first.
      const uint8_t first = uint8_t(p.bytes[1]);
      const bool report = first == media::kRtcpSr || first == media::kRtcpRr ||
                          first == media::kRtcpBye || first == media::kRtcpApp ||
                          first == media::kRtcpPsfb;
      if (p.dst.port % 2 == 0 || p.dst.port < 1024 || p.src.port < 1024 || !report ||
          !media::looksLikeRtcp(p.bytes)) {
        return false;
      }
    }
    auto parsed = media::parseRtcp(p.bytes);
    if (!parsed) {
      ++malformed;
      return false;
    }
    ++rtcp_packets;
    RtcpPacketReport r;
    r.frame = p.frame;
    r.time_ns = p.time_ns;
    r.src = p.src;
    r.dst = p.dst;
    if (b) r.call_id = b->binding.call_id;
    const media::RtcpPacket* head = nullptr;
    for (const media::RtcpPacket& pkt : parsed->packets) {
      if (!head && (pkt.type == media::kRtcpSr || pkt.type == media::kRtcpRr)) head = &pkt;
    }
    if (!head) head = &parsed->packets.front();
    r.packet_type = head->type;
    r.sender_ssrc = head->ssrc;
    for (const media::RtcpPacket& pkt : parsed->packets) {
      if (pkt.type == media::kRtcpSr && pkt.sender) {
        // Remembered on the direction it travelled; the answer comes the other way.
        if (sender_reports.size() >= kMaxSenderReports) sender_reports.clear();
        sender_reports[FlowKey{p.src, p.dst}] = {p.frame, p.time_ns, pkt.sender->ntpMiddle()};
      }
      for (const media::RtcpReportBlock& blk : pkt.blocks) {
        r.blocks.push_back({blk.ssrc, blk.fraction_lost, blk.cumulative_lost, blk.highest_seq,
                            blk.jitter, blk.lsr, blk.dlsr});
        if (r.round_trip_ms || blk.lsr == 0) continue;
        auto sr = sender_reports.find(FlowKey{p.dst, p.src});
        if (sr != sender_reports.end() && sr->second.lsr == blk.lsr && sr->second.frame < p.frame) {
          r.round_trip_ms = tsharkRoundTrip(sr->second.time_ns, p.time_ns, blk.dlsr);
        }
      }
    }
    if (rtcp.size() < kMaxRtcpReports) {
      rtcp.push_back(std::move(r));
    } else {
      ++dropped;
    }
    return true;
  }

  // ---- housekeeping ----

  void activate(Stream& s) {
    if (s.in_active) return;
    s.in_active = true;
    active.push_back(&s);
  }

  void sweep() {
    last_sweep_ns = now_ns;
    ++sweeps;
    for (size_t i = 0; i < active.size();) {
      Stream& s = *active[i];
      const int64_t idle = now_ns - s.end_ns;
      if (idle > kDetectorIdleNs) closeDetector(s);
      if (idle > options.media_timeout_ns) {
        emitEvent(s);
        release(s);
      }
      if (idle > kDetectorIdleNs && idle > options.media_timeout_ns) {
        s.in_active = false;
        active[i] = active.back();
        active.pop_back();
      } else {
        ++i;
      }
    }
    for (auto it = bindings.begin(); it != bindings.end();) {
      const BindingEntry& b = *it->second;
      if (b.streams == 0 && sweeps - b.touched > kBindingIdleSweeps) {
        it = bindings.erase(it);
      } else {
        ++it;
      }
    }
  }

  RtpStreamReport report(Stream& s) const {
    RtpStreamReport r;
    r.ssrc = s.key.ssrc;
    r.src = s.key.src;
    r.dst = s.key.dst;
    r.payload_type = s.first_pt;
    r.payload_types = s.payload_types;
    r.codec = codecName(s, s.first_pt);
    r.packets = s.packets;
    r.expected = s.max_seq - s.min_seq + 1;
    r.lost = std::max<int64_t>(0, r.expected - int64_t(s.distinct));
    r.duplicates = s.duplicates;
    r.out_of_order = s.out_of_order;
    r.max_jitter_ms = s.max_jitter;
    r.mean_jitter_ms = s.mean_jitter;
    r.max_delta_ms = s.max_delta;
    r.start_ns = s.start_ns;
    r.end_ns = s.end_ns;
    r.call_id = s.call_id;
    r.from_sdp = s.ever_bound;
    // MOS: the first payload type the E-model knows (a stream may open with CN or an event).
    for (int pt : s.payload_types) {
      const auto codec = codecImpairment(codecName(s, pt), options.g711_plc);
      if (!codec) continue;
      const double interval_ms =
          s.interval_samples ? double(s.interval_samples) * 1000.0 / s.interval_clock : 20.0;
      EModelInput in;
      in.ie = codec->ie;
      in.bpl = codec->bpl;
      in.loss_percent = r.expected > 0 ? 100.0 * double(r.lost) / double(r.expected) : 0;
      in.one_way_delay_ms = interval_ms + 2 * s.max_voice_jitter;  // packetisation + jitter buffer
      r.mos = mosFromR(rFactor(in));
      break;
    }
    return r;
  }

  void finish(Report& out) {
    std::vector<Stream*> ordered;
    ordered.reserve(streams.size());
    for (auto& [key, s] : streams) ordered.push_back(&s);
    std::sort(ordered.begin(), ordered.end(),
              [](const Stream* a, const Stream* b) { return a->order < b->order; });
    for (Stream* s : ordered) {
      emitEvent(*s);
      closeDetector(*s);
      out.rtp_streams.push_back(report(*s));
    }
    std::move(rtcp.begin(), rtcp.end(), std::back_inserter(out.rtcp));
    rtcp.clear();
    std::stable_sort(dtmf.begin(), dtmf.end(),
                     [](const DtmfEvent& a, const DtmfEvent& b) { return a.time_ns < b.time_ns; });
    std::move(dtmf.begin(), dtmf.end(), std::back_inserter(out.dtmf));
    dtmf.clear();
  }
};

RtpAnalyzer::RtpAnalyzer(RtpOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
RtpAnalyzer::~RtpAnalyzer() = default;

void RtpAnalyzer::bindMedia(const Endpoint& endpoint, MediaBinding binding) {
  impl_->bind(endpoint, std::move(binding));
}

bool RtpAnalyzer::onDatagram(const Payload& p) {
  if (p.transport != Transport::kUdp || p.bytes.size() < 4) return false;
  Impl& m = *impl_;
  m.now_ns = p.time_ns;
  if (!m.seen_any) {
    m.seen_any = true;
    m.last_sweep_ns = p.time_ns;
  }
  if (p.time_ns - m.last_sweep_ns > kSweepEveryNs) m.sweep();
  if ((uint8_t(p.bytes[0]) >> 6) != 2) return false;  // neither RTP nor RTCP
  if (media::isRtcpPacketType(uint8_t(p.bytes[1]))) return m.onRtcp(p);
  return m.onRtp(p);
}

void RtpAnalyzer::finish(Report& report) {
  impl_->finish(report);
}

uint64_t RtpAnalyzer::rtpPackets() const {
  return impl_->rtp_packets;
}
uint64_t RtpAnalyzer::rtcpPackets() const {
  return impl_->rtcp_packets;
}
uint64_t RtpAnalyzer::malformed() const {
  return impl_->malformed;
}
uint64_t RtpAnalyzer::otherEvents() const {
  return impl_->other_events;
}
uint64_t RtpAnalyzer::dropped() const {
  return impl_->dropped;
}

}  // namespace capture
