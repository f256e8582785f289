#include "transaction/transaction_layer.h"

#include <algorithm>
#include <optional>
#include <random>

#include "common/strings.h"
#include "sip/response.h"
#include "sip/validate.h"

namespace transaction {

using std::chrono::milliseconds;

enum class State : uint8_t {
  kTrying,      // server non-INVITE Trying; client Calling (INVITE) / Trying (non-INVITE)
  kProceeding,  // a provisional response was sent / received
  kCompleted,   // a final (3xx-6xx for INVITE) was sent / received
  kConfirmed,   // INVITE server: the ACK arrived (timer I)
  kAccepted,    // INVITE, RFC 6026: a 2xx was sent / received (timers L / M)
};

struct TransactionLayer::ServerTx {
  ServerId id = 0;
  bool invite = false;
  State state = State::kTrying;
  // Released once a non-INVITE final response is out: Completed only needs the key and
  // the response (timer J keeps them 32 s over UDP, and a REGISTER flood keeps many).
  std::optional<sip::Message> request;
  transport::Flow from;
  transport::Flow reply_to;
  std::string key;
  std::string merge_key;  // registered in merge_keys_ when not empty
  std::string last_response;
  std::string to_tag;
  milliseconds interval{0};  // timer G
  TimerId retransmit_timer = 0;
  TimerId end_timer = 0;  // H, I, J, L
  TimerId trying_timer = 0;

  explicit ServerTx(sip::Message&& m) : request(std::move(m)) {}
};

struct TransactionLayer::ClientTx {
  ClientId id = 0;
  bool invite = false;
  State state = State::kTrying;
  sip::Message request;
  std::string bytes;
  std::string ack;  // the ACK of a 3xx-6xx, sent again for each retransmitted final
  transport::Flow target;
  ClientCallbacks cb;
  std::string key;
  milliseconds interval{0};  // timers A, E
  TimerId retransmit_timer = 0;
  TimerId timeout_timer = 0;  // B, F
  TimerId end_timer = 0;      // D, K, M
  bool cancel_pending = false;
  bool cancel_sent = false;

  explicit ClientTx(sip::Message&& m) : request(std::move(m)) {}
};

namespace {

bool isIpLiteral(std::string_view host, boost::asio::ip::address& out) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  boost::system::error_code ec;
  out = boost::asio::ip::make_address(std::string(host), ec);
  return !ec;
}

// The status code of wire bytes ("SIP/2.0 486 Busy Here"), or 0.
int statusOf(std::string_view bytes) {
  if (bytes.size() < 12 || bytes.substr(0, 8) != "SIP/2.0 ") return 0;
  int code = 0;
  for (size_t i = 8; i < 11; ++i) {
    if (!common::isDigit(bytes[i])) return 0;
    code = code * 10 + (bytes[i] - '0');
  }
  return code;
}

// A Via value as a request carries it, rebuilt from its parsed form.
std::string viaText(const sip::Via& v) {
  std::string s;
  s.append(v.protocol_name).append("/").append(v.protocol_version).append("/");
  s.append(v.transport).append(" ").append(v.host);
  if (v.port != 0) s.append(":").append(std::to_string(v.port));
  for (const sip::Param& p : v.params) {
    s.append(";").append(p.name);
    if (p.hasValue()) s.append("=").append(p.value);
  }
  return s;
}

// §17.2.3. `method` is the request's, with ACK (and CANCEL, when looking for the INVITE it
// cancels) replaced by INVITE. Requests without the magic cookie fall back to a cheap form
// of the RFC 2543 rules: Request-URI, From tag, Call-ID, CSeq number and top Via (the To tag
// is not compared).
std::string serverKey(const sip::Message& m, std::string_view method) {
  const sip::Via& top = m.vias()->front();
  std::string key;
  if (top.hasRfc3261Branch()) {
    key.append(*top.branch()).append("|").append(common::toLower(top.host));
    key.append(":").append(std::to_string(top.port));
  } else {
    key.append("2543|").append(m.requestUriText()).append("|");
    key.append(m.from()->tag().value_or("")).append("|").append(*m.callId()).append("|");
    key.append(std::to_string(m.cseq()->number)).append("|").append(viaText(top));
  }
  key.append("|").append(method);
  return key;
}

std::string mergeKey(const sip::Message& m) {
  std::string key(m.from()->tag().value_or(""));
  key.append("|").append(*m.callId()).append("|").append(std::to_string(m.cseq()->number));
  key.append("|").append(m.cseq()->method);
  return key;
}

std::string clientKey(std::string_view branch, std::string_view method) {
  std::string key(branch);
  key.append("|").append(method);
  return key;
}

// Request line and the headers an ACK (§17.1.1.3) and a CANCEL (§9.1) copy from the INVITE.
std::string requestLike(const sip::Message& invite, std::string_view method,
                        std::string_view to_value) {
  std::string out;
  out.append(method).append(" ").append(invite.requestUriText()).append(" SIP/2.0\r\n");
  out.append("Via: ").append(viaText(invite.vias()->front())).append("\r\n");
  out.append("Max-Forwards: 70\r\n");
  out.append("From: ").append(invite.headerValue(sip::HeaderId::kFrom)).append("\r\n");
  out.append("To: ").append(to_value).append("\r\n");
  out.append("Call-ID: ").append(invite.headerValue(sip::HeaderId::kCallId)).append("\r\n");
  out.append("CSeq: ").append(std::to_string(invite.cseq()->number)).append(" ");
  out.append(method).append("\r\n");
  for (const sip::HeaderField& f : invite.headers()) {
    if (f.id == sip::HeaderId::kRoute) out.append("Route: ").append(f.value).append("\r\n");
  }
  out.append("Content-Length: 0\r\n\r\n");
  return out;
}

// The transport hands on only messages that passed sip::validate(); this is the same
// mandatory-header check (sip::checkMandatory, one definition) for messages that reach the
// layer another way (built locally, or fed by a test), so everything below may dereference
// Via, From, To, Call-ID and CSeq.
bool hasTransactionHeaders(const sip::Message& m) {
  return sip::checkMandatory(m).has_value();
}

}  // namespace

