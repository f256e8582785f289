#include "edge/digest_auth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>

#include "common/hash.h"
#include "common/strings.h"
#include "edge/proxy_rules.h"

namespace edge {
namespace {

constexpr size_t kStampHex = 16;  // 8 bytes of issue time
constexpr size_t kSaltHex = 16;   // 8 bytes making each nonce unique
constexpr size_t kMacHex = 32;    // 16 bytes of HMAC-SHA256

std::optional<uint64_t> parseHex64(std::string_view s) {
  if (s.size() != kStampHex) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    v = (v << 4) | uint64_t(d);
  }
  return v;
}

size_t shardOf(std::string_view nonce) {
  return std::hash<std::string_view>()(nonce);
}

DigestAuth::Outcome outcome(DigestAuth::Verdict v, std::string_view user, std::string reason) {
  return DigestAuth::Outcome{v, std::string(user), std::move(reason)};
}

// The identity of one request as its retransmissions repeat it (§17.2.3): the top Via's
// hash a stateless proxy builds its branch from, CSeq number and method. 0 when there is
// no branch to go by.
uint64_t requestKey(const sip::Message& request) {
  const auto& vias = request.vias();
  const auto& cseq = request.cseq();
  if (!vias || vias->empty() || !cseq || vias->front().branch().value_or("").empty()) return 0;
  uint64_t h = statelessUnique(request);
  h = common::fnv1aField(h, std::to_string(cseq->number));
  h = common::fnv1aField(h, request.methodText());
  return h == 0 ? 1 : h;
}

}  // namespace

DigestAuth::DigestAuth(Options options) : options_(std::move(options)) {
  if (options_.secret.empty()) {
    unsigned char key[32];
    if (RAND_bytes(key, sizeof key) != 1) {
      // No entropy source: still unpredictable enough to refuse forged nonces of others,
      // since the address of this object and the clock differ per process.
      auto t = std::chrono::steady_clock::now().time_since_epoch().count();
      std::string fallback = std::to_string(t) + std::to_string(reinterpret_cast<uintptr_t>(this));
      options_.secret = fallback;
    } else {
      options_.secret.assign(reinterpret_cast<const char*>(key), sizeof key);
    }
  }
  if (options_.algorithms.empty()) options_.algorithms.push_back(sip::DigestAlgorithm::kMd5);
  unsigned char start[8];
  if (RAND_bytes(start, sizeof start) == 1) {
    for (unsigned char c : start) salt_base_ = (salt_base_ << 8) | c;
  } else {
    salt_base_ = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  }
}

std::string DigestAuth::mac(std::string_view stamp_and_salt, std::string_view realm) const {
  std::string data(stamp_and_salt);
  data.push_back(':');
  data.append(realm);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), options_.secret.data(), int(options_.secret.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
           &len) == nullptr ||
      len < kMacHex / 2) {
    return {};
  }
  std::string hex;
  common::appendHex(hex, out, kMacHex / 2);
  return hex;
}

std::string DigestAuth::issueNonce(std::string_view realm, int64_t now) const {
  // Time, then a value never repeated by this process (a counter from a random start, so
  // two processes sharing the secret do not collide either), then the HMAC of both.
  uint64_t issued = uint64_t(std::max<int64_t>(now, 0));
  uint64_t salt = salt_base_ + salt_counter_.fetch_add(1, std::memory_order_relaxed);
  unsigned char bytes[16];
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<unsigned char>(issued >> (56 - 8 * i));
    bytes[8 + i] = static_cast<unsigned char>(salt >> (56 - 8 * i));
  }
  std::string nonce;
  nonce.reserve(kStampHex + kSaltHex + kMacHex);
  common::appendHex(nonce, bytes, 16);
  nonce += mac(nonce, realm);
  return nonce;
}

DigestAuth::NonceState DigestAuth::checkNonce(std::string_view nonce, std::string_view realm,
                                              int64_t now, int64_t* issued) const {
  if (nonce.size() != kStampHex + kSaltHex + kMacHex) return NonceState::kForged;
  auto stamp = parseHex64(nonce.substr(0, kStampHex));
  if (!stamp || !parseHex64(nonce.substr(kStampHex, kSaltHex))) return NonceState::kForged;
  std::string expected = mac(nonce.substr(0, kStampHex + kSaltHex), realm);
  if (expected.empty() || !sip::constantTimeEquals(expected, nonce.substr(kStampHex + kSaltHex)))
    return NonceState::kForged;
  *issued = int64_t(*stamp);
  if (*issued > now + 5) return NonceState::kForged;  // from the future: not ours
  if (now - *issued > options_.nonce_lifetime.count()) return NonceState::kExpired;
  return NonceState::kValid;
}

const std::vector<sip::DigestAlgorithm>& DigestAuth::algorithmsFor(std::string_view realm) const {
  if (!options_.realm_algorithms.empty()) {
    auto it = options_.realm_algorithms.find(common::toLower(realm));
    if (it != options_.realm_algorithms.end() && !it->second.empty()) return it->second;
  }
  return options_.algorithms;
}

std::vector<std::string> DigestAuth::challenges(std::string_view realm, bool stale,
                                                int64_t now) const {
  std::vector<std::string> out;
  std::string nonce = issueNonce(realm, now);
  for (sip::DigestAlgorithm alg : algorithmsFor(realm)) {
    sip::ChallengeSpec spec;
    spec.realm = std::string(realm);
    spec.nonce = nonce;
    spec.algorithm = alg;
    spec.stale = stale;
    out.push_back(sip::formatChallenge(spec));
  }
  return out;
}

