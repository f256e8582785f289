#include "transport/transport.h"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <future>
#include <mutex>
#include <unordered_map>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "common/log.h"
#include "common/strings.h"
#include "sip/framer.h"
#include "sip/headers.h"
#include "sip/response.h"
#include "sip/validate.h"

namespace transport {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;
using udp = boost::asio::ip::udp;
using common::ErrorCode;
using common::makeError;
using common::Status;

namespace {

Address toAddress(const tcp::endpoint& ep) {
  return Address{ep.address(), ep.port()};
}
Address toAddress(const udp::endpoint& ep) {
  return Address{ep.address(), ep.port()};
}

// IPv4-mapped IPv6 peers (a dual-stack socket) are reported as plain IPv4.
boost::asio::ip::address unmap(const boost::asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
  return a;
}

void complete(const Transport::SendDone& done, Status s) {
  if (!done) return;
  try {
    done(s);
  } catch (...) {
  }
}

Status ioError(std::string reason) {
  return makeError(ErrorCode::kIo, std::move(reason));
}

// A response to a request the parser refused (RFC 3261 §8.2.6 as far as the bytes allow):
// the Via, From, To, Call-ID and CSeq lines are copied as written, so the client can still
// match the answer to its transaction. Empty (the request is dropped) without a Via line:
// such an answer could not travel back (§18.2.2), as sip::validate says for parsed ones.
std::string rawErrorResponse(std::string_view bytes, int status) {
  std::string out = "SIP/2.0 " + std::to_string(status) + " ";
  out += sip::defaultReasonPhrase(status);
  out += "\r\n";
  bool via = false;
  size_t pos = bytes.find('\n');
  while (pos != std::string_view::npos && pos + 1 < bytes.size()) {
    size_t begin = pos + 1;
    size_t end = bytes.find('\n', begin);
    std::string_view line =
        bytes.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the header block
    size_t colon = line.find(':');
    if (colon != std::string_view::npos && line.size() < 1024) {
      auto id = sip::headerIdFromName(common::trimLws(line.substr(0, colon)));
      if (id == sip::HeaderId::kVia || id == sip::HeaderId::kFrom || id == sip::HeaderId::kTo ||
          id == sip::HeaderId::kCallId || id == sip::HeaderId::kCSeq) {
        out.append(line);
        out += "\r\n";
        via = via || id == sip::HeaderId::kVia;
      }
    }
    pos = end;
  }
  if (!via) return {};
  out += "Content-Length: 0\r\n\r\n";
  return out;
}

// The answer to a request that parsed but failed validation: the RFC's status with the reason
// in the phrase (the sender learns what to fix), a To tag as every final response needs, and
// the top Via stamped as RFC 3581 asks.
std::string invalidRequestResponse(const sip::Message& msg, int status, std::string_view why,
                                   const Address& source) {
  std::string phrase(sip::defaultReasonPhrase(status));
  std::string detail;
  for (char c : why.substr(0, 96)) detail.push_back(c >= 0x20 && c < 0x7f ? c : ' ');
  if (!detail.empty()) phrase += " (" + detail + ")";
  static thread_local uint64_t state =
      uint64_t(reinterpret_cast<uintptr_t>(&state)) ^
      uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  std::string tag = "sbx" + std::to_string(state >> 16);
  sip::ResponseBuilder b(msg, status, phrase);
  if (msg.to()) b.toTag(tag);
  b.receivedFrom(source.ip, source.port);
  return b.build();
}

struct RemoteKey {
  Protocol protocol;
  Address remote;
  bool operator==(const RemoteKey&) const = default;
};
struct RemoteKeyHash {
  size_t operator()(const RemoteKey& k) const noexcept {
    return std::hash<Address>()(k.remote) * 31 + size_t(k.protocol);
  }
};

constexpr size_t kReadChunk = 2048;

}  // namespace

class Connection;
class UdpSocket;

struct Counters {
  std::atomic<uint64_t> messages_in{0}, bytes_in{0}, messages_out{0}, parse_errors{0},
      bad_requests_answered{0}, dropped{0}, connections_opened{0}, connections_closed{0},
      connections_open{0}, keepalives_answered{0}, refused{0};
};

enum class Outcome { kDelivered, kRejected, kUnparsable };

struct ListenerEntry {
  Protocol protocol;
  Address local;
  size_t worker = 0;                            // the acceptor's loop
  std::vector<std::shared_ptr<UdpSocket>> udp;  // one per worker, index = worker
  std::shared_ptr<tcp::acceptor> acceptor;
};

struct Transport::Core : std::enable_shared_from_this<Transport::Core> {
  Core(Workers& w, Options o) : workers(w), opts(std::move(o)) {}

