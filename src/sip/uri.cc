#include "sip/uri.h"

#include <cstring>

#include "common/strings.h"
#include "sip/internal/scan.h"
#include "sip/text.h"

namespace sip {
namespace {

using common::ErrorCode;
using common::makeError;
using internal::is;

common::Unexpected bad(const char* why) {
  return makeError(ErrorCode::kInvalidArgument, std::string("bad URI: ") + why, 400);
}

// Accepts a %HH escape at s[i]; advances past it.
bool takeEscape(std::string_view s, size_t& i) {
  if (s[i] != '%') return false;
  if (i + 2 >= s.size() || !common::isHexDigit(s[i + 1]) || !common::isHexDigit(s[i + 2]))
    return false;
  i += 3;
  return true;
}

// Runs over characters of class `cls` or %-escapes; returns false on anything else.
bool allOf(std::string_view s, uint8_t cls) {
  size_t i = 0;
  while (i < s.size()) {
    if (is(s[i], cls)) {
      ++i;
    } else if (s[i] == '%') {
      if (i + 2 >= s.size() || !common::isHexDigit(s[i + 1]) || !common::isHexDigit(s[i + 2]))
        return false;
      i += 3;
    } else {
      return false;
    }
  }
  return true;
}

// Advances over characters of `cls` and valid %-escapes; false on a malformed escape.
bool scanEscaped(std::string_view s, size_t& i, uint8_t cls) {
  while (i < s.size()) {
    i = internal::spanClass(s.data(), i, s.size(), cls);
    if (i >= s.size()) break;
    if (s[i] == '%') {
      if (!takeEscape(s, i)) return false;
    } else {
      break;
    }
  }
  return true;
}

// `;name[=value]` list inside a URI: no LWS, paramchar only, names non-empty.
bool parseUriParams(std::string_view s, Params& out) {
  // s starts just after the first ';'.
  size_t i = 0;
  for (;;) {
    size_t end = s.find(';', i);
    std::string_view item = s.substr(i, end == std::string_view::npos ? s.npos : end - i);
    size_t eq = item.find('=');
    std::string_view name = item.substr(0, eq);
    if (name.empty() || !allOf(name, internal::kUnreserved | internal::kParamExtra)) return false;
    if (eq == std::string_view::npos) {
      out.add(name, std::string_view());
    } else {
      std::string_view value = item.substr(eq + 1);
      if (value.empty() || !allOf(value, internal::kUnreserved | internal::kParamExtra))
        return false;
      out.add(name, value);
    }
    if (end == std::string_view::npos) return true;
    i = end + 1;
  }
}

bool validHeaders(std::string_view h) {
  if (h.empty()) return false;
  size_t i = 0;
  for (;;) {
    size_t end = h.find('&', i);
    std::string_view item = h.substr(i, end == std::string_view::npos ? h.npos : end - i);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) return false;
    if (!allOf(item.substr(0, eq), internal::kUnreserved | internal::kHeaderExtra)) return false;
    if (!allOf(item.substr(eq + 1), internal::kUnreserved | internal::kHeaderExtra)) return false;
    if (end == std::string_view::npos) return true;
    i = end + 1;
  }
}

bool validSchemeName(std::string_view s) {
  if (s.empty() || !common::isAlpha(s[0])) return false;
  for (char c : s) {
    if (!(common::isAlpha(c) || common::isDigit(c) || c == '+' || c == '-' || c == '.'))
      return false;
  }
  return true;
}

// Characters an opaque absolute URI may carry: anything printable but space, <, >, ".
bool validOpaque(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '<' || c == '>' || c == '"') return false;
  }
  return true;
}

}  // namespace

std::string_view Uri::hostAddress() const {
  if (isIpv6()) return host_.substr(1, host_.size() - 2);
  return host_;
}

common::Result<Uri> Uri::parse(std::string_view text) {
  common::Result<Uri> r(std::in_place);
  if (auto st = parseInto(text, *r); !st) return st.error();
  return r;
}

