// What the edge's flow files share (edge.cc, registrar_flow.cc, proxy_flow.cc,
// stateless_flow.cc, message_flow.cc, probes.cc): the private state of EdgeWorker's proxied
// requests and outbound MESSAGEs, and the small SIP helpers more than one flow uses.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edge/edge.h"
#include "edge/routing.h"
#include "sip/message.h"

namespace edge::internal {

// Option tags a proxy may be asked to understand (Proxy-Require).
inline const std::vector<std::string_view> kProxySupported = {"path", "outbound"};

// RFC 3263 §4.1 for a URI whose host is an IP literal: its transport= parameter, else TLS
// for sips:, else UDP -- never the transport of the leg a request happened to arrive on.
inline transport::Protocol protocolForUri(const sip::Uri& uri) {
  const bool secure = uri.scheme() == sip::UriScheme::kSips;
  if (auto t = uri.transport()) {
    if (auto p = transport::protocolFromName(*t)) {
      if (!secure) return *p;
      return *p == transport::Protocol::kWs || *p == transport::Protocol::kWss
                 ? transport::Protocol::kWss
                 : transport::Protocol::kTls;
    }
  }
  return secure ? transport::Protocol::kTls : transport::Protocol::kUdp;
}

inline uint16_t defaultPort(transport::Protocol p) {
  return p == transport::Protocol::kTls ? 5061 : 5060;
}

// The response to forward upstream: the branch's response without our Via.
inline std::optional<std::string> withoutTopVia(const sip::Message& response) {
  auto copy = sip::Message::parse(response.raw());
  if (!copy) return std::nullopt;
  copy->edits().popVia();
  return copy->serialize();
}

// The number a request dials: the user part of a sip:/sips: URI or a tel: number, without
// parameters and visual separators (RFC 3966 §5.1.1); empty when that is not a number.
inline std::string dialledNumber(const sip::Uri& uri) {
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
inline int ourLeadingRoutes(const sip::NameAddrList& routes, const Self& self) {
  int n = 0;
  while (n < 2 && size_t(n) < routes.size() && self.isThisServer(routes[size_t(n)].uri)) ++n;
  return n;
}

// A URI naming gateway `gw`, with `user` (a dialled number) when not empty.
inline std::string gatewayUri(const Gateway& gw, std::string_view user = {}) {
  std::string ruri = "sip:";
  if (!user.empty()) ruri.append(user).push_back('@');
  ruri += gw.address.toString();
  if (gw.protocol != transport::Protocol::kUdp)
    ruri += ";transport=" + std::string(transport::configName(gw.protocol));
  return ruri;
}

// Requests that may start a dialog, whose route set a proxy joins by Record-Route.
inline bool startsDialog(sip::Method m) {
  return m == sip::Method::kInvite || m == sip::Method::kSubscribe;
}

inline bool failsOver(int status) {
  return status == 408 || status == 503;
}

inline std::string randomTag() {
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
inline std::string e164(std::string_view dialled) {
  std::string_view digits = dialled.substr(!dialled.empty() && dialled[0] == '+' ? 1 : 0);
  if (digits.empty() || digits.size() > 15) return {};
  return "+" + std::string(digits);
}

}  // namespace edge::internal

namespace edge {

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
  transaction::ServerId server = 0;
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

}  // namespace edge