  Workers& workers;
  Options opts;
  Handler handler;
  Counters counters;
  std::atomic<bool> closed{false};
  std::atomic<uint64_t> next_id{1};
  std::atomic<size_t> round_robin{0};
  std::unique_ptr<ssl::context> server_tls;
  std::unique_ptr<ssl::context> client_tls;
  std::string client_tls_error;

  mutable std::mutex mu;
  std::vector<ListenerEntry> listeners;                              // under mu
  std::unordered_map<uint64_t, std::shared_ptr<Connection>> conns;   // under mu
  std::unordered_map<RemoteKey, uint64_t, RemoteKeyHash> by_remote;  // under mu

  size_t nextWorker() { return round_robin.fetch_add(1) % workers.size(); }

  // Parses one message and hands it to the handler on its Call-ID's worker. `reply` sends
  // an error answer back the way the message came.
  template <typename Reply>
  Outcome deliver(std::string_view bytes, bool datagram, const Flow& flow, Reply&& reply);

  void registerConnection(const std::shared_ptr<Connection>& c);
  void registerLocked(const std::shared_ptr<Connection>& c);  // mu held
  void unregisterConnection(uint64_t id, Protocol p, const Address& remote);
  void send(const Flow& flow, std::string bytes, SendDone done);
  void sendUdp(const Flow& flow, std::string bytes, SendDone done);
  void shutdownWorker(size_t worker);
};

// One stream connection (TCP, TLS, WS, WSS), owned by one worker's loop: every member is
// touched only there. Shared by the registry (while open) and its pending operations.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<Transport::Core> core, size_t worker, Protocol p)
      : core_(std::move(core)),
        worker_(worker),
        id_(core_->next_id.fetch_add(1)),
        protocol_(p),
        idle_(core_->workers.loop(worker)) {}
  virtual ~Connection() = default;

  uint64_t id() const { return id_; }
  size_t worker() const { return worker_; }
  Protocol protocol() const { return protocol_; }
  const Address& remote() const { return remote_; }
  asio::io_context& loop() { return core_->workers.loop(worker_); }

  // On the loop. Incoming: handshake(s), then read. Outgoing: connect, handshake, flush.
  virtual void startAccepted() = 0;
  virtual void startConnect(const tcp::endpoint&) {}

  void setRemote(Address a) { remote_ = std::move(a); }

  // On the loop: queue and write in order.
  void enqueue(std::string bytes, Transport::SendDone done) {
    if (closed_) {
      complete(done, ioError("connection closed"));
      return;
    }
    queue_.push_back(Pending{std::move(bytes), std::move(done)});
    if (ready_ && !writing_) writeNext();
  }

  void close(const char* why) {
    if (closed_) return;
    closed_ = true;
    SB_LOG(kDebug, "transport: close " + std::string(configName(protocol_)) + " connection " +
                       std::to_string(id_) + " to " + remote_.toString() + ": " + why);
    idle_.cancel();
    closeSocket();
    auto pending = std::move(queue_);
    queue_.clear();
    // Unregistered first, so a `done` that retries does not find this connection again.
    core_->unregisterConnection(id_, protocol_, remote_);
    for (auto& p : pending) complete(p.done, ioError(std::string("connection closed: ") + why));
  }

 protected:
  struct Pending {
    std::string bytes;
    Transport::SendDone done;
  };

  virtual void closeSocket() = 0;
  virtual void writeFront() = 0;  // starts writing queue_.front()

  Flow flow() const { return Flow{protocol_, local_, remote_, id_}; }

  void becomeReady() {
    ready_ = true;
    touch();
    armIdle();
    if (!queue_.empty() && !writing_) writeNext();
  }

  void writeNext() {
    if (closed_ || queue_.empty()) {
      if (close_when_flushed_ && queue_.empty()) close("after error answer");
      return;
    }
    writing_ = true;
    writeFront();
  }

  void onWritten(const boost::system::error_code& ec) {
    writing_ = false;
    if (closed_) return;
    if (ec) {
      close("write failed");
      return;
    }
    touch();
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    core_->counters.messages_out.fetch_add(1, std::memory_order_relaxed);
    complete(p.done, Status());
    writeNext();
  }

  void closeAfterFlush() {
    close_when_flushed_ = true;
    if (!writing_ && queue_.empty()) close("bad message");
  }

  void touch() { last_active_ = std::chrono::steady_clock::now(); }

