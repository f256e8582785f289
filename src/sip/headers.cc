#include "sip/headers.h"

#include <array>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "common/strings.h"
#include "sip/internal/scan.h"

namespace sip {
namespace {

using common::ErrorCode;
using common::iequals;
using common::makeError;
using internal::scanQuoted;
using internal::scanToken;
using internal::skipLws;

common::Unexpected bad(std::string why) {
  return makeError(ErrorCode::kInvalidArgument, std::move(why), 400);
}

struct NameEntry {
  std::string_view name;
  HeaderId id;
};

constexpr std::array<NameEntry, size_t(HeaderId::kCount)> kNames = {{
    {"", HeaderId::kOther},
    {"Via", HeaderId::kVia},
    {"From", HeaderId::kFrom},
    {"To", HeaderId::kTo},
    {"Call-ID", HeaderId::kCallId},
    {"CSeq", HeaderId::kCSeq},
    {"Max-Forwards", HeaderId::kMaxForwards},
    {"Contact", HeaderId::kContact},
    {"Route", HeaderId::kRoute},
    {"Record-Route", HeaderId::kRecordRoute},
    {"Path", HeaderId::kPath},
    {"Expires", HeaderId::kExpires},
    {"Min-Expires", HeaderId::kMinExpires},
    {"Content-Length", HeaderId::kContentLength},
    {"Content-Type", HeaderId::kContentType},
    {"Content-Encoding", HeaderId::kContentEncoding},
    {"Authorization", HeaderId::kAuthorization},
    {"Proxy-Authorization", HeaderId::kProxyAuthorization},
    {"WWW-Authenticate", HeaderId::kWwwAuthenticate},
    {"Proxy-Authenticate", HeaderId::kProxyAuthenticate},
    {"Authentication-Info", HeaderId::kAuthenticationInfo},
    {"Require", HeaderId::kRequire},
    {"Proxy-Require", HeaderId::kProxyRequire},
    {"Supported", HeaderId::kSupported},
    {"Unsupported", HeaderId::kUnsupported},
    {"Allow", HeaderId::kAllow},
    {"Accept", HeaderId::kAccept},
    {"Date", HeaderId::kDate},
    {"Subject", HeaderId::kSubject},
    {"Event", HeaderId::kEvent},
    {"Allow-Events", HeaderId::kAllowEvents},
    {"Refer-To", HeaderId::kReferTo},
    {"Referred-By", HeaderId::kReferredBy},
    {"Session-Expires", HeaderId::kSessionExpires},
    {"Identity", HeaderId::kIdentity},
    {"User-Agent", HeaderId::kUserAgent},
    {"Server", HeaderId::kServer},
    {"Timestamp", HeaderId::kTimestamp},
    {"Retry-After", HeaderId::kRetryAfter},
    {"Warning", HeaderId::kWarning},
}};

HeaderId compactForm(char c) {
  switch (common::toLowerAscii(c)) {
    case 'i':
      return HeaderId::kCallId;
    case 'm':
      return HeaderId::kContact;
    case 'e':
      return HeaderId::kContentEncoding;
    case 'l':
      return HeaderId::kContentLength;
    case 'c':
      return HeaderId::kContentType;
    case 'f':
      return HeaderId::kFrom;
    case 's':
      return HeaderId::kSubject;
    case 'k':
      return HeaderId::kSupported;
    case 't':
      return HeaderId::kTo;
    case 'v':
      return HeaderId::kVia;
    case 'o':
      return HeaderId::kEvent;
    case 'u':
      return HeaderId::kAllowEvents;
    case 'r':
      return HeaderId::kReferTo;
    case 'b':
      return HeaderId::kReferredBy;
    case 'x':
      return HeaderId::kSessionExpires;
    case 'y':
      return HeaderId::kIdentity;
    default:
      return HeaderId::kOther;
  }
}

// Header names compared a word at a time: for each known name its lower-case bytes and a
// mask with 0x20 on letters and 0 elsewhere, so `(input | mask) == lower` matches letters in
// either case and every other byte ('-') exactly. Names are at most 24 bytes.
struct NameKey {
  uint64_t lower[3] = {};
  uint64_t mask[3] = {};
  uint8_t len = 0;
};

constexpr NameKey makeKey(std::string_view n) {
  NameKey k;
  k.len = uint8_t(n.size());
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    uint64_t lower = uint8_t(letter ? (c | 0x20) : c);
    k.lower[i / 8] |= lower << (8 * (i % 8));
    if (letter) k.mask[i / 8] |= uint64_t(0x20) << (8 * (i % 8));
  }
  return k;
}

struct NameTable {
  NameKey keys[size_t(HeaderId::kCount)];
  // Candidates by (length, lower-case first letter): up to 3 ids each.
  uint8_t slots[25][26][3] = {};
  constexpr NameTable() {
    for (size_t id = 1; id < kNames.size(); ++id) {
      std::string_view n = kNames[id].name;
      keys[id] = makeKey(n);
      uint8_t* slot = slots[n.size()][size_t(common::toLowerAscii(n[0]) - 'a')];
      for (int j = 0; j < 3; ++j) {
        if (slot[j] == 0) {
          slot[j] = uint8_t(id);
          break;
        }
      }
    }
  }
};
constexpr NameTable kTable{};

// Loads up to 8 bytes little-endian without reading past `n`.
inline uint64_t loadWord(const char* p, size_t n) {
  uint64_t w = 0;
  if (n >= 8) {
    std::memcpy(&w, p, 8);
    return w;
  }
  for (size_t i = 0; i < n; ++i) w |= uint64_t(uint8_t(p[i])) << (8 * i);
  return w;
}

inline bool matches(const NameKey& k, std::string_view name) {
  for (size_t w = 0; w * 8 < name.size(); ++w) {
    size_t off = w * 8;
    if ((loadWord(name.data() + off, name.size() - off) | k.mask[w]) != k.lower[w]) return false;
  }
  return true;
}

// The same when 8 readable bytes follow the name: whole-word loads, the tail masked off.
inline bool matchesPadded(const NameKey& k, const char* p, size_t len) {
  // Whole words compare as they are; the last one keeps only the name's bytes.
  const uint64_t tail = (len % 8) ? (uint64_t(1) << (8 * (len % 8))) - 1 : ~uint64_t(0);
  const size_t words = (len + 7) / 8;
  uint64_t w;
  for (size_t i = 0; i + 1 < words; ++i) {
    std::memcpy(&w, p + 8 * i, 8);
    if ((w | k.mask[i]) != k.lower[i]) return false;
  }
  std::memcpy(&w, p + 8 * (words - 1), 8);
  return ((w & tail) | k.mask[words - 1]) == k.lower[words - 1];
}

template <bool kPadded>
inline HeaderId lookup(std::string_view name) {
  if (name.size() == 1) return compactForm(name[0]);
  if (name.empty() || name.size() >= 25) return HeaderId::kOther;
  char first = common::toLowerAscii(name[0]);
  if (first < 'a' || first > 'z') return HeaderId::kOther;
  for (uint8_t id : kTable.slots[name.size()][size_t(first - 'a')]) {
    if (id == 0) break;
    bool hit = kPadded ? matchesPadded(kTable.keys[id], name.data(), name.size())
                       : matches(kTable.keys[id], name);
    if (hit) return HeaderId(id);
  }
  return HeaderId::kOther;
}

}  // namespace

