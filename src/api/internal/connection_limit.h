// The per-address cap on open HTTP connections: one address (an IPv6 client by its /64, the
// least a host is given) holds at most `max` connections, so one client cannot take every
// socket the process has while the rest keep being served. Internal to the api part.
//
//   api::internal::ConnectionLimit limit(64);
//   auto slot = limit.acquire(peer);          // a slot, or nullopt at the cap
//   if (!slot) return refuse(socket);         // the slot frees itself when dropped
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>

#include "common/address_set.h"

namespace api::internal {

class ConnectionLimit {
 public:
  explicit ConnectionLimit(size_t max_per_address) : max_(max_per_address) {}
  ConnectionLimit(const ConnectionLimit&) = delete;
  ConnectionLimit& operator=(const ConnectionLimit&) = delete;

  // One open connection; gives its place back when destroyed. Outlived by its ConnectionLimit.
  class Slot {
   public:
    Slot(Slot&& other) noexcept : limit_(other.limit_), key_(other.key_) { other.limit_ = nullptr; }
    Slot& operator=(Slot&&) = delete;
    ~Slot();

   private:
    friend class ConnectionLimit;
    Slot(ConnectionLimit* limit, const common::AddressSet::Key& key) : limit_(limit), key_(key) {}
    ConnectionLimit* limit_;
    common::AddressSet::Key key_;
  };

  // nullopt when `peer` (or its /64) already holds max_per_address connections.
  std::optional<Slot> acquire(const boost::asio::ip::address& peer);
  // Open connections counted against `peer`'s address (or /64).
  size_t open(const boost::asio::ip::address& peer) const;

  // The key a peer is counted under: IPv4 as itself, IPv6 by its /64.
  static common::AddressSet::Key keyOf(const boost::asio::ip::address& peer);

 private:
  void release(const common::AddressSet::Key& key);

  const size_t max_;
  mutable std::mutex mutex_;
  std::map<common::AddressSet::Key, size_t> open_;
};

}  // namespace api::internal
