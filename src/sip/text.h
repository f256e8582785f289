// Text helpers for SIP values: removing the quotes and quoted-pairs of a quoted-string, and
// %-decoding URI components. They allocate, so the parsers keep raw views and callers decode
// only what they need to compare or display.
//
//   std::string name = sip::unquote(R"("J Rosenberg \\\"")");  // J Rosenberg \"
#pragma once

#include <string>
#include <string_view>

namespace sip {

// `"a\"b"` -> `a"b`. Text without surrounding quotes is returned unchanged.
std::string unquote(std::string_view quoted);

// %HH -> the octet; a "%" not followed by two hex digits stays literal (RFC 4475 esc02).
std::string percentDecode(std::string_view s);

}  // namespace sip
