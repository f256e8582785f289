// RFC 3261 §17 client and server transactions (with RFC 6026's Accepted state and RFC 3581
// rport), one TransactionLayer per worker thread. Inbound messages enter through receive();
// new requests go up to a TransactionUser, which answers through respond() at any later time;
// requests the TU sends go out through sendRequest(). The network is reached only through
// Sender and time only through Timers, so the layer is tested with fakes.
//
//   transaction::TransactionLayer layer(sender, timers, {}, tu);
//   layer.receive(std::move(msg), flow);               // -> tu.onRequest(id, request, flow)
//   layer.respond(id, 486);                            // later, maybe after a database call
//   auto cid = layer.sendRequest(std::move(invite), target, {.onResponse = ...});
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/result.h"
#include "sip/message.h"
#include "transaction/timers.h"
#include "transport/flow.h"

namespace transaction {

// The transport as the transaction layer sees it. `done` reports whether the bytes left
// (a failed TCP connect, an unreachable host); it may be called inside send() or later, on
// the layer's thread.
class Sender {
 public:
  using Done = std::function<void(const common::Status&)>;
  virtual ~Sender() = default;
  virtual void send(const transport::Flow& flow, std::string bytes, Done done) = 0;
};

struct TimerConfig {
  std::chrono::milliseconds t1{500};   // RTT estimate
  std::chrono::milliseconds t2{4000};  // cap of the non-INVITE / response retransmit interval
  std::chrono::milliseconds t4{5000};  // how long a message lingers in the network
  // Timer D (INVITE client, Completed, unreliable): at least 32 s.
  std::chrono::milliseconds d{32000};
  // Delay of the automatic 100 Trying to an INVITE (§17.2.1). 0 (a proxy's choice): sent as
  // the INVITE arrives, before the TU sees it. Otherwise sent only if the TU has not
  // answered by then (a UAS that answers within 200 ms needs no 100).
  std::chrono::milliseconds trying{0};
};

struct LayerOptions {
  // Answer merged requests (§8.2.2.2) with 482. A proxy that forks turns it off.
  bool detect_merged = true;
  // Send 100 Trying for INVITEs (see TimerConfig::trying).
  bool send_trying = true;
};

using ServerId = uint64_t;  // 0: none
using ClientId = uint64_t;  // 0: none

// The element above the transaction layer (registrar, proxy, UAS). Calls arrive on the
// layer's thread; the TU may call back into the layer from inside them.
class TransactionUser {
 public:
  virtual ~TransactionUser() = default;
  // A new request (never ACK or CANCEL). Answer with TransactionLayer::respond(id, ...), now
  // or later; `request` stays valid until the transaction ends (TransactionLayer::request).
  virtual void onRequest(ServerId id, const sip::Message& request, const transport::Flow& from) = 0;
  // Offered each request (not ACK) that matches no server transaction — a new request, a
  // retransmission of one taken before, a CANCEL matching no INVITE — before a transaction
  // is made for it. Returning true takes it: the TU forwards it statelessly (§16.11) and may
  // move from `request`; the layer makes no transaction, sends no 100 Trying and no 481.
  virtual bool takeStateless(sip::Message& /*request*/, const transport::Flow& /*from*/) {
    return false;
  }
  // A CANCEL matched INVITE transaction `invite`, which has no final response yet. The layer
  // has answered the CANCEL with 200; the TU ends the INVITE, e.g. answerCancelled(invite)
  // (a proxy cancels its branches first).
  virtual void onCancel(ServerId /*invite*/) {}
  // An ACK that belongs to no INVITE transaction awaiting one: the end-to-end ACK of a 2xx.
  virtual void onAck(const sip::Message& /*ack*/, const transport::Flow& /*from*/) {}
  // Timer H: the ACK for a 3xx-6xx to INVITE `id` never came (§17.2.1).
  virtual void onAckTimeout(ServerId /*id*/) {}
  // A response no client transaction matches (e.g. a 2xx retransmission a proxy forwards
  // statelessly, §16.7).
  virtual void onStrayResponse(const sip::Message& /*response*/, const transport::Flow& /*from*/) {}
  // A response could not be sent (§17.2.4); the transaction is ended (if it was not yet).
  virtual void onServerTransportError(ServerId /*id*/, const common::Status& /*error*/) {}
};

// Per client transaction; any callback may be empty.
struct ClientCallbacks {
  // Each provisional and the final response (and, for INVITE, every 2xx while Accepted).
  std::function<void(const sip::Message&)> onResponse;
  // Timer B or F: no final response (the TU acts as on a 408).
  std::function<void()> onTimeout;
  // The Sender reported a failure (the TU fails over as on a 503).
  std::function<void(const common::Status&)> onTransportError;
};

struct Counters {
  uint64_t server_created = 0;
  uint64_t server_terminated = 0;
  uint64_t client_created = 0;
  uint64_t client_terminated = 0;
  uint64_t retransmissions = 0;  // requests and responses sent again (timers A, E, G; repeats)
  uint64_t absorbed = 0;         // retransmitted requests/responses that went no further
  uint64_t timeouts = 0;         // timers B, F, H
  uint64_t transport_errors = 0;
  uint64_t stray_responses = 0;
  uint64_t merged_rejected = 0;  // 482
  uint64_t malformed = 0;        // no Via/CSeq/Call-ID/From/To: dropped
  uint64_t stateless = 0;        // requests the TU took to forward statelessly
};

// One per worker thread and not thread-safe: the transport hands every message of a Call-ID
// to the same worker, and the TU calls back on that thread (posting results of blocking work).
class TransactionLayer {
 public:
  using HeaderList = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  TransactionLayer(Sender& sender, Timers& timers, TimerConfig config, TransactionUser& tu,
                   LayerOptions options = {});
  ~TransactionLayer();
  TransactionLayer(const TransactionLayer&) = delete;
  TransactionLayer& operator=(const TransactionLayer&) = delete;

