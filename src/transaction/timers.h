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

// Real timers on an io_context (one steady_timer per pending timer). Not thread-safe: use it
// from the thread running the io_context, like the transaction layer that owns it.
class AsioTimers final : public Timers {
 public:
  explicit AsioTimers(boost::asio::io_context& io) : io_(io) {}
  ~AsioTimers() override;
  AsioTimers(const AsioTimers&) = delete;
  AsioTimers& operator=(const AsioTimers&) = delete;

  TimerId schedule(std::chrono::milliseconds delay, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  size_t pending() const { return timers_.size(); }

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<char> alive_ = std::make_shared<char>(0);  // shared with pending handlers
  std::unordered_map<TimerId, std::unique_ptr<boost::asio::steady_timer>> timers_;
  TimerId next_id_ = 1;
};

}  // namespace transaction
