#include "api/internal/connection_limit.h"

#include <algorithm>

namespace api::internal {

common::AddressSet::Key ConnectionLimit::keyOf(const boost::asio::ip::address& peer) {
  common::AddressSet::Key key = common::AddressSet::keyOf(peer);
  bool v4 = peer.is_v4() || peer.to_v6().is_v4_mapped();
  if (!v4)
    for (size_t i = 8; i < key.size(); ++i) key[i] = 0;
  return key;
}

std::optional<ConnectionLimit::Slot> ConnectionLimit::acquire(
    const boost::asio::ip::address& peer) {
  const common::AddressSet::Key key = keyOf(peer);
  auto entry = std::make_shared<Entry>(key);
  std::shared_ptr<Entry> victim;
  {
    std::lock_guard lock(mutex_);
    auto& list = open_[key];
    if (list.size() >= max_) {
      // The oldest in `standing`, made kEvicted in the same step: a connection that turns
      // busy at this moment is either chosen before (and does not start its request) or
      // passed over.
      auto oldest = [&list](Standing standing) {
        return std::find_if(list.begin(), list.end(), [standing](const std::shared_ptr<Entry>& e) {
          Standing expected = standing;
          return e->standing.compare_exchange_strong(expected, Standing::kEvicted);
        });
      };
      auto idle = oldest(Standing::kWaiting);
      if (idle == list.end()) idle = oldest(Standing::kKeptAlive);
      if (idle == list.end()) {
        if (list.empty()) open_.erase(key);  // max_ == 0
        return std::nullopt;
      }
      victim = std::move(*idle);
      list.erase(idle);
    }
    list.push_back(entry);
  }
  if (victim) {
    ++evicted_;
    evict(victim);
  }
  return Slot(this, std::move(entry));
}

void ConnectionLimit::evict(const std::shared_ptr<Entry>& entry) {
  std::function<void()> close;
  {
    std::lock_guard lock(entry->mutex);
    entry->evicted = true;
    close = std::move(entry->close);
  }
  if (close) close();
}

size_t ConnectionLimit::open(const boost::asio::ip::address& peer) const {
  std::lock_guard lock(mutex_);
  auto it = open_.find(keyOf(peer));
  return it == open_.end() ? 0 : it->second.size();
}

void ConnectionLimit::release(const std::shared_ptr<Entry>& entry) {
  std::lock_guard lock(mutex_);
  auto it = open_.find(entry->key);
  if (it == open_.end()) return;  // evicted: its place went to the newcomer
  it->second.remove(entry);
  if (it->second.empty()) open_.erase(it);
}

bool ConnectionLimit::Slot::standing(Standing now) {
  if (!entry_) return true;
  Standing current = entry_->standing.load();
  do {
    if (current == Standing::kEvicted) return false;
  } while (!entry_->standing.compare_exchange_weak(current, now));
  return true;
}

void ConnectionLimit::Slot::onEvict(std::function<void()> close) {
  if (!entry_) return;
  {
    std::lock_guard lock(entry_->mutex);
    if (!entry_->evicted) {
      entry_->close = std::move(close);
      return;
    }
  }
  close();
}

ConnectionLimit::Slot::~Slot() {
  if (limit_ && entry_) limit_->release(entry_);
}

}  // namespace api::internal
