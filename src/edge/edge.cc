// EdgeShared, and EdgeWorker as the transaction user: it takes each request, response and
// transport event from the layer and dispatches it to its flow (the *_flow.cc and probes.cc
// files beside this one); authentication, generated responses and the flow choice live here.
#include "edge/edge.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <chrono>

#include "common/log.h"
#include "common/strings.h"
#include "edge/internal/worker_state.h"
#include "sip/response.h"

namespace edge {

using internal::defaultPort;
using internal::dialledNumber;
using internal::e164;
using internal::kProxySupported;
using internal::ourLeadingRoutes;
using internal::protocolForUri;
using transaction::ServerId;

namespace {

DigestAuth::Options digestOptions(const EdgeOptions& o, const EdgeOptions* live) {
  DigestAuth::Options d = o.digest;
  // A digest-uri naming this server (an address of ours or a served domain without a user)
  // was computed for a request sent here, so it cannot be a replay from elsewhere.
  d.uri_fits = [live](const sip::Uri& uri, const sip::Message&) {
    return live->self.isThisServer(uri) || (uri.user().empty() && !live->self.domains.empty() &&
                                            live->self.servesDomain(uri.host()));
  };
  return d;
}

}  // namespace

EdgeShared::EdgeShared(EdgeOptions options, EdgeStore& store)
    : options_(std::move(options)),
      store_(store),
      auth_(digestOptions(options_, &options_)),
      tokens_(options_.digest.secret) {}

common::Status EdgeShared::loadBindings(int64_t now) {
  auto loaded = store_.loadBindings(now);
  if (!loaded) return loaded.error();
  size_t n = loaded->size();
  location_.load(std::move(*loaded));
  SB_LOG(kInfo, "registrar: " + std::to_string(n) + " bindings loaded from the store");
  return {};
}

EdgeWorker::EdgeWorker(EdgeShared& shared, transaction::Sender& sender, transaction::Timers& timers,
                       Post post, Clock clock)
    : shared_(shared),
      sender_(sender),
      timers_(timers),
      post_(std::move(post)),
      clock_(std::move(clock)) {}

EdgeWorker::~EdgeWorker() {
  for (auto& [id, ctx] : proxies_) {
    for (Branch& b : ctx->branches) {
      if (b.timer_c != 0) timers_.cancel(b.timer_c);
    }
  }
  // Whoever waits for a MESSAGE still on its way hears that it ended here.
  auto messages = std::move(messages_);
  for (auto& [id, m] : messages) {
    if (m->timer != 0) timers_.cancel(m->timer);
    const bool sent = m->maybe_sent || m->in_flight;
    if (m->done) m->done({sent ? 0 : -1, "SIP edge stopped", sent ? m->call_id : ""});
  }
}

EdgeStore::Back EdgeWorker::backHere() {
  std::weak_ptr<char> alive = alive_;
  return [this, alive](std::function<void()> fn) {
    post_([alive, fn = std::move(fn)] {
      if (!alive.expired()) fn();
    });
  };
}

int64_t EdgeWorker::now() const {
  if (clock_) return clock_();
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void EdgeWorker::answer(ServerId id, int status, std::string_view reason,
                        const std::vector<std::pair<std::string, std::string>>& headers) {
  // Built by the layer: the transaction's To tag and the Via stamped as RFC 3581 asks.
  std::vector<std::pair<std::string, std::string>> all;
  all.reserve(headers.size() + 1);
  all.insert(all.end(), headers.begin(), headers.end());
  all.emplace_back("Server", shared_.options().user_agent);
  (void)layer_->respondWith(id, status, reason, all);
}

void EdgeWorker::reject(ServerId id, int status, std::string_view reason,
                        const std::vector<std::pair<std::string, std::string>>& headers) {
  shared_.counters().rejected.fetch_add(1, std::memory_order_relaxed);
  answer(id, status, reason, headers);
}

void EdgeWorker::challenge(ServerId id, sip::HeaderId response_header, int status,
                           std::string_view realm, bool stale) {
  shared_.counters().challenges.fetch_add(1, std::memory_order_relaxed);
  std::vector<std::pair<std::string, std::string>> headers;
  std::string name(sip::headerName(response_header));
  for (std::string& v : shared_.auth().challenges(realm, stale, now()))
    headers.emplace_back(name, v);
  answer(id, status, {}, headers);
}

void EdgeWorker::authenticate(ServerId id, const sip::Message& request, bool proxy_auth,
                              std::string realm,
                              std::function<void(const std::string& user)> then) {
  const sip::HeaderId cred_header =
      proxy_auth ? sip::HeaderId::kProxyAuthorization : sip::HeaderId::kAuthorization;
  const sip::HeaderId chal_header =
      proxy_auth ? sip::HeaderId::kProxyAuthenticate : sip::HeaderId::kWwwAuthenticate;
  const int chal_status = proxy_auth ? 407 : 401;
  auto first = shared_.auth().inspect(request, cred_header, realm, now());
  using V = DigestAuth::Verdict;
  switch (first.verdict) {
    case V::kBadRequest:
      return reject(id, 400, "Bad Credentials");
    case V::kForbidden:
      return reject(id, 403, "Wrong Digest URI");
    case V::kChallenge:
    case V::kStale:
      if (first.reason != "no credentials")
        shared_.counters().auth_failures.fetch_add(1, std::memory_order_relaxed);
      return challenge(id, chal_header, chal_status, realm, false);
    case V::kOk:
    case V::kNeedsHa1:
      break;
  }
  EdgeStore::Back back = backHere();
  shared_.store().findHa1(
      realm, first.username, back,
      [this, id, realm, cred_header, chal_header, chal_status,
       then = std::move(then)](common::Result<std::optional<Ha1>> ha1) {
        const sip::Message* req = layer_->request(id);
        if (req == nullptr) return;  // the transaction ended meanwhile
        if (!ha1) {
          shared_.counters().store_errors.fetch_add(1, std::memory_order_relaxed);
          SB_LOG(kWarn, "auth: credential lookup failed: " + ha1.error().reason);
          return reject(id, 500, "Credential Store Unavailable", {{"Retry-After", "5"}});
        }
        auto done = shared_.auth().finish(*req, cred_header, realm, *ha1, now());
        switch (done.verdict) {
          case V::kOk:
            return then(done.username);
          case V::kStale:
            shared_.counters().stale_nonces.fetch_add(1, std::memory_order_relaxed);
            return challenge(id, chal_header, chal_status, realm, true);
          case V::kBadRequest:
            return reject(id, 400, "Bad Credentials");
          case V::kForbidden:
            return reject(id, 403, "Wrong Digest URI");
          default:
            shared_.counters().auth_failures.fetch_add(1, std::memory_order_relaxed);
            SB_LOG(kInfo, "auth: " + done.reason + " for '" + done.username + "'@" + realm);
            return challenge(id, chal_header, chal_status, realm, false);
        }
      });
}

bool EdgeWorker::onRegistrarOnlyListener(const transport::Flow& from) const {
  for (const auto& [p, a] : shared_.options().registrar_only) {
    if (p == from.protocol && a.port == from.local.port &&
        (a.ip == from.local.ip || a.ip.is_unspecified()))
      return true;
  }
  return false;
}

void EdgeWorker::onRequest(ServerId id, const sip::Message& request, const transport::Flow& from) {
  const EdgeOptions& opt = shared_.options();
  if (request.method() != sip::Method::kRegister && onRegistrarOnlyListener(from))
    return reject(id, 501, "Not Implemented Here", {{"Allow", "REGISTER"}});
  if (auto bad = validateForProxy(request, opt.self, kProxySupported))
    return reject(id, bad->status, bad->reason, bad->headers);

  // §16.4: a Route naming us is ours to remove.
  int route_popped = 0;
  if (request.headerCount(sip::HeaderId::kRoute) > 0) {
    const auto& routes = request.routes();
    if (!routes) return reject(id, 400, "Bad Route");
    route_popped = ourLeadingRoutes(*routes, opt.self);
  }
  if (isLoop(request, opt.self, loopHash(request))) return reject(id, 482, "Loop Detected");

  size_t routes_left = request.headerCount(sip::HeaderId::kRoute) == 0
                           ? 0
                           : request.routes()->size() - size_t(route_popped);
  const sip::Uri& ruri = request.requestUri();
  bool to_us = routes_left == 0 && opt.self.isThisServer(ruri);
  if (request.method() == sip::Method::kRegister && routes_left == 0) {
    if (!to_us && !opt.self.servesDomain(ruri.host())) return reject(id, 403, "Domain Not Served");
    return handleRegister(id, request, from);
  }
  // A served domain without a user part (OPTIONS sip:example.com, a trunk's keep-alive)
  // names the domain's proxy: us (§11).
  const bool to_domain = routes_left == 0 && ruri.isSip() && ruri.user().empty() &&
                         !common::ipLiteral(ruri.host()) && opt.self.servesDomain(ruri.host());
  if ((to_us || to_domain) && ruri.user().empty()) {
    if (request.method() == sip::Method::kOptions) return handleOptionsToUs(id);
    return reject(id, 405, "Method Not Allowed", {{"Allow", "OPTIONS, REGISTER"}});
  }
  const auto& to = request.to();
  const bool in_dialog = to && to->tag().has_value();
  if (in_dialog || routes_left > 0) {
    // §16.4, §16.12: loose routing on through a Record-Route of ours for this very dialog.
    if (route_popped > 0 && throughOurRecordRoute(request, route_popped))
      return proxyRequest(id, request, route_popped);
    // Anything else that names a next hop beyond us is no business of ours: a preloaded
    // Route set, or a Route of ours without (or with a forged) dialog token.
    if (routes_left > 0 || route_popped > 0) {
      shared_.counters().relay_denied.fetch_add(1, std::memory_order_relaxed);
      SB_LOG(kInfo, "edge: " + std::string(request.methodText()) + " from " +
                        from.remote.toString() + " refused: Route not through our Record-Route");
      return reject(id, 403, route_popped > 0 ? "Route Not Ours" : "Preloaded Route Denied");
    }
    // An in-dialog request that did not come through us is treated as a new one: it reaches
    // our users or a trunk route only, and only from a trunk or an authenticated user.
  }

  // A new request: for a user of ours (to the registered contacts) or for a number routed
  // by prefix to a trunk. Requests from a trunk are recognised by their source address and
  // not challenged; they reach our users only, never another trunk.
  EdgeCounters& counters = shared_.counters();
  Routing* routing = shared_.routing();
  Trunk* from_trunk = routing != nullptr ? routing->trunkFrom(from.remote.ip) : nullptr;
  if (from_trunk != nullptr) {
    from_trunk->inbound.fetch_add(1, std::memory_order_relaxed);
    counters.trunk_inbound.fetch_add(1, std::memory_order_relaxed);
  }
  const std::string dialled = dialledNumber(ruri);
  // An SMS from a carrier: a MESSAGE from a trunk to one of our numbers goes to messaging.
  if (from_trunk != nullptr && request.method() == sip::Method::kMessage &&
      shared_.inboundMessageHook() &&
      (to_us || ruri.scheme() == sip::UriScheme::kTel ||
       (ruri.isSip() && opt.self.servesDomain(ruri.host())))) {
    if (std::string number = e164(dialled); !number.empty())
      return handleInboundMessage(id, request, *from_trunk, number);
  }
  std::string aor;
  if (ruri.isSip() && opt.self.servesDomain(ruri.host())) {
    aor = canonicalAor(ruri);
  } else if (from_trunk != nullptr && to_us && !opt.self.domains.empty()) {
    // A carrier addresses our users at our address: they are users of the first domain.
    // (A Uri views its text: keep the text alive while it is read.)
    const std::string text = "sip:" + std::string(ruri.user()) + "@" + opt.self.domains.front();
    if (auto u = sip::Uri::parse(text)) aor = canonicalAor(*u);
  }
  Trunk* out_trunk =
      from_trunk == nullptr && routing != nullptr ? routing->route(dialled) : nullptr;
  if (aor.empty() && out_trunk == nullptr) {
    if (!ruri.isSip() || !opt.self.servesDomain(ruri.host())) {
      if (in_dialog) shared_.counters().relay_denied.fetch_add(1, std::memory_order_relaxed);
      return reject(id, 403, "Relaying Denied");
    }
    return reject(id, 404, "Not Found");
  }
  if (!aor.empty()) {
    const std::string domain = common::toLower(ruri.host());
    if (std::find(opt.redirect_domains.begin(), opt.redirect_domains.end(), domain) !=
        opt.redirect_domains.end())
      return redirect(id, aor);
  }
  auto deliver = [this, id, aor, dialled, route_popped, out_trunk] {
    if (!aor.empty()) return forkToBindings(id, aor, route_popped, dialled, out_trunk);
    dispatchToTrunk(id, *out_trunk, dialled, route_popped);
  };
  if (from_trunk == nullptr && opt.auth_calls && request.method() != sip::Method::kAck) {
    const auto& from_hdr = request.from();
    if (!from_hdr) return reject(id, 400, "Bad From");
    std::string realm = common::toLower(from_hdr->uri.host());
    if (!opt.self.servesDomain(realm)) return reject(id, 403, "Caller Not Ours");
    return authenticate(id, request, true, realm,
                        [deliver = std::move(deliver)](const std::string&) { deliver(); });
  }
  deliver();
}

bool EdgeWorker::takeStateless(sip::Message& request, const transport::Flow& from) {
  if (stateful_only_) return false;
  int popped = 0;
  Trunk* trunk = statelessTrunk(request, from, &popped);
  if (trunk == nullptr) return false;
  const EdgeOptions& opt = shared_.options();
  // CANCEL is never challenged (§22.1); its INVITE was.
  if (request.method() == sip::Method::kCancel || !opt.auth_calls) {
    forwardStateless(request, from, *trunk, popped);
    return true;
  }
  // A call from one of our users, authenticated as on the stateful path. Without credentials
  // that can pass (none, stale, malformed) the stateful path answers: its transaction keeps
  // the 407 for the caller's ACK and retransmissions.
  const auto& from_hdr = request.from();
  if (!from_hdr) return false;
  std::string realm = common::toLower(from_hdr->uri.host());
  if (!opt.self.servesDomain(realm)) return false;
  auto first = shared_.auth().inspect(request, sip::HeaderId::kProxyAuthorization, realm, now());
  if (first.verdict != DigestAuth::Verdict::kNeedsHa1) return false;
  auto held = std::make_shared<sip::Message>(std::move(request));
  EdgeStore::Back back = backHere();
  shared_.store().findHa1(
      realm, first.username, back,
      [this, held, from, trunk, popped, realm](common::Result<std::optional<Ha1>> ha1) {
        if (ha1) {
          auto done =
              shared_.auth().finish(*held, sip::HeaderId::kProxyAuthorization, realm, *ha1, now(),
                                    /*retransmissions_pass=*/true);
          if (done.verdict == DigestAuth::Verdict::kOk)
            return forwardStateless(*held, from, *trunk, popped);
        }
        // A wrong password, a replay, an unknown user or a store failure: the stateful path
        // checks again and gives the answer (a challenge, or 500 while the store is down).
        handBack(std::move(*held), from);
      });
  return true;
}

bool EdgeWorker::behindNat(const Binding& b) {
  auto uri = sip::Uri::parse(b.contact);
  if (!uri) return true;
  auto ip = common::ipLiteral(uri->host());
  return !ip || *ip != b.flow.remote.ip;
}

transport::Flow EdgeWorker::flowTo(transport::Protocol protocol,
                                   const transport::Address& remote) const {
  transport::Flow f;
  f.protocol = protocol;
  f.remote = remote;
  for (const auto& [p, a] : shared_.options().self.listeners) {
    if (p == protocol && a.ip.is_v6() == remote.ip.is_v6()) {
      f.local = a;
      break;
    }
  }
  return f;
}

transport::Flow EdgeWorker::flowForBinding(const Binding& b) const {
  if (transport::isReliable(b.flow.protocol)) return b.flow;
  auto uri = sip::Uri::parse(b.contact);
  if (uri) {
    auto ip = common::ipLiteral(uri->host());
    // Reachable as written when the contact names the host the REGISTER came from (a
    // different port is a third-party or multi-socket registration); otherwise the UA is
    // behind NAT and only the flow it registered from reaches it.
    if (ip && *ip == b.flow.remote.ip) {
      // A contact asking for another transport (";transport=tcp") is reached over that one.
      transport::Protocol p = protocolForUri(*uri);
      if (p != b.flow.protocol)
        return flowTo(p, transport::Address{*ip, uri->portOr(defaultPort(p))});
      transport::Flow f = b.flow;
      f.remote.port = uri->portOr(5060);
      f.connection_id = 0;
      return f;
    }
  }
  return b.flow;
}

std::optional<transport::Flow> EdgeWorker::flowForUri(const sip::Uri& uri) const {
  auto host = uri.maddr() ? *uri.maddr() : uri.host();
  auto ip = common::ipLiteral(host);
  if (!ip) return std::nullopt;
  transport::Protocol p = protocolForUri(uri);
  return flowTo(p, transport::Address{*ip, uri.portOr(defaultPort(p))});
}

std::optional<transport::Flow> EdgeWorker::flowForTarget(const sip::Uri& uri) const {
  if (auto b = shared_.location().findByContact(uri, now())) return flowForBinding(*b);
  return flowForUri(uri);
}

void EdgeWorker::onCancel(ServerId invite) {
  auto it = context_of_server_.find(invite);
  if (it == context_of_server_.end()) {
    // Not forwarded yet (e.g. waiting for credentials): end it here.
    (void)layer_->answerCancelled(invite);
    return;
  }
  auto pit = proxies_.find(it->second);
  if (pit == proxies_.end()) return;
  ProxyContext& ctx = *pit->second;
  ctx.cancelled = true;
  for (Branch& b : ctx.branches) {
    if (b.client != 0 && !b.done) (void)layer_->cancel(b.client);
  }
}

void EdgeWorker::onServerTransportError(ServerId id, const common::Status& error) {
  SB_LOG(kDebug, "edge: response for transaction " + std::to_string(id) +
                     " not sent: " + error.error().reason);
  auto it = context_of_server_.find(id);
  if (it == context_of_server_.end()) return;
  auto pit = proxies_.find(it->second);
  if (pit != proxies_.end()) {
    for (Branch& b : pit->second->branches) {
      if (b.client != 0 && !b.done) (void)layer_->cancel(b.client);
    }
    pit->second->answered = true;
  }
}

}  // namespace edge
