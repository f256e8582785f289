// SCTP for the decoder (RFC 9260): the common header is checked and each DATA chunk's user
// data becomes a payload. A user message split over several DATA chunks (B, middle, E flags)
// is joined per stream, its pieces having consecutive TSNs, and delivered when the E piece
// arrives; other chunk types are ignored.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "capture/decoder.h"
#include "capture/internal/addresses.h"

namespace capture::internal {

class SctpAssembler {
 public:
  SctpAssembler(PayloadSink& sink, const DecoderOptions& options, DecoderStats& stats)
      : sink_(sink), options_(options), stats_(stats) {}

  // One SCTP packet (after the IP header); `addrs` has no ports yet.
  void onPacket(const NetworkAddresses& addrs, const uint8_t* p, size_t n, uint64_t frame,
                int64_t now);
  void expire(int64_t now);
  void finish();
  size_t partialMessages() const { return partial_.size(); }

 private:
  struct Key {
    Endpoint src, dst;
    uint16_t stream = 0;
    bool unordered = false;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Partial {
    std::string data;
    uint32_t next_tsn = 0;
    int64_t first_seen = 0;
  };
  void dataChunk(const Endpoint& src, const Endpoint& dst, uint8_t flags, const uint8_t* c,
                 size_t len, uint64_t frame, int64_t now);
  void emit(const Endpoint& src, const Endpoint& dst, std::string_view data, uint64_t frame,
            int64_t now);

  PayloadSink& sink_;
  const DecoderOptions& options_;
  DecoderStats& stats_;
  std::unordered_map<Key, Partial, KeyHash> partial_;
  size_t bytes_ = 0;
};

}  // namespace capture::internal
