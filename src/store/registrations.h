// The location service's persistent bindings (RFC 3261 §10, RFC 5626 outbound): one row per
// (address-of-record, contact). The registrar keeps the hot copy in memory and writes here
// before it answers 200, so a restart reloads them with listAll().
//
//   store::Binding b{.aor = "sip:alice@example.com", .contact = "<sip:alice@192.0.2.7:5060>",
//                    .call_id = cid, .cseq = 1, .expires_at = now + 3600};
//   auto st = store.registrations().upsert(b);
//   auto live = store.registrations().list("sip:alice@example.com", now);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace store {

// Where the REGISTER came from: the NAT binding a request to this contact goes back through.
struct RegistrationFlow {
  std::string remote;         // "udp:192.0.2.7:5060" (transport:address:port as seen)
  std::string local;          // our socket it arrived on, e.g. "udp:0.0.0.0:5060"
  int64_t connection_id = 0;  // the transport's connection (TCP, TLS, WS); 0 for UDP

  bool operator==(const RegistrationFlow&) const = default;
};

struct Binding {
  std::string aor;      // address-of-record; stored normalised (see normalizeAor)
  std::string contact;  // the Contact URI text as registered
  std::optional<std::string> instance_id;  // +sip.instance (RFC 5626)
  std::optional<uint32_t> reg_id;          // reg-id (RFC 5626)
  std::string call_id;
  uint32_t cseq = 0;
  int64_t expires_at = 0;         // unix seconds
  int q = 1000;                   // thousandths, 0..1000
  std::vector<std::string> path;  // Path header values in order (RFC 3327); no CR/LF
  RegistrationFlow flow;
  std::string user_agent;
  int64_t updated_at = 0;  // unix seconds, set by the caller (its clock)

  bool operator==(const Binding&) const = default;
};

// The canonical form of an AoR (RFC 3261 §10.3 step 5): the URI without display name, angle
// brackets, parameters or headers; scheme and host lower-case; %XX in the user unescaped.
// "<SIP:Alice@Example.COM;transport=tcp>" -> "sip:Alice@example.com".
common::Result<std::string> normalizeAor(std::string_view uri);

class Registrations {
 public:
  virtual ~Registrations() = default;

  // Inserts or replaces the binding of (aor, contact). kInvalidArgument for an AoR that is
  // not a URI, an empty contact, q outside 0..1000 or a path entry that is empty or has CR/LF.
  virtual common::Status upsert(const Binding& binding) = 0;
  // Upserts and removals (aor, contact) in one transaction: all or nothing. The registrar
  // batches the writes of many REGISTERs this way (one commit instead of one each).
  virtual common::Status apply(
      const std::vector<Binding>& upserts,
      const std::vector<std::pair<std::string, std::string>>& removals) = 0;
  // Whether a binding was removed.
  virtual common::Result<bool> remove(std::string_view aor, std::string_view contact) = 0;
  virtual common::Result<int64_t> removeAll(std::string_view aor) = 0;
  // Unexpired bindings (expires_at > now) of one AoR: highest q first, then the least
  // recently updated first (updated_at ascending), then by contact.
  virtual common::Result<std::vector<Binding>> list(std::string_view aor, int64_t now) = 0;
  // Every unexpired binding, by AoR then as list() orders them: to reload at start.
  virtual common::Result<std::vector<Binding>> listAll(int64_t now) = 0;
  // Deletes bindings with expires_at <= now; returns how many.
  virtual common::Result<int64_t> purgeExpired(int64_t now) = 0;
  // Every stored binding, expired or not.
  virtual common::Result<int64_t> count() = 0;
};

}  // namespace store