  void armIdle() {
    idle_.expires_at(last_active_ + core_->opts.idle_timeout);
    idle_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->closed_) return;
      if (std::chrono::steady_clock::now() - self->last_active_ >= self->core_->opts.idle_timeout)
        self->close("idle timeout");
      else
        self->armIdle();
    });
  }

  // A received message (whole): deliver it; returns false when the connection must close.
  bool onMessage(std::string_view bytes, bool datagram) {
    // A refused stream source (a flood) loses its connection at once: reading on would only
    // feed the flood.
    if (core_->opts.admit && !core_->opts.admit(remote_)) {
      core_->counters.refused.fetch_add(1, std::memory_order_relaxed);
      close("refused by the admit hook");
      return false;
    }
    auto outcome = core_->deliver(bytes, datagram, flow(),
                                  [this](std::string answer) { enqueue(std::move(answer), {}); });
    if (outcome == Outcome::kUnparsable) {
      closeAfterFlush();
      return false;
    }
    return true;
  }

  std::shared_ptr<Transport::Core> core_;  // shared: the transport and every connection
  size_t worker_;
  uint64_t id_;
  Protocol protocol_;
  Address local_, remote_;
  asio::steady_timer idle_;
  std::chrono::steady_clock::time_point last_active_ = std::chrono::steady_clock::now();
  std::deque<Pending> queue_;
  bool ready_ = false;
  bool writing_ = false;
  bool closed_ = false;
  bool close_when_flushed_ = false;
};

namespace {

template <typename S>
struct IsSsl : std::false_type {};
template <typename S>
struct IsSsl<ssl::stream<S>> : std::true_type {};

template <typename Stream>
tcp::socket& lowest(Stream& s) {
  return beast::get_lowest_layer(s);
}

// TCP or TLS: bytes cut into messages by sip::StreamFramer.
template <typename Stream>
class StreamConnection final : public Connection {
 public:
  template <typename... Args>
  StreamConnection(std::shared_ptr<Transport::Core> core, size_t worker, Protocol p, Args&&... args)
      : Connection(core, worker, p),
        stream_(std::forward<Args>(args)...),
        framer_(core->opts.max_message_bytes) {}

  void startAccepted() override {
    setLocal();
    if constexpr (IsSsl<Stream>::value) {
      stream_.async_handshake(ssl::stream_base::server,
                              [self = self()](const boost::system::error_code& ec) {
                                if (ec) return self->close("TLS handshake failed");
                                self->becomeReady();
                                self->read();
                              });
      armIdle();  // bounds a handshake that never completes
    } else {
      becomeReady();
      read();
    }
  }

  void startConnect(const tcp::endpoint& ep) override {
    lowest(stream_).async_connect(ep, [self = self()](const boost::system::error_code& ec) {
      if (self->closed_) return;
      if (ec) return self->close("connect failed");
      self->setLocal();
      if constexpr (IsSsl<Stream>::value) {
        self->stream_.async_handshake(ssl::stream_base::client,
                                      [self](const boost::system::error_code& hec) {
                                        if (hec) return self->close("TLS handshake failed");
                                        self->becomeReady();
                                        self->read();
                                      });
      } else {
        self->becomeReady();
        self->read();
      }
    });
  }

 private:
  std::shared_ptr<StreamConnection> self() {
    return std::static_pointer_cast<StreamConnection>(shared_from_this());
  }

  void setLocal() {
    boost::system::error_code ec;
    auto ep = lowest(stream_).local_endpoint(ec);
    if (!ec) local_ = Address{unmap(ep.address()), ep.port()};
  }

  void read() {
    stream_.async_read_some(asio::buffer(buf_), [self = self()](const boost::system::error_code& ec,
                                                                size_t n) { self->onRead(ec, n); });
  }

  void onRead(const boost::system::error_code& ec, size_t n) {
    if (closed_) return;
    if (ec) return close(ec == asio::error::eof ? "closed by peer" : "read failed");
    touch();
    framer_.append(std::string_view(buf_.data(), n));
    for (;;) {
      auto f = framer_.next();
      if (!f) {
        if (f.error().code == ErrorCode::kIncomplete) break;
        core_->counters.parse_errors.fetch_add(1, std::memory_order_relaxed);
        core_->counters.dropped.fetch_add(1, std::memory_order_relaxed);
        SB_LOG(kDebug,
               "transport: framing error from " + remote_.toString() + ": " + f.error().reason);
        closeAfterFlush();
        return;
      }
      if (f->kind == sip::FrameKind::kPing) {
        core_->counters.keepalives_answered.fetch_add(1, std::memory_order_relaxed);
        enqueue("\r\n", {});
        continue;
      }
      if (f->kind == sip::FrameKind::kPong) continue;
      core_->counters.bytes_in.fetch_add(f->bytes.size(), std::memory_order_relaxed);
      if (!onMessage(f->bytes, /*datagram=*/false)) return;
    }
    // Drop the framer's buffer between messages so an idle connection holds no large one.
    if (framer_.buffered() == 0) framer_ = sip::StreamFramer(core_->opts.max_message_bytes);
    read();
  }

  void writeFront() override {
    asio::async_write(
        stream_, asio::buffer(queue_.front().bytes),
        [self = self()](const boost::system::error_code& ec, size_t) { self->onWritten(ec); });
  }

  void closeSocket() override {
    boost::system::error_code ec;
    lowest(stream_).close(ec);
  }

