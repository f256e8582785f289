// The API's secrets: AES-GCM sealing under the master key (and where that key comes from),
// PBKDF2 hashes of key secrets, SIDs and tokens, base64.
#include "api/secrets.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>

namespace api {
namespace {

constexpr std::string_view kHexKey =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr std::string_view kOtherHexKey =
    "f0e0d0c0b0a090807060504030201000ffeeddccbbaa99887766554433221100";
constexpr std::string_view kAccount = "AC0123456789abcdef0123456789abcdef";

MasterKey key(std::string_view hex = kHexKey) {
  auto k = MasterKey::fromHex(hex);
  EXPECT_TRUE(k) << k.error().reason;
  return *k;
}

bool isLowerHex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// A fresh directory under the system's temp dir, removed afterwards.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("sb_secrets_test_" + std::to_string(getpid()) + "_" + std::to_string(++counter));
    std::filesystem::remove_all(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Unsets SWITCHBOARD_MASTER_KEY for a test (load() prefers it to the file) and puts it back.
class NoMasterKeyEnv {
 public:
  NoMasterKeyEnv() {
    if (const char* v = std::getenv("SWITCHBOARD_MASTER_KEY")) saved_ = v;
    unsetenv("SWITCHBOARD_MASTER_KEY");
  }
  ~NoMasterKeyEnv() {
    if (saved_)
      setenv("SWITCHBOARD_MASTER_KEY", saved_->c_str(), 1);
    else
      unsetenv("SWITCHBOARD_MASTER_KEY");
  }

 private:
  std::optional<std::string> saved_;
};

TEST(MasterKey, SealOpenRoundTrip) {
  MasterKey k = key();
  for (std::string plain : {std::string("0123456789abcdef0123456789abcdef"), std::string(),
                            std::string("h\xC3\xA9llo\0world", 12), std::string(1000, 'x')}) {
    std::string sealed = k.seal(plain, kAccount);
    EXPECT_EQ(sealed.substr(0, 3), "v1:");
    if (plain.size() >= 8) {
      EXPECT_EQ(sealed.find(plain), std::string::npos);  // not in clear
    }
    auto opened = k.open(sealed, kAccount);
    ASSERT_TRUE(opened) << opened.error().reason;
    EXPECT_EQ(*opened, plain);
  }
}

TEST(MasterKey, SealUsesAFreshNonceEachTime) {
  MasterKey k = key();
  EXPECT_NE(k.seal("token", kAccount), k.seal("token", kAccount));
}

TEST(MasterKey, OpenFailsWithOtherAssociatedData) {
  MasterKey k = key();
  std::string sealed = k.seal("secret token", kAccount);
  auto opened = k.open(sealed, "AC0123456789abcdef0123456789abcdee");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, common::ErrorCode::kInvalidArgument);
  EXPECT_FALSE(k.open(sealed, ""));
}

TEST(MasterKey, OpenFailsUnderAnotherKey) {
  std::string sealed = key().seal("secret token", kAccount);
  auto opened = key(kOtherHexKey).open(sealed, kAccount);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, common::ErrorCode::kInvalidArgument);
}

TEST(MasterKey, TamperedCiphertextFails) {
  MasterKey k = key();
  std::string sealed = k.seal("secret token", kAccount);
  auto raw = base64Decode(std::string_view(sealed).substr(3));
  ASSERT_TRUE(raw);
  ASSERT_EQ(raw->size(), 12u + 12u + 16u);  // nonce, "secret token", tag
  // Flip one bit in the nonce, the ciphertext and the tag in turn.
  for (size_t at : {size_t(0), size_t(12), size_t(20), raw->size() - 1}) {
    std::string bad = *raw;
    bad[at] = char(bad[at] ^ 0x01);
    EXPECT_FALSE(k.open("v1:" + base64Encode(bad), kAccount)) << "byte " << at;
  }
  // Truncated: the tag cut short.
  std::string shorter = raw->substr(0, raw->size() - 1);
  EXPECT_FALSE(k.open("v1:" + base64Encode(shorter), kAccount));
  // The untouched value still opens.
  EXPECT_TRUE(k.open("v1:" + base64Encode(*raw), kAccount));
}

TEST(MasterKey, MalformedTextFails) {
  MasterKey k = key();
  std::string sealed = k.seal("secret token", kAccount);
  for (std::string bad : {std::string(), std::string("v1:"), std::string("v1:!!!!"),
                          std::string("v2:") + sealed.substr(3), sealed.substr(3),
                          std::string("v1:AAAA"),  // decodes, but shorter than nonce + tag
                          sealed.substr(0, sealed.size() - 1), std::string("plain token")}) {
    auto opened = k.open(bad, kAccount);
    EXPECT_FALSE(opened) << "'" << bad << "'";
    if (!opened) {
      EXPECT_EQ(opened.error().code, common::ErrorCode::kInvalidArgument);
    }
  }
}

TEST(MasterKey, FromHexNeedsExactly64HexDigits) {
  EXPECT_TRUE(MasterKey::fromHex(kHexKey));
  EXPECT_TRUE(MasterKey::fromHex(
      "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"));  // upper case
  EXPECT_FALSE(MasterKey::fromHex(""));
  EXPECT_FALSE(MasterKey::fromHex(kHexKey.substr(0, 62)));
  EXPECT_FALSE(MasterKey::fromHex(std::string(kHexKey) + "00"));
  EXPECT_FALSE(MasterKey::fromHex(std::string(kHexKey.substr(0, 63)) + ":"));
}

TEST(MasterKey, FromHexRejectsLettersPastF) {
  // 'g'..'z' are not hex digits, whatever value a sloppy decoder would give them.
  std::string g(64, 'g');
  EXPECT_FALSE(MasterKey::fromHex(g)) << "64 'g's accepted as a master key";
  std::string z = std::string(kHexKey.substr(0, 63)) + "z";
  EXPECT_FALSE(MasterKey::fromHex(z)) << "a trailing 'z' accepted";
  std::string upper_g = "G" + std::string(kHexKey.substr(1));
  EXPECT_FALSE(MasterKey::fromHex(upper_g)) << "a leading 'G' accepted";
}

TEST(MasterKey, LoadPrefersTheConfiguredHex) {
  NoMasterKeyEnv env;
  TempDir dir;
  auto loaded = MasterKey::load(kHexKey, dir.path().string());
  ASSERT_TRUE(loaded) << loaded.error().reason;
  // Same key as fromHex: each opens what the other sealed.
  EXPECT_EQ(*key().open(loaded->seal("t", kAccount), kAccount), "t");
  EXPECT_EQ(*loaded->open(key().seal("u", kAccount), kAccount), "u");
  // No file was made for it.
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "master.key"));
}

