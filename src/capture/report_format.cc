#include "capture/report_format.h"

#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <type_traits>
#include <vector>

namespace capture {
namespace {

// A JSON writer straight into a string: the report of a large capture holds hundreds of
// thousands of SIP messages, and a document tree of them would cost more memory than the
// analysis itself.
class JsonOut {
 public:
  explicit JsonOut(std::string& out) : out_(out) {}

  JsonOut& begin(char bracket) {
    comma();
    out_ += bracket;
    first_ = true;
    return *this;
  }
  JsonOut& end(char bracket) {
    out_ += bracket;
    first_ = false;
    return *this;
  }
  JsonOut& key(std::string_view k) {
    comma();
    string(k);
    out_ += ':';
    first_ = true;  // the value follows without a comma
    return *this;
  }
  JsonOut& value(std::string_view v) {
    comma();
    string(v);
    return *this;
  }
  JsonOut& value(const char* v) { return value(std::string_view(v)); }
  JsonOut& value(bool v) {
    comma();
    out_ += v ? "true" : "false";
    return *this;
  }
  JsonOut& value(double v) {
    comma();
    if (!std::isfinite(v)) {
      out_ += "null";
      return *this;
    }
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, ec == std::errc() ? end : buf);
    return *this;
  }
  template <typename T>
  requires std::is_integral_v<T> JsonOut& value(T v) {
    comma();
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, ec == std::errc() ? end : buf);
    return *this;
  }
  JsonOut& null() {
    comma();
    out_ += "null";
    return *this;
  }
  JsonOut& value(const std::optional<double>& v) { return v ? value(*v) : null(); }
  template <typename T>
  JsonOut& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }
  template <typename T>
  JsonOut& list(std::string_view k, const std::vector<T>& items) {
    key(k).begin('[');
    for (const T& item : items) value(item);
    return end(']');
  }

 private:
  void comma() {
    if (!first_) out_ += ',';
    first_ = false;
  }
  void string(std::string_view s) {
    static const char kHex[] = "0123456789abcdef";
    out_ += '"';
    for (size_t i = 0; i < s.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(s[i]);
      if (c == '"' || c == '\\') {
        out_ += '\\';
        out_ += char(c);
      } else if (c < 0x20 || c == 0x7f) {
        out_ += "\\u00";
        out_ += kHex[c >> 4];
        out_ += kHex[c & 15];
      } else if (c < 0x80) {
        out_ += char(c);
      } else {
        // Keep valid UTF-8, replace anything else (captures carry arbitrary octets).
        size_t len = c >= 0xF0 && c < 0xF5 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
        bool ok = len > 0 && i + len <= s.size();
        for (size_t k = 1; ok && k < len; ++k)
          ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
        if (ok) {
          out_.append(s.substr(i, len));
          i += len - 1;
        } else {
          out_ += "\\ufffd";
        }
      }
    }
    out_ += '"';
  }

  std::string& out_;
  bool first_ = true;
};

// Seconds since the first frame, rounded to the microsecond (tshark's time_relative).
double relative(const Report& r, int64_t ns) {
  return double((ns - r.first_ns) / 1000) / 1e6;
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08" PRIX32, v);
  return buf;
}

std::string digitText(char d) {
  return d ? std::string(1, d) : std::string();
}

}  // namespace

