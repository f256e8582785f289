// Sources the SIP flood guard has blocked: the server records each block as it happens, so
// `switchboard admin sip-block list` shows them from the shell (and, on PostgreSQL, every
// node's blocks in one place); removing a row lifts the block in the running server.
//
//   store.sipBlocks().record({.source = "192.0.2.7", .blocked_at = now, .until = now + 300});
//   auto active = store.sipBlocks().listActive(now);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace store {

struct SipBlock {
  std::string source;  // the address as text ("192.0.2.7", "2001:db8::7")
  int64_t blocked_at = 0;
  int64_t until = 0;
  int64_t requests = 0;  // counted in the window that tripped the block
  bool operator==(const SipBlock&) const = default;
};

class SipBlocks {
 public:
  virtual ~SipBlocks() = default;
  // Adds the block, or renews the source's earlier one.
  virtual common::Status record(const SipBlock& block) = 0;
  // Blocks still in force at `now`, by source.
  virtual common::Result<std::vector<SipBlock>> listActive(int64_t now) = 0;
  // False when the source had no block.
  virtual common::Result<bool> remove(std::string_view source) = 0;
  // Deletes blocks that ended before `now`; returns how many.
  virtual common::Result<int64_t> purgeExpired(int64_t now) = 0;
};

}  // namespace store