  // Every inbound request and response, parsed, with the flow it came on.
  void receive(sip::Message&& msg, const transport::Flow& from);

  // --- Server side -------------------------------------------------------------------
  // A response to server transaction `id`: wire bytes, a message (a proxy's forwarded
  // response with its Via popped), or built here with sip::ResponseBuilder (a To tag, one per
  // transaction, is added when the request had none). Errors: kNotFound (transaction gone,
  // e.g. timed out or cancelled), kInvalidArgument (not a response, or not allowed in the
  // transaction's state, e.g. a second final).
  common::Status respond(ServerId id, std::string bytes);
  common::Status respond(ServerId id, const sip::Message& response);
  common::Status respond(ServerId id, int status, std::string_view reason = {},
                         HeaderList headers = {});
  // The same with headers computed at run time (challenges, Contacts of a redirect).
  common::Status respondWith(ServerId id, int status, std::string_view reason,
                             const std::vector<std::pair<std::string, std::string>>& headers);
  // 487 Request Terminated for a cancelled INVITE.
  common::Status answerCancelled(ServerId id) { return respond(id, 487); }
  // The request of a live server transaction, or nullptr.
  const sip::Message* request(ServerId id) const;
  // The flow a response to `id` is sent on (§18.2.2, see responseFlow()).
  const transport::Flow* responseFlow(ServerId id) const;

