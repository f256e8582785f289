// Character classes and small scanners for the RFC 3261 §25 grammar, shared by the URI,
// header and authentication parsers. Internal to src/sip: other parts use the typed API.
// Every scanner takes the text and a cursor, advances the cursor past what it accepted and
// never reads past the end.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sip/headers.h"
#include "sip/params.h"

namespace sip::internal {

// headerIdFromName for a name followed by at least 8 readable bytes (inside a message
// buffer, which is padded for this): compares whole words without a byte loop.
HeaderId headerIdFromPaddedName(std::string_view name);

enum CharClass : uint8_t {
  kToken = 1,           // token: alphanum and - . ! % * _ + ` ' ~
  kWord = 2,            // word (Call-ID): token plus ( ) < > : \ " / [ ] ? { }
  kUnreserved = 4,      // RFC 3986-ish unreserved: alphanum - _ . ! ~ * ' ( )
  kUserExtra = 8,       // user-unreserved / password chars: & = + $ , ; ? /
  kParamExtra = 16,     // param-unreserved: [ ] / : & + $
  kHeaderExtra = 32,    // hnv-unreserved: [ ] / ? : + $
  kPasswordExtra = 64,  // password: & = + $ ,
  kHost = 128,          // hostname and IPv4 characters: alphanum - . _
};

struct CharTable {
  uint8_t bits[256];
  constexpr CharTable() : bits() {
    for (int c = 0; c < 256; ++c) {
      bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      uint8_t b = 0;
      if (alnum || c == '-' || c == '.' || c == '!' || c == '%' || c == '*' || c == '_' ||
          c == '+' || c == '`' || c == '\'' || c == '~')
        b |= kToken | kWord;
      if (c == '(' || c == ')' || c == '<' || c == '>' || c == ':' || c == '\\' || c == '"' ||
          c == '/' || c == '[' || c == ']' || c == '?' || c == '{' || c == '}')
        b |= kWord;
      if (alnum || c == '-' || c == '_' || c == '.' || c == '!' || c == '~' || c == '*' ||
          c == '\'' || c == '(' || c == ')')
        b |= kUnreserved;
      if (c == '&' || c == '=' || c == '+' || c == '$' || c == ',' || c == ';' || c == '?' ||
          c == '/')
        b |= kUserExtra;
      if (c == '[' || c == ']' || c == '/' || c == ':' || c == '&' || c == '+' || c == '$')
        b |= kParamExtra;
      if (c == '[' || c == ']' || c == '/' || c == '?' || c == ':' || c == '+' || c == '$')
        b |= kHeaderExtra;
      if (c == '&' || c == '=' || c == '+' || c == '$' || c == ',') b |= kPasswordExtra;
      if (alnum || c == '-' || c == '.' || c == '_') b |= kHost;
      bits[c] = b;
    }
  }
};

inline constexpr CharTable kChars{};

inline bool is(char c, uint8_t cls) {
  return (kChars.bits[static_cast<uint8_t>(c)] & cls) != 0;
}
inline bool isTokenChar(char c) {
  return is(c, kToken);
}

// Index of the first character at or after i (below n) not of class `cls`. Unrolled: the
// scanners spend most of their time here.
inline size_t spanClass(const char* p, size_t i, size_t n, uint8_t cls) {
  while (i + 4 <= n) {
    if (!is(p[i], cls)) return i;
    if (!is(p[i + 1], cls)) return i + 1;
    if (!is(p[i + 2], cls)) return i + 2;
    if (!is(p[i + 3], cls)) return i + 3;
    i += 4;
  }
  while (i < n && is(p[i], cls)) ++i;
  return i;
}

// Skips linear white space: SP, HT, and a line break followed by SP or HT (a folded line).
inline void skipLws(std::string_view s, size_t& i) {
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t') {
      ++i;
    } else if (c == '\r' && i + 2 < s.size() && s[i + 1] == '\n' &&
               (s[i + 2] == ' ' || s[i + 2] == '\t')) {
      i += 3;
    } else if (c == '\n' && i + 1 < s.size() && (s[i + 1] == ' ' || s[i + 1] == '\t')) {
      i += 2;
    } else {
      break;
    }
  }
}

inline std::string_view scanToken(std::string_view s, size_t& i) {
  size_t b = i;
  i = spanClass(s.data(), i, s.size(), kToken);
  return s.substr(b, i - b);
}

// Scans a quoted-string starting at s[i] == '"'. Returns the text with its quotes, or nullopt
// when it is not terminated. quoted-pair (backslash and any octet but CR/LF) is honoured, so
// `\"` and an escaped NUL stay inside.
inline std::optional<std::string_view> scanQuoted(std::string_view s, size_t& i) {
  if (i >= s.size() || s[i] != '"') return std::nullopt;
  size_t b = i++;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"') {
      ++i;
      return s.substr(b, i - b);
    }
    if (c == '\\') {
      if (i + 1 >= s.size() || s[i + 1] == '\r' || s[i + 1] == '\n') return std::nullopt;
      i += 2;
      continue;
    }
    if (c == '\0') return std::nullopt;  // only a quoted-pair may carry NUL
    ++i;
  }
  return std::nullopt;
}

// Calls fn(element) for each element of a comma-separated header value, skipping commas
// inside quoted strings and <...>. Elements are trimmed of LWS. Returns false when a quote or
// angle bracket is unbalanced.
template <typename Fn>
bool forEachCommaElement(std::string_view s, Fn&& fn) {
  size_t start = 0, i = 0;
  bool in_angle = false;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"') {
      if (!scanQuoted(s, i)) return false;
      continue;
    }
    if (c == '<') in_angle = true;
    if (c == '>') in_angle = false;
    if (c == ',' && !in_angle) {
      if (!fn(common::trimLws(s.substr(start, i - start)))) return false;
      start = i + 1;
    }
    ++i;
  }
  if (in_angle) return false;
  return fn(common::trimLws(s.substr(start)));
}

// Parses `*( LWS ";" LWS pname [ LWS "=" LWS pvalue ] )` from s[i]; stops at the first
// character that does not start another parameter. pvalue is a token, a quoted string or an
// IPv6 reference. Returns false on an empty name or an empty value after "=".
inline bool parseGenericParams(std::string_view s, size_t& i, Params& out) {
  for (;;) {
    // Fast exit: nothing but ";" or white space can start another parameter.
    if (i >= s.size() ||
        (s[i] != ';' && s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n'))
      return true;
    size_t save = i;
    skipLws(s, i);
    if (i >= s.size() || s[i] != ';') {
      i = save;
      return true;
    }
    ++i;
    skipLws(s, i);
    std::string_view name = scanToken(s, i);
    if (name.empty()) return false;
    size_t after_name = i;
    if (i < s.size() && s[i] != '=') skipLws(s, i);
    if (i < s.size() && s[i] == '=') {
      ++i;
      if (i < s.size() && !isTokenChar(s[i])) skipLws(s, i);
      std::string_view value;
      if (i < s.size() && s[i] == '"') {
        auto q = scanQuoted(s, i);
        if (!q) return false;
        value = *q;
      } else if (i < s.size() && s[i] == '[') {
        size_t b = i;
        while (i < s.size() && s[i] != ']') ++i;
        if (i >= s.size()) return false;
        ++i;
        value = s.substr(b, i - b);
      } else {
        value = scanToken(s, i);
        if (value.empty()) return false;
      }
      out.add(name, value);
    } else {
      i = after_name;
      out.add(name, std::string_view());
    }
  }
}

}  // namespace sip::internal