TEST(MasterKey, LoadRejectsABadConfiguredValue) {
  NoMasterKeyEnv env;
  TempDir dir;
  auto loaded = MasterKey::load("0123", dir.path().string());
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, common::ErrorCode::kInvalidArgument);
  EXPECT_FALSE(MasterKey::load(std::string(63, '0') + "!", dir.path().string()));
  EXPECT_FALSE(MasterKey::load(std::string(65, '0'), dir.path().string()));
  // A bad configured value is an error, never a silent fallback to a generated file.
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "master.key"));
}

TEST(MasterKey, LoadReadsTheEnvironmentWhenNothingIsConfigured) {
  NoMasterKeyEnv env;
  TempDir dir;
  setenv("SWITCHBOARD_MASTER_KEY", std::string(kOtherHexKey).c_str(), 1);
  auto loaded = MasterKey::load("", dir.path().string());
  ASSERT_TRUE(loaded) << loaded.error().reason;
  EXPECT_EQ(*key(kOtherHexKey).open(loaded->seal("t", kAccount), kAccount), "t");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "master.key"));

  setenv("SWITCHBOARD_MASTER_KEY", "not hex", 1);
  auto bad = MasterKey::load("", dir.path().string());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().reason.find("SWITCHBOARD_MASTER_KEY"), std::string::npos);
}

TEST(MasterKey, LoadCreatesAPrivateKeyFileOnceAndReusesIt) {
  NoMasterKeyEnv env;
  TempDir dir;
  const std::string data_dir = (dir.path() / "data").string();  // does not exist yet
  auto first = MasterKey::load("", data_dir);
  ASSERT_TRUE(first) << first.error().reason;
  const auto file = std::filesystem::path(data_dir) / "master.key";
  ASSERT_TRUE(std::filesystem::exists(file));
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  std::ifstream in(file);
  std::string text;
  ASSERT_TRUE(std::getline(in, text));
  EXPECT_EQ(text.size(), 64u);
  EXPECT_TRUE(isLowerHex(text));

  auto second = MasterKey::load("", data_dir);
  ASSERT_TRUE(second) << second.error().reason;
  auto opened = second->open(first->seal("the token", kAccount), kAccount);
  ASSERT_TRUE(opened) << "the second load made another key";
  EXPECT_EQ(*opened, "the token");
  // And it is the key written in the file.
  EXPECT_EQ(*key(text).open(first->seal("x", kAccount), kAccount), "x");
}