  // --- Client side -------------------------------------------------------------------
  // Sends a request (not ACK) as a new client transaction to `target`. The top Via must
  // carry a branch from newBranch(). Edits recorded on the message are applied.
  common::Result<ClientId> sendRequest(sip::Message&& request, const transport::Flow& target,
                                       ClientCallbacks cb);
  common::Result<ClientId> sendRequest(std::string_view bytes, const transport::Flow& target,
                                       ClientCallbacks cb);
  // CANCELs INVITE client transaction `id` (§9.1): at once if a provisional response has
  // arrived, else when one does. The 487 arrives through the INVITE's onResponse; with no
  // final 64*T1 after the CANCEL, onTimeout. Error kUnsupported when a final response has
  // already arrived (nothing to cancel; harmless). An INVITE in Proceeding has no timeout of
  // its own (timer B stops at the first provisional): the TU runs timer C and cancels.
  common::Status cancel(ClientId id);
  // "z9hG4bK" + 16 random hex digits.
  std::string newBranch();

  // --- Introspection -------------------------------------------------------------------
  size_t size() const { return servers_.size() + clients_.size(); }
  size_t serverCount() const { return servers_.size(); }
  size_t clientCount() const { return clients_.size(); }
  const Counters& counters() const { return counters_; }

  // Where responses to a request that came on `from` go (§18.2.2, RFC 3581): reliable
  // transports answer on the same connection; over UDP, rport -> the source address and
  // port; else maddr (an IP literal) with the sent-by port; else the source address (which
  // equals sent-by, or is what received= would say) with the sent-by port, default 5060.
  // Host names are never resolved here.
  static transport::Flow responseFlow(const sip::Via& top, const transport::Flow& from);

 private:
  struct ServerTx;
  struct ClientTx;

  void receiveRequest(sip::Message&& msg, const transport::Flow& from);
  void receiveResponse(const sip::Message& msg, const transport::Flow& from);
  void handleAck(const sip::Message& ack, const transport::Flow& from, const std::string& key);
  void handleCancel(sip::Message&& cancel, const transport::Flow& from, std::string key);
  void handleRetransmission(ServerTx& tx);
  ServerTx& createServer(sip::Message&& msg, const transport::Flow& from, std::string key,
                         std::string merge_key);
  common::Status respondTo(ServerTx& tx, int status, std::string bytes);
  // Responses generated here: the transaction's To tag, the request's top Via stamped with
  // received= and rport= (RFC 3581 §4), and `headers`.
  template <typename Headers>
  std::string buildResponse(ServerTx& tx, int status, std::string_view reason,
                            const Headers& headers);
  template <typename Headers>
  common::Status respondBuilt(ServerId id, int status, std::string_view reason,
                              const Headers& headers);
  void serverTimerG(ServerId id);
  void serverTimeoutH(ServerId id);
  void serverSendFailed(ServerId id, const common::Status& error);
  void destroyServer(ServerId id);
  void releaseRequest(ServerId id);

  void clientRetransmit(ClientId id);
  void clientTimeout(ClientId id);
  void sendCancel(ClientTx& tx);
  void clientSendFailed(ClientId id, const common::Status& error);
  void destroyClient(ClientId id);

  // Sends through sender_; a failure runs `on_error` later (never inside this call).
  void transmit(const transport::Flow& flow, std::string bytes,
                std::function<void(const common::Status&)> on_error);
  TimerId after(std::chrono::milliseconds delay, void (TransactionLayer::*fn)(uint64_t),
                uint64_t id);
  std::string randomHex();

  Sender& sender_;
  Timers& timers_;
  TimerConfig config_;
  TransactionUser& tu_;
  LayerOptions options_;
  Counters counters_;
  std::unordered_map<ServerId, std::unique_ptr<ServerTx>> servers_;
  std::unordered_map<std::string, ServerId> server_keys_;  // §17.2.3 key -> transaction
  std::unordered_map<std::string, ServerId> merge_keys_;   // From tag, Call-ID, CSeq
  std::unordered_map<ClientId, std::unique_ptr<ClientTx>> clients_;
  std::unordered_map<std::string, ClientId> client_keys_;  // branch + CSeq method
  uint64_t next_id_ = 1;
  std::mt19937_64 rng_;
  // Expires with the layer, so late Sender completions are ignored.
  std::shared_ptr<char> alive_ = std::make_shared<char>(0);
};

}  // namespace transaction
