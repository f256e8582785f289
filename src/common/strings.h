// ASCII helpers for protocol text: case-insensitive comparison (SIP header names, tokens and
// URI parameters compare case-insensitively), trimming of SIP linear white space, and a
// bounded decimal parser, and lower-case hex of bytes (digests, MACs). The string_view ones
// never allocate.
//
//   if (common::iequals(name, "Call-ID")) ...
//   auto n = common::parseUint(digits, 0xFFFFFFFFu);  // nullopt on overflow or junk
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace common {

inline constexpr char toLowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? char(c + 32) : c;
}

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (toLowerAscii(a[i]) != toLowerAscii(b[i])) return false;
  }
  return true;
}

inline bool istartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

inline std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = toLowerAscii(c);
  return out;
}

inline constexpr bool isDigit(char c) {
  return c >= '0' && c <= '9';
}
inline constexpr bool isAlpha(char c) {
  return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}
inline constexpr bool isHexDigit(char c) {
  return isDigit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}
// The value of a hex digit, or -1 for any other character.
inline constexpr int hexValue(char c) {
  if (isDigit(c)) return c - '0';
  return isHexDigit(c) ? (c | 0x20) - 'a' + 10 : -1;
}

// Space or horizontal tab.
inline constexpr bool isWsp(char c) {
  return c == ' ' || c == '\t';
}

// Trims SP, HT, CR and LF at both ends (what is left of folded LWS at a value's edges).
inline std::string_view trimLws(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n'))
    --e;
  return s.substr(b, e - b);
}

// Parses a non-empty run of decimal digits no larger than `max`. Leading zeros are allowed
// (RFC 4475 wsinv has "0068"). Returns nullopt on an empty string, a non-digit or overflow.
inline std::optional<uint64_t> parseUint(std::string_view s, uint64_t max) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (!isDigit(c)) return std::nullopt;
    uint64_t d = uint64_t(c - '0');
    if (v > (max - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

// The low `digits` hex digits of `v`, lower case, zero-padded ("00000000002a").
inline std::string hexDigits(uint64_t v, size_t digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(digits, '0');
  for (size_t i = 0; i < digits && i < 16; ++i) out[digits - 1 - i] = kHex[(v >> (4 * i)) & 15];
  return out;
}

// Appends the `n` bytes at `p` as lower-case hex, two digits per byte.
inline void appendHex(std::string& out, const unsigned char* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 15]);
  }
}

}  // namespace common
