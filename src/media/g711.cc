#include "media/g711.h"

namespace media {

static_assert(internal::kUlawToLinear[0xff] == 0 && internal::kUlawToLinear[0x00] == -32124);
static_assert(internal::kAlawToLinear[0xd5] == 8 && internal::kAlawToLinear[0xaa] == 32256);

uint8_t linearToUlaw(int16_t pcm) {
  constexpr int kBias = 0x84, kClip = 32635;
  int x = pcm;
  const int sign = x < 0 ? 0x80 : 0x00;
  if (x < 0) x = -x;
  if (x > kClip) x = kClip;
  x += kBias;
  int segment = 7;
  for (int mask = 0x4000; segment > 0 && !(x & mask); mask >>= 1) --segment;
  const int step = (x >> (segment + 3)) & 0x0f;
  return uint8_t(~(sign | (segment << 4) | step));
}

uint8_t linearToAlaw(int16_t pcm) {
  int x = pcm;
  const int sign = x >= 0 ? 0x80 : 0x00;
  if (x < 0) x = -x - 1;  // -32768 encodes like 32767
  int segment = 0, step = 0;
  if (x < 256) {
    step = x >> 4;
  } else {
    segment = 1;
    for (int v = x >> 9; v && segment < 7; v >>= 1) ++segment;
    step = (x >> (segment + 3)) & 0x0f;
  }
  return uint8_t((sign | (segment << 4) | step) ^ 0x55);
}

void decodeUlaw(std::string_view in, int16_t* out) {
  for (size_t i = 0; i < in.size(); ++i) out[i] = internal::kUlawToLinear[uint8_t(in[i])];
}

void decodeAlaw(std::string_view in, int16_t* out) {
  for (size_t i = 0; i < in.size(); ++i) out[i] = internal::kAlawToLinear[uint8_t(in[i])];
}

}  // namespace media
