// The edge's view of the store: credential lookups and binding writes run on the blocking
// pool (never on a SIP worker) and their results come back on the worker that asked, through
// the `back` function it passes (a post to its event loop). Credentials are cached for a
// short time, so a REGISTER refresh usually needs no database read; bindings are written
// before the registrar answers, as DESIGN.md promises.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/thread_pool.h"
#include "edge/digest_auth.h"
#include "edge/location.h"
#include "edge/registrar.h"
#include "store/store.h"

namespace edge {

// Conversions between the location service's bindings and the store's rows.
store::Binding toStored(const Binding& b);
std::optional<Binding> fromStored(const store::Binding& s);

class EdgeStore {
 public:
  using Back = std::function<void(std::function<void()>)>;

  struct Options {
    std::chrono::seconds credential_ttl{30};  // a found user's HA1 is reused this long
    std::chrono::seconds negative_ttl{5};     // an unknown user is asked again after this
  };

  EdgeStore(store::Store& db, common::ThreadPool& pool, Options options);
  EdgeStore(store::Store& db, common::ThreadPool& pool) : EdgeStore(db, pool, Options()) {}
  // Waits for a write batch in progress on the pool: the writer touches this object after
  // it has answered the batch's callbacks.
  ~EdgeStore();
  EdgeStore(const EdgeStore&) = delete;
  EdgeStore& operator=(const EdgeStore&) = delete;

  // The user's HA1 values (nullopt: no such user), or an error when the store failed or the
  // pool is full. `done` runs through `back`, or right away on a cache hit.
  void findHa1(const std::string& domain, const std::string& user, const Back& back,
               std::function<void(common::Result<std::optional<Ha1>>)> done);
  // Writes a registrar plan's upserts and removals.
  void saveRegistration(const RegisterPlan& plan, const Back& back,
                        std::function<void(common::Status)> done);
  // Removes expired bindings from the store (the pool runs it; the result is only logged).
  void purgeExpired(int64_t now);

  // Blocking, for start-up: every unexpired binding.
  common::Result<std::vector<Binding>> loadBindings(int64_t now);

  uint64_t cacheHits() const;
  // Store transactions that wrote bindings (each carries one or more REGISTERs).
  uint64_t writeBatches() const { return batches_.load(std::memory_order_relaxed); }
  uint64_t cacheMisses() const;

 private:
  struct PendingWrite {
    std::vector<store::Binding> upserts;
    std::vector<std::pair<std::string, std::string>> removals;
    Back back;
    std::function<void(common::Status)> done;
  };
  void drainWrites();

  struct Cached {
    std::optional<Ha1> ha1;
    std::chrono::steady_clock::time_point until;
  };
  store::Store& db_;
  common::ThreadPool& pool_;
  Options options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Cached> cache_;  // "domain\nuser"
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
  std::mutex write_mu_;
  std::vector<PendingWrite> pending_;
  bool writer_scheduled_ = false;
  std::condition_variable writer_idle_;  // signalled when writer_scheduled_ turns false
  std::atomic<uint64_t> batches_{0};
};

}  // namespace edge
