#include "api/internal/transfer_coding.h"

#include <vector>

#include "common/strings.h"

namespace api::internal {
namespace {

// RFC 9110 §5.6.2 tchar.
bool isTchar(char c) {
  if (common::isDigit(c) || common::isAlpha(c)) return true;
  for (char s : std::string_view("!#$%&'*+-.^_`|~"))
    if (c == s) return true;
  return false;
}

bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!isTchar(c)) return false;
  return true;
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && common::isWsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && common::isWsp(s.back())) s.remove_suffix(1);
  return s;
}

struct Coding {
  std::string_view name;
  bool has_parameters = false;
};

}  // namespace

FramingVerdict checkTransferEncoding(std::string_view te, unsigned version) {
  // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
  if (version < 11) return {400, "Transfer-Encoding is not defined for HTTP/1.0"};
  std::vector<Coding> codings;
  while (!te.empty()) {
    size_t comma = te.find(',');
    std::string_view item = trimOws(te.substr(0, comma));
    te = comma == std::string_view::npos ? std::string_view() : te.substr(comma + 1);
    if (item.empty()) continue;  // empty list elements are ignored (RFC 9110 §5.6.1)
    size_t semi = item.find(';');
    Coding c{trimOws(item.substr(0, semi)), semi != std::string_view::npos};
    if (!isToken(c.name)) return {400, "the Transfer-Encoding header is malformed"};
    codings.push_back(c);
  }
  if (codings.empty()) return {400, "the Transfer-Encoding header is empty"};
  // §6.3 (4): unless chunked is the final coding the body length cannot be determined, and
  // that is a MUST (400 and close), before the SHOULD of §6.1 about unknown codings (501).
  // So "xchunked" or "gzip" alone is 400 whether or not we know the name.
  const Coding& last = codings.back();
  if (!common::iequals(last.name, "chunked") || last.has_parameters)
    return {400, "the request body is not framed: Transfer-Encoding must end in chunked"};
  for (size_t i = 0; i + 1 < codings.size(); ++i) {
    // §6.1: a sender MUST NOT apply chunked more than once.
    if (common::iequals(codings[i].name, "chunked"))
      return {400, "Transfer-Encoding applies chunked more than once"};
  }
  if (codings.size() > 1) return {501, "this server decodes no transfer coding other than chunked"};
  return {};
}

}  // namespace api::internal
