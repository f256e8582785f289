#include "sip/message.h"

#include <cstring>

#include "common/strings.h"
#include "sip/internal/scan.h"

namespace sip {
namespace {

using common::ErrorCode;
using common::makeError;

constexpr size_t kMaxHeaderFields = 1024;
constexpr uint16_t kNone = 0xFFFF;
constexpr size_t kPadding = 8;

common::Unexpected bad(std::string why, int status = 400) {
  return makeError(ErrorCode::kInvalidArgument, std::move(why), status);
}

// "SIP/2.0" -> 0 (ours), a well-formed other version -> 505, anything else -> 400.
int checkVersion(std::string_view v) {
  if (v == "SIP/2.0") return 0;
  if (v.size() < 7 || !common::iequals(v.substr(0, 4), "SIP/")) return 400;
  size_t i = 4, b = i;
  while (i < v.size() && common::isDigit(v[i])) ++i;
  if (i == b || i >= v.size() || v[i] != '.') return 400;
  size_t b2 = ++i;
  while (i < v.size() && common::isDigit(v[i])) ++i;
  if (i == b2 || i != v.size()) return 400;
  return v.substr(4) == "2.0" ? 0 : 505;
}

}  // namespace

common::Result<Message> Message::parse(std::string_view bytes, const ParseOptions& opts) {
  // Every path returns `r`, so the message is built in the caller's storage (NRVO).
  common::Result<Message> r(std::in_place, Key{});
  bool response = bytes.size() >= 4 && std::memcmp(bytes.data(), "SIP/", 4) == 0;
  if (bytes.size() > opts.max_bytes) {
    r = makeError(ErrorCode::kTooLarge,
                  "message of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                      std::to_string(opts.max_bytes),
                  response ? 0 : 513);
    return r;
  }
  Message& m = *r;
  // Padding after the bytes lets the header-name lookup read whole words.
  m.buf_ = std::make_unique_for_overwrite<char[]>(bytes.size() + kPadding);
  if (!bytes.empty()) std::memcpy(m.buf_.get(), bytes.data(), bytes.size());
  std::memset(m.buf_.get() + bytes.size(), 0, kPadding);
  m.size_ = bytes.size();
  if (auto st = m.parseBytes(opts); !st) {
    common::Error e = st.error();
    if (response || m.status_code_ != 0) e.status = 0;  // a bad response is dropped
    r = std::move(e);
  }
  return r;
}

common::Result<void> Message::parseStartLine(std::string_view line, const ParseOptions& opts) {
  if (line.size() >= 4 && std::memcmp(line.data(), "SIP/", 4) == 0) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return bad("bad status line", 0);
    version_ = line.substr(0, sp);
    if (checkVersion(version_) != 0) return bad("unsupported SIP version in response", 0);
    std::string_view rest = line.substr(sp + 1);
    if (rest.size() < 3 || !common::isDigit(rest[0]) || !common::isDigit(rest[1]) ||
        !common::isDigit(rest[2]) || (rest.size() > 3 && rest[3] != ' '))
      return bad("status code is not three digits", 0);
    int code = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
    if (code < 100 || code > 699) return bad("status code out of range", 0);
    status_code_ = code;
    reason_ = rest.size() > 4 ? rest.substr(4) : std::string_view();
    for (char c : reason_) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
        return bad("control character in reason phrase", 0);
    }
    return {};
  }
  // Request-Line = Method SP Request-URI SP SIP-Version: exactly one SP between elements.
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return bad("bad request line");
  method_text_ = line.substr(0, sp1);
  for (char c : method_text_) {
    if (!internal::isTokenChar(c)) return bad("bad method");
  }
  std::string_view rest = line.substr(sp1 + 1);
  size_t sp2 = rest.find(' ');
  if (sp2 == std::string_view::npos || sp2 == 0) return bad("bad request line");
  request_uri_text_ = rest.substr(0, sp2);
  version_ = rest.substr(sp2 + 1);
  if (int v = checkVersion(version_); v != 0) {
    return bad(v == 505 ? "SIP version not supported" : "bad SIP version in request line", v);
  }
  if (auto st = Uri::parseInto(request_uri_text_, request_uri_); !st) {
    if (!opts.lenient_request_uri) return bad("bad Request-URI: " + st.error().reason);
    request_uri_ = Uri();
  }
  method_ = methodFromName(method_text_);
  return {};
}

