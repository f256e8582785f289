#include "edge/proxy_rules.h"

#include "edge/route_tokens.h"

#include <gtest/gtest.h>

#include <string>

namespace {

edge::Self self() {
  edge::Self s;
  s.listeners.push_back({transport::Protocol::kUdp, *transport::Address::parse("192.0.2.1:5060")});
  s.listeners.push_back({transport::Protocol::kTcp, *transport::Address::parse("192.0.2.1:5060")});
  s.domains = {"example.com"};
  s.aliases = {"sip.example.com"};
  return s;
}

sip::Message msg(const std::string& text) {
  auto m = sip::Message::parse(text);
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().reason);
  return std::move(*m);
}

std::string invite(std::string extra = "", std::string ruri = "sip:bob@example.com") {
  return "INVITE " + ruri +
         " SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKa;rport\r\n"
         "From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n"
         "Call-ID: c1\r\nCSeq: 1 INVITE\r\n" +
         extra + "Content-Length: 0\r\n\r\n";
}

TEST(ProxyRules, Validation) {
  std::vector<std::string_view> supported{"path"};
  EXPECT_FALSE(edge::validateForProxy(msg(invite("Max-Forwards: 70\r\n")), self(), supported));
  auto hops = edge::validateForProxy(msg(invite("Max-Forwards: 0\r\n")), self(), supported);
  ASSERT_TRUE(hops);
  EXPECT_EQ(hops->status, 483);
  auto ext =
      edge::validateForProxy(msg(invite("Proxy-Require: path, foo, Bar\r\n")), self(), supported);
  ASSERT_TRUE(ext);
  EXPECT_EQ(ext->status, 420);
  ASSERT_EQ(ext->headers.size(), 1u);
  EXPECT_EQ(ext->headers[0], (std::pair<std::string, std::string>{"Unsupported", "foo, Bar"}));
  auto scheme =
      edge::validateForProxy(msg(invite("", "mailto:bob@example.com")), self(), supported);
  ASSERT_TRUE(scheme);
  EXPECT_EQ(scheme->status, 416);
  EXPECT_FALSE(edge::validateForProxy(msg(invite("", "tel:+15551234")), self(), supported));
}

TEST(ProxyRules, ThisServerAndDomains) {
  auto s = self();
  EXPECT_TRUE(s.isThisServer(*sip::Uri::parse("sip:192.0.2.1;lr")));
  EXPECT_TRUE(s.isThisServer(*sip::Uri::parse("sip:192.0.2.1:5060;transport=tcp;lr")));
  EXPECT_FALSE(s.isThisServer(*sip::Uri::parse("sip:192.0.2.1:5070;lr")));
  EXPECT_TRUE(s.isThisServer(*sip::Uri::parse("sip:SIP.example.com;lr")));
  // An alias names this server only on a port it listens on.
  EXPECT_FALSE(s.isThisServer(*sip::Uri::parse("sip:sip.example.com:5999;lr")));
  edge::Self wildcard;
  wildcard.listeners.push_back(
      {transport::Protocol::kUdp, *transport::Address::parse("0.0.0.0:5070")});
  wildcard.aliases = {"127.0.0.1", "192.0.2.44"};
  EXPECT_TRUE(wildcard.isThisServer(*sip::Uri::parse("sip:192.0.2.44:5070;lr")));
  EXPECT_FALSE(wildcard.isThisServer(*sip::Uri::parse("sip:192.0.2.44:5080")));
  EXPECT_FALSE(wildcard.isThisServer(*sip::Uri::parse("sip:127.0.0.1:40000;transport=udp")));
  EXPECT_FALSE(s.isThisServer(*sip::Uri::parse("sip:bob@example.com")));
  EXPECT_TRUE(s.servesDomain("EXAMPLE.com"));
  EXPECT_FALSE(s.servesDomain("example.org"));
  edge::Self any;
  EXPECT_TRUE(any.servesDomain("anything.net"));
}

TEST(ProxyRules, LoopsAndSpirals) {
  auto s = self();
  auto req = msg(invite("Max-Forwards: 70\r\n"));
  std::string hash = edge::loopHash(req);
  EXPECT_EQ(hash.size(), 16u);
  EXPECT_FALSE(edge::isLoop(req, s, hash));
  // The same request back with our Via on it: a loop.
  edge::RouteTokens tokens("k");
  std::string our_branch = tokens.branch(hash, 7);
  auto looped = msg(invite("Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" + our_branch + "\r\n"));
  EXPECT_EQ(edge::loopHash(looped), hash);
  EXPECT_TRUE(edge::isLoop(looped, s, edge::loopHash(looped)));
  // Back with a different Request-URI (retargeted): a spiral, not a loop.
  auto spiral = msg(
      invite("Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" + our_branch + "\r\n", "sip:bob@10.0.0.9"));
  EXPECT_FALSE(edge::isLoop(spiral, s, edge::loopHash(spiral)));
  // Someone else's Via with our hash is not ours.
  auto foreign = msg(invite("Via: SIP/2.0/UDP 198.51.100.1;branch=" + our_branch + "\r\n"));
  EXPECT_FALSE(edge::isLoop(foreign, s, edge::loopHash(foreign)));
  EXPECT_NE(tokens.branch(hash, 1), tokens.branch(hash, 2));
}