HeaderId headerIdFromName(std::string_view name) {
  return lookup<false>(name);
}

namespace internal {
HeaderId headerIdFromPaddedName(std::string_view name) {
  return lookup<true>(name);
}
}  // namespace internal

std::string_view headerName(HeaderId id) {
  return kNames[size_t(id)].name;
}

Method methodFromName(std::string_view n) {
  switch (n.size()) {
    case 3:
      if (n == "ACK") return Method::kAck;
      if (n == "BYE") return Method::kBye;
      break;
    case 4:
      if (n == "INFO") return Method::kInfo;
      break;
    case 5:
      if (n == "PRACK") return Method::kPrack;
      if (n == "REFER") return Method::kRefer;
      break;
    case 6:
      if (n == "INVITE") return Method::kInvite;
      if (n == "CANCEL") return Method::kCancel;
      if (n == "UPDATE") return Method::kUpdate;
      if (n == "NOTIFY") return Method::kNotify;
      break;
    case 7:
      if (n == "OPTIONS") return Method::kOptions;
      if (n == "MESSAGE") return Method::kMessage;
      if (n == "PUBLISH") return Method::kPublish;
      break;
    case 8:
      if (n == "REGISTER") return Method::kRegister;
      break;
    case 9:
      if (n == "SUBSCRIBE") return Method::kSubscribe;
      break;
    default:
      break;
  }
  return Method::kOther;
}

