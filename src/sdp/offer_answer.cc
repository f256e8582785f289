#include "sdp/offer_answer.h"

#include <algorithm>

#include "common/strings.h"

namespace sdp {
namespace {

using common::ErrorCode;
using common::makeError;

constexpr uint32_t kG711Rate = 8000;

// Encoding names of the static payload types (RFC 3551 §6), for error reasons.
std::string_view staticEncoding(int pt) {
  switch (pt) {
    case 0:
      return "PCMU";
    case 3:
      return "GSM";
    case 4:
      return "G723";
    case 8:
      return "PCMA";
    case 9:
      return "G722";
    case 13:
      return "CN";
    case 15:
      return "G728";
    case 18:
      return "G729";
    default:
      return {};
  }
}

// The G.711 encoding a payload type stands for in this stream, or nullopt. An rtpmap wins
// over the static assignment: a=rtpmap:0 is rare but authoritative when present.
std::optional<Rtpmap> g711(const Media& m, int pt) {
  if (auto map = m.rtpmap(pt)) {
    if (map->clock_rate != kG711Rate || map->channels != 1) return std::nullopt;
    if (common::iequals(map->encoding, "PCMU")) return Rtpmap{pt, "PCMU", kG711Rate, 1};
    if (common::iequals(map->encoding, "PCMA")) return Rtpmap{pt, "PCMA", kG711Rate, 1};
    return std::nullopt;
  }
  if (pt == 0) return Rtpmap{0, "PCMU", kG711Rate, 1};
  if (pt == 8) return Rtpmap{8, "PCMA", kG711Rate, 1};
  return std::nullopt;
}

// The G.711 formats of a stream in its order of preference, each payload type once.
std::vector<Rtpmap> g711Codecs(const Media& m) {
  std::vector<Rtpmap> out;
  for (int pt : m.payloadTypes()) {
    bool seen =
        std::any_of(out.begin(), out.end(), [pt](const Rtpmap& r) { return r.payload_type == pt; });
    if (seen) continue;
    if (auto r = g711(m, pt)) out.push_back(std::move(*r));
  }
  return out;
}

std::optional<int> telephoneEvent(const Media& m) {
  for (int pt : m.payloadTypes()) {
    auto map = m.rtpmap(pt);
    if (map && common::iequals(map->encoding, "telephone-event") && map->clock_rate == kG711Rate) {
      return pt;
    }
  }
  return std::nullopt;
}

// We run plain RTP: no SRTP (SAVP), no DTLS, no RTP over TCP. AVPF is AVP plus feedback
// the peer may send and we may ignore (RFC 4585 §3.1), so it is taken too.
bool isPlainRtp(const Media& m) {
  return m.proto == "RTP/AVP" || m.proto == "RTP/AVPF";
}

// A stream we could carry audio on: RTP/AVP audio, not disabled, with an address to send to.
bool usableAudio(const SessionDescription& sd, const Media& m) {
  return m.media == "audio" && m.port != 0 && isPlainRtp(m) && sd.connectionOf(m) != nullptr;
}

// RFC 3264 §6.1: what one side sends, the other receives.
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

// RFC 3264 §8.4: c=0.0.0.0 is the old way to put a call on hold; send nothing there.
Direction withHold(Direction ours, const Connection* remote) {
  if (!remote || remote->address != "0.0.0.0") return ours;
  if (ours == Direction::kSendRecv) return Direction::kRecvOnly;
  if (ours == Direction::kSendOnly) return Direction::kInactive;
  return ours;
}

std::string addrType(const std::string& address) {
  return address.find(':') == std::string::npos ? "IP4" : "IP6";
}

// "audio RTP/AVP: G729 (pt 18), telephone-event (pt 101)" for each audio stream, to tell a
// support engineer reading a 488 what the peer wanted.
std::string describeAudio(const SessionDescription& sd) {
  std::string out;
  for (const Media& m : sd.media) {
    if (m.media != "audio") continue;
    if (!out.empty()) out += "; ";
    out += "audio " + m.proto;
    if (m.port == 0) out += " (disabled)";
    if (!sd.connectionOf(m)) out += " (no c= address)";
    out += ":";
    bool first = true;
    for (const std::string& f : m.formats) {
      out += first ? " " : ", ";
      first = false;
      auto pt = m.isRtp() ? common::parseUint(f, 127) : std::nullopt;
      std::optional<Rtpmap> map = pt ? m.rtpmap(int(*pt)) : std::nullopt;
      std::string_view name = map  ? std::string_view(map->encoding)
                              : pt ? staticEncoding(int(*pt))
                                   : std::string_view();
      if (name.empty()) {
        out += f;
      } else {
        out.append(name).append(" (pt ").append(f).append(")");
      }
    }
  }
  if (out.empty()) out = "no audio stream";
  return out;
}

SessionDescription skeleton(const LocalMedia& local) {
  SessionDescription s;
  std::string type = addrType(local.address);
  s.origin =
      Origin{local.username, local.session_id, local.session_version, "IN", type, local.address};
  s.name = "switchboard";
  s.connection = Connection{"IN", type, local.address};
  s.timings.push_back(Timing{});
  return s;
}

void addRtpmap(Media& m, int pt, std::string_view encoding) {
  std::string pt_text = std::to_string(pt);
  m.formats.push_back(pt_text);
  m.attributes.push_back({"rtpmap", pt_text + " " + std::string(encoding) + "/8000"});
}

bool localUsable(const LocalMedia& local) {
  return !local.address.empty() && local.address.find(' ') == std::string::npos &&
         local.audio_port != 0;
}

}  // namespace

common::Result<Answer> makeAnswer(const SessionDescription& offer, const LocalMedia& local) {
  if (!localUsable(local)) {
    return makeError(ErrorCode::kInvalidArgument,
                     "local media needs an address and an audio port to answer", 500);
  }
  Answer a;
  a.sdp = skeleton(local);
  bool accepted = false;
  for (size_t i = 0; i < offer.media.size(); ++i) {
    const Media& om = offer.media[i];
    Media am;
    am.media = om.media;
    am.proto = om.proto;
    std::vector<Rtpmap> codecs;
    if (!accepted && usableAudio(offer, om)) codecs = g711Codecs(om);
    if (codecs.empty()) {
      // Rejected: port 0 and the offer's formats, since an m= line needs one (RFC 3264 §6).
      am.formats = om.formats;
      a.sdp.media.push_back(std::move(am));
      continue;
    }
    accepted = true;
    am.port = local.audio_port;
    for (const Rtpmap& c : codecs) addRtpmap(am, c.payload_type, c.encoding);

    AudioAgreement& ag = a.audio;
    const Connection* remote = offer.connectionOf(om);
    ag.payload_type = codecs.front().payload_type;
    ag.encoding = codecs.front().encoding;
    ag.codecs = std::move(codecs);
    ag.stream_index = i;
    ag.remote_port = om.port;
    ag.remote_address = remote->address;
    if (local.telephone_event) {
      if (auto te = telephoneEvent(om)) {
        // RFC 3264 §6.1: the answer uses the offer's payload type number for a format.
        addRtpmap(am, *te, "telephone-event");
        if (auto events = om.fmtp(*te); events && !events->empty()) {
          am.attributes.push_back({"fmtp", std::to_string(*te) + " " + std::string(*events)});
        }
        ag.telephone_event_pt = *te;
      }
    }
    ag.ptime = om.ptime().value_or(local.ptime);
    am.attributes.push_back({"ptime", std::to_string(local.ptime)});
    Direction answered = mirror(offer.directionOf(om));
    am.attributes.push_back({std::string(directionName(answered)), std::nullopt});
    ag.direction = withHold(answered, remote);
    a.sdp.media.push_back(std::move(am));
  }
  if (!accepted) {
    return makeError(ErrorCode::kUnsupported,
                     "no acceptable audio stream: Switchboard supports G.711 only (PCMU, "
                     "PCMA over RTP/AVP); offered " +
                         describeAudio(offer),
                     488);
  }
  return a;
}

SessionDescription makeOffer(const LocalMedia& local) {
  SessionDescription s = skeleton(local);
  Media m;
  m.media = "audio";
  m.port = local.audio_port;
  m.proto = "RTP/AVP";
  addRtpmap(m, 0, "PCMU");
  addRtpmap(m, 8, "PCMA");
  if (local.telephone_event) {
    addRtpmap(m, local.telephone_event_pt, "telephone-event");
    m.attributes.push_back({"fmtp", std::to_string(local.telephone_event_pt) + " 0-16"});
  }
  m.attributes.push_back({"ptime", std::to_string(local.ptime)});
  m.attributes.push_back({"sendrecv", std::nullopt});
  s.media.push_back(std::move(m));
  return s;
}

common::Result<AudioAgreement> readAnswer(const SessionDescription& answer) {
  for (size_t i = 0; i < answer.media.size(); ++i) {
    const Media& m = answer.media[i];
    if (!usableAudio(answer, m)) continue;
    std::vector<Rtpmap> codecs = g711Codecs(m);
    if (codecs.empty()) continue;
    const Connection* remote = answer.connectionOf(m);
    AudioAgreement ag;
    ag.payload_type = codecs.front().payload_type;
    ag.encoding = codecs.front().encoding;
    ag.codecs = std::move(codecs);
    ag.telephone_event_pt = telephoneEvent(m).value_or(-1);
    ag.ptime = m.ptime().value_or(20);
    ag.direction = withHold(mirror(answer.directionOf(m)), remote);
    ag.remote_address = remote->address;
    ag.remote_port = m.port;
    ag.stream_index = i;
    return ag;
  }
  return makeError(ErrorCode::kUnsupported,
                   "the answer accepted no G.711 codec; it has " + describeAudio(answer), 488);
}

}  // namespace sdp
