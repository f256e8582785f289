#include "common/thread_pool.h"

#include <algorithm>
#include <string>

namespace common {

ThreadPool::ThreadPool(size_t threads, size_t max_queued)
    : max_queued_(std::max<size_t>(1, max_queued)) {
  threads = std::max<size_t>(1, threads);
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

ThreadPool::~ThreadPool() {
  stop();
}

Status ThreadPool::post(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return makeError(ErrorCode::kUnsupported, "thread pool: stopped");
    if (queue_.size() >= max_queued_)
      return makeError(ErrorCode::kTooLarge, "thread pool: queue full (" +
                                                 std::to_string(max_queued_) + " tasks waiting)");
    queue_.push_back(std::move(task));
  }
  wake_.notify_one();
  return {};
}

void ThreadPool::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

size_t ThreadPool::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

size_t ThreadPool::failedTasks() const {
  std::lock_guard lock(mutex_);
  return failed_;
}

void ThreadPool::run() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      task();
    } catch (...) {
      std::lock_guard lock(mutex_);
      ++failed_;
    }
  }
}

}  // namespace common