std::string_view methodName(Method m) {
  switch (m) {
    case Method::kInvite:
      return "INVITE";
    case Method::kAck:
      return "ACK";
    case Method::kBye:
      return "BYE";
    case Method::kCancel:
      return "CANCEL";
    case Method::kRegister:
      return "REGISTER";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kInfo:
      return "INFO";
    case Method::kUpdate:
      return "UPDATE";
    case Method::kPrack:
      return "PRACK";
    case Method::kSubscribe:
      return "SUBSCRIBE";
    case Method::kNotify:
      return "NOTIFY";
    case Method::kRefer:
      return "REFER";
    case Method::kMessage:
      return "MESSAGE";
    case Method::kPublish:
      return "PUBLISH";
    case Method::kOther:
      break;
  }
  return "";
}

std::optional<uint16_t> Via::rport() const {
  auto v = params.find("rport");
  if (!v || v->empty()) return std::nullopt;
  auto n = common::parseUint(*v, 65535);
  if (!n) return std::nullopt;
  return uint16_t(*n);
}

bool Via::hasRfc3261Branch() const {
  auto b = branch();
  return b && b->size() > 7 && b->substr(0, 7) == "z9hG4bK";
}

std::optional<uint32_t> NameAddr::expires() const {
  auto v = params.find("expires");
  if (!v) return std::nullopt;
  auto n = common::parseUint(*v, 0xFFFFFFFFu);
  if (!n) return std::nullopt;
  return uint32_t(*n);
}

namespace {

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths.
std::optional<int> parseQ(std::string_view v) {
  if (v.empty() || (v[0] != '0' && v[0] != '1')) return std::nullopt;
  int whole = v[0] - '0';
  int frac = 0, digits = 0;
  if (v.size() > 1) {
    if (v[1] != '.' || v.size() > 5) return std::nullopt;
    for (size_t i = 2; i < v.size(); ++i) {
      if (!common::isDigit(v[i])) return std::nullopt;
      frac = frac * 10 + (v[i] - '0');
      ++digits;
    }
  }
  for (; digits < 3; ++digits) frac *= 10;
  if (whole == 1 && frac != 0) return std::nullopt;
  return whole * 1000 + frac;
}

}  // namespace

std::optional<int> NameAddr::qMillis() const {
  auto v = params.find("q");
  if (!v) return std::nullopt;
  return parseQ(*v);
}

namespace {

// sent-protocol = protocol-name SLASH protocol-version SLASH transport, LWS allowed around
// the slashes (RFC 4475 wsinv).
common::Status parseSentProtocol(std::string_view s, size_t& i, Via& via) {
  via.protocol_name = scanToken(s, i);
  skipLws(s, i);
  if (via.protocol_name.empty() || i >= s.size() || s[i] != '/') return bad("bad Via protocol");
  ++i;
  skipLws(s, i);
  via.protocol_version = scanToken(s, i);
  skipLws(s, i);
  if (via.protocol_version.empty() || i >= s.size() || s[i] != '/')
    return bad("bad Via protocol version");
  ++i;
  skipLws(s, i);
  via.transport = scanToken(s, i);
  if (via.transport.empty()) return bad("bad Via transport");
  return {};
}

}  // namespace

common::Status parseVia(std::string_view value, ViaList& out) {
  std::string_view s = value;
  size_t i = 0;
  for (;;) {
    skipLws(s, i);
    Via& via = out.emplace_back();
    if (s.size() - i > 8 && s.compare(i, 8, "SIP/2.0/") == 0) {
      // The form nearly every Via has: no white space around the slashes.
      via.protocol_name = s.substr(i, 3);
      via.protocol_version = s.substr(i + 4, 3);
      i += 8;
      via.transport = scanToken(s, i);
      if (via.transport.empty()) return bad("bad Via transport");
    } else if (auto st = parseSentProtocol(s, i, via); !st) {
      return st;
    }
    size_t before = i;
    skipLws(s, i);
    if (i == before) return bad("no space before Via sent-by");
    // sent-by = host [ COLON port ]
    size_t hb = i;
    if (i < s.size() && s[i] == '[') {
      while (i < s.size() && s[i] != ']') ++i;
      if (i >= s.size()) return bad("unterminated IPv6 reference in Via");
      ++i;
    } else {
      i = internal::spanClass(s.data(), i, s.size(), internal::kHost);
    }
    via.host = s.substr(hb, i - hb);
    if (via.host.empty()) return bad("empty Via host");
    size_t save = i;
    skipLws(s, i);
    if (i < s.size() && s[i] == ':') {
      ++i;
      skipLws(s, i);
      size_t pb = i;
      while (i < s.size() && common::isDigit(s[i])) ++i;
      auto port = common::parseUint(s.substr(pb, i - pb), 65535);
      if (!port || *port == 0) return bad("bad Via port");
      via.port = uint16_t(*port);
    } else {
      i = save;
    }
    if (!internal::parseGenericParams(s, i, via.params)) return bad("bad Via parameter");
    // A comment in parentheses is allowed by RFC 2543 implementations; we do not accept it.
    skipLws(s, i);
    if (i >= s.size()) return {};
    if (s[i] != ',') return bad("junk after Via value");
    ++i;
  }
}

