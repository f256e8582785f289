#include "edge/route_tokens.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <chrono>

#include "common/strings.h"
#include "sip/auth.h"

namespace edge {
namespace {

constexpr size_t kMacHex = 16;     // 64 bits
constexpr size_t kUniqueHex = 12;  // the `unique` part of a branch
constexpr size_t kLoopHex = 16;    // loopHash()

bool isLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

// A keyed HMAC-SHA256 context; each MAC runs on a copy, so threads share it read-only.
struct RouteTokens::Mac {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* keyed = nullptr;
  ~Mac() {
    EVP_MAC_CTX_free(keyed);
    EVP_MAC_free(mac);
  }
};

RouteTokens::RouteTokens(std::string_view secret) : mac_(std::make_unique<Mac>()) {
  std::string key(secret);
  if (key.empty()) {
    unsigned char random[32];
    if (RAND_bytes(random, sizeof random) == 1) {
      key.assign(reinterpret_cast<const char*>(random), sizeof random);
    } else {
      key = std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) +
            std::to_string(reinterpret_cast<uintptr_t>(this));
    }
  }
  // Its own key, derived from the shared secret: a nonce MAC is never a valid token.
  key.insert(0, "switchboard route tokens\n");
  mac_->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac_->mac != nullptr) mac_->keyed = EVP_MAC_CTX_new(mac_->mac);
  if (mac_->keyed != nullptr) {
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    if (EVP_MAC_init(mac_->keyed, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                     params) != 1) {
      EVP_MAC_CTX_free(mac_->keyed);
      mac_->keyed = nullptr;
    }
  }
}

RouteTokens::~RouteTokens() = default;

std::string RouteTokens::mac(char domain, std::string_view a, std::string_view b) const {
  // Without a working HMAC nothing verifies: every token is refused rather than accepted.
  if (mac_->keyed == nullptr) return std::string(kMacHex, 'x');
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(mac_->keyed);
  if (ctx == nullptr) return std::string(kMacHex, 'x');
  const unsigned char sep = 0;
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  bool ok = EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(&domain), 1) == 1 &&
            EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(a.data()), a.size()) == 1 &&
            EVP_MAC_update(ctx, &sep, 1) == 1 &&
            EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(b.data()), b.size()) == 1 &&
            EVP_MAC_final(ctx, out, &len, sizeof out) == 1 && len >= kMacHex / 2;
  EVP_MAC_CTX_free(ctx);
  if (!ok) return std::string(kMacHex, 'x');
  std::string hex;
  common::appendHex(hex, out, kMacHex / 2);
  return hex;
}

std::string RouteTokens::branch(std::string_view loop_hash, uint64_t unique) const {
  std::string b(kBranchPrefix);
  b.append(loop_hash);
  b.push_back('.');
  b += common::hexDigits(unique, kUniqueHex);
  std::string_view body = std::string_view(b).substr(kBranchPrefix.size());
  std::string m = mac('b', body, {});
  b.push_back('.');
  b += m;
  return b;
}

bool RouteTokens::verifyBranch(std::string_view branch) const {
  constexpr size_t kSize = kBranchPrefix.size() + kLoopHex + 1 + kUniqueHex + 1 + kMacHex;
  if (branch.size() != kSize || branch.substr(0, kBranchPrefix.size()) != kBranchPrefix)
    return false;
  std::string_view body = branch.substr(kBranchPrefix.size(), kLoopHex + 1 + kUniqueHex);
  std::string_view given = branch.substr(kSize - kMacHex);
  if (branch[kSize - kMacHex - 1] != '.' || !isLowerHex(given)) return false;
  return sip::constantTimeEquals(mac('b', body, {}), given);
}

std::string RouteTokens::dialogToken(std::string_view call_id, std::string_view creator_tag) const {
  return mac('d', call_id, creator_tag);
}

bool RouteTokens::verifyDialog(std::string_view token, std::string_view call_id,
                               std::string_view tag_a, std::string_view tag_b) const {
  if (token.size() != kMacHex || !isLowerHex(token)) return false;
  // Both are computed, so the time taken does not tell which tag matched.
  const bool a = sip::constantTimeEquals(mac('d', call_id, tag_a), token);
  const bool b = !tag_b.empty() && sip::constantTimeEquals(mac('d', call_id, tag_b), token);
  return a || b;
}

}  // namespace edge