common::Status Uri::parseSipRest(std::string_view rest, Uri& u) {
  // sip / sips: [userinfo "@"] hostport uri-parameters [headers], in one pass.
  const char* p = rest.data();
  const size_t m = rest.size();
  size_t i = 0;
  if (const void* at = std::memchr(p, '@', m)) {
    size_t at_pos = size_t(static_cast<const char*>(at) - p);
    // user = 1*( unreserved / escaped / user-unreserved ); password after the first ":".
    if (!scanEscaped(rest, i, internal::kUnreserved | internal::kUserExtra))
      return bad("bad escape");
    u.user_ = rest.substr(0, i);
    if (u.user_.empty()) return bad("empty user part");
    if (i < at_pos && p[i] == ':') {
      size_t pb = ++i;
      if (!scanEscaped(rest, i, internal::kUnreserved | internal::kPasswordExtra))
        return bad("bad escape");
      u.password_ = rest.substr(pb, i - pb);
    }
    if (i != at_pos) return bad("bad character in user part");
    i = at_pos + 1;
  }

  size_t hb = i;
  if (i < m && p[i] == '[') {
    ++i;
    while (i < m && (common::isHexDigit(p[i]) || p[i] == ':' || p[i] == '.')) ++i;
    if (i >= m || p[i] != ']' || i == hb + 1) return bad("bad IPv6 reference");
    ++i;
  } else {
    i = internal::spanClass(p, i, m, internal::kHost);
  }
  u.host_ = rest.substr(hb, i - hb);
  if (u.host_.empty()) return bad("empty host");
  if (i < m && p[i] == ':') {
    size_t b = ++i;
    uint32_t port = 0;
    while (i < m && common::isDigit(p[i]) && i - b < 6) port = port * 10 + uint32_t(p[i++] - '0');
    if (i == b || port == 0 || port > 65535) return bad("bad port");
    u.port_ = static_cast<uint16_t>(port);
  }
  // uri-parameters: *( ";" pname [ "=" pvalue ] ), paramchar = unreserved / escaped /
  // param-unreserved.
  constexpr uint8_t kParamChars = internal::kUnreserved | internal::kParamExtra;
  while (i < m && p[i] == ';') {
    size_t nb = ++i;
    if (!scanEscaped(rest, i, kParamChars)) return bad("bad escape in URI parameter");
    std::string_view name = rest.substr(nb, i - nb);
    if (name.empty()) return bad("bad URI parameter");
    if (i < m && p[i] == '=') {
      size_t vb = ++i;
      if (!scanEscaped(rest, i, kParamChars)) return bad("bad escape in URI parameter");
      if (i == vb) return bad("bad URI parameter");
      u.params_.add(name, rest.substr(vb, i - vb));
    } else {
      u.params_.add(name, std::string_view());
    }
  }
  if (i < m) {
    if (p[i] != '?') return bad("junk after host");
    u.headers_ = rest.substr(i + 1);
    if (!validHeaders(u.headers_)) return bad("bad URI headers");
  }
  return {};
}

common::Status Uri::parseInto(std::string_view text, Uri& u) {
  u.text_ = text;
  const size_t n = text.size();
  // Fast path for the scheme nearly every URI has.
  if (n > 4 && (text[0] | 0x20) == 's' && (text[1] | 0x20) == 'i' && (text[2] | 0x20) == 'p' &&
      text[3] == ':') {
    u.scheme_text_ = text.substr(0, 3);
    u.scheme_ = UriScheme::kSip;
    return parseSipRest(text.substr(4), u);
  }
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  size_t colon = 0;
  while (colon < n && text[colon] != ':') ++colon;
  if (colon == n || !validSchemeName(text.substr(0, colon))) return bad("no scheme");
  u.scheme_text_ = text.substr(0, colon);
  std::string_view rest = text.substr(colon + 1);
  if (colon == 3 && common::iequals(u.scheme_text_, "sip")) {
    u.scheme_ = UriScheme::kSip;
  } else if (colon == 4 && common::iequals(u.scheme_text_, "sips")) {
    u.scheme_ = UriScheme::kSips;
  } else if (colon == 3 && common::iequals(u.scheme_text_, "tel")) {
    u.scheme_ = UriScheme::kTel;
  } else {
    if (!validOpaque(rest)) return bad("bad characters in absolute URI");
    u.opaque_ = rest;
    return {};
  }

  if (u.scheme_ == UriScheme::kTel) {
    size_t semi = rest.find(';');
    u.opaque_ = rest.substr(0, semi);
    if (u.opaque_.empty()) return bad("empty telephone number");
    for (char c : u.opaque_) {
      if (!(common::isHexDigit(c) || c == '+' || c == '-' || c == '.' || c == '(' || c == ')' ||
            c == '*' || c == '#'))
        return bad("bad character in telephone number");
    }
    if (semi != std::string_view::npos && !parseUriParams(rest.substr(semi + 1), u.params_))
      return bad("bad tel parameter");
    return {};
  }

  return parseSipRest(rest, u);
}

