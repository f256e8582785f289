// The stateless rules of a SIP proxy (RFC 3261 §16), kept apart from the transaction
// machinery so each is unit-tested on a message built in the test: request validation
// (§16.3), recognising our own Route and Record-Route entries (§16.4), stamping the received
// Via (§18.2.1, RFC 3581), branch ids that detect loops (§16.6 item 8), and the choice of
// the response to forward among a fork's branches (§16.7).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sip/message.h"
#include "sip/uri.h"
#include "transport/flow.h"

namespace edge {

// What the proxy knows about itself: the addresses it listens on and the domains it serves
// (empty: any domain counts as served).
struct Self {
  std::vector<std::pair<transport::Protocol, transport::Address>> listeners;
  std::vector<std::string> domains;  // lower case
  // Host names this server is also known by (e.g. "sip.example.com"), lower case.
  std::vector<std::string> aliases;

  // True when `uri` names this server itself: one of its addresses (port absent or
  // matching) or an alias. Domains are not "this server": sip:alice@example.com is a user.
  bool isThisServer(const sip::Uri& uri) const;
  // True when the domain of `uri` is one this server is the registrar/proxy for.
  bool servesDomain(std::string_view host) const;
  // True when `via`'s sent-by could be this server's: an IP literal of one of its listeners
  // (any address for a wildcard listener) with a port it listens on for that transport.
  bool isOurSentBy(const sip::Via& via) const;
};

struct Reject {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
};

// §16.3: the checks before a proxy takes a request on. Returns the response to send, or
// nullopt. `supported` lists the option tags we implement (for Proxy-Require).
std::optional<Reject> validateForProxy(const sip::Message& request, const Self& self,
                                       const std::vector<std::string_view>& supported);

// The loop-detection part of our branch ids (RouteTokens::branch makes the whole id) (§16.6 item
// 8): a hash of what a loop repeats (Request-URI, Call-ID, From tag, To tag, CSeq number, top
// Route). `ignore_to_tag` gives the INVITE's hash for the ACK of a non-2xx response (which carries
// the response's tag).
std::string loopHash(const sip::Message& request, bool ignore_to_tag = false);
// The `unique` part of a stateless proxy's branch (§16.11): a hash of the incoming top Via
// (branch and sent-by), the same for a request's retransmissions, its CANCEL and the ACK
// of its non-2xx response, so each reaches the next hop's transaction.
uint64_t statelessUnique(const sip::Message& request);
// §16.3 item 4: a Via of ours carrying this request's loop hash means it came back unchanged:
// a loop (482). A Via of ours with another hash is a spiral and fine.
bool isLoop(const sip::Message& request, const Self& self, std::string_view loop_hash);

// The topmost Via rewritten as §18.2.1 and RFC 3581 ask: received= when the source address
// differs from the sent-by host, rport=<source port> when the client asked for it. nullopt
// when nothing needs stamping.
std::optional<std::string> stampedVia(const sip::Via& via, const transport::Address& source);

// `local` itself, or when it is a wildcard (0.0.0.0, ::) the address this host sends from
// toward `remote` (what the kernel's route picks), with local's port. Via and Record-Route
// must name a reachable address, never the wildcard.
transport::Address routableLocal(const transport::Address& local, const transport::Address& remote);

// "SIP/2.0/UDP 192.0.2.1:5060;branch=...;rport" for a request we send over `flow`.
std::string ourVia(const transport::Flow& flow, std::string_view branch);
// "<sip:192.0.2.1:5060;transport=tcp;lr;sbd=TOKEN>" naming this server on `local` over
// `protocol`; `dialog_token` (RouteTokens::dialogToken) is left out when empty.
std::string ourRecordRoute(transport::Protocol protocol, const transport::Address& local,
                           std::string_view dialog_token = {});

// §16.7 step 6: the best final response among a fork's branches. Returns the index into
// `statuses` of the one to forward (6xx first, then the lowest class, 4xx preferring
// 401/407/415/420/484 over 408 and 503, and 503 mapped to 500 by the caller).
size_t chooseBestResponse(const std::vector<int>& statuses);

}  // namespace edge
