// One-shot timers on an injectable clock, so the transaction layer's timers (A..M of
// RFC 3261 §17 and RFC 6026) run on the worker's event loop in production and step
// deterministically in tests, with no sleeping.
//
//   transaction::ManualTimers timers;
//   timers.schedule(std::chrono::milliseconds(500), [] { retransmit(); });
//   timers.advance(std::chrono::milliseconds(500));  // fires it
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace transaction {

// 0 is never a valid id ("no timer").
using TimerId = uint64_t;

class Timers {
 public:
  virtual ~Timers() = default;
  // Runs `fn` once, `delay` from now, on the owner's thread. A zero delay runs it later on
  // the same loop, never inside schedule().
  virtual TimerId schedule(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  // Cancelling a fired, cancelled or unknown id is a no-op.
  virtual void cancel(TimerId id) = 0;
};

// Simulated time for tests: advance() fires due timers in time order (ties in scheduling
// order), including timers that fired timers schedule within the advanced span.
class ManualTimers final : public Timers {
 public:
  TimerId schedule(std::chrono::milliseconds delay, std::function<void()> fn) override;
  void cancel(TimerId id) override;

  void advance(std::chrono::milliseconds by);
  std::chrono::milliseconds now() const { return now_; }
  size_t pending() const { return queue_.size(); }

 private:
  using Key = std::pair<std::chrono::milliseconds, TimerId>;  // due, id (ids increase)
  std::map<Key, std::function<void()>> queue_;
  std::unordered_map<TimerId, std::chrono::milliseconds> due_;
  std::chrono::milliseconds now_{0};
  TimerId next_id_ = 1;
};

// Real timers on an io_context: a min-heap of deadlines behind one steady_timer, armed for
// the earliest. Transactions schedule and cancel several timers each (most are cancelled
// long before they are due), so one asio timer per schedule() would re-arm the kernel's
// timerfd and allocate on nearly every call; here the kernel timer moves only when the
// earliest deadline does, and wakes up on a kSlack grid: a timer fires up to kSlack late
// (never early), and all timers due in one slot run in one wake-up. The transaction layer
// schedules a zero-delay timer for nearly every response, which without the grid re-armed
// the kernel timer twice per request (timerfd_settime was ~19% of a registrar's CPU). Cancelled
// entries leave the heap when they come due (or in a compaction when they outnumber the live ones).
// Not thread-safe: use it from the thread running the io_context, like the transaction layer that
// owns it.
class AsioTimers final : public Timers {
 public:
  explicit AsioTimers(boost::asio::io_context& io) : timer_(io) {}
  ~AsioTimers() override;
  AsioTimers(const AsioTimers&) = delete;
  AsioTimers& operator=(const AsioTimers&) = delete;

  TimerId schedule(std::chrono::milliseconds delay, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  size_t pending() const { return live_.size(); }
  uint64_t arms() const { return generation_; }  // times the kernel timer was set

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    Clock::time_point due;
    TimerId id;
    bool operator>(const Entry& o) const { return due != o.due ? due > o.due : id > o.id; }
  };
  struct Live {
    Clock::time_point due;
    std::function<void()> fn;
  };
  static constexpr std::chrono::milliseconds kSlack{5};
  // `due` rounded up to the grid.
  static Clock::time_point slot(Clock::time_point due);
  void arm(Clock::time_point at);
  void fire();
  void compact();

  boost::asio::steady_timer timer_;
  std::shared_ptr<char> alive_ = std::make_shared<char>(0);  // shared with the pending wait
  std::vector<Entry> heap_;                                  // std::push_heap with greater<>
  std::unordered_map<TimerId, Live> live_;
  Clock::time_point armed_ = Clock::time_point::max();  // deadline of the pending wait
  uint64_t generation_ = 0;  // the pending wait's; an older completion is stale
  TimerId next_id_ = 1;
};

}  // namespace transaction
