// The API's secrets: the master key that seals what must be read back (auth tokens, which
// sign webhooks), keyed hashes for what only has to be checked (API key secrets), and the
// random tokens themselves (SIDs: common/ids.h).
//
//   auto key = api::MasterKey::load(cfg.getString("api.master_key").value(), data_dir);
//   std::string sealed = key->seal(token, account_sid);     // stored
//   auto token2 = key->open(sealed, account_sid);           // == token
//   api::KeyHasher hasher(*key);
//   std::string h = hasher.hash(secret);                    // stored
//   bool ok = hasher.verify(secret, h);
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace api {

// AES-256-GCM under a 32-byte key. A sealed value is "v1:" + base64(nonce | ciphertext |
// tag); the associated data (e.g. the row's SID) binds it to its row, so a sealed token
// copied into another account does not open.
class MasterKey {
 public:
  // 64 hex digits.
  static common::Result<MasterKey> fromHex(std::string_view hex);
  // `configured` (64 hex digits) when not empty; else the environment variable
  // SWITCHBOARD_MASTER_KEY; else DATA_DIR/master.key, created (mode 0600, random) when absent.
  // Every node sharing a database must use the same key.
  static common::Result<MasterKey> load(std::string_view configured, const std::string& data_dir);

  std::string seal(std::string_view plaintext, std::string_view associated) const;
  // kInvalidArgument when the text is not a sealed value or was sealed under another key or
  // associated data.
  common::Result<std::string> open(std::string_view sealed, std::string_view associated) const;
  // A subkey for one purpose, HMAC-SHA256(master key, purpose): a key that signs or hashes
  // never doubles as the one that seals.
  std::array<unsigned char, 32> derive(std::string_view purpose) const;

 private:
  std::array<unsigned char, 32> key_{};
};

// API key secrets are 128 random bits, so a keyed hash is as strong as any stretching and
// costs a microsecond, not 20 ms of a thread an unauthenticated caller could keep busy:
// "hmac-sha256$" + base64(HMAC-SHA256(subkey, secret)), the subkey derived from the master
// key ("api-key-verifier"). A copy of the store without the master key cannot check a guess.
class KeyHasher {
 public:
  explicit KeyHasher(const MasterKey& key);
  std::string hash(std::string_view secret) const;
  // Constant-time; false for a malformed hash or one of another scheme.
  bool verify(std::string_view secret, std::string_view hash) const;

 private:
  std::array<unsigned char, 32> subkey_;
};

// Legacy: how earlier versions stored key secrets, PBKDF2-HMAC-SHA256 with a random salt,
// "pbkdf2-sha256$ITERATIONS$SALT_B64$HASH_B64". Still verified (and then replaced by a
// KeyHasher hash); no longer made for keys.
std::string hashSecret(std::string_view secret, uint32_t iterations = 100000);
// Constant-time comparison; false for a malformed hash.
bool verifySecret(std::string_view secret, std::string_view hash);
// A hash made by hashSecret (whose check is slow and so must be budgeted).
bool isSlowHash(std::string_view hash);
// How many PBKDF2 verifications verifySecret has run in this process: lets a test assert that
// a refused attempt did not pay for one.
uint64_t slowHashesRun();

// 32 lower-case hex digits (an auth token or key secret: 128 random bits).
std::string newToken();

// Constant-time equality of two strings (the length is not secret). Every comparison of a
// presented credential with a stored one (auth tokens, key secrets and their verifiers)
// goes through it.
bool constantTimeEquals(std::string_view a, std::string_view b);
// How many times constantTimeEquals has run in this process: lets a test assert that a
// credential check used it rather than `==`, whose time tells where the first difference is.
uint64_t constantTimeComparisons();

std::string base64Encode(std::string_view bytes);
common::Result<std::string> base64Decode(std::string_view text);

}  // namespace api
