// The SIP edge as a transaction user: registrar (§10) with digest authentication, and a
// stateful forking proxy (§16) to the registered contacts, with loose routing and
// Record-Route. One EdgeWorker runs on each SIP worker, above that worker's
// TransactionLayer; they share an EdgeShared (location service, nonces, store access),
// whose parts are thread-safe. For SMS over SIP MESSAGE (RFC 3428), a MESSAGE from a trunk
// to a number goes to EdgeShared's InboundMessageHook instead of being proxied, and
// EdgeWorker::sendMessage() sends one to a trunk's gateways.
// edge.cc dispatches; each flow has its own file: registrar_flow.cc, proxy_flow.cc,
// stateless_flow.cc, message_flow.cc and probes.cc (OPTIONS, NAT pings, gateway probes).
//
//   edge::EdgeShared shared(options, edge_store);
//   edge::EdgeWorker worker(shared, post_to_this_loop);
//   transaction::TransactionLayer layer(sender, timers, {}, worker, {.detect_merged = false});
//   worker.attach(layer);
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "edge/digest_auth.h"
#include "edge/location.h"
#include "edge/persistence.h"
#include "edge/proxy_rules.h"
#include "edge/registrar.h"
#include "edge/route_tokens.h"
#include "edge/routing.h"
#include "transaction/timers.h"
#include "transaction/transaction_layer.h"
#include "transport/flow.h"

namespace edge {

struct EdgeOptions {
  Self self;  // listeners (filled once they are bound), domains, aliases
  bool auth_register = true;
  bool auth_calls = true;
  DigestAuth::Options digest;
  RegistrarOptions registrar;
  // Bindings committed to the store before the 200 (and reloaded at start); false keeps
  // them in memory only, as Kamailio's usrloc in db_mode 0.
  bool persist_registrations = true;
  // Served domains answered by redirect (302) instead of proxying; lower case.
  std::vector<std::string> redirect_domains;
  // Listeners that take REGISTER only; every other method is answered 501 there.
  std::vector<std::pair<transport::Protocol, transport::Address>> registrar_only;
  // Timer C (§16.6 step 11): how long a proxied INVITE may ring on one branch before the
  // branch is cancelled and counts as a 408 (no answer).
  std::chrono::milliseconds timer_c{std::chrono::minutes(3)};
  // A call sent to a trunk gateway that has not answered even provisionally in this time
  // fails over to the next gateway (and the gateway is taken out until a probe succeeds).
  std::chrono::milliseconds gateway_timeout{std::chrono::seconds(5)};
  // How long an OPTIONS probe of a gateway may take before it counts as failed.
  std::chrono::milliseconds probe_timeout{std::chrono::seconds(4)};
  // An inbound MESSAGE the hook has not answered in this time gets 500 with Retry-After (the
  // carrier's transaction gives up at 32 s; an answer after that is useless).
  std::chrono::milliseconds message_hook_timeout{std::chrono::seconds(20)};
  // The Server header of responses generated here.
  std::string user_agent = "Switchboard";
};

// A MESSAGE (RFC 3428) a trunk sent to one of our numbers: an SMS from the carrier's network.
struct InboundMessageInfo {
  std::string trunk;  // the SIP trunk whose access list holds the source
  std::string from;   // the From user: "+<digits>" when it is a number, else as sent
  std::string to;     // the Request-URI's number, "+<digits>"
  std::string body;   // UTF-8 (ISO-8859-1 bodies are converted)
  std::string call_id;
};
// Called on a SIP worker for each new MESSAGE from a trunk to a number; must not block.
// `respond(status)` answers it (202 or 200: taken; 500: not stored, the carrier retries
// later, so Retry-After goes with it); it may be called once, from any thread.
using InboundMessageHook =
    std::function<void(const InboundMessageInfo& info, std::function<void(int status)> respond)>;

// A MESSAGE sent by this server to a SIP trunk (outbound SMS).
struct OutboundMessage {
  std::string trunk;  // SIP trunk name
  std::string from;   // user part of the From URI ("+15005550006")
  std::string to;     // user part of the Request-URI and To ("+4930123456")
  std::string body;
  std::string content_type = "text/plain;charset=UTF-8";
};
// The outcome of an OutboundMessage: the final status, or 0 when it left but no final
// response came (every gateway tried timed out or failed after one of them may have got
// it), or -1 when it never left (unknown trunk, every gateway unreachable). `call_id` is the
// Call-ID it was sent with ("" when it never left).
struct OutboundMessageResult {
  int status = 0;
  std::string reason;
  std::string call_id;
};

// Counters every worker adds to; read by status and metrics.
struct EdgeCounters {
  std::atomic<uint64_t> registers{0};
  std::atomic<uint64_t> registers_ok{0};
  std::atomic<uint64_t> challenges{0};     // 401 and 407 sent
  std::atomic<uint64_t> auth_failures{0};  // wrong password, unknown user, replay
  std::atomic<uint64_t> stale_nonces{0};
  std::atomic<uint64_t> proxied{0};  // requests forwarded statefully
  std::atomic<uint64_t> forwarded_stateless{0};
  std::atomic<uint64_t> rejected{0};  // 4xx/5xx generated by the edge
  std::atomic<uint64_t> store_errors{0};
  std::atomic<uint64_t> nat_pings{0};
  std::atomic<uint64_t> trunk_calls{0};      // new requests routed to a trunk
  std::atomic<uint64_t> trunk_failovers{0};  // branches retried on another gateway
  std::atomic<uint64_t> trunk_inbound{0};    // requests accepted by a trunk's ACL
  std::atomic<uint64_t> probes{0};
  std::atomic<uint64_t> stateless_routed{0};  // requests sent on by a stateless route
  std::atomic<uint64_t> messages_in{0};       // MESSAGEs from trunks handed to the hook
  std::atomic<uint64_t> messages_out{0};      // MESSAGEs sent to trunks (not counting failover)
  // In-dialog requests and ACKs not through a Record-Route of ours, and requests with a Route
  // set beyond us that nothing authorises: refused (403) or, for ACKs, dropped.
  std::atomic<uint64_t> relay_denied{0};
  // Responses matching no transaction whose top Via is not ours (sent-by and branch MAC).
  std::atomic<uint64_t> stray_dropped{0};
};

class EdgeShared {
 public:
  EdgeShared(EdgeOptions options, EdgeStore& store);

