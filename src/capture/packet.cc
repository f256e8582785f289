#include "capture/packet.h"

#include <arpa/inet.h>

#include "common/hash.h"

namespace capture {

std::string Endpoint::address() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, addr.data(), text, sizeof text);
  return text;
}

std::string Endpoint::toString() const {
  std::string out = v6 ? "[" + address() + "]" : address();
  out += ':';
  out += std::to_string(port);
  return out;
}

size_t EndpointHash::operator()(const Endpoint& e) const {
  uint64_t h =
      common::fnv1a(std::string_view(reinterpret_cast<const char*>(e.addr.data()), e.v6 ? 16 : 4));
  return size_t(h ^ (uint64_t(e.port) << 1) ^ (e.v6 ? 0x9e3779b97f4a7c15ull : 0));
}

std::string_view transportName(Transport t) {
  switch (t) {
    case Transport::kUdp:
      return "udp";
    case Transport::kTcp:
      return "tcp";
    case Transport::kSctp:
      return "sctp";
    case Transport::kWebSocket:
      return "ws";
  }
  return "?";
}

}  // namespace capture
