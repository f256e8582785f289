#include "api/webhook_signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstdint>

#include "common/strings.h"

namespace api {
namespace {

// The next code point of UTF-8 text at `i` (advancing it); invalid bytes count as
// themselves, so any input has an order.
uint32_t nextCodePoint(std::string_view s, size_t& i) {
  const auto byte = [&](size_t k) { return uint8_t(s[k]); };
  uint8_t c = byte(i);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len <= 1 || i + len > s.size()) {
    ++i;
    return c;
  }
  uint32_t cp = c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      ++i;
      return c;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  i += len;
  return cp;
}

// The first UTF-16 code unit of a code point: what decides the order of two strings that
// agree up to it (a surrogate pair's second unit only matters between equal first units,
// and those come from code points ordered the same way).
uint32_t firstUnit(uint32_t cp) {
  return cp < 0x10000 ? cp : 0xD800 + ((cp - 0x10000) >> 10);
}

std::string base64(const unsigned char* data, size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, int(n));
  out.resize(size_t(written));
  return out;
}

}  // namespace

bool utf16Less(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    uint32_t x = nextCodePoint(a, i), y = nextCodePoint(b, j);
    if (x == y) continue;
    uint32_t ux = firstUnit(x), uy = firstUnit(y);
    if (ux != uy) return ux < uy;
    return x < y;  // both above U+FFFF with the same high surrogate
  }
  return i >= a.size() && j < b.size();
}

std::string signatureBase(std::string_view url, const FormParams& params) {
  std::vector<const std::pair<std::string, std::string>*> sorted;
  sorted.reserve(params.size());
  for (const auto& p : params) sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(), [](const auto* x, const auto* y) {
    if (x->first != y->first) return utf16Less(x->first, y->first);
    return utf16Less(x->second, y->second);
  });
  std::string out(url);
  const std::pair<std::string, std::string>* last = nullptr;
  for (const auto* p : sorted) {
    if (last != nullptr && *last == *p) continue;  // a repeated name: each value once
    out += p->first;
    out += p->second;
    last = p;
  }
  return out;
}

std::string twilioSignature(std::string_view auth_token, std::string_view url,
                            const FormParams& params) {
  const std::string base = signatureBase(url, params);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha1(), auth_token.data(), int(auth_token.size()),
       reinterpret_cast<const unsigned char*>(base.data()), base.size(), mac, &mac_len);
  return base64(mac, mac_len);
}

bool signatureMatches(std::string_view auth_token, std::string_view signature, std::string_view url,
                      const FormParams& params) {
  const std::string want = twilioSignature(auth_token, url, params);
  return want.size() == signature.size() &&
         CRYPTO_memcmp(want.data(), signature.data(), want.size()) == 0;
}

std::string withBodySha256(std::string_view url, std::string_view body) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest);
  std::string out(url);
  const size_t hash = out.find('#');
  std::string fragment;
  if (hash != std::string::npos) {
    fragment = out.substr(hash);
    out.resize(hash);
  }
  if (out.find('?') == std::string::npos) {
    out += '?';
  } else if (out.back() != '?' && out.back() != '&') {
    out += '&';
  }
  out += "bodySHA256=";
  common::appendHex(out, digest, sizeof digest);
  return out + fragment;
}

}  // namespace api
