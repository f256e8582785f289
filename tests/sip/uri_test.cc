#include <gtest/gtest.h>

#include "sip/text.h"
#include "sip/uri.h"

namespace {

sip::Uri mustParse(std::string_view s) {
  auto u = sip::Uri::parse(s);
  EXPECT_TRUE(u.has_value()) << s << ": " << (u ? "" : u.error().reason);
  return u.value_or(sip::Uri());
}

TEST(Uri, SipComponents) {
  auto u = mustParse("sips:alice:secret@Example.COM:5071;transport=tcp;lr?subject=hi&x=y");
  EXPECT_EQ(u.scheme(), sip::UriScheme::kSips);
  EXPECT_EQ(u.user(), "alice");
  EXPECT_TRUE(u.hasPassword());
  EXPECT_EQ(u.password(), "secret");
  EXPECT_EQ(u.host(), "Example.COM");
  EXPECT_EQ(u.port(), 5071);
  EXPECT_EQ(u.transport().value_or(""), "tcp");
  EXPECT_TRUE(u.looseRouting());
  EXPECT_EQ(u.headers(), "subject=hi&x=y");
}

TEST(Uri, HostOnlyAndDefaults) {
  auto u = mustParse("sip:192.0.2.1");
  EXPECT_EQ(u.user(), "");
  EXPECT_EQ(u.host(), "192.0.2.1");
  EXPECT_FALSE(u.hasPort());
  EXPECT_EQ(u.portOr(5060), 5060);
}

TEST(Uri, Ipv6Reference) {
  auto u = mustParse("sip:bob@[2001:db8::10]:5070;maddr=[2001:db8::1]");
  EXPECT_TRUE(u.isIpv6());
  EXPECT_EQ(u.host(), "[2001:db8::10]");
  EXPECT_EQ(u.hostAddress(), "2001:db8::10");
  EXPECT_EQ(u.port(), 5070);
  EXPECT_EQ(u.maddr().value_or(""), "[2001:db8::1]");
}

TEST(Uri, Tel) {
  auto u = mustParse("tel:+1-201-555-0123;phone-context=example.com");
  EXPECT_EQ(u.scheme(), sip::UriScheme::kTel);
  EXPECT_EQ(u.opaque(), "+1-201-555-0123");
  EXPECT_EQ(u.params().find("phone-context").value_or(""), "example.com");
  EXPECT_TRUE(sip::equivalent(u, mustParse("tel:+12015550123;phone-context=example.com")));
}

TEST(Uri, Rejects) {
  for (const char* bad : {"",          "sip:",          "sip:@host",     "sip:alice@",
                          "sip:a@b:0", "sip:a@b:65536", "sip:a@b:x",     "sip:a@[::1",
                          "sip:a b@c", "sip:a@b;",      "sip:a@b;=x",    "sip:a@b?",
                          "sip:a@b?h", "<sip:a@b>",     "1sip:x",        "tel:",
                          "tel:12a;",  "sip:a@b c",     "sip:a@b;x=y z", "http:bad uri"}) {
    EXPECT_FALSE(sip::Uri::parse(bad).has_value()) << bad;
  }
}

// The examples of RFC 3261 §19.1.4.
TEST(Uri, EquivalentPerRfc3261) {
  auto eq = [](const char* a, const char* b) {
    return sip::equivalent(mustParse(a), mustParse(b));
  };
  EXPECT_TRUE(eq("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"));
  EXPECT_TRUE(eq("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"));
  EXPECT_TRUE(eq("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"));
  EXPECT_TRUE(eq("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"));
  EXPECT_TRUE(eq("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
                 "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"));
  EXPECT_TRUE(eq("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
                 "sip:alice@atlanta.com?priority=urgent&subject=project%20x"));

  EXPECT_FALSE(eq("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"));
  EXPECT_FALSE(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
  EXPECT_FALSE(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"));
  EXPECT_FALSE(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"));
  EXPECT_FALSE(eq("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"));
  EXPECT_FALSE(eq("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
  EXPECT_FALSE(eq("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"));
  EXPECT_FALSE(eq("sip:alice@atlanta.com", "sips:alice@atlanta.com"));
}

// Found by the URI fuzzer: a repeated parameter made a URI unequal to itself.
TEST(Uri, RepeatedParameterStaysReflexive) {
  auto u = mustParse("sip:%61lice@attCoM;Transport;Transport=tcp");
  EXPECT_TRUE(sip::equivalent(u, u));
  EXPECT_FALSE(sip::equivalent(u, mustParse("sip:alice@attCoM;transport=tcp")));
}

TEST(Text, UnquoteAndDecode) {
  EXPECT_EQ(sip::unquote("\"a\\\"b\""), "a\"b");
  EXPECT_EQ(sip::unquote("plain"), "plain");
  EXPECT_EQ(sip::percentDecode("%41%zz%4"), "A%zz%4");
}

}  // namespace
