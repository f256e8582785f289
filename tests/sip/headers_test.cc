#include <gtest/gtest.h>

#include "sip/headers.h"
#include "sip/text.h"

namespace {

TEST(Via, SentByAndParameters) {
  sip::ViaList vias;
  ASSERT_TRUE(sip::parseVia(
      "SIP/2.0/TCP "
      "[2001:db8::9]:5070;branch=z9hG4bKx;received=192.0.2.7;rport=5071;maddr=224.2.0.1",
      vias));
  ASSERT_EQ(vias.size(), 1u);
  const sip::Via& v = vias[0];
  EXPECT_EQ(v.protocol_name, "SIP");
  EXPECT_EQ(v.protocol_version, "2.0");
  EXPECT_EQ(v.transport, "TCP");
  EXPECT_EQ(v.host, "[2001:db8::9]");
  EXPECT_EQ(v.port, 5070);
  EXPECT_EQ(v.received().value_or(""), "192.0.2.7");
  EXPECT_EQ(v.rport().value_or(0), 5071);
  EXPECT_EQ(v.maddr().value_or(""), "224.2.0.1");
  EXPECT_TRUE(v.hasRfc3261Branch());
}

TEST(Via, CommaListAndErrors) {
  sip::ViaList vias;
  ASSERT_TRUE(sip::parseVia("SIP/2.0/UDP a.example.com, SIP/2.0/UDP b.example.com:5062", vias));
  ASSERT_EQ(vias.size(), 2u);
  EXPECT_EQ(vias[1].port, 5062);
  for (const char* bad : {"", "SIP/2.0", "SIP/2.0/UDP", "SIP/2.0/UDP host:0",
                          "SIP/2.0/UDP host:70000", "SIP/2.0/UDP host;", "SIP/2.0/UDP host;branch=",
                          "SIP/2.0/UDP host junk", "SIP/2.0/UDP [::1", "SIP/2.0/UDP h,"}) {
    sip::ViaList l;
    EXPECT_FALSE(sip::parseVia(bad, l).has_value()) << bad;
  }
}

TEST(NameAddr, Forms) {
  auto a = sip::parseNameAddr("\"Alice \\\"A\\\"\" <sip:alice@example.com;transport=tcp>;tag=abc");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(sip::unquote(a->display_name), "Alice \"A\"");
  EXPECT_TRUE(a->angle_brackets);
  EXPECT_EQ(a->uri.transport().value_or(""), "tcp");
  EXPECT_EQ(a->tag().value_or(""), "abc");

  auto b = sip::parseNameAddr("Bob Smith <tel:+15550100>");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->display_name, "Bob Smith");
  EXPECT_EQ(b->uri.scheme(), sip::UriScheme::kTel);

  auto c = sip::parseNameAddr("sip:carol@example.com;tag=9");
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(c->angle_brackets);
  EXPECT_EQ(c->tag().value_or(""), "9");
  EXPECT_TRUE(c->uri.params().empty());

  for (const char* bad :
       {"", "<sip:a@b", "\"unterminated <sip:a@b>", "Bell, Alexander <sip:a@b>", "< sip:a@b >",
        "sip:a@b?x=y", "<sip:a@b>;;", "<sip:a@b> junk", "\"x\" sip:a@b", "<sip:a@b>;q=2"}) {
    EXPECT_FALSE(sip::parseNameAddr(bad).has_value()) << bad;
  }
}

TEST(Contact, StarListAndParameters) {
  sip::ContactList star;
  ASSERT_TRUE(sip::parseContact(" * ", star));
  EXPECT_TRUE(star.star);

  sip::ContactList l;
  ASSERT_TRUE(sip::parseContact(
      "<sip:a@192.0.2.1>;q=0.7;expires=3600, \"B\" <sip:b@192.0.2.2>;q=1.0, sip:c@192.0.2.3;q=0",
      l));
  ASSERT_EQ(l.contacts.size(), 3u);
  EXPECT_EQ(l.contacts[0].qMillis().value_or(-1), 700);
  EXPECT_EQ(l.contacts[0].expires().value_or(0), 3600u);
  EXPECT_EQ(l.contacts[1].qMillis().value_or(-1), 1000);
  EXPECT_EQ(l.contacts[2].qMillis().value_or(-1), 0);
  EXPECT_EQ(l.contacts[2].uri.host(), "192.0.2.3");

  for (const char* bad : {"<sip:a@b>;q=1.5", "<sip:a@b>;q=0.1234", "<sip:a@b>;expires=99999999999",
                          "<sip:a@b>,", ",<sip:a@b>"}) {
    sip::ContactList x;
    EXPECT_FALSE(sip::parseContact(bad, x).has_value()) << bad;
  }
}

