#include "api/http_server.h"

#include <openssl/ssl.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <mutex>
#include <optional>
#include <thread>

#include "api/internal/connection_limit.h"
#include "api/internal/forwarded_for.h"
#include "api/internal/transfer_coding.h"
#include "common/log.h"

namespace api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using common::ErrorCode;
using common::makeError;

bool isLoopbackHost(std::string_view host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(std::string(host), ec);
  return !ec && addr.is_loopback();
}

struct HttpServer::Impl {
  explicit Impl(Options o)
      : options(std::move(o)), connection_limit(options.max_connections_per_address) {}

  Options options;
  Handler handler;
  std::optional<ssl::context> tls;             // before io: sessions still queued in io use it
  internal::ConnectionLimit connection_limit;  // before io too: their slots return to it
  asio::io_context io;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<bool> acceptor_tls;
  std::vector<std::thread> threads;
  std::mutex stop_mutex;
  bool stopped = false;
  std::atomic<uint64_t> connections{0}, requests{0}, bad_requests{0}, tls_failures{0},
      refused_connections{0}, accept_errors{0};

  HttpReply errorReply(int status, std::string_view message) {
    if (options.error_reply) return options.error_reply(status, message);
    HttpReply r;
    r.status = status;
    r.content_type = "text/plain; charset=utf-8";
    r.body = std::string(message) + "\n";
    return r;
  }

  void accept(size_t index);
};

namespace {

// Every field NAME of the message, joined as one list ("a, b"); "" when there is none.
std::string joinedFields(const http::fields& fields, std::string_view name) {
  std::string out;
  for (auto [it, end] = fields.equal_range(beast::string_view(name.data(), name.size())); it != end;
       ++it) {
    if (!out.empty()) out += ", ";
    out += std::string_view(it->value().data(), it->value().size());
  }
  return out;
}

// One connection: reads requests one after another (keep-alive), hands each to the handler,
// and writes the replies in order. Stream is beast::tcp_stream or its TLS wrapper.
template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(HttpServer::Impl& server, Stream stream, asio::ip::address peer,
          std::optional<internal::ConnectionLimit::Slot> slot, bool secure)
      : server_(server),
        stream_(std::move(stream)),
        timer_(stream_.get_executor()),
        peer_(peer),
        peer_text_(peer.to_string()),
        slot_(std::move(slot)),
        secure_(secure) {}

