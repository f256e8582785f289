// The worker's event loop in miniature for edge tests: work the edge posts (store results,
// hook answers) is queued here and run on the test thread by pump() or drain().
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

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

}  // namespace edge::testing
