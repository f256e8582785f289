#include "transaction/timers.h"

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
  alive_.reset();  // handlers still queued return without touching this object
  timers_.clear();
}

TimerId AsioTimers::schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
  TimerId id = next_id_++;
  auto timer = std::make_unique<boost::asio::steady_timer>(io_, delay);
  std::weak_ptr<char> alive = alive_;
  timer->async_wait([this, alive, id, fn = std::move(fn)](const boost::system::error_code& ec) {
    // A wait that completed just before cancel() (or before this object died) still runs its
    // handler with success: the table and the token tell it apart.
    if (ec || alive.expired()) return;
    auto it = timers_.find(id);
    if (it == timers_.end()) return;
    timers_.erase(it);
    fn();
  });
  timers_.emplace(id, std::move(timer));
  return id;
}

void AsioTimers::cancel(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  it->second->cancel();
  timers_.erase(it);
}

}  // namespace transaction
