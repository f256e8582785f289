// SIP, SIPS and tel URIs (RFC 3261 §19.1, §25; RFC 3966), and any other absolute URI kept as
// an opaque string. Parsing is zero-copy: every component is a view into the text given to
// parse(), which must outlive the Uri (a Message keeps its bytes for its own URIs).
//
//   auto uri = sip::Uri::parse("sip:alice@example.com:5070;transport=tcp");
//   if (uri && uri->scheme() == sip::UriScheme::kSip) connect(uri->host(), uri->portOr(5060));
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "sip/params.h"

namespace sip {

enum class UriScheme : uint8_t { kSip, kSips, kTel, kOther };

class Uri {
 public:
  // Parses a complete URI (no surrounding LWS or angle brackets).
  static common::Result<Uri> parse(std::string_view text);
  // The same, into a default-constructed Uri (the message core avoids a copy this way).
  static common::Status parseInto(std::string_view text, Uri& out);

  UriScheme scheme() const { return scheme_; }
  bool isSip() const { return scheme_ == UriScheme::kSip || scheme_ == UriScheme::kSips; }
  std::string_view schemeText() const { return scheme_text_; }
  std::string_view text() const { return text_; }

  // sip/sips: userinfo and hostport. user() may hold %-escapes; compare with percentDecode.
  std::string_view user() const { return user_; }
  std::string_view password() const { return password_; }
  bool hasPassword() const { return password_.data() != nullptr; }
  // The host as written; an IPv6 reference keeps its brackets ("[2001:db8::1]").
  std::string_view host() const { return host_; }
  bool isIpv6() const { return !host_.empty() && host_.front() == '['; }
  // The host without IPv6 brackets, as a resolver or socket wants it.
  std::string_view hostAddress() const;
  bool hasPort() const { return port_ != 0; }
  uint16_t port() const { return port_; }
  uint16_t portOr(uint16_t fallback) const { return port_ != 0 ? port_ : fallback; }
  const Params& params() const { return params_; }
  // The raw headers component after "?" (empty when there is none).
  std::string_view headers() const { return headers_; }
  bool hasHeaders() const { return !headers_.empty(); }

  // tel: the number (global "+..." or local); other schemes: everything after "scheme:".
  std::string_view opaque() const { return opaque_; }

  // Convenience for the parameters every SIP element looks at.
  std::optional<std::string_view> transport() const { return params_.find("transport"); }
  std::optional<std::string_view> maddr() const { return params_.find("maddr"); }
  bool looseRouting() const { return params_.has("lr"); }

 private:
  // What follows "sip:" or "sips:".
  static common::Status parseSipRest(std::string_view rest, Uri& u);

  std::string_view text_;
  std::string_view scheme_text_;
  std::string_view user_;
  std::string_view password_;
  std::string_view host_;
  std::string_view headers_;
  std::string_view opaque_;
  Params params_;
  uint16_t port_ = 0;
  UriScheme scheme_ = UriScheme::kOther;
};

// URI equivalence of RFC 3261 §19.1.4: scheme, user and password compare case-sensitively
// after unescaping, host case-insensitively, an explicit port never equals an absent one,
// user/ttl/method/maddr/transport parameters must match when either side has them, other
// parameters only when both have them, and every header component must match. tel URIs
// compare their numbers without visual separators (RFC 3966 §4), other schemes as text.
bool equivalent(const Uri& a, const Uri& b);

}  // namespace sip
