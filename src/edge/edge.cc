#include "edge/edge.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <chrono>

#include "common/log.h"
#include "common/strings.h"
#include "sip/response.h"

namespace edge {

using transaction::ServerId;

namespace {

constexpr std::string_view kAllow =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, UPDATE, PRACK, REFER, MESSAGE, NOTIFY, "
    "SUBSCRIBE";
// Option tags a proxy may be asked to understand (Proxy-Require).
const std::vector<std::string_view> kProxySupported = {"path", "outbound"};

transport::Protocol protocolForUri(const sip::Uri& uri, transport::Protocol fallback) {
  if (auto t = uri.transport()) {
    if (auto p = transport::protocolFromName(*t)) return *p;
  }
  if (uri.scheme() == sip::UriScheme::kSips) return transport::Protocol::kTls;
  return fallback == transport::Protocol::kWs || fallback == transport::Protocol::kWss
             ? transport::Protocol::kUdp
             : fallback;
}

uint16_t defaultPort(transport::Protocol p) {
  return p == transport::Protocol::kTls ? 5061 : 5060;
}

// The response to forward upstream: the branch's response without our Via.
std::optional<std::string> withoutTopVia(const sip::Message& response) {
  auto copy = sip::Message::parse(response.raw());
  if (!copy) return std::nullopt;
  copy->edits().popVia();
  return copy->serialize();
}

// The number a request dials: the user part of a sip:/sips: URI or a tel: number, without
// parameters and visual separators (RFC 3966 §5.1.1); empty when that is not a number.
std::string dialledNumber(const sip::Uri& uri) {
  std::string_view raw = uri.isSip() ? uri.user() : uri.opaque();
  if (uri.scheme() != sip::UriScheme::kTel && !uri.isSip()) return {};
  raw = raw.substr(0, raw.find(';'));
  std::string n;
  for (char c : raw) {
    if (c == '-' || c == '.' || c == '(' || c == ')') continue;
    if ((c < '0' || c > '9') && !(c == '+' && n.empty())) return {};
    n.push_back(c);
  }
  if (n.empty() || n == "+") return {};
  return n;
}

// How many of the first Route entries name this server: one, or two when it record-routed
// twice because the request changed transport (RFC 5658 §4); both are ours to remove.
int ourLeadingRoutes(const sip::NameAddrList& routes, const Self& self) {
  int n = 0;
  while (n < 2 && size_t(n) < routes.size() && self.isThisServer(routes[size_t(n)].uri)) ++n;
  return n;
}

// A URI naming gateway `gw`, with `user` (a dialled number) when not empty.
std::string gatewayUri(const Gateway& gw, std::string_view user = {}) {
  std::string ruri = "sip:";
  if (!user.empty()) ruri.append(user).push_back('@');
  ruri += gw.address.toString();
  if (gw.protocol != transport::Protocol::kUdp)
    ruri += ";transport=" + std::string(transport::configName(gw.protocol));
  return ruri;
}

// Requests that may start a dialog, whose route set a proxy joins by Record-Route.
bool startsDialog(sip::Method m) {
  return m == sip::Method::kInvite || m == sip::Method::kSubscribe;
}

bool failsOver(int status) {
  return status == 408 || status == 503;
}

std::string randomTag() {
  static thread_local uint64_t state =
      uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()) * 0x9e3779b97f4a7c15ULL;
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string t(12, '0');
  for (size_t i = 0; i < t.size(); ++i) t[i] = kHex[(state >> (4 * i)) & 15];
  return t;
}

// "+<digits>" for a dialled number of at most 15 digits (E.164's limit), '+' added to bare
// digits (carriers often send national or international digits without it); "" otherwise.
std::string e164(std::string_view dialled) {
  std::string_view digits = dialled.substr(!dialled.empty() && dialled[0] == '+' ? 1 : 0);
  if (digits.empty() || digits.size() > 15) return {};
  return "+" + std::string(digits);
}

// Unquoted, lower case: a media type parameter value such as "UTF-8" or UTF-8.
std::string paramValue(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return common::toLower(v);
}

// Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
bool validUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = uint8_t(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = uint8_t(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

std::string latin1ToUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = uint8_t(ch);
    if (c < 0x80) {
      out.push_back(ch);
    } else {
      out.push_back(char(0xC0 | (c >> 6)));
      out.push_back(char(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

// A URI user part with everything outside RFC 3261's unreserved and user-unreserved sets
// percent-encoded (a sender name may hold spaces or '@').
std::string escapeUser(std::string_view user) {
  static constexpr std::string_view kKeep = "-_.!~*'()&=+$,;?/";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : user) {
    const auto c = uint8_t(ch);
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        kKeep.find(ch) != std::string_view::npos) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

// One outgoing leg of a proxied request.
struct EdgeWorker::Branch {
  Binding binding;  // for bindings; for routed requests only flow and ruri matter
  transport::Flow target;
  std::optional<std::string> ruri;  // new Request-URI, when retargeted
  transaction::ClientId client = 0;
  bool started = false;
  bool done = false;
  bool timed_out = false;      // timer C fired: the branch counts as 408 whatever ends it
  bool provisional = false;    // a 1xx (other than 100) arrived
  Gateway* gateway = nullptr;  // when the branch goes to a trunk gateway
  transaction::TimerId timer_c = 0;
  int final_status = 0;
  std::string final_response;  // wire bytes without our Via, kept for the best-response choice
};

// The state of one proxied request: its branches, grouped by q for serial forking.
struct EdgeWorker::ProxyContext {
  uint64_t id = 0;
  ServerId server = 0;
  bool invite = false;
  bool record_route = false;
  int pop_route = 0;  // leading Route entries naming us (two after double record-routing)
  bool cancelled = false;
  bool answered = false;  // a final response went upstream
  // Routed to a trunk: one gateway per group, and the next is tried only after a 408, 503
  // or transport error (a callee who declined must not ring twice).
  Trunk* trunk = nullptr;
  std::vector<Branch> branches;
  std::vector<size_t> group_ends;  // branches [group_ends[i-1], group_ends[i]) form group i
  size_t group = 0;
};

// A MESSAGE on its way to a trunk: one gateway at a time, the next after a failure.
struct EdgeWorker::MessageSend {
  OutboundMessage message;
  std::function<void(OutboundMessageResult)> done;
  Trunk* trunk = nullptr;
  std::vector<size_t> order;  // gateways to try (indexes into trunk->gateways)
  size_t next = 0;            // the next entry of `order` to try
  uint64_t attempt = 0;       // the current attempt (late events of earlier ones are ignored)
  Gateway* gateway = nullptr;
  transaction::TimerId timer = 0;  // the gateway timeout of the current attempt
  bool maybe_sent = false;         // some attempt went out and got no final answer
  bool in_flight = false;          // the current attempt is on the wire
  std::string call_id;
  std::string from_tag;
  uint32_t cseq = 0;
};

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
    : options_(std::move(options)), store_(store), auth_(digestOptions(options_, &options_)) {}

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
  const sip::Message* req = layer_->request(id);
  if (req == nullptr) return;
  sip::ResponseBuilder b(*req, status, reason);
  std::string tag = randomTag();
  b.toTag(tag);
  for (const auto& [n, v] : headers) b.header(n, v);
  b.header("Server", shared_.options().user_agent);
  (void)layer_->respond(id, b.build());
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
  if (to_us && ruri.user().empty()) {
    if (request.method() == sip::Method::kOptions) return handleOptionsToUs(id);
    return reject(id, 405, "Method Not Allowed", {{"Allow", "OPTIONS, REGISTER"}});
  }
  const auto& to = request.to();
  bool in_dialog = to && to->tag().has_value();
  if (in_dialog || routes_left > 0) return proxyRequest(id, request, from, route_popped);

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
    if (!ruri.isSip() || !opt.self.servesDomain(ruri.host()))
      return reject(id, 403, "Relaying Denied");
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
  const std::string branch =
      makeBranch(loopHash(request, method == sip::Method::kAck), statelessUnique(request));
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

void EdgeWorker::handleOptionsToUs(ServerId id) {
  answer(id, 200, {}, {{"Allow", std::string(kAllow)}, {"Accept", "application/sdp"}});
}

void EdgeWorker::handleInboundMessage(ServerId id, const sip::Message& request, const Trunk& trunk,
                                      const std::string& number) {
  // RFC 3428 §7: a body we cannot render gets 415 with what we accept.
  static const std::vector<std::pair<std::string, std::string>> kAccept = {
      {"Accept", "text/plain"}};
  if (request.body().empty()) return reject(id, 400, "Empty Message Body");
  auto type = request.contentType();
  if (!type) {
    if (type.error().code == common::ErrorCode::kNotFound)
      return reject(id, 415, "Content-Type Missing", kAccept);
    return reject(id, 400, "Bad Content-Type");
  }
  if (!common::iequals(type->type, "text") || !common::iequals(type->subtype, "plain"))
    return reject(id, 415, "Unsupported Media Type", kAccept);
  if (std::string_view enc = request.headerValue(sip::HeaderId::kContentEncoding);
      !enc.empty() && !common::iequals(enc, "identity"))
    return reject(id, 415, "Unsupported Content-Encoding", {{"Accept-Encoding", "identity"}});
  std::string body;
  const std::string charset = paramValue(type->params.find("charset").value_or(""));
  if (charset.empty() || charset == "utf-8" || charset == "us-ascii") {
    if (!validUtf8(request.body())) return reject(id, 400, "Body Not UTF-8");
    body = std::string(request.body());
  } else if (charset == "iso-8859-1" || charset == "latin1") {
    body = latin1ToUtf8(request.body());
  } else {
    return reject(id, 415, "Unsupported Charset", {{"Accept", "text/plain;charset=UTF-8"}});
  }
  const auto& from_hdr = request.from();
  if (!from_hdr) return reject(id, 400, "Bad From");
  std::string from_user(from_hdr->uri.isSip() ? from_hdr->uri.user() : from_hdr->uri.opaque());
  std::string from = e164(dialledNumber(from_hdr->uri));
  if (from.empty()) from = from_user.substr(0, from_user.find(';'));
  if (from.empty()) return reject(id, 400, "No Sender In From");

  InboundMessageInfo info;
  info.trunk = trunk.name;
  info.from = std::move(from);
  info.to = number;
  info.body = std::move(body);
  if (const auto& cid = request.callId()) info.call_id = std::string(*cid);
  shared_.counters().messages_in.fetch_add(1, std::memory_order_relaxed);

  // The answer may come from any thread: it is posted here, and only the first counts (the
  // hook's or the deadline's).
  struct Pending {
    std::atomic<bool> answered{false};
    transaction::TimerId deadline = 0;  // touched on this worker only
  };
  auto pending = std::make_shared<Pending>();
  std::weak_ptr<char> alive = alive_;
  Post post = post_;
  auto respond = [this, alive, post, pending, id](int status) {
    if (pending->answered.exchange(true)) return;
    post([this, alive, pending, id, status] {
      if (alive.expired()) return;
      if (pending->deadline != 0) timers_.cancel(pending->deadline);
      pending->deadline = 0;
      if (layer_->request(id) == nullptr) return;  // the transaction ended meanwhile
      int code = status >= 200 && status <= 699 ? status : 500;
      if (code < 300) return answer(id, code);
      if (code >= 500) return reject(id, code, {}, {{"Retry-After", "5"}});
      reject(id, code);
    });
  };
  pending->deadline = timers_.schedule(shared_.options().message_hook_timeout, [pending, respond] {
    pending->deadline = 0;
    respond(500);
  });
  shared_.inboundMessageHook()(info, respond);
}

std::string EdgeWorker::ownedCallId(const std::string& prefix) {
  std::string n = std::to_string(++branch_counter_);
  std::string call_id = prefix + n + "-" + randomTag();
  for (int tries = 0; owns_call_id_ && !owns_call_id_(call_id) && tries < 64; ++tries)
    call_id = prefix + n + "-" + randomTag();
  return call_id;
}

void EdgeWorker::sendMessage(OutboundMessage message,
                             std::function<void(OutboundMessageResult)> done) {
  auto m = std::make_unique<MessageSend>();
  if (Routing* routing = shared_.routing()) {
    for (const auto& t : routing->trunks()) {
      if (t->name == message.trunk) m->trunk = t.get();
    }
  }
  m->call_id = ownedCallId("sms-");
  m->from_tag = randomTag();
  if (m->trunk != nullptr) m->order = shared_.routing()->dispatch(*m->trunk, m->call_id);
  m->message = std::move(message);
  m->done = std::move(done);
  const uint64_t send_id = next_message_++;
  messages_[send_id] = std::move(m);
  shared_.counters().messages_out.fetch_add(1, std::memory_order_relaxed);
  // The first attempt runs from the loop, so `done` never runs inside this call.
  std::weak_ptr<char> alive = alive_;
  post_([this, alive, send_id] {
    if (!alive.expired()) messageAttempt(send_id);
  });
}

void EdgeWorker::messageAttempt(uint64_t send_id) {
  auto it = messages_.find(send_id);
  if (it == messages_.end()) return;
  MessageSend& s = *it->second;
  if (s.trunk == nullptr)
    return finishMessage(send_id, {-1, "no SIP trunk named '" + s.message.trunk + "'", ""});
  if (s.next >= s.order.size())
    return finishMessage(send_id, {-1, "SIP trunk '" + s.message.trunk + "' has no gateway", ""});
  Gateway& gw = *s.trunk->gateways[s.order[s.next++]];
  s.gateway = &gw;
  const uint64_t attempt = ++s.attempt;
  transport::Flow flow = flowTo(gw.protocol, gw.address);
  transport::Flow out = flow;
  out.local = routableLocal(flow.local, flow.remote);
  const std::string ruri = gatewayUri(gw, escapeUser(s.message.to));
  std::string to_uri = "sip:" + escapeUser(s.message.to) + "@" + gw.address.toString();
  std::string msg = "MESSAGE " + ruri + " SIP/2.0\r\n";
  msg += "Via: " + ourVia(out, layer_->newBranch()) + "\r\n";
  msg += "Max-Forwards: 70\r\n";
  msg += "From: <sip:" + escapeUser(s.message.from) + "@" + out.local.toString() +
         ">;tag=" + s.from_tag + "\r\n";
  msg += "To: <" + to_uri + ">\r\n";
  msg += "Call-ID: " + s.call_id + "\r\n";
  msg += "CSeq: " + std::to_string(++s.cseq) + " MESSAGE\r\n";
  msg += "User-Agent: " + shared_.options().user_agent + "\r\n";
  msg += "Content-Type: " + s.message.content_type + "\r\n";
  msg += "Content-Length: " + std::to_string(s.message.body.size()) + "\r\n\r\n";
  msg += s.message.body;

  transaction::ClientCallbacks cb;
  cb.onResponse = [this, send_id, attempt](const sip::Message& r) {
    int status = r.statusCode();
    if (status >= 200) {
      return messageAttemptEnded(send_id, attempt, status, std::string(r.reasonPhrase()), true);
    }
    // Any provisional answer: the gateway is alive; timer F decides from now on.
    auto found = messages_.find(send_id);
    if (found == messages_.end() || found->second->attempt != attempt) return;
    if (found->second->timer != 0) timers_.cancel(found->second->timer);
    found->second->timer = 0;
  };
  cb.onTimeout = [this, send_id, attempt] {
    messageAttemptEnded(send_id, attempt, 0, "no answer", true);
  };
  cb.onTransportError = [this, send_id, attempt](const common::Status& st) {
    messageAttemptEnded(send_id, attempt, -1, st ? "transport error" : st.error().reason, false);
  };
  gw.calls.fetch_add(1, std::memory_order_relaxed);
  auto client = layer_->sendRequest(std::string_view(msg), flow, std::move(cb));
  if (!client) return messageAttemptEnded(send_id, attempt, -1, client.error().reason, false);
  it = messages_.find(send_id);
  if (it == messages_.end() || it->second->attempt != attempt) return;
  it->second->in_flight = true;
  it->second->timer = timers_.schedule(shared_.options().gateway_timeout, [this, send_id, attempt] {
    auto found = messages_.find(send_id);
    if (found != messages_.end()) found->second->timer = 0;
    messageAttemptEnded(send_id, attempt, 0, "gateway timeout", true);
  });
}

void EdgeWorker::messageAttemptEnded(uint64_t send_id, uint64_t attempt, int status,
                                     std::string reason, bool maybe_sent) {
  auto it = messages_.find(send_id);
  if (it == messages_.end()) return;
  MessageSend& s = *it->second;
  if (attempt != s.attempt) {
    // A gateway given up on answered after all: a 2xx means the message arrived.
    if (status >= 200 && status < 300) finishMessage(send_id, {status, reason, s.call_id});
    return;
  }
  if (s.timer != 0) timers_.cancel(s.timer);
  s.timer = 0;
  s.in_flight = false;
  s.maybe_sent |= maybe_sent;
  // No answer, unreachable, 408 or 503: the gateway failed; the next one is tried.
  if (status <= 0 || failsOver(status)) {
    if (s.gateway != nullptr) shared_.routing()->callFailed(*s.trunk, *s.gateway);
    if (s.next < s.order.size()) {
      shared_.counters().trunk_failovers.fetch_add(1, std::memory_order_relaxed);
      return messageAttempt(send_id);
    }
    if (status <= 0) {
      status = s.maybe_sent ? 0 : -1;
      reason = "no gateway of trunk '" + s.trunk->name + "' answered (" + reason + ")";
    }
  }
  finishMessage(send_id, {status, std::move(reason), status < 0 ? "" : s.call_id});
}

void EdgeWorker::finishMessage(uint64_t send_id, OutboundMessageResult result) {
  auto it = messages_.find(send_id);
  if (it == messages_.end()) return;
  std::unique_ptr<MessageSend> s = std::move(it->second);
  messages_.erase(it);
  if (s->timer != 0) timers_.cancel(s->timer);
  if (s->done) s->done(std::move(result));
}

void EdgeWorker::handleRegister(ServerId id, const sip::Message& request,
                                const transport::Flow& from) {
  (void)from;
  shared_.counters().registers.fetch_add(1, std::memory_order_relaxed);
  const auto& to = request.to();
  if (!to) return reject(id, 400, "Bad To");
  if (!shared_.options().auth_register) return finishRegister(id, "");
  std::string realm = common::toLower(to->uri.host());
  authenticate(id, request, false, realm,
               [this, id](const std::string& user) { finishRegister(id, user); });
}

void EdgeWorker::finishRegister(ServerId id, const std::string& auth_user) {
  const sip::Message* req = layer_->request(id);
  if (req == nullptr) return;
  const transport::Flow* from = layer_->responseFlow(id);
  // A user registers their own address-of-record only.
  if (!auth_user.empty() && req->to()->uri.user() != auth_user)
    return reject(id, 403, "Not Your Address");
  std::string aor = canonicalAor(req->to()->uri);
  int64_t t = now();
  RegisterPlan plan =
      planRegister(*req, from ? *from : transport::Flow(), shared_.location().lookup(aor, t), t,
                   shared_.options().registrar);
  if (plan.status != 200) return reject(id, plan.status, plan.reason, plan.headers);
  if (plan.upserts.empty() && plan.removed.empty()) {
    // A query: nothing to write.
    shared_.counters().registers_ok.fetch_add(1, std::memory_order_relaxed);
    return answer(id, 200, {}, plan.headers);
  }
  EdgeStore::Back back = backHere();
  auto shared_plan = std::make_shared<RegisterPlan>(std::move(plan));
  auto saved = [this, id, shared_plan](common::Status st) {
    if (!st) {
      shared_.counters().store_errors.fetch_add(1, std::memory_order_relaxed);
      SB_LOG(kWarn, "registrar: saving " + shared_plan->aor + " failed: " + st.error().reason);
      return reject(id, 500, "Binding Not Saved", {{"Retry-After", "5"}});
    }
    shared_.location().replace(shared_plan->aor, shared_plan->next);
    shared_.counters().registers_ok.fetch_add(1, std::memory_order_relaxed);
    // RFC 3327 §5.3: the Path the registrar stored goes back in the 200.
    std::vector<std::pair<std::string, std::string>> headers = shared_plan->headers;
    if (!shared_plan->upserts.empty()) {
      for (const std::string& p : shared_plan->upserts.front().path)
        headers.emplace_back("Path", p);
    }
    answer(id, 200, {}, headers);
  };
  if (!shared_.options().persist_registrations) return saved({});
  shared_.store().saveRegistration(*shared_plan, back, std::move(saved));
}

bool EdgeWorker::behindNat(const Binding& b) {
  auto uri = sip::Uri::parse(b.contact);
  if (!uri) return true;
  auto ip = common::ipLiteral(uri->host());
  return !ip || *ip != b.flow.remote.ip;
}

size_t EdgeWorker::pingNatBindings() {
  std::vector<std::pair<transport::Flow, std::string>> targets;
  shared_.location().forEach(now(), [&](const Binding& b) {
    if (b.flow.protocol == transport::Protocol::kUdp && behindNat(b))
      targets.emplace_back(b.flow, b.contact);
  });
  for (auto& [flow, contact] : targets) sender_.send(flow, optionsRequest(contact, flow), {});
  shared_.counters().nat_pings.fetch_add(targets.size(), std::memory_order_relaxed);
  return targets.size();
}

size_t EdgeWorker::probeGateways(std::chrono::steady_clock::time_point now) {
  Routing* routing = shared_.routing();
  if (routing == nullptr || layer_ == nullptr) return 0;
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  size_t sent = 0;
  for (const auto& trunk_ptr : routing->trunks()) {
    Trunk* trunk = trunk_ptr.get();
    if (trunk->probe_interval.count() == 0) continue;
    const int64_t interval_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(trunk->probe_interval).count();
    for (const auto& gw_ptr : trunk->gateways) {
      Gateway* gw = gw_ptr.get();
      if (gw->next_probe.load(std::memory_order_relaxed) > now_ms) continue;
      if (gw->probe_seq.load(std::memory_order_relaxed) != 0) continue;  // one in flight
      gw->next_probe.store(now_ms + interval_ms, std::memory_order_relaxed);
      transport::Flow flow = flowTo(gw->protocol, gw->address);
      const std::string uri = gatewayUri(*gw);
      const uint64_t seq = ++branch_counter_;
      gw->probe_seq.store(seq, std::memory_order_relaxed);
      // The first verdict wins: an answer, the transaction's own failure, or the deadline.
      auto verdict = [routing, trunk, gw, seq](bool alive) {
        uint64_t expected = seq;
        if (gw->probe_seq.compare_exchange_strong(expected, 0))
          routing->probeResult(*trunk, *gw, alive);
      };
      transaction::ClientCallbacks cb;
      cb.onResponse = [verdict](const sip::Message& r) {
        if (r.statusCode() >= 200) verdict(!failsOver(r.statusCode()));
      };
      cb.onTimeout = [verdict] { verdict(false); };
      cb.onTransportError = [verdict](const common::Status&) { verdict(false); };
      auto client = layer_->sendRequest(optionsRequest(uri, flow), flow, std::move(cb));
      if (!client) {
        verdict(false);
        continue;
      }
      timers_.schedule(shared_.options().probe_timeout, [verdict] { verdict(false); });
      ++sent;
    }
  }
  shared_.counters().probes.fetch_add(sent, std::memory_order_relaxed);
  return sent;
}

std::string EdgeWorker::optionsRequest(const std::string& uri, const transport::Flow& flow) {
  transport::Address local = routableLocal(flow.local, flow.remote);
  std::string n = std::to_string(++branch_counter_);
  std::string msg = "OPTIONS " + uri + " SIP/2.0\r\n";
  msg += "Via: SIP/2.0/" + std::string(transport::viaName(flow.protocol)) + " " + local.toString() +
         ";branch=z9hG4bKsbka." + n + ";rport\r\n";
  msg += "From: <sip:keepalive@" + local.toString() + ">;tag=" + randomTag() + "\r\n";
  msg += "To: <" + uri + ">\r\n";
  std::string call_id = "ka-" + n + "-" + randomTag();
  for (int tries = 0; owns_call_id_ && !owns_call_id_(call_id) && tries < 64; ++tries)
    call_id = "ka-" + n + "-" + randomTag();
  msg += "Call-ID: " + call_id + "\r\n";
  msg += "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n";
  msg += "User-Agent: " + shared_.options().user_agent + "\r\nContent-Length: 0\r\n\r\n";
  return msg;
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
      transport::Protocol p = protocolForUri(*uri, b.flow.protocol);
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

std::optional<transport::Flow> EdgeWorker::flowForUri(const sip::Uri& uri,
                                                      const transport::Flow& in) const {
  auto host = uri.maddr() ? *uri.maddr() : uri.host();
  auto ip = common::ipLiteral(host);
  if (!ip) return std::nullopt;
  transport::Protocol p = protocolForUri(uri, in.protocol);
  return flowTo(p, transport::Address{*ip, uri.portOr(defaultPort(p))});
}

common::Result<sip::Message> EdgeWorker::branchRequest(
    const sip::Message& request, const transport::Flow& from, const transport::Flow& target,
    std::optional<std::string> new_ruri, const std::vector<std::string>& path, int pop_route,
    bool record_route, const std::string* branch_id) {
  auto copy = sip::Message::parse(request.raw());
  if (!copy) return copy.error();
  sip::MessageEdits& e = copy->edits();
  if (new_ruri) e.setRequestUri(std::move(*new_ruri));
  if (auto stamped = stampedVia(request.vias()->front(), from.remote)) e.replaceTopVia(*stamped);
  std::string branch =
      branch_id != nullptr ? *branch_id : makeBranch(loopHash(request), ++branch_counter_);
  transport::Flow out = target;
  out.local = routableLocal(target.local, target.remote);
  e.pushVia(ourVia(out, branch));
  for (int i = 0; i < pop_route; ++i) e.popRoute();
  if (record_route) {
    // Two entries when the request changes transport (or address), so each side routes to
    // the address it can reach (RFC 5658 double record-routing).
    transport::Address in_local = routableLocal(from.local, from.remote);
    e.addRecordRoute(ourRecordRoute(from.protocol, in_local));
    if (out.protocol != from.protocol || out.local.ip != in_local.ip)
      e.addRecordRoute(ourRecordRoute(out.protocol, out.local));
  }
  e.decrementMaxForwards();
  for (const std::string& p : path) e.addHeader("Route", p);
  return copy;
}

void EdgeWorker::proxyRequest(ServerId id, const sip::Message& request, const transport::Flow& from,
                              int route_popped) {
  // Next hop: the first Route left, else the Request-URI.
  std::optional<transport::Flow> target;
  if (request.headerCount(sip::HeaderId::kRoute) > 0) {
    const auto& routes = *request.routes();
    size_t next = size_t(route_popped);
    if (next < routes.size()) target = flowForUri(routes[next].uri, from);
  }
  if (!target) {
    const sip::Uri& ruri = request.requestUri();
    std::string aor = canonicalAor(ruri);
    // An in-dialog request whose Request-URI is one of our users' AORs (a UA that put the
    // AOR in Contact) still goes through the location service.
    if (!aor.empty() && shared_.options().self.servesDomain(ruri.host()) &&
        !common::ipLiteral(ruri.host()))
      return forkToBindings(id, aor, route_popped);
    target = flowForUri(ruri, from);
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
  cb.onResponse = [this, cid, index](const sip::Message& r) { onBranchResponse(cid, index, r); };
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

void EdgeWorker::onBranchResponse(uint64_t ctx_id, size_t index, const sip::Message& response) {
  auto it = proxies_.find(ctx_id);
  if (it == proxies_.end()) return;
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
    if (auto bytes = withoutTopVia(response)) (void)layer_->respond(ctx.server, std::move(*bytes));
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

void EdgeWorker::onAck(const sip::Message& ack, const transport::Flow& from) {
  // The ACK of a non-2xx response to a request sent by a stateless route follows it.
  int popped = 0;
  if (Trunk* trunk = statelessTrunk(ack, from, &popped))
    return forwardStateless(ack, from, *trunk, popped);
  // The end-to-end ACK of a 2xx: forwarded statelessly along its route (§16.11 in effect).
  const Self& self = shared_.options().self;
  int pop = 0;
  std::optional<transport::Flow> target;
  if (ack.headerCount(sip::HeaderId::kRoute) > 0) {
    const auto& routes = ack.routes();
    if (!routes) return;
    pop = ourLeadingRoutes(*routes, self);
    size_t next = size_t(pop);
    if (next < routes->size()) target = flowForUri((*routes)[next].uri, from);
  }
  if (!target) {
    const sip::Uri& ruri = ack.requestUri();
    if (self.isThisServer(ruri)) return;  // for us: nothing to do
    std::string aor = canonicalAor(ruri);
    if (!aor.empty() && self.servesDomain(ruri.host()) && !common::ipLiteral(ruri.host())) {
      auto bindings = shared_.location().lookup(aor, now());
      if (bindings.empty()) return;
      target = flowForBinding(bindings.front());
    } else {
      target = flowForUri(ruri, from);
    }
  }
  if (!target || !ack.vias()) return;
  // Stateless: the branch is a function of the request, so a retransmitted ACK gets the
  // same one (§16.11).
  const std::string branch = makeBranch(loopHash(ack), 0);
  auto msg = branchRequest(ack, from, *target, std::nullopt, {}, pop, false, &branch);
  if (!msg) return;
  shared_.counters().forwarded_stateless.fetch_add(1, std::memory_order_relaxed);
  sender_.send(*target, msg->serialize(), {});
}

void EdgeWorker::onStrayResponse(const sip::Message& response, const transport::Flow& from) {
  (void)from;
  // A 2xx retransmission after the client transaction ended: forwarded statelessly to the
  // Via below ours (§16.7 / §16.11), if the top Via is ours.
  const auto& vias = response.vias();
  if (!vias || vias->size() < 2) return;
  const sip::Via& top = (*vias)[0];
  auto branch = top.branch();
  if (!branch || !common::istartsWith(*branch, "z9hG4bKsb")) return;
  const sip::Via& next = (*vias)[1];
  transport::Flow f;
  auto proto = transport::protocolFromName(next.transport);
  f.protocol = proto.value_or(transport::Protocol::kUdp);
  auto host = next.received() ? *next.received() : next.host;
  auto ip = common::ipLiteral(host);
  if (!ip) return;
  f.remote.ip = *ip;
  auto rport = next.rport();
  f.remote.port = rport.value_or(next.port != 0 ? next.port : defaultPort(f.protocol));
  auto bytes = withoutTopVia(response);
  if (!bytes) return;
  shared_.counters().forwarded_stateless.fetch_add(1, std::memory_order_relaxed);
  sender_.send(f, std::move(*bytes), {});
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
