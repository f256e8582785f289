// RFC 6455 framing of one direction of an upgraded connection: frames are parsed as stream
// octets arrive, text and binary messages are unmasked, fragments joined, control frames
// skipped. Bounded: a message over the limit is skipped (its octets are not kept).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace capture::internal {

class WebSocketParser {
 public:
  enum class Event { kMessage, kSkipped, kBadFrame };
  class Callbacks {
   public:
    virtual ~Callbacks() = default;
    virtual void onWebSocket(Event event, std::string_view message) = 0;
  };

  explicit WebSocketParser(size_t max_message) : max_(max_message) {}

  // Parses the next in-order octets of the stream. After a bad frame (reserved opcode, bad
  // control frame, 64-bit length with the top bit set) the direction cannot be resynchronised
  // and the rest is ignored.
  void feed(std::string_view data, Callbacks& cb);
  bool broken() const { return broken_; }
  size_t buffered() const { return in_.size() + message_.size(); }

 private:
  // Parses one frame at the start of `data`: the octets consumed, or 0 when it is incomplete.
  size_t frame(std::string_view data, Callbacks& cb);

  size_t max_;
  std::string in_;       // octets of an incomplete frame
  std::string message_;  // fragments of the current message so far
  std::string scratch_;  // unmasked payload of one frame
  bool in_message_ = false;
  bool skip_message_ = false;  // the current fragmented message is being skipped
  uint64_t skip_ = 0;          // octets of an over-large frame still to pass over
  bool broken_ = false;
};

}  // namespace capture::internal