  const EdgeOptions& options() const { return options_; }
  EdgeOptions& mutableOptions() { return options_; }  // before the workers start
  Location& location() { return location_; }
  DigestAuth& auth() { return auth_; }
  // The MACs in our branches and Record-Routes (keyed by options().digest.secret).
  const RouteTokens& tokens() const { return tokens_; }
  EdgeStore& store() { return store_; }
  EdgeCounters& counters() { return counters_; }
  // Trunks and prefix routes; null when none are configured. Set before the workers start.
  Routing* routing() { return routing_.get(); }
  void setRouting(std::unique_ptr<Routing> routing) { routing_ = std::move(routing); }
  // MESSAGEs from trunks to numbers go to `hook` instead of being proxied. Set before the
  // workers start; without one they are proxied as any request from a trunk.
  void setInboundMessageHook(InboundMessageHook hook) { message_hook_ = std::move(hook); }
  const InboundMessageHook& inboundMessageHook() const { return message_hook_; }

  // Loads the stored bindings into the location service (blocking; at start).
  common::Status loadBindings(int64_t now);

 private:
  EdgeOptions options_;
  EdgeStore& store_;
  Location location_;
  DigestAuth auth_;
  RouteTokens tokens_;
  EdgeCounters counters_;
  std::unique_ptr<Routing> routing_;
  InboundMessageHook message_hook_;
};

class EdgeWorker final : public transaction::TransactionUser {
 public:
  using Post = std::function<void(std::function<void()>)>;
  using Clock = std::function<int64_t()>;  // unix seconds

  // `post` runs a function later on this worker's thread (results of store calls);
  // `sender` carries what is forwarded statelessly (2xx ACKs, stray 2xx retransmissions).
  EdgeWorker(EdgeShared& shared, transaction::Sender& sender, transaction::Timers& timers,
             Post post, Clock clock = {});
  ~EdgeWorker() override;
  void attach(transaction::TransactionLayer& layer) { layer_ = &layer; }
  // Messages are handed to the worker that owns their Call-ID: a request this worker starts
  // itself (a gateway probe) needs a Call-ID it owns, or its answers reach another worker.
  void setCallIdOwner(std::function<bool(std::string_view call_id)> owns) {
    owns_call_id_ = std::move(owns);
  }

