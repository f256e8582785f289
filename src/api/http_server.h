// The HTTP/1.1 server under the REST API (Boost.Beast): persistent connections, bounded
// header and body sizes, idle timeouts, and HTTPS (TLS 1.2 and 1.3 only) on the listeners
// marked tls. Plain HTTP is refused on any non-loopback address unless allow_plain_remote
// says otherwise, so credentials never cross a network in clear by accident.
//
// Framing follows RFC 9112: a Transfer-Encoding that does not end in chunked gets 400, one
// with a coding besides chunked 501, and either closes the connection before the body is
// read. One address holds at most max_connections_per_address connections: at the cap a new
// one takes the place of the address's oldest idle one (ConnectionLimit), or is closed unread
// when all are busy. One connection carries at most max_requests_per_connection requests. Behind a
// reverse proxy, X-Forwarded-For names the client only when the peer is a trusted proxy.
//
// The handler runs on one of the server's threads (never a SIP worker) and may block on the
// store; it fills an HttpReply, which the server sends after reply.delay (the slowdown of
// repeated authentication failures) without holding the thread.
//
//   api::HttpServer server({.listeners = {{*common::HostPort::parse("127.0.0.1:8080")}}},
//                          [](const api::HttpRequest& r) { return api::HttpReply{200, ...}; });
//   if (auto st = server.start(); !st) fail(st.error().reason);
//   ...
//   server.stop();
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/address_set.h"
#include "common/config.h"
#include "common/result.h"

namespace api {

struct HttpRequest {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // path and query, as sent
  std::string_view path() const { return std::string_view(target).substr(0, target.find('?')); }
  std::string_view query() const {
    size_t q = target.find('?');
    return q == std::string::npos ? std::string_view() : std::string_view(target).substr(q + 1);
  }
  std::string authorization;  // the headers the API reads; "" when absent
  std::string content_type;
  std::string body;
  // The client's address, e.g. "127.0.0.1" or "::1": the TCP peer, or the client a trusted
  // proxy names in X-Forwarded-For.
  std::string peer;
  bool secure = false;  // arrived over TLS
};

struct HttpReply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};  // held back this long before it is sent
};

class HttpServer {
 public:
  struct Listener {
    common::HostPort address;  // port 0: a free port (tests)
    bool tls = false;
  };
  struct Options {
    std::vector<Listener> listeners;
    unsigned threads = 2;
    size_t max_body_bytes = 1 << 20;        // larger bodies get 413
    size_t max_header_bytes = 16384;        // larger headers get 431
    std::chrono::seconds idle_timeout{60};  // also bounds a slow request or TLS handshake
    std::string tls_certificate;            // PEM chain and key; required when a listener has tls
    std::string tls_key;
    bool allow_plain_remote = false;
    // Open connections one address may hold (IPv6: one /64); more are closed at once, unread.
    // Trusted proxies are not capped: they carry many clients.
    size_t max_connections_per_address = 128;
    // Requests served on one connection; the last is answered with Connection: close.
    size_t max_requests_per_connection = 1000;
    // Peers whose X-Forwarded-For is believed (HttpRequest::peer); empty: none.
    common::AddressSet trusted_proxies;
    // Makes the body of the answers the server gives by itself (400, 413, 431, 501).
    std::function<HttpReply(int status, std::string_view message)> error_reply;
  };
  using Handler = std::function<HttpReply(HttpRequest& request)>;

  struct Stats {
    uint64_t connections = 0;
    uint64_t requests = 0;
    uint64_t bad_requests = 0;  // unparsable, too large: answered by the server itself
    uint64_t tls_failures = 0;  // handshakes that failed
    // Over max_connections_per_address with every connection of the address busy: closed
    // unread.
    uint64_t refused_connections = 0;
    // Idle connections closed to make room for a newer one of their address at its cap.
    uint64_t evicted_connections = 0;
    uint64_t accept_errors = 0;  // accept() failed (e.g. out of descriptors); retried
  };

  HttpServer(Options options, Handler handler);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds every listener and starts the threads. Fails naming the address (in use, plain
  // HTTP on a public address, no certificate for a tls listener).
  common::Status start();
  // "http://127.0.0.1:8080", "https://[::]:8443": the bound addresses (real ports).
  std::vector<std::string> listening() const;
  // Closes the listeners and every connection, then joins the threads. Idempotent.
  void stop();
  Stats stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Whether HOST is a loopback address (127.0.0.0/8, ::1) or "localhost".
bool isLoopbackHost(std::string_view host);

}  // namespace api
