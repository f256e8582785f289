// FNV-1a, the project's one non-cryptographic hash: cheap and well spread for short keys
// (Call-IDs to workers, addresses to buckets, the proxy's loop and branch hashes). Values
// are stable across builds and platforms, so hashes written into branch ids stay comparable.
//
//   size_t worker = common::fnv1a(call_id) % workers;
//   uint64_t h = common::fnv1aField(common::fnv1aField(common::kFnvOffset, a), b);
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace common {

inline constexpr uint64_t kFnvOffset = 1469598103934665603ULL;
inline constexpr uint64_t kFnvPrime = 1099511628211ULL;

// The `n` bytes at `p`, continuing from `h`.
inline uint64_t fnv1a(const unsigned char* p, size_t n, uint64_t h = kFnvOffset) {
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * kFnvPrime;
  return h;
}
inline uint64_t fnv1a(std::string_view s, uint64_t h = kFnvOffset) {
  return fnv1a(reinterpret_cast<const unsigned char*>(s.data()), s.size(), h);
}
// One field of a composite key: its bytes, then a 0xff separator, so that fields hashed one
// after another cannot run together (("ab", "c") and ("a", "bc") differ).
inline uint64_t fnv1aField(uint64_t h, std::string_view s) {
  return (fnv1a(s, h) ^ 0xff) * kFnvPrime;
}

}  // namespace common