  void start() {
    if (slot_) {
      // Chosen to make room for a newer connection of the same address: closed on its own
      // strand, which aborts whatever it waits for.
      slot_->onEvict([weak = this->weak_from_this()] {
        if (auto self = weak.lock())
          asio::post(self->stream_.get_executor(), [self] { self->evicted(); });
      });
    }
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      read();
    } else {
      beast::get_lowest_layer(stream_).expires_after(server_.options.idle_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) {
                                  ++self->server_.tls_failures;
                                  return;
                                }
                                self->read();
                              });
    }
  }

 private:
  void read() {
    // Kept alive after a successful answer; a connection not served yet, or last refused
    // (a failed login, a 404 before authentication), is the first to make room at the
    // per-address cap, so nobody gets kept-alive standing without credentials.
    if (!standing(served_ > 0 && kept_ ? Standing::kKeptAlive : Standing::kWaiting)) return close();
    parser_.emplace();
    parser_->body_limit(server_.options.max_body_bytes);
    parser_->header_limit(uint32_t(server_.options.max_header_bytes));
    beast::get_lowest_layer(stream_).expires_after(server_.options.idle_timeout);
    // The header alone first: its framing is checked before a byte of the body is read.
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->onHeader(ec); });
  }

  void onHeader(beast::error_code ec) {
    if (ec) return onRead(ec);
    const auto& msg = parser_->get();
    if (msg.find(http::field::transfer_encoding) != msg.end()) {
      auto verdict =
          internal::checkTransferEncoding(joinedFields(msg, "Transfer-Encoding"), msg.version());
      // The parser must agree that the body is chunked, or the two would frame it apart.
      if (!verdict.status && !parser_->chunked())
        verdict = {400, "the Transfer-Encoding header is malformed"};
      if (verdict.status) {
        ++server_.bad_requests;
        // The body is never read: what follows on this connection is not a request.
        return send(server_.errorReply(verdict.status, verdict.reason), /*keep_alive=*/false, 11);
      }
    }
    if (parser_->is_done()) return onRead({});
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code read_ec, size_t) {
                       self->onRead(read_ec);
                     });
  }

  void onRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::ssl::error::stream_truncated)
      return close();
    if (ec) {
      ++server_.bad_requests;
      int status = 400;
      std::string_view what = "the request is not valid HTTP/1.1";
      if (ec == http::error::body_limit) {
        status = 413;
        what = "the request body is larger than this server accepts";
      } else if (ec == http::error::header_limit) {
        status = 431;
        what = "the request headers are larger than this server accepts";
      }
      return send(server_.errorReply(status, what), /*keep_alive=*/false, 11);
    }
    // Chosen to make room while the request arrived: it is not started (the client sees the
    // connection close before any answer, so retrying it is safe).
    if (!standing(Standing::kBusy)) return close();
    ++server_.requests;
    ++served_;
    auto& msg = parser_->get();
    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    if (auto it = msg.find(http::field::authorization); it != msg.end())
      req.authorization = std::string(it->value());
    if (auto it = msg.find(http::field::content_type); it != msg.end())
      req.content_type = std::string(it->value());
    req.body = std::move(msg.body());
    req.peer = peer_text_;
    if (!server_.options.trusted_proxies.empty() &&
        server_.options.trusted_proxies.contains(peer_)) {
      req.peer = internal::forwardedClient(peer_, joinedFields(msg, "X-Forwarded-For"),
                                           server_.options.trusted_proxies)
                     .to_string();
    }
    req.secure = secure_;
    HttpReply reply;
    try {
      reply = server_.handler(req);
    } catch (const std::exception& e) {
      SB_LOG(kError, std::string("http: handler threw: ") + e.what());
      reply = server_.errorReply(500, "internal error");
    }
    bool keep_alive = msg.keep_alive() && served_ < server_.options.max_requests_per_connection;
    send(std::move(reply), keep_alive, msg.version());
  }

  void send(HttpReply reply, bool keep_alive, unsigned version) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(reply.status), version);
    res->set(http::field::server, "switchboard");
    if (reply.status != 204) res->set(http::field::content_type, reply.content_type);
    for (auto& [k, v] : reply.headers) res->set(k, v);
    res->body() = std::move(reply.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    kept_ = reply.status < 400 && reply.delay.count() == 0;
    if (reply.delay.count() > 0) {
      // The connection waits; the thread goes on serving others. Waiting, it may be closed
      // to make room for a newer connection of its address.
      if (!standing(Standing::kWaiting)) return close();
      timer_.expires_after(reply.delay);
      timer_.async_wait([self = this->shared_from_this(), res](beast::error_code ec) {
        if (ec) return self->close();
        self->write(res);
      });
      return;
    }
    write(res);
  }

  void write(std::shared_ptr<http::response<http::string_body>> res) {
    if (!standing(Standing::kBusy)) return close();
    beast::get_lowest_layer(stream_).expires_after(server_.options.idle_timeout);
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res](beast::error_code ec, size_t) {
                        if (ec || !res->keep_alive()) return self->close();
                        self->read();
                      });
  }

  using Standing = internal::ConnectionLimit::Standing;
  // false when the connection was chosen to make room (ConnectionLimit): start nothing more.
  bool standing(Standing now) { return !slot_ || slot_->standing(now); }

  void evicted() {
    timer_.cancel();
    boost::system::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }

  void close() {
    (void)standing(Standing::kWaiting);  // draining: the first to make room
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      // Closing with unread bytes (the rest of a refused 2 MB upload) would reset the
      // connection and the client could lose our answer: read and drop them for a while.
      stream_.expires_after(std::chrono::seconds(2));
      drain(size_t(64) << 20);
    } else {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    }
  }

  void drain(size_t budget) {
    auto buf = std::make_shared<std::array<char, 16384>>();
    stream_.async_read_some(asio::buffer(*buf), [self = this->shared_from_this(), buf, budget](
                                                    beast::error_code ec, size_t n) {
      if (!ec && n < budget) self->drain(budget - n);
    });
  }

  HttpServer::Impl& server_;
  Stream stream_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  asio::ip::address peer_;  // the TCP peer
  std::string peer_text_;
  std::optional<internal::ConnectionLimit::Slot> slot_;  // none for a trusted proxy
  bool secure_;
  size_t served_ = 0;  // requests read on this connection
  bool kept_ = false;  // the last answer was a success, sent without delay
};

}  // namespace

