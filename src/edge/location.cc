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

namespace {

// user, host (lower case), port (default filled in) and transport of a contact URI; "" for a
// URI that is no SIP contact.
std::string contactKey(const sip::Uri& uri) {
  if (!uri.isSip() || uri.host().empty()) return {};
  std::string key(uri.user());
  key.push_back('@');
  for (char c : uri.host()) key.push_back(common::toLowerAscii(c));
  key.push_back(':');
  key += std::to_string(uri.portOr(uri.scheme() == sip::UriScheme::kSips ? 5061 : 5060));
  key.push_back(';');
  for (char c : uri.transport().value_or("udp")) key.push_back(common::toLowerAscii(c));
  return key;
}

std::string contactKey(const std::string& contact) {
  auto uri = sip::Uri::parse(contact);
  return uri ? contactKey(*uri) : std::string();
}

}  // namespace

Location::ContactShard& Location::contactShardFor(std::string_view key) const {
  return contact_shards_[std::hash<std::string_view>()(key) % kShards];
}

void Location::indexContacts(const std::string& aor, const std::vector<Binding>& old_list,
                             const std::vector<Binding>& new_list) {
  for (const Binding& b : old_list) {
    std::string key = contactKey(b.contact);
    if (key.empty()) continue;
    ContactShard& cs = contactShardFor(key);
    std::lock_guard lock(cs.mu);
    auto it = cs.aor_of.find(key);
    if (it != cs.aor_of.end() && it->second == aor) cs.aor_of.erase(it);
  }
  for (const Binding& b : new_list) {
    std::string key = contactKey(b.contact);
    if (key.empty()) continue;
    ContactShard& cs = contactShardFor(key);
    std::lock_guard lock(cs.mu);
    cs.aor_of[key] = aor;
  }
}

std::optional<Binding> Location::findByContact(const sip::Uri& uri, int64_t now) const {
  const std::string key = contactKey(uri);
  if (key.empty()) return std::nullopt;
  std::string aor;
  {
    ContactShard& cs = contactShardFor(key);
    std::lock_guard lock(cs.mu);
    auto it = cs.aor_of.find(key);
    if (it == cs.aor_of.end()) return std::nullopt;
    aor = it->second;
  }
  const Shard& s = shardFor(aor);
  std::lock_guard lock(s.mu);
  auto it = s.by_aor.find(aor);
  if (it == s.by_aor.end()) return std::nullopt;
  for (const Binding& b : it->second) {
    if (b.expires_at > now && contactKey(b.contact) == key) return b;
  }
  return std::nullopt;
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
  auto it = s.by_aor.find(aor);
  static const std::vector<Binding> kNone;
  indexContacts(aor, it != s.by_aor.end() ? it->second : kNone, bindings);
  if (bindings.empty()) {
    if (it != s.by_aor.end()) s.by_aor.erase(it);
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
    indexContacts(b.aor, {}, {b});
    list.push_back(std::move(b));
  }
}

size_t Location::purgeExpired(int64_t now) {
  size_t removed = 0;
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    for (auto it = s.by_aor.begin(); it != s.by_aor.end();) {
      std::vector<Binding> expired;
      for (const Binding& b : it->second) {
        if (b.expires_at <= now) expired.push_back(b);
      }
      if (!expired.empty()) indexContacts(it->first, expired, {});
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
