// The stateless flow (§16.11): requests a stateless route sends to a trunk gateway without
// a transaction, and the hand-back to the stateful path when their credentials fail.
#include "edge/edge.h"

#include "edge/internal/worker_state.h"

namespace edge {

using internal::dialledNumber;
using internal::gatewayUri;
using internal::kProxySupported;
using internal::ourLeadingRoutes;
using internal::startsDialog;

void EdgeWorker::handBack(sip::Message&& request, const transport::Flow& from) {
  stateful_only_ = true;
  layer_->receive(std::move(request), from);
  stateful_only_ = false;
}

Trunk* EdgeWorker::statelessTrunk(const sip::Message& request, const transport::Flow& from,
                                  int* route_popped) const {
  Routing* routing = shared_.routing();
  if (routing == nullptr || !routing->hasStatelessRoutes()) return nullptr;
  const EdgeOptions& opt = shared_.options();
  const sip::Method method = request.method();
  if (method == sip::Method::kRegister) return nullptr;
  const auto& to = request.to();
  if (!to || (method != sip::Method::kAck && to->tag())) return nullptr;
  // Cheap tests first: most requests are not for a stateless route.
  const sip::Uri& ruri = request.requestUri();
  if (!ruri.isSip()) return nullptr;
  bool ours = opt.self.servesDomain(ruri.host());
  if (!ours && !opt.self.isThisServer(ruri)) return nullptr;
  bool stateless = false;
  Trunk* trunk = routing->route(dialledNumber(ruri), &stateless);
  if (trunk == nullptr || !stateless) return nullptr;
  if (routing->trunkFrom(from.remote.ip) != nullptr) return nullptr;
  if (ours && !shared_.location().lookup(canonicalAor(ruri), now()).empty()) return nullptr;
  if (onRegistrarOnlyListener(from)) return nullptr;
  if (validateForProxy(request, opt.self, kProxySupported)) return nullptr;
  *route_popped = 0;
  if (request.headerCount(sip::HeaderId::kRoute) > 0) {
    const auto& routes = request.routes();
    if (!routes) return nullptr;
    *route_popped = ourLeadingRoutes(*routes, opt.self);
    if (routes->size() > size_t(*route_popped)) return nullptr;
  }
  if (isLoop(request, opt.self, loopHash(request, method == sip::Method::kAck))) return nullptr;
  return trunk;
}

void EdgeWorker::forwardStateless(const sip::Message& request, const transport::Flow& from,
                                  Trunk& trunk, int route_popped) {
  const sip::Method method = request.method();
  const auto& call_id = request.callId();
  Gateway& gw = *trunk.gateways[shared_.routing()->statelessGateway(
      trunk, call_id ? *call_id : std::string_view())];
  const transport::Flow target = flowTo(gw.protocol, gw.address);
  const std::string branch = shared_.tokens().branch(loopHash(request, method == sip::Method::kAck),
                                                     statelessUnique(request));
  const bool record_route = startsDialog(method);
  auto msg =
      branchRequest(request, from, target, gatewayUri(gw, dialledNumber(request.requestUri())), {},
                    route_popped, record_route, &branch);
  if (!msg) return;
  EdgeCounters& counters = shared_.counters();
  counters.forwarded_stateless.fetch_add(1, std::memory_order_relaxed);
  counters.stateless_routed.fetch_add(1, std::memory_order_relaxed);
  if (method != sip::Method::kAck && method != sip::Method::kCancel)
    gw.calls.fetch_add(1, std::memory_order_relaxed);
  // A gateway that cannot be reached is taken out (when probed) for the calls after this
  // one; this request is not retried elsewhere — that is what stateful routes are for.
  Routing* routing = shared_.routing();
  sender_.send(target, msg->serialize(), [routing, &trunk, &gw](const common::Status& st) {
    if (!st) routing->callFailed(trunk, gw);
  });
}

}  // namespace edge
