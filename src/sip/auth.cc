#include "sip/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <initializer_list>
#include <limits>
#include <memory>

#include "common/strings.h"
#include "sip/internal/scan.h"

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

// Case-insensitive ordering, for finding repeated parameter names by sorting.
bool lessIgnoringCase(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    auto x = static_cast<unsigned char>(common::toLowerAscii(a[i]));
    auto y = static_cast<unsigned char>(common::toLowerAscii(b[i]));
    if (x != y) return x < y;
  }
  return a.size() < b.size();
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// One hash computation. Any failure of the crypto library makes hex() empty, which
// verifyResponse treats as "no match".
class Hasher {
 public:
  explicit Hasher(DigestAlgorithm alg) : ctx_(EVP_MD_CTX_new()) {
    const EVP_MD* md = alg == DigestAlgorithm::kSha256 ? EVP_sha256() : EVP_md5();
    ok_ = ctx_ != nullptr && md != nullptr && EVP_DigestInit_ex(ctx_.get(), md, nullptr) == 1;
  }

  void add(std::string_view s) {
    if (ok_ && !s.empty()) ok_ = EVP_DigestUpdate(ctx_.get(), s.data(), s.size()) == 1;
  }

  std::string hex() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!ok_ || EVP_DigestFinal_ex(ctx_.get(), out, &len) != 1) return {};
    std::string text;
    text.reserve(size_t(len) * 2);
    common::appendHex(text, out, len);
    return text;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx_;
  bool ok_ = false;
};

// H(part0 ":" part1 ":" ...), lower-case hex.
std::string digestHex(DigestAlgorithm alg, std::initializer_list<std::string_view> parts) {
  Hasher h(alg);
  bool first = true;
  for (std::string_view p : parts) {
    if (!first) h.add(":");
    h.add(p);
    first = false;
  }
  return h.hex();
}

// A quoted-string carrying `text`. quoted-pair may carry any octet but CR and LF (RFC 3261
// §25.1), so those are dropped; '"', '\' and the other controls are escaped.
void appendQuoted(std::string& out, std::string_view text) {
  out.push_back('"');
  for (char c : text) {
    if (c == '\r' || c == '\n') continue;
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\' || (u < 0x20 && c != '\t') || u == 0x7f) out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

void appendParam(std::string& out, std::string_view name, std::string_view quoted_value) {
  out += ", ";
  out += name;
  out += '=';
  appendQuoted(out, quoted_value);
}

// RFC 2617 §3.2.1: each directive at most once. Past a handful of parameters, sorting
// indices keeps this O(n log n) on hostile input with thousands of them.
common::Status checkNoRepeats(const AuthValue::List& ps) {
  // A real header has about ten parameters: comparing pairs is cheaper than sorting, and
  // names of different lengths are rejected by the size check alone.
  if (ps.size() <= 16) {
    for (size_t i = 1; i < ps.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (common::iequals(ps[i].name, ps[j].name))
          return bad("repeated parameter " + std::string(ps[i].name));
      }
    }
    return {};
  }
  boost::container::small_vector<uint32_t, 16> order(ps.size());
  for (size_t i = 0; i < ps.size(); ++i) order[i] = uint32_t(i);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return lessIgnoringCase(ps[a].name, ps[b].name); });
  for (size_t i = 1; i < order.size(); ++i) {
    if (common::iequals(ps[order[i - 1]].name, ps[order[i]].name))
      return bad("repeated parameter " + std::string(ps[order[i]].name));
  }
  return {};
}

}  // namespace

