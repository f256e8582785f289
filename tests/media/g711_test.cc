#include "media/g711.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

namespace {

TEST(G711, DecodesKnownValues) {
  EXPECT_EQ(media::ulawToLinear(0xff), 0);
  EXPECT_EQ(media::ulawToLinear(0x7f), 0);
  EXPECT_EQ(media::ulawToLinear(0x00), -32124);
  EXPECT_EQ(media::ulawToLinear(0x80), 32124);
  EXPECT_EQ(media::ulawToLinear(0xfe), 8);
  EXPECT_EQ(media::ulawToLinear(0x7e), -8);
  EXPECT_EQ(media::alawToLinear(0xd5), 8);
  EXPECT_EQ(media::alawToLinear(0x55), -8);
  EXPECT_EQ(media::alawToLinear(0xaa), 32256);
  EXPECT_EQ(media::alawToLinear(0x2a), -32256);
}

TEST(G711, EncodesBackToTheSameCode) {
  for (int c = 0; c < 256; ++c) {
    const int16_t u = media::ulawToLinear(uint8_t(c));
    if (c != 0x7f) {  // 0x7f is -0, encoded as +0
      EXPECT_EQ(media::linearToUlaw(u), c) << c;
    }
    EXPECT_EQ(media::linearToAlaw(media::alawToLinear(uint8_t(c))), c) << c;
  }
  EXPECT_EQ(media::linearToUlaw(0), 0xff);
  EXPECT_EQ(media::linearToAlaw(0), 0xd5);
}

TEST(G711, QuantisationErrorStaysWithinAStep) {
  for (int x = -32768; x <= 32767; x += 7) {
    const int u = media::ulawToLinear(media::linearToUlaw(int16_t(x)));
    const int a = media::alawToLinear(media::linearToAlaw(int16_t(x)));
    const int mag = std::abs(x);
    EXPECT_LE(std::abs(u - std::clamp(x, -32124, 32124)), std::max(8, mag / 16)) << x;
    EXPECT_LE(std::abs(a - x), std::max(16, mag / 16)) << x;
  }
}

TEST(G711, DecodesBuffers) {
  int16_t out[3];
  media::decodeUlaw(std::string("\xff\x00\x80", 3), out);
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[1], -32124);
  EXPECT_EQ(out[2], 32124);
  media::decodeAlaw(std::string("\xd5\x55\xaa", 3), out);
  EXPECT_EQ(out[0], 8);
  EXPECT_EQ(out[1], -8);
  EXPECT_EQ(out[2], 32256);
}

}  // namespace
