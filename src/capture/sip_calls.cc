#include "capture/sip_calls.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <map>
#include <optional>

#include "common/strings.h"
#include "sdp/sdp.h"
#include "sip/framer.h"
#include "sip/message.h"

namespace capture {
namespace {

constexpr size_t kMaxCaptureMessageBytes = 1 << 20;

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The digit of an INFO body's signal: "5", "*", "#", "A".."D", or the event codes 10-15 some
// gateways send for * # A-D. 0 when it is none of them.
char infoDigit(std::string_view v) {
  if (v == "10") return '*';
  if (v == "11") return '#';
  if (v.size() == 2 && v[0] == '1' && v[1] >= '2' && v[1] <= '5') return char('A' + (v[1] - '2'));
  if (v.size() != 1) return 0;
  const char c = char(std::toupper(static_cast<unsigned char>(v[0])));
  return std::string_view("0123456789*#ABCD").find(c) != std::string_view::npos ? c : 0;
}

// RFC 3551's static payload types; "" for unassigned and dynamic ones.
std::string staticName(int pt) {
  static const char* const kStatic[35] = {
      "PCMU",  nullptr, nullptr, "GSM",   "G723",  "DVI4",  "DVI4",  "LPC",  "PCMA",
      "G722",  "L16",   "L16",   "QCELP", "CN",    "MPA",   "G728",  "DVI4", "DVI4",
      "G729",  nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, "CelB", "JPEG",
      nullptr, "nv",    nullptr, nullptr, "H261",  "MPV",   "MP2T",  "H263"};
  return pt >= 0 && pt < 35 && kStatic[pt] ? kStatic[pt] : "";
}

// The name of a payload type in one m= section: its rtpmap encoding, else the static name
// (RFC 3551), else the number. Non-RTP media are "media/format" ("image/t38").
std::string formatName(const sdp::Media& m, const std::string& format) {
  if (!m.isRtp()) return m.media + "/" + format;
  int pt = -1;
  std::from_chars(format.data(), format.data() + format.size(), pt);
  if (auto map = m.rtpmap(pt)) return map->encoding;
  std::string name = staticName(pt);
  return name.empty() ? format : name;
}

}  // namespace

struct SipCallTracker::Flow {
  sip::StreamFramer framer{kMaxCaptureMessageBytes};
  bool sip = true;  // false once the stream showed it carries something else
};

struct SipCallTracker::Call {
  CallReport report;
  std::string caller_tag;
  std::vector<uint32_t> initial_invites;  // CSeq numbers of INVITEs without a To tag
  std::optional<int64_t> first_invite_ns, first_18x_ns, answer_ns, bye_ns;
  std::optional<uint32_t> answered_cseq;
  bool answer_resent = false;  // the 2xx to the initial INVITE was retransmitted
  bool acked = false;
  std::string current_codec;
  // The last offer with SDP, per CSeq, for the codec a 488 refused.
  uint32_t offer_cseq = 0;
  std::string offer_first;
  bool offered = false, answered = false;
  std::map<int, std::string> pt_names;  // payload type -> encoding, from every SDP of the call
};

SipCallTracker::SipCallTracker(MediaBinder binder) : binder_(std::move(binder)) {}
SipCallTracker::~SipCallTracker() = default;

bool SipCallTracker::looksLikeSip(std::string_view b) {
  if (b.size() < 12) return false;
  if (startsWith(b, "SIP/2.0 ")) return true;
  if (b[0] < 'A' || b[0] > 'Z') return false;
  size_t eol = b.find('\n', 0);
  std::string_view line =
      b.substr(0, eol == std::string_view::npos ? std::min<size_t>(b.size(), 512) : eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line.size() > 8 && line.substr(line.size() - 8) == " SIP/2.0";
}

SipCallTracker::Call& SipCallTracker::callFor(std::string_view call_id) {
  auto [it, inserted] = index_.try_emplace(std::string(call_id), calls_.size());
  if (inserted) {
    calls_.push_back(std::make_unique<Call>());
    calls_.back()->report.call_id = std::string(call_id);
  }
  return *calls_[it->second];
}

bool SipCallTracker::isResend(const Payload& p, std::string_view call_id, uint32_t cseq,
                              std::string_view method, int status) {
  if (p.transport != Transport::kUdp) return false;
  std::string key(call_id);
  key += '\0';
  key += p.src.toString();
  key += '\0';
  key += p.dst.toString();
  auto [it, inserted] = resend_.try_emplace(std::move(key));
  ResendState& st = it->second;
  if (inserted || st.cseq != cseq) {
    st.cseq = cseq;
    st.method = std::string(method);
    st.stage = ResendState::Stage::kNothing;
  }
  bool resend = false;
  if (status == 0) {
    resend = st.stage == ResendState::Stage::kRequest && st.method == method && method != "ACK" &&
             method != "CANCEL";
    st.stage = ResendState::Stage::kRequest;
  } else if (status >= 200) {
    resend = st.stage == ResendState::Stage::kFinal && st.method == method && st.status == status;
    st.status = status;
    st.stage = ResendState::Stage::kFinal;
  } else {
    st.stage = ResendState::Stage::kProvisional;
  }
  return resend;
}

std::string_view SipCallTracker::onMessage(const Payload& payload) {
  return handle(payload.bytes, payload, true);
}

std::string_view SipCallTracker::onStream(const Payload& payload) {
  std::string key = payload.src.toString() + ">" + payload.dst.toString();
  auto it = flows_.find(key);
  if (it == flows_.end()) {
    // A stream that does not begin like SIP (HTTP, TLS, a WebSocket handshake) is left alone.
    if (!looksLikeSip(payload.bytes) &&
        payload.bytes.find_first_not_of("\r\n") != std::string_view::npos) {
      auto flow = std::make_unique<Flow>();
      flow->sip = false;
      flows_.emplace(std::move(key), std::move(flow));
      return {};
    }
    it = flows_.emplace(std::move(key), std::make_unique<Flow>()).first;
  }
  Flow& flow = *it->second;
  if (!flow.sip) return {};
  flow.framer.append(payload.bytes);
  std::string_view last;
  while (true) {
    auto frame = flow.framer.next();
    if (!frame) {
      if (frame.error().code != common::ErrorCode::kIncomplete) {
        ++parse_errors_;
        flow.sip = false;
      }
      break;
    }
    if (frame->kind != sip::FrameKind::kMessage) continue;
    std::string_view id = handle(frame->bytes, payload, false);
    if (!id.empty()) last = id;
  }
  return last;
}

void SipCallTracker::onStreamClosed(const Endpoint& a, const Endpoint& b) {
  flows_.erase(a.toString() + ">" + b.toString());
  flows_.erase(b.toString() + ">" + a.toString());
}

std::string_view SipCallTracker::handle(std::string_view bytes, const Payload& p, bool datagram) {
  sip::ParseOptions options;
  options.datagram = datagram;
  options.max_bytes = kMaxCaptureMessageBytes;
  options.lenient_request_uri = true;
  auto msg = sip::Message::parse(bytes, options);
  if (!msg) {
    ++parse_errors_;
    return {};
  }
  const auto& call_id = msg->callId();
  const auto& cseq = msg->cseq();
  if (!call_id || !cseq) {
    ++parse_errors_;
    return {};
  }
  Call& call = callFor(*call_id);
  CallReport& r = call.report;
  const int status = msg->statusCode();
  const std::string method(msg->isRequest() ? msg->methodText() : cseq->method);

  SipMessageRecord rec;
  rec.frame = p.frame;
  rec.time_ns = p.time_ns;
  rec.src = p.src;
  rec.dst = p.dst;
  rec.transport = p.transport;
  rec.method = method;
  rec.status = status;
  rec.reason = std::string(msg->reasonPhrase());
  rec.cseq = cseq->number;
  rec.retransmission = isResend(p, *call_id, cseq->number, cseq->method, status);
  if (r.messages.empty()) r.start_ns = p.time_ns;
  r.end_ns = p.time_ns;
  if (rec.retransmission) ++r.retransmissions;

  const auto& to = msg->to();
  const bool to_tagged = to && to->tag().has_value();
  if (msg->isRequest()) {
    if (r.method.empty()) {
      r.method = method;
      if (const auto& from = msg->from(); from) {
        r.from = std::string(from->uri.text());
        call.caller_tag = std::string(from->tag().value_or(""));
      }
      if (to) r.to = std::string(to->uri.text());
    }
    if (method == "INVITE" && !rec.retransmission) {
      if (!to_tagged) {
        call.initial_invites.push_back(cseq->number);
        if (!call.first_invite_ns) call.first_invite_ns = p.time_ns;
      } else {
        ++r.reinvites;
      }
    }
    if (method == "CANCEL") r.cancelled = true;
    if (method == "ACK" && call.answered_cseq && cseq->number == *call.answered_cseq)
      call.acked = true;
    if (method == "BYE" && !call.bye_ns) {
      call.bye_ns = p.time_ns;
      const auto& from = msg->from();
      std::string tag(from ? from->tag().value_or("") : std::string_view());
      r.hangup_by = tag == call.caller_tag ? "caller" : "callee";
    }
    if (method == "INFO") {
      auto type = msg->contentType();
      std::string mime = type ? lower(type->type) + "/" + lower(type->subtype) : "";
      std::string_view body = msg->body();
      DtmfEvent ev;
      ev.source = "info";
      ev.time_ns = p.time_ns;
      ev.call_id = r.call_id;
      if (mime == "application/dtmf-relay") {
        for (size_t pos = 0; pos < body.size();) {
          size_t eol = body.find('\n', pos);
          std::string_view line = body.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
          pos = eol == std::string_view::npos ? body.size() : eol + 1;
          size_t eq = line.find('=');
          if (eq == std::string_view::npos) continue;
          std::string name = lower(common::trimLws(line.substr(0, eq)));
          std::string_view value = common::trimLws(line.substr(eq + 1));
          if (name == "signal") ev.digit = infoDigit(value);
          if (name == "duration") {
            int ms = 0;
            std::from_chars(value.data(), value.data() + value.size(), ms);
            ev.duration_ms = ms;
          }
        }
      } else if (mime == "application/dtmf") {
        std::string_view v = common::trimLws(body);
        ev.digit = infoDigit(v);
      }
      if (ev.digit &&
          std::string_view("0123456789*#ABCD").find(ev.digit) != std::string_view::npos &&
          !rec.retransmission)
        info_dtmf_.push_back(ev);
    }
  } else {
    if (r.method.empty()) r.method = method;  // the capture began after the request
    if (status == 401 || status == 407) {
      if (!rec.retransmission) ++r.auth_challenges;
    }
    const bool initial_invite = cseq->method == "INVITE" &&
                                std::find(call.initial_invites.begin(), call.initial_invites.end(),
                                          cseq->number) != call.initial_invites.end();
    const bool counts = initial_invite || (r.method != "INVITE" && cseq->method == r.method);
    if (counts && status >= 180 && status < 190 && !call.first_18x_ns)
      call.first_18x_ns = p.time_ns;
    // The outcome: the first 2xx, else the last final response (407 then 200 is a 200; a
    // later refresh refused with 481 does not undo an established dialog).
    const bool established = r.final_status >= 200 && r.final_status < 300;
    if (counts && status >= 200 && !established) {
      r.final_status = status;
      r.final_reason = rec.reason;
    }
    if (initial_invite && status >= 200 && status < 300) {
      if (!call.answer_ns) {
        call.answer_ns = p.time_ns;
        call.answered_cseq = cseq->number;
      }
      if (cseq->number == call.answered_cseq && rec.retransmission) call.answer_resent = true;
    }
    if (status == 488 && cseq->method == "INVITE" && cseq->number == call.offer_cseq &&
        !call.offer_first.empty()) {
      r.refused_codec = call.offer_first;
    }
  }

  // SDP: bind media endpoints, and follow offers and answers.
  if (!msg->body().empty()) {
    auto type = msg->contentType();
    if (type && lower(type->type) == "application" && lower(type->subtype) == "sdp") {
      onSdp(call, *msg, p, rec);
    }
  }
  r.messages.push_back(std::move(rec));
  last_call_id_ = r.call_id;
  return last_call_id_;
}

std::optional<Endpoint> SipCallTracker::endpointOf(std::string_view address, uint16_t port) {
  std::string text(address.substr(0, address.find('/')));
  Endpoint ep;
  ep.port = port;
  if (inet_pton(AF_INET, text.c_str(), ep.addr.data()) == 1) return ep;
  if (inet_pton(AF_INET6, text.c_str(), ep.addr.data()) == 1) {
    ep.v6 = true;
    return ep;
  }
  return std::nullopt;  // a host name: nothing to match packets against
}

void SipCallTracker::onSdp(Call& call, const sip::Message& msg, const Payload& p,
                           const SipMessageRecord& rec) {
  auto sdp = sdp::parse(msg.body());
  if (!sdp) {
    ++sdp_errors_;
    return;
  }
  CallReport& r = call.report;
  std::vector<std::string> codecs;
  std::string first;
  for (const sdp::Media& m : sdp->media) {
    if (m.port == 0) continue;  // a refused stream
    for (const std::string& f : m.formats) {
      codecs.push_back(formatName(m, f));
      if (first.empty()) first = codecs.back();
    }
    const sdp::Connection* c = !m.connections.empty() ? &m.connections.front()
                               : sdp->connection      ? &*sdp->connection
                                                      : nullptr;
    if (!c) continue;
    auto ep = endpointOf(c->address, m.port);
    if (!ep) continue;
    MediaBinding binding;
    binding.call_id = r.call_id;
    binding.rtp = m.isRtp();  // T.38 (udptl) and the like are not RTP
    for (const std::string& f : m.formats) {
      int pt = -1;
      std::from_chars(f.data(), f.data() + f.size(), pt);
      if (pt < 0 || pt > 127) continue;
      if (auto map = m.rtpmap(pt)) {
        binding.encodings[pt] = map->encoding;
        binding.clock_rates[pt] = map->clock_rate;
      } else {
        if (std::string name = staticName(pt); !name.empty()) binding.encodings[pt] = name;
      }
    }
    for (const auto& [pt, name] : binding.encodings) call.pt_names[pt] = name;
    if (binder_) binder_(*ep, binding);
  }
  if (rec.retransmission) return;
  const bool offer = msg.isRequest() && rec.method != "ACK";
  if (offer) {
    call.offer_cseq = rec.cseq;
    call.offer_first = first;
    if (r.offered_codecs.empty()) r.offered_codecs = codecs;
    return;
  }
  if (rec.status >= 300) return;
  if (r.answered_codecs.empty()) r.answered_codecs = codecs;
  if (!call.current_codec.empty() && !first.empty() && first != call.current_codec) {
    r.codec_changes.push_back({p.time_ns, call.current_codec, first, "offer/answer"});
  }
  if (!first.empty()) call.current_codec = first;
}

void SipCallTracker::finish(Report& report, int64_t media_timeout_ns) {
  auto ms = [](int64_t a, int64_t b) { return double(b - a) / 1e6; };
  for (auto& owned : calls_) {
    Call& call = *owned;
    CallReport& r = call.report;
    if (call.first_invite_ns && call.first_18x_ns)
      r.post_dial_delay_ms = ms(*call.first_invite_ns, *call.first_18x_ns);
    if (call.first_invite_ns && call.answer_ns)
      r.setup_ms = ms(*call.first_invite_ns, *call.answer_ns);
    if (call.answer_ns && call.bye_ns) r.duration_ms = ms(*call.answer_ns, *call.bye_ns);
    r.ack_timeout = call.answer_resent && !call.acked;
    r.codecs = !r.answered_codecs.empty() ? r.answered_codecs : r.offered_codecs;

    if (call.answer_ns) {
      // The media while the call was up: from the answer to the BYE (or the end of the file).
      const int64_t up_from = *call.answer_ns;
      const int64_t up_to = call.bye_ns.value_or(report.last_ns);
      int64_t first_rtp = INT64_MAX, last_rtp = INT64_MIN;
      bool gap = false;
      std::vector<const RtpStreamReport*> streams;
      for (const RtpStreamReport& s : report.rtp_streams) {
        if (s.call_id != r.call_id) continue;
        streams.push_back(&s);
        first_rtp = std::min(first_rtp, s.start_ns);
        last_rtp = std::max(last_rtp, s.end_ns);
        if (s.max_delta_ms * 1e6 > double(media_timeout_ns)) gap = true;
        // A second codec inside one stream with no offer that changed it. Comfort noise,
        // telephone-events and unnamed dynamic types are not codecs.
        std::string first_codec;
        for (int pt : s.payload_types) {
          auto named = call.pt_names.find(pt);
          std::string name = named != call.pt_names.end() ? named->second : staticName(pt);
          std::string low = lower(name);
          if (low.empty() || low == "cn" || low == "telephone-event") continue;
          if (first_codec.empty()) {
            first_codec = name;
          } else if (lower(first_codec) != low && r.codec_changes.empty()) {
            r.codec_changes.push_back(
                {s.start_ns, first_codec, name, "rtp payload without a new offer"});
          }
        }
      }
      if (streams.empty()) {
        // No RTP of this call while other calls' RTP was captured: it never flowed. (A
        // capture of signalling alone says nothing about media.)
        r.media_timeout = !report.rtp_streams.empty() && up_to - up_from > media_timeout_ns;
      } else {
        r.media_timeout =
            gap || first_rtp - up_from > media_timeout_ns || up_to - last_rtp > media_timeout_ns;
        for (const RtpStreamReport* s : streams) {
          bool reverse = false;
          for (const RtpStreamReport* t : streams) reverse |= t->src == s->dst && t->dst == s->src;
          if (!reverse) r.one_way_audio = true;
        }
      }
    }
    report.calls.push_back(std::move(r));
  }
  calls_.clear();
  index_.clear();
  for (DtmfEvent& ev : info_dtmf_) report.dtmf.push_back(std::move(ev));
  info_dtmf_.clear();
  report.sip_parse_errors += parse_errors_;
}

}  // namespace capture
