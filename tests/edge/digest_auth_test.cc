#include "edge/digest_auth.h"

#include <gtest/gtest.h>

#include <string>

namespace {

using edge::DigestAuth;
using Verdict = DigestAuth::Verdict;

constexpr std::string_view kRealm = "example.com";
constexpr int64_t kNow = 1'800'000'000;

edge::Ha1 ha1For(std::string_view user, std::string_view password) {
  return edge::Ha1{sip::computeHa1(sip::DigestAlgorithm::kMd5, user, kRealm, password),
                   sip::computeHa1(sip::DigestAlgorithm::kSha256, user, kRealm, password)};
}

// A REGISTER carrying digest credentials computed the way a UA does.
std::string registerWith(std::string_view nonce, std::string_view password, std::string nc,
                         sip::DigestAlgorithm alg = sip::DigestAlgorithm::kMd5,
                         std::string_view uri = "sip:example.com") {
  std::string ha1 = sip::computeHa1(alg, "alice", kRealm, password);
  sip::CredentialsSpec c;
  c.username = "alice";
  c.realm = std::string(kRealm);
  c.nonce = std::string(nonce);
  c.uri = std::string(uri);
  c.algorithm = alg;
  c.cnonce = "0a4f113b";
  c.nc = nc;
  c.response = sip::computeResponse(alg, ha1, "REGISTER", uri, nonce, nc, c.cnonce, "auth");
  return "REGISTER sip:example.com SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK1\r\n"
         "From: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\n"
         "Call-ID: reg1\r\nCSeq: 2 REGISTER\r\nContact: <sip:alice@192.0.2.7>\r\n"
         "Authorization: " +
         sip::formatCredentials(c) + "\r\nContent-Length: 0\r\n\r\n";
}

sip::Message parse(const std::string& text) {
  auto m = sip::Message::parse(text);
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().reason);
  return std::move(*m);
}

DigestAuth make() {
  DigestAuth::Options o;
  o.secret = std::string(32, 'k');
  o.nonce_lifetime = std::chrono::seconds(300);
  return DigestAuth(o);
}

TEST(DigestAuth, GoodPasswordThenReplayedCount) {
  DigestAuth auth = make();
  std::string nonce = auth.issueNonce(kRealm, kNow);
  EXPECT_EQ(nonce.size(), 64u);
  // Two nonces of the same second differ: each client's nc starts at 1 on its own nonce.
  EXPECT_NE(auth.issueNonce(kRealm, kNow), auth.issueNonce(kRealm, kNow));
  auto req = parse(registerWith(nonce, "secret", "00000001"));
  auto first = auth.inspect(req, sip::HeaderId::kAuthorization, kRealm, kNow + 1);
  EXPECT_EQ(first.verdict, Verdict::kNeedsHa1);
  EXPECT_EQ(first.username, "alice");
  auto ok =
      auth.finish(req, sip::HeaderId::kAuthorization, kRealm, ha1For("alice", "secret"), kNow + 1);
  EXPECT_EQ(ok.verdict, Verdict::kOk) << ok.reason;
  // The same credentials again: the nonce-count did not grow.
  auto replay =
      auth.finish(req, sip::HeaderId::kAuthorization, kRealm, ha1For("alice", "secret"), kNow + 2);
  EXPECT_EQ(replay.verdict, Verdict::kChallenge);
  EXPECT_EQ(replay.reason, "nonce-count replayed");
  // The next count is fine.
  auto next = parse(registerWith(nonce, "secret", "00000002"));
  EXPECT_EQ(
      auth.finish(next, sip::HeaderId::kAuthorization, kRealm, ha1For("alice", "secret"), kNow + 3)
          .verdict,
      Verdict::kOk);
  EXPECT_EQ(auth.trackedNonces(), 1u);
}

