// ThreadPool: a fixed set of threads running posted tasks from a bounded FIFO queue. Blocking
// work (database, webhooks, TTS) runs here, never on a SIP worker; the task posts its result
// back to the worker's event loop itself.
//
//   common::ThreadPool pool(4, 1024);
//   if (auto st = pool.post([&] { store.registrations().upsert(b); }); !st) count(st.error());
//   pool.stop();  // runs what is queued, then joins
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/result.h"

namespace common {

class ThreadPool {
 public:
  // `threads` is at least 1; `max_queued` (at least 1) bounds the tasks waiting to run.
  ThreadPool(size_t threads, size_t max_queued);
  ~ThreadPool();  // stop()
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues `task`. Fails with kTooLarge when max_queued tasks are already waiting (the caller
  // decides: answer 503, drop, retry later) and with kUnsupported after stop(). A task that
  // throws is caught and counted; the thread keeps going.
  Status post(std::function<void()> task);

  // Refuses new tasks, runs every task already queued, then joins the threads. Idempotent;
  // must not be called from a task of this pool.
  void stop();

  size_t threadCount() const { return threads_.size(); }
  size_t queued() const;
  size_t failedTasks() const;  // tasks that threw

 private:
  void run();

  const size_t max_queued_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  size_t failed_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace common
