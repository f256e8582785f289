#include "sip/text.h"

#include "common/strings.h"

namespace sip {

std::string unquote(std::string_view q) {
  if (q.size() < 2 || q.front() != '"' || q.back() != '"') return std::string(q);
  q = q.substr(1, q.size() - 2);
  std::string out;
  out.reserve(q.size());
  for (size_t i = 0; i < q.size(); ++i) {
    if (q[i] == '\\' && i + 1 < q.size()) ++i;
    out.push_back(q[i]);
  }
  return out;
}

std::string percentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && common::isHexDigit(s[i + 1]) &&
        common::isHexDigit(s[i + 2])) {
      out.push_back(
          static_cast<char>(common::hexValue(s[i + 1]) * 16 + common::hexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace sip