std::string toJson(const Report& r) {
  std::string text;
  JsonOut j(text);
  j.begin('{');
  j.field("file", r.file).field("frames", r.frames).field("bytes", r.bytes);
  j.field("start", double(r.first_ns / 1000) / 1e6);
  j.field("duration", double((r.last_ns - r.first_ns) / 1000) / 1e6);
  j.key("calls").begin('[');
  for (const CallReport& c : r.calls) {
    j.begin('{');
    j.field("call_id", c.call_id).field("method", c.method).field("from", c.from).field("to", c.to);
    j.field("start", relative(r, c.start_ns)).field("end", relative(r, c.end_ns));
    j.field("final_status", c.final_status).field("final_reason", c.final_reason);
    j.key("messages").begin('[');
    for (const SipMessageRecord& m : c.messages) {
      j.begin('{')
          .field("frame", m.frame)
          .field("time", relative(r, m.time_ns))
          .field("src", m.src.toString())
          .field("dst", m.dst.toString())
          .field("transport", transportName(m.transport))
          .field("method", m.method)
          .field("status", m.status)
          .field("reason", m.reason)
          .field("cseq", m.cseq)
          .field("retransmission", m.retransmission)
          .end('}');
    }
    j.end(']');
    j.field("post_dial_delay_ms", c.post_dial_delay_ms).field("setup_ms", c.setup_ms);
    j.field("duration_ms", c.duration_ms).field("hangup_by", c.hangup_by);
    j.field("auth_challenges", c.auth_challenges).field("retransmissions", c.retransmissions);
    j.field("ack_timeout", c.ack_timeout).field("media_timeout", c.media_timeout);
    j.field("one_way_audio", c.one_way_audio).field("cancelled", c.cancelled);
    j.field("reinvites", c.reinvites);
    j.list("codecs", c.codecs).list("offered_codecs", c.offered_codecs);
    j.list("answered_codecs", c.answered_codecs);
    j.key("codec_changes").begin('[');
    for (const CodecChange& ch : c.codec_changes) {
      j.begin('{')
          .field("time", relative(r, ch.time_ns))
          .field("from", ch.from)
          .field("to", ch.to)
          .field("reason", ch.reason)
          .end('}');
    }
    j.end(']');
    j.key("refused_codec");
    if (c.refused_codec) {
      j.value(*c.refused_codec);
    } else {
      j.null();
    }
    j.end('}');
  }
  j.end(']');
  j.key("rtp_streams").begin('[');
  for (const RtpStreamReport& s : r.rtp_streams) {
    j.begin('{')
        .field("ssrc", s.ssrc)
        .field("ssrc_hex", hex32(s.ssrc))
        .field("src", s.src.toString())
        .field("dst", s.dst.toString())
        .field("payload_type", s.payload_type)
        .list("payload_types", s.payload_types)
        .field("codec", s.codec)
        .field("packets", s.packets)
        .field("expected", s.expected)
        .field("lost", s.lost)
        .field("duplicates", s.duplicates)
        .field("out_of_order", s.out_of_order)
        .field("max_jitter_ms", s.max_jitter_ms)
        .field("mean_jitter_ms", s.mean_jitter_ms)
        .field("max_delta_ms", s.max_delta_ms)
        .field("start", relative(r, s.start_ns))
        .field("end", relative(r, s.end_ns))
        .field("call_id", s.call_id)
        .field("from_sdp", s.from_sdp)
        .field("mos", s.mos)
        .end('}');
  }
  j.end(']');
  j.key("rtcp").begin('[');
  for (const RtcpPacketReport& p : r.rtcp) {
    j.begin('{')
        .field("frame", p.frame)
        .field("time", relative(r, p.time_ns))
        .field("src", p.src.toString())
        .field("dst", p.dst.toString())
        .field("packet_type", p.packet_type)
        .field("sender_ssrc", p.sender_ssrc);
    j.key("blocks").begin('[');
    for (const RtcpReportBlock& b : p.blocks) {
      j.begin('{')
          .field("ssrc", b.ssrc)
          .field("fraction_lost", b.fraction_lost)
          .field("cumulative_lost", b.cumulative_lost)
          .field("highest_seq", b.highest_seq)
          .field("jitter", b.jitter)
          .field("lsr", b.lsr)
          .field("dlsr", b.dlsr)
          .end('}');
    }
    j.end(']');
    j.field("round_trip_ms", p.round_trip_ms).field("call_id", p.call_id).end('}');
  }
  j.end(']');
  j.key("dtmf").begin('[');
  for (const DtmfEvent& d : r.dtmf) {
    j.begin('{')
        .field("digit", digitText(d.digit))
        .field("event_id", d.event_id)
        .field("source", d.source)
        .field("time", relative(r, d.time_ns))
        .field("duration_ms", d.duration_ms)
        .field("ssrc", d.ssrc)
        .field("call_id", d.call_id)
        .end('}');
  }
  j.end(']');
  j.key("counters")
      .begin('{')
      .field("undecodable_frames", r.undecodable_frames)
      .field("sip_parse_errors", r.sip_parse_errors)
      .end('}');
  j.key("error");
  if (r.error) {
    j.begin('{')
        .field("offset", r.error->offset)
        .field("frame", r.error->frame)
        .field("reason", r.error->reason)
        .end('}');
  } else {
    j.null();
  }
  j.end('}');
  return text;
}

