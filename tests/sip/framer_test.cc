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

// RFC 3261 §18.3 on a stream: Content-Length alone says where a message ends. One octet
// short leaves that octet for the next message; exact ends at the last octet; one octet more
// waits for it, and never hands on a message reaching past the bytes received.
TEST(StreamFramer, ContentLengthBoundary) {
  const std::string head = std::string(kOptions.substr(0, kOptions.find("Content-Length")));
  const std::string_view body = "hello";
  auto message = [&](size_t length) {
    return head + "Content-Length: " + std::to_string(length) + "\r\n\r\n" + std::string(body);
  };

  sip::StreamFramer shorter;
  shorter.append(message(body.size() - 1));
  auto a = shorter.next();
  ASSERT_TRUE(a.has_value()) << a.error().reason;
  EXPECT_EQ(a->kind, sip::FrameKind::kMessage);
  EXPECT_EQ(a->bytes, message(body.size() - 1).substr(0, message(body.size() - 1).size() - 1));
  auto rest = shorter.next();  // "o" alone: the start of whatever comes next
  ASSERT_FALSE(rest.has_value());
  EXPECT_EQ(rest.error().code, common::ErrorCode::kIncomplete);
  EXPECT_EQ(shorter.buffered(), 1u);

  sip::StreamFramer exact;
  exact.append(message(body.size()));
  auto b = exact.next();
  ASSERT_TRUE(b.has_value()) << b.error().reason;
  EXPECT_EQ(b->bytes, message(body.size()));
  auto none = exact.next();
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, common::ErrorCode::kIncomplete);
  EXPECT_EQ(exact.buffered(), 0u);

  sip::StreamFramer longer;
  const std::string text = message(body.size() + 1);
  longer.append(text);
  auto c = longer.next();
  ASSERT_FALSE(c.has_value()) << "a message one octet past the bytes received was framed";
  EXPECT_EQ(c.error().code, common::ErrorCode::kIncomplete);
  EXPECT_EQ(longer.buffered(), text.size());
  // The missing octet arrives: now the whole message, that octet included.
  longer.append("!");
  auto d = longer.next();
  ASSERT_TRUE(d.has_value()) << d.error().reason;
  EXPECT_EQ(d->bytes, text + "!");
  // What the transport then does with the frame: parsed as a stream message, exact body.
  sip::ParseOptions stream;
  stream.datagram = false;
  auto m = sip::Message::parse(d->bytes, stream);
  ASSERT_TRUE(m.has_value()) << m.error().reason;
  EXPECT_EQ(m->body(), std::string(body) + "!");
}

}  // namespace
