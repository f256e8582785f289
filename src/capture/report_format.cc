#include "capture/report_format.h"

#include <cinttypes>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

namespace capture {
namespace {

using Json = nlohmann::ordered_json;

// Seconds since the first frame, rounded to the microsecond (tshark's time_relative).
double relative(const Report& r, int64_t ns) {
  return double((ns - r.first_ns) / 1000) / 1e6;
}

Json optionalMs(const std::optional<double>& v) {
  return v ? Json(*v) : Json(nullptr);
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

std::string toJson(const Report& r, bool pretty) {
  Json doc;
  doc["file"] = r.file;
  doc["frames"] = r.frames;
  doc["bytes"] = r.bytes;
  doc["start"] = double(r.first_ns / 1000) / 1e6;
  doc["duration"] = double((r.last_ns - r.first_ns) / 1000) / 1e6;
  Json& calls = doc["calls"] = Json::array();
  for (const CallReport& c : r.calls) {
    Json call;
    call["call_id"] = c.call_id;
    call["method"] = c.method;
    call["from"] = c.from;
    call["to"] = c.to;
    call["start"] = relative(r, c.start_ns);
    call["end"] = relative(r, c.end_ns);
    call["final_status"] = c.final_status;
    call["final_reason"] = c.final_reason;
    Json& messages = call["messages"] = Json::array();
    for (const SipMessageRecord& m : c.messages) {
      messages.push_back({{"frame", m.frame},
                          {"time", relative(r, m.time_ns)},
                          {"src", m.src.toString()},
                          {"dst", m.dst.toString()},
                          {"transport", transportName(m.transport)},
                          {"method", m.method},
                          {"status", m.status},
                          {"reason", m.reason},
                          {"cseq", m.cseq},
                          {"retransmission", m.retransmission}});
    }
    call["post_dial_delay_ms"] = optionalMs(c.post_dial_delay_ms);
    call["setup_ms"] = optionalMs(c.setup_ms);
    call["duration_ms"] = optionalMs(c.duration_ms);
    call["hangup_by"] = c.hangup_by;
    call["auth_challenges"] = c.auth_challenges;
    call["retransmissions"] = c.retransmissions;
    call["ack_timeout"] = c.ack_timeout;
    call["media_timeout"] = c.media_timeout;
    call["one_way_audio"] = c.one_way_audio;
    call["cancelled"] = c.cancelled;
    call["reinvites"] = c.reinvites;
    call["codecs"] = c.codecs;
    call["offered_codecs"] = c.offered_codecs;
    call["answered_codecs"] = c.answered_codecs;
    Json& changes = call["codec_changes"] = Json::array();
    for (const CodecChange& ch : c.codec_changes) {
      changes.push_back({{"time", relative(r, ch.time_ns)},
                         {"from", ch.from},
                         {"to", ch.to},
                         {"reason", ch.reason}});
    }
    call["refused_codec"] = c.refused_codec ? Json(*c.refused_codec) : Json(nullptr);
    calls.push_back(std::move(call));
  }
  Json& streams = doc["rtp_streams"] = Json::array();
  for (const RtpStreamReport& s : r.rtp_streams) {
    streams.push_back({{"ssrc", s.ssrc},
                       {"ssrc_hex", hex32(s.ssrc)},
                       {"src", s.src.toString()},
                       {"dst", s.dst.toString()},
                       {"payload_type", s.payload_type},
                       {"payload_types", s.payload_types},
                       {"codec", s.codec},
                       {"packets", s.packets},
                       {"expected", s.expected},
                       {"lost", s.lost},
                       {"duplicates", s.duplicates},
                       {"out_of_order", s.out_of_order},
                       {"max_jitter_ms", s.max_jitter_ms},
                       {"mean_jitter_ms", s.mean_jitter_ms},
                       {"max_delta_ms", s.max_delta_ms},
                       {"start", relative(r, s.start_ns)},
                       {"end", relative(r, s.end_ns)},
                       {"call_id", s.call_id},
                       {"from_sdp", s.from_sdp},
                       {"mos", s.mos ? Json(*s.mos) : Json(nullptr)}});
  }
  Json& rtcp = doc["rtcp"] = Json::array();
  for (const RtcpPacketReport& p : r.rtcp) {
    Json blocks = Json::array();
    for (const RtcpReportBlock& b : p.blocks) {
      blocks.push_back({{"ssrc", b.ssrc},
                        {"fraction_lost", b.fraction_lost},
                        {"cumulative_lost", b.cumulative_lost},
                        {"highest_seq", b.highest_seq},
                        {"jitter", b.jitter},
                        {"lsr", b.lsr},
                        {"dlsr", b.dlsr}});
    }
    rtcp.push_back({{"frame", p.frame},
                    {"time", relative(r, p.time_ns)},
                    {"src", p.src.toString()},
                    {"dst", p.dst.toString()},
                    {"packet_type", p.packet_type},
                    {"sender_ssrc", p.sender_ssrc},
                    {"blocks", std::move(blocks)},
                    {"round_trip_ms", optionalMs(p.round_trip_ms)},
                    {"call_id", p.call_id}});
  }
  Json& dtmf = doc["dtmf"] = Json::array();
  for (const DtmfEvent& d : r.dtmf) {
    dtmf.push_back({{"digit", digitText(d.digit)},
                    {"event_id", d.event_id},
                    {"source", d.source},
                    {"time", relative(r, d.time_ns)},
                    {"duration_ms", d.duration_ms},
                    {"ssrc", d.ssrc},
                    {"call_id", d.call_id}});
  }
  doc["counters"] = {{"undecodable_frames", r.undecodable_frames},
                     {"sip_parse_errors", r.sip_parse_errors}};
  if (r.error) {
    doc["error"] = {
        {"offset", r.error->offset}, {"frame", r.error->frame}, {"reason", r.error->reason}};
  } else {
    doc["error"] = nullptr;
  }
  return doc.dump(pretty ? 2 : -1, ' ', false, Json::error_handler_t::replace);
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
