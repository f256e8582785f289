#include "edge/routing.h"

#include <algorithm>
#include <cmath>

#include "common/hash.h"
#include "common/log.h"

namespace edge {
namespace {

common::Error bad(std::string reason) {
  return common::Error{common::ErrorCode::kInvalidArgument, std::move(reason)};
}

bool isNumber(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::optional<DispatchAlgorithm> dispatchAlgorithmFromName(std::string_view name) {
  if (name == "round-robin") return DispatchAlgorithm::kRoundRobin;
  if (name == "weighted") return DispatchAlgorithm::kWeighted;
  if (name == "hash") return DispatchAlgorithm::kCallIdHash;
  return std::nullopt;
}

common::Result<std::pair<transport::Protocol, transport::Address>> parseGatewayUri(
    std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos)
    return bad("gateway '" + std::string(text) + "': no transport");
  auto proto = transport::protocolFromName(text.substr(0, colon));
  if (!proto || *proto == transport::Protocol::kWs || *proto == transport::Protocol::kWss)
    return bad("gateway '" + std::string(text) + "': transport is not udp, tcp or tls");
  auto addr = transport::Address::parse(text.substr(colon + 1));
  if (!addr || addr->port == 0)
    return bad("gateway '" + std::string(text) + "': not ADDRESS:PORT with an IP address");
  return std::make_pair(*proto, *addr);
}

common::Result<std::unique_ptr<Routing>> Routing::create(const std::vector<TrunkSpec>& trunks,
                                                         const std::vector<RouteSpec>& routes) {
  std::unique_ptr<Routing> r(new Routing());
  for (const TrunkSpec& spec : trunks) {
    auto t = std::make_unique<Trunk>();
    t->name = spec.name;
    auto algo = dispatchAlgorithmFromName(spec.algorithm);
    if (!algo) return bad("trunk " + spec.name + ": unknown algorithm '" + spec.algorithm + "'");
    t->algorithm = *algo;
    if (spec.gateways.empty()) return bad("trunk " + spec.name + ": no gateways");
    for (const GatewaySpec& g : spec.gateways) {
      auto parsed = parseGatewayUri(g.uri);
      if (!parsed) return bad("trunk " + spec.name + ": " + parsed.error().reason);
      if (g.weight == 0) return bad("trunk " + spec.name + ": gateway " + g.uri + " has weight 0");
      auto gw = std::make_unique<Gateway>();
      gw->protocol = parsed->first;
      gw->address = parsed->second;
      gw->weight = g.weight;
      gw->text = g.uri;
      t->gateways.push_back(std::move(gw));
    }
    auto acl = common::AddressSet::parse(spec.acl);
    if (!acl) return bad("trunk " + spec.name + ": acl " + acl.error().reason);
    t->acl = std::move(*acl);
    t->probe_interval = spec.probe_interval;
    t->current_weight.assign(t->gateways.size(), 0);
    r->trunks_.push_back(std::move(t));
  }
  for (const RouteSpec& route : routes) {
    if (!route.prefix.empty() && !isNumber(route.prefix) && route.prefix != "+")
      return bad("route '" + route.prefix + "': a prefix is digits with an optional leading +");
    auto it = std::find_if(r->trunks_.begin(), r->trunks_.end(),
                           [&](const auto& t) { return t->name == route.trunk; });
    if (it == r->trunks_.end())
      return bad("route '" + route.prefix + "': no trunk named " + route.trunk);
    r->routes_.push_back({route.prefix, it->get(), route.stateless});
    r->has_stateless_ = r->has_stateless_ || route.stateless;
  }
  std::stable_sort(r->routes_.begin(), r->routes_.end(),
                   [](const auto& a, const auto& b) { return a.prefix.size() > b.prefix.size(); });
  return r;
}

Trunk* Routing::route(std::string_view dialled, bool* stateless) const {
  if (stateless != nullptr) *stateless = false;
  if (!isNumber(dialled)) return nullptr;
  for (const RouteEntry& r : routes_) {
    if (dialled.substr(0, r.prefix.size()) == r.prefix) {
      if (stateless != nullptr) *stateless = r.stateless;
      return r.trunk;
    }
  }
  return nullptr;
}

size_t Routing::statelessGateway(const Trunk& trunk, std::string_view call_id) const {
  const size_t n = trunk.gateways.size();
  bool any_up = false;
  for (const auto& gw : trunk.gateways) any_up = any_up || gw->up.load(std::memory_order_relaxed);
  const uint64_t base = common::fnv1a(call_id);
  size_t best = 0;
  double best_score = -1;
  for (size_t i = 0; i < n; ++i) {
    const Gateway& gw = *trunk.gateways[i];
    if (any_up && !gw.up.load(std::memory_order_relaxed)) continue;
    // A well-mixed 64-bit value per (Call-ID, gateway), mapped into (0, 1).
    uint64_t x = (base ^ (uint64_t(i) + 1) * 0x9e3779b97f4a7c15ull);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    double u = (double(x >> 11) + 0.5) / double(uint64_t{1} << 53);
    double score = -double(gw.weight) / std::log(u);  // weights are at least 1
    if (score > best_score) {
      best_score = score;
      best = i;
    }
  }
  return best;
}

Trunk* Routing::trunkFrom(const boost::asio::ip::address& source) const {
  auto key = common::AddressSet::keyOf(source);
  for (const auto& t : trunks_) {
    if (t->acl.contains(key)) return t.get();
  }
  return nullptr;
}

std::vector<size_t> Routing::dispatch(Trunk& trunk, std::string_view call_id) {
  const size_t n = trunk.gateways.size();
  std::vector<size_t> live;
  for (size_t i = 0; i < n; ++i) {
    if (trunk.gateways[i]->up.load(std::memory_order_relaxed)) live.push_back(i);
  }
  if (live.empty()) {
    for (size_t i = 0; i < n; ++i) live.push_back(i);
  }
  size_t first = 0;  // index into `live`
  switch (trunk.algorithm) {
    case DispatchAlgorithm::kRoundRobin:
      first = size_t(trunk.rr_counter.fetch_add(1, std::memory_order_relaxed) % live.size());
      break;
    case DispatchAlgorithm::kCallIdHash:
      // Over every gateway, so a Call-ID keeps its gateway while that one is up; when it is
      // down the next live one after it takes the call.
      {
        size_t want = size_t(common::fnv1a(call_id) % n);
        auto it = std::lower_bound(live.begin(), live.end(), want);
        first = it == live.end() ? 0 : size_t(it - live.begin());
      }
      break;
    case DispatchAlgorithm::kWeighted: {
      // Smooth weighted round-robin: each pick adds every live gateway's weight to its
      // current value, takes the largest and subtracts the live total from it. Picks follow
      // the weights exactly over a cycle and interleave instead of bunching.
      std::lock_guard lock(trunk.weighted_mu);
      int64_t total = 0;
      size_t best = 0;
      for (size_t k = 0; k < live.size(); ++k) {
        size_t i = live[k];
        trunk.current_weight[i] += trunk.gateways[i]->weight;
        total += trunk.gateways[i]->weight;
        if (trunk.current_weight[i] > trunk.current_weight[live[best]]) best = k;
      }
      trunk.current_weight[live[best]] -= total;
      first = best;
      break;
    }
  }
  std::vector<size_t> order;
  order.reserve(live.size());
  if (trunk.algorithm == DispatchAlgorithm::kWeighted) {
    // Failover after the pick: heavier gateways first.
    order.push_back(live[first]);
    std::vector<size_t> rest;
    for (size_t k = 0; k < live.size(); ++k)
      if (k != first) rest.push_back(live[k]);
    std::stable_sort(rest.begin(), rest.end(), [&](size_t a, size_t b) {
      return trunk.gateways[a]->weight > trunk.gateways[b]->weight;
    });
    order.insert(order.end(), rest.begin(), rest.end());
  } else {
    for (size_t k = 0; k < live.size(); ++k) order.push_back(live[(first + k) % live.size()]);
  }
  return order;
}

void Routing::callFailed(Trunk& trunk, Gateway& gw) {
  gw.failures.fetch_add(1, std::memory_order_relaxed);
  if (trunk.probe_interval.count() == 0) return;  // nothing would bring it back
  if (gw.up.exchange(false))
    SB_LOG(kWarn, "dispatcher: gateway " + gw.text + " of trunk " + trunk.name +
                      " out after a failed call; probing it");
}

void Routing::probeResult(Trunk& trunk, Gateway& gw, bool alive) {
  if (alive) {
    gw.failed_probes.store(0, std::memory_order_relaxed);
    if (!gw.up.exchange(true))
      SB_LOG(kInfo, "dispatcher: gateway " + gw.text + " of trunk " + trunk.name + " back in");
    return;
  }
  gw.failed_probes.fetch_add(1, std::memory_order_relaxed);
  if (gw.up.exchange(false))
    SB_LOG(kWarn, "dispatcher: gateway " + gw.text + " of trunk " + trunk.name +
                      " out: no answer to OPTIONS");
}

}  // namespace edge