  Stream stream_;
  sip::StreamFramer framer_;
  std::array<char, kReadChunk> buf_;
};

// WS or WSS (RFC 7118): an HTTP upgrade offering the "sip" subprotocol, then one SIP
// message per WebSocket message.
template <typename Next>
class WsConnection final : public Connection {
 public:
  template <typename... Args>
  WsConnection(std::shared_ptr<Transport::Core> core, size_t worker, Protocol p, Args&&... args)
      : Connection(core, worker, p), ws_(std::forward<Args>(args)...) {}

  void startAccepted() override {
    boost::system::error_code ec;
    auto ep = lowest(ws_).local_endpoint(ec);
    if (!ec) local_ = Address{unmap(ep.address()), ep.port()};
    armIdle();  // bounds the handshakes
    if constexpr (IsSsl<Next>::value) {
      ws_.next_layer().async_handshake(ssl::stream_base::server,
                                       [self = self()](const boost::system::error_code& hec) {
                                         if (hec) return self->close("TLS handshake failed");
                                         self->readUpgrade();
                                       });
    } else {
      readUpgrade();
    }
  }

 private:
  std::shared_ptr<WsConnection> self() {
    return std::static_pointer_cast<WsConnection>(shared_from_this());
  }

  static bool offersSip(std::string_view list) {
    while (!list.empty()) {
      size_t comma = list.find(',');
      std::string_view token = common::trimLws(list.substr(0, comma));
      if (token == "sip") return true;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
    return false;
  }

  void readUpgrade() {
    req_ = std::make_unique<http::request<http::string_body>>();
    http::async_read(ws_.next_layer(), buf_, *req_,
                     [self = self()](const boost::system::error_code& ec, size_t) {
                       if (self->closed_) return;
                       if (ec) return self->close("bad HTTP upgrade");
                       self->onUpgrade();
                     });
  }

  void onUpgrade() {
    touch();
    auto offered = (*req_)[http::field::sec_websocket_protocol];
    if (!websocket::is_upgrade(*req_) ||
        !offersSip(std::string_view(offered.data(), offered.size()))) {
      core_->counters.dropped.fetch_add(1, std::memory_order_relaxed);
      auto res = std::make_shared<http::response<http::string_body>>(http::status::bad_request,
                                                                     req_->version());
      res->set(http::field::connection, "close");
      res->body() = "WebSocket upgrade with subprotocol \"sip\" required\r\n";
      res->prepare_payload();
      http::async_write(ws_.next_layer(), *res,
                        [self = self(), res](const boost::system::error_code&, size_t) {
                          self->close("upgrade without the sip subprotocol");
                        });
      return;
    }
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& r) { r.set(http::field::sec_websocket_protocol, "sip"); }));
    ws_.read_message_max(core_->opts.max_message_bytes);
    ws_.async_accept(*req_, [self = self()](const boost::system::error_code& ec) {
      self->req_.reset();
      if (self->closed_) return;
      if (ec) return self->close("WebSocket handshake failed");
      self->becomeReady();
      self->read();
    });
  }

  void read() {
    buf_.clear();
    if (buf_.capacity() > 4 * kReadChunk) buf_.shrink_to_fit();
    ws_.async_read(buf_, [self = self()](const boost::system::error_code& ec, size_t n) {
      if (self->closed_) return;
      if (ec) return self->close("WebSocket read ended");
      self->touch();
      self->core_->counters.bytes_in.fetch_add(n, std::memory_order_relaxed);
      auto data = self->buf_.cdata();
      std::string_view bytes(static_cast<const char*>(data.data()), data.size());
      // RFC 7118 §5: a CRLF keep-alive never travels inside a WebSocket message; a message
      // is a whole SIP message whose Content-Length may be absent.
      if (!self->onMessage(bytes, /*datagram=*/true)) return;
      self->read();
    });
  }

  void writeFront() override {
    ws_.text(true);
    ws_.async_write(
        asio::buffer(queue_.front().bytes),
        [self = self()](const boost::system::error_code& ec, size_t) { self->onWritten(ec); });
  }

  void closeSocket() override {
    boost::system::error_code ec;
    lowest(ws_).close(ec);
  }

  websocket::stream<Next> ws_;
  beast::flat_buffer buf_;
  std::unique_ptr<http::request<http::string_body>> req_;  // only during the upgrade
};

using TcpConnection = StreamConnection<tcp::socket>;
using TlsConnection = StreamConnection<ssl::stream<tcp::socket>>;
using WsPlainConnection = WsConnection<tcp::socket>;
using WssConnection = WsConnection<ssl::stream<tcp::socket>>;

}  // namespace

// One UDP socket of a listener on one worker (SO_REUSEPORT: every worker reads).
class UdpSocket : public std::enable_shared_from_this<UdpSocket> {
 public:
  UdpSocket(std::shared_ptr<Transport::Core> core, size_t worker, udp::socket s, Address local)
      : core_(std::move(core)), worker_(worker), socket_(std::move(s)), local_(std::move(local)) {}