TEST(RouteList, AngleBracketsRequired) {
  sip::NameAddrList l;
  ASSERT_TRUE(sip::parseRouteList("<sip:p1.example.com;lr>,<sip:p2.example.com;lr>", l));
  ASSERT_EQ(l.size(), 2u);
  EXPECT_TRUE(l[1].uri.looseRouting());
  sip::NameAddrList bad;
  EXPECT_FALSE(sip::parseRouteList("sip:p1.example.com;lr", bad).has_value());
}

TEST(Scalars, Bounds) {
  EXPECT_EQ(sip::parseCSeq("2147483647 INVITE")->number, 2147483647u);
  EXPECT_FALSE(sip::parseCSeq("2147483648 INVITE").has_value());
  EXPECT_FALSE(sip::parseCSeq("1INVITE").has_value());
  EXPECT_FALSE(sip::parseCSeq("1 INVITE x").has_value());
  EXPECT_FALSE(sip::parseCSeq("-1 INVITE").has_value());
  EXPECT_EQ(sip::parseMaxForwards("255").value_or(0), 255u);
  EXPECT_FALSE(sip::parseMaxForwards("256").has_value());
  EXPECT_EQ(sip::parseDeltaSeconds("4294967295").value_or(0), 4294967295u);
  EXPECT_FALSE(sip::parseDeltaSeconds("4294967296").has_value());
  EXPECT_FALSE(sip::parseDeltaSeconds("").has_value());
  EXPECT_EQ(sip::parseCallId(" abc@host ").value_or(""), "abc@host");
  EXPECT_FALSE(sip::parseCallId("a@b@c").has_value());
  EXPECT_FALSE(sip::parseCallId("a b").has_value());
  EXPECT_FALSE(sip::parseCallId("").has_value());
}

TEST(Other, MediaTypeTokensAndDate) {
  auto mt = sip::parseMediaType("multipart/mixed ; boundary=\"unique-boundary-1\"");
  ASSERT_TRUE(mt.has_value());
  EXPECT_EQ(mt->type, "multipart");
  EXPECT_EQ(sip::unquote(mt->params.find("boundary").value_or("")), "unique-boundary-1");
  EXPECT_FALSE(sip::parseMediaType("application").has_value());

  sip::TokenList t;
  ASSERT_TRUE(sip::parseTokenList("100rel , timer,path", t));
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t[2], "path");
  sip::TokenList bad;
  EXPECT_FALSE(sip::parseTokenList("a,,b", bad).has_value());
  // RFC 3261 §25.1: Supported and Allow may be empty lists; Require may not.
  sip::TokenList none;
  EXPECT_TRUE(sip::parseTokenList("", none, /*may_be_empty=*/true).has_value());
  EXPECT_TRUE(sip::parseTokenList(" \t", none, /*may_be_empty=*/true).has_value());
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(sip::parseTokenList("", none).has_value());
  EXPECT_FALSE(sip::parseTokenList(",", none, /*may_be_empty=*/true).has_value());

  EXPECT_TRUE(sip::checkSipDate("Sat, 13 Nov 2010 23:29:00 GMT").has_value());
  EXPECT_EQ(sip::formatSipDate(1289690940), "Sat, 13 Nov 2010 23:29:00 GMT");
  EXPECT_EQ(sip::formatSipDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_TRUE(sip::checkSipDate(sip::formatSipDate(1798761600)).has_value());
  EXPECT_FALSE(sip::checkSipDate("Fri, 01 Jan 2010 16:00:00 EST").has_value());
  EXPECT_FALSE(sip::checkSipDate("yesterday").has_value());
}

}  // namespace
