// One account's messages-per-second limit: a token bucket that holds a tenth of a second's
// messages (at least one) and starts with one. The time is an argument, not read here: the
// service's worker passes its clock, a test passes the instants it wants.
//
//   messaging::RateLimit limit;
//   if (limit.allows(per_second, now)) { limit.take(); hand_over(); }
//   else wake_at = now + limit.wait(per_second);
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace messaging {

class RateLimit {
 public:
  using Clock = std::chrono::steady_clock;

  // Refills the bucket for the time since the last call (the first call starts it with one
  // message); true when a message may go at `t`. `per_second` below 1 counts as 1.
  bool allows(int64_t per_second, Clock::time_point t) {
    const double rate = rateOf(per_second);
    if (!started_) {
      started_ = true;
      tokens_ = 1;
    } else if (t > refilled_) {
      tokens_ = std::min(burstOf(rate),
                         tokens_ + std::chrono::duration<double>(t - refilled_).count() * rate);
    }
    refilled_ = std::max(refilled_, t);
    return tokens_ >= 1;
  }

  // After allows() said no: how long until it says yes (at the same rate).
  Clock::duration wait(int64_t per_second) const {
    const auto d = std::chrono::duration<double>((1 - tokens_) / rateOf(per_second));
    return std::max(Clock::duration(1), std::chrono::ceil<Clock::duration>(d));
  }

  // A message went (after allows() said yes).
  void take() { tokens_ -= 1; }

 private:
  static double rateOf(int64_t per_second) { return double(std::max<int64_t>(1, per_second)); }
  static double burstOf(double rate) { return std::max(1.0, rate / 10); }

  bool started_ = false;
  double tokens_ = 1;
  Clock::time_point refilled_{};
};

}  // namespace messaging
