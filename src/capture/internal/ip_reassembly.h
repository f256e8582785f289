// Reassembly of fragmented IPv4 and IPv6 datagrams (RFC 791, RFC 8200 §4.5). Pieces may come in
// any order and overlap (the octets first received are kept). Memory is bounded: a cap on the
// datagrams in progress and on their octets, and a timeout from the first piece; what is given
// up is counted in DecoderStats::ip_datagrams_incomplete.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "capture/decoder.h"

namespace capture::internal {

struct FragmentKey {
  std::array<uint8_t, 16> src{}, dst{};
  uint32_t id = 0;
  uint8_t protocol = 0;  // IPv4 only: IPv6 names the upper layer in the first fragment
  bool v6 = false;
  bool operator==(const FragmentKey&) const = default;
};

class IpReassembler {
 public:
  IpReassembler(const DecoderOptions& options, DecoderStats& stats)
      : options_(options), stats_(stats) {}

  // Adds the piece at `offset` (octets) of the datagram `key`; `more` is the MF flag and
  // `next_header` the upper-layer protocol the piece names (used from the first piece). When
  // this completes the datagram, returns true with its payload in `out` and the protocol of
  // the first piece in `out_next_header`.
  bool add(const FragmentKey& key, uint32_t offset, bool more, std::string_view data,
           uint8_t next_header, int64_t now, std::string& out, uint8_t& out_next_header);
  void expire(int64_t now);
  void finish();  // gives up on everything pending
  size_t pending() const { return pending_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  struct Pending {
    std::string data;
    std::vector<std::pair<uint32_t, uint32_t>> have;  // received [begin, end), sorted, merged
    uint32_t total = UINT32_MAX;                      // known once the last piece came
    int64_t first_seen = 0;
    uint8_t next_header = 0;
  };
  struct KeyHash {
    size_t operator()(const FragmentKey& k) const;
  };
  using Map = std::unordered_map<FragmentKey, Pending, KeyHash>;

  void drop(Map::iterator it);
  void evictOldest();

  const DecoderOptions& options_;
  DecoderStats& stats_;
  Map pending_;
  size_t bytes_ = 0;
};

}  // namespace capture::internal