TransactionLayer::TransactionLayer(Sender& sender, Timers& timers, TimerConfig config,
                                   TransactionUser& tu, LayerOptions options)
    : sender_(sender),
      timers_(timers),
      config_(config),
      tu_(tu),
      options_(options),
      rng_(std::random_device{}()) {}

TransactionLayer::~TransactionLayer() {
  alive_.reset();
  for (auto& [id, tx] : servers_) {
    timers_.cancel(tx->retransmit_timer);
    timers_.cancel(tx->end_timer);
    timers_.cancel(tx->trying_timer);
  }
  for (auto& [id, tx] : clients_) {
    timers_.cancel(tx->retransmit_timer);
    timers_.cancel(tx->timeout_timer);
    timers_.cancel(tx->end_timer);
  }
}

std::string TransactionLayer::randomHex() {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t v = rng_();
  std::string s(16, '0');
  for (char& c : s) {
    c = kHex[v & 0xF];
    v >>= 4;
  }
  return s;
}

std::string TransactionLayer::newBranch() {
  return "z9hG4bK" + randomHex();
}

TimerId TransactionLayer::after(milliseconds delay, void (TransactionLayer::*fn)(uint64_t),
                                uint64_t id) {
  return timers_.schedule(delay, [this, fn, id] { (this->*fn)(id); });
}

void TransactionLayer::transmit(const transport::Flow& flow, std::string bytes,
                                std::function<void(const common::Status&)> on_error) {
  std::weak_ptr<char> alive = alive_;
  sender_.send(flow, std::move(bytes),
               [this, alive, on_error = std::move(on_error)](const common::Status& status) {
                 if (status || alive.expired()) return;
                 // Deferred: the Sender may report inside send(), while the caller still
                 // holds the transaction.
                 timers_.schedule(milliseconds(0), [alive, on_error, status] {
                   if (!alive.expired()) on_error(status);
                 });
               });
}

void TransactionLayer::receive(sip::Message&& msg, const transport::Flow& from) {
  if (!hasTransactionHeaders(msg)) {
    ++counters_.malformed;
    return;
  }
  if (msg.isResponse()) {
    receiveResponse(msg, from);
  } else {
    receiveRequest(std::move(msg), from);
  }
}

// ---------------------------------------------------------------------------------------
// Server transactions (§17.2)