void HttpServer::Impl::accept(size_t index) {
  acceptors[index]->async_accept(
      asio::make_strand(io), [this, index](beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) {
          boost::system::error_code peer_ec;
          auto remote = socket.remote_endpoint(peer_ec);
          if (peer_ec) {  // gone already
            socket.close(peer_ec);
            return accept(index);
          }
          asio::ip::address peer = remote.address();
          const bool proxy = options.trusted_proxies.contains(peer);
          std::optional<internal::ConnectionLimit::Slot> slot =
              proxy ? std::nullopt : connection_limit.acquire(peer);
          if (!proxy && !slot) {
            // Closed unread: answering would mean reading its request, which is the work the
            // cap exists to refuse.
            ++refused_connections;
            socket.close(peer_ec);
            return accept(index);
          }
          ++connections;
          socket.set_option(tcp::no_delay(true), peer_ec);
          if (acceptor_tls[index]) {
            beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls);
            std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
                *this, std::move(stream), peer, std::move(slot), true)
                ->start();
          } else {
            std::make_shared<Session<beast::tcp_stream>>(
                *this, beast::tcp_stream(std::move(socket)), peer, std::move(slot), false)
                ->start();
          }
        }
        if (ec) {
          // Out of descriptors (EMFILE) or memory: accepting again at once would spin. Wait
          // a little; connections that close meanwhile free what is missing.
          if (accept_errors++ % 1000 == 0)
            SB_LOG(kWarn, "http: accept failed: " + ec.message() + " (retrying in 100 ms)");
          auto retry = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(100));
          retry->async_wait([this, index, retry](beast::error_code wait_ec) {
            if (!wait_ec) accept(index);
          });
          return;
        }
        accept(index);
      });
}

HttpServer::HttpServer(Options options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  impl_->handler = std::move(handler);
}

HttpServer::~HttpServer() {
  stop();
}

common::Status HttpServer::start() {
  Impl& s = *impl_;
  bool any_tls = false;
  for (const Listener& l : s.options.listeners) {
    any_tls |= l.tls;
    if (!l.tls && !s.options.allow_plain_remote && !isLoopbackHost(l.address.host))
      return makeError(ErrorCode::kInvalidArgument,
                       "http: plain HTTP on " + l.address.toString() +
                           " would carry credentials in clear; listen on loopback, configure a "
                           "certificate (http.tls.certificate, http.tls.key), or set "
                           "http.allow_plain_remote=on");
  }
  if (any_tls) {
    if (s.options.tls_certificate.empty() || s.options.tls_key.empty())
      return makeError(ErrorCode::kInvalidArgument,
                       "http: an HTTPS listener needs http.tls.certificate and http.tls.key");
    s.tls.emplace(ssl::context::tls_server);
    s.tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(s.tls->native_handle(), TLS1_2_VERSION);
    boost::system::error_code ec;
    s.tls->use_certificate_chain_file(s.options.tls_certificate, ec);
    if (!ec) s.tls->use_private_key_file(s.options.tls_key, ssl::context::pem, ec);
    if (ec)
      return makeError(ErrorCode::kInvalidArgument, "http: cannot load the certificate " +
                                                        s.options.tls_certificate + " or key " +
                                                        s.options.tls_key + ": " + ec.message());
  }
  for (const Listener& l : s.options.listeners) {
    boost::system::error_code ec;
    auto addr =
        asio::ip::make_address(l.address.host == "localhost" ? "127.0.0.1" : l.address.host, ec);
    if (ec)
      return makeError(ErrorCode::kInvalidArgument,
                       "http: cannot listen on " + l.address.toString() + ": not an IP address");
    tcp::endpoint ep(addr, l.address.port);
    auto acc = std::make_unique<tcp::acceptor>(s.io);
    acc->open(ep.protocol(), ec);
    if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && ep.address().is_v6()) acc->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acc->bind(ep, ec);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return makeError(ErrorCode::kIo,
                       "http: cannot listen on " + l.address.toString() + ": " + ec.message());
    s.acceptors.push_back(std::move(acc));
    s.acceptor_tls.push_back(l.tls);
  }
  for (size_t i = 0; i < s.acceptors.size(); ++i) s.accept(i);
  unsigned n = std::max(1u, s.options.threads);
  for (unsigned i = 0; i < n; ++i) s.threads.emplace_back([&s] { s.io.run(); });
  return {};
}

std::vector<std::string> HttpServer::listening() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < impl_->acceptors.size(); ++i) {
    boost::system::error_code ec;
    auto ep = impl_->acceptors[i]->local_endpoint(ec);
    if (ec) continue;
    common::HostPort hp{ep.address().to_string(), ep.port()};
    out.push_back(std::string(impl_->acceptor_tls[i] ? "https://" : "http://") + hp.toString());
  }
  return out;
}

void HttpServer::stop() {
  std::lock_guard lock(impl_->stop_mutex);
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  impl_->acceptors.clear();
}

HttpServer::Stats HttpServer::stats() const {
  return {impl_->connections.load(),         impl_->requests.load(),
          impl_->bad_requests.load(),        impl_->tls_failures.load(),
          impl_->refused_connections.load(), impl_->connection_limit.evicted(),
          impl_->accept_errors.load()};
}

}  // namespace api
