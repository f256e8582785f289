#include "transport/flow.h"

#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>

#include "common/hash.h"
#include "common/strings.h"

namespace transport {

std::string_view viaName(Protocol p) {
  switch (p) {
    case Protocol::kUdp:
      return "UDP";
    case Protocol::kTcp:
      return "TCP";
    case Protocol::kTls:
      return "TLS";
    case Protocol::kWs:
      return "WS";
    case Protocol::kWss:
      return "WSS";
  }
  return "UDP";
}

std::string_view configName(Protocol p) {
  switch (p) {
    case Protocol::kUdp:
      return "udp";
    case Protocol::kTcp:
      return "tcp";
    case Protocol::kTls:
      return "tls";
    case Protocol::kWs:
      return "ws";
    case Protocol::kWss:
      return "wss";
  }
  return "udp";
}

std::optional<Protocol> protocolFromName(std::string_view name) {
  for (Protocol p :
       {Protocol::kUdp, Protocol::kTcp, Protocol::kTls, Protocol::kWs, Protocol::kWss}) {
    if (common::iequals(name, viaName(p))) return p;
  }
  return std::nullopt;
}

std::string Address::hostText() const {
  if (ip.is_v6()) return "[" + ip.to_string() + "]";
  return ip.to_string();
}

std::string Address::toString() const {
  return hostText() + ":" + std::to_string(port);
}

std::optional<Address> Address::parse(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  auto port = common::parseUint(text.substr(colon + 1), 65535);
  if (!port) return std::nullopt;
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;  // IPv6 without brackets is ambiguous with the port
  }
  boost::system::error_code ec;
  auto ip = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) return std::nullopt;
  return Address{ip, uint16_t(*port)};
}

std::string Flow::toString() const {
  return std::string(configName(protocol)) + ":" + remote.toString();
}

}  // namespace transport

size_t std::hash<transport::Address>::operator()(const transport::Address& a) const noexcept {
  // FNV-1a over the address bytes and the port.
  uint64_t h = common::kFnvOffset;
  auto mix = [&h](const unsigned char* p, size_t n) { h = common::fnv1a(p, n, h); };
  if (a.ip.is_v4()) {
    auto b = a.ip.to_v4().to_bytes();
    mix(b.data(), b.size());
  } else {
    auto b = a.ip.to_v6().to_bytes();
    mix(b.data(), b.size());
  }
  unsigned char port[2] = {static_cast<unsigned char>(a.port >> 8),
                           static_cast<unsigned char>(a.port & 0xff)};
  mix(port, 2);
  return size_t(h);
}
