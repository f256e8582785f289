#include "sdp/offer_answer.h"

#include "common/strings.h"

namespace sdp {
namespace {

using common::ErrorCode;
using common::makeError;

// The G.711 encoding a payload type stands for in this stream, or empty.
std::string g711Encoding(const Media& m, int pt) {
  if (auto map = m.rtpmap(pt)) {
    if (map->clock_rate != 8000 || map->channels != 1) return {};
    if (common::iequals(map->encoding, "PCMU")) return "PCMU";
    if (common::iequals(map->encoding, "PCMA")) return "PCMA";
    return {};
  }
  if (pt == 0) return "PCMU";  // static payload types (RFC 3551)
  if (pt == 8) return "PCMA";
  return {};
}

std::optional<int> telephoneEvent(const Media& m) {
  for (int pt : m.payloadTypes()) {
    auto map = m.rtpmap(pt);
    if (map && common::iequals(map->encoding, "telephone-event") && map->clock_rate == 8000)
      return pt;
  }
  return std::nullopt;
}

bool isPlainRtp(const Media& m) {
  return m.proto == "RTP/AVP" || m.proto == "RTP/AVPF";
}

Direction mirror(Direction d) {
  switch (d) {
    case Direction::kSendOnly:
      return Direction::kRecvOnly;
    case Direction::kRecvOnly:
      return Direction::kSendOnly;
    default:
      return d;
  }
}

std::string addrType(const std::string& address) {
  return address.find(':') == std::string::npos ? "IP4" : "IP6";
}

std::string offeredCodecs(const SessionDescription& offer) {
  std::string out;
  for (const Media& m : offer.media) {
    if (m.media != "audio") continue;
    for (int pt : m.payloadTypes()) {
      auto map = m.rtpmap(pt);
      std::string name = map ? map->encoding : (pt == 18 ? "G729" : std::to_string(pt));
      if (!out.empty()) out += ", ";
      out += name;
    }
  }
  return out.empty() ? "none" : out;
}

}  // namespace

common::Result<Answer> makeAnswer(const SessionDescription& offer, const LocalMedia& local) {
  Answer a;
  SessionDescription& s = a.sdp;
  s.origin = Origin{local.username, local.session_id,        local.session_version,
                    "IN",           addrType(local.address), local.address};
  s.name = "switchboard";
  s.connection = Connection{"IN", addrType(local.address), local.address};
  s.timings.push_back(Timing{});
  bool accepted = false;
  for (size_t i = 0; i < offer.media.size(); ++i) {
    const Media& om = offer.media[i];
    Media am;
    am.media = om.media;
    am.proto = om.proto;
    am.port = 0;
    // A stream we do not take is answered with port 0 and the offered formats (§6).
    bool usable = !accepted && om.media == "audio" && om.port != 0 && isPlainRtp(om);
    std::vector<std::pair<int, std::string>> codecs;
    if (usable) {
      for (int pt : om.payloadTypes()) {
        std::string enc = g711Encoding(om, pt);
        if (!enc.empty()) codecs.emplace_back(pt, enc);
      }
    }
    if (codecs.empty()) {
      am.formats = om.formats;
      s.media.push_back(std::move(am));
      continue;
    }
    accepted = true;
    am.port = local.audio_port;
    for (const auto& [pt, enc] : codecs) {
      am.formats.push_back(std::to_string(pt));
      am.attributes.push_back({"rtpmap", std::to_string(pt) + " " + enc + "/8000"});
    }
    AudioAgreement& ag = a.audio;
    ag.payload_type = codecs.front().first;
    ag.encoding = codecs.front().second;
    ag.stream_index = i;
    ag.remote_port = om.port;
    if (const Connection* c = offer.connectionOf(om)) ag.remote_address = c->address;
    if (local.telephone_event) {
      if (auto te = telephoneEvent(om)) {
        am.formats.push_back(std::to_string(*te));
        am.attributes.push_back({"rtpmap", std::to_string(*te) + " telephone-event/8000"});
        am.attributes.push_back(
            {"fmtp", std::to_string(*te) + " " + om.fmtp(*te).value_or("0-16")});
        ag.telephone_event_pt = *te;
      }
    }
    ag.ptime = om.ptime().value_or(local.ptime);
    am.attributes.push_back({"ptime", std::to_string(ag.ptime)});
    ag.direction = mirror(offer.directionOf(om));
    am.attributes.push_back({std::string(directionName(ag.direction)), std::nullopt});
    s.media.push_back(std::move(am));
  }
  if (!accepted) {
    return makeError(ErrorCode::kUnsupported,
                     "no acceptable audio stream: only PCMU and PCMA are supported; offered " +
                         offeredCodecs(offer),
                     488);
  }
  return a;
}

SessionDescription makeOffer(const LocalMedia& local) {
  SessionDescription s;
  s.origin = Origin{local.username, local.session_id,        local.session_version,
                    "IN",           addrType(local.address), local.address};
  s.name = "switchboard";
  s.connection = Connection{"IN", addrType(local.address), local.address};
  s.timings.push_back(Timing{});
  Media m;
  m.media = "audio";
  m.port = local.audio_port;
  m.proto = "RTP/AVP";
  m.formats = {"0", "8"};
  m.attributes.push_back({"rtpmap", "0 PCMU/8000"});
  m.attributes.push_back({"rtpmap", "8 PCMA/8000"});
  if (local.telephone_event) {
    std::string pt = std::to_string(local.telephone_event_pt);
    m.formats.push_back(pt);
    m.attributes.push_back({"rtpmap", pt + " telephone-event/8000"});
    m.attributes.push_back({"fmtp", pt + " 0-16"});
  }
  m.attributes.push_back({"ptime", std::to_string(local.ptime)});
  m.attributes.push_back({"sendrecv", std::nullopt});
  s.media.push_back(std::move(m));
  return s;
}

common::Result<AudioAgreement> readAnswer(const SessionDescription& answer) {
  for (size_t i = 0; i < answer.media.size(); ++i) {
    const Media& m = answer.media[i];
    if (m.media != "audio" || m.port == 0) continue;
    for (int pt : m.payloadTypes()) {
      std::string enc = g711Encoding(m, pt);
      if (enc.empty()) continue;
      AudioAgreement ag;
      ag.payload_type = pt;
      ag.encoding = enc;
      ag.telephone_event_pt = telephoneEvent(m).value_or(-1);
      ag.ptime = m.ptime().value_or(20);
      ag.direction = mirror(answer.directionOf(m));
      ag.remote_port = m.port;
      if (const Connection* c = answer.connectionOf(m)) ag.remote_address = c->address;
      ag.stream_index = i;
      return ag;
    }
  }
  return makeError(ErrorCode::kUnsupported,
                   "the answer accepted no G.711 codec; it has " + offeredCodecs(answer), 488);
}

}  // namespace sdp
