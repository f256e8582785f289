#include "sip/auth.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "sip/message.h"

namespace {

using sip::DigestAlgorithm;

// RFC 7616 §3.9.1 inputs (note the lower-case "of" in the password, unlike RFC 2617).
constexpr std::string_view k7616Realm = "http-auth@example.org";
constexpr std::string_view k7616Nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
constexpr std::string_view k7616Cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
constexpr std::string_view k7616Opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

// ---- digest maths ----------------------------------------------------------------------

TEST(DigestMaths, Rfc2617WorkedExample) {
  std::string ha1 =
      sip::computeHa1(DigestAlgorithm::kMd5, "Mufasa", "testrealm@host.com", "Circle Of Life");
  EXPECT_EQ(ha1, "939e7578ed9e3c518a452acee763bce9");
  EXPECT_EQ(
      sip::computeResponse(DigestAlgorithm::kMd5, ha1, "GET", "/dir/index.html",
                           "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth"),
      "6629fae49393a05397450978507c4ef1");
}

TEST(DigestMaths, Rfc7616Md5Example) {
  std::string ha1 = sip::computeHa1(DigestAlgorithm::kMd5, "Mufasa", k7616Realm, "Circle of Life");
  EXPECT_EQ(ha1, "3d78807defe7de2157e2b0b6573a855f");
  EXPECT_EQ(sip::computeResponse(DigestAlgorithm::kMd5, ha1, "GET", "/dir/index.html", k7616Nonce,
                                 "00000001", k7616Cnonce, "auth"),
            "8ca523f5e9506fed4657c9700eebdbec");
}

TEST(DigestMaths, Rfc7616Sha256Example) {
  std::string ha1 =
      sip::computeHa1(DigestAlgorithm::kSha256, "Mufasa", k7616Realm, "Circle of Life");
  EXPECT_EQ(ha1, "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232");
  EXPECT_EQ(sip::computeResponse(DigestAlgorithm::kSha256, ha1, "GET", "/dir/index.html",
                                 k7616Nonce, "00000001", k7616Cnonce, "auth"),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

// RFC 2069 style (no qop): H(HA1:nonce:HA2), with RFC 2069's inputs (password "CircleOfLife").
TEST(DigestMaths, NoQop) {
  std::string ha1 =
      sip::computeHa1(DigestAlgorithm::kMd5, "Mufasa", "testrealm@host.com", "CircleOfLife");
  EXPECT_EQ(sip::computeResponse(DigestAlgorithm::kMd5, ha1, "GET", "/dir/index.html",
                                 "dcd98b7102dd2f0e8b11d0f600bfb0c093", "", "", ""),
            "1949323746fe6a43ef61f9606e7febea");
}

// qop=auth-int: HA2 = H(method:uri:H(body)). Expected values from an independent
// implementation (Python hashlib).
TEST(DigestMaths, AuthInt) {
  const std::string body = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n";
  std::string md5 = sip::computeHa1(DigestAlgorithm::kMd5, "1001", "sip.example.com", "secret");
  EXPECT_EQ(md5, "97761dcab48af7d4db6ae96a85381a9c");
  EXPECT_EQ(sip::computeResponse(DigestAlgorithm::kMd5, md5, "INVITE", "sip:2002@sip.example.com",
                                 "abc123", "00000002", "c0ffee", "auth-int", body),
            "e2ad0b0eb45e54eed239f6808d7703b0");
  EXPECT_EQ(sip::computeResponse(DigestAlgorithm::kMd5, md5, "INVITE", "sip:2002@sip.example.com",
                                 "abc123", "00000002", "c0ffee", "auth-int"),
            "739d1abaae478fcbb8003d2c4ffab20b");
  std::string sha = sip::computeHa1(DigestAlgorithm::kSha256, "1001", "sip.example.com", "secret");
  EXPECT_EQ(
      sip::computeResponse(DigestAlgorithm::kSha256, sha, "INVITE", "sip:2002@sip.example.com",
                           "abc123", "00000002", "c0ffee", "auth-int", body),
      "c7502ac3016b955e4cfd8d900dbb6b07af99a9892f06a054ef150bf64c8260f8");
}

TEST(DigestMaths, UnknownQopGivesNoResponse) {
  EXPECT_EQ(sip::computeResponse(DigestAlgorithm::kMd5, "h", "GET", "/", "n", "00000001", "c",
                                 "auth-conf"),
            "");
}

TEST(DigestMaths, Algorithms) {
  EXPECT_EQ(*sip::parseDigestAlgorithm("MD5"), DigestAlgorithm::kMd5);
  EXPECT_EQ(*sip::parseDigestAlgorithm("md5"), DigestAlgorithm::kMd5);
  EXPECT_EQ(*sip::parseDigestAlgorithm("SHA-256"), DigestAlgorithm::kSha256);
  EXPECT_EQ(*sip::parseDigestAlgorithm("\"sha-256\""), DigestAlgorithm::kSha256);
  for (std::string_view name : {"MD5-sess", "SHA-256-sess", "SHA-512-256", "", "SHA256"}) {
    auto a = sip::parseDigestAlgorithm(name);
    ASSERT_FALSE(a.has_value()) << name;
    EXPECT_EQ(a.error().code, common::ErrorCode::kUnsupported) << name;
  }
  EXPECT_EQ(sip::digestAlgorithmName(DigestAlgorithm::kMd5), "MD5");
  EXPECT_EQ(sip::digestAlgorithmName(DigestAlgorithm::kSha256), "SHA-256");
}

TEST(DigestMaths, ConstantTimeEquals) {
  EXPECT_TRUE(sip::constantTimeEquals("abc", "abc"));
  EXPECT_TRUE(sip::constantTimeEquals("", ""));
  EXPECT_FALSE(sip::constantTimeEquals("abc", "abd"));
  EXPECT_FALSE(sip::constantTimeEquals("abc", "ab"));
}

// ---- verifyResponse --------------------------------------------------------------------

// The Authorization header of RFC 7616 §3.9.1 (SHA-256), checked against the stored HA1.
TEST(VerifyResponse, Rfc7616Authorization) {
  const std::string header =
      "Digest username=\"Mufasa\",\r\n realm=\"http-auth@example.org\",\r\n"
      " uri=\"/dir/index.html\",\r\n algorithm=SHA-256,\r\n"
      " nonce=\"" +
      std::string(k7616Nonce) + "\",\r\n nc=00000001,\r\n cnonce=\"" + std::string(k7616Cnonce) +
      "\",\r\n qop=auth,\r\n"
      " response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5"
      "856cb6c1\",\r\n opaque=\"" +
      std::string(k7616Opaque) + "\"";
  auto cred = sip::parseCredentials(header);
  ASSERT_TRUE(cred.has_value()) << cred.error().reason;
  std::string ha1 =
      sip::computeHa1(DigestAlgorithm::kSha256, "Mufasa", k7616Realm, "Circle of Life");
  EXPECT_TRUE(sip::verifyResponse(DigestAlgorithm::kSha256, ha1, "GET", *cred));
  EXPECT_FALSE(sip::verifyResponse(DigestAlgorithm::kSha256, ha1, "POST", *cred));
  std::string wrong =
      sip::computeHa1(DigestAlgorithm::kSha256, "Mufasa", k7616Realm, "Circle Of Life");
  EXPECT_FALSE(sip::verifyResponse(DigestAlgorithm::kSha256, wrong, "GET", *cred));
  // The credentials say SHA-256: an MD5 HA1 never verifies them, even the right one.
  std::string md5 = sip::computeHa1(DigestAlgorithm::kMd5, "Mufasa", k7616Realm, "Circle of Life");
  EXPECT_FALSE(sip::verifyResponse(DigestAlgorithm::kMd5, md5, "GET", *cred));
  EXPECT_FALSE(sip::verifyResponse(DigestAlgorithm::kSha256, "", "GET", *cred));
}

TEST(VerifyResponse, Rfc2617AuthorizationWithUpperCaseDigest) {
  auto cred = sip::parseCredentials(
      "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
      "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", qop=auth, "
      "nc=00000001, cnonce=\"0a4f113b\", response=\"6629FAE49393A05397450978507C4EF1\", "
      "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
  ASSERT_TRUE(cred.has_value()) << cred.error().reason;
  EXPECT_TRUE(
      sip::verifyResponse(DigestAlgorithm::kMd5, "939e7578ed9e3c518a452acee763bce9", "GET", *cred));
}

TEST(VerifyResponse, RejectsIncompleteOrForeignCredentials) {
  const std::string ha1 = "939e7578ed9e3c518a452acee763bce9";
  for (const char* text :
       {// qop without nc and cnonce
        "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", nonce=\"n\", uri=\"/\", "
        "qop=auth, response=\"6629fae49393a05397450978507c4ef1\"",
        // no response
        "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", nonce=\"n\", uri=\"/\"",
        // an unsupported algorithm
        "Digest username=\"Mufasa\", realm=\"r\", nonce=\"n\", uri=\"/\", algorithm=MD5-sess, "
        "response=\"6629fae49393a05397450978507c4ef1\"",
        // another scheme
        "Basic username=\"Mufasa\", nonce=\"n\", uri=\"/\", response=\"x\"",
        // an unknown qop
        "Digest username=\"Mufasa\", realm=\"r\", nonce=\"n\", uri=\"/\", qop=auth-conf, "
        "nc=00000001, cnonce=\"c\", response=\"\""}) {
    auto cred = sip::parseCredentials(text);
    ASSERT_TRUE(cred.has_value()) << text;
    EXPECT_FALSE(sip::verifyResponse(DigestAlgorithm::kMd5, ha1, "GET", *cred)) << text;
  }
}

TEST(VerifyResponse, NoQopAndAuthInt) {
  std::string ha1 = sip::computeHa1(DigestAlgorithm::kMd5, "1001", "sip.example.com", "secret");
  std::string plain = sip::computeResponse(DigestAlgorithm::kMd5, ha1, "REGISTER",
                                           "sip:sip.example.com", "n1", "", "", "");
  // The parse keeps views into its input: the text must outlive the credentials.
  const std::string text =
      "Digest username=\"1001\", realm=\"sip.example.com\", nonce=\"n1\", "
      "uri=\"sip:sip.example.com\", response=\"" +
      plain + "\"";
  auto c2069 = sip::parseCredentials(text);
  ASSERT_TRUE(c2069.has_value());
  EXPECT_TRUE(sip::verifyResponse(DigestAlgorithm::kMd5, ha1, "REGISTER", *c2069));

  const std::string body = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n";
  auto cint = sip::parseCredentials(
      "Digest username=\"1001\", realm=\"sip.example.com\", nonce=\"abc123\", "
      "uri=\"sip:2002@sip.example.com\", qop=auth-int, nc=00000002, cnonce=\"c0ffee\", "
      "response=\"e2ad0b0eb45e54eed239f6808d7703b0\"");
  ASSERT_TRUE(cint.has_value());
  EXPECT_TRUE(sip::verifyResponse(DigestAlgorithm::kMd5, ha1, "INVITE", *cint, body));
  EXPECT_FALSE(sip::verifyResponse(DigestAlgorithm::kMd5, ha1, "INVITE", *cint, body + "x"));
}

// ---- parsing credentials ---------------------------------------------------------------

TEST(ParseCredentials, TypicalSipAuthorizationWithFoldingAndLwsAroundEquals) {
  const std::string_view text =
      "Digest username = \"1001\" ,realm=\"sip.example.com\",\r\n"
      "\tnonce =\r\n \"5f8a2b1c9d3e\", uri= \"sip:sip.example.com;transport=tcp\",\r\n"
      " response=\"0123456789abcdef0123456789abcdef\" , algorithm=SHA-256,\r\n"
      " cnonce=\"a1b2,c3\", nc=0000000A, qop=auth, opaque=\"op,aque\"";
  auto c = sip::parseCredentials(text);
  ASSERT_TRUE(c.has_value()) << c.error().reason;
  EXPECT_EQ(c->scheme(), "Digest");
  EXPECT_TRUE(c->isDigest());
  EXPECT_EQ(c->username(), "1001");
  EXPECT_EQ(c->realm(), "sip.example.com");
  EXPECT_EQ(c->nonce(), "5f8a2b1c9d3e");
  EXPECT_EQ(c->uri(), "sip:sip.example.com;transport=tcp");
  EXPECT_EQ(c->response(), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(*c->algorithm(), DigestAlgorithm::kSha256);
  EXPECT_EQ(c->cnonce(), "a1b2,c3");
  EXPECT_EQ(c->nc(), "0000000A");
  EXPECT_EQ(c->nonceCount(), 10u);
  EXPECT_EQ(c->qop(), "auth");
  EXPECT_EQ(c->opaque(), "op,aque");
  EXPECT_EQ(c->get("REALM"), "sip.example.com");  // names are case-insensitive

  // Zero-copy: names and raw values are views into the text, quotes kept.
  ASSERT_EQ(c->params().size(), 10u);
  for (const sip::Param& p : c->params()) {
    EXPECT_TRUE(inside(p.name, text)) << p.name;
    EXPECT_TRUE(inside(p.value, text)) << p.name;
  }
  EXPECT_EQ(c->params()[0].name, "username");
  EXPECT_EQ(c->raw("username"), "\"1001\"");
  EXPECT_TRUE(inside(*c->username(), text));
  EXPECT_EQ(c->raw("nc"), "0000000A");
}

TEST(ParseCredentials, AbsentFieldsAndDefaultAlgorithm) {
  auto c = sip::parseCredentials("Digest username=\"alice\"");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->username(), "alice");
  EXPECT_EQ(c->realm(), std::nullopt);
  EXPECT_EQ(c->nc(), std::nullopt);
  EXPECT_EQ(c->nonceCount(), std::nullopt);
  EXPECT_EQ(*c->algorithm(), DigestAlgorithm::kMd5);  // RFC 2617: absent means MD5
}

TEST(ParseCredentials, QuotedPairsAreResolved) {
  const std::string text = R"(Digest username="a\"b\\c", realm="r", nonce="")";
  auto c = sip::parseCredentials(text);
  ASSERT_TRUE(c.has_value()) << c.error().reason;
  EXPECT_EQ(c->username(), "a\"b\\c");
  EXPECT_EQ(c->unescaped("username"), "a\"b\\c");
  EXPECT_EQ(c->raw("username"), R"("a\"b\\c")");
  EXPECT_EQ(c->nonce(), "");
  // The unescaped text lives in the object: copies and moves keep it right.
  sip::Credentials copy = *c;
  sip::Credentials moved = std::move(*c);
  EXPECT_EQ(copy.username(), "a\"b\\c");
  EXPECT_EQ(moved.username(), "a\"b\\c");
  EXPECT_EQ(moved.realm(), "r");
}

TEST(ParseCredentials, SessAlgorithmParsesButIsUnsupported) {
  auto c = sip::parseCredentials("Digest username=\"a\", algorithm=MD5-sess");
  ASSERT_TRUE(c.has_value());
  auto alg = c->algorithm();
  ASSERT_FALSE(alg.has_value());
  EXPECT_EQ(alg.error().code, common::ErrorCode::kUnsupported);
}

// RFC 4475 §3.1.2.10 (regaut01): an unknown scheme is kept with its parameters.
TEST(ParseCredentials, UnknownSchemeRegaut01) {
  auto c = sip::parseCredentials("NoOneKnowsThisScheme opaque-data=here");
  ASSERT_TRUE(c.has_value()) << c.error().reason;
  EXPECT_EQ(c->scheme(), "NoOneKnowsThisScheme");
  EXPECT_FALSE(c->isDigest());
  ASSERT_EQ(c->params().size(), 1u);
  EXPECT_EQ(c->params()[0].name, "opaque-data");
  EXPECT_EQ(c->get("opaque-data"), "here");
  // Digest's rules do not apply to other schemes.
  EXPECT_TRUE(sip::parseCredentials("Other a=1, a=2, nc=5").has_value());
}

TEST(ParseCredentials, SchemeIsCaseInsensitive) {
  auto c = sip::parseCredentials("digest username=\"x\"");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->isDigest());
  EXPECT_FALSE(sip::parseCredentials("DIGEST nc=1").has_value());  // digest rules apply
}

struct BadCase {
  const char* text;
  const char* why;
};

TEST(ParseCredentials, Errors) {
  const BadCase cases[] = {
      {"", "empty scheme"},
      {"   ", "empty scheme"},
      {"\"Digest\" username=\"a\"", "empty scheme"},
      {"Digest", "no parameters"},
      {"Digest username", "param without ="},
      {"Digest username=\"a\", realm", "param without ="},
      {"Digest username \"a\"", "param without ="},
      {"Digest username=\"open", "unterminated quoted string"},
      {"Digest username=\"a\\", "unterminated quoted string"},
      {"Digest realm=\"a\", REALM=\"b\"", "duplicate"},
      {"Digest nonce=\"a\", uri=\"b\", nonce=\"a\"", "duplicate"},
      {"Digest nc=1", "nc not 8 hex digits"},
      {"Digest nc=0000000g", "nc not 8 hex digits"},
      {"Digest nc=000000001", "nc not 8 hex digits"},
      {"Digest a=b c=d", "missing comma"},
      {"Digest a=b,,c=d", "empty element"},
      {"Digest a=b,", "empty element"},
      {"Digest =x", "empty name"},
      {"Digest a=", "empty value"},
      {"Digest a=,b=c", "empty value"},
      {"Digest uri=sip:x", "unquoted non-token value"},
      {"Digest,a=b", "no space after the scheme"},
      {"Digest a=b\r\nc=d", "unfolded line break"},
  };
  for (const BadCase& bc : cases) {
    auto r = sip::parseCredentials(bc.text);
    ASSERT_FALSE(r.has_value()) << bc.text << " (" << bc.why << ")";
    EXPECT_EQ(r.error().code, common::ErrorCode::kInvalidArgument) << bc.text;
    EXPECT_EQ(r.error().status, 400) << bc.text;
    EXPECT_FALSE(r.error().reason.empty()) << bc.text;
  }
}

// ---- parsing challenges ----------------------------------------------------------------

TEST(ParseChallenge, QopListDomainStale) {
  const std::string_view text =
      "Digest realm=\"atlanta.com\", domain=\"sip:ss1.carrier.com sip:ss2.carrier.com\",\r\n"
      " qop=\"auth,auth-int\", nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\","
      " stale=TRUE, algorithm=MD5";
  auto ch = sip::parseChallenge(text);
  ASSERT_TRUE(ch.has_value()) << ch.error().reason;
  EXPECT_EQ(ch->realm(), "atlanta.com");
  EXPECT_EQ(ch->domain(), "sip:ss1.carrier.com sip:ss2.carrier.com");
  EXPECT_EQ(ch->nonce(), "f84f1cec41e6cbe5aea9c8e88d359");
  EXPECT_EQ(ch->opaque(), "");
  EXPECT_TRUE(ch->stale());
  EXPECT_EQ(*ch->algorithm(), DigestAlgorithm::kMd5);
  auto qops = ch->qopOptions();
  ASSERT_EQ(qops.size(), 2u);
  EXPECT_EQ(qops[0], "auth");
  EXPECT_EQ(qops[1], "auth-int");
  EXPECT_TRUE(ch->offersQop("auth"));
  EXPECT_TRUE(ch->offersQop("AUTH-INT"));
  EXPECT_FALSE(ch->offersQop("auth-conf"));
  for (const sip::Param& p : ch->params()) EXPECT_TRUE(inside(p.value, text)) << p.name;
}

TEST(ParseChallenge, Rfc7616ChallengeWithSpacesInQop) {
  auto ch = sip::parseChallenge(
      "Digest\r\n realm=\"http-auth@example.org\",\r\n qop=\"auth, auth-int\",\r\n"
      " algorithm=SHA-256,\r\n nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n"
      " opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"");
  ASSERT_TRUE(ch.has_value()) << ch.error().reason;
  EXPECT_EQ(*ch->algorithm(), DigestAlgorithm::kSha256);
  EXPECT_EQ(ch->realm(), k7616Realm);
  EXPECT_EQ(ch->nonce(), k7616Nonce);
  EXPECT_EQ(ch->opaque(), k7616Opaque);
  EXPECT_FALSE(ch->stale());
  auto qops = ch->qopOptions();
  ASSERT_EQ(qops.size(), 2u);
  EXPECT_EQ(qops[1], "auth-int");
  EXPECT_EQ(ch->domain(), std::nullopt);
}

TEST(ParseChallenge, NoQopAndFalseStale) {
  auto ch = sip::parseChallenge("Digest realm=\"r\", nonce=\"n\", stale=false");
  ASSERT_TRUE(ch.has_value());
  EXPECT_TRUE(ch->qopOptions().empty());
  EXPECT_FALSE(ch->offersQop("auth"));
  EXPECT_FALSE(ch->stale());
}

TEST(ParseChallenge, Errors) {
  for (const char* bad : {"", "Digest realm", "Digest realm=\"x", "Digest realm=\"a\", realm=\"a\"",
                          "Digest qop=\"auth\", QOP=\"auth\""}) {
    auto r = sip::parseChallenge(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().status, 400) << bad;
  }
  // nc belongs to credentials; a challenge does not check it.
  EXPECT_TRUE(sip::parseChallenge("Digest realm=\"r\", nc=1").has_value());
  auto unknown = sip::parseChallenge("NoOneKnowsThisScheme opaque-data=here");
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->scheme(), "NoOneKnowsThisScheme");
}

// ---- serialisers -----------------------------------------------------------------------

TEST(FormatChallenge, ExactTextAndRoundTrip) {
  sip::ChallengeSpec spec;
  spec.realm = "sip.example.com";
  spec.nonce = "n0nce";
  spec.opaque = "op";
  spec.algorithm = DigestAlgorithm::kSha256;
  spec.stale = true;
  std::string text = sip::formatChallenge(spec);
  EXPECT_EQ(text,
            "Digest realm=\"sip.example.com\", nonce=\"n0nce\", opaque=\"op\", "
            "algorithm=SHA-256, qop=\"auth\", stale=true");
  auto back = sip::parseChallenge(text);
  ASSERT_TRUE(back.has_value()) << back.error().reason;
  EXPECT_EQ(back->realm(), "sip.example.com");
  EXPECT_EQ(back->nonce(), "n0nce");
  EXPECT_EQ(back->opaque(), "op");
  EXPECT_EQ(*back->algorithm(), DigestAlgorithm::kSha256);
  EXPECT_TRUE(back->stale());
  EXPECT_TRUE(back->offersQop("auth"));
}

TEST(FormatChallenge, MinimalAndEscaped) {
  sip::ChallengeSpec spec;
  spec.realm = "a \"quoted\" \\ realm\r\n";
  spec.nonce = "n";
  spec.domain = "sip:example.com";
  std::string text = sip::formatChallenge(spec);
  EXPECT_EQ(text,
            "Digest realm=\"a \\\"quoted\\\" \\\\ realm\", domain=\"sip:example.com\", "
            "nonce=\"n\", algorithm=MD5, qop=\"auth\"");
  auto back = sip::parseChallenge(text);
  ASSERT_TRUE(back.has_value()) << back.error().reason;
  EXPECT_EQ(back->realm(), "a \"quoted\" \\ realm");  // CR LF dropped
  EXPECT_EQ(back->domain(), "sip:example.com");
  EXPECT_EQ(back->opaque(), std::nullopt);
  EXPECT_FALSE(back->stale());

  spec.qop_auth = false;
  const std::string no_qop_text = sip::formatChallenge(spec);
  auto no_qop = sip::parseChallenge(no_qop_text);
  ASSERT_TRUE(no_qop.has_value());
  EXPECT_TRUE(no_qop->qopOptions().empty());
}

TEST(FormatCredentials, Rfc7616ExampleRoundTripVerifies) {
  std::string ha1 = sip::computeHa1(DigestAlgorithm::kMd5, "Mufasa", k7616Realm, "Circle of Life");
  sip::CredentialsSpec spec;
  spec.username = "Mufasa";
  spec.realm = std::string(k7616Realm);
  spec.nonce = std::string(k7616Nonce);
  spec.uri = "/dir/index.html";
  spec.cnonce = std::string(k7616Cnonce);
  spec.nc = "00000001";
  spec.opaque = std::string(k7616Opaque);
  spec.response = sip::computeResponse(DigestAlgorithm::kMd5, ha1, "GET", spec.uri, spec.nonce,
                                       spec.nc, spec.cnonce, "auth");
  std::string text = sip::formatCredentials(spec);
  EXPECT_EQ(text, "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", nonce=\"" +
                      spec.nonce +
                      "\", uri=\"/dir/index.html\", "
                      "response=\"8ca523f5e9506fed4657c9700eebdbec\", algorithm=MD5, qop=auth, "
                      "nc=00000001, cnonce=\"" +
                      spec.cnonce + "\", opaque=\"" + spec.opaque + "\"");
  auto c = sip::parseCredentials(text);
  ASSERT_TRUE(c.has_value()) << c.error().reason;
  EXPECT_EQ(c->username(), "Mufasa");
  EXPECT_EQ(c->realm(), k7616Realm);
  EXPECT_EQ(c->nonce(), k7616Nonce);
  EXPECT_EQ(c->uri(), "/dir/index.html");
  EXPECT_EQ(c->cnonce(), k7616Cnonce);
  EXPECT_EQ(c->nc(), "00000001");
  EXPECT_EQ(c->qop(), "auth");
  EXPECT_EQ(c->opaque(), k7616Opaque);
  EXPECT_EQ(*c->algorithm(), DigestAlgorithm::kMd5);
  EXPECT_TRUE(sip::verifyResponse(DigestAlgorithm::kMd5, ha1, "GET", *c));
}

TEST(FormatCredentials, NoQopAndEscapedUsername) {
  sip::CredentialsSpec spec;
  spec.username = "odd\"user\\";
  spec.realm = "r";
  spec.nonce = "n";
  spec.uri = "sip:r";
  spec.algorithm = DigestAlgorithm::kSha256;
  spec.qop_auth = false;
  std::string ha1 = sip::computeHa1(DigestAlgorithm::kSha256, spec.username, "r", "pw");
  spec.response =
      sip::computeResponse(DigestAlgorithm::kSha256, ha1, "REGISTER", "sip:r", "n", "", "", "");
  std::string text = sip::formatCredentials(spec);
  EXPECT_EQ(text.find("qop"), std::string::npos);
  EXPECT_EQ(text.find("opaque"), std::string::npos);
  auto c = sip::parseCredentials(text);
  ASSERT_TRUE(c.has_value()) << c.error().reason;
  EXPECT_EQ(c->username(), "odd\"user\\");
  EXPECT_EQ(c->qop(), std::nullopt);
  EXPECT_EQ(*c->algorithm(), DigestAlgorithm::kSha256);
  EXPECT_TRUE(sip::verifyResponse(DigestAlgorithm::kSha256, ha1, "REGISTER", *c));
}

// ---- from a message --------------------------------------------------------------------

// A request may carry credentials for several realms (RFC 3261 §22.3).
TEST(MessageCredentials, PicksTheRealm) {
  auto m = sip::Message::parse(
      "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
      "From: <sip:1001@example.com>;tag=1\r\nTo: <sip:1001@example.com>\r\nCall-ID: c\r\n"
      "CSeq: 2 REGISTER\r\n"
      "Authorization: Digest username=\"1001\", realm=\"other.com\", nonce=\"x\", "
      "uri=\"sip:example.com\", response=\"r\"\r\n"
      "Authorization: Digest username=\"1001\", realm=\"example.com\", nonce=\"y\",\r\n"
      " uri=\"sip:example.com\", response=\"r\"\r\n"
      "Content-Length: 0\r\n\r\n");
  ASSERT_TRUE(m.has_value()) << m.error().reason;
  auto any = m->credentials(sip::HeaderId::kAuthorization);
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ(any->realm(), "other.com");
  auto mine = m->credentials(sip::HeaderId::kAuthorization, "example.com");
  ASSERT_TRUE(mine.has_value());
  EXPECT_EQ(mine->nonce(), "y");
  auto none = m->credentials(sip::HeaderId::kProxyAuthorization);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, common::ErrorCode::kNotFound);
}

}  // namespace