namespace {

bool sameDecoded(std::string_view a, std::string_view b, bool ignore_case) {
  if (a.find('%') == std::string_view::npos && b.find('%') == std::string_view::npos)
    return ignore_case ? common::iequals(a, b) : a == b;
  std::string da = percentDecode(a), db = percentDecode(b);
  return ignore_case ? common::iequals(da, db) : da == db;
}

std::string telDigits(std::string_view n) {
  std::string out;
  for (char c : n) {
    if (c != '-' && c != '.' && c != '(' && c != ')') out.push_back(common::toLowerAscii(c));
  }
  return out;
}

// The parameters that must match whenever either URI has them (§19.1.4).
bool isSignificantParam(std::string_view name) {
  return common::iequals(name, "user") || common::iequals(name, "ttl") ||
         common::iequals(name, "method") || common::iequals(name, "maddr") ||
         common::iequals(name, "transport");
}

bool paramsEquivalent(const Params& a, const Params& b) {
  auto check = [](const Params& x, const Params& y) {
    for (const Param& p : x) {
      // A repeated name compares by its first occurrence on both sides, so that the
      // relation stays reflexive and symmetric.
      auto mine = x.find(p.name);
      auto other = y.find(p.name);
      if (!other) {
        if (isSignificantParam(p.name)) return false;
        continue;
      }
      if (!sameDecoded(*mine, *other, /*ignore_case=*/true)) return false;
    }
    return true;
  };
  return check(a, b) && check(b, a);
}

bool headersEquivalent(std::string_view a, std::string_view b) {
  // Every header of each side must appear in the other with an equal value.
  auto contains = [](std::string_view set, std::string_view item) {
    size_t eq = item.find('=');
    std::string_view name = item.substr(0, eq), value = item.substr(eq + 1);
    size_t i = 0;
    for (;;) {
      size_t end = set.find('&', i);
      std::string_view it = set.substr(i, end == std::string_view::npos ? set.npos : end - i);
      size_t e2 = it.find('=');
      if (sameDecoded(it.substr(0, e2), name, true) && sameDecoded(it.substr(e2 + 1), value, false))
        return true;
      if (end == std::string_view::npos) return false;
      i = end + 1;
    }
  };
  auto all = [&](std::string_view x, std::string_view y) {
    if (x.empty()) return true;
    size_t i = 0;
    for (;;) {
      size_t end = x.find('&', i);
      if (!contains(y, x.substr(i, end == std::string_view::npos ? x.npos : end - i))) return false;
      if (end == std::string_view::npos) return true;
      i = end + 1;
    }
  };
  if (a.empty() != b.empty()) return false;
  return all(a, b) && all(b, a);
}

}  // namespace

bool equivalent(const Uri& a, const Uri& b) {
  if (a.scheme() != b.scheme()) return false;
  switch (a.scheme()) {
    case UriScheme::kOther:
      return common::iequals(a.schemeText(), b.schemeText()) && a.opaque() == b.opaque();
    case UriScheme::kTel:
      return telDigits(a.opaque()) == telDigits(b.opaque()) &&
             paramsEquivalent(a.params(), b.params());
    case UriScheme::kSip:
    case UriScheme::kSips:
      break;
  }
  if (!sameDecoded(a.user(), b.user(), false)) return false;
  if (a.hasPassword() != b.hasPassword() || !sameDecoded(a.password(), b.password(), false))
    return false;
  if (!sameDecoded(a.host(), b.host(), true)) return false;
  if (a.port() != b.port()) return false;
  return paramsEquivalent(a.params(), b.params()) && headersEquivalent(a.headers(), b.headers());
}

}  // namespace sip