  void start() {
    if (buf_.empty()) buf_.resize(65536);
    socket_.async_receive_from(asio::buffer(buf_), from_,
                               [self = shared_from_this()](const boost::system::error_code& ec,
                                                           size_t n) { self->onReceive(ec, n); });
  }

  // On this socket's loop.
  void sendTo(const std::string& bytes, const udp::endpoint& to, const Transport::SendDone& done) {
    boost::system::error_code ec;
    socket_.send_to(asio::buffer(bytes), to, 0, ec);
    if (ec) {
      complete(done, ioError("UDP send to " + toAddress(to).toString() + ": " + ec.message()));
      return;
    }
    core_->counters.messages_out.fetch_add(1, std::memory_order_relaxed);
    complete(done, Status());
  }

  void close() {
    closed_ = true;
    boost::system::error_code ec;
    socket_.close(ec);
  }
  size_t worker() const { return worker_; }
  const Address& local() const { return local_; }

 private:
  void onReceive(const boost::system::error_code& ec, size_t n) {
    if (closed_ || ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor)
      return;
    if (!ec && n > 0) {
      core_->counters.bytes_in.fetch_add(n, std::memory_order_relaxed);
      udp::endpoint from = from_;
      Flow flow{Protocol::kUdp, local_, Address{unmap(from.address()), from.port()}, 0};
      std::string_view bytes(buf_.data(), n);
      // Before any parsing: a refused source gets no answer at all.
      if (core_->opts.admit && !core_->opts.admit(flow.remote)) {
        core_->counters.refused.fetch_add(1, std::memory_order_relaxed);
      } else if (bytes.find_first_not_of("\r\n") != std::string_view::npos) {
        // RFC 5626 §3.5.1 STUN keep-alives and stray CRLFs are not SIP: ignore them quietly.
        core_->deliver(bytes, /*datagram=*/true, flow,
                       [this, from](std::string answer) { sendTo(answer, from, {}); });
      }
    }
    start();
  }

  std::shared_ptr<Transport::Core> core_;  // shared: the transport and its sockets
  size_t worker_;
  udp::socket socket_;
  Address local_;
  std::vector<char> buf_;
  udp::endpoint from_;
  bool closed_ = false;
};

template <typename Reply>
Outcome Transport::Core::deliver(std::string_view bytes, bool datagram, const Flow& flow,
                                 Reply&& reply) {
  sip::ParseOptions po;
  po.datagram = datagram;
  po.max_bytes = opts.max_message_bytes;
  auto msg = sip::Message::parse(bytes, po);
  int status = 0;
  bool request = false;
  std::string answer;
  if (!msg) {
    status = msg.error().status;
    request = !common::istartsWith(bytes, "SIP/");
    if (status != 0 && request) answer = rawErrorResponse(bytes, status);
    SB_LOG(kDebug,
           "transport: unparsable message from " + flow.toString() + ": " + msg.error().reason);
  } else if (auto valid = sip::validate(*msg); !valid) {
    status = valid.error().status;
    request = msg->isRequest();
    if (status != 0 && request)
      answer = invalidRequestResponse(*msg, status, valid.error().reason, flow.remote);
    SB_LOG(kDebug,
           "transport: invalid message from " + flow.toString() + ": " + valid.error().reason);
  } else {
    counters.messages_in.fetch_add(1, std::memory_order_relaxed);
    // validate() guarantees Call-ID (and Via, From, To, CSeq; see sip/validate.h): this and
    // every layer above dereference them without checking again.
    size_t shard = workers.shardOf(*msg->callId());
    asio::post(workers.loop(shard),
               [core = shared_from_this(), in = Inbound{std::move(*msg), flow}]() mutable {
                 if (core->closed.load(std::memory_order_acquire) || !core->handler) return;
                 try {
                   core->handler(std::move(in));
                 } catch (const std::exception& e) {
                   SB_LOG(kError, std::string("transport: handler threw: ") + e.what());
                 } catch (...) {
                   SB_LOG(kError, "transport: handler threw");
                 }
               });
    return Outcome::kDelivered;
  }
  counters.parse_errors.fetch_add(1, std::memory_order_relaxed);
  if (!answer.empty()) {
    counters.bad_requests_answered.fetch_add(1, std::memory_order_relaxed);
    reply(std::move(answer));
  } else {
    counters.dropped.fetch_add(1, std::memory_order_relaxed);
  }
  return msg ? Outcome::kRejected : Outcome::kUnparsable;
}

void Transport::Core::registerConnection(const std::shared_ptr<Connection>& c) {
  std::lock_guard lock(mu);
  registerLocked(c);
}

