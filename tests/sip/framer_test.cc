#include <gtest/gtest.h>

#include "sip/framer.h"

namespace {

constexpr std::string_view kOptions =
    "OPTIONS sip:a@example.com SIP/2.0\r\n"
    "Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK1\r\n"
    "From: <sip:b@example.com>;tag=1\r\n"
    "To: <sip:a@example.com>\r\n"
    "Call-ID: f1\r\n"
    "CSeq: 1 OPTIONS\r\n"
    "Content-Length: 5\r\n"
    "\r\n"
    "hello";

TEST(StreamFramer, CutsMessagesFedByteByByte) {
  sip::StreamFramer f;
  std::string stream = std::string(kOptions) + "\r\n\r\n" + std::string(kOptions);
  std::vector<sip::FrameKind> kinds;
  std::vector<std::string> messages;
  for (char c : stream) {
    f.append(std::string_view(&c, 1));
    for (;;) {
      auto fr = f.next();
      if (!fr) {
        ASSERT_EQ(fr.error().code, common::ErrorCode::kIncomplete) << fr.error().reason;
        break;
      }
      kinds.push_back(fr->kind);
      if (fr->kind == sip::FrameKind::kMessage) messages.emplace_back(fr->bytes);
    }
  }
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0], kOptions);
  EXPECT_EQ(messages[1], kOptions);
  EXPECT_EQ(kinds, (std::vector<sip::FrameKind>{sip::FrameKind::kMessage, sip::FrameKind::kPing,
                                                sip::FrameKind::kMessage}));
  EXPECT_EQ(f.buffered(), 0u);
}

TEST(StreamFramer, PongAndCompactContentLength) {
  sip::StreamFramer f;
  f.append("\r\nOPTIONS sip:x SIP/2.0\r\nl: 2\r\n\r\nab");
  auto a = f.next();
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->kind, sip::FrameKind::kPong);
  auto b = f.next();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->kind, sip::FrameKind::kMessage);
  EXPECT_EQ(b->bytes.substr(b->bytes.size() - 2), "ab");
}

TEST(StreamFramer, WaitsForALongBody) {
  sip::StreamFramer f;
  f.append("INVITE sip:x SIP/2.0\r\nContent-Length: 9999\r\n\r\nshort");
  auto r = f.next();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, common::ErrorCode::kIncomplete);
}

TEST(StreamFramer, RefusesOversizeAndDuplicateLength) {
  sip::StreamFramer f(1024);
  f.append("INVITE sip:x SIP/2.0\r\nX: " + std::string(2000, 'a'));
  auto r = f.next();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, common::ErrorCode::kTooLarge);
  EXPECT_EQ(r.error().status, 513);

  sip::StreamFramer g;
  g.append("INVITE sip:x SIP/2.0\r\nContent-Length: 1\r\nl: 1\r\n\r\nab");
  auto d = g.next();
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().status, 400);

  sip::StreamFramer h(1024);
  h.append("INVITE sip:x SIP/2.0\r\nContent-Length: 5000\r\n\r\n");
  auto big = h.next();
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().status, 513);
}

}  // namespace
