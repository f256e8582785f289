// HTTP Digest for SIP (RFC 3261 §22, RFC 2617, RFC 7616, RFC 8760): the values of
// Authorization / Proxy-Authorization (credentials) and WWW-Authenticate / Proxy-Authenticate
// (challenges) parsed zero-copy and built, and the MD5 / SHA-256 maths. Credentials are stored
// as HA1 only (computeHa1), never as passwords.
//
//   auto cred = sip::parseCredentials(msg.findHeader(sip::HeaderId::kAuthorization)->value);
//   if (cred && sip::verifyResponse(sip::DigestAlgorithm::kMd5, stored_ha1, "REGISTER", *cred))
//     accept();  // after checking the nonce is ours and fresh, and uri is the Request-URI
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/container/small_vector.hpp>

#include "common/result.h"
#include "sip/params.h"

namespace sip {

// The "-sess" variants are not supported: SIP UAs do not use them and they need per-session
// state on the server.
enum class DigestAlgorithm { kMd5, kSha256 };

// "MD5" / "SHA-256", any case, with or without quotes. Anything else, the "-sess" variants
// included, is kUnsupported (status 400).
common::Result<DigestAlgorithm> parseDigestAlgorithm(std::string_view name);
std::string_view digestAlgorithmName(DigestAlgorithm alg);

class AuthValue;
namespace internal {
// Parses into `out`, which must be default-constructed (parseCredentials/parseChallenge fill
// their result in place this way, with no copy of the parameter list).
common::Status parseAuthValueInto(std::string_view value, AuthValue& out);
}  // namespace internal

// A scheme and its auth-params. Holds views into the parsed text, which must outlive it; the
// only bytes it owns are quoted values that carried quoted-pairs, kept unescaped.
class AuthValue {
 public:
  using List = boost::container::small_vector<Param, 12>;

  std::string_view scheme() const { return scheme_; }
  bool isDigest() const;
  // Every parameter in order, values exactly as written (quotes kept).
  const List& params() const { return params_; }
  // The raw value (quotes kept) of the first parameter called `name`, any case.
  std::optional<std::string_view> raw(std::string_view name) const;
  // The value without quotes and with quoted-pairs resolved. A view into the input unless the
  // value had quoted-pairs; then a view into this object.
  std::optional<std::string_view> get(std::string_view name) const;
  // get() as an owned string.
  std::optional<std::string> unescaped(std::string_view name) const;

  // The digest fields both headers carry.
  std::optional<std::string_view> realm() const { return get("realm"); }
  std::optional<std::string_view> nonce() const { return get("nonce"); }
  std::optional<std::string_view> opaque() const { return get("opaque"); }
  // The algorithm parameter; MD5 when absent (RFC 2617). An error when unsupported.
  common::Result<DigestAlgorithm> algorithm() const;

 private:
  friend common::Status internal::parseAuthValueInto(std::string_view value, AuthValue& out);

  // Where the unescaped form of params_[param] lives in unescaped_ (offsets, not views, so
  // that copies and moves stay valid).
  struct Escaped {
    uint32_t param;
    uint32_t offset;
    uint32_t size;
  };

  std::optional<std::string_view> valueAt(size_t index) const;

  std::string_view scheme_;
  List params_;
  std::string unescaped_;
  boost::container::small_vector<Escaped, 1> escaped_;
};

// Authorization / Proxy-Authorization.
class Credentials : public AuthValue {
 public:
  std::optional<std::string_view> username() const { return get("username"); }
  std::optional<std::string_view> uri() const { return get("uri"); }
  std::optional<std::string_view> response() const { return get("response"); }
  std::optional<std::string_view> cnonce() const { return get("cnonce"); }
  std::optional<std::string_view> qop() const { return get("qop"); }
  std::optional<std::string_view> nc() const { return get("nc"); }
  // nc as a number (parsing checked it is 8 hex digits).
  std::optional<uint32_t> nonceCount() const;
};

// WWW-Authenticate / Proxy-Authenticate.
class Challenge : public AuthValue {
 public:
  using QopList = boost::container::small_vector<std::string_view, 2>;

  // Space-separated URIs of the protection space.
  std::optional<std::string_view> domain() const { return get("domain"); }
  // stale=true (any case): the credentials were good but the nonce was not; retry silently.
  bool stale() const;
  // The comma-separated qop options, LWS trimmed ("auth", "auth-int").
  QopList qopOptions() const;
  bool offersQop(std::string_view option) const;
};

// Any scheme; no digest-specific checks. Errors are kInvalidArgument with status 400.
common::Result<AuthValue> parseAuthValue(std::string_view value);
// As parseAuthValue; Digest values must also not repeat a parameter, and credentials' nc is
// 8 hex digits.
common::Result<Credentials> parseCredentials(std::string_view value);
common::Result<Challenge> parseChallenge(std::string_view value);

// What a server puts in WWW-Authenticate / Proxy-Authenticate. Quoted values are escaped;
// CR and LF, which no quoted-string may carry, are dropped.
struct ChallengeSpec {
  std::string realm;
  std::string nonce;
  std::string opaque;  // omitted when empty
  DigestAlgorithm algorithm = DigestAlgorithm::kMd5;
  bool stale = false;
  bool qop_auth = true;  // qop="auth"; false only for RFC 2069 peers
  std::string domain;    // omitted when empty
};
std::string formatChallenge(const ChallengeSpec& spec);

// What a UA puts in Authorization / Proxy-Authorization.
struct CredentialsSpec {
  std::string username;
  std::string realm;
  std::string nonce;
  std::string uri;
  std::string response;  // computeResponse(...)
  DigestAlgorithm algorithm = DigestAlgorithm::kMd5;
  std::string cnonce;  // with qop=auth
  std::string nc;      // with qop=auth: 8 hex digits, "00000001" first
  bool qop_auth = true;
  std::string opaque;  // echoed from the challenge; omitted when empty
};
std::string formatCredentials(const CredentialsSpec& spec);

// H(username:realm:password), lower-case hex; empty if the crypto library fails (e.g. MD5 in
// a FIPS-only build).
std::string computeHa1(DigestAlgorithm alg, std::string_view username, std::string_view realm,
                       std::string_view password);
// The request-digest, lower-case hex. qop "": H(HA1:nonce:HA2) (RFC 2069); "auth" or
// "auth-int": H(HA1:nonce:nc:cnonce:qop:HA2). HA2 is H(method:uri), or H(method:uri:H(body))
// for auth-int. Empty for any other qop or if the crypto library fails.
std::string computeResponse(DigestAlgorithm alg, std::string_view ha1, std::string_view method,
                            std::string_view uri, std::string_view nonce, std::string_view nc,
                            std::string_view cnonce, std::string_view qop,
                            std::string_view body = {});
// Whether `cred` answers for `ha1` (of `alg`, as computeHa1 returns it). False when the
// credentials are not Digest, use another algorithm, lack a field, or have qop without nc and
// cnonce. The comparison takes the same time wherever the response differs. The caller still
// checks that the nonce is one it issued and fresh, that nc grew, and that uri is the
// Request-URI.
bool verifyResponse(DigestAlgorithm alg, std::string_view ha1, std::string_view method,
                    const Credentials& cred, std::string_view body = {});
// Comparison whose time does not depend on where the inputs differ (only on their length).
bool constantTimeEquals(std::string_view a, std::string_view b);

}  // namespace sip
