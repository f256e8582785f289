#include "api/secrets.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "common/key_file.h"
#include "common/strings.h"

namespace api {

using common::ErrorCode;
using common::makeError;

namespace {

constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr std::string_view kSealedPrefix = "v1:";
constexpr std::string_view kHashScheme = "pbkdf2-sha256";
constexpr std::string_view kKeyedScheme = "hmac-sha256$";
constexpr std::string_view kVerifierPurpose = "api-key-verifier";

void randomBytes(unsigned char* out, size_t n) {
  // RAND_bytes fails only when the OS generator is unusable; nothing secret may be made then.
  if (RAND_bytes(out, int(n)) != 1) std::abort();
}

std::string randomHex(size_t bytes) {
  unsigned char buf[32];
  randomBytes(buf, bytes);
  std::string out;
  common::appendHex(out, buf, bytes);
  return out;
}

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

namespace {
std::atomic<uint64_t> constant_time_comparisons{0};
std::atomic<uint64_t> slow_hashes{0};

std::array<unsigned char, 32> hmacSha256(const unsigned char* key, size_t key_size,
                                         std::string_view data) {
  std::array<unsigned char, 32> out{};
  unsigned int n = out.size();
  if (!HMAC(EVP_sha256(), key, int(key_size), bytes(data), data.size(), out.data(), &n))
    std::abort();  // only out of memory gets here
  return out;
}
}  // namespace

bool constantTimeEquals(std::string_view a, std::string_view b) {
  constant_time_comparisons.fetch_add(1, std::memory_order_relaxed);
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

uint64_t constantTimeComparisons() {
  return constant_time_comparisons.load(std::memory_order_relaxed);
}

std::string base64Encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(in), int(in.size()));
  out.resize(size_t(n));
  return out;
}

common::Result<std::string> base64Decode(std::string_view in) {
  if (in.size() % 4 != 0) return makeError(ErrorCode::kInvalidArgument, "base64: bad length");
  // Strict: the alphabet, then at most two '=' at the end. (EVP_DecodeBlock alone would skip
  // white space and accept "    " as a 3-byte value.)
  size_t pad = 0;
  while (pad < 2 && pad < in.size() && in[in.size() - 1 - pad] == '=') ++pad;
  for (size_t i = 0; i + pad < in.size(); ++i) {
    char c = in[i];
    if (!(common::isAlpha(c) || common::isDigit(c) || c == '+' || c == '/'))
      return makeError(ErrorCode::kInvalidArgument, "base64: bad character");
  }
  std::string out(3 * in.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(in), int(in.size()));
  if (n < 0) return makeError(ErrorCode::kInvalidArgument, "base64: bad character");
  out.resize(size_t(n) - pad);  // EVP_DecodeBlock counts the padding as zero bytes
  return out;
}

common::Result<MasterKey> MasterKey::fromHex(std::string_view hex) {
  MasterKey k;
  if (hex.size() != 64)
    return makeError(ErrorCode::kInvalidArgument, "master key: must be 64 hex digits");
  for (size_t i = 0; i < 32; ++i) {
    int hi = common::hexValue(hex[2 * i]), lo = common::hexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return makeError(ErrorCode::kInvalidArgument, "master key: must be 64 hex digits");
    k.key_[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return k;
}

common::Result<MasterKey> MasterKey::load(std::string_view configured,
                                          const std::string& data_dir) {
  if (!configured.empty()) return fromHex(configured);
  if (const char* env = std::getenv("SWITCHBOARD_MASTER_KEY"); env && *env) {
    auto k = fromHex(env);
    if (!k)
      return makeError(ErrorCode::kInvalidArgument, "SWITCHBOARD_MASTER_KEY: " + k.error().reason);
    return k;
  }
  const std::string path = (std::filesystem::path(data_dir) / "master.key").string();
  auto text = common::readOrCreateKeyFile(path, 32);
  if (!text) return makeError(ErrorCode::kIo, "master key: " + text.error().reason);
  auto k = fromHex(*text);
  if (!k) return makeError(ErrorCode::kInvalidArgument, path + ": " + k.error().reason);
  return k;
}

std::string MasterKey::seal(std::string_view plaintext, std::string_view associated) const {
  std::string raw(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  randomBytes(out, kNonceBytes);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok =
      ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), out) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(associated), int(associated.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), out + kNonceBytes, &len, bytes(plaintext),
                        int(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), out + kNonceBytes + len, &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, int(kTagBytes),
                          out + kNonceBytes + plaintext.size()) == 1;
  if (!ok) std::abort();  // only out of memory gets here
  return std::string(kSealedPrefix) + base64Encode(raw);
}

common::Result<std::string> MasterKey::open(std::string_view sealed,
                                            std::string_view associated) const {
  auto bad = [] {
    return makeError(ErrorCode::kInvalidArgument,
                     "sealed value does not open under this master key");
  };
  if (sealed.substr(0, kSealedPrefix.size()) != kSealedPrefix) return bad();
  auto raw = base64Decode(sealed.substr(kSealedPrefix.size()));
  if (!raw || raw->size() < kNonceBytes + kTagBytes) return bad();
  const auto* in = bytes(*raw);
  const size_t n = raw->size() - kNonceBytes - kTagBytes;
  std::string plain(n, '\0');
  auto* out = reinterpret_cast<unsigned char*>(plain.data());
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  unsigned char tag[kTagBytes];
  std::copy(in + kNonceBytes + n, in + kNonceBytes + n + kTagBytes, tag);
  bool ok =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), in) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(associated), int(associated.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), out, &len, in + kNonceBytes, int(n)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, int(kTagBytes), tag) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), out + len, &len) == 1;
  if (!ok) return bad();
  return plain;
}