void Transport::Core::registerLocked(const std::shared_ptr<Connection>& c) {
  counters.connections_opened.fetch_add(1, std::memory_order_relaxed);
  counters.connections_open.fetch_add(1, std::memory_order_relaxed);
  conns.emplace(c->id(), c);
  by_remote[RemoteKey{c->protocol(), c->remote()}] = c->id();
}

void Transport::Core::unregisterConnection(uint64_t id, Protocol p, const Address& remote) {
  std::shared_ptr<Connection> keep;  // destroyed after the lock is released
  {
    std::lock_guard lock(mu);
    auto it = conns.find(id);
    if (it == conns.end()) return;
    keep = std::move(it->second);
    conns.erase(it);
    auto r = by_remote.find(RemoteKey{p, remote});
    if (r != by_remote.end() && r->second == id) by_remote.erase(r);
  }
  counters.connections_closed.fetch_add(1, std::memory_order_relaxed);
  counters.connections_open.fetch_sub(1, std::memory_order_relaxed);
}

void Transport::Core::sendUdp(const Flow& flow, std::string bytes, SendDone done) {
  std::shared_ptr<UdpSocket> chosen;
  auto current = workers.currentWorker();
  size_t want = current.value_or(0);
  {
    std::lock_guard lock(mu);
    const ListenerEntry* best = nullptr;
    for (const auto& l : listeners) {
      if (l.protocol != Protocol::kUdp || l.udp.empty()) continue;
      if (l.local.ip.is_v6() != flow.remote.ip.is_v6()) continue;
      if (l.local == flow.local) {
        best = &l;
        break;
      }
      if (!best) best = &l;
    }
    if (best) chosen = best->udp[want < best->udp.size() ? want : 0];
  }
  if (!chosen) {
    complete(done,
             makeError(ErrorCode::kNotFound, "no UDP listener for " + flow.remote.toString()));
    return;
  }
  udp::endpoint to(flow.remote.ip, flow.remote.port);
  if (current && *current == chosen->worker()) {
    // The socket belongs to this loop: send now, in the caller's order.
    chosen->sendTo(bytes, to, done);
    return;
  }
  asio::post(workers.loop(chosen->worker()),
             [chosen, bytes = std::move(bytes), to, done = std::move(done)] {
               chosen->sendTo(bytes, to, done);
             });
}

void Transport::Core::send(const Flow& flow, std::string bytes, SendDone done) {
  if (closed.load(std::memory_order_acquire)) {
    complete(done, ioError("transport closed"));
    return;
  }
  if (flow.protocol == Protocol::kUdp) {
    sendUdp(flow, std::move(bytes), std::move(done));
    return;
  }
  std::shared_ptr<Connection> conn;
  bool opened = false;
  {
    std::lock_guard lock(mu);
    if (flow.connection_id != 0) {
      auto it = conns.find(flow.connection_id);
      if (it != conns.end()) conn = it->second;
    }
    if (!conn) {
      auto r = by_remote.find(RemoteKey{flow.protocol, flow.remote});
      if (r != by_remote.end()) {
        auto it = conns.find(r->second);
        if (it != conns.end()) conn = it->second;
      }
    }
  }
  if (!conn && (flow.protocol == Protocol::kTcp || flow.protocol == Protocol::kTls)) {
    if (flow.remote.port == 0 || flow.remote.ip.is_unspecified()) {
      complete(done, makeError(ErrorCode::kInvalidArgument,
                               "no address to connect to: " + flow.remote.toString()));
      return;
    }
    if (counters.connections_open.load() >= opts.max_connections) {
      complete(done, ioError("connection limit reached"));
      return;
    }
    size_t w = nextWorker();
    auto self = shared_from_this();
    if (flow.protocol == Protocol::kTcp) {
      conn = std::make_shared<TcpConnection>(self, w, Protocol::kTcp, workers.loop(w));
    } else {
      if (!client_tls) {
        complete(done, ioError("TLS client: " + client_tls_error));
        return;
      }
      conn = std::make_shared<TlsConnection>(self, w, Protocol::kTls, workers.loop(w), *client_tls);
    }
    conn->setRemote(flow.remote);
    std::lock_guard lock(mu);
    // Another thread may have opened one meanwhile: use it.
    auto r = by_remote.find(RemoteKey{flow.protocol, flow.remote});
    if (r != by_remote.end() && conns.count(r->second)) {
      conn = conns[r->second];
    } else {
      opened = true;
      registerLocked(conn);
    }
  }
  if (!conn) {
    complete(done, ioError("no " + std::string(configName(flow.protocol)) + " connection to " +
                           flow.remote.toString()));
    return;
  }
  if (opened) {
    tcp::endpoint ep(flow.remote.ip, flow.remote.port);
    asio::post(conn->loop(), [conn, ep] { conn->startConnect(ep); });
  }
  asio::post(conn->loop(), [conn, bytes = std::move(bytes), done = std::move(done)]() mutable {
    conn->enqueue(std::move(bytes), std::move(done));
  });
}

