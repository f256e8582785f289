// The SIP worker threads: N threads, each running its own boost::asio::io_context ("one
// event loop per core"). Hot state is sharded by key hash, so shardOf(call_id) names the one
// loop that owns a call; other threads post() to it.
//
//   transport::Workers workers(std::thread::hardware_concurrency());
//   workers.start();
//   boost::asio::post(workers.loop(workers.shardOf(call_id)), [] { ... });
//   workers.stop();
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace transport {

class Workers {
 public:
  // n == 0 is treated as 1.
  explicit Workers(unsigned n);
  ~Workers();  // stop()
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  boost::asio::io_context& loop(size_t i) { return *loops_[i]; }
  size_t size() const { return loops_.size(); }
  // Stable across runs and processes (FNV-1a), so a key always lands on the same worker.
  size_t shardOf(std::string_view key) const;

  // Threads run the loops; work guards keep them alive until stop().
  void start();
  // Stops the loops and joins the threads; idempotent. Must not be called from a worker.
  void stop();
  bool running() const { return running_.load(std::memory_order_acquire); }

  // The index of the calling thread when it is one of this object's workers.
  std::optional<size_t> currentWorker() const;

 private:
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> loops_;
  std::vector<Guard> guards_;
  std::vector<std::thread> threads_;
  std::atomic<bool> running_{false};
};

}  // namespace transport
