// The SIP transports: UDP, TCP, TLS (TLS 1.2 and 1.3 only) and WebSocket (RFC 7118, ws: and
// wss:) listeners and connections over IPv4 and IPv6, on the Workers' event loops. Each
// received message is parsed and handed up on the worker that owns its Call-ID; bad input
// is answered as RFC 3261 §18 says (or dropped) and counted, never thrown.
//
//   transport::Transport t(workers, {});
//   t.setHandler([&](transport::Inbound&& in) { transactions.onMessage(std::move(in)); });
//   auto local = t.listen(transport::Protocol::kUdp, "0.0.0.0", 5060);
//   t.send(in.flow, response_bytes, [](const common::Status& s) { ... });
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "sip/message.h"
#include "transport/flow.h"
#include "transport/workers.h"

namespace transport {

struct TlsOptions {
  // PEM files; required to listen on TLS or WSS.
  std::string certificate_file, key_file;
  // Client side (outgoing TLS connections): off by default, as SIP peers commonly present
  // self-signed certificates; when on, the peer chain is checked against ca_file (or the
  // system store when ca_file is empty). Host names are not checked (we dial addresses).
  bool verify_peer = false;
  std::string ca_file;
};

struct Options {
  size_t max_message_bytes = 65536;
  TlsOptions tls;
  // A connection with no traffic (not even a keep-alive) for this long is closed.
  std::chrono::seconds idle_timeout{3600};
  // Incoming and outgoing connections together; extra accepts are closed at once.
  size_t max_connections = 10000;
  // Called (on a worker thread, concurrently) for every UDP datagram before it is parsed, every
  // accepted connection and every message framed on a stream: false drops the datagram
  // unanswered, closes the new connection, or drops the message and closes its connection.
  // Each refusal counts in Stats::refused. Empty: everything is admitted. E.g. a flood guard:
  //   opts.admit = [&g](const Address& a) { return g.admit(a.ip, steady_clock::now()); };
  std::function<bool(const Address& source)> admit;
};

struct Inbound {
  sip::Message message;
  Flow flow;
};

class Transport {
 public:
  Transport(Workers& workers, Options options);
  // Closes every listener and connection; safe before or after Workers::stop(). When the
  // workers run, waits until no handler of this transport is running. Must not be called
  // from a handler.
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Binds a listener; port 0 lets the OS choose; returns the bound local address.
  common::Result<Address> listen(Protocol p, const std::string& host, uint16_t port);

  using Handler = std::function<void(Inbound&&)>;
  // Set before listen(). Runs on worker shardOf(Call-ID), so every message of one call is
  // handled by one thread, in arrival order per source.
  void setHandler(Handler h);

  using SendDone = std::function<void(const common::Status&)>;
  // Thread-safe. Reliable protocols: flow.connection_id when that connection is alive;
  // otherwise (TCP/TLS only) a connection to flow.remote, reusing one if any, else opening
  // one. WS/WSS only send on existing connections. UDP: from a listening socket of the
  // remote's family (flow.local picks it when it matches). Messages sent from one thread on
  // one flow leave in that order. `done` (optional) gets the outcome — kIo on connect
  // failure or a closed connection — on a worker thread or, for errors known at once, on
  // the calling thread.
  void send(const Flow& flow, std::string bytes, SendDone done = {});

  // The flow a new outgoing request to `remote` over `p` would use: local = a listener of
  // that protocol and family (unspecified when none), connection_id = an existing
  // connection to remote if any, else 0.
  Flow flowTo(Protocol p, const Address& remote) const;
  std::vector<std::pair<Protocol, Address>> listeners() const;

  struct Stats {
    uint64_t messages_in, bytes_in, messages_out, parse_errors, bad_requests_answered, dropped,
        connections_opened, connections_closed, connections_open, keepalives_answered,
        refused;  // by Options::admit
  };
  Stats stats() const;

  struct Core;  // shared with in-flight handlers; defined in transport.cc

 private:
  std::shared_ptr<Core> core_;  // shared by every socket and pending handler
};

}  // namespace transport
