// Cuts a TCP/TLS/WebSocket byte stream into SIP messages (RFC 3261 §18.3): the header block
// ends at the first empty line and Content-Length gives the body. CRLF keep-alives of
// RFC 5626 §4.4.1 are reported as frames of their own (a "ping" CRLFCRLF wants a CRLF
// "pong" back). The header block is bounded; a peer that exceeds it, or sends a framing it
// cannot recover from, gets an error and the connection should be closed.
//
//   framer.append(bytes_read);
//   while (auto f = framer.next()) { if (f->kind == FrameKind::kMessage) parse(f->bytes); }
//   // error().code == kIncomplete: wait for more bytes; any other error: close.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "sip/message.h"

namespace sip {

enum class FrameKind {
  kMessage,  // one whole message in `bytes`
  kPing,     // CRLFCRLF: answer with a single CRLF
  kPong,     // a lone CRLF (the answer to our ping)
};

struct Frame {
  FrameKind kind;
  std::string_view bytes;  // valid until the next call to append() or next()
};

class StreamFramer {
 public:
  explicit StreamFramer(size_t max_message_bytes = kDefaultMaxMessageBytes)
      : max_(max_message_bytes) {}

  void append(std::string_view data);
  // The next frame; ErrorCode::kIncomplete when more bytes are needed; otherwise a framing
  // error with the status to answer (400, 513) before closing.
  common::Result<Frame> next();
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::string buf_;
  size_t pos_ = 0;      // first unconsumed octet
  size_t pending_ = 0;  // octets of the last frame returned, consumed on the next call
  size_t max_;
};

}  // namespace sip
