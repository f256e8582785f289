#include "edge/persistence.h"

#include "common/log.h"
#include "common/strings.h"

namespace edge {

store::Binding toStored(const Binding& b) {
  store::Binding s;
  s.aor = b.aor;
  s.contact = b.contact;
  if (!b.instance_id.empty()) s.instance_id = b.instance_id;
  if (!b.reg_id.empty()) {
    if (auto n = common::parseUint(b.reg_id, 0xffffffffu)) s.reg_id = uint32_t(*n);
  }
  s.call_id = b.call_id;
  s.cseq = b.cseq;
  s.expires_at = b.expires_at;
  s.q = b.q;
  s.path = b.path;
  s.flow.remote = b.flow.toString();
  s.flow.local =
      std::string(transport::configName(b.flow.protocol)) + ":" + b.flow.local.toString();
  s.flow.connection_id = int64_t(b.flow.connection_id);
  s.user_agent = b.user_agent;
  s.updated_at = b.updated_at;
  return s;
}

namespace {

// "udp:192.0.2.7:5060" -> protocol and address.
bool parseFlowSide(std::string_view text, transport::Protocol* p, transport::Address* a) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  auto proto = transport::protocolFromName(text.substr(0, colon));
  auto addr = transport::Address::parse(text.substr(colon + 1));
  if (!proto || !addr) return false;
  *p = *proto;
  *a = *addr;
  return true;
}

}  // namespace

std::optional<Binding> fromStored(const store::Binding& s) {
  Binding b;
  b.aor = s.aor;
  b.contact = s.contact;
  b.instance_id = s.instance_id.value_or("");
  b.reg_id = s.reg_id ? std::to_string(*s.reg_id) : "";
  b.call_id = s.call_id;
  b.cseq = s.cseq;
  b.expires_at = s.expires_at;
  b.q = s.q;
  b.path = s.path;
  transport::Protocol local_protocol;
  if (!parseFlowSide(s.flow.remote, &b.flow.protocol, &b.flow.remote) ||
      !parseFlowSide(s.flow.local, &local_protocol, &b.flow.local))
    return std::nullopt;
  b.flow.connection_id = uint64_t(s.flow.connection_id);
  b.user_agent = s.user_agent;
  b.updated_at = s.updated_at;
  return b;
}

EdgeStore::EdgeStore(store::Store& db, common::ThreadPool& pool, Options options)
    : db_(db), pool_(pool), options_(options) {}

void EdgeStore::findHa1(const std::string& domain, const std::string& user, const Back& back,
                        std::function<void(common::Result<std::optional<Ha1>>)> done) {
  std::string key = domain + "\n" + user;
  auto now = std::chrono::steady_clock::now();
  std::optional<std::optional<Ha1>> cached;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.until > now) {
      ++hits_;
      cached = it->second.ha1;
    } else {
      ++misses_;
    }
  }
  // Outside the lock: `done` may come back here (a request handed on and checked again).
  if (cached) return done(std::move(*cached));
  auto task = [this, domain, user, key, back, done]() mutable {
    // Only the domain owner's credentials: a row another account put on the name never passes.
    auto found = db_.sipCredentials().findOwned(domain, user);
    common::Result<std::optional<Ha1>> result = std::optional<Ha1>();
    if (!found) {
      result = found.error();
    } else {
      std::optional<Ha1> ha1;
      if (*found) ha1 = Ha1{(*found)->ha1_md5, (*found)->ha1_sha256};
      auto ttl = ha1 ? options_.credential_ttl : options_.negative_ttl;
      {
        std::lock_guard lock(mu_);
        if (cache_.size() > 100000) cache_.clear();  // bound; refilled on demand
        cache_[key] = Cached{ha1, std::chrono::steady_clock::now() + ttl};
      }
      result = std::move(ha1);
    }
    back([done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  };
  if (auto st = pool_.post(std::move(task)); !st) done(st.error());
}

EdgeStore::~EdgeStore() {
  std::unique_lock lock(write_mu_);
  writer_idle_.wait(lock, [this] { return !writer_scheduled_; });
}

void EdgeStore::saveRegistration(const RegisterPlan& plan, const Back& back,
                                 std::function<void(common::Status)> done) {
  PendingWrite w;
  w.upserts.reserve(plan.upserts.size());
  for (const Binding& b : plan.upserts) w.upserts.push_back(toStored(b));
  for (const std::string& c : plan.removed) w.removals.emplace_back(plan.aor, c);
  w.back = back;
  w.done = std::move(done);
  bool schedule = false;
  {
    std::lock_guard lock(write_mu_);
    pending_.push_back(std::move(w));
    if (!writer_scheduled_) writer_scheduled_ = schedule = true;
  }
  if (!schedule) return;
  if (auto st = pool_.post([this] { drainWrites(); }); !st) {
    // The pool refuses: fail what is queued (the registrar answers 500, the UA retries).
    std::vector<PendingWrite> failed;
    {
      std::lock_guard lock(write_mu_);
      failed.swap(pending_);
      writer_scheduled_ = false;
      writer_idle_.notify_all();
    }
    for (PendingWrite& f : failed) f.done(st.error());
  }
}

void EdgeStore::drainWrites() {
  // Group commit: every REGISTER that arrived while the previous batch was being written goes
  // into the next transaction, so the store sees one commit per batch, not one per REGISTER,
  // and each REGISTER is still answered only after its binding is committed.
  for (;;) {
    std::vector<PendingWrite> batch;
    {
      std::lock_guard lock(write_mu_);
      if (pending_.empty()) {
        writer_scheduled_ = false;
        writer_idle_.notify_all();
        return;
      }
      batch.swap(pending_);
    }
    std::vector<store::Binding> upserts;
    std::vector<std::pair<std::string, std::string>> removals;
    for (const PendingWrite& w : batch) {
      upserts.insert(upserts.end(), w.upserts.begin(), w.upserts.end());
      removals.insert(removals.end(), w.removals.begin(), w.removals.end());
    }
    common::Status st = db_.registrations().apply(upserts, removals);
    batches_.fetch_add(1, std::memory_order_relaxed);
    if (!st && batch.size() > 1) {
      // One bad binding must not fail the others: write them one by one.
      for (PendingWrite& w : batch) {
        common::Status one = db_.registrations().apply(w.upserts, w.removals);
        w.back([done = std::move(w.done), one]() mutable { done(one); });
      }
      continue;
    }
    for (PendingWrite& w : batch) {
      w.back([done = std::move(w.done), st]() mutable { done(st); });
    }
  }
}

void EdgeStore::purgeExpired(int64_t now) {
  auto st = pool_.post([this, now] {
    auto n = db_.registrations().purgeExpired(now);
    if (!n) SB_LOG(kWarn, "registrar: purging expired bindings failed: " + n.error().reason);
  });
  (void)st;  // a full pool skips this round; the next purge catches up
}

common::Result<std::vector<Binding>> EdgeStore::loadBindings(int64_t now) {
  auto rows = db_.registrations().listAll(now);
  if (!rows) return rows.error();
  std::vector<Binding> out;
  out.reserve(rows->size());
  for (const store::Binding& s : *rows) {
    if (auto b = fromStored(s)) {
      out.push_back(std::move(*b));
    } else {
      SB_LOG(kWarn, "registrar: skipping a stored binding with an unreadable flow: " + s.aor);
    }
  }
  return out;
}

uint64_t EdgeStore::cacheHits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

uint64_t EdgeStore::cacheMisses() const {
  std::lock_guard lock(mu_);
  return misses_;
}

}  // namespace edge
