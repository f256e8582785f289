#include "sip/framer.h"

#include <cstring>

#include "common/strings.h"

namespace sip {
namespace {

using common::ErrorCode;
using common::makeError;

common::Unexpected incomplete() {
  return makeError(ErrorCode::kIncomplete, "need more bytes");
}

}  // namespace

void StreamFramer::append(std::string_view data) {
  pos_ += pending_;
  pending_ = 0;
  // Compact once the consumed prefix dominates, so the buffer does not grow without bound.
  if (pos_ > 0 && (pos_ == buf_.size() || pos_ > buf_.size() / 2)) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(data);
}

common::Result<Frame> StreamFramer::next() {
  pos_ += pending_;
  pending_ = 0;
  std::string_view s(buf_.data() + pos_, buf_.size() - pos_);
  if (s.empty()) return incomplete();

  if (s[0] == '\r' || s[0] == '\n') {
    if (s.size() >= 4 && s.substr(0, 4) == "\r\n\r\n") {
      pending_ = 4;
      return Frame{FrameKind::kPing, s.substr(0, 4)};
    }
    if (s.size() >= 2 && s.substr(0, 2) == "\r\n") {
      if (s.size() == 2 || (s.size() == 3 && s[2] == '\r')) return incomplete();
      pending_ = 2;
      return Frame{FrameKind::kPong, s.substr(0, 2)};
    }
    if (s[0] == '\n') {
      pending_ = 1;
      return Frame{FrameKind::kPong, s.substr(0, 1)};
    }
    if (s.size() < 2) return incomplete();
    return makeError(ErrorCode::kInvalidArgument, "bare CR in stream", 400);
  }

  // Find the end of the header block within the bound.
  size_t limit = std::min(s.size(), max_);
  size_t header_end = std::string_view::npos;  // index just past the empty line
  for (size_t i = 0; i < limit; ++i) {
    const char* nl = static_cast<const char*>(std::memchr(s.data() + i, '\n', limit - i));
    if (nl == nullptr) break;
    i = size_t(nl - s.data());
    if (i + 1 < s.size() && s[i + 1] == '\n') {
      header_end = i + 2;
      break;
    }
    if (i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') {
      header_end = i + 3;
      break;
    }
  }
  if (header_end == std::string_view::npos) {
    if (s.size() >= max_)
      return makeError(ErrorCode::kTooLarge, "header block exceeds the limit", 513);
    return incomplete();
  }

  // Content-Length (or "l"); missing means an empty body. Several, or junk, cannot be framed.
  size_t body_len = 0;
  bool seen = false;
  std::string_view head = s.substr(0, header_end);
  for (size_t ls = head.find('\n'); ls != std::string_view::npos && ls + 1 < head.size();
       ls = head.find('\n', ls + 1)) {
    size_t b = ls + 1;
    size_t colon = head.find(':', b);
    size_t eol = head.find('\n', b);
    if (colon == std::string_view::npos || colon > eol) continue;
    std::string_view name = common::trimLws(head.substr(b, colon - b));
    if (headerIdFromName(name) != HeaderId::kContentLength) continue;
    if (seen) return makeError(ErrorCode::kInvalidArgument, "multiple Content-Length fields", 400);
    seen = true;
    auto n =
        common::parseUint(common::trimLws(head.substr(colon + 1, eol - colon - 1)), 0xFFFFFFFFu);
    if (!n) return makeError(ErrorCode::kInvalidArgument, "bad Content-Length", 400);
    body_len = size_t(*n);
  }
  size_t total = header_end + body_len;
  if (total > max_) return makeError(ErrorCode::kTooLarge, "message exceeds the limit", 513);
  if (s.size() < total) return incomplete();
  pending_ = total;
  return Frame{FrameKind::kMessage, s.substr(0, total)};
}

}  // namespace sip