common::Result<DigestAlgorithm> parseDigestAlgorithm(std::string_view name) {
  std::string_view n = stripQuotes(name);
  if (common::iequals(n, "MD5")) return DigestAlgorithm::kMd5;
  if (common::iequals(n, "SHA-256")) return DigestAlgorithm::kSha256;
  return makeError(ErrorCode::kUnsupported, "unsupported digest algorithm " + std::string(n), 400);
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

std::optional<std::string_view> AuthValue::valueAt(size_t index) const {
  std::string_view v = params_[index].value;
  if (v.empty() || v.front() != '"') return v;
  for (const Escaped& e : escaped_) {
    if (e.param == index) return std::string_view(unescaped_).substr(e.offset, e.size);
  }
  return stripQuotes(v);
}

std::optional<std::string_view> AuthValue::get(std::string_view name) const {
  for (size_t i = 0; i < params_.size(); ++i) {
    if (common::iequals(params_[i].name, name)) return valueAt(i);
  }
  return std::nullopt;
}

std::optional<std::string> AuthValue::unescaped(std::string_view name) const {
  auto v = get(name);
  if (!v) return std::nullopt;
  return std::string(*v);
}

common::Result<DigestAlgorithm> AuthValue::algorithm() const {
  auto a = get("algorithm");
  if (!a) return DigestAlgorithm::kMd5;
  return parseDigestAlgorithm(*a);
}

// auth-scheme LWS auth-param *(COMMA auth-param), auth-param = name EQUAL (token /
// quoted-string), LWS allowed around "=" and ",". RFC 3261 §25 has no token68 form and no
// empty list elements, so neither is accepted.
common::Status internal::parseAuthValueInto(std::string_view value, AuthValue& v) {
  std::string_view s = common::trimLws(value);
  if (s.size() > std::numeric_limits<uint32_t>::max())
    return makeError(ErrorCode::kTooLarge, "authentication header too large", 400);
  size_t i = 0;
  v.scheme_ = internal::scanToken(s, i);
  if (v.scheme_.empty()) return bad("no scheme");
  size_t after_scheme = i;
  skipLws(s, i);
  if (i >= s.size()) return bad("no parameters after " + std::string(v.scheme_));
  if (i == after_scheme) return bad("no space after the scheme");
  for (;;) {
    std::string_view name = internal::scanToken(s, i);
    if (name.empty()) return bad("empty parameter name");
    skipLws(s, i);
    if (i >= s.size() || s[i] != '=') return bad("parameter " + std::string(name) + " without '='");
    ++i;
    skipLws(s, i);
    std::string_view val;
    if (i < s.size() && s[i] == '"') {
      auto q = internal::scanQuoted(s, i);
      if (!q) return bad("unterminated quoted string in " + std::string(name));
      val = *q;
      std::string_view inner = val.substr(1, val.size() - 2);
      if (inner.find('\\') != std::string_view::npos) {
        AuthValue::Escaped e{uint32_t(v.params_.size()), uint32_t(v.unescaped_.size()), 0};
        for (size_t k = 0; k < inner.size(); ++k) {
          if (inner[k] == '\\') ++k;  // scanQuoted guarantees a character follows
          v.unescaped_.push_back(inner[k]);
        }
        e.size = uint32_t(v.unescaped_.size() - e.offset);
        v.escaped_.push_back(e);
      }
    } else {
      val = internal::scanToken(s, i);
      if (val.empty()) return bad("no value for " + std::string(name));
    }
    v.params_.push_back(Param{name, val});
    skipLws(s, i);
    if (i >= s.size()) break;
    if (s[i] != ',') return bad("junk after parameter " + std::string(name));
    ++i;
    skipLws(s, i);
  }
  return {};
}

common::Result<AuthValue> parseAuthValue(std::string_view value) {
  common::Result<AuthValue> out{AuthValue()};
  if (auto st = internal::parseAuthValueInto(value, *out); !st) return st.error();
  return out;
}

namespace {

// Parses `value` as a T and checks what every digest header must satisfy.
template <typename T>
common::Result<T> parseAs(std::string_view value) {
  common::Result<T> out{T()};
  if (auto st = internal::parseAuthValueInto(value, *out); !st) return st.error();
  if (out->isDigest()) {
    if (auto st = checkNoRepeats(out->params()); !st) return st.error();
  }
  return out;
}

}  // namespace

common::Result<Credentials> parseCredentials(std::string_view value) {
  auto c = parseAs<Credentials>(value);
  if (c && c->isDigest()) {
    if (auto nc = c->nc()) {
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

std::optional<uint32_t> Credentials::nonceCount() const {
  auto text = nc();
  if (!text || text->size() != 8) return std::nullopt;
  uint32_t n = 0;
  for (char c : *text) {
    if (!common::isHexDigit(c)) return std::nullopt;
    n = n * 16 + uint32_t(common::hexValue(c));
  }
  return n;
}

bool Challenge::stale() const {
  return common::iequals(get("stale").value_or(""), "true");
}

Challenge::QopList Challenge::qopOptions() const {
  QopList list;
  std::string_view q = get("qop").value_or("");
  size_t start = 0;
  while (start <= q.size()) {
    size_t comma = q.find(',', start);
    if (comma == std::string_view::npos) comma = q.size();
    std::string_view item = common::trimLws(q.substr(start, comma - start));
    if (!item.empty()) list.push_back(item);
    start = comma + 1;
  }
  return list;
}

bool Challenge::offersQop(std::string_view option) const {
  for (std::string_view item : qopOptions()) {
    if (common::iequals(item, option)) return true;
  }
  return false;
}

std::string formatChallenge(const ChallengeSpec& s) {
  std::string out = "Digest realm=";
  appendQuoted(out, s.realm);
  if (!s.domain.empty()) appendParam(out, "domain", s.domain);
  appendParam(out, "nonce", s.nonce);
  if (!s.opaque.empty()) appendParam(out, "opaque", s.opaque);
  out += ", algorithm=";
  out += digestAlgorithmName(s.algorithm);
  if (s.qop_auth) out += ", qop=\"auth\"";
  if (s.stale) out += ", stale=true";
  return out;
}

std::string formatCredentials(const CredentialsSpec& s) {
  std::string out = "Digest username=";
  appendQuoted(out, s.username);
  appendParam(out, "realm", s.realm);
  appendParam(out, "nonce", s.nonce);
  appendParam(out, "uri", s.uri);
  appendParam(out, "response", s.response);
  out += ", algorithm=";
  out += digestAlgorithmName(s.algorithm);
  if (s.qop_auth) {
    out += ", qop=auth, nc=";
    out += s.nc;
    appendParam(out, "cnonce", s.cnonce);
  }
  if (!s.opaque.empty()) appendParam(out, "opaque", s.opaque);
  return out;
}

std::string computeHa1(DigestAlgorithm alg, std::string_view username, std::string_view realm,
                       std::string_view password) {
  return digestHex(alg, {username, realm, password});
}

std::string computeResponse(DigestAlgorithm alg, std::string_view ha1, std::string_view method,
                            std::string_view uri, std::string_view nonce, std::string_view nc,
                            std::string_view cnonce, std::string_view qop, std::string_view body) {
  bool auth_int = common::iequals(qop, "auth-int");
  if (!qop.empty() && !auth_int && !common::iequals(qop, "auth")) return {};
  std::string ha2;
  if (auth_int) {
    std::string body_hash = digestHex(alg, {body});
    if (body_hash.empty()) return {};
    ha2 = digestHex(alg, {method, uri, body_hash});
  } else {
    ha2 = digestHex(alg, {method, uri});
  }
  if (ha2.empty()) return {};
  if (qop.empty()) return digestHex(alg, {ha1, nonce, ha2});
  return digestHex(alg, {ha1, nonce, nc, cnonce, qop, ha2});
}

bool verifyResponse(DigestAlgorithm alg, std::string_view ha1, std::string_view method,
                    const Credentials& cred, std::string_view body) {
  if (!cred.isDigest() || ha1.empty()) return false;
  auto used = cred.algorithm();
  if (!used || *used != alg) return false;
  auto response = cred.response();
  auto nonce = cred.nonce();
  auto uri = cred.uri();
  if (!response || !nonce || !uri) return false;
  std::string_view qop = cred.qop().value_or("");
  std::string_view nc, cnonce;
  if (!qop.empty()) {
    auto n = cred.nc();
    auto c = cred.cnonce();
    if (!n || !c) return false;  // RFC 2617 §3.2.2: both MUST accompany qop
    nc = *n;
    cnonce = *c;
  }
  std::string expected = computeResponse(alg, ha1, method, *uri, *nonce, nc, cnonce, qop, body);
  if (expected.empty() || response->size() != expected.size()) return false;
  // The digest is LHEX, but accepting upper case costs nothing and helps odd UAs.
  std::string given(*response);
  for (char& c : given) c = common::toLowerAscii(c);
  return constantTimeEquals(given, expected);
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace sip
