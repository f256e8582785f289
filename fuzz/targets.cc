#include "targets.h"

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/access_control.h"
#include "api/form.h"
#include "api/json_writer.h"
#include "api/secrets.h"
#include "api/twilio_format.h"
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

}  // namespace fuzz