namespace {

// Parses a name-addr or addr-spec at the start of `s`, leaving `i` after its parameters.
common::Status parseNameAddrAt(std::string_view s, size_t& i, NameAddr& out) {
  skipLws(s, i);
  size_t start = i;
  if (i < s.size() && s[i] == '"') {
    auto q = scanQuoted(s, i);
    if (!q) return bad("unterminated quoted display name");
    out.display_name = *q;
    skipLws(s, i);
    if (i >= s.size() || s[i] != '<') return bad("display name without <URI>");
  } else {
    // *(token LWS) "<" is a name-addr; anything else must be an addr-spec.
    size_t j = i;
    while (j < s.size() && (internal::isTokenChar(s[j]) || s[j] == ' ' || s[j] == '\t' ||
                            s[j] == '\r' || s[j] == '\n'))
      ++j;
    if (j < s.size() && s[j] == '<') {
      out.display_name = common::trimLws(s.substr(start, j - start));
      i = j;
    }
  }
  if (i < s.size() && s[i] == '<') {
    size_t close = s.find('>', i + 1);
    if (close == std::string_view::npos) return bad("unterminated <URI>");
    if (auto st = Uri::parseInto(s.substr(i + 1, close - i - 1), out.uri); !st) return st;
    out.angle_brackets = true;
    i = close + 1;
  } else {
    // addr-spec: a URI with a comma, semicolon or question mark must be enclosed in <>
    // (§20.10), so the URI ends at the first ";" (header parameters) or "," (next value).
    size_t end = i;
    while (end < s.size() && s[end] != ';' && s[end] != ',') ++end;
    std::string_view text = common::trimLws(s.substr(i, end - i));
    if (text.empty()) return bad("empty URI");
    for (char c : text) {
      if (c == ' ' || c == '\t' || c == ',' || c == '?' || c == '\r' || c == '\n')
        return bad("addr-spec with space, comma or headers must be enclosed in <>");
    }
    if (auto st = Uri::parseInto(text, out.uri); !st) return st;
    i = end;
  }
  if (!internal::parseGenericParams(s, i, out.params)) return bad("bad header parameter");
  skipLws(s, i);
  return {};
}

// Contact parameters that must be well-formed for a registrar to use them.
common::Status checkContactParams(const NameAddr& na) {
  for (const Param& p : na.params) {
    if (p.name.size() == 1 && (p.name[0] | 0x20) == 'q') {
      if (!parseQ(p.value)) return bad("bad q value");
    } else if (p.name.size() == 7 && iequals(p.name, "expires")) {
      if (!common::parseUint(p.value, 0xFFFFFFFFu)) return bad("bad expires parameter");
    }
  }
  return {};
}

// A comma-separated list of name-addrs, parsed in one pass into `out`.
template <typename List>
common::Status parseNameAddrList(std::string_view s, List& out, bool require_angle) {
  size_t i = 0;
  for (;;) {
    NameAddr& na = out.emplace_back();
    if (auto st = parseNameAddrAt(s, i, na); !st) return st;
    if (require_angle && !na.angle_brackets) return bad("route entry without <>");
    if (auto st = checkContactParams(na); !st) return st;
    if (i >= s.size()) return {};
    if (s[i] != ',') return bad("junk after name-addr");
    ++i;
  }
}

}  // namespace

common::Status parseNameAddr(std::string_view value, NameAddr& out) {
  size_t i = 0;
  if (auto st = parseNameAddrAt(value, i, out); !st) return st;
  if (i != value.size()) return bad("junk after name-addr");
  return checkContactParams(out);
}

common::Result<NameAddr> parseNameAddr(std::string_view value) {
  common::Result<NameAddr> r(std::in_place);
  if (auto st = parseNameAddr(value, *r); !st) return st.error();
  return r;
}

common::Status parseContact(std::string_view value, ContactList& out) {
  std::string_view v = common::trimLws(value);
  if (v == "*") {
    out.star = true;
    return {};
  }
  return parseNameAddrList(v, out.contacts, /*require_angle=*/false);
}

common::Status parseRouteList(std::string_view value, NameAddrList& out) {
  return parseNameAddrList(common::trimLws(value), out, /*require_angle=*/true);
}

