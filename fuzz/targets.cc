#include "targets.h"

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/access_control.h"
#include "api/form.h"
#include "api/json_writer.h"
#include "api/secrets.h"
#include "api/twilio_format.h"
#include "messaging/dlr.h"
#include "messaging/smpp_pdu.h"
#include "messaging/sms_text.h"
#include "sdp/offer_answer.h"
#include "sdp/sdp.h"
#include "sip/auth.h"
#include "sip/framer.h"
#include "sip/message.h"
#include "sip/response.h"
#include "sip/uri.h"
#include "sip/validate.h"

namespace fuzz {
namespace {

void require(bool ok) {
  if (!ok) __builtin_trap();
}

bool knownStatus(const common::Error& e) {
  return e.status == 0 || e.status == 400 || e.status == 505 || e.status == 513;
}

void touchTyped(const sip::Message& m) {
  size_t sink = 0;
  if (const auto& v = m.vias()) {
    for (const auto& via : *v) sink += via.host.size() + via.rport().value_or(0);
  }
  if (const auto& f = m.from()) sink += f->uri.host().size() + f->tag().value_or("").size();
  if (const auto& t = m.to()) sink += t->uri.user().size();
  if (const auto& c = m.callId()) sink += c->size();
  if (const auto& c = m.cseq()) sink += c->number;
  if (const auto& c = m.contacts()) {
    for (const auto& na : c->contacts)
      sink += na.expires().value_or(0) + size_t(na.qMillis().value_or(0));
  }
  if (const auto& r = m.routes()) sink += r->size();
  if (const auto& r = m.recordRoutes()) sink += r->size();
  if (const auto& r = m.paths()) sink += r->size();
  sink += m.maxForwards().value_or(0) + m.expires().value_or(0);
  if (auto ct = m.contentType()) sink += ct->subtype.size();
  for (auto id : {sip::HeaderId::kRequire, sip::HeaderId::kProxyRequire, sip::HeaderId::kSupported,
                  sip::HeaderId::kAllow})
    if (auto t = m.tokens(id)) sink += t->size();
  require(sink != size_t(-1));
}

}  // namespace

void sipMessage(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (bool datagram : {true, false}) {
    sip::ParseOptions opts;
    opts.datagram = datagram;
    auto m = sip::Message::parse(in, opts);
    if (!m) {
      require(knownStatus(m.error()) || m.error().code == common::ErrorCode::kIncomplete);
      require(!m.error().reason.empty());
      continue;
    }
    touchTyped(*m);
    // Unedited, the message serializes to exactly the bytes it was parsed from.
    require(m->serialize() == m->raw());
    auto valid = sip::validate(*m);
    if (!valid) {
      require(knownStatus(valid.error()));
      continue;
    }
    sip::ParseOptions big;
    big.max_bytes = 1 << 20;
    if (m->isRequest()) {
      // What a proxy does must yield a message that still parses and validates.
      m->edits().setRequestUri("sip:fuzz@192.0.2.1:5062");
      m->edits().pushVia("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKfuzz");
      m->edits().addRecordRoute("<sip:192.0.2.1;lr>");
      m->edits().decrementMaxForwards();
      if (m->headerCount(sip::HeaderId::kRoute) > 0) m->edits().popRoute();
      auto again = sip::Message::parse(m->serialize(), big);
      require(again.has_value());
      require(sip::validate(*again).has_value());
      require(again->vias()->size() == m->vias()->size() + 1);
      auto resp = sip::Message::parse(sip::ResponseBuilder(*m, 486).toTag("fz").build(), big);
      require(resp.has_value());
      require(sip::validate(*resp).has_value());
      require(resp->statusCode() == 486);
    } else if (m->vias()->size() > 1) {
      m->edits().popVia();
      auto again = sip::Message::parse(m->serialize(), big);
      require(again.has_value());
      require(again->vias()->size() == m->vias()->size() - 1);
    }
  }

  // The framer never loses bytes: whatever it cuts, fed in two pieces, is the same as whole.
  sip::StreamFramer whole, split;
  whole.append(in);
  split.append(in.substr(0, in.size() / 2));
  std::string a, b;
  for (;;) {
    auto f = whole.next();
    if (!f) break;
    a.append(f->bytes);
  }
  for (int round = 0; round < 2; ++round) {
    for (;;) {
      auto f = split.next();
      if (!f) break;
      b.append(f->bytes);
    }
    if (round == 0) split.append(in.substr(in.size() / 2));
  }
  require(a == b);
}

void sipUri(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t cut = in.find('\n');
  std::string_view first = in.substr(0, cut);
  auto u = sip::Uri::parse(first);
  if (!u) {
    require(!u.error().reason.empty());
    return;
  }
  require(sip::equivalent(*u, *u));
  if (cut != std::string_view::npos) {
    auto v = sip::Uri::parse(in.substr(cut + 1));
    if (v) require(sip::equivalent(*u, *v) == sip::equivalent(*v, *u));
  }
}

void sdpDocument(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto doc = sdp::parse(in);
  if (!doc) {
    require(doc.error().status == 400 && !doc.error().reason.empty());
    return;
  }
  std::string once = sdp::serialize(*doc);
  auto again = sdp::parse(once);
  require(again.has_value());
  require(sdp::serialize(*again) == once);
  sdp::LocalMedia local;
  local.address = "192.0.2.10";
  local.audio_port = 40000;
  auto answer = sdp::makeAnswer(*doc, local);
  if (!answer) {
    require(answer.error().status == 488);
    return;
  }
  auto parsed = sdp::parse(sdp::serialize(answer->sdp));
  require(parsed.has_value());
  require(parsed->media.size() == doc->media.size());
  require(sdp::readAnswer(*parsed).has_value());
}

void authHeader(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto cred = sip::parseCredentials(in);
  if (cred) {
    size_t sink = cred->params().size() + cred->scheme().size();
    for (const char* name : {"username", "realm", "nonce", "uri", "response", "cnonce", "nc", "qop",
                             "opaque", "algorithm"}) {
      sink += cred->get(name).value_or("").size() + cred->unescaped(name).value_or("").size();
    }
    (void)cred->algorithm();
    require(sink != size_t(-1));
    if (cred->isDigest() && cred->algorithm()) {
      // Rebuilding the credentials from plain values yields a value that parses.
      auto plain = [](std::optional<std::string_view> v) {
        std::string out;
        // Printable ASCII only: a quoted-pair may carry any octet, a plain value may not.
        for (char c : v.value_or("x")) {
          if (c > 0x20 && c < 0x7f && c != '"' && c != '\\') out.push_back(c);
        }
        return out.empty() ? std::string("x") : out;
      };
      sip::CredentialsSpec spec{plain(cred->get("username")),
                                plain(cred->get("realm")),
                                plain(cred->get("nonce")),
                                plain(cred->get("uri")),
                                "0",
                                *cred->algorithm(),
                                "c",
                                "00000001",
                                true,
                                ""};
      std::string text = sip::formatCredentials(spec);
      require(sip::parseCredentials(text).has_value());
    }
  } else {
    require(cred.error().status == 400);
  }
  auto ch = sip::parseChallenge(in);
  if (ch) {
    (void)ch->stale();
    (void)ch->offersQop("auth");
    (void)ch->algorithm();
  }
}

void apiInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // A form that parses re-encodes to one that parses to the same fields.
  auto form = api::parseForm(in);
  if (form) {
    auto again = api::parseForm(api::encodeForm(*form));
    require(again.has_value() && *again == *form);
    for (const auto& [name, value] : *form) require(api::isUtf8(name) && api::isUtf8(value));
  }
  // Any UTF-8 text written by the JSON writer reads back as the same string.
  if (api::isUtf8(in)) {
    api::JsonWriter w;
    w.beginObject();
    w.key("v").string(in);
    w.endObject();
    auto doc = nlohmann::json::parse(w.take(), nullptr, false);
    require(!doc.is_discarded() && doc["v"].get<std::string>() == in);
  }
  // Dates: what parses formats back to its own day.
  if (auto t = api::parseIsoDateTime(in)) require(api::isoDate(*t) == in.substr(0, 10));
  auto b64 = api::base64Decode(in);
  if (b64) require(api::base64Encode(*b64).size() == in.size());
  (void)api::presentedUser(in);
  (void)api::isWebhookUrl(in);
}

