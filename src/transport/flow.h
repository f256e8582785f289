// Where a SIP message came from and how to answer it: the transport protocol, both
// addresses and, for connection-oriented transports, the connection it arrived on
// (RFC 5626's "flow"). Shared by the transport, the transaction layer and the edge, so the
// layers above never touch sockets.
//
//   transport::Flow f{transport::Protocol::kUdp, local, remote};
//   f.remote.toString();  // "192.0.2.7:5060" or "[2001:db8::7]:5060"
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace transport {

enum class Protocol : uint8_t { kUdp, kTcp, kTls, kWs, kWss };

// The transport token of a Via header: "UDP", "TCP", "TLS", "WS", "WSS".
std::string_view viaName(Protocol p);
// The lower-case name used in configuration (sip.listen): "udp", "tcp", "tls", "ws", "wss".
std::string_view configName(Protocol p);
// Either spelling, case-insensitive.
std::optional<Protocol> protocolFromName(std::string_view name);
// Connection-oriented (no retransmissions by the transaction layer, RFC 3261 §17.1.1.2).
inline bool isReliable(Protocol p) {
  return p != Protocol::kUdp;
}
// Carried in TLS (sips: and wss:).
inline bool isSecure(Protocol p) {
  return p == Protocol::kTls || p == Protocol::kWss;
}

struct Address {
  boost::asio::ip::address ip;
  uint16_t port = 0;

  // "192.0.2.7:5060", "[2001:db8::7]:5060".
  std::string toString() const;
  // The host part as a SIP URI or Via writes it: IPv6 in brackets.
  std::string hostText() const;
  // Parses the forms toString() writes.
  static std::optional<Address> parse(std::string_view text);
  bool operator==(const Address&) const = default;
};

struct Flow {
  Protocol protocol = Protocol::kUdp;
  Address local;
  Address remote;
  // The connection a message arrived on or must leave by; 0 for UDP and for "open one".
  uint64_t connection_id = 0;

  // "udp:192.0.2.7:5060" (protocol and remote address; what logs and the store keep).
  std::string toString() const;
  bool operator==(const Flow&) const = default;
};

}  // namespace transport

template <>
struct std::hash<transport::Address> {
  size_t operator()(const transport::Address& a) const noexcept;
};
