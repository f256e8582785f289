// The source and destination of one IP packet as the layers below transport see them; the
// transport layer fills in the ports.
#pragma once

#include <cstdint>
#include <cstring>

#include "capture/packet.h"

namespace capture::internal {

struct NetworkAddresses {
  Endpoint src, dst;
};

// A quick mix of an endpoint's address and port for hash tables (the analysers' EndpointHash
// walks the octets one by one; per-packet lookups want fewer steps).
inline uint64_t mixEndpoint(const Endpoint& e, uint64_t h) {
  uint64_t w[2];
  std::memcpy(w, e.addr.data(), sizeof w);
  h ^= w[0] + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h ^= w[1] + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h ^= (uint64_t(e.port) << 1 | uint64_t(e.v6)) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdull;
}

// Elapsed capture time, without signed overflow on hostile timestamps.
inline int64_t elapsed(int64_t now, int64_t then) {
  return int64_t(uint64_t(now) - uint64_t(then));
}

}  // namespace capture::internal