namespace {

namespace smpp = messaging::smpp;

bool sameReceipt(const smpp::ReceiptText& a, const smpp::ReceiptText& b) {
  return a.id == b.id && a.sub == b.sub && a.dlvrd == b.dlvrd && a.submit_date == b.submit_date &&
         a.done_date == b.done_date && a.stat == b.stat && a.err == b.err && a.text == b.text;
}

void smppPdus(std::string_view in) {
  while (true) {
    auto len = smpp::frameLength(in);
    if (!len) {
      require(!len.error().reason.empty());
      return;
    }
    if (*len == 0 || *len > in.size()) return;
    require(*len >= smpp::kHeaderSize && *len <= smpp::kMaxPduSize);
    std::string_view frame = in.substr(0, *len);
    in.remove_prefix(*len);
    auto pdu = smpp::decode(frame);
    if (!pdu) {
      require(pdu.error().code == common::ErrorCode::kInvalidArgument);
      require(!pdu.error().reason.empty());
      continue;
    }
    // Encoding what decoded gives bytes that decode to the same PDU, and encode the same.
    std::string wire = smpp::encode(*pdu);
    require(wire.size() <= frame.size());
    auto again = smpp::decode(wire);
    require(again.has_value() && *again == *pdu);
    require(smpp::encode(*again) == wire);
    (void)smpp::statusName(pdu->command_status);
    (void)smpp::isThrottling(pdu->command_status);
    auto receipt = smpp::parseReceipt(*pdu);
    if (receipt) {
      require(!receipt->id.empty());
      if (pdu->tlvs.empty()) {
        // A receipt read from text formats to a text that reads back the same.
        smpp::Pdu text;
        text.command_id = smpp::kDeliverSm;
        text.short_message = smpp::formatReceipt(*receipt);
        auto back = smpp::parseReceipt(text);
        require(back.has_value() && sameReceipt(*back, *receipt));
      }
      static const messaging::DlrTable table = messaging::DlrTable::defaults();
      auto o = table.map(receipt->stat, receipt->err);
      require(!o.status.empty() && !o.carrier_status.empty());
    }
  }
}

void smsText(std::string_view in) {
  auto info = messaging::analyzeText(in);
  auto parts = messaging::encodeParts(in, uint8_t(in.size()));
  require(info.has_value() == parts.has_value() || (info && info->segments > 255));
  if (!info) {
    require(info.error().code == common::ErrorCode::kInvalidArgument);
    return;
  }
  require(info->characters <= info->units && info->segments >= 1);
  if (!parts) {
    require(parts.error().code == common::ErrorCode::kTooLarge && info->segments > 255);
    return;
  }
  require(parts->size() == info->segments);
  bool gsm = info->encoding == messaging::TextEncoding::kGsm7;
  messaging::Reassembler r;
  std::optional<std::string> whole;
  // Last part first, so a multi-part text completes only at the end.
  for (size_t k = parts->size(); k-- > 0;) {
    const messaging::EncodedPart& p = (*parts)[k];
    require(p.data_coding == (gsm ? 0x00 : 0x08));
    size_t limit = parts->size() == 1 ? (gsm ? 160 : 140) : (gsm ? 6 + 153 : 6 + 134);
    require(p.bytes.size() <= limit);
    auto d = messaging::decodePart(p.data_coding, p.bytes, (p.esm_class & smpp::kEsmUdhi) != 0);
    auto got = r.add("from", "to", d, 0);
    require(got.has_value() == (k == 0));
    if (got) whole = got;
  }
  require(whole.has_value() && *whole == in);
  require(r.pending() == 0);
}

void smsParts(std::string_view in) {
  messaging::Reassembler r(/*timeout_s=*/5, /*max_pending=*/4);
  int64_t now = 0;
  // A short_message holds at most 254 octets (message_payload more, but decoded the same way).
  std::string_view sm = in.substr(0, 300);
  for (uint8_t dc : {0x00, 0x01, 0x03, 0x04, 0x08}) {
    for (bool udh : {false, true}) {
      auto d = messaging::decodePart(dc, sm, udh);
      require(messaging::analyzeText(d.text).has_value());  // always UTF-8
      require(d.sequence >= 1 && d.sequence <= d.total);
      require(!d.reference.has_value() || udh);
    }
  }
  // The input as a run of small parts: [from][ref][total][seq][len][text ...].
  while (in.size() >= 5) {
    std::string from(1, char('a' + (uint8_t(in[0]) & 3)));
    messaging::DecodedPart p;
    p.reference = uint8_t(in[1]);
    p.total = uint8_t(in[2]) & 7;
    p.sequence = uint8_t(in[3]) & 7;
    size_t n = std::min<size_t>(uint8_t(in[4]) & 15, in.size() - 5);
    p.text = std::string(in.substr(5, n));
    in.remove_prefix(5 + n);
    auto got = r.add(from, "to", p, now);
    if (got) require(got->size() >= p.text.size());
    require(r.pending() <= 4);
    now += uint8_t(p.text.size()) & 3;
    if ((now & 7) == 0) (void)r.expire(now);
  }
}

}  // namespace

void smppInput(const uint8_t* data, size_t size) {
  if (size == 0) return;
  // The first octet picks what the rest is read as, so each run exercises one codec deeply.
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] & 3) {
    case 0:
      smppPdus(in);
      break;
    case 1:
      smsText(in);
      break;
    case 2:
      smsParts(in);
      break;
    default: {
      auto table = messaging::DlrTable::parse(in);
      if (table) {
        auto o = table->map("DELIVRD", "000");
        require(!o.status.empty() && !o.carrier_status.empty());
      } else {
        require(table.error().reason.rfind("line ", 0) == 0);
      }
      break;
    }
  }
}

}  // namespace fuzz