common::Result<void> Message::parseBytes(const ParseOptions& opts) {
  const char* p = buf_.get();
  const size_t n = size_;
  for (auto& f : first_) f = kNone;

  size_t pos = 0;
  // §7.5: CRLFs before the start line are ignored (keep-alives on a stream, stray octets).
  while (pos < n && (p[pos] == '\r' || p[pos] == '\n')) ++pos;
  start_begin_ = uint32_t(pos);
  const char* nl = static_cast<const char*>(std::memchr(p + pos, '\n', n - pos));
  if (nl == nullptr) return bad("no line end after the start line");
  size_t line_end = size_t(nl - p);
  size_t content_end = (line_end > pos && p[line_end - 1] == '\r') ? line_end - 1 : line_end;
  if (auto st = parseStartLine(std::string_view(p + pos, content_end - pos), opts); !st) return st;

  size_t cur = line_end + 1;
  headers_begin_ = uint32_t(cur);
  for (;;) {
    if (cur >= n) return bad("no empty line after the header fields");
    if (p[cur] == '\r' && cur + 1 < n && p[cur + 1] == '\n') {
      headers_end_ = uint32_t(cur);
      cur += 2;
      break;
    }
    if (p[cur] == '\n') {
      headers_end_ = uint32_t(cur);
      cur += 1;
      break;
    }
    if (p[cur] == ' ' || p[cur] == '\t') return bad("continuation line without a header field");
    size_t begin = cur;
    // field-name = token, then optional white space and the colon.
    size_t k = cur;
    k = internal::spanClass(p, k, n, internal::kToken);
    std::string_view name(p + begin, k - begin);
    while (k < n && (p[k] == ' ' || p[k] == '\t')) ++k;
    if (k >= n || p[k] != ':') {
      bool eol = k >= n || p[k] == '\r' || p[k] == '\n';
      return bad(eol ? "header line without a colon" : "bad character in header name");
    }
    if (name.empty()) return bad("empty header name");
    const char* colon = p + k;
    nl = static_cast<const char*>(std::memchr(colon, '\n', n - k));
    if (nl == nullptr) return bad("header field without a line end");
    // A line that starts with SP or HT continues the field (folding, §7.3.1).
    while (size_t(nl - p) + 1 < n && (nl[1] == ' ' || nl[1] == '\t')) {
      nl = static_cast<const char*>(std::memchr(nl + 1, '\n', n - size_t(nl - p) - 1));
      if (nl == nullptr) return bad("header field without a line end");
    }
    size_t field_end = size_t(nl - p) + 1;
    size_t value_end = size_t(nl - p);
    if (value_end > k && p[value_end - 1] == '\r') --value_end;
    if (headers_.size() >= kMaxHeaderFields) return bad("too many header fields");
    HeaderId id = internal::headerIdFromPaddedName(name);
    size_t idx = size_t(id);
    if (first_[idx] == kNone) first_[idx] = uint16_t(headers_.size());
    ++counts_[idx];
    HeaderField& f = headers_.emplace_back();
    f.name = name;
    f.value = common::trimLws(std::string_view(colon + 1, value_end - size_t(colon - p) - 1));
    f.line_begin = uint32_t(begin);
    f.line_end = uint32_t(field_end);
    f.id = id;
    cur = field_end;
  }

  // NUL may appear in a header only as a quoted-pair inside a quoted string.
  for (const char* z = static_cast<const char*>(
           std::memchr(p + headers_begin_, '\0', headers_end_ - headers_begin_));
       z != nullptr;
       z = static_cast<const char*>(std::memchr(z + 1, '\0', p + headers_end_ - z - 1))) {
    if (z == p || z[-1] != '\\') return bad("NUL octet in a header field");
  }

  size_t available = n - cur;
  if (counts_[size_t(HeaderId::kContentLength)] > 1) return bad("multiple Content-Length fields");
  if (counts_[size_t(HeaderId::kContentLength)] == 1) {
    auto cl = common::parseUint(headerValue(HeaderId::kContentLength), opts.max_bytes);
    if (!cl) return bad("bad Content-Length");
    if (*cl > available) {
      if (opts.datagram) return bad("Content-Length larger than the message");
      return makeError(ErrorCode::kIncomplete, "body incomplete", 400);
    }
    content_length_ = uint32_t(*cl);
    body_ = std::string_view(p + cur, *cl);
    size_ = cur + *cl;  // octets after the body (a datagram's trailer) are not the message
  } else {
    body_ = std::string_view(p + cur, available);
  }
  return {};
}

const HeaderField* Message::findHeader(HeaderId id) const {
  uint16_t i = first_[size_t(id)];
  return i == kNone ? nullptr : &headers_[i];
}

const HeaderField* Message::findHeader(std::string_view name) const {
  HeaderId id = headerIdFromName(name);
  if (id != HeaderId::kOther) return findHeader(id);
  for (const HeaderField& f : headers_) {
    if (f.id == HeaderId::kOther && common::iequals(f.name, name)) return &f;
  }
  return nullptr;
}

