// RFC 6455 frame parsing (capture/internal/websocket.h).
#include <algorithm>

#include "capture/internal/websocket.h"
#include "capture/internal/wire.h"

namespace capture::internal {

void WebSocketParser::feed(std::string_view data, Callbacks& cb) {
  if (broken_) return;
  // Frames are parsed in place when they line up with the octets given; only a frame cut
  // across two deliveries is copied into in_.
  std::string_view work = data;
  const bool buffered = !in_.empty();
  if (buffered) {
    in_.append(data);
    work = in_;
  }
  size_t off = 0;
  while (!broken_ && off < work.size()) {
    if (skip_ > 0) {
      const size_t k = size_t(std::min<uint64_t>(skip_, work.size() - off));
      skip_ -= k;
      off += k;
      continue;
    }
    const size_t used = frame(work.substr(off), cb);
    if (used == 0) break;
    off += used;
  }
  if (broken_) {
    in_.clear();
    in_.shrink_to_fit();
    message_.clear();
    message_.shrink_to_fit();
    return;
  }
  if (buffered) {
    in_.erase(0, off);
  } else {
    in_.assign(work.substr(off));
  }
}

size_t WebSocketParser::frame(std::string_view d, Callbacks& cb) {
  if (d.size() < 2) return 0;
  const uint8_t* p = bytes(d);
  const bool fin = (p[0] & 0x80) != 0;
  const bool compressed = (p[0] & 0x40) != 0;  // RSV1: permessage-deflate
  const uint8_t opcode = p[0] & 0x0f;
  const bool masked = (p[1] & 0x80) != 0;
  uint64_t len = p[1] & 0x7f;
  size_t header = 2;
  if (len == 126) {
    if (d.size() < 4) return 0;
    len = be16(p + 2);
    header = 4;
  } else if (len == 127) {
    if (d.size() < 10) return 0;
    len = be64(p + 2);
    header = 10;
  }
  if (masked) header += 4;
  const bool known = opcode <= 2 || (opcode >= 8 && opcode <= 10);
  const bool bad_control = opcode >= 8 && (!fin || len > 125);
  if (!known || bad_control || (len >> 63) != 0) {
    broken_ = true;
    cb.onWebSocket(Event::kBadFrame, {});
    return d.size();
  }
  if (d.size() < header) return 0;
  if (len > max_) {
    if (opcode < 8) {
      cb.onWebSocket(Event::kSkipped, {});
      in_message_ = false;
      message_.clear();
      skip_message_ = !fin;
    }
    const uint64_t total = header + len;
    if (total <= d.size()) return size_t(total);
    skip_ = total - d.size();
    return d.size();
  }
  if (d.size() - header < len) return 0;
  const size_t used = header + size_t(len);
  if (opcode >= 8) return used;  // ping, pong, close: nothing for the analyzer
  std::string_view payload = d.substr(header, size_t(len));
  if (masked) {
    const uint8_t* key = p + header - 4;
    scratch_.assign(payload);
    for (size_t i = 0; i < scratch_.size(); ++i) scratch_[i] = char(scratch_[i] ^ key[i & 3]);
    payload = scratch_;
  }
  if (opcode == 0) {
    if (skip_message_) {
      if (fin) skip_message_ = false;
      return used;
    }
    if (!in_message_) {
      cb.onWebSocket(Event::kBadFrame, {});  // a continuation of nothing: skip it
      return used;
    }
    if (message_.size() + payload.size() > max_) {
      cb.onWebSocket(Event::kSkipped, {});
      in_message_ = false;
      message_.clear();
      skip_message_ = !fin;
      return used;
    }
    message_.append(payload);
    if (fin) {
      in_message_ = false;
      cb.onWebSocket(Event::kMessage, message_);
      message_.clear();
    }
    return used;
  }
  // Text or binary: a new message.
  if (in_message_) {
    cb.onWebSocket(Event::kBadFrame, {});  // the previous one never finished
    in_message_ = false;
    message_.clear();
  }
  skip_message_ = false;
  if (compressed) {
    cb.onWebSocket(Event::kSkipped, {});
    skip_message_ = !fin;
    return used;
  }
  if (fin) {
    cb.onWebSocket(Event::kMessage, payload);
  } else {
    message_.assign(payload);
    in_message_ = true;
  }
  return used;
}

}  // namespace capture::internal
