// Trunks and routing: where the proxy sends a call that is for no registered user of ours
// (a dialled number routed by prefix to a trunk, i.e. a group of carrier gateways), and how
// it recognises requests coming from a trunk (by source address). The dispatcher orders a
// trunk's gateways for one call — round-robin, weighted or by Call-ID hash — with the
// gateways that OPTIONS probes found dead left out; the proxy then tries them in that order,
// failing over on 408, 503 and transport errors only.
//
// Built once from the store at start; thread-safe afterwards (health and counters are
// atomics, the weighted choice takes a short lock per trunk).
//
//   auto routing = edge::Routing::create(trunks, routes);
//   if (const edge::Trunk* t = routing->route("+4930123456"))
//     for (size_t gw : routing->dispatch(*t, call_id)) try(t->gateways[gw]);
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/address_set.h"
#include "common/result.h"
#include "transport/flow.h"

namespace edge {

enum class DispatchAlgorithm : uint8_t { kRoundRobin, kWeighted, kCallIdHash };
// "round-robin", "weighted", "hash".
std::optional<DispatchAlgorithm> dispatchAlgorithmFromName(std::string_view name);

struct GatewaySpec {
  std::string uri;  // "udp:192.0.2.10:5060" (transport:address:port; IP literals only)
  uint32_t weight = 1;
};

struct TrunkSpec {
  std::string name;
  std::string algorithm = "round-robin";
  std::vector<GatewaySpec> gateways;
  std::vector<std::string> acl;             // sources accepted as this trunk (CIDRs or addresses)
  std::chrono::seconds probe_interval{30};  // 0: never probed, always considered up
};

struct RouteSpec {
  std::string prefix;  // dialled digits, may start with '+'; "" is the default route
  std::string trunk;
  // Forwarded without transaction state (RFC 3261 §16.11): one gateway by Call-ID, no
  // failover, no 100 Trying from here; responses go back by their Via.
  bool stateless = false;
};

struct Gateway {
  transport::Protocol protocol = transport::Protocol::kUdp;
  transport::Address address;
  uint32_t weight = 1;
  std::string text;  // as configured, for logs and status

  // Health, written by probes and failed calls, read by the dispatcher.
  std::atomic<bool> up{true};
  std::atomic<uint32_t> failed_probes{0};
  std::atomic<uint64_t> calls{0};      // branches sent to it
  std::atomic<uint64_t> failures{0};   // of which ended in 408, 503 or a transport error
  std::atomic<int64_t> next_probe{0};  // steady milliseconds
  std::atomic<uint64_t> probe_seq{0};  // the probe in flight (0: none)

  Gateway() = default;
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;
};

struct Trunk {
  std::string name;
  DispatchAlgorithm algorithm = DispatchAlgorithm::kRoundRobin;
  std::vector<std::unique_ptr<Gateway>> gateways;
  common::AddressSet acl;
  std::chrono::seconds probe_interval{30};

  std::atomic<uint64_t> rr_counter{0};
  // Smooth weighted round-robin state (one current weight per gateway).
  std::mutex weighted_mu;
  std::vector<int64_t> current_weight;
  std::atomic<uint64_t> inbound{0};  // requests accepted from its ACL
};

class Routing {
 public:
  // Fails with a reason naming the trunk or route at fault (bad gateway, unknown algorithm,
  // bad ACL entry, a route to a trunk that does not exist, a bad prefix).
  static common::Result<std::unique_ptr<Routing>> create(const std::vector<TrunkSpec>& trunks,
                                                         const std::vector<RouteSpec>& routes);

  // The trunk of the longest prefix matching `dialled` ("+4930..." or "030..."), or nullptr
  // when nothing matches or `dialled` is not a number (digits, an optional leading '+').
  // `stateless`, when given, says whether the matching route is a stateless one.
  Trunk* route(std::string_view dialled, bool* stateless = nullptr) const;
  bool hasStatelessRoutes() const { return has_stateless_; }
  // The trunk whose access list holds `source`, or nullptr.
  Trunk* trunkFrom(const boost::asio::ip::address& source) const;

  // The gateways of `trunk` to try for one call, in order (indexes into trunk.gateways): the
  // algorithm's choice first, then the others that are up as failover. Gateways found dead
  // are left out while any is up; when all are down they are all returned, so a call still
  // has a chance if the probes are wrong.
  std::vector<size_t> dispatch(Trunk& trunk, std::string_view call_id);

  // A call branch to `gw` ended in 408, 503 or a transport error. When the trunk is probed
  // the gateway is taken out until a probe succeeds.
  void callFailed(Trunk& trunk, Gateway& gw);
  // The one gateway of a stateless route for `call_id`: a retransmission (and the CANCEL or
  // ACK of the request) must reach the gateway the first copy did, so the choice is a
  // function of the Call-ID whatever the trunk's algorithm — weighted rendezvous hashing
  // over the gateways that are up (all of them when none is), which honours the weights and
  // moves only the calls of a gateway that goes down.
  size_t statelessGateway(const Trunk& trunk, std::string_view call_id) const;
  // A probe's outcome: any final response but 408/503 means alive. One failure takes the
  // gateway out, one success brings it back; changes are logged.
  void probeResult(Trunk& trunk, Gateway& gw, bool alive);

  const std::vector<std::unique_ptr<Trunk>>& trunks() const { return trunks_; }
  bool empty() const { return trunks_.empty(); }

 private:
  Routing() = default;
  std::vector<std::unique_ptr<Trunk>> trunks_;
  struct RouteEntry {
    std::string prefix;
    Trunk* trunk = nullptr;
    bool stateless = false;
  };
  // Sorted by prefix length, longest first.
  std::vector<RouteEntry> routes_;
  bool has_stateless_ = false;
};

// Parses "udp:192.0.2.10:5060" / "tls:[2001:db8::1]:5061" into protocol and address.
common::Result<std::pair<transport::Protocol, transport::Address>> parseGatewayUri(
    std::string_view text);

}  // namespace edge
