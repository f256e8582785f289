// Writes the audit log off the request path: entries are queued and a writer thread appends
// them in batches (one transaction each) every `interval`, so a request costs a queue push,
// not a commit. stop() (and the destructor) writes everything queued. What a crash can lose is
// bounded by `interval` of traffic; entries are never dropped silently: when the queue is full
// the request thread writes its entry itself.
//
// Failed authentications go through recordFailure: they are coalesced (FailureDigest) into one
// row per source per account per `failure_window`, written when the window ends, by flush()
// and at stop().
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "api/failure_digest.h"
#include "store/audit_log.h"

namespace api {

class AuditTrail {
 public:
  struct Options {
    std::chrono::milliseconds interval{20};
    size_t max_queued = 50000;
    std::chrono::milliseconds failure_window{60000};
    size_t max_failure_rows = 10000;  // rows counting at once
  };
  AuditTrail(store::AuditLog& log, Options options);
  ~AuditTrail();  // stop()
  AuditTrail(const AuditTrail&) = delete;
  AuditTrail& operator=(const AuditTrail&) = delete;

  void record(store::AuditEntry entry);
  // A failed authentication: counted into its source's row for the account (entry.count).
  void recordFailure(store::AuditEntry entry);
  // Writes what is queued now, failure rows still counting included, and returns when it is
  // committed (tests, before a read).
  void flush();
  void stop();

  uint64_t written() const;
  uint64_t failed() const;  // entries whose batch failed to commit (logged)

 private:
  void run();
  bool writeBatch(std::vector<store::AuditEntry>& batch);

  store::AuditLog& log_;
  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable wake_, flushed_;
  std::vector<store::AuditEntry> queue_;
  FailureDigest failures_;
  uint64_t generation_ = 0, done_generation_ = 0;
  bool stopping_ = false;
  bool running_ = true;  // the writer thread has not finished
  uint64_t written_ = 0, failed_ = 0;
  std::thread thread_;
};

}  // namespace api