  void onRequest(transaction::ServerId id, const sip::Message& request,
                 const transport::Flow& from) override;
  bool takeStateless(sip::Message& request, const transport::Flow& from) override;
  void onCancel(transaction::ServerId invite) override;
  void onAck(const sip::Message& ack, const transport::Flow& from) override;
  void onStrayResponse(const sip::Message& response, const transport::Flow& from) override;
  void onServerTransportError(transaction::ServerId id, const common::Status& error) override;

  size_t activeProxies() const { return proxies_.size(); }

  // Sends a MESSAGE to trunk `message.trunk`'s gateways in the dispatcher's order, failing
  // over as a call does (408, 503, a transport error, or no answer within gateway_timeout;
  // the gateway is then counted as failed). `done` runs once, on this worker (never inside
  // this call); a worker destroyed first runs it with status 0 (or -1 when nothing left).
  // Call on this worker's thread.
  void sendMessage(OutboundMessage message, std::function<void(OutboundMessageResult)> done);
  size_t pendingMessages() const { return messages_.size(); }

  // Sends an OPTIONS to every UDP binding behind NAT, through the flow it registered from,
  // so the NAT keeps the pinhole open (the answers are absorbed). Returns how many.
  size_t pingNatBindings();
  // Sends an OPTIONS probe to every gateway of a probed trunk whose interval has passed;
  // answers and silences update the dispatcher's health. Returns how many were sent.
  size_t probeGateways(std::chrono::steady_clock::time_point now);
  // Whether a binding is reached through its registration flow rather than its Contact.
  static bool behindNat(const Binding& b);

 private:
  struct Branch;
  struct ProxyContext;
  struct MessageSend;

  int64_t now() const;
  // Runs a store completion on this worker's loop, unless the worker is gone by then.
  EdgeStore::Back backHere();
  // A response generated here; reject() also counts it as a refusal.
  void answer(transaction::ServerId id, int status, std::string_view reason = {},
              const std::vector<std::pair<std::string, std::string>>& headers = {});
  void reject(transaction::ServerId id, int status, std::string_view reason = {},
              const std::vector<std::pair<std::string, std::string>>& headers = {});
  void challenge(transaction::ServerId id, sip::HeaderId response_header, int status,
                 std::string_view realm, bool stale);
  // Runs digest authentication; `then` runs (maybe later) only when it succeeded.
  void authenticate(transaction::ServerId id, const sip::Message& request, bool proxy_auth,
                    std::string realm, std::function<void(const std::string& user)> then);

  // Whether `from` arrived on a listener configured as registrar-only.
  bool onRegistrarOnlyListener(const transport::Flow& from) const;
  void handleRegister(transaction::ServerId id, const sip::Message& request,
                      const transport::Flow& from);
  void finishRegister(transaction::ServerId id, const std::string& auth_user);
  void handleOptionsToUs(transaction::ServerId id);
  // A MESSAGE from `trunk` to `number`: checked and handed to the inbound message hook.
  void handleInboundMessage(transaction::ServerId id, const sip::Message& request,
                            const Trunk& trunk, const std::string& number);
  void messageAttempt(uint64_t send_id);
  void messageAttemptEnded(uint64_t send_id, uint64_t attempt, int status, std::string reason,
                           bool maybe_sent);
  void finishMessage(uint64_t send_id, OutboundMessageResult result);
  // A Call-ID this worker owns (see setCallIdOwner), made from `prefix`.
  std::string ownedCallId(const std::string& prefix);
  // An in-dialog request through our Record-Route: to its next Route, else its target.
  void proxyRequest(transaction::ServerId id, const sip::Message& request, int route_popped);
  // To the AOR's bindings; when it has none, to `fallback` (the trunk `dialled` is routed
  // to) if there is one, else 480.
  void forkToBindings(transaction::ServerId id, const std::string& aor, int route_popped,
                      const std::string& dialled = {}, Trunk* fallback = nullptr);
  void dispatchToTrunk(transaction::ServerId id, Trunk& trunk, const std::string& dialled,
                       int route_popped);
  void redirect(transaction::ServerId id, const std::string& aor);

