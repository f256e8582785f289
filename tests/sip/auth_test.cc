#include <gtest/gtest.h>

#include "sip/auth.h"
#include "sip/message.h"

namespace {

using sip::DigestAlgorithm;

// RFC 2617 §3.5.
TEST(Digest, Rfc2617WorkedExample) {
  std::string ha1 =
      sip::computeHa1(DigestAlgorithm::kMd5, "Mufasa", "testrealm@host.com", "Circle Of Life");
  EXPECT_EQ(ha1, "939e7578ed9e3c518a452acee763bce9");
  EXPECT_EQ(
      sip::computeResponse(DigestAlgorithm::kMd5, ha1, "GET", "/dir/index.html",
                           "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth"),
      "6629fae49393a05397450978507c4ef1");
}

// RFC 7616 §3.9.1, both algorithms.
TEST(Digest, Rfc7616WorkedExamples) {
  const char* nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
  const char* cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
  std::string md5 =
      sip::computeHa1(DigestAlgorithm::kMd5, "Mufasa", "http-auth@example.org", "Circle of Life");
  EXPECT_EQ(sip::computeResponse(DigestAlgorithm::kMd5, md5, "GET", "/dir/index.html", nonce,
                                 "00000001", cnonce, "auth"),
            "8ca523f5e9506fed4657c9700eebdbec");
  std::string sha = sip::computeHa1(DigestAlgorithm::kSha256, "Mufasa", "http-auth@example.org",
                                    "Circle of Life");
  EXPECT_EQ(sha.size(), 64u);
  EXPECT_EQ(sip::computeResponse(DigestAlgorithm::kSha256, sha, "GET", "/dir/index.html", nonce,
                                 "00000001", cnonce, "auth"),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

TEST(Digest, NoQopAndConstantTimeCompare) {
  std::string ha1 = sip::computeHa1(DigestAlgorithm::kMd5, "a", "r", "p");
  std::string r1 =
      sip::computeResponse(DigestAlgorithm::kMd5, ha1, "REGISTER", "sip:r", "n", "", "", "");
  std::string r2 =
      sip::computeResponse(DigestAlgorithm::kMd5, ha1, "REGISTER", "sip:r", "n", "", "", "auth");
  EXPECT_EQ(r1.size(), 32u);
  EXPECT_NE(r1, r2);
  EXPECT_TRUE(sip::constantTimeEquals(r1, r1));
  EXPECT_FALSE(sip::constantTimeEquals(r1, r2));
  EXPECT_FALSE(sip::constantTimeEquals(r1, r1.substr(1)));
}

TEST(Credentials, ParsesAFoldedSipAuthorization) {
  auto c = sip::parseCredentials(
      "Digest username = \"1001\",realm=\"example.com\",\r\n nonce=\"abc\", "
      "uri=\"sip:example.com\" ,response=\"0123456789abcdef0123456789abcdef\",\r\n\t"
      "algorithm=SHA-256, cnonce=\"xyz\", nc=0000000a, qop=auth, opaque=\"o\"");
  ASSERT_TRUE(c.has_value()) << c.error().reason;
  EXPECT_TRUE(c->isDigest());
  EXPECT_EQ(c->get("username").value_or(""), "1001");
  EXPECT_EQ(c->get("REALM").value_or(""), "example.com");
  EXPECT_EQ(c->get("uri").value_or(""), "sip:example.com");
  EXPECT_EQ(c->get("nc").value_or(""), "0000000a");
  EXPECT_EQ(c->algorithm(), DigestAlgorithm::kSha256);
  EXPECT_EQ(c->params().size(), 10u);
}

TEST(Credentials, UnknownSchemeAndEscapes) {
  auto c = sip::parseCredentials("NoOneKnowsThisScheme opaque-data=here");  // RFC 4475 regaut01
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->scheme(), "NoOneKnowsThisScheme");
  EXPECT_FALSE(c->isDigest());
  EXPECT_EQ(c->get("opaque-data").value_or(""), "here");

  auto e = sip::parseCredentials("Digest username=\"a\\\"b\", realm=\"r\"");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->unescaped("username").value_or(""), "a\"b");
  EXPECT_EQ(sip::parseCredentials("Digest algorithm=MD5-sess")->algorithm(), std::nullopt);
}

TEST(Credentials, Errors) {
  for (const char* bad : {"", "   ", "Digest username", "Digest username=\"open",
                          "Digest realm=\"a\", realm=\"b\"", "Digest nc=1", "Digest nc=0000000g",
                          "Digest a=b c=d", "Digestusername=\"x\"=", "Digest =x", "Digest a="}) {
    auto r = sip::parseCredentials(bad);
    EXPECT_FALSE(r.has_value()) << bad;
    if (!r) {
      EXPECT_EQ(r.error().status, 400);
    }
  }
}

TEST(Challenge, QopListStaleAndRoundTrip) {
  auto ch = sip::parseChallenge(
      "Digest realm=\"atlanta.com\", domain=\"sip:ss1.carrier.com\", qop=\"auth,auth-int\", "
      "nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=TRUE, algorithm=MD5");
  ASSERT_TRUE(ch.has_value()) << ch.error().reason;
  EXPECT_TRUE(ch->offersQop("auth"));
  EXPECT_TRUE(ch->offersQop("auth-int"));
  EXPECT_FALSE(ch->offersQop("x"));
  EXPECT_TRUE(ch->stale());
  EXPECT_EQ(ch->algorithm(), DigestAlgorithm::kMd5);

  sip::ChallengeSpec spec{"example.com", "n0nce", "op", DigestAlgorithm::kSha256, true, true};
  std::string text = sip::formatChallenge(spec);  // the parse keeps views into it
  auto back = sip::parseChallenge(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->get("realm").value_or(""), "example.com");
  EXPECT_EQ(back->get("nonce").value_or(""), "n0nce");
  EXPECT_EQ(back->get("opaque").value_or(""), "op");
  EXPECT_EQ(back->algorithm(), DigestAlgorithm::kSha256);
  EXPECT_TRUE(back->stale());
  EXPECT_TRUE(back->offersQop("auth"));
}

TEST(Credentials, FormatRoundTripAndVerify) {
  std::string ha1 = sip::computeHa1(DigestAlgorithm::kMd5, "1001", "example.com", "secret");
  std::string resp = sip::computeResponse(DigestAlgorithm::kMd5, ha1, "REGISTER", "sip:example.com",
                                          "n1", "00000001", "c1", "auth");
  sip::CredentialsSpec spec{
      "1001",     "example.com", "n1", "sip:example.com", resp, DigestAlgorithm::kMd5, "c1",
      "00000001", true,          ""};
  std::string text = sip::formatCredentials(spec);
  auto c = sip::parseCredentials(text);
  ASSERT_TRUE(c.has_value()) << c.error().reason;
  std::string expected =
      sip::computeResponse(DigestAlgorithm::kMd5, ha1, "REGISTER", *c->get("uri"), *c->get("nonce"),
                           *c->get("nc"), *c->get("cnonce"), *c->get("qop"));
  EXPECT_TRUE(sip::constantTimeEquals(expected, *c->get("response")));
}

TEST(Credentials, FromAMessage) {
  auto m = sip::Message::parse(
      "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
      "From: <sip:1001@example.com>;tag=1\r\nTo: <sip:1001@example.com>\r\nCall-ID: c\r\n"
      "CSeq: 2 REGISTER\r\n"
      "Authorization: Digest username=\"1001\", realm=\"other.com\", nonce=\"x\", "
      "uri=\"sip:example.com\", response=\"r\"\r\n"
      "Authorization: Digest username=\"1001\", realm=\"example.com\", nonce=\"y\", "
      "uri=\"sip:example.com\", response=\"r\"\r\n"
      "Content-Length: 0\r\n\r\n");
  ASSERT_TRUE(m.has_value());
  auto any = m->credentials(sip::HeaderId::kAuthorization);
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ(any->get("realm").value_or(""), "other.com");
  auto mine = m->credentials(sip::HeaderId::kAuthorization, "example.com");
  ASSERT_TRUE(mine.has_value());
  EXPECT_EQ(mine->get("nonce").value_or(""), "y");
  auto none = m->credentials(sip::HeaderId::kProxyAuthorization);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, common::ErrorCode::kNotFound);
}

}  // namespace
