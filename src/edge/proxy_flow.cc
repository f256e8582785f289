// The stateful proxy flow (§16): a request forked to an AOR's bindings (serially by q) or
// sent to a trunk's gateways with failover, or redirected; timer C, the best-response
// choice and the branch requests with Record-Route and Path.
#include "edge/edge.h"

#include "common/strings.h"
#include "edge/internal/worker_state.h"

namespace edge {

using internal::failsOver;
using internal::gatewayUri;
using internal::startsDialog;
using internal::withoutTopVia;
using transaction::ServerId;

common::Result<sip::Message> EdgeWorker::branchRequest(
    const sip::Message& request, const transport::Flow& from, const transport::Flow& target,
    std::optional<std::string> new_ruri, const std::vector<std::string>& path, int pop_route,
    bool record_route, const std::string* branch_id) {
  auto copy = sip::Message::parse(request.raw());
  if (!copy) return copy.error();
  sip::MessageEdits& e = copy->edits();
  if (new_ruri) e.setRequestUri(std::move(*new_ruri));
  if (auto stamped = stampedVia(request.vias()->front(), from.remote)) e.replaceTopVia(*stamped);
  std::string branch = branch_id != nullptr
                           ? *branch_id
                           : shared_.tokens().branch(loopHash(request), ++branch_counter_);
  transport::Flow out = target;
  out.local = routableLocal(target.local, target.remote);
  e.pushVia(ourVia(out, branch));
  for (int i = 0; i < pop_route; ++i) e.popRoute();
  if (record_route) {
    // Two entries when the request changes transport (or address), so each side routes to
    // the address it can reach (RFC 5658 double record-routing). Each carries the dialog's
    // token: only requests of this dialog may later route through it.
    const auto& call_id = request.callId();
    const auto& from_hdr = request.from();
    const std::string token =
        shared_.tokens().dialogToken(call_id ? *call_id : std::string_view(),
                                     from_hdr ? from_hdr->tag().value_or("") : std::string_view());
    transport::Address in_local = routableLocal(from.local, from.remote);
    e.addRecordRoute(ourRecordRoute(from.protocol, in_local, token));
    if (out.protocol != from.protocol || out.local.ip != in_local.ip)
      e.addRecordRoute(ourRecordRoute(out.protocol, out.local, token));
  }
  // Credentials for a realm of ours were for us (§22.3): consumed here, not passed on.
  consumeOurCredentials(request, e);
  e.decrementMaxForwards();
  for (const std::string& p : path) e.addHeader("Route", p);
  return copy;
}

void EdgeWorker::consumeOurCredentials(const sip::Message& request,
                                       sip::MessageEdits& edits) const {
  if (request.headerCount(sip::HeaderId::kProxyAuthorization) == 0) return;
  const auto& from_hdr = request.from();
  if (!from_hdr) return;
  // The realm we challenge a caller in is their From domain (see onRequest).
  const std::string realm = common::toLower(from_hdr->uri.host());
  if (!shared_.options().self.servesDomain(realm)) return;
  const auto& headers = request.headers();
  for (size_t i = 0; i < headers.size(); ++i) {
    if (headers[i].id != sip::HeaderId::kProxyAuthorization) continue;
    auto cred = sip::parseCredentials(headers[i].value);
    if (cred && common::iequals(cred->realm().value_or(""), realm)) edits.removeHeader(i);
  }
}

void EdgeWorker::proxyRequest(ServerId id, const sip::Message& request, int route_popped) {
  // Next hop: the first Route left, else the Request-URI.
  std::optional<transport::Flow> target;
  if (request.headerCount(sip::HeaderId::kRoute) > 0) {
    const auto& routes = *request.routes();
    size_t next = size_t(route_popped);
    if (next < routes.size()) target = flowForUri(routes[next].uri);
  }
  if (!target) {
    const sip::Uri& ruri = request.requestUri();
    std::string aor = canonicalAor(ruri);
    // An in-dialog request whose Request-URI is one of our users' AORs (a UA that put the
    // AOR in Contact) still goes through the location service.
    if (!aor.empty() && shared_.options().self.servesDomain(ruri.host()) &&
        !common::ipLiteral(ruri.host()))
      return forkToBindings(id, aor, route_popped);
    target = flowForTarget(ruri);
  }
  if (!target) return reject(id, 502, "Next Hop Not An Address");
  auto ctx = std::make_unique<ProxyContext>();
  ctx->id = next_context_++;
  ctx->server = id;
  ctx->invite = request.method() == sip::Method::kInvite;
  ctx->pop_route = route_popped;
  ctx->record_route = false;  // in-dialog: the route set is fixed
  Branch b;
  b.target = *target;
  ctx->branches.push_back(std::move(b));
  ctx->group_ends = {1};
  addContext(std::move(ctx));
}

void EdgeWorker::forkToBindings(ServerId id, const std::string& aor, int route_popped,
                                const std::string& dialled, Trunk* fallback) {
  const sip::Message* req = layer_->request(id);
  if (req == nullptr) return;
  auto bindings = shared_.location().lookup(aor, now());
  if (bindings.empty()) {
    if (fallback != nullptr) return dispatchToTrunk(id, *fallback, dialled, route_popped);
    return reject(id, 480, "Temporarily Unavailable");
  }
  auto ctx = std::make_unique<ProxyContext>();
  ctx->id = next_context_++;
  ctx->server = id;
  ctx->invite = req->method() == sip::Method::kInvite;
  ctx->pop_route = route_popped;
  const auto& to = req->to();
  ctx->record_route = !(to && to->tag()) && startsDialog(req->method());
  // lookup() orders by q; equal q values form one group tried in parallel (§16.6), the
  // groups one after the other.
  for (size_t i = 0; i < bindings.size(); ++i) {
    Branch b;
    b.target = flowForBinding(bindings[i]);
    b.ruri = bindings[i].contact;
    b.binding = std::move(bindings[i]);
    ctx->branches.push_back(std::move(b));
    if (i + 1 == bindings.size() || ctx->branches[i].binding.q != bindings[i + 1].q)
      ctx->group_ends.push_back(i + 1);
  }
  addContext(std::move(ctx));
}

void EdgeWorker::dispatchToTrunk(ServerId id, Trunk& trunk, const std::string& dialled,
                                 int route_popped) {
  const sip::Message* req = layer_->request(id);
  if (req == nullptr) return;
  Routing* routing = shared_.routing();
  const auto& call_id = req->callId();
  auto order = routing->dispatch(trunk, call_id ? *call_id : std::string_view());
  shared_.counters().trunk_calls.fetch_add(1, std::memory_order_relaxed);
  auto ctx = std::make_unique<ProxyContext>();
  ctx->id = next_context_++;
  ctx->server = id;
  ctx->invite = req->method() == sip::Method::kInvite;
  ctx->pop_route = route_popped;
  ctx->record_route = startsDialog(req->method());
  ctx->trunk = &trunk;
  // Serial: one gateway per group, in the dispatcher's order.
  for (size_t gi : order) {
    Gateway& gw = *trunk.gateways[gi];
    Branch b;
    b.gateway = &gw;
    b.target = flowTo(gw.protocol, gw.address);
    b.ruri = gatewayUri(gw, dialled);
    ctx->branches.push_back(std::move(b));
    ctx->group_ends.push_back(ctx->branches.size());
  }
  addContext(std::move(ctx));
}

void EdgeWorker::addContext(std::unique_ptr<ProxyContext> ctx) {
  uint64_t cid = ctx->id;
  context_of_server_[ctx->server] = cid;
  ProxyContext& ref = *ctx;
  proxies_[cid] = std::move(ctx);
  startGroup(ref);
}

void EdgeWorker::redirect(ServerId id, const std::string& aor) {
  // A redirect server (§8.3.1): the bindings go back as Contacts, best q first; the caller
  // tries them itself. No authentication: nothing is relayed on the caller's behalf.
  auto bindings = shared_.location().lookup(aor, now());
  if (bindings.empty()) return reject(id, 480, "Temporarily Unavailable");
  std::vector<std::pair<std::string, std::string>> headers;
  for (const Binding& b : bindings) {
    std::string v = "<" + b.contact + ">";
    if (b.q != 1000) {
      std::string q = std::to_string(1000 + b.q).substr(1);
      while (!q.empty() && q.back() == '0') q.pop_back();
      v += ";q=0." + (q.empty() ? std::string("0") : q);
    }
    headers.emplace_back("Contact", std::move(v));
  }
  answer(id, 302, "Moved Temporarily", headers);
}

void EdgeWorker::startGroup(ProxyContext& ctx) {
  uint64_t cid = ctx.id;
  size_t begin = ctx.group == 0 ? 0 : ctx.group_ends[ctx.group - 1];
  size_t end = ctx.group_ends[ctx.group];
  for (size_t i = begin; i < end; ++i) {
    startBranch(ctx, i);
    if (proxies_.find(cid) == proxies_.end()) return;  // finished inside (all failed at once)
  }
}

void EdgeWorker::startBranch(ProxyContext& ctx, size_t index) {
  const sip::Message* req = layer_->request(ctx.server);
  const transport::Flow* from = layer_->responseFlow(ctx.server);
  Branch& br = ctx.branches[index];
  br.started = true;
  if (req == nullptr || from == nullptr) return onBranchFailure(ctx.id, index, 500);
  auto msg = branchRequest(*req, *from, br.target, br.ruri, br.binding.path, ctx.pop_route,
                           ctx.record_route);
  if (!msg) return onBranchFailure(ctx.id, index, 500);
  uint64_t cid = ctx.id;
  transaction::ClientCallbacks cb;
  cb.onResponse = [this, cid, index, server = ctx.server](const sip::Message& r) {
    onBranchResponse(cid, index, server, r);
  };
  cb.onTimeout = [this, cid, index] { onBranchFailure(cid, index, 408); };
  cb.onTransportError = [this, cid, index](const common::Status&) {
    onBranchFailure(cid, index, 503);
  };
  auto client = layer_->sendRequest(std::move(*msg), br.target, std::move(cb));
  if (!client) return onBranchFailure(cid, index, 503);
  // sendRequest may have failed the branch synchronously; look it up again.
  auto it = proxies_.find(cid);
  if (it == proxies_.end()) return;
  it->second->branches[index].client = *client;
  shared_.counters().proxied.fetch_add(1, std::memory_order_relaxed);
  Branch& sent = it->second->branches[index];
  if (sent.gateway != nullptr) sent.gateway->calls.fetch_add(1, std::memory_order_relaxed);
  if (it->second->invite || sent.gateway != nullptr) armTimerC(*it->second, index);
  if (it->second->cancelled) (void)layer_->cancel(*client);
}

void EdgeWorker::onBranchResponse(uint64_t ctx_id, size_t index, ServerId server,
                                  const sip::Message& response) {
  auto it = proxies_.find(ctx_id);
  if (it == proxies_.end()) {
    // The fork is over, but the callee retransmits its 2xx until it sees the ACK (the one
    // relayed may have been lost): each copy goes upstream too.
    const int status = response.statusCode();
    if (status >= 200 && status < 300) relay2xx(server, response);
    return;
  }
  ProxyContext& ctx = *it->second;
  Branch& br = ctx.branches[index];
  int status = response.statusCode();
  if (status == 100) return;  // §16.7 step 5: never forwarded
  if (status < 200) {
    br.provisional = true;
    if (ctx.invite && !br.done) {
      armTimerC(ctx, index);  // §16.7 step 2: restarts timer C
    } else if (br.timer_c != 0) {
      timers_.cancel(br.timer_c);  // a gateway answered a non-INVITE: timer F decides now
      br.timer_c = 0;
    }
    if (ctx.answered) return;
    if (auto bytes = withoutTopVia(response)) (void)layer_->respond(ctx.server, std::move(*bytes));
    return;
  }
  if (status < 300) {
    // Every 2xx goes upstream at once (a forked INVITE may be answered by several UAs); the
    // other branches are cancelled on the first.
    relay2xx(ctx.server, response);
    bool first = !ctx.answered;
    ctx.answered = true;
    br.done = true;
    if (br.timer_c != 0) timers_.cancel(br.timer_c);
    br.timer_c = 0;
    br.final_status = status;
    if (first) {
      for (Branch& other : ctx.branches) {
        if (&other != &br && other.client != 0 && !other.done) (void)layer_->cancel(other.client);
      }
    }
    return maybeFinish(ctx);
  }
  if (br.done) return;
  br.done = true;
  if (br.timer_c != 0) timers_.cancel(br.timer_c);
  br.timer_c = 0;
  br.final_status = br.timed_out ? 408 : status;
  if (br.timed_out) {
    maybeFinish(ctx);
    return;
  }
  if (auto bytes = withoutTopVia(response)) br.final_response = std::move(*bytes);
  if (status >= 600 && !ctx.answered) {
    // §16.7 step 5: a 6xx ends the search; the others are cancelled.
    for (Branch& other : ctx.branches) {
      if (other.client != 0 && !other.done) (void)layer_->cancel(other.client);
    }
    ctx.answered = true;
    (void)layer_->respond(ctx.server, br.final_response);
  }
  maybeFinish(ctx);
}

void EdgeWorker::onBranchFailure(uint64_t ctx_id, size_t index, int status) {
  auto it = proxies_.find(ctx_id);
  if (it == proxies_.end()) return;
  Branch& br = it->second->branches[index];
  if (br.done) return;
  br.done = true;
  if (br.timer_c != 0) timers_.cancel(br.timer_c);
  br.timer_c = 0;
  br.final_status = br.timed_out ? 408 : status;
  maybeFinish(*it->second);
}

void EdgeWorker::armTimerC(ProxyContext& ctx, size_t index) {
  Branch& br = ctx.branches[index];
  if (br.timer_c != 0) timers_.cancel(br.timer_c);
  uint64_t cid = ctx.id;
  // A gateway gets a short time to say anything at all, then the next one is tried.
  auto delay = br.gateway != nullptr && !br.provisional ? shared_.options().gateway_timeout
                                                        : shared_.options().timer_c;
  br.timer_c = timers_.schedule(delay, [this, cid, index] { onTimerC(cid, index); });
}

void EdgeWorker::onTimerC(uint64_t ctx_id, size_t index) {
  auto it = proxies_.find(ctx_id);
  if (it == proxies_.end()) return;
  Branch& br = it->second->branches[index];
  br.timer_c = 0;
  if (br.done) return;
  // No answer in time: cancel the branch; its 487 (or the CANCEL's own timeout) ends it,
  // counted as a 408.
  br.timed_out = true;
  bool cancelled = br.client != 0 && layer_->cancel(br.client);
  // Without a provisional response the CANCEL waits for one that may never come: the branch
  // ends here as a 408 (§16.8), its transaction runs on until timer B.
  if (!cancelled || !br.provisional) onBranchFailure(ctx_id, index, 408);
}

void EdgeWorker::maybeFinish(ProxyContext& ctx) {
  size_t begin = ctx.group == 0 ? 0 : ctx.group_ends[ctx.group - 1];
  size_t end = ctx.group_ends[ctx.group];
  for (size_t i = begin; i < end; ++i) {
    if (!ctx.branches[i].done) return;
  }
  if (ctx.answered) return finishContext(ctx.id);
  bool next_group = true;
  if (ctx.trunk != nullptr) {
    // A trunk's gateway failed: out of rotation when it did not answer or was unavailable,
    // and only then is the next gateway tried.
    const Branch& failed = ctx.branches[begin];
    next_group = failsOver(failed.final_status);
    if (next_group && failed.gateway != nullptr)
      shared_.routing()->callFailed(*ctx.trunk, *failed.gateway);
    if (next_group && !ctx.cancelled && ctx.group + 1 < ctx.group_ends.size())
      shared_.counters().trunk_failovers.fetch_add(1, std::memory_order_relaxed);
  }
  // The group failed: the next q group (or gateway), unless the caller gave up.
  if (next_group && !ctx.cancelled && ctx.group + 1 < ctx.group_ends.size()) {
    ++ctx.group;
    return startGroup(ctx);
  }
  // §16.7 step 6: the best of the final responses.
  std::vector<int> statuses;
  for (size_t i = 0; i < ctx.branches.size(); ++i) {
    if (ctx.branches[i].started) statuses.push_back(ctx.branches[i].final_status);
  }
  std::vector<const Branch*> started;
  for (const Branch& b : ctx.branches) {
    if (b.started) started.push_back(&b);
  }
  const Branch* best = started.empty() ? nullptr : started[chooseBestResponse(statuses)];
  ctx.answered = true;
  uint64_t cid = ctx.id;
  ServerId server = ctx.server;
  if (ctx.cancelled && (best == nullptr || best->final_response.empty())) {
    (void)layer_->answerCancelled(server);
  } else if (best == nullptr || best->final_response.empty() || best->final_status == 503) {
    int status = best == nullptr ? 500 : best->final_status;
    // No response arrived (timeout, transport error) or a 503, which a proxy must not relay
    // as is (it would make the caller avoid this proxy): generated here.
    if (status == 503) status = 500;
    reject(server, status, status == 408 ? "Request Timeout" : std::string_view());
  } else {
    (void)layer_->respond(server, best->final_response);
  }
  finishContext(cid);
}

void EdgeWorker::finishContext(uint64_t ctx_id) {
  auto it = proxies_.find(ctx_id);
  if (it == proxies_.end()) return;
  for (Branch& b : it->second->branches) {
    if (b.timer_c != 0) timers_.cancel(b.timer_c);
  }
  context_of_server_.erase(it->second->server);
  proxies_.erase(it);
}

}  // namespace edge