void writeText(const Report& r, std::ostream& out) {
  char line[512];
  std::snprintf(line, sizeof line, "%s: %" PRIu64 " frames, %.3f s, %zu calls, %zu RTP streams\n",
                r.file.c_str(), r.frames, double(r.last_ns - r.first_ns) / 1e9, r.calls.size(),
                r.rtp_streams.size());
  out << line;
  std::map<std::string, std::vector<const RtpStreamReport*>> by_call;
  for (const RtpStreamReport& s : r.rtp_streams) by_call[s.call_id].push_back(&s);
  auto stream_line = [&](const RtpStreamReport& s) {
    std::snprintf(
        line, sizeof line,
        "    rtp %s %s -> %s %s: %" PRIu64 " pkts, lost %" PRId64
        ", jitter max %.3f mean %.3f ms, max delta %.1f ms%s\n",
        hex32(s.ssrc).c_str(), s.src.toString().c_str(), s.dst.toString().c_str(),
        s.codec.empty() ? ("PT " + std::to_string(s.payload_type)).c_str() : s.codec.c_str(),
        s.packets, s.lost, s.max_jitter_ms, s.mean_jitter_ms, s.max_delta_ms,
        s.mos ? (", MOS " + std::to_string(*s.mos).substr(0, 4)).c_str() : "");
    out << line;
  };
  for (const CallReport& c : r.calls) {
    std::string status = c.final_status ? std::to_string(c.final_status) + " " + c.final_reason
                                        : std::string("no final response");
    out << "\n" << c.method << " " << c.call_id << "  " << c.from << " -> " << c.to << "\n";
    std::snprintf(line, sizeof line, "  final %s; %zu messages, %d retransmitted, %d challenges\n",
                  status.c_str(), c.messages.size(), c.retransmissions, c.auth_challenges);
    out << line;
    std::string timing;
    if (c.post_dial_delay_ms)
      timing += " pdd " + std::to_string(int64_t(*c.post_dial_delay_ms)) + " ms";
    if (c.setup_ms) timing += " setup " + std::to_string(int64_t(*c.setup_ms)) + " ms";
    if (c.duration_ms) timing += " duration " + std::to_string(int64_t(*c.duration_ms)) + " ms";
    if (!c.hangup_by.empty()) timing += " (" + c.hangup_by + " hung up)";
    if (!timing.empty()) out << " " << timing << "\n";
    std::string flags;
    if (c.cancelled) flags += " CANCELLED";
    if (c.ack_timeout) flags += " ACK-TIMEOUT";
    if (c.media_timeout) flags += " MEDIA-TIMEOUT";
    if (c.one_way_audio) flags += " ONE-WAY-AUDIO";
    if (c.reinvites) flags += " re-INVITEs:" + std::to_string(c.reinvites);
    if (!flags.empty()) out << " " << flags << "\n";
    if (!c.codecs.empty()) {
      out << "  codecs:";
      for (const auto& codec : c.codecs) out << " " << codec;
      out << "\n";
    }
    for (const CodecChange& ch : c.codec_changes)
      out << "  codec change " << ch.from << " -> " << ch.to << " (" << ch.reason << ")\n";
    if (c.refused_codec) out << "  488 refused an offer of " << *c.refused_codec << "\n";
    for (const RtpStreamReport* s : by_call[c.call_id]) stream_line(*s);
    size_t rtcp_packets = 0;
    std::optional<double> rtt_min, rtt_max;
    for (const RtcpPacketReport& p : r.rtcp) {
      if (p.call_id != c.call_id) continue;
      ++rtcp_packets;
      if (!p.round_trip_ms) continue;
      rtt_min = std::min(rtt_min.value_or(*p.round_trip_ms), *p.round_trip_ms);
      rtt_max = std::max(rtt_max.value_or(*p.round_trip_ms), *p.round_trip_ms);
    }
    if (rtcp_packets) {
      std::snprintf(line, sizeof line, "    rtcp %zu packets", rtcp_packets);
      out << line;
      if (rtt_min) {
        std::snprintf(line, sizeof line, ", round trip %.1f-%.1f ms", *rtt_min, *rtt_max);
        out << line;
      }
      out << "\n";
    }
    for (const DtmfEvent& d : r.dtmf) {
      if (d.call_id == c.call_id)
        out << "    dtmf " << digitText(d.digit) << " (" << d.source << ") at "
            << relative(r, d.time_ns) << " s\n";
    }
  }
  if (!by_call[""].empty()) {
    out << "\nstreams without a call:\n";
    for (const RtpStreamReport* s : by_call[""]) stream_line(*s);
    for (const DtmfEvent& d : r.dtmf) {
      if (d.call_id.empty())
        out << "    dtmf " << digitText(d.digit) << " (" << d.source << ") at "
            << relative(r, d.time_ns) << " s\n";
    }
  }
  if (r.error) {
    out << "\nerror at byte " << r.error->offset << " (after frame " << r.error->frame
        << "): " << r.error->reason << "\n";
  }
}

}  // namespace capture