  // Stateless routes (§16.11). The trunk `request` goes to by a stateless route, or nullptr
  // when it is handled statefully: only new requests (and the CANCEL and non-2xx ACK of
  // one) addressed to a served domain or to this server, not from a trunk, for a number no
  // registered user of ours answers, that pass the proxy's checks (a request failing them
  // goes the stateful way, which answers it). Sets the count of leading Routes naming us.
  Trunk* statelessTrunk(const sip::Message& request, const transport::Flow& from,
                        int* route_popped) const;
  // Forwards to the trunk's gateway for this Call-ID with a branch made from the request.
  void forwardStateless(const sip::Message& request, const transport::Flow& from, Trunk& trunk,
                        int route_popped);
  // A request taken for stateless forwarding that needs the stateful path after all (its
  // credentials failed): given back to the layer, which makes a transaction this time.
  void handBack(sip::Message&& request, const transport::Flow& from);

  // In-dialog requests and what is relayed without a transaction (dialog_flow.cc).
  // Whether one of the `route_popped` leading Routes (ours) carries our token for this
  // request's dialog (its Call-ID and the From or To tag): the dialog was record-routed here.
  bool throughOurRecordRoute(const sip::Message& request, int route_popped) const;
  // §16.7 step 5: a 2xx to a proxied INVITE goes upstream, also after its context ended:
  // through server transaction `server` while it lasts, else by the Via below ours.
  void relay2xx(transaction::ServerId server, const sip::Message& response);
  // A response forwarded statelessly to the Via below our own (§16.11), which must be ours:
  // one of our addresses as sent-by and a branch with our MAC. Returns whether it went.
  bool forwardByVia(const sip::Message& response);

  void startGroup(ProxyContext& ctx);
  void startBranch(ProxyContext& ctx, size_t index);
  void onBranchResponse(uint64_t ctx_id, size_t index, transaction::ServerId server,
                        const sip::Message& response);
  void onBranchFailure(uint64_t ctx_id, size_t index, int status);
  void maybeFinish(ProxyContext& ctx);
  void finishContext(uint64_t ctx_id);
  void addContext(std::unique_ptr<ProxyContext> ctx);
  void armTimerC(ProxyContext& ctx, size_t index);
  void onTimerC(uint64_t ctx_id, size_t index);

  // The flow to reach a registered contact: its own address when it is reachable as written,
  // else the flow the REGISTER came from (NAT).
  transport::Flow flowForBinding(const Binding& b) const;
  // The flow for a URI of a route or Request-URI (IP literals only; names are not resolved):
  // transport as RFC 3263 §4.1 chooses it (transport= wins, sips: is TLS, else UDP), never
  // the transport the request happened to arrive on.
  std::optional<transport::Flow> flowForUri(const sip::Uri& uri) const;
  // The flow for the remote target of an in-dialog request: the registration flow of the
  // binding whose Contact it is (NAT, a TCP connection from an ephemeral port), else as
  // flowForUri().
  std::optional<transport::Flow> flowForTarget(const sip::Uri& uri) const;
  // A flow from one of our listeners of `protocol` (and `ip`'s family) to `remote`.
  transport::Flow flowTo(transport::Protocol protocol, const transport::Address& remote) const;
  // An out-of-dialog OPTIONS from this server to `uri` over `flow` (keep-alives, probes).
  std::string optionsRequest(const std::string& uri, const transport::Flow& flow);
  // Removes the Proxy-Authorization fields for the realm we authenticated the caller in.
  void consumeOurCredentials(const sip::Message& request, sip::MessageEdits& edits) const;
  // `request` re-parsed with the proxy's edits for one branch, ready to send.
  common::Result<sip::Message> branchRequest(
      const sip::Message& request, const transport::Flow& from, const transport::Flow& target,
      std::optional<std::string> new_ruri, const std::vector<std::string>& path, int pop_route,
      bool record_route, const std::string* branch = nullptr);

  EdgeShared& shared_;
  transaction::Sender& sender_;
  transaction::Timers& timers_;
  Post post_;
  Clock clock_;
  transaction::TransactionLayer* layer_ = nullptr;
  std::function<bool(std::string_view)> owns_call_id_;
  uint64_t next_context_ = 1;
  uint64_t branch_counter_ = 0;
  bool stateful_only_ = false;  // while handBack() gives a request to the layer
  std::map<uint64_t, std::unique_ptr<ProxyContext>> proxies_;
  std::map<transaction::ServerId, uint64_t> context_of_server_;
  uint64_t next_message_ = 1;
  std::map<uint64_t, std::unique_ptr<MessageSend>> messages_;
  // Lives as long as this worker; store callbacks check it before touching the worker.
  std::shared_ptr<char> alive_ = std::make_shared<char>(0);
};

}  // namespace edge