TEST(DigestAuth, Sha256) {
  DigestAuth auth = make();
  std::string nonce = auth.issueNonce(kRealm, kNow);
  auto req = parse(registerWith(nonce, "secret", "00000001", sip::DigestAlgorithm::kSha256));
  EXPECT_EQ(auth.finish(req, sip::HeaderId::kAuthorization, kRealm, ha1For("alice", "secret"), kNow)
                .verdict,
            Verdict::kOk);
}

TEST(DigestAuth, WrongPasswordUnknownUserForgedNonce) {
  DigestAuth auth = make();
  std::string nonce = auth.issueNonce(kRealm, kNow);
  auto wrong = parse(registerWith(nonce, "guess", "00000001"));
  auto r =
      auth.finish(wrong, sip::HeaderId::kAuthorization, kRealm, ha1For("alice", "secret"), kNow);
  EXPECT_EQ(r.verdict, Verdict::kChallenge);
  EXPECT_EQ(r.reason, "wrong password");
  EXPECT_EQ(auth.finish(wrong, sip::HeaderId::kAuthorization, kRealm, std::nullopt, kNow).verdict,
            Verdict::kChallenge);

  std::string forged = nonce;
  forged.back() = forged.back() == '0' ? '1' : '0';
  auto f = parse(registerWith(forged, "secret", "00000001"));
  EXPECT_EQ(auth.inspect(f, sip::HeaderId::kAuthorization, kRealm, kNow).reason, "unknown nonce");
  // A nonce of another realm (or another secret) is not ours either.
  DigestAuth other = make();
  auto elsewhere = parse(registerWith(other.issueNonce("other.org", kNow), "secret", "00000001"));
  EXPECT_EQ(auth.inspect(elsewhere, sip::HeaderId::kAuthorization, kRealm, kNow).verdict,
            Verdict::kChallenge);
}

TEST(DigestAuth, ExpiredNonceIsStaleOnlyWithTheRightPassword) {
  DigestAuth auth = make();
  std::string nonce = auth.issueNonce(kRealm, kNow);
  auto good = parse(registerWith(nonce, "secret", "00000001"));
  auto late = auth.finish(good, sip::HeaderId::kAuthorization, kRealm, ha1For("alice", "secret"),
                          kNow + 301);
  EXPECT_EQ(late.verdict, Verdict::kStale);
  auto bad = parse(registerWith(nonce, "guess", "00000001"));
  EXPECT_EQ(
      auth.finish(bad, sip::HeaderId::kAuthorization, kRealm, ha1For("alice", "secret"), kNow + 301)
          .verdict,
      Verdict::kChallenge);
}

TEST(DigestAuth, NoCredentialsMalformedAndForeignUri) {
  DigestAuth auth = make();
  auto none = parse(
      "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
      "From: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\n"
      "Call-ID: a\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(auth.inspect(none, sip::HeaderId::kAuthorization, kRealm, kNow).verdict,
            Verdict::kChallenge);
  auto broken = parse(
      "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
      "From: <sip:alice@example.com>;tag=1\r\nTo: <sip:alice@example.com>\r\n"
      "Call-ID: a\r\nCSeq: 1 REGISTER\r\nAuthorization: Digest username=\"alice\r\n"
      "Content-Length: 0\r\n\r\n");
  EXPECT_EQ(auth.inspect(broken, sip::HeaderId::kAuthorization, kRealm, kNow).verdict,
            Verdict::kBadRequest);
  std::string nonce = auth.issueNonce(kRealm, kNow);
  auto foreign = parse(
      registerWith(nonce, "secret", "00000001", sip::DigestAlgorithm::kMd5, "sip:elsewhere.org"));
  EXPECT_EQ(auth.inspect(foreign, sip::HeaderId::kAuthorization, kRealm, kNow).verdict,
            Verdict::kForbidden);
}