namespace {

common::Unexpected missing(HeaderId id) {
  return makeError(ErrorCode::kNotFound, "no " + std::string(headerName(id)) + " header", 400);
}

}  // namespace

// Typed headers are parsed straight into their cache slot: the values hold small inline
// vectors, and a parse that returned by value would copy them twice.
template <typename T, typename ParseFn>
const common::Result<T>& Message::single(std::optional<common::Result<T>>& cache, HeaderId id,
                                         ParseFn&& fn) const {
  if (!cache) {
    size_t count = counts_[size_t(id)];
    if (count == 0) {
      cache.emplace(missing(id));
    } else if (count > 1) {
      cache.emplace(bad("more than one " + std::string(headerName(id)) + " header"));
    } else {
      cache.emplace(std::in_place);
      if (common::Status st = fn(headerValue(id), **cache); !st) *cache = st.error();
    }
  }
  return *cache;
}

template <typename List, typename ParseFn>
const common::Result<List>& Message::multi(std::optional<common::Result<List>>& cache, HeaderId id,
                                           ParseFn&& fn) const {
  if (!cache) {
    if (counts_[size_t(id)] == 0) {
      cache.emplace(missing(id));
      return *cache;
    }
    cache.emplace(std::in_place);
    for (size_t i = first_[size_t(id)]; i < headers_.size(); ++i) {
      if (headers_[i].id != id) continue;
      if (common::Status st = fn(headers_[i].value, **cache); !st) {
        *cache = st.error();
        break;
      }
    }
  }
  return *cache;
}

const common::Result<ViaList>& Message::vias() const {
  return multi(vias_, HeaderId::kVia,
               [](std::string_view v, ViaList& l) { return parseVia(v, l); });
}
const common::Result<NameAddr>& Message::from() const {
  return single(from_, HeaderId::kFrom,
                [](std::string_view v, NameAddr& out) { return parseNameAddr(v, out); });
}
const common::Result<NameAddr>& Message::to() const {
  return single(to_, HeaderId::kTo,
                [](std::string_view v, NameAddr& out) { return parseNameAddr(v, out); });
}

namespace {

// Adapts a parser that returns Result<T> to the parse-into form of the caches.
template <typename T, typename Fn>
auto into(Fn fn) {
  return [fn](std::string_view v, T& out) -> common::Status {
    auto r = fn(v);
    if (!r) return r.error();
    out = std::move(*r);
    return {};
  };
}

}  // namespace

const common::Result<std::string_view>& Message::callId() const {
  return single(call_id_, HeaderId::kCallId, into<std::string_view>(parseCallId));
}
const common::Result<CSeq>& Message::cseq() const {
  return single(cseq_, HeaderId::kCSeq, into<CSeq>(parseCSeq));
}
const common::Result<ContactList>& Message::contacts() const {
  return multi(contacts_, HeaderId::kContact,
               [](std::string_view v, ContactList& l) { return parseContact(v, l); });
}
const common::Result<NameAddrList>& Message::routes() const {
  return multi(routes_, HeaderId::kRoute,
               [](std::string_view v, NameAddrList& l) { return parseRouteList(v, l); });
}
const common::Result<NameAddrList>& Message::recordRoutes() const {
  return multi(record_routes_, HeaderId::kRecordRoute,
               [](std::string_view v, NameAddrList& l) { return parseRouteList(v, l); });
}
const common::Result<NameAddrList>& Message::paths() const {
  return multi(paths_, HeaderId::kPath,
               [](std::string_view v, NameAddrList& l) { return parseRouteList(v, l); });
}

common::Result<uint32_t> Message::maxForwards() const {
  std::optional<common::Result<uint32_t>> r;
  return single(r, HeaderId::kMaxForwards, into<uint32_t>(parseMaxForwards));
}
common::Result<uint32_t> Message::expires() const {
  std::optional<common::Result<uint32_t>> r;
  return single(r, HeaderId::kExpires, into<uint32_t>(parseDeltaSeconds));
}
common::Result<MediaType> Message::contentType() const {
  std::optional<common::Result<MediaType>> r;
  return single(r, HeaderId::kContentType, into<MediaType>(parseMediaType));
}
common::Result<TokenList> Message::tokens(HeaderId id) const {
  TokenList list;
  if (counts_[size_t(id)] == 0) return list;
  const bool may_be_empty = id == HeaderId::kSupported || id == HeaderId::kAllow;
  for (size_t i = first_[size_t(id)]; i < headers_.size(); ++i) {
    if (headers_[i].id != id) continue;
    if (auto st = parseTokenList(headers_[i].value, list, may_be_empty); !st) return st.error();
  }
  return list;
}

