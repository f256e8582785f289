// A flood guard (what Kamailio's pike + fail2ban do): counts requests per source address
// over a sliding window; a source past the threshold is blocked for a while and its packets
// are dropped unanswered. Trunk addresses can be allowlisted. Thread-safe; cheap per packet.
//
//   auto opts = edge::FloodGuard::check(config_opts);   // allowlist parse errors
//   edge::FloodGuard guard(std::move(*opts));
//   if (!guard.admit(source.ip, clock.now())) return;   // drop silently
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "common/address_set.h"
#include "common/result.h"

namespace edge {

struct FloodGuardOptions {
  bool enabled = true;
  // More than max_requests within `window` blocks the source.
  uint32_t max_requests = 200;
  std::chrono::milliseconds window{2000};
  std::chrono::seconds block_for{300};
  // CIDRs ("192.0.2.0/24", "2001:db8::/32") or single addresses; never tracked or blocked.
  std::vector<std::string> allowlist;
  // Bound on the sources remembered at once; idle ones are evicted first.
  size_t max_tracked = 100000;
  // Told of each new block (source, until, requests counted), outside any lock, on the
  // thread of the packet that tripped it: where blocks are recorded for `admin sip-block`.
  std::function<void(const boost::asio::ip::address&, std::chrono::system_clock::time_point,
                     uint64_t)>
      on_block;
};

class FloodGuard {
 public:
  // Validates the options (allowlist syntax, non-zero window and max_requests).
  static common::Result<FloodGuardOptions> check(FloodGuardOptions options);

  // Invalid allowlist entries are skipped (logged); call check() first to reject them.
  explicit FloodGuard(FloodGuardOptions options);
  ~FloodGuard();
  FloodGuard(const FloodGuard&) = delete;
  FloodGuard& operator=(const FloodGuard&) = delete;

  // One message (or a new connection) from `source` at `now`: true = let it in.
  bool admit(const boost::asio::ip::address& source, std::chrono::steady_clock::time_point now);

  struct Block {
    boost::asio::ip::address source;
    std::chrono::system_clock::time_point since, until;
    uint64_t dropped;
  };
  // Current blocks (expired ones are left out). Wall-clock times are derived from `now`.
  std::vector<Block> blocked(std::chrono::steady_clock::time_point now) const;
  // Lifts a block; false when `source` was not blocked.
  bool unblock(const boost::asio::ip::address& source);

  struct Stats {
    uint64_t admitted, dropped, blocks;
    size_t tracked;
  };
  Stats stats() const;

 private:
  struct Shard;
  FloodGuardOptions opts_;
  common::AddressSet allow_;
  size_t per_shard_limit_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace edge