TEST(DigestAuth, ChallengesListSha256First) {
  DigestAuth auth = make();
  auto values = auth.challenges(kRealm, true, kNow);
  ASSERT_EQ(values.size(), 2u);
  auto first = sip::parseChallenge(values[0]);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->algorithm().value_or(sip::DigestAlgorithm::kMd5), sip::DigestAlgorithm::kSha256);
  EXPECT_TRUE(first->stale());
  EXPECT_TRUE(first->offersQop("auth"));
  EXPECT_EQ(first->realm().value_or(""), kRealm);
  auto second = sip::parseChallenge(values[1]);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->algorithm().value_or(sip::DigestAlgorithm::kSha256),
            sip::DigestAlgorithm::kMd5);
}

// One MD5 challenge by default (what common phones accept); SHA-256 first in chosen realms.
TEST(DigestAuth, AlgorithmsPerRealm) {
  DigestAuth::Options o;
  o.secret = std::string(32, 'k');
  o.algorithms = {sip::DigestAlgorithm::kMd5};
  o.realm_algorithms["secure.example.com"] = {sip::DigestAlgorithm::kSha256,
                                              sip::DigestAlgorithm::kMd5};
  DigestAuth auth(o);
  auto plain = auth.challenges(kRealm, false, kNow);
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(sip::parseChallenge(plain[0])->algorithm().value_or(sip::DigestAlgorithm::kSha256),
            sip::DigestAlgorithm::kMd5);
  auto secure = auth.challenges("Secure.Example.com", false, kNow);
  ASSERT_EQ(secure.size(), 2u);
  EXPECT_EQ(sip::parseChallenge(secure[0])->algorithm().value_or(sip::DigestAlgorithm::kMd5),
            sip::DigestAlgorithm::kSha256);
  // Credentials in an algorithm the realm does not offer are challenged again.
  auto nonce = auth.issueNonce(kRealm, kNow);
  auto sha = parse(registerWith(nonce, "pw", "00000001", sip::DigestAlgorithm::kSha256));
  EXPECT_EQ(auth.inspect(sha, sip::HeaderId::kAuthorization, kRealm, kNow).verdict,
            Verdict::kChallenge);
  auto md5 = parse(registerWith(nonce, "pw", "00000001"));
  EXPECT_EQ(auth.inspect(md5, sip::HeaderId::kAuthorization, kRealm, kNow).verdict,
            Verdict::kNeedsHa1);
}

// The algorithm is checked where the response is computed, not only by inspect(): finish()
// alone refuses credentials in an algorithm the realm does not offer, even with the right
// password (a downgrade from SHA-256 to MD5, say), so a caller that skips inspect() (the
// HA1 lookup already done, a cache) cannot let one through.
TEST(DigestAuth, FinishRefusesAnAlgorithmTheRealmDoesNotOfferWithoutInspect) {
  DigestAuth::Options o;
  o.secret = std::string(32, 'k');
  o.algorithms = {sip::DigestAlgorithm::kSha256};
  o.realm_algorithms["legacy.example.com"] = {sip::DigestAlgorithm::kMd5};
  DigestAuth auth(o);
  const auto h = sip::HeaderId::kAuthorization;
  const auto ha1 = ha1For("alice", "pw");  // both HA1s stored: the password is right
  std::string nonce = auth.issueNonce(kRealm, kNow);
  auto md5 = parse(registerWith(nonce, "pw", "00000001", sip::DigestAlgorithm::kMd5));
  auto refused = auth.finish(md5, h, kRealm, ha1, kNow);
  EXPECT_EQ(refused.verdict, Verdict::kChallenge) << "MD5 accepted in a SHA-256 realm";
  EXPECT_EQ(refused.reason, "algorithm not offered");
  EXPECT_EQ(auth.trackedNonces(), 0u);  // no nonce-count was spent on it
  // The offered algorithm with the same password and nonce passes.
  auto sha = parse(registerWith(nonce, "pw", "00000001", sip::DigestAlgorithm::kSha256));
  EXPECT_EQ(auth.finish(sha, h, kRealm, ha1, kNow).verdict, Verdict::kOk);

  // The other way round in a realm that offers MD5 only.
  const std::string legacy = "legacy.example.com";
  const edge::Ha1 legacy_ha1{sip::computeHa1(sip::DigestAlgorithm::kMd5, "alice", legacy, "pw"),
                             sip::computeHa1(sip::DigestAlgorithm::kSha256, "alice", legacy, "pw")};
  std::string legacy_nonce = auth.issueNonce(legacy, kNow);
  auto text = registerWith(legacy_nonce, "pw", "00000001", sip::DigestAlgorithm::kSha256);
  // Credentials for the legacy realm (registerWith computes them for kRealm).
  sip::CredentialsSpec c;
  c.username = "alice";
  c.realm = legacy;
  c.nonce = legacy_nonce;
  c.uri = "sip:example.com";
  c.algorithm = sip::DigestAlgorithm::kSha256;
  c.cnonce = "0a4f113b";
  c.nc = "00000001";
  c.response = sip::computeResponse(sip::DigestAlgorithm::kSha256, legacy_ha1.sha256, "REGISTER",
                                    c.uri, legacy_nonce, c.nc, c.cnonce, "auth");
  size_t at = text.find("Authorization: ");
  text.replace(at, text.find("\r\n", at) - at, "Authorization: " + sip::formatCredentials(c));
  auto sha_in_legacy = parse(text);
  EXPECT_EQ(auth.finish(sha_in_legacy, h, legacy, legacy_ha1, kNow).verdict, Verdict::kChallenge);
}

