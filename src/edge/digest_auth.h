// Digest authentication for the edge (RFC 3261 §22, RFC 8760): stateless nonces, the check
// of a request's credentials against stored HA1 values, and the challenges to send.
//
// Nonces carry their issue time and an HMAC over it and the realm, so any worker (and any
// node sharing the secret) can check one without a table; a nonce past its lifetime whose
// digest is otherwise right gets a new challenge with stale=true, so the client retries
// without asking its user. Each nonce-count may be used once: the highest nc seen per nonce
// is remembered for the nonce's lifetime, and a repeated or lower one is a replay. A
// stateless proxy, which keeps no transaction to absorb retransmissions, may ask for the
// very request that used a count (same top Via branch and sent-by, same CSeq) to pass again
// within 64*T1: it forwards the retransmission with the same branch.
//
// The check is in two steps so the HA1 lookup (a database call) runs off the SIP worker:
//
//   auto first = auth.inspect(req, sip::HeaderId::kAuthorization, realm, now);
//   if (first.verdict != Verdict::kNeedsHa1) return answer(first);   // 401 / 400
//   lookupHa1(realm, first.username, [=](std::optional<Ha1> ha1) {
//     auto done = auth.finish(req, sip::HeaderId::kAuthorization, realm, ha1, now);
//     ...
//   });
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sip/auth.h"
#include "sip/message.h"
#include "sip/uri.h"

namespace edge {

// The stored secrets of one SIP user: HA1 = H(username:realm:password) per algorithm, hex.
struct Ha1 {
  std::string md5;
  std::string sha256;
};

class DigestAuth {
 public:
  struct Options {
    // 32 or more random bytes; empty makes a random one (nonces then die with the process).
    std::string secret;
    std::chrono::seconds nonce_lifetime{300};
    // Challenge order: RFC 8760 has the preferred algorithm first.
    std::vector<sip::DigestAlgorithm> algorithms{sip::DigestAlgorithm::kSha256,
                                                 sip::DigestAlgorithm::kMd5};
    // Realms (lower case) challenged with their own list instead of `algorithms`, e.g.
    // SHA-256 then MD5 for a domain whose phones all know SHA-256.
    std::map<std::string, std::vector<sip::DigestAlgorithm>, std::less<>> realm_algorithms;
    // Nonces remembered for replay detection before the oldest are forgotten.
    size_t max_tracked_nonces = 1 << 20;
    // Whether the digest-uri of credentials fits the request. §22.4 asks for the
    // Request-URI (the default when empty); clients such as SIPp put the server's address
    // instead, which the edge accepts as long as it names this server.
    std::function<bool(const sip::Uri& digest_uri, const sip::Message& request)> uri_fits;
  };

  enum class Verdict {
    kOk,
    kNeedsHa1,    // inspect(): credentials look right; look up the user's HA1
    kChallenge,   // no credentials for this realm, an unknown nonce, a wrong password,
                  // an unknown user or a replayed nc: answer 401/407 with challenges()
    kStale,       // right password, expired nonce: challenge with stale=true
    kBadRequest,  // malformed credentials: 400
    kForbidden,   // credentials for another URI than the Request-URI: 403
  };

  struct Outcome {
    Verdict verdict = Verdict::kChallenge;
    std::string username;  // from the credentials, when there were any
    std::string reason;    // for logs and counters
  };

  explicit DigestAuth(Options options);

  // A fresh nonce for `realm`, issued at `now` (unix seconds).
  std::string issueNonce(std::string_view realm, int64_t now) const;
  // The values for WWW-Authenticate / Proxy-Authenticate, one per configured algorithm.
  std::vector<std::string> challenges(std::string_view realm, bool stale, int64_t now) const;

  Outcome inspect(const sip::Message& request, sip::HeaderId header, std::string_view realm,
                  int64_t now) const;
  // `ha1` is nullopt for an unknown user. On kOk the nonce-count is recorded: the same
  // credentials sent again are a replay, unless `retransmissions_pass` and they come in
  // the same request (a retransmission, see above).
  Outcome finish(const sip::Message& request, sip::HeaderId header, std::string_view realm,
                 const std::optional<Ha1>& ha1, int64_t now, bool retransmissions_pass = false);

  size_t trackedNonces() const;
  // The algorithms challenged with (and accepted) in `realm`, in challenge order.
  const std::vector<sip::DigestAlgorithm>& algorithmsFor(std::string_view realm) const;

 private:
  enum class NonceState { kValid, kExpired, kForged };
  NonceState checkNonce(std::string_view nonce, std::string_view realm, int64_t now,
                        int64_t* issued) const;
  std::string mac(std::string_view stamp_and_salt, std::string_view realm) const;
  // False when `nc` is not above the highest count seen for `nonce`.
  // `request_key` names the request that uses the count (0: none); with
  // `retransmissions_pass` the same request again within kRetransmitWindow is not a replay.
  bool recordCount(std::string_view nonce, uint32_t nc, int64_t issued, int64_t now,
                   uint64_t request_key, bool retransmissions_pass);
  static constexpr int64_t kRetransmitWindow = 32;  // seconds, 64*T1

  Options options_;
  uint64_t salt_base_ = 0;
  mutable std::atomic<uint64_t> salt_counter_{0};

  struct Seen {
    uint32_t max_nc = 0;
    int64_t issued = 0;
    uint64_t request_key = 0;  // the request that used max_nc
    int64_t used_at = 0;
  };
  static constexpr size_t kShards = 16;
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Seen> seen;
  };
  Shard shards_[kShards];
};

}  // namespace edge