void Transport::Core::shutdownWorker(size_t worker) {
  std::vector<std::shared_ptr<Connection>> to_close;
  std::vector<std::shared_ptr<UdpSocket>> udp_close;
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
  {
    std::lock_guard lock(mu);
    for (auto& [id, c] : conns) {
      if (c->worker() == worker) to_close.push_back(c);
    }
    for (auto& l : listeners) {
      for (auto& u : l.udp) {
        if (u->worker() == worker) udp_close.push_back(u);
      }
      if (l.acceptor && l.worker == worker) acceptors.push_back(l.acceptor);
    }
  }
  for (auto& c : to_close) c->close("transport shut down");
  for (auto& u : udp_close) u->close();
  for (auto& a : acceptors) {
    boost::system::error_code ec;
    a->close(ec);
  }
}

namespace {

std::unique_ptr<ssl::context> makeContext(ssl::context::method method) {
  auto ctx = std::make_unique<ssl::context>(method);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  // Idle connections give their record buffers back to OpenSSL.
  SSL_CTX_set_mode(ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}

void accept(const std::shared_ptr<Transport::Core>& core, std::shared_ptr<tcp::acceptor> acc,
            Protocol p) {
  size_t w = core->nextWorker();
  acc->async_accept(core->workers.loop(w), [core, acc, p, w](const boost::system::error_code& ec,
                                                             tcp::socket socket) {
    if (core->closed.load() || ec == asio::error::operation_aborted || !acc->is_open()) return;
    if (!ec) {
      boost::system::error_code rec;
      auto remote = socket.remote_endpoint(rec);
      if (rec || core->counters.connections_open.load() >= core->opts.max_connections) {
        if (!rec) SB_LOG(kWarn, "transport: connection limit reached, refusing a connection");
        socket.close(rec);
      } else if (core->opts.admit &&
                 !core->opts.admit(Address{unmap(remote.address()), remote.port()})) {
        core->counters.refused.fetch_add(1, std::memory_order_relaxed);
        socket.close(rec);
      } else {
        std::shared_ptr<Connection> c;
        switch (p) {
          case Protocol::kTcp:
            c = std::make_shared<TcpConnection>(core, w, p, std::move(socket));
            break;
          case Protocol::kTls:
            c = std::make_shared<TlsConnection>(core, w, p, std::move(socket), *core->server_tls);
            break;
          case Protocol::kWs:
            c = std::make_shared<WsPlainConnection>(core, w, p, std::move(socket));
            break;
          case Protocol::kWss:
            c = std::make_shared<WssConnection>(core, w, p, std::move(socket), *core->server_tls);
            break;
          case Protocol::kUdp:
            break;
        }
        if (c) {
          c->setRemote(Address{unmap(remote.address()), remote.port()});
          core->registerConnection(c);
          asio::post(c->loop(), [c] { c->startAccepted(); });
        }
      }
    } else {
      SB_LOG(kWarn, "transport: accept failed: " + ec.message());
    }
    accept(core, acc, p);
  });
}

}  // namespace

Transport::Transport(Workers& workers, Options options)
    : core_(std::make_shared<Core>(workers, std::move(options))) {
  try {
    core_->client_tls = makeContext(ssl::context::tls_client);
    if (core_->opts.tls.verify_peer) {
      core_->client_tls->set_verify_mode(ssl::verify_peer);
      if (core_->opts.tls.ca_file.empty())
        core_->client_tls->set_default_verify_paths();
      else
        core_->client_tls->load_verify_file(core_->opts.tls.ca_file);
    } else {
      core_->client_tls->set_verify_mode(ssl::verify_none);
    }
  } catch (const std::exception& e) {
    core_->client_tls.reset();
    core_->client_tls_error = e.what();
    SB_LOG(kError, "transport: TLS client setup failed: " + core_->client_tls_error);
  }
}

Transport::~Transport() {
  auto& core = *core_;
  core.closed.store(true, std::memory_order_release);
  Workers& w = core.workers;
  if (w.running()) {
    auto current = w.currentWorker();
    std::vector<std::future<void>> waits;
    for (size_t i = 0; i < w.size(); ++i) {
      if (current && *current == i) {
        core.shutdownWorker(i);
        continue;
      }
      auto done = std::make_shared<std::promise<void>>();
      waits.push_back(done->get_future());
      asio::post(w.loop(i), [c = core_, i, done] {
        c->shutdownWorker(i);
        done->set_value();
      });
    }
    // Bounded: a loop stopped meanwhile never runs the task; its sockets then close below.
    for (auto& f : waits) f.wait_for(std::chrono::seconds(5));
  }
  if (!w.running()) {
    for (size_t i = 0; i < w.size(); ++i) core.shutdownWorker(i);
  }
  // Break the cycles core -> socket -> core; pending handlers hold their own references.
  std::lock_guard lock(core.mu);
  core.listeners.clear();
  core.conns.clear();
  core.by_remote.clear();
}

void Transport::setHandler(Handler h) {
  core_->handler = std::move(h);
}

common::Result<Address> Transport::listen(Protocol p, const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(host, ec);
  if (ec) return makeError(ErrorCode::kInvalidArgument, "listen: not an IP address: " + host);
  auto& core = *core_;
  ListenerEntry entry;
  entry.protocol = p;
  try {
    if (p == Protocol::kUdp) {
      udp::endpoint ep(ip, port);
      for (size_t i = 0; i < core.workers.size(); ++i) {
        udp::socket s(core.workers.loop(i));
        s.open(ep.protocol());
        s.set_option(asio::socket_base::reuse_address(true));
        int one = 1;
        if (::setsockopt(s.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
          return makeError(ErrorCode::kIo, "listen: SO_REUSEPORT refused");
        if (ip.is_v6()) s.set_option(asio::ip::v6_only(true));
        s.bind(ep);
        if (i == 0) {
          ep = s.local_endpoint();
          entry.local = toAddress(ep);
        }
        entry.udp.push_back(std::make_shared<UdpSocket>(core_, i, std::move(s), entry.local));
      }
    } else {
      if ((p == Protocol::kTls || p == Protocol::kWss) && !core.server_tls) {
        if (core.opts.tls.certificate_file.empty() || core.opts.tls.key_file.empty())
          return makeError(ErrorCode::kInvalidArgument,
                           "listen " + std::string(configName(p)) +
                               ": a TLS certificate file and key file are required");
        auto ctx = makeContext(ssl::context::tls_server);
        ctx->use_certificate_chain_file(core.opts.tls.certificate_file);
        ctx->use_private_key_file(core.opts.tls.key_file, ssl::context::pem);
        core.server_tls = std::move(ctx);
      }
      entry.worker = core.nextWorker();
      auto acc = std::make_shared<tcp::acceptor>(core.workers.loop(entry.worker));
      tcp::endpoint ep(ip, port);
      acc->open(ep.protocol());
      acc->set_option(asio::socket_base::reuse_address(true));
      if (ip.is_v6()) acc->set_option(asio::ip::v6_only(true));
      acc->bind(ep);
      acc->listen(asio::socket_base::max_listen_connections);
      entry.local = toAddress(acc->local_endpoint());
      entry.acceptor = acc;
    }
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kIo, "listen " + std::string(configName(p)) + " " + host + ":" +
                                         std::to_string(port) + ": " + e.what());
  }
  Address local = entry.local;
  auto udp_sockets = entry.udp;
  auto acc = entry.acceptor;
  {
    std::lock_guard lock(core.mu);
    core.listeners.push_back(std::move(entry));
  }
  for (auto& u : udp_sockets) asio::post(core.workers.loop(u->worker()), [u] { u->start(); });
  if (acc) {
    auto c = core_;
    asio::post(acc->get_executor(), [c, acc, p] { accept(c, acc, p); });
  }
  SB_LOG(kInfo, "transport: listening on " + std::string(configName(p)) + ":" + local.toString());
  return local;
}

void Transport::send(const Flow& flow, std::string bytes, SendDone done) {
  try {
    core_->send(flow, std::move(bytes), std::move(done));
  } catch (const std::exception& e) {
    SB_LOG(kError, std::string("transport: send failed: ") + e.what());
  }
}

Flow Transport::flowTo(Protocol p, const Address& remote) const {
  Flow f;
  f.protocol = p;
  f.remote = remote;
  f.local.ip = remote.ip.is_v6() ? asio::ip::address(asio::ip::address_v6())
                                 : asio::ip::address(asio::ip::address_v4());
  std::lock_guard lock(core_->mu);
  for (const auto& l : core_->listeners) {
    if (l.protocol == p && l.local.ip.is_v6() == remote.ip.is_v6()) {
      f.local = l.local;
      break;
    }
  }
  auto r = core_->by_remote.find(RemoteKey{p, remote});
  if (r != core_->by_remote.end()) f.connection_id = r->second;
  return f;
}

std::vector<std::pair<Protocol, Address>> Transport::listeners() const {
  std::vector<std::pair<Protocol, Address>> out;
  std::lock_guard lock(core_->mu);
  for (const auto& l : core_->listeners) out.emplace_back(l.protocol, l.local);
  return out;
}

Transport::Stats Transport::stats() const {
  const auto& c = core_->counters;
  auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  return Stats{get(c.messages_in),
               get(c.bytes_in),
               get(c.messages_out),
               get(c.parse_errors),
               get(c.bad_requests_answered),
               get(c.dropped),
               get(c.connections_opened),
               get(c.connections_closed),
               get(c.connections_open),
               get(c.keepalives_answered),
               get(c.refused)};
}

}  // namespace transport
