#include "edge/location.h"

#include <algorithm>
#include <functional>

#include "common/strings.h"

namespace edge {

std::string canonicalAor(const sip::Uri& uri) {
  if (!uri.isSip() || uri.user().empty() || uri.host().empty()) return {};
  std::string aor = "sip:";
  aor.append(uri.user());
  aor.push_back('@');
  for (char c : uri.host()) aor.push_back(common::toLowerAscii(c));
  return aor;
}

Location::Shard& Location::shardFor(std::string_view aor) {
  return shards_[std::hash<std::string_view>()(aor) % kShards];
}

const Location::Shard& Location::shardFor(std::string_view aor) const {
  return shards_[std::hash<std::string_view>()(aor) % kShards];
}

std::vector<Binding> Location::lookup(std::string_view aor, int64_t now) const {
  const Shard& s = shardFor(aor);
  std::vector<Binding> out;
  {
    std::lock_guard lock(s.mu);
    auto it = s.by_aor.find(std::string(aor));
    if (it == s.by_aor.end()) return out;
    for (const Binding& b : it->second) {
      if (b.expires_at > now) out.push_back(b);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Binding& a, const Binding& b) {
    if (a.q != b.q) return a.q > b.q;
    return a.updated_at > b.updated_at;
  });
  return out;
}

void Location::replace(const std::string& aor, std::vector<Binding> bindings) {
  Shard& s = shardFor(aor);
  std::lock_guard lock(s.mu);
  if (bindings.empty()) {
    s.by_aor.erase(aor);
  } else {
    s.by_aor[aor] = std::move(bindings);
  }
}

void Location::load(std::vector<Binding> bindings) {
  for (Binding& b : bindings) {
    Shard& s = shardFor(b.aor);
    std::lock_guard lock(s.mu);
    auto& list = s.by_aor[b.aor];
    std::erase_if(list, [&](const Binding& x) { return x.contact == b.contact; });
    list.push_back(std::move(b));
  }
}

size_t Location::purgeExpired(int64_t now) {
  size_t removed = 0;
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    for (auto it = s.by_aor.begin(); it != s.by_aor.end();) {
      removed += std::erase_if(it->second, [&](const Binding& b) { return b.expires_at <= now; });
      it = it->second.empty() ? s.by_aor.erase(it) : std::next(it);
    }
  }
  return removed;
}

size_t Location::size() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    for (const auto& kv : s.by_aor) n += kv.second.size();
  }
  return n;
}

void Location::forEach(int64_t now, const std::function<void(const Binding&)>& fn) const {
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    for (const auto& kv : s.by_aor) {
      for (const Binding& b : kv.second) {
        if (b.expires_at > now) fn(b);
      }
    }
  }
}

size_t Location::aorCount() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.by_aor.size();
  }
  return n;
}

}  // namespace edge