transport::Flow TransactionLayer::responseFlow(const sip::Via& top, const transport::Flow& from) {
  transport::Flow to = from;
  if (transport::isReliable(from.protocol)) return to;  // same connection (§18.2.2)
  to.connection_id = 0;
  if (top.hasRport()) return to;  // RFC 3581: source address and port
  uint16_t port = top.port != 0 ? top.port : 5060;
  boost::asio::ip::address ip;
  if (auto maddr = top.maddr(); maddr && isIpLiteral(*maddr, ip)) {
    to.remote = {ip, port};
    return to;
  }
  // sent-by is either the source address or differs from it, and then received= (§18.2.1)
  // names the source address: the source address it is, with the sent-by port.
  to.remote.port = port;
  return to;
}

TransactionLayer::ServerTx& TransactionLayer::createServer(sip::Message&& msg,
                                                           const transport::Flow& from,
                                                           std::string key, std::string merge_key) {
  auto tx = std::make_unique<ServerTx>(std::move(msg));
  tx->id = next_id_++;
  tx->invite = tx->request->method() == sip::Method::kInvite;
  tx->state = tx->invite ? State::kProceeding : State::kTrying;
  tx->from = from;
  tx->reply_to = responseFlow(tx->request->vias()->front(), from);
  tx->key = std::move(key);
  server_keys_.emplace(tx->key, tx->id);
  if (!merge_key.empty()) {
    tx->merge_key = std::move(merge_key);
    merge_keys_.emplace(tx->merge_key, tx->id);
  }
  ++counters_.server_created;
  ServerTx& ref = *tx;
  servers_.emplace(tx->id, std::move(tx));
  return ref;
}

void TransactionLayer::receiveRequest(sip::Message&& msg, const transport::Flow& from) {
  const sip::Method method = msg.method();
  const std::string_view key_method =
      method == sip::Method::kAck ? std::string_view("INVITE") : msg.methodText();
  std::string key = serverKey(msg, key_method);
  if (method == sip::Method::kAck) {
    handleAck(msg, from, key);
    return;
  }
  if (auto it = server_keys_.find(key); it != server_keys_.end()) {
    handleRetransmission(*servers_.at(it->second));
    return;
  }
  if (method == sip::Method::kCancel) {
    handleCancel(std::move(msg), from, std::move(key));
    return;
  }
  if (tu_.takeStateless(msg, from)) {
    ++counters_.stateless;
    return;
  }
  std::string merge_key;  // kept only when merged requests are detected
  if (options_.detect_merged && !msg.to()->tag()) {
    merge_key = mergeKey(msg);
    if (merge_keys_.count(merge_key) != 0) {
      // Same request by another path (§8.2.2.2): its own transaction absorbs its
      // retransmissions and carries the 482.
      ServerTx& tx = createServer(std::move(msg), from, std::move(key), {});
      ++counters_.merged_rejected;
      (void)respond(tx.id, 482);
      return;
    }
  }
  ServerTx& tx = createServer(std::move(msg), from, std::move(key), std::move(merge_key));
  const ServerId id = tx.id;
  if (tx.invite && options_.send_trying) {
    if (config_.trying.count() == 0) {
      // After the TU has seen it: an INVITE the TU refuses at once (a challenge, a 403) gets
      // its final answer alone, and the client, still in Calling, keeps retransmitting until
      // that answer arrives -- so the answer need not be retransmitted (see respondTo).
      tu_.onRequest(id, *tx.request, tx.from);
      auto it = servers_.find(id);
      if (it != servers_.end() && it->second->state == State::kProceeding &&
          it->second->last_response.empty())
        (void)respond(id, 100);
      return;
    } else {
      tx.trying_timer = timers_.schedule(config_.trying, [this, id] {
        auto it = servers_.find(id);
        if (it == servers_.end()) return;
        it->second->trying_timer = 0;
        if (it->second->state == State::kProceeding && it->second->last_response.empty()) {
          (void)respond(id, 100);
        }
      });
    }
  }
  tu_.onRequest(id, *tx.request, tx.from);
}

void TransactionLayer::handleRetransmission(ServerTx& tx) {
  // INVITE: Proceeding resends the last provisional, Completed the final; Confirmed and
  // Accepted absorb (RFC 6026: the TU retransmits its 2xx). Non-INVITE: Trying absorbs.
  bool resend = !tx.last_response.empty() &&
                (tx.state == State::kProceeding || tx.state == State::kCompleted);
  if (!resend) {
    ++counters_.absorbed;
    return;
  }
  ++counters_.retransmissions;
  const ServerId id = tx.id;
  transmit(tx.reply_to, tx.last_response,
           [this, id](const common::Status& s) { serverSendFailed(id, s); });
}