common::Result<Credentials> Message::credentials(HeaderId id, std::string_view realm) const {
  if (counts_[size_t(id)] == 0) return missing(id);
  for (size_t i = first_[size_t(id)]; i < headers_.size(); ++i) {
    if (headers_[i].id != id) continue;
    auto c = parseCredentials(headers_[i].value);
    if (!c) return c.error();
    if (realm.empty() || c->get("realm") == realm) return c;
  }
  return makeError(ErrorCode::kNotFound, "no credentials for realm " + std::string(realm), 400);
}

common::Result<Challenge> Message::challenge(HeaderId id) const {
  const HeaderField* f = findHeader(id);
  if (f == nullptr) return missing(id);
  return parseChallenge(f->value);
}

std::string Message::serialize() const {
  std::string out;
  serializeTo(out);
  return out;
}

namespace {

void appendLine(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

// Writes the field `name: v2, v3 ...` without its first `drop` comma-separated values;
// returns how many values it dropped.
uint32_t writeWithoutFirstValues(std::string& out, const HeaderField& f, uint32_t drop) {
  uint32_t dropped = 0;
  std::string rest;
  internal::forEachCommaElement(f.value, [&](std::string_view element) {
    if (dropped < drop) {
      ++dropped;
    } else {
      if (!rest.empty()) rest.append(", ");
      rest.append(element);
    }
    return true;
  });
  if (!rest.empty()) appendLine(out, f.name, rest);
  return dropped;
}

}  // namespace

void Message::writeEditedHeaders(std::string& out) const {
  const char* p = buf_.get();
  const MessageEdits& e = edits_;
  for (auto it = e.pushed_vias_.rbegin(); it != e.pushed_vias_.rend(); ++it) {
    appendLine(out, "Via", *it);
  }
  bool rr_written = e.record_routes_.empty();
  if (counts_[size_t(HeaderId::kRecordRoute)] == 0 && !rr_written) {
    for (auto it = e.record_routes_.rbegin(); it != e.record_routes_.rend(); ++it)
      appendLine(out, "Record-Route", *it);
    rr_written = true;
  }
  uint32_t via_pops = e.via_pops_, route_pops = e.route_pops_;
  // The original topmost Via is replaced only when it is not popped.
  const std::string* top_via = (e.top_via_ && via_pops == 0) ? &*e.top_via_ : nullptr;
  for (size_t i = 0; i < headers_.size(); ++i) {
    const HeaderField& f = headers_[i];
    bool removed = false;
    for (size_t r : e.removed_) removed |= (r == i);
    if (removed) continue;
    if (f.id == HeaderId::kRecordRoute && !rr_written) {
      for (auto it = e.record_routes_.rbegin(); it != e.record_routes_.rend(); ++it)
        appendLine(out, "Record-Route", *it);
      rr_written = true;
    }
    if (f.id == HeaderId::kVia && via_pops > 0) {
      via_pops -= writeWithoutFirstValues(out, f, via_pops);
      continue;
    }
    if (f.id == HeaderId::kVia && top_via) {
      appendLine(out, "Via", *top_via);
      writeWithoutFirstValues(out, f, 1);
      top_via = nullptr;
      continue;
    }
    if (f.id == HeaderId::kRoute && route_pops > 0) {
      route_pops -= writeWithoutFirstValues(out, f, route_pops);
      continue;
    }
    if (f.id == HeaderId::kMaxForwards && e.decrement_max_forwards_) {
      auto mf = common::parseUint(f.value, 255);
      uint64_t v = (mf && *mf > 0) ? *mf - 1 : 0;
      appendLine(out, f.name, std::to_string(v));
      continue;
    }
    out.append(p + f.line_begin, f.line_end - f.line_begin);
  }
  if (e.decrement_max_forwards_ && isRequest() && counts_[size_t(HeaderId::kMaxForwards)] == 0)
    appendLine(out, "Max-Forwards", "70");
  for (const auto& [name, value] : e.added_) appendLine(out, name, value);
}

void Message::serializeTo(std::string& out) const {
  if (edits_.empty()) {
    out.append(raw());
    return;
  }
  const char* p = buf_.get();
  out.reserve(out.size() + size_ + 256);
  if (isRequest() && edits_.request_uri_) {
    out.append(method_text_);
    out.push_back(' ');
    out.append(*edits_.request_uri_);
    out.push_back(' ');
    out.append(version_);
    out.append("\r\n");
  } else {
    out.append(p + start_begin_, headers_begin_ - start_begin_);
  }
  writeEditedHeaders(out);
  out.append(p + headers_end_, size_ - headers_end_);
}

}  // namespace sip
