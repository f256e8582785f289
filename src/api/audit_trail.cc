#include "api/audit_trail.h"

#include "common/log.h"

namespace api {

AuditTrail::AuditTrail(store::AuditLog& log, Options options)
    : log_(log),
      options_(options),
      failures_(options.failure_window, options.max_failure_rows),
      thread_([this] { run(); }) {}

AuditTrail::~AuditTrail() {
  stop();
}

void AuditTrail::record(store::AuditEntry entry) {
  std::unique_lock lock(mu_);
  if (queue_.size() < options_.max_queued && !stopping_) {
    queue_.push_back(std::move(entry));
    return;
  }
  lock.unlock();
  // The writer is behind (or gone): this request pays for its own entry.
  std::vector<store::AuditEntry> one{std::move(entry)};
  writeBatch(one);
}

void AuditTrail::recordFailure(store::AuditEntry entry) {
  std::unique_lock lock(mu_);
  if (!stopping_) {
    const auto now = FailureDigest::Clock::now();
    failures_.add(std::move(entry), now);
    // The first failure of a window (and rows whose window ended) join the queue now, in
    // order with the requests around them; when the queue is full they wait in the digest
    // for the writer's next round (never on this thread: a flood must not cost it a write).
    if (queue_.size() < options_.max_queued)
      for (auto& row : failures_.take(now, false)) queue_.push_back(std::move(row));
    return;
  }
  lock.unlock();
  record(std::move(entry));  // written on its own, as any entry after stop()
}

bool AuditTrail::writeBatch(std::vector<store::AuditEntry>& batch) {
  if (batch.empty()) return true;
  auto st = log_.append(batch);
  std::lock_guard lock(mu_);
  if (st) {
    written_ += batch.size();
  } else {
    failed_ += batch.size();
    SB_LOG(kError,
           "audit: " + std::to_string(batch.size()) + " entries not written: " + st.error().reason);
  }
  return bool(st);
}

void AuditTrail::run() {
  std::vector<store::AuditEntry> batch;
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait_for(lock, options_.interval,
                   [&] { return stopping_ || generation_ != done_generation_; });
    const uint64_t gen = generation_;
    const bool last = stopping_;
    batch.swap(queue_);
    // A flush or the last round takes the failure rows still counting too.
    for (auto& row : failures_.take(FailureDigest::Clock::now(), last || gen != done_generation_))
      batch.push_back(std::move(row));
    lock.unlock();
    writeBatch(batch);
    batch.clear();
    lock.lock();
    done_generation_ = gen;
    if (last && queue_.empty()) {
      running_ = false;
      flushed_.notify_all();
      return;
    }
    flushed_.notify_all();
  }
}

void AuditTrail::flush() {
  std::unique_lock lock(mu_);
  if (!running_) return;
  const uint64_t gen = ++generation_;
  wake_.notify_one();
  flushed_.wait(lock, [&] { return done_generation_ >= gen || !running_; });
}

void AuditTrail::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

uint64_t AuditTrail::written() const {
  std::lock_guard lock(mu_);
  return written_;
}

uint64_t AuditTrail::failed() const {
  std::lock_guard lock(mu_);
  return failed_;
}

}  // namespace api