void TransactionLayer::handleAck(const sip::Message& ack, const transport::Flow& from,
                                 const std::string& key) {
  auto it = server_keys_.find(key);
  if (it != server_keys_.end()) {
    ServerTx& tx = *servers_.at(it->second);
    if (tx.invite) {
      switch (tx.state) {
        case State::kCompleted:
          tx.state = State::kConfirmed;
          timers_.cancel(tx.retransmit_timer);
          timers_.cancel(tx.end_timer);
          tx.retransmit_timer = 0;
          tx.end_timer =
              after(transport::isReliable(tx.reply_to.protocol) ? milliseconds(0) : config_.t4,
                    &TransactionLayer::destroyServer, tx.id);
          return;
        case State::kConfirmed:
        case State::kProceeding:
          ++counters_.absorbed;
          return;
        default:  // Accepted: an ACK for the 2xx that reused the branch (RFC 2543 peers)
          break;
      }
    }
  }
  tu_.onAck(ack, from);
}

void TransactionLayer::handleCancel(sip::Message&& cancel, const transport::Flow& from,
                                    std::string key) {
  std::string invite_key = serverKey(cancel, "INVITE");
  if (server_keys_.count(invite_key) == 0 && tu_.takeStateless(cancel, from)) {
    ++counters_.stateless;
    return;
  }
  ServerTx& tx = createServer(std::move(cancel), from, std::move(key), {});
  const ServerId cancel_id = tx.id;
  auto it = server_keys_.find(invite_key);
  if (it == server_keys_.end()) {
    (void)respond(cancel_id, 481);
    return;
  }
  ServerTx& invite = *servers_.at(it->second);
  // §9.2: the 200 carries the To tag of the INVITE's responses.
  if (invite.to_tag.empty()) invite.to_tag = randomHex();
  tx.to_tag = invite.to_tag;
  const ServerId invite_id = invite.id;
  const bool pending = invite.state == State::kProceeding;
  (void)respond(cancel_id, 200);
  if (pending) tu_.onCancel(invite_id);
}

template <typename Headers>
std::string TransactionLayer::buildResponse(ServerTx& tx, int status, std::string_view reason,
                                            const Headers& headers) {
  sip::ResponseBuilder b(*tx.request, status, reason);
  b.receivedFrom(tx.from.remote.ip, tx.from.remote.port);
  if (status > 100 && !tx.request->to()->tag()) {
    if (tx.to_tag.empty()) tx.to_tag = randomHex();
    b.toTag(tx.to_tag);
  }
  for (const auto& [name, value] : headers) b.header(name, value);
  return b.build();
}

template <typename Headers>
common::Status TransactionLayer::respondBuilt(ServerId id, int status, std::string_view reason,
                                              const Headers& headers) {
  auto it = servers_.find(id);
  if (it == servers_.end()) {
    return common::makeError(common::ErrorCode::kNotFound, "no such server transaction");
  }
  if (!it->second->request) {
    return common::makeError(common::ErrorCode::kInvalidArgument, "final response already sent");
  }
  return respondTo(*it->second, status, buildResponse(*it->second, status, reason, headers));
}

common::Status TransactionLayer::respond(ServerId id, int status, std::string_view reason,
                                         HeaderList headers) {
  return respondBuilt(id, status, reason, headers);
}

common::Status TransactionLayer::respondWith(
    ServerId id, int status, std::string_view reason,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  return respondBuilt(id, status, reason, headers);
}

common::Status TransactionLayer::respond(ServerId id, std::string bytes) {
  auto it = servers_.find(id);
  if (it == servers_.end()) {
    return common::makeError(common::ErrorCode::kNotFound, "no such server transaction");
  }
  const int status = statusOf(bytes);
  return respondTo(*it->second, status, std::move(bytes));
}

common::Status TransactionLayer::respond(ServerId id, const sip::Message& response) {
  auto it = servers_.find(id);
  if (it == servers_.end()) {
    return common::makeError(common::ErrorCode::kNotFound, "no such server transaction");
  }
  if (!response.isResponse()) {
    return common::makeError(common::ErrorCode::kInvalidArgument, "not a response");
  }
  return respondTo(*it->second, response.statusCode(), response.serialize());
}

