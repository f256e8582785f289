// G.711 companding: μ-law and A-law octets to 16-bit linear PCM through 256-entry tables
// built at compile time, and linear back to each law (for tests, tones and re-encoding).
//
//   int16_t pcm[160];
//   media::decodeAlaw(rtp.payload, pcm);   // one 20 ms PCMA frame
//   detector.feed(position, {pcm, rtp.payload.size()});
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace media {

namespace internal {

// μ-law (G.711 Table 2a): the octet is sent inverted; sign, 3-bit segment, 4-bit step. The
// magnitude is ((step << 3) + 132) << segment, less the bias of 132.
constexpr int16_t ulawDecode(uint8_t u) {
  const uint8_t x = uint8_t(~u);
  const int segment = (x >> 4) & 7;
  const int step = x & 0x0f;
  const int magnitude = (((step << 3) + 0x84) << segment) - 0x84;
  return int16_t((x & 0x80) ? -magnitude : magnitude);
}

// A-law (G.711 Table 1a): even bits inverted (XOR 0x55); the sign bit set means positive.
// Segment 0 is linear ((step << 4) + 8); segment s > 0 is ((step << 4) + 264) << (s - 1).
constexpr int16_t alawDecode(uint8_t a) {
  const uint8_t x = uint8_t(a ^ 0x55);
  const int segment = (x >> 4) & 7;
  const int step = x & 0x0f;
  const int magnitude = segment == 0 ? (step << 4) + 8 : ((step << 4) + 0x108) << (segment - 1);
  return int16_t((x & 0x80) ? magnitude : -magnitude);
}

template <int16_t (*Decode)(uint8_t)>
constexpr std::array<int16_t, 256> decodeTable() {
  std::array<int16_t, 256> t{};
  for (int i = 0; i < 256; ++i) t[size_t(i)] = Decode(uint8_t(i));
  return t;
}

inline constexpr std::array<int16_t, 256> kUlawToLinear = decodeTable<ulawDecode>();
inline constexpr std::array<int16_t, 256> kAlawToLinear = decodeTable<alawDecode>();

}  // namespace internal

inline int16_t ulawToLinear(uint8_t u) {
  return internal::kUlawToLinear[u];
}
inline int16_t alawToLinear(uint8_t a) {
  return internal::kAlawToLinear[a];
}

uint8_t linearToUlaw(int16_t pcm);
uint8_t linearToAlaw(int16_t pcm);

// Decode `in.size()` octets into `out`, which has room for as many samples.
void decodeUlaw(std::string_view in, int16_t* out);
void decodeAlaw(std::string_view in, int16_t* out);

}  // namespace media
