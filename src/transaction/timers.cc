#include "transaction/timers.h"

#include <algorithm>
#include <functional>
#include <system_error>

namespace transaction {

TimerId ManualTimers::schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
  if (delay.count() < 0) delay = std::chrono::milliseconds(0);
  TimerId id = next_id_++;
  queue_.emplace(Key{now_ + delay, id}, std::move(fn));
  due_.emplace(id, now_ + delay);
  return id;
}

void ManualTimers::cancel(TimerId id) {
  auto it = due_.find(id);
  if (it == due_.end()) return;
  queue_.erase(Key{it->second, id});
  due_.erase(it);
}

void ManualTimers::advance(std::chrono::milliseconds by) {
  const auto target = now_ + by;
  while (!queue_.empty() && queue_.begin()->first.first <= target) {
    auto node = queue_.extract(queue_.begin());
    due_.erase(node.key().second);
    now_ = node.key().first;
    node.mapped()();  // may schedule or cancel other timers
  }
  now_ = target;
}

AsioTimers::~AsioTimers() {
  alive_.reset();  // a completion still queued returns without touching this object
  boost::system::error_code ignored;
  timer_.cancel(ignored);
}

TimerId AsioTimers::schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
  if (delay.count() < 0) delay = std::chrono::milliseconds(0);
  const TimerId id = next_id_++;
  const Clock::time_point due = Clock::now() + delay;
  live_.emplace(id, Live{due, std::move(fn)});
  heap_.push_back(Entry{due, id});
  std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
  if (const auto at = slot(due); at < armed_) arm(at);
  return id;
}

AsioTimers::Clock::time_point AsioTimers::slot(Clock::time_point due) {
  const auto slack = std::chrono::duration_cast<Clock::duration>(kSlack);
  const auto since = due.time_since_epoch();
  const auto rem = since % slack;
  return rem == Clock::duration::zero() ? due : due + (slack - rem);
}

void AsioTimers::cancel(TimerId id) {
  if (live_.erase(id) == 0) return;
  // The heap entry stays until it comes due; compact when the dead clearly outnumber the live.
  if (heap_.size() > 1024 && heap_.size() > 4 * live_.size()) compact();
}

void AsioTimers::compact() {
  std::vector<Entry> kept;
  kept.reserve(live_.size());
  for (const Entry& e : heap_) {
    if (live_.count(e.id) != 0) kept.push_back(e);
  }
  heap_ = std::move(kept);
  std::make_heap(heap_.begin(), heap_.end(), std::greater<>());
}

void AsioTimers::arm(Clock::time_point at) {
  armed_ = at;
  const uint64_t gen = ++generation_;
  timer_.expires_at(at);  // cancels a pending wait: its completion sees an old generation
  std::weak_ptr<char> alive = alive_;
  timer_.async_wait([this, alive, gen](const boost::system::error_code& ec) {
    if (alive.expired() || ec || gen != generation_) return;
    armed_ = Clock::time_point::max();
    fire();
  });
}

void AsioTimers::fire() {
  const Clock::time_point now = Clock::now();
  // Timers scheduled by the callbacks below are due after `now` (even with zero delay), so
  // they run on a later turn of the loop, as schedule() promises.
  while (!heap_.empty() && heap_.front().due <= now) {
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
    const TimerId id = heap_.back().id;
    heap_.pop_back();
    auto it = live_.find(id);
    if (it == live_.end()) continue;  // cancelled
    std::function<void()> fn = std::move(it->second.fn);
    live_.erase(it);
    fn();  // may schedule or cancel other timers
  }
  while (!heap_.empty() && live_.count(heap_.front().id) == 0) {
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
    heap_.pop_back();
  }
  if (!heap_.empty()) {
    if (const auto at = slot(heap_.front().due); at < armed_) arm(at);
  }
}

}  // namespace transaction