common::Status TransactionLayer::respondTo(ServerTx& tx, int status, std::string bytes) {
  if (status < 100 || status > 699) {
    return common::makeError(common::ErrorCode::kInvalidArgument, "not a response");
  }
  const bool reliable = transport::isReliable(tx.reply_to.protocol);
  const bool provisional = status < 200;
  if (tx.state == State::kAccepted) {
    // RFC 6026: the TU's 2xx retransmissions pass through.
    if (status < 200 || status > 299) {
      return common::makeError(common::ErrorCode::kInvalidArgument,
                               "2xx already sent: only 2xx retransmissions may follow");
    }
  } else if (tx.state != State::kTrying && tx.state != State::kProceeding) {
    return common::makeError(common::ErrorCode::kInvalidArgument, "final response already sent");
  } else if (provisional) {
    tx.state = State::kProceeding;
  } else if (tx.invite && status < 300) {
    tx.state = State::kAccepted;
    tx.end_timer = after(64 * config_.t1, &TransactionLayer::destroyServer, tx.id);  // L
  } else {
    tx.state = State::kCompleted;
    if (tx.invite) {
      // Timer G only once a provisional response went out: before that the client is in
      // Calling and retransmits its INVITE, and each copy gets this answer again (see
      // handleRetransmission). A forged source then gets one answer per request sent, never
      // a train of retransmissions (no amplification through answers to spoofed INVITEs).
      if (!reliable && !tx.last_response.empty()) {
        tx.interval = config_.t1;
        tx.retransmit_timer = after(tx.interval, &TransactionLayer::serverTimerG, tx.id);
      }
      tx.end_timer = after(64 * config_.t1, &TransactionLayer::serverTimeoutH, tx.id);
    } else {
      tx.end_timer = after(reliable ? milliseconds(0) : 64 * config_.t1,
                           &TransactionLayer::destroyServer, tx.id);  // J
      // Later on the loop, never inside this call: the TU may still hold the request.
      if (!reliable) after(milliseconds(0), &TransactionLayer::releaseRequest, tx.id);
    }
  }
  if (!provisional && tx.trying_timer != 0) {
    timers_.cancel(tx.trying_timer);
    tx.trying_timer = 0;
  }
  if (tx.state != State::kAccepted) tx.last_response = bytes;
  const ServerId id = tx.id;
  transmit(tx.reply_to, std::move(bytes),
           [this, id](const common::Status& s) { serverSendFailed(id, s); });
  return {};
}

void TransactionLayer::serverSendFailed(ServerId id, const common::Status& error) {
  // Told even when the transaction has already ended (reliable transports end it at once).
  ++counters_.transport_errors;
  destroyServer(id);
  tu_.onServerTransportError(id, error);
}

void TransactionLayer::serverTimerG(ServerId id) {
  auto it = servers_.find(id);
  if (it == servers_.end()) return;
  ServerTx& tx = *it->second;
  tx.retransmit_timer = 0;
  if (tx.state != State::kCompleted) return;
  ++counters_.retransmissions;
  tx.interval = std::min(2 * tx.interval, config_.t2);
  tx.retransmit_timer = after(tx.interval, &TransactionLayer::serverTimerG, id);
  transmit(tx.reply_to, tx.last_response,
           [this, id](const common::Status& s) { serverSendFailed(id, s); });
}

void TransactionLayer::serverTimeoutH(ServerId id) {
  if (servers_.count(id) == 0) return;
  ++counters_.timeouts;
  destroyServer(id);
  tu_.onAckTimeout(id);
}

void TransactionLayer::releaseRequest(ServerId id) {
  auto it = servers_.find(id);
  if (it != servers_.end() && it->second->state == State::kCompleted) it->second->request.reset();
}

void TransactionLayer::destroyServer(ServerId id) {
  auto it = servers_.find(id);
  if (it == servers_.end()) return;
  ServerTx& tx = *it->second;
  timers_.cancel(tx.retransmit_timer);
  timers_.cancel(tx.end_timer);
  timers_.cancel(tx.trying_timer);
  if (auto k = server_keys_.find(tx.key); k != server_keys_.end() && k->second == id) {
    server_keys_.erase(k);
  }
  if (!tx.merge_key.empty()) {
    if (auto k = merge_keys_.find(tx.merge_key); k != merge_keys_.end() && k->second == id) {
      merge_keys_.erase(k);
    }
  }
  servers_.erase(it);
  ++counters_.server_terminated;
}

const sip::Message* TransactionLayer::request(ServerId id) const {
  auto it = servers_.find(id);
  if (it == servers_.end() || !it->second->request) return nullptr;
  return &*it->second->request;
}