TEST(MasterKey, LoadFailsOnACorruptKeyFile) {
  NoMasterKeyEnv env;
  TempDir dir;
  std::filesystem::create_directories(dir.path());
  {
    std::ofstream out(dir.path() / "master.key");
    out << "short\n";
  }
  auto loaded = MasterKey::load("", dir.path().string());
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().reason.find("master.key"), std::string::npos);
}

TEST(HashSecret, VerifiesTheRightSecretOnly) {
  const std::string h = hashSecret("s3cret", 1000);
  EXPECT_EQ(h.rfind("pbkdf2-sha256$1000$", 0), 0u) << h;
  EXPECT_TRUE(verifySecret("s3cret", h));
  EXPECT_FALSE(verifySecret("s3cret ", h));
  EXPECT_FALSE(verifySecret("S3cret", h));
  EXPECT_FALSE(verifySecret("", h));
  // The salt is random: two hashes of one secret differ, and both verify.
  const std::string h2 = hashSecret("s3cret", 1000);
  EXPECT_NE(h, h2);
  EXPECT_TRUE(verifySecret("s3cret", h2));
}

TEST(HashSecret, DefaultIterations) {
  const std::string h = hashSecret("abc");
  EXPECT_EQ(h.rfind("pbkdf2-sha256$100000$", 0), 0u) << h;
  EXPECT_TRUE(verifySecret("abc", h));
  EXPECT_FALSE(verifySecret("abd", h));
}

TEST(HashSecret, MalformedHashesVerifyNothing) {
  const std::string h = hashSecret("s3cret", 1000);
  // Split into its four parts to rebuild broken variants.
  size_t d1 = h.find('$'), d2 = h.find('$', d1 + 1), d3 = h.find('$', d2 + 1);
  ASSERT_NE(d3, std::string::npos);
  const std::string salt = h.substr(d2 + 1, d3 - d2 - 1), hash = h.substr(d3 + 1);
  for (const std::string& bad : {
           std::string(), std::string("s3cret"),
           std::string("pbkdf2-sha256$1000$") + salt,            // three parts
           "pbkdf2-sha1$1000$" + salt + "$" + hash,              // another scheme
           "pbkdf2-sha256$$" + salt + "$" + hash,                // no iterations
           "pbkdf2-sha256$0$" + salt + "$" + hash,               // zero iterations
           "pbkdf2-sha256$x1000$" + salt + "$" + hash,           // not a number
           "pbkdf2-sha256$999$" + salt + "$" + hash,             // other iterations
           "pbkdf2-sha256$1000$" + salt + "$",                   // no hash
           "pbkdf2-sha256$1000$" + salt + "$" + hash + "$",      // a fifth part
           "pbkdf2-sha256$1000$!!!!$" + hash,                    // salt not base64
           "pbkdf2-sha256$1000$" + salt + "$" + hash.substr(1),  // hash not base64
       }) {
    EXPECT_FALSE(verifySecret("s3cret", bad)) << bad;
  }
}

// API key secrets: a keyed hash under a subkey of the master key, not a stretched one.
TEST(KeyHasher, FormatIsSchemeAndBase64OfThirtyTwoBytes) {
  auto key = MasterKey::fromHex(std::string(64, '1'));
  ASSERT_TRUE(key);
  KeyHasher hasher(*key);
  const std::string secret = newToken();
  const std::string h = hasher.hash(secret);
  ASSERT_EQ(h.rfind("hmac-sha256$", 0), 0u) << h;
  auto raw = base64Decode(h.substr(12));
  ASSERT_TRUE(raw) << h;
  EXPECT_EQ(raw->size(), 32u);
  EXPECT_EQ(h.find(secret), std::string::npos);  // the secret is not in it
  EXPECT_FALSE(isSlowHash(h));
  // Deterministic under one master key (every node computes the same), another key differs.
  EXPECT_EQ(hasher.hash(secret), h);
  EXPECT_EQ(KeyHasher(*key).hash(secret), h);
  auto other = MasterKey::fromHex(std::string(64, '2'));
  ASSERT_TRUE(other);
  EXPECT_NE(KeyHasher(*other).hash(secret), h);
  EXPECT_FALSE(KeyHasher(*other).verify(secret, h));
}

