// What the edge relays outside a transaction of its own, and for whom (§16.4, §16.7,
// §16.11, §16.12): in-dialog requests only through a Record-Route of ours for their own
// dialog, end-to-end ACKs the same way, 2xx responses to a proxied INVITE for as long as the
// callee retransmits them, and other responses matching no transaction only when the Via we
// would remove is provably ours. Everything else is refused or dropped, and counted.
#include "common/log.h"
#include "edge/edge.h"
#include "edge/internal/worker_state.h"

namespace edge {

using internal::defaultPort;
using internal::ourLeadingRoutes;
using internal::withoutTopVia;
using transaction::ServerId;

bool EdgeWorker::throughOurRecordRoute(const sip::Message& request, int route_popped) const {
  const auto& routes = request.routes();
  const auto& call_id = request.callId();
  const auto& from = request.from();
  const auto& to = request.to();
  if (!routes || !call_id || !from || !to) return false;
  const std::string_view from_tag = from->tag().value_or("");
  const std::string_view to_tag = to->tag().value_or("");
  for (int i = 0; i < route_popped && size_t(i) < routes->size(); ++i) {
    auto token = (*routes)[size_t(i)].uri.params().find(RouteTokens::kParam);
    if (token && shared_.tokens().verifyDialog(*token, *call_id, from_tag, to_tag)) return true;
  }
  return false;
}

void EdgeWorker::onAck(const sip::Message& ack, const transport::Flow& from) {
  // The ACK of a non-2xx response to a request sent by a stateless route follows it.
  int popped = 0;
  if (Trunk* trunk = statelessTrunk(ack, from, &popped))
    return forwardStateless(ack, from, *trunk, popped);
  // The end-to-end ACK of a 2xx: forwarded statelessly along its route (§16.11 in effect).
  // It cannot be challenged, so it goes on only through a Record-Route of ours for its
  // dialog, or from a trunk to one of our users.
  const Self& self = shared_.options().self;
  int pop = 0;
  std::optional<transport::Flow> target;
  bool authorised = false;
  if (ack.headerCount(sip::HeaderId::kRoute) > 0) {
    const auto& routes = ack.routes();
    if (!routes) return;
    pop = ourLeadingRoutes(*routes, self);
    authorised = pop > 0 && throughOurRecordRoute(ack, pop);
    if (!authorised) {
      shared_.counters().relay_denied.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    size_t next = size_t(pop);
    if (next < routes->size()) target = flowForUri((*routes)[next].uri);
  }
  if (!target) {
    const sip::Uri& ruri = ack.requestUri();
    if (self.isThisServer(ruri)) return;  // for us: nothing to do
    std::string aor = canonicalAor(ruri);
    const bool our_user =
        !aor.empty() && self.servesDomain(ruri.host()) && !common::ipLiteral(ruri.host());
    Routing* routing = shared_.routing();
    if (!authorised &&
        !(our_user && routing != nullptr && routing->trunkFrom(from.remote.ip) != nullptr)) {
      shared_.counters().relay_denied.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (our_user) {
      auto bindings = shared_.location().lookup(aor, now());
      if (bindings.empty()) return;
      target = flowForBinding(bindings.front());
    } else {
      target = flowForTarget(ruri);
    }
  }
  if (!target || !ack.vias()) return;
  // Stateless: the branch is a function of the request, so a retransmitted ACK gets the
  // same one (§16.11).
  const std::string branch = shared_.tokens().branch(loopHash(ack), 0);
  auto msg = branchRequest(ack, from, *target, std::nullopt, {}, pop, false, &branch);
  if (!msg) return;
  shared_.counters().forwarded_stateless.fetch_add(1, std::memory_order_relaxed);
  sender_.send(*target, msg->serialize(), {});
}

void EdgeWorker::relay2xx(ServerId server, const sip::Message& response) {
  auto bytes = withoutTopVia(response);
  if (!bytes) return;
  // The server transaction passes 2xx retransmissions while it is Accepted (RFC 6026).
  if (layer_->respond(server, std::move(*bytes))) return;
  (void)forwardByVia(response);
}

bool EdgeWorker::forwardByVia(const sip::Message& response) {
  const auto& vias = response.vias();
  // One Via only: the answer to a request of our own (a keep-alive): absorbed.
  if (!vias || vias->size() < 2) return false;
  const sip::Via& top = (*vias)[0];
  auto branch = top.branch();
  // Anyone can read our branch prefix off a forwarded request; only the MAC over the rest
  // proves the branch was made here, and only then is the Via below ours a place we once
  // received a request from.
  if (!branch || !shared_.options().self.isOurSentBy(top) ||
      !shared_.tokens().verifyBranch(*branch)) {
    shared_.counters().stray_dropped.fetch_add(1, std::memory_order_relaxed);
    SB_LOG(kDebug, "edge: response " + std::to_string(response.statusCode()) +
                       " matching no transaction, with a Via not ours, dropped");
    return false;
  }
  const sip::Via& next = (*vias)[1];
  transport::Flow f;
  auto proto = transport::protocolFromName(next.transport);
  f.protocol = proto.value_or(transport::Protocol::kUdp);
  auto host = next.received() ? *next.received() : next.host;
  auto ip = common::ipLiteral(host);
  if (!ip) return false;
  f.remote.ip = *ip;
  auto rport = next.rport();
  f.remote.port = rport.value_or(next.port != 0 ? next.port : defaultPort(f.protocol));
  auto bytes = withoutTopVia(response);
  if (!bytes) return false;
  shared_.counters().forwarded_stateless.fetch_add(1, std::memory_order_relaxed);
  sender_.send(f, std::move(*bytes), {});
  return true;
}

void EdgeWorker::onStrayResponse(const sip::Message& response, const transport::Flow& from) {
  (void)from;
  // A response no client transaction of ours matches: one to a request a stateless route
  // forwarded, or a 2xx retransmitted after the client transaction ended. Forwarded to the
  // Via below ours (§16.7, §16.11) when the top Via is ours; otherwise dropped.
  (void)forwardByVia(response);
}

}  // namespace edge
