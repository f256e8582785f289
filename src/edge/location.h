// The location service (RFC 3261 §10): the contacts each address-of-record is bound to, as
// the registrar keeps them and the proxy reads them. In memory, sharded by AOR so workers on
// different cores rarely wait on each other; the registrar persists every change to the
// store before it answers, and load() brings the bindings back after a restart.
//
//   auto targets = location.lookup("sip:bob@example.com", now);  // q order, unexpired
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sip/uri.h"
#include "transport/flow.h"

namespace edge {

struct Binding {
  std::string aor;          // "sip:alice@example.com" (see canonicalAor)
  std::string contact;      // the Contact URI as registered
  std::string instance_id;  // +sip.instance, when given (RFC 5626)
  std::string reg_id;
  std::string call_id;
  uint32_t cseq = 0;
  int64_t expires_at = 0;         // unix seconds
  int q = 1000;                   // thousandths; 1000 when the Contact has no q
  std::vector<std::string> path;  // Path header values of the REGISTER, in order (RFC 3327)
  transport::Flow flow;           // where the REGISTER came from: the NAT binding
  std::string user_agent;
  int64_t updated_at = 0;
};

// sip:user@host with the host in lower case and no port, parameters or headers (§10.3 step
// 5); sips: becomes sip:. Empty for a URI that cannot name an AOR (no user, tel:, ...).
std::string canonicalAor(const sip::Uri& uri);

class Location {
 public:
  // Unexpired bindings of `aor`, highest q first, then most recently updated.
  std::vector<Binding> lookup(std::string_view aor, int64_t now) const;
  // Replaces every binding of the AOR (the registrar computes the new set).
  void replace(const std::string& aor, std::vector<Binding> bindings);
  // Adds bindings read back from the store at start.
  void load(std::vector<Binding> bindings);
  // Drops expired bindings; returns how many.
  size_t purgeExpired(int64_t now);
  size_t size() const;
  size_t aorCount() const;
  // The unexpired binding whose Contact is `uri` (same user, host, port and transport): the
  // remote target of an in-dialog request is usually the Contact a UA registered, and the
  // flow it registered from reaches it where its Contact does not (NAT, TCP from an
  // ephemeral port).
  std::optional<Binding> findByContact(const sip::Uri& uri, int64_t now) const;
  // Calls `fn` for every unexpired binding, shard by shard (under that shard's lock: `fn`
  // must not call back into the location service).
  void forEach(int64_t now, const std::function<void(const Binding&)>& fn) const;

 private:
  static constexpr size_t kShards = 32;
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, std::vector<Binding>> by_aor;
  };
  Shard& shardFor(std::string_view aor);
  const Shard& shardFor(std::string_view aor) const;
  Shard shards_[kShards];
  // Contact key -> AOR. Written under the AOR's shard lock, then this one's (never the
  // other way round).
  struct ContactShard {
    mutable std::mutex mu;
    std::unordered_map<std::string, std::string> aor_of;
  };
  ContactShard& contactShardFor(std::string_view key) const;
  void indexContacts(const std::string& aor, const std::vector<Binding>& old_list,
                     const std::vector<Binding>& new_list);
  mutable ContactShard contact_shards_[kShards];
};

}  // namespace edge