const transport::Flow* TransactionLayer::responseFlow(ServerId id) const {
  auto it = servers_.find(id);
  return it == servers_.end() ? nullptr : &it->second->reply_to;
}

// ---------------------------------------------------------------------------------------
// Client transactions (§17.1)

common::Result<ClientId> TransactionLayer::sendRequest(std::string_view bytes,
                                                       const transport::Flow& target,
                                                       ClientCallbacks cb) {
  auto msg = sip::Message::parse(bytes);
  if (!msg) return msg.error();
  return sendRequest(std::move(*msg), target, std::move(cb));
}

common::Result<ClientId> TransactionLayer::sendRequest(sip::Message&& request,
                                                       const transport::Flow& target,
                                                       ClientCallbacks cb) {
  using common::ErrorCode;
  if (!request.isRequest()) return common::makeError(ErrorCode::kInvalidArgument, "not a request");
  if (request.method() == sip::Method::kAck) {
    return common::makeError(ErrorCode::kInvalidArgument,
                             "ACK is not a transaction: send it with the Sender");
  }
  std::string bytes = request.serialize();
  if (!request.edits().empty()) {
    // Re-read the edited form, so the top Via and Route set are the ones on the wire.
    auto edited = sip::Message::parse(bytes);
    if (!edited) return edited.error();
    request = std::move(*edited);
  }
  if (!hasTransactionHeaders(request)) {
    return common::makeError(ErrorCode::kInvalidArgument, "missing Via, CSeq, Call-ID, From or To");
  }
  auto branch = request.vias()->front().branch();
  if (!branch || branch->empty()) {
    return common::makeError(ErrorCode::kInvalidArgument, "top Via has no branch");
  }
  if (request.cseq()->method != request.methodText()) {
    return common::makeError(ErrorCode::kInvalidArgument, "CSeq method differs from the method");
  }
  std::string key = clientKey(*branch, request.cseq()->method);
  if (client_keys_.count(key) != 0) {
    return common::makeError(ErrorCode::kInvalidArgument, "branch already in use");
  }
  auto tx = std::make_unique<ClientTx>(std::move(request));
  const ClientId id = next_id_++;
  tx->id = id;
  tx->invite = tx->request.method() == sip::Method::kInvite;
  tx->bytes = std::move(bytes);
  tx->target = target;
  tx->cb = std::move(cb);
  tx->key = std::move(key);
  if (!transport::isReliable(target.protocol)) {
    tx->interval = config_.t1;
    tx->retransmit_timer = after(tx->interval, &TransactionLayer::clientRetransmit, id);  // A/E
  }
  tx->timeout_timer = after(64 * config_.t1, &TransactionLayer::clientTimeout, id);  // B/F
  client_keys_.emplace(tx->key, id);
  ++counters_.client_created;
  std::string wire = tx->bytes;
  clients_.emplace(id, std::move(tx));
  transmit(target, std::move(wire),
           [this, id](const common::Status& s) { clientSendFailed(id, s); });
  return id;
}

void TransactionLayer::clientRetransmit(ClientId id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  ClientTx& tx = *it->second;
  tx.retransmit_timer = 0;
  if (tx.state == State::kTrying) {
    tx.interval = tx.invite ? 2 * tx.interval : std::min(2 * tx.interval, config_.t2);
  } else if (tx.state == State::kProceeding && !tx.invite) {
    tx.interval = config_.t2;  // §17.1.2.2
  } else {
    return;
  }
  ++counters_.retransmissions;
  tx.retransmit_timer = after(tx.interval, &TransactionLayer::clientRetransmit, id);
  transmit(tx.target, tx.bytes, [this, id](const common::Status& s) { clientSendFailed(id, s); });
}

void TransactionLayer::clientSendFailed(ClientId id, const common::Status& error) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  ++counters_.transport_errors;
  auto on_error = std::move(it->second->cb.onTransportError);
  destroyClient(id);
  if (on_error) on_error(error);
}

void TransactionLayer::clientTimeout(ClientId id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  ++counters_.timeouts;
  auto on_timeout = std::move(it->second->cb.onTimeout);
  destroyClient(id);
  if (on_timeout) on_timeout();
}