common::Result<CSeq> parseCSeq(std::string_view value) {
  std::string_view s = value;
  size_t i = 0;
  skipLws(s, i);
  size_t b = i;
  while (i < s.size() && common::isDigit(s[i])) ++i;
  auto n = common::parseUint(s.substr(b, i - b), 0x7FFFFFFFu);
  if (!n) return bad("CSeq number missing or not below 2**31");
  size_t before = i;
  skipLws(s, i);
  if (i == before) return bad("no space in CSeq");
  CSeq c;
  c.number = uint32_t(*n);
  c.method = scanToken(s, i);
  if (c.method.empty()) return bad("CSeq without method");
  skipLws(s, i);
  if (i != s.size()) return bad("junk after CSeq method");
  return c;
}

common::Result<MediaType> parseMediaType(std::string_view value) {
  std::string_view s = value;
  size_t i = 0;
  skipLws(s, i);
  MediaType m;
  m.type = scanToken(s, i);
  skipLws(s, i);
  if (m.type.empty() || i >= s.size() || s[i] != '/') return bad("bad media type");
  ++i;
  skipLws(s, i);
  m.subtype = scanToken(s, i);
  if (m.subtype.empty()) return bad("bad media subtype");
  if (!internal::parseGenericParams(s, i, m.params)) return bad("bad media type parameter");
  skipLws(s, i);
  if (i != s.size()) return bad("junk after media type");
  return m;
}

common::Status parseTokenList(std::string_view value, TokenList& out, bool may_be_empty) {
  std::string_view s = value;
  size_t i = 0;
  skipLws(s, i);
  if (i >= s.size()) {
    if (may_be_empty) return {};
    return bad("empty token list");
  }
  for (;;) {
    skipLws(s, i);
    std::string_view t = scanToken(s, i);
    if (t.empty()) return bad("empty token in list");
    out.push_back(t);
    skipLws(s, i);
    if (i >= s.size()) return {};
    if (s[i] != ',') return bad("junk in token list");
    ++i;
  }
}

common::Result<std::string_view> parseCallId(std::string_view value) {
  std::string_view v = common::trimLws(value);
  // callid = word [ "@" word ]
  size_t i = internal::spanClass(v.data(), 0, v.size(), internal::kWord);
  if (i == 0) return bad("bad Call-ID");
  if (i < v.size() && v[i] == '@') {
    size_t b = i + 1;
    i = internal::spanClass(v.data(), b, v.size(), internal::kWord);
    if (i == b) return bad("bad Call-ID");
  }
  if (i != v.size()) return bad("bad character in Call-ID");
  return v;
}

common::Result<uint32_t> parseDeltaSeconds(std::string_view value) {
  auto n = common::parseUint(common::trimLws(value), 0xFFFFFFFFu);
  if (!n) return bad("delta-seconds missing or above 2**32-1");
  return uint32_t(*n);
}

common::Result<uint32_t> parseMaxForwards(std::string_view value) {
  auto n = common::parseUint(common::trimLws(value), 255);
  if (!n) return bad("Max-Forwards not in 0..255");
  return uint32_t(*n);
}

common::Status checkSipDate(std::string_view value) {
  // wkday "," SP 2DIGIT SP month SP 4DIGIT SP 2DIGIT ":" 2DIGIT ":" 2DIGIT SP "GMT"
  std::string_view v = common::trimLws(value);
  static constexpr std::string_view kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (v.size() != 29) return bad("Date is not an RFC 1123 date in GMT");
  bool day_ok = false, month_ok = false;
  for (auto d : kDays) day_ok |= v.substr(0, 3) == d;
  for (auto m : kMonths) month_ok |= v.substr(8, 3) == m;
  auto digits = [&](size_t pos, size_t n) {
    for (size_t k = pos; k < pos + n; ++k) {
      if (!common::isDigit(v[k])) return false;
    }
    return true;
  };
  if (!day_ok || v.substr(3, 2) != ", " || !digits(5, 2) || v[7] != ' ' || !month_ok ||
      v[11] != ' ' || !digits(12, 4) || v[16] != ' ' || !digits(17, 2) || v[19] != ':' ||
      !digits(20, 2) || v[22] != ':' || !digits(23, 2) || v.substr(25) != " GMT")
    return bad("Date is not an RFC 1123 date in GMT");
  return {};
}

std::string formatSipDate(int64_t unix_seconds) {
  static constexpr std::string_view kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t t = std::time_t(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0)
    return "Thu, 01 Jan 1970 00:00:00 GMT";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                kDays[size_t(tm.tm_wday) % 7].data(), tm.tm_mday,
                kMonths[size_t(tm.tm_mon) % 12].data(), tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

}  // namespace sip