TEST(DigestAuth, AStatelessProxyMayLetTheSameRequestPassAgainWithin64T1) {
  DigestAuth auth = make();
  std::string nonce = auth.issueNonce(kRealm, kNow);
  auto req = parse(registerWith(nonce, "secret", "00000001"));
  const auto ha1 = ha1For("alice", "secret");
  const auto h = sip::HeaderId::kAuthorization;
  ASSERT_EQ(auth.finish(req, h, kRealm, ha1, kNow, true).verdict, Verdict::kOk);
  // The retransmission (same branch, sent-by and CSeq) passes when asked for...
  EXPECT_EQ(auth.finish(req, h, kRealm, ha1, kNow + 10, true).verdict, Verdict::kOk);
  // ...but not by default (a stateful element absorbs retransmissions itself),
  EXPECT_EQ(auth.finish(req, h, kRealm, ha1, kNow + 10).verdict, Verdict::kChallenge);
  // nor after 64*T1,
  EXPECT_EQ(auth.finish(req, h, kRealm, ha1, kNow + 33, true).verdict, Verdict::kChallenge);
  // nor in another request carrying the same credentials (a new branch: a replay).
  std::string other = registerWith(nonce, "secret", "00000001");
  other.replace(other.find("branch=z9hG4bK1"), 15, "branch=z9hG4bK2");
  EXPECT_EQ(auth.finish(parse(other), h, kRealm, ha1, kNow + 1, true).verdict, Verdict::kChallenge);
  // A higher count in a new request is fine, and then the old request no longer passes.
  std::string next = registerWith(nonce, "secret", "00000002");
  next.replace(next.find("branch=z9hG4bK1"), 15, "branch=z9hG4bK3");
  EXPECT_EQ(auth.finish(parse(next), h, kRealm, ha1, kNow + 2, true).verdict, Verdict::kOk);
  EXPECT_EQ(auth.finish(req, h, kRealm, ha1, kNow + 3, true).verdict, Verdict::kChallenge);
}

TEST(DigestAuth, ReplayTableStaysBounded) {
  DigestAuth::Options o;
  o.secret = "s";
  o.max_tracked_nonces = 16 * 16;
  DigestAuth auth(o);
  for (int i = 0; i < 2000; ++i) {
    std::string nonce = auth.issueNonce(kRealm, kNow + i);
    auto req = parse(registerWith(nonce, "pw", "00000001"));
    ASSERT_EQ(
        auth.finish(req, sip::HeaderId::kAuthorization, kRealm, ha1For("alice", "pw"), kNow + i)
            .verdict,
        Verdict::kOk);
  }
  EXPECT_LE(auth.trackedNonces(), 16u * 16u);
}

}  // namespace
