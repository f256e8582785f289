// Loads of fixed-size integers from packet and file bytes, in either byte order. Callers check
// the length first; these never look past the octets they are asked for.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace capture::internal {

inline const uint8_t* bytes(std::string_view s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

inline uint16_t be16(const uint8_t* p) {
  return uint16_t(p[0] << 8 | p[1]);
}
inline uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline uint64_t be64(const uint8_t* p) {
  return uint64_t(be32(p)) << 32 | be32(p + 4);
}

inline uint16_t le16(const uint8_t* p) {
  return uint16_t(p[1] << 8 | p[0]);
}
inline uint32_t le32(const uint8_t* p) {
  return uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0];
}

// A 16- or 32-bit field of a file whose byte order is known only at run time.
inline uint16_t load16(const uint8_t* p, bool big_endian) {
  return big_endian ? be16(p) : le16(p);
}
inline uint32_t load32(const uint8_t* p, bool big_endian) {
  return big_endian ? be32(p) : le32(p);
}

}  // namespace capture::internal
