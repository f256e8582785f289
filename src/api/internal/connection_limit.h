// The per-address cap on open HTTP connections: one address (an IPv6 client by its /64, the
// least a host is given) holds at most `max` connections, so one client cannot take every
// socket the process has while the rest keep being served. Internal to the api part.
//
// At the cap, a new connection takes the place of one of the address's idle ones, which is
// closed: the oldest that has not been served yet (still reading its first request, or held
// back before a delayed answer such as a failed login's), else the oldest kept alive between
// requests. A client that opens hundreds of connections and never finishes a request
// (slowloris), or floods wrong credentials, only pushes out its own, while a normal client
// from the same address (a NAT, a proxy that is not trusted, loopback) still gets in and keeps
// its connections. Only when every connection of the address is busy (handling or answering
// a request) is the newcomer refused.
//
//   api::internal::ConnectionLimit limit(64);
//   auto slot = limit.acquire(peer);          // a slot, or nullopt: all of peer's are busy
//   if (!slot) return refuse(socket);         // the slot frees itself when dropped
//   slot->onEvict([weak] { post(close) });    // how to close this one to make room
//   slot->standing(Standing::kBusy);  ...  slot->standing(Standing::kKeptAlive);
#pragma once

#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "common/address_set.h"

namespace api::internal {

class ConnectionLimit {
  struct Entry;

 public:
  // What a connection is doing, which decides whether it may be closed to make room.
  enum class Standing : uint8_t {
    kWaiting,    // not served yet, last refused (4xx, 5xx), or held back before a delayed
                 // answer: evicted first
    kKeptAlive,  // between requests after a successful answer: evicted when no kWaiting is left
    kBusy,       // handling or answering a request: never evicted
    kEvicted,    // chosen to make room: it stays so, and starts no more work
  };

  explicit ConnectionLimit(size_t max_per_address) : max_(max_per_address) {}
  ConnectionLimit(const ConnectionLimit&) = delete;
  ConnectionLimit& operator=(const ConnectionLimit&) = delete;

  // One open connection; gives its place back when destroyed. Outlived by its ConnectionLimit.
  class Slot {
   public:
    Slot(Slot&& other) noexcept : limit_(other.limit_), entry_(std::move(other.entry_)) {
      other.limit_ = nullptr;
    }
    Slot& operator=(Slot&&) = delete;
    ~Slot();

    // What the connection is doing now; new slots are kWaiting. false (and nothing changes)
    // when the connection was chosen to make room already: it must not start the work.
    [[nodiscard]] bool standing(Standing now);
    // How to close this connection when a newer one of its address takes its place: called
    // at most once, on the thread that accepted the newcomer (so it should post the close to
    // the connection's own executor). Runs at once when the slot was chosen already.
    void onEvict(std::function<void()> close);

   private:
    friend class ConnectionLimit;
    Slot(ConnectionLimit* limit, std::shared_ptr<Entry> entry)
        : limit_(limit), entry_(std::move(entry)) {}
    ConnectionLimit* limit_;
    std::shared_ptr<Entry> entry_;
  };

  // A slot for a connection from `peer`. At the cap one of the address's idle connections is
  // closed (its onEvict runs) to make room; nullopt when all of them are busy.
  std::optional<Slot> acquire(const boost::asio::ip::address& peer);
  // Open connections counted against `peer`'s address (or /64).
  size_t open(const boost::asio::ip::address& peer) const;
  // Connections closed to make room for a newer one of their address.
  uint64_t evicted() const { return evicted_.load(); }

  // The key a peer is counted under: IPv4 as itself, IPv6 by its /64.
  static common::AddressSet::Key keyOf(const boost::asio::ip::address& peer);

 private:
  struct Entry {
    explicit Entry(const common::AddressSet::Key& k) : key(k) {}
    const common::AddressSet::Key key;
    std::atomic<Standing> standing{Standing::kWaiting};
    std::mutex mutex;  // guards close and evicted
    std::function<void()> close;
    bool evicted = false;
  };

  void release(const std::shared_ptr<Entry>& entry);
  static void evict(const std::shared_ptr<Entry>& entry);

  const size_t max_;
  mutable std::mutex mutex_;
  std::map<common::AddressSet::Key, std::list<std::shared_ptr<Entry>>> open_;  // oldest first
  std::atomic<uint64_t> evicted_{0};
};

}  // namespace api::internal
