#include "sip/validate.h"

namespace sip {
namespace {

using common::ErrorCode;
using common::makeError;

template <typename T>
common::Status check(const common::Result<T>& r, bool required) {
  if (r) return {};
  if (!required && r.error().code == ErrorCode::kNotFound) return {};
  return r.error();
}

}  // namespace

// Via, From, To, Call-ID and CSeq: present (once, but for Via) and well-formed in every
// request and response (§8.1.1).
common::Status checkMandatory(const Message& msg) {
  if (auto s = check(msg.vias(), true); !s) {
    // Without a Via there is nowhere to send an answer (§18.2.2): dropped.
    if (msg.headerCount(HeaderId::kVia) == 0) {
      common::Error e = s.error();
      e.status = 0;
      return e;
    }
    return s;
  }
  if (msg.vias()->empty()) return makeError(ErrorCode::kInvalidArgument, "empty Via", 0);
  if (auto s = check(msg.from(), true); !s) return s;
  if (auto s = check(msg.to(), true); !s) return s;
  if (auto s = check(msg.callId(), true); !s) return s;
  return check(msg.cseq(), true);
}

namespace {

common::Status checkRequest(const Message& msg) {
  // Max-Forwards is not required of RFC 2543 clients (RFC 4475 inv2543), but must be sane
  // when present.
  if (msg.cseq()->method != msg.methodText())
    return makeError(ErrorCode::kInvalidArgument, "CSeq method does not match the request method",
                     400);
  if (auto s = check(msg.maxForwards(), false); !s) return s;
  if (msg.requestUri().isSip() && msg.requestUri().hasHeaders())
    return makeError(ErrorCode::kInvalidArgument, "headers are not allowed in a Request-URI", 400);
  return {};
}

// Headers that are optional but must be well-formed (and single) when present.
common::Status checkOptional(const Message& msg) {
  if (auto s = check(msg.contacts(), false); !s) return s;
  if (auto s = check(msg.routes(), false); !s) return s;
  if (auto s = check(msg.recordRoutes(), false); !s) return s;
  if (auto s = check(msg.paths(), false); !s) return s;
  if (auto s = check(msg.expires(), false); !s) return s;
  if (auto s = check(msg.contentType(), false); !s) return s;
  for (HeaderId id : {HeaderId::kRequire, HeaderId::kProxyRequire, HeaderId::kSupported,
                      HeaderId::kUnsupported, HeaderId::kAllow}) {
    if (auto s = check(msg.tokens(id), false); !s) return s;
  }
  if (msg.headerCount(HeaderId::kMinExpires) > 1)
    return makeError(ErrorCode::kInvalidArgument, "more than one Min-Expires header", 400);
  if (const HeaderField* f = msg.findHeader(HeaderId::kMinExpires)) {
    if (auto r = parseDeltaSeconds(f->value); !r) return r.error();
  }
  if (msg.headerCount(HeaderId::kDate) > 1)
    return makeError(ErrorCode::kInvalidArgument, "more than one Date header", 400);
  if (const HeaderField* f = msg.findHeader(HeaderId::kDate)) {
    if (auto s = checkSipDate(f->value); !s) return s;
  }
  return {};
}

}  // namespace

common::Status validate(const Message& msg) {
  common::Status s = checkMandatory(msg);
  if (s && msg.isRequest()) s = checkRequest(msg);
  if (s) s = checkOptional(msg);
  if (!s && msg.isResponse()) {
    common::Error e = s.error();
    e.status = 0;
    return e;
  }
  return s;
}

Verdict checkDatagram(std::string_view bytes, const ParseOptions& opts) {
  auto msg = Message::parse(bytes, opts);
  if (!msg) return Verdict{false, msg.error().status, msg.error().reason};
  if (auto s = validate(*msg); !s) return Verdict{false, s.error().status, s.error().reason};
  return Verdict{true, 0, {}};
}

}  // namespace sip
