#include "transport/workers.h"

#include <cstdint>

#include "common/hash.h"

namespace transport {
namespace {

struct Current {
  const Workers* owner = nullptr;
  size_t index = 0;
};
thread_local Current t_current;

}  // namespace

Workers::Workers(unsigned n) {
  if (n == 0) n = 1;
  loops_.reserve(n);
  for (unsigned i = 0; i < n; ++i) {
    // Concurrency hint 1: each context is run by exactly one thread.
    loops_.push_back(std::make_unique<boost::asio::io_context>(1));
  }
}

Workers::~Workers() {
  stop();
}

size_t Workers::shardOf(std::string_view key) const {
  return size_t(common::fnv1a(key) % loops_.size());
}

void Workers::start() {
  if (running_.exchange(true)) return;
  for (auto& l : loops_) {
    l->restart();
    guards_.push_back(boost::asio::make_work_guard(*l));
  }
  for (size_t i = 0; i < loops_.size(); ++i) {
    threads_.emplace_back([this, i] {
      t_current = Current{this, i};
      // Handlers never throw (the transport catches); a stray exception would end the
      // thread, so keep the loop alive.
      for (;;) {
        try {
          loops_[i]->run();
          break;
        } catch (...) {
        }
      }
      t_current = Current{};
    });
  }
}

void Workers::stop() {
  if (!running_.load()) return;
  for (auto& g : guards_) g.reset();
  guards_.clear();
  for (auto& l : loops_) l->stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  running_.store(false, std::memory_order_release);
}

std::optional<size_t> Workers::currentWorker() const {
  if (t_current.owner == this) return t_current.index;
  return std::nullopt;
}

}  // namespace transport