void TransactionLayer::receiveResponse(const sip::Message& msg, const transport::Flow& from) {
  auto branch = msg.vias()->front().branch();
  auto it = branch ? client_keys_.find(clientKey(*branch, msg.cseq()->method)) : client_keys_.end();
  if (it == client_keys_.end()) {
    ++counters_.stray_responses;
    tu_.onStrayResponse(msg, from);
    return;
  }
  const ClientId id = it->second;
  ClientTx& tx = *clients_.at(id);
  const int status = msg.statusCode();
  const bool reliable = transport::isReliable(tx.target.protocol);
  const bool live = tx.state == State::kTrying || tx.state == State::kProceeding;
  if (!live) {
    if (tx.state == State::kAccepted && status >= 200 && status < 300) {
      if (tx.cb.onResponse) tx.cb.onResponse(msg);  // RFC 6026: each 2xx to the TU
      return;
    }
    ++counters_.absorbed;
    if (tx.state == State::kCompleted && tx.invite && status >= 300) {
      ++counters_.retransmissions;
      transmit(tx.target, tx.ack, [](const common::Status&) {});
    }
    return;
  }
  if (status < 200) {
    if (tx.invite) {  // A and B run only in Calling
      timers_.cancel(tx.retransmit_timer);
      timers_.cancel(tx.timeout_timer);
      tx.retransmit_timer = tx.timeout_timer = 0;
    }
    tx.state = State::kProceeding;
    if (tx.cb.onResponse) tx.cb.onResponse(msg);
    auto again = clients_.find(id);  // the TU may have called back into the layer
    if (again != clients_.end() && again->second->cancel_pending) {
      sendCancel(*again->second);
    }
    return;
  }
  timers_.cancel(tx.retransmit_timer);
  timers_.cancel(tx.timeout_timer);
  tx.retransmit_timer = tx.timeout_timer = 0;
  tx.cancel_pending = false;
  if (tx.invite && status < 300) {
    tx.state = State::kAccepted;
    tx.end_timer = after(64 * config_.t1, &TransactionLayer::destroyClient, id);  // M
  } else if (tx.invite) {
    tx.state = State::kCompleted;
    tx.ack = requestLike(tx.request, "ACK", msg.headerValue(sip::HeaderId::kTo));
    tx.end_timer =
        after(reliable ? milliseconds(0) : config_.d, &TransactionLayer::destroyClient, id);  // D
    transmit(tx.target, tx.ack, [](const common::Status&) {});
  } else {
    tx.state = State::kCompleted;
    tx.end_timer =
        after(reliable ? milliseconds(0) : config_.t4, &TransactionLayer::destroyClient, id);  // K
  }
  if (tx.cb.onResponse) tx.cb.onResponse(msg);
}

common::Status TransactionLayer::cancel(ClientId id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) {
    return common::makeError(common::ErrorCode::kNotFound, "no such client transaction");
  }
  ClientTx& tx = *it->second;
  if (!tx.invite) {
    return common::makeError(common::ErrorCode::kInvalidArgument, "only an INVITE is cancelled");
  }
  if (tx.state == State::kTrying) {
    tx.cancel_pending = true;  // §9.1: wait for a provisional response
    return {};
  }
  if (tx.state != State::kProceeding) {
    return common::makeError(common::ErrorCode::kUnsupported, "final response already received");
  }
  sendCancel(tx);
  return {};
}

void TransactionLayer::sendCancel(ClientTx& tx) {
  tx.cancel_pending = false;
  if (tx.cancel_sent) return;
  tx.cancel_sent = true;
  // §9.1: without a final response 64*T1 after the CANCEL, the INVITE is given up (the TU
  // hears onTimeout), so a peer that never answers cannot pin the transaction.
  timers_.cancel(tx.timeout_timer);
  tx.timeout_timer = after(64 * config_.t1, &TransactionLayer::clientTimeout, tx.id);
  std::string bytes = requestLike(tx.request, "CANCEL", tx.request.headerValue(sip::HeaderId::kTo));
  // The CANCEL's own outcome is of no interest: the INVITE's final response tells.
  (void)sendRequest(std::string_view(bytes), tx.target, {});
}

void TransactionLayer::destroyClient(ClientId id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  ClientTx& tx = *it->second;
  timers_.cancel(tx.retransmit_timer);
  timers_.cancel(tx.timeout_timer);
  timers_.cancel(tx.end_timer);
  if (auto k = client_keys_.find(tx.key); k != client_keys_.end() && k->second == id) {
    client_keys_.erase(k);
  }
  clients_.erase(it);
  ++counters_.client_terminated;
}

}  // namespace transaction
