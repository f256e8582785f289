// HTTP Digest for SIP (RFC 3261 §22, RFC 2617, RFC 7616, RFC 8760): the values of
// Authorization / Proxy-Authorization (credentials) and WWW-Authenticate /
// Proxy-Authenticate (challenges), parsed zero-copy, built, and the MD5 / SHA-256 maths
// with qop=auth. Credentials are stored as HA1 only (computeHa1), never as passwords.
//
//   auto cred = sip::parseCredentials(msg.headerValue(sip::HeaderId::kAuthorization));
//   std::string expected = sip::computeResponse(alg, stored_ha1, "REGISTER", *cred->get("uri"),
//                                               ...);
//   bool ok = sip::constantTimeEquals(expected, *cred->get("response"));
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/container/small_vector.hpp>

#include "common/result.h"
#include "sip/params.h"

namespace sip {

enum class DigestAlgorithm { kMd5, kSha256 };

// "MD5" / "SHA-256" (any case); an absent algorithm means MD5. "-sess" variants and anything
// else are unsupported (nullopt).
std::optional<DigestAlgorithm> digestAlgorithmFromName(std::string_view name);
std::string_view digestAlgorithmName(DigestAlgorithm alg);

// A scheme and its auth-params (values as written, quotes included).
class AuthValue {
 public:
  using List = boost::container::small_vector<Param, 12>;

  std::string_view scheme() const { return scheme_; }
  bool isDigest() const;
  const List& params() const { return params_; }
  // The raw value (quotes kept) of a parameter, case-insensitive name.
  std::optional<std::string_view> raw(std::string_view name) const;
  // The value without its quotes, as a view: quoted-pairs are left as written (digest values
  // that matter — nonce, response, cnonce, uri — never contain them).
  std::optional<std::string_view> get(std::string_view name) const;
  // The value with quotes and quoted-pairs removed.
  std::optional<std::string> unescaped(std::string_view name) const;
  // The digest algorithm parameter (MD5 when absent); nullopt when unsupported.
  std::optional<DigestAlgorithm> algorithm() const;

 protected:
  friend common::Result<AuthValue> parseAuthValue(std::string_view value);
  std::string_view scheme_;
  List params_;
};

// Authorization / Proxy-Authorization.
class Credentials : public AuthValue {};

// WWW-Authenticate / Proxy-Authenticate.
class Challenge : public AuthValue {
 public:
  bool stale() const;
  // Whether the quoted qop options list contains `option` ("auth").
  bool offersQop(std::string_view option) const;
};

common::Result<AuthValue> parseAuthValue(std::string_view value);
// Errors carry status 400. Digest credentials must not repeat a parameter and their nc,
// when present, is 8 hex digits.
common::Result<Credentials> parseCredentials(std::string_view value);
common::Result<Challenge> parseChallenge(std::string_view value);

struct ChallengeSpec {
  std::string realm;
  std::string nonce;
  std::string opaque;  // omitted when empty
  DigestAlgorithm algorithm = DigestAlgorithm::kMd5;
  bool stale = false;
  bool qop_auth = true;
};
std::string formatChallenge(const ChallengeSpec& spec);

struct CredentialsSpec {
  std::string username;
  std::string realm;
  std::string nonce;
  std::string uri;
  std::string response;
  DigestAlgorithm algorithm = DigestAlgorithm::kMd5;
  std::string cnonce;  // with qop=auth
  std::string nc;      // "00000001"
  bool qop_auth = true;
  std::string opaque;
};
std::string formatCredentials(const CredentialsSpec& spec);

// H(username:realm:password), lower-case hex.
std::string computeHa1(DigestAlgorithm alg, std::string_view username, std::string_view realm,
                       std::string_view password);
// The request-digest. With an empty qop: H(HA1:nonce:HA2) (RFC 2069); with qop "auth":
// H(HA1:nonce:nc:cnonce:qop:HA2), HA2 = H(method:uri).
std::string computeResponse(DigestAlgorithm alg, std::string_view ha1, std::string_view method,
                            std::string_view uri, std::string_view nonce, std::string_view nc,
                            std::string_view cnonce, std::string_view qop);
// Comparison whose time does not depend on where the inputs differ.
bool constantTimeEquals(std::string_view a, std::string_view b);

}  // namespace sip