TEST(ProxyRules, StampedVia) {
  auto req = msg(invite());
  const sip::Via& v = req.vias()->front();
  auto stamped = edge::stampedVia(v, *transport::Address::parse("203.0.113.9:40000"));
  ASSERT_TRUE(stamped);
  EXPECT_EQ(*stamped, "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKa;rport=40000;received=203.0.113.9");
  auto plain =
      msg("OPTIONS sip:x@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 198.51.100.4;branch=z9hG4bKb\r\n"
          "From: <sip:a@b>;tag=1\r\nTo: <sip:x@example.com>\r\nCall-ID: o\r\nCSeq: 1 OPTIONS\r\n"
          "Content-Length: 0\r\n\r\n");
  EXPECT_FALSE(
      edge::stampedVia(plain.vias()->front(), *transport::Address::parse("198.51.100.4:5060")));
  auto named =
      edge::stampedVia(plain.vias()->front(), *transport::Address::parse("198.51.100.5:33000"));
  ASSERT_TRUE(named);
  EXPECT_EQ(*named, "SIP/2.0/TCP 198.51.100.4;branch=z9hG4bKb;received=198.51.100.5");
}

TEST(ProxyRules, OurSentBy) {
  auto s = self();
  edge::Self wildcard;
  wildcard.listeners.push_back(
      {transport::Protocol::kUdp, *transport::Address::parse("0.0.0.0:5060")});
  // Whether `via` (the top Via of a response) is a sent-by of `who`; the message lives while
  // its Via is read.
  auto ours = [](const edge::Self& who, const std::string& via) {
    auto m = msg("SIP/2.0 200 OK\r\nVia: " + via +
                 "\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\n"
                 "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
    return who.isOurSentBy(m.vias()->front());
  };
  EXPECT_TRUE(ours(s, "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx"));
  EXPECT_TRUE(ours(s, "SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKx"));        // default port
  EXPECT_FALSE(ours(s, "SIP/2.0/TLS 192.0.2.1:5060;branch=z9hG4bKx"));  // no such listener
  EXPECT_FALSE(ours(s, "SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKx"));
  EXPECT_FALSE(ours(s, "SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bKx"));
  EXPECT_FALSE(ours(s, "SIP/2.0/UDP sip.example.com:5060;branch=z9hG4bKx"));
  EXPECT_TRUE(ours(wildcard, "SIP/2.0/UDP 203.0.113.4:5060;branch=z9hG4bKx"));
}

TEST(ProxyRules, OurHeaders) {
  transport::Flow f;
  f.protocol = transport::Protocol::kTcp;
  f.local = *transport::Address::parse("[2001:db8::1]:5060");
  EXPECT_EQ(edge::ourVia(f, "z9hG4bKx"), "SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKx;rport");
  EXPECT_EQ(
      edge::ourRecordRoute(transport::Protocol::kUdp, *transport::Address::parse("192.0.2.1:5060")),
      "<sip:192.0.2.1:5060;lr>");
  EXPECT_EQ(
      edge::ourRecordRoute(transport::Protocol::kWs, *transport::Address::parse("192.0.2.1:5066")),
      "<sip:192.0.2.1:5066;transport=ws;lr>");
  EXPECT_EQ(edge::ourRecordRoute(transport::Protocol::kTcp,
                                 *transport::Address::parse("192.0.2.1:5060"), "0011223344556677"),
            "<sip:192.0.2.1:5060;transport=tcp;lr;sbd=0011223344556677>");
}

TEST(ProxyRules, BestResponse) {
  EXPECT_EQ(edge::chooseBestResponse({486, 200, 603}), 1u);
  EXPECT_EQ(edge::chooseBestResponse({486, 603}), 1u);
  EXPECT_EQ(edge::chooseBestResponse({503, 486}), 1u);
  EXPECT_EQ(edge::chooseBestResponse({408, 404}), 1u);
  EXPECT_EQ(edge::chooseBestResponse({404, 407}), 1u);
  EXPECT_EQ(edge::chooseBestResponse({503, 500}), 1u);
  EXPECT_EQ(edge::chooseBestResponse({302, 486}), 0u);
  EXPECT_EQ(edge::chooseBestResponse({480}), 0u);
}

}  // namespace

namespace {

TEST(ProxyRules, RoutableLocalNeverTheWildcard) {
  auto any = *transport::Address::parse("0.0.0.0:5060");
  EXPECT_EQ(edge::routableLocal(any, *transport::Address::parse("127.0.0.1:5070")).toString(),
            "127.0.0.1:5060");
  auto fixed = *transport::Address::parse("192.0.2.1:5060");
  EXPECT_EQ(edge::routableLocal(fixed, *transport::Address::parse("127.0.0.1:5070")), fixed);
  // Toward another host: the address the kernel routes from (or the wildcard when this
  // sandbox has no route at all), with the listener's port.
  auto routed = edge::routableLocal(any, *transport::Address::parse("198.51.100.7:5060"));
  EXPECT_EQ(routed.port, 5060);
  auto v6 = edge::routableLocal(*transport::Address::parse("[::]:5062"),
                                *transport::Address::parse("[::1]:5070"));
  EXPECT_EQ(v6.toString(), "[::1]:5062");
}

}  // namespace
