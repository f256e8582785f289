#include "api/internal/connection_limit.h"

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
  common::AddressSet::Key key = keyOf(peer);
  std::lock_guard lock(mutex_);
  size_t& n = open_[key];
  if (n >= max_) return std::nullopt;
  ++n;
  return Slot(this, key);
}

size_t ConnectionLimit::open(const boost::asio::ip::address& peer) const {
  std::lock_guard lock(mutex_);
  auto it = open_.find(keyOf(peer));
  return it == open_.end() ? 0 : it->second;
}

void ConnectionLimit::release(const common::AddressSet::Key& key) {
  std::lock_guard lock(mutex_);
  auto it = open_.find(key);
  if (it == open_.end()) return;
  if (--it->second == 0) open_.erase(it);
}

ConnectionLimit::Slot::~Slot() {
  if (limit_) limit_->release(key_);
}

}  // namespace api::internal
