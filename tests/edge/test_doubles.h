// Test doubles the edge tests share: the worker's event loop in miniature (work the edge
// posts, such as store results and hook answers, is queued here and run on the test thread
// by pump() or drain()), and a transaction::Sender that records what goes on the wire.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "transaction/transaction_layer.h"

namespace edge::testing {

class PostedWork {
 public:
  void post(std::function<void()> fn) {
    std::lock_guard lock(mu_);
    q_.push_back(std::move(fn));
    cv_.notify_all();
  }
  // Runs posted work until `done()` or 5 s pass (false).
  bool pump(const std::function<bool()>& done) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done()) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mu_);
        if (!cv_.wait_until(lock, until, [&] { return !q_.empty(); })) return false;
        fn = std::move(q_.front());
        q_.pop_front();
      }
      fn();
    }
    return true;
  }
  // Runs whatever is queued now.
  void drain() {
    for (;;) {
      std::function<void()> fn;
      {
        std::lock_guard lock(mu_);
        if (q_.empty()) return;
        fn = std::move(q_.front());
        q_.pop_front();
      }
      fn();
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
};

// One message put on the wire, and where to.
struct Wire {
  transport::Flow flow;
  std::string bytes;
};

// Records every message sent (thread-safe: timers and hooks may send from other threads) and
// reports each send as done.
class RecordingSender : public transaction::Sender {
 public:
  void send(const transport::Flow& flow, std::string bytes, Done done) override {
    {
      std::lock_guard lock(mu);
      sent.push_back({flow, std::move(bytes)});
    }
    if (done) done({});
  }
  std::mutex mu;
  std::vector<Wire> sent;
};

}  // namespace edge::testing