TEST(KeyHasher, VerifiesTheRightSecretOnly) {
  auto key = MasterKey::fromHex(std::string(64, '3'));
  ASSERT_TRUE(key);
  KeyHasher hasher(*key);
  const std::string secret = newToken();
  const std::string h = hasher.hash(secret);
  EXPECT_TRUE(hasher.verify(secret, h));
  std::string wrong = secret;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  EXPECT_FALSE(hasher.verify(wrong, h));
  EXPECT_FALSE(hasher.verify("", h));
  EXPECT_FALSE(hasher.verify(secret + "0", h));
  const uint64_t before = constantTimeComparisons();
  EXPECT_FALSE(hasher.verify(wrong, h));
  EXPECT_GT(constantTimeComparisons(), before);
  // Malformed or of another scheme: nothing verifies, and no slow hash runs.
  const uint64_t slow = slowHashesRun();
  for (const std::string& bad :
       {std::string(), std::string("hmac-sha256$"), h.substr(0, h.size() - 1),
        "hmac-sha1$" + h.substr(12), " " + h, h + "=", hashSecret(secret, 1000)}) {
    EXPECT_FALSE(hasher.verify(secret, bad)) << bad;
  }
  EXPECT_EQ(slowHashesRun(), slow);
}

TEST(MasterKey, DerivedSubkeysDifferByPurposeAndFromTheKey) {
  auto key = MasterKey::fromHex(std::string(64, '4'));
  ASSERT_TRUE(key);
  auto a = key->derive("api-key-verifier"), b = key->derive("something else");
  EXPECT_NE(a, b);
  EXPECT_EQ(a, key->derive("api-key-verifier"));
  std::array<unsigned char, 32> raw;
  raw.fill(0x44);
  EXPECT_NE(a, raw);
}

TEST(HashSecret, IsSlowHashAndCountsTheSlowChecks) {
  const std::string h = hashSecret("s3cret", 1000);
  EXPECT_TRUE(isSlowHash(h));
  EXPECT_FALSE(isSlowHash("pbkdf2-sha256"));
  EXPECT_FALSE(isSlowHash("pbkdf2-sha256x$1$a$b"));
  const uint64_t before = slowHashesRun();
  EXPECT_TRUE(verifySecret("s3cret", h));
  EXPECT_FALSE(verifySecret("wrong", h));
  EXPECT_EQ(slowHashesRun(), before + 2);
}

TEST(NewToken, ThirtyTwoLowerHexDigits) {
  std::string token = newToken();
  EXPECT_EQ(token.size(), 32u);
  EXPECT_TRUE(isLowerHex(token));
}

TEST(NewToken, Unique) {
  std::set<std::string> tokens;
  for (int i = 0; i < 2000; ++i) tokens.insert(newToken());
  EXPECT_EQ(tokens.size(), 2000u);
}

TEST(ConstantTimeEquals, ComparesWholeStrings) {
  EXPECT_TRUE(constantTimeEquals("abc", "abc"));
  EXPECT_TRUE(constantTimeEquals("", ""));
  EXPECT_FALSE(constantTimeEquals("abc", "abd"));
  EXPECT_FALSE(constantTimeEquals("abc", "ab"));
  EXPECT_FALSE(constantTimeEquals("ab", "abc"));
}

TEST(Base64, KnownValuesAndPadding) {
  // RFC 4648 section 10.
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64Encode(plain), encoded);
    auto decoded = base64Decode(encoded);
    ASSERT_TRUE(decoded) << encoded;
    EXPECT_EQ(*decoded, plain) << encoded;
  }
}

TEST(Base64, RoundTripsEveryByteAndLength) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(char(i));
  for (size_t n = 0; n <= all.size(); n += 1) {
    std::string in = all.substr(0, n);
    std::string enc = base64Encode(in);
    EXPECT_EQ(enc.size(), 4 * ((n + 2) / 3));
    auto dec = base64Decode(enc);
    ASSERT_TRUE(dec) << n;
    EXPECT_EQ(*dec, in) << n;
  }
}

TEST(Base64, RejectsMalformedText) {
  EXPECT_FALSE(base64Decode("Zg="));  // length not a multiple of 4
  EXPECT_FALSE(base64Decode("Zg"));
  EXPECT_FALSE(base64Decode("Zm9v!A=="));  // not in the alphabet
  EXPECT_FALSE(
      base64Decode("Zm9v\x01"
                   "A=="));
}

}  // namespace
}  // namespace api
