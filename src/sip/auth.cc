#include "sip/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <memory>

#include "common/strings.h"
#include "sip/internal/scan.h"
#include "sip/text.h"

namespace sip {
namespace {

using common::ErrorCode;
using common::makeError;
using internal::skipLws;

common::Unexpected bad(std::string why) {
  return makeError(ErrorCode::kInvalidArgument, "bad authentication header: " + std::move(why),
                   400);
}

std::string_view stripQuotes(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return v.substr(1, v.size() - 2);
  return v;
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// H(part0 ":" part1 ":" ...), lower-case hex.
std::string digestHex(DigestAlgorithm alg, std::initializer_list<std::string_view> parts) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  const EVP_MD* md = alg == DigestAlgorithm::kSha256 ? EVP_sha256() : EVP_md5();
  EVP_DigestInit_ex(ctx.get(), md, nullptr);
  bool first = true;
  for (std::string_view p : parts) {
    if (!first) EVP_DigestUpdate(ctx.get(), ":", 1);
    EVP_DigestUpdate(ctx.get(), p.data(), p.size());
    first = false;
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), out, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(size_t(len) * 2, '0');
  for (unsigned i = 0; i < len; ++i) {
    hex[2 * i] = kHex[out[i] >> 4];
    hex[2 * i + 1] = kHex[out[i] & 15];
  }
  return hex;
}

common::Status checkDigestParams(const AuthValue& v) {
  if (!v.isDigest()) return {};
  const auto& ps = v.params();
  for (size_t i = 0; i < ps.size(); ++i) {
    for (size_t j = i + 1; j < ps.size(); ++j) {
      if (common::iequals(ps[i].name, ps[j].name))
        return bad("repeated parameter " + std::string(ps[i].name));
    }
  }
  return {};
}

}  // namespace

std::optional<DigestAlgorithm> digestAlgorithmFromName(std::string_view name) {
  std::string_view n = stripQuotes(name);
  if (n.empty() || common::iequals(n, "MD5")) return DigestAlgorithm::kMd5;
  if (common::iequals(n, "SHA-256")) return DigestAlgorithm::kSha256;
  return std::nullopt;
}

std::string_view digestAlgorithmName(DigestAlgorithm alg) {
  return alg == DigestAlgorithm::kSha256 ? "SHA-256" : "MD5";
}

bool AuthValue::isDigest() const {
  return common::iequals(scheme_, "Digest");
}

std::optional<std::string_view> AuthValue::raw(std::string_view name) const {
  for (const Param& p : params_) {
    if (common::iequals(p.name, name)) return p.value;
  }
  return std::nullopt;
}

std::optional<std::string_view> AuthValue::get(std::string_view name) const {
  auto r = raw(name);
  if (!r) return std::nullopt;
  return stripQuotes(*r);
}

std::optional<std::string> AuthValue::unescaped(std::string_view name) const {
  auto r = raw(name);
  if (!r) return std::nullopt;
  return unquote(*r);
}

common::Result<AuthValue> parseAuthValue(std::string_view s) {
  AuthValue v;
  size_t i = 0;
  skipLws(s, i);
  v.scheme_ = internal::scanToken(s, i);
  if (v.scheme_.empty()) return bad("no scheme");
  size_t before = i;
  skipLws(s, i);
  if (i >= s.size()) return v;  // a scheme alone
  if (i == before) return bad("no space after the scheme");
  for (;;) {
    skipLws(s, i);
    std::string_view name = internal::scanToken(s, i);
    if (name.empty()) return bad("empty parameter name");
    skipLws(s, i);
    if (i >= s.size() || s[i] != '=') return bad("parameter " + std::string(name) + " without '='");
    ++i;
    skipLws(s, i);
    std::string_view value;
    if (i < s.size() && s[i] == '"') {
      auto q = internal::scanQuoted(s, i);
      if (!q) return bad("unterminated quoted string");
      value = *q;
    } else {
      // token68 (RFC 7235) may end in "="; accept it for unknown schemes.
      size_t b = i;
      while (i < s.size() && (internal::isTokenChar(s[i]) || s[i] == '/' || s[i] == '=')) ++i;
      value = s.substr(b, i - b);
      if (value.empty()) return bad("empty value for " + std::string(name));
    }
    v.params_.push_back(Param{name, value});
    skipLws(s, i);
    if (i >= s.size()) break;
    if (s[i] != ',') return bad("junk after parameter " + std::string(name));
    ++i;
  }
  return v;
}

namespace {

// Parses `value` as an AuthValue and checks what every digest header must satisfy.
template <typename T>
common::Result<T> parseAs(std::string_view value) {
  auto v = parseAuthValue(value);
  if (!v) return v.error();
  if (auto st = checkDigestParams(*v); !st) return st.error();
  T out;
  static_cast<AuthValue&>(out) = std::move(*v);
  return out;
}

}  // namespace

common::Result<Credentials> parseCredentials(std::string_view value) {
  auto c = parseAs<Credentials>(value);
  if (c && c->isDigest()) {
    if (auto nc = c->get("nc")) {
      bool hex = nc->size() == 8;
      for (char ch : *nc) hex = hex && common::isHexDigit(ch);
      if (!hex) return bad("nc is not 8 hex digits");
    }
  }
  return c;
}

common::Result<Challenge> parseChallenge(std::string_view value) {
  return parseAs<Challenge>(value);
}

std::optional<DigestAlgorithm> AuthValue::algorithm() const {
  return digestAlgorithmFromName(get("algorithm").value_or(""));
}

bool Challenge::stale() const {
  return common::iequals(get("stale").value_or(""), "true");
}

bool Challenge::offersQop(std::string_view option) const {
  auto q = get("qop");
  if (!q) return false;
  bool found = false;
  internal::forEachCommaElement(*q, [&](std::string_view item) {
    found |= common::iequals(item, option);
    return true;
  });
  return found;
}

std::string formatChallenge(const ChallengeSpec& s) {
  std::string out = "Digest realm=\"" + s.realm + "\", nonce=\"" + s.nonce + "\"";
  if (!s.opaque.empty()) out += ", opaque=\"" + s.opaque + "\"";
  out += ", algorithm=";
  out += digestAlgorithmName(s.algorithm);
  if (s.qop_auth) out += ", qop=\"auth\"";
  if (s.stale) out += ", stale=true";
  return out;
}

std::string formatCredentials(const CredentialsSpec& s) {
  std::string out = "Digest username=\"" + s.username + "\", realm=\"" + s.realm + "\", nonce=\"" +
                    s.nonce + "\", uri=\"" + s.uri + "\", response=\"" + s.response +
                    "\", algorithm=";
  out += digestAlgorithmName(s.algorithm);
  if (s.qop_auth) out += ", qop=auth, nc=" + s.nc + ", cnonce=\"" + s.cnonce + "\"";
  if (!s.opaque.empty()) out += ", opaque=\"" + s.opaque + "\"";
  return out;
}

std::string computeHa1(DigestAlgorithm alg, std::string_view username, std::string_view realm,
                       std::string_view password) {
  return digestHex(alg, {username, realm, password});
}

std::string computeResponse(DigestAlgorithm alg, std::string_view ha1, std::string_view method,
                            std::string_view uri, std::string_view nonce, std::string_view nc,
                            std::string_view cnonce, std::string_view qop) {
  std::string ha2 = digestHex(alg, {method, uri});
  if (qop.empty()) return digestHex(alg, {ha1, nonce, ha2});
  return digestHex(alg, {ha1, nonce, nc, cnonce, qop, ha2});
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace sip
