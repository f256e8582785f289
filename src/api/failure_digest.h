// Coalesces failed authentications for the audit log, so a flood of wrong credentials
// neither buries the log nor costs a database write per attempt: per source (an IPv6 one by
// its /64) per account per window (a minute in production), the first attempt is a row of its own
// at once (an owner sees a failed login without waiting), and the rest are one row with their count
// when the window ends, which keeps the second attempt's time, principal, method and path. Not
// thread-safe: AuditTrail guards it.
//
//   api::FailureDigest d(std::chrono::seconds(60), 10000);
//   d.add(entry, now);                          // 300 times
//   auto rows = d.take(now, false);             // the first one, count 1
//   rows = d.take(now + 60s, false);            // the others, count 299
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/audit_log.h"

namespace api {

class FailureDigest {
 public:
  using Clock = std::chrono::steady_clock;
  // `max_open`: rows counting at once; past it every open row is closed early (a flood from
  // many addresses costs rows, never unbounded memory).
  FailureDigest(std::chrono::milliseconds window, size_t max_open);

  void add(store::AuditEntry entry, Clock::time_point now);
  // The rows whose window has ended by `now` (every row when `all`), in the order opened.
  std::vector<store::AuditEntry> take(Clock::time_point now, bool all);
  size_t open() const { return open_.size(); }

 private:
  struct Open {
    store::AuditEntry row;
    Clock::time_point opened;
    uint64_t order = 0;
  };

  const std::chrono::milliseconds window_;
  const size_t max_open_;
  std::unordered_map<std::string, Open> open_;  // by account SID and source
  std::vector<store::AuditEntry> closed_;       // closed early, not yet taken
  Clock::time_point next_due_ = Clock::time_point::max();
  uint64_t next_order_ = 0;
};

}  // namespace api
