#include "media/rtcp.h"

#include <gtest/gtest.h>

#include <string>

namespace {

std::string be32(uint32_t v) {
  return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}
std::string header(int count, uint8_t type, size_t body_bytes) {
  const size_t words = body_bytes / 4;  // length field: words after the header
  return {char(0x80 | count), char(type), char(words >> 8), char(words)};
}
std::string block(uint32_t ssrc, uint8_t fraction, int32_t lost, uint32_t seq, uint32_t jitter,
                  uint32_t lsr, uint32_t dlsr) {
  std::string b = be32(ssrc);
  b += char(fraction);
  b += char(lost >> 16), b += char(lost >> 8), b += char(lost);
  return b + be32(seq) + be32(jitter) + be32(lsr) + be32(dlsr);
}

std::string senderReport() {
  std::string body =
      be32(0xd2bd4e3e) + be32(3314714329u) + be32(4118873637u) + be32(160) + be32(10) + be32(1600);
  body += block(0x58f33dea, 64, -3, 11480, 1888, 2262431105u, 168427);
  return header(1, 200, body.size()) + body;
}

TEST(Rtcp, ParsesACompoundOfSrRrSdesAndBye) {
  std::string rr_body = be32(0x58f33dea) + block(0xd2bd4e3e, 0, 0, 7, 12, 0, 0) +
                        block(0x01020304, 255, 70000, 9, 13, 1, 2);
  std::string sdes_body =
      be32(0xd2bd4e3e) + std::string("\x01\x05") + "alice" + std::string(1, '\0');
  sdes_body += std::string(4 - sdes_body.size() % 4, '\0');
  std::string bye_body = be32(0xd2bd4e3e) + std::string("\x03") + "bye";
  std::string d = senderReport() + header(2, 201, rr_body.size()) + rr_body +
                  header(1, 202, sdes_body.size()) + sdes_body + header(1, 203, bye_body.size()) +
                  bye_body;
  auto r = media::parseRtcp(d);
  ASSERT_TRUE(r.has_value()) << r.error().reason;
  ASSERT_EQ(r->packets.size(), 4u);
  const auto& sr = r->packets[0];
  EXPECT_EQ(sr.type, media::kRtcpSr);
  EXPECT_EQ(sr.ssrc, 0xd2bd4e3eu);
  ASSERT_TRUE(sr.sender.has_value());
  EXPECT_EQ(sr.sender->ntpMiddle(), 2262431105u);  // (msw << 16) | (lsw >> 16): the LSR echoed
  EXPECT_EQ(sr.sender->packet_count, 10u);
  ASSERT_EQ(sr.blocks.size(), 1u);
  EXPECT_EQ(sr.blocks[0].ssrc, 0x58f33deau);
  EXPECT_EQ(sr.blocks[0].fraction_lost, 64);
  EXPECT_EQ(sr.blocks[0].cumulative_lost, -3);
  EXPECT_EQ(sr.blocks[0].highest_seq, 11480u);
  EXPECT_EQ(sr.blocks[0].jitter, 1888u);
  EXPECT_EQ(sr.blocks[0].lsr, 2262431105u);
  EXPECT_EQ(sr.blocks[0].dlsr, 168427u);
  const auto& rr = r->packets[1];
  EXPECT_EQ(rr.type, media::kRtcpRr);
  EXPECT_FALSE(rr.sender.has_value());
  ASSERT_EQ(rr.blocks.size(), 2u);
  EXPECT_EQ(rr.blocks[1].fraction_lost, 255);
  EXPECT_EQ(rr.blocks[1].cumulative_lost, 70000);
  const auto& sdes = r->packets[2];
  ASSERT_EQ(sdes.sdes.size(), 1u);
  EXPECT_EQ(sdes.sdes[0].ssrc, 0xd2bd4e3eu);
  ASSERT_EQ(sdes.sdes[0].items.size(), 1u);
  EXPECT_EQ(sdes.sdes[0].items[0].type, 1);
  EXPECT_EQ(sdes.sdes[0].items[0].text, "alice");
  const auto& bye = r->packets[3];
  ASSERT_EQ(bye.bye_ssrcs.size(), 1u);
  EXPECT_EQ(bye.bye_reason, "bye");
  EXPECT_EQ(r->trailing_bytes, 0u);
}

TEST(Rtcp, SkipsAppAndToleratesShortTrailingBytes) {
  std::string app_body = be32(0x11223344) + "NAME" + "data";
  std::string d =
      senderReport() + header(0, 204, app_body.size()) + app_body + std::string(2, '\0');
  auto r = media::parseRtcp(d);
  ASSERT_TRUE(r.has_value()) << r.error().reason;
  ASSERT_EQ(r->packets.size(), 2u);
  EXPECT_EQ(r->packets[1].type, media::kRtcpApp);
  EXPECT_EQ(r->packets[1].ssrc, 0x11223344u);
  EXPECT_EQ(r->trailing_bytes, 2u);
}

TEST(Rtcp, RefusesMalformedCompounds) {
  EXPECT_EQ(media::parseRtcp("").error().reason, "rtcp: empty datagram");
  EXPECT_EQ(media::parseRtcp("\x80\xc8").error().reason,
            "rtcp: packet 1: shorter than the 4-octet header");
  std::string v1 = senderReport();
  v1[0] = char(0x41);
  EXPECT_EQ(media::parseRtcp(v1).error().reason, "rtcp: packet 1: version is not 2");
  std::string type = senderReport();
  type[1] = char(100);
  EXPECT_EQ(media::parseRtcp(type).error().reason, "rtcp: packet 1: packet type outside 192-223");
  std::string sr = senderReport();
  EXPECT_EQ(media::parseRtcp(sr.substr(0, sr.size() - 4)).error().reason,
            "rtcp: packet 1: length past the end of the datagram");
  std::string rc = header(3, 201, 28) + be32(1) + block(2, 0, 0, 0, 0, 0, 0);  // RC 3, room for 1
  EXPECT_EQ(media::parseRtcp(rc).error().reason, "rtcp: packet 1: report blocks past its length");
  std::string sdes = header(1, 202, 8) + be32(1) + std::string("\x01\x09zz\x00", 4);
  EXPECT_EQ(media::parseRtcp(sdes).error().reason, "rtcp: packet 1: SDES item past its length");
  std::string second = senderReport() + std::string("\x40\xc9\x00\x00", 4);
  EXPECT_EQ(media::parseRtcp(second).error().reason, "rtcp: packet 2: version is not 2");
  // Every truncation is refused or parsed within bounds.
  std::string full = senderReport() + header(1, 203, 4) + be32(9);
  for (size_t n = 0; n < full.size(); ++n) (void)media::parseRtcp(full.substr(0, n));
  EXPECT_TRUE(media::parseRtcp(full).has_value());
}

}  // namespace
