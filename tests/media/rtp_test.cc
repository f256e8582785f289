#include "media/rtp.h"

#include <gtest/gtest.h>

#include <string>

namespace {

// Builds an RTP packet: header fields, then CSRCs, extension words, payload and padding.
std::string rtp(uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc, std::string payload = "abcd",
                bool marker = false) {
  std::string p(12, '\0');
  p[0] = char(0x80);
  p[1] = char((marker ? 0x80 : 0) | pt);
  p[2] = char(seq >> 8), p[3] = char(seq);
  for (int i = 0; i < 4; ++i) p[4 + i] = char(ts >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) p[8 + i] = char(ssrc >> (24 - 8 * i));
  return p + payload;
}

TEST(Rtp, ParsesTheFixedHeader) {
  const std::string p = rtp(8, 4660, 0x01020304, 0xdeadbeef, "payload", true);
  auto r = media::parseRtp(p);  // views into p
  ASSERT_TRUE(r.has_value()) << r.error().reason;
  EXPECT_EQ(r->version, 2);
  EXPECT_FALSE(r->padding);
  EXPECT_FALSE(r->extension);
  EXPECT_TRUE(r->marker);
  EXPECT_EQ(r->payload_type, 8);
  EXPECT_EQ(r->sequence, 4660);
  EXPECT_EQ(r->timestamp, 0x01020304u);
  EXPECT_EQ(r->ssrc, 0xdeadbeefu);
  EXPECT_EQ(r->csrc_count, 0);
  EXPECT_EQ(r->payload, "payload");
}

TEST(Rtp, ParsesCsrcsExtensionAndPadding) {
  std::string p = rtp(0, 1, 160, 7, "");
  p[0] = char(0x80 | 0x20 | 0x10 | 2);                      // P, X, CC=2
  p += std::string("\x11\x11\x11\x11\x22\x22\x22\x22", 8);  // two CSRCs
  p += std::string("\xbe\xde\x00\x01", 4);                  // one-byte extension, 1 word
  p += std::string("\x10\xaa\x00\x00", 4);
  p += "voice";
  p += std::string("\x00\x00\x03", 3);  // 3 octets of padding
  auto r = media::parseRtp(p);
  ASSERT_TRUE(r.has_value()) << r.error().reason;
  EXPECT_TRUE(r->padding);
  EXPECT_TRUE(r->extension);
  ASSERT_EQ(r->csrc_count, 2);
  EXPECT_EQ(r->csrc(0), 0x11111111u);
  EXPECT_EQ(r->csrc(1), 0x22222222u);
  EXPECT_EQ(r->extension_profile, 0xbede);
  EXPECT_EQ(r->extension_data, std::string("\x10\xaa\x00\x00", 4));
  EXPECT_EQ(r->padding_bytes, 3);
  EXPECT_EQ(r->payload, "voice");
}

TEST(Rtp, RefusesMalformedPackets) {
  EXPECT_EQ(media::parseRtp(std::string(11, '\x80')).error().reason,
            "rtp: shorter than the 12-octet header");
  std::string v1 = rtp(0, 1, 2, 3);
  v1[0] = char(0x40);
  EXPECT_EQ(media::parseRtp(v1).error().reason, "rtp: version is not 2");
  std::string csrc = rtp(0, 1, 2, 3, "");
  csrc[0] = char(0x8f);  // 15 CSRCs, none present
  EXPECT_EQ(media::parseRtp(csrc).error().reason, "rtp: CSRC list past the end");
  std::string ext = rtp(0, 1, 2, 3, std::string("\xbe\xde\x00\x09", 4));
  ext[0] = char(0x90);  // 9 extension words announced, none present
  EXPECT_EQ(media::parseRtp(ext).error().reason, "rtp: header extension past the end");
  std::string ext_header = rtp(0, 1, 2, 3, "\xbe");
  ext_header[0] = char(0x90);
  EXPECT_EQ(media::parseRtp(ext_header).error().reason, "rtp: header extension past the end");
  std::string pad = rtp(0, 1, 2, 3, std::string("ab\x09", 3));
  pad[0] = char(0xa0);
  EXPECT_EQ(media::parseRtp(pad).error().reason, "rtp: padding longer than the payload");
  std::string pad0 = rtp(0, 1, 2, 3, std::string("ab\x00", 3));
  pad0[0] = char(0xa0);
  EXPECT_EQ(media::parseRtp(pad0).error().reason, "rtp: padding count of 0");
  // Every truncation of a valid packet with CSRCs and an extension is refused or parsed
  // within bounds, never read past the end.
  std::string full =
      rtp(0, 1, 2, 3, std::string("\x11\x11\x11\x11\xbe\xde\x00\x01\x10\xaa\x00\x00xy", 14));
  full[0] = char(0x91);
  for (size_t n = 0; n <= full.size(); ++n) {
    auto r = media::parseRtp(std::string_view(full).substr(0, n));
    if (r) {
      EXPECT_LE(r->payload.size(), n);
    }
  }
  EXPECT_TRUE(media::parseRtp(full).has_value());
}

TEST(Rtp, TellsRtpFromRtcp) {
  EXPECT_TRUE(media::looksLikeRtp(rtp(0, 1, 2, 3)));
  EXPECT_TRUE(media::looksLikeRtp(rtp(101, 1, 2, 3, "", true)));
  // SR: 0x80 0xc8 reads as marker + PT 72.
  std::string sr("\x80\xc8\x00\x06", 4);
  sr += std::string(24, '\0');
  EXPECT_FALSE(media::looksLikeRtp(sr));
  EXPECT_TRUE(media::looksLikeRtcp(sr));
  std::string sdes("\x81\xca\x00\x02\x00\x00\x00\x01\x00\x00\x00\x00", 12);
  EXPECT_TRUE(media::looksLikeRtcp(sr + sdes));
  EXPECT_FALSE(media::looksLikeRtcp(sr + sdes + "xy"));  // lengths do not add up
  EXPECT_FALSE(media::looksLikeRtcp(sr.substr(0, 20)));  // length past the end
  EXPECT_FALSE(media::looksLikeRtcp(rtp(0, 1, 2, 3)));   // PT 0 is not an RTCP type
  EXPECT_FALSE(media::looksLikeRtcp(std::string("\x40\xc8\x00\x00", 4)));  // version 1
  EXPECT_TRUE(media::isRtcpPacketType(200));
  EXPECT_FALSE(media::isRtcpPacketType(224));
}

}  // namespace
