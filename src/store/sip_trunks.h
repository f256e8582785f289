// SIP trunks (carrier gateway groups) and the dialled-prefix routes to them: what the edge's
// dispatcher is built from at start. A trunk has its gateways in order with weights, the
// source networks whose requests are accepted as coming from it (ACL), and how often its
// gateways are probed with OPTIONS.
//
//   store.sipTrunks().upsertTrunk({.name = "carrier", .algorithm = "weighted",
//                                  .gateways = {{"udp:192.0.2.10:5060", 3}}});
//   store.sipTrunks().addRoute({.prefix = "+49", .trunk = "carrier"});
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace store {

struct SipGateway {
  std::string uri;  // transport:address:port, e.g. "udp:192.0.2.10:5060", "tls:[2001:db8::1]:5061"
  uint32_t weight = 1;
  bool operator==(const SipGateway&) const = default;
};

struct SipTrunk {
  std::string name;
  std::string algorithm = "round-robin";  // round-robin | weighted | hash
  std::vector<SipGateway> gateways;       // in the order given
  std::vector<std::string> acl;           // CIDRs or addresses
  uint32_t probe_interval = 30;           // seconds between OPTIONS probes; 0 = none
  int64_t created_at = 0;
  bool operator==(const SipTrunk&) const = default;
};

struct SipRoute {
  std::string prefix;  // digits with an optional leading '+'; "" = the default route
  std::string trunk;
  int64_t created_at = 0;
  // Forwarded without transaction state (RFC 3261 §16.11): no failover, no 100 Trying.
  bool stateless = false;
  bool operator==(const SipRoute&) const = default;
};

// The checks the repository applies before writing (kInvalidArgument with the reason).
common::Status validateTrunk(const SipTrunk& trunk);
common::Status validateRoutePrefix(std::string_view prefix);

class SipTrunks {
 public:
  virtual ~SipTrunks() = default;
  // Creates or replaces the trunk with its gateways and ACL, in one transaction.
  virtual common::Status upsertTrunk(const SipTrunk& trunk) = 0;
  virtual common::Result<std::optional<SipTrunk>> findTrunk(std::string_view name) = 0;
  virtual common::Result<std::vector<SipTrunk>> listTrunks() = 0;  // by name
  // Removes the trunk and the routes to it; false when there was none.
  virtual common::Result<bool> removeTrunk(std::string_view name) = 0;
  // Adds or re-points a prefix; kNotFound when the trunk does not exist.
  virtual common::Status addRoute(const SipRoute& route) = 0;
  virtual common::Result<std::vector<SipRoute>> listRoutes() = 0;  // by prefix
  virtual common::Result<bool> removeRoute(std::string_view prefix) = 0;
};

}  // namespace store