DigestAuth::Outcome DigestAuth::inspect(const sip::Message& request, sip::HeaderId header,
                                        std::string_view realm, int64_t now) const {
  auto cred = request.credentials(header, realm);
  if (!cred) {
    if (cred.error().code == common::ErrorCode::kNotFound)
      return outcome(Verdict::kChallenge, "", "no credentials");
    return outcome(Verdict::kBadRequest, "", cred.error().reason);
  }
  if (!cred->isDigest()) return outcome(Verdict::kChallenge, "", "not digest");
  std::string_view user = cred->username().value_or("");
  auto alg = cred->algorithm();
  const auto& offered = algorithmsFor(realm);
  if (!alg || std::find(offered.begin(), offered.end(), *alg) == offered.end())
    return outcome(Verdict::kChallenge, user, "algorithm not offered");
  if (user.empty() || !cred->nonce() || !cred->response() || !cred->uri())
    return outcome(Verdict::kBadRequest, user, "incomplete credentials");
  // Only qop=auth is offered; without it a captured response could be replayed.
  if (cred->qop() != std::optional<std::string_view>("auth") || !cred->nonceCount() ||
      !cred->cnonce())
    return outcome(Verdict::kChallenge, user, "qop=auth with nc and cnonce required");
  int64_t issued = 0;
  if (checkNonce(*cred->nonce(), realm, now, &issued) == NonceState::kForged)
    return outcome(Verdict::kChallenge, user, "unknown nonce");
  // The digest-uri names the Request-URI (§22.4); compared as URIs, since clients differ in
  // escaping and parameter order.
  auto uri = sip::Uri::parse(*cred->uri());
  bool fits = uri && (sip::equivalent(*uri, request.requestUri()) ||
                      (options_.uri_fits && options_.uri_fits(*uri, request)));
  if (!fits) return outcome(Verdict::kForbidden, user, "digest uri is not the Request-URI");
  return outcome(Verdict::kNeedsHa1, user, "");
}

DigestAuth::Outcome DigestAuth::finish(const sip::Message& request, sip::HeaderId header,
                                       std::string_view realm, const std::optional<Ha1>& ha1,
                                       int64_t now, bool retransmissions_pass) {
  // Every check of inspect() again, here where the response is computed: the algorithm the
  // realm offers above all (no downgrade to one it does not), whether or not the caller ran
  // inspect() before the HA1 lookup.
  Outcome first = inspect(request, header, realm, now);
  if (first.verdict != Verdict::kNeedsHa1) return first;
  auto cred = request.credentials(header, realm);  // inspect() parsed it already
  if (!cred) return outcome(Verdict::kBadRequest, first.username, cred.error().reason);
  if (!ha1) return outcome(Verdict::kChallenge, first.username, "unknown user");
  sip::DigestAlgorithm alg = cred->algorithm().value_or(sip::DigestAlgorithm::kMd5);
  const std::string& secret = alg == sip::DigestAlgorithm::kSha256 ? ha1->sha256 : ha1->md5;
  if (secret.empty() ||
      !sip::verifyResponse(alg, secret, request.methodText(), *cred, request.body()))
    return outcome(Verdict::kChallenge, first.username, "wrong password");
  int64_t issued = 0;
  if (checkNonce(*cred->nonce(), realm, now, &issued) == NonceState::kExpired)
    return outcome(Verdict::kStale, first.username, "nonce expired");
  if (!recordCount(*cred->nonce(), *cred->nonceCount(), issued, now, requestKey(request),
                   retransmissions_pass))
    return outcome(Verdict::kChallenge, first.username, "nonce-count replayed");
  return outcome(Verdict::kOk, first.username, "");
}

bool DigestAuth::recordCount(std::string_view nonce, uint32_t nc, int64_t issued, int64_t now,
                             uint64_t request_key, bool retransmissions_pass) {
  Shard& shard = shards_[shardOf(nonce) % kShards];
  std::lock_guard lock(shard.mu);
  auto it = shard.seen.find(std::string(nonce));
  if (it != shard.seen.end()) {
    Seen& seen = it->second;
    if (retransmissions_pass && nc == seen.max_nc && request_key != 0 &&
        request_key == seen.request_key && now - seen.used_at <= kRetransmitWindow)
      return true;
    if (nc <= seen.max_nc) return false;
    seen = Seen{nc, seen.issued, request_key, now};
    return true;
  }
  size_t cap = std::max<size_t>(options_.max_tracked_nonces / kShards, 16);
  if (shard.seen.size() >= cap) {
    // Forget nonces that can no longer be used (expired); if every one is live, the table
    // is under attack: forget the older half. A forgotten nonce's counts could then be
    // replayed until it expires, which the cap trades for bounded memory.
    std::erase_if(shard.seen, [&](const auto& kv) {
      return now - kv.second.issued > options_.nonce_lifetime.count();
    });
    if (shard.seen.size() >= cap) {
      std::vector<int64_t> times;
      times.reserve(shard.seen.size());
      for (const auto& kv : shard.seen) times.push_back(kv.second.issued);
      std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
      int64_t median = times[times.size() / 2];
      std::erase_if(shard.seen, [&](const auto& kv) { return kv.second.issued <= median; });
    }
  }
  shard.seen.emplace(std::string(nonce), Seen{nc, issued, request_key, now});
  return true;
}

size_t DigestAuth::trackedNonces() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.seen.size();
  }
  return n;
}

}  // namespace edge