std::array<unsigned char, 32> MasterKey::derive(std::string_view purpose) const {
  return hmacSha256(key_.data(), key_.size(), purpose);
}

KeyHasher::KeyHasher(const MasterKey& key) : subkey_(key.derive(kVerifierPurpose)) {}

std::string KeyHasher::hash(std::string_view secret) const {
  auto mac = hmacSha256(subkey_.data(), subkey_.size(), secret);
  return std::string(kKeyedScheme) +
         base64Encode({reinterpret_cast<const char*>(mac.data()), mac.size()});
}

bool KeyHasher::verify(std::string_view secret, std::string_view hash) const {
  // The stored value is not secret from its own holder; what must not leak is how much of a
  // guess matched, so the comparison is constant-time and the lengths are fixed.
  if (hash.substr(0, kKeyedScheme.size()) != kKeyedScheme) return false;
  return constantTimeEquals(this->hash(secret), hash);
}

bool isSlowHash(std::string_view hash) {
  return hash.size() > kHashScheme.size() && hash.substr(0, kHashScheme.size()) == kHashScheme &&
         hash[kHashScheme.size()] == '$';
}

uint64_t slowHashesRun() {
  return slow_hashes.load(std::memory_order_relaxed);
}

std::string hashSecret(std::string_view secret, uint32_t iterations) {
  unsigned char salt[16];
  randomBytes(salt, sizeof salt);
  unsigned char out[32];
  if (PKCS5_PBKDF2_HMAC(secret.data(), int(secret.size()), salt, sizeof salt, int(iterations),
                        EVP_sha256(), sizeof out, out) != 1)
    std::abort();
  return std::string(kHashScheme) + "$" + std::to_string(iterations) + "$" +
         base64Encode({reinterpret_cast<char*>(salt), sizeof salt}) + "$" +
         base64Encode({reinterpret_cast<char*>(out), sizeof out});
}

bool verifySecret(std::string_view secret, std::string_view hash) {
  std::string_view parts[4];
  for (size_t i = 0; i < 4; ++i) {
    size_t dollar = i < 3 ? hash.find('$') : hash.size();
    if (dollar == std::string_view::npos) return false;
    parts[i] = hash.substr(0, dollar);
    hash.remove_prefix(i < 3 ? dollar + 1 : dollar);
  }
  auto iterations = common::parseUint(parts[1], 10'000'000);
  auto salt = base64Decode(parts[2]);
  auto want = base64Decode(parts[3]);
  if (parts[0] != kHashScheme || !iterations || *iterations == 0 || !salt || !want ||
      want->empty() || want->size() > 64)
    return false;
  unsigned char got[64];
  slow_hashes.fetch_add(1, std::memory_order_relaxed);
  if (PKCS5_PBKDF2_HMAC(secret.data(), int(secret.size()), bytes(*salt), int(salt->size()),
                        int(*iterations), EVP_sha256(), int(want->size()), got) != 1)
    return false;
  return constantTimeEquals(std::string_view(reinterpret_cast<const char*>(got), want->size()),
                            *want);
}

std::string newToken() {
  return randomHex(16);
}

}  // namespace api
