// Header names and the typed header values of RFC 3261 §20: Via, name-addr headers (From,
// To, Contact, Route, Record-Route, Path), CSeq, media types and token lists. Values are
// views into the message; Message parses each on first use (sip/message.h). The free parse
// functions are exported for other users of the same grammar (e.g. a B2BUA building headers).
//
//   auto via = sip::parseVia("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776;rport");
//   if (via && via->front().rport()) ...
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/container/small_vector.hpp>

#include "common/result.h"
#include "sip/params.h"
#include "sip/uri.h"

namespace sip {

// Headers the stack knows by name. Everything else is kOther and kept verbatim.
enum class HeaderId : uint8_t {
  kOther = 0,
  kVia,
  kFrom,
  kTo,
  kCallId,
  kCSeq,
  kMaxForwards,
  kContact,
  kRoute,
  kRecordRoute,
  kPath,
  kExpires,
  kMinExpires,
  kContentLength,
  kContentType,
  kContentEncoding,
  kAuthorization,
  kProxyAuthorization,
  kWwwAuthenticate,
  kProxyAuthenticate,
  kAuthenticationInfo,
  kRequire,
  kProxyRequire,
  kSupported,
  kUnsupported,
  kAllow,
  kAccept,
  kDate,
  kSubject,
  kEvent,
  kAllowEvents,
  kReferTo,
  kReferredBy,
  kSessionExpires,
  kIdentity,
  kUserAgent,
  kServer,
  kTimestamp,
  kRetryAfter,
  kWarning,
  kCount,
};

// Maps a header name, long or compact form, in any case, to its id.
HeaderId headerIdFromName(std::string_view name);
// The canonical long name ("Call-ID"); empty for kOther.
std::string_view headerName(HeaderId id);

enum class Method : uint8_t {
  kOther = 0,
  kInvite,
  kAck,
  kBye,
  kCancel,
  kRegister,
  kOptions,
  kInfo,
  kUpdate,
  kPrack,
  kSubscribe,
  kNotify,
  kRefer,
  kMessage,
  kPublish,
};

// Method names are case-sensitive (§7.1): "invite" is an unknown extension method.
Method methodFromName(std::string_view name);
std::string_view methodName(Method m);

struct Via {
  std::string_view protocol_name;     // "SIP"
  std::string_view protocol_version;  // "2.0"
  std::string_view transport;         // "UDP", "TCP", "TLS", "WS", "SCTP", ...
  std::string_view host;              // as written; IPv6 keeps its brackets
  uint16_t port = 0;                  // 0: absent
  Params params;

  std::optional<std::string_view> branch() const { return params.find("branch"); }
  std::optional<std::string_view> received() const { return params.find("received"); }
  std::optional<std::string_view> maddr() const { return params.find("maddr"); }
  // rport (RFC 3581): present as a flag in requests, with a port in responses.
  bool hasRport() const { return params.has("rport"); }
  std::optional<uint16_t> rport() const;
  // True when the branch carries the RFC 3261 magic cookie and something after it.
  bool hasRfc3261Branch() const;
};
using ViaList = boost::container::small_vector<Via, 3>;

struct NameAddr {
  std::string_view display_name;  // as written, quotes included; empty when absent
  Uri uri;
  bool angle_brackets = false;  // name-addr form (<uri>) rather than addr-spec
  Params params;                // header parameters (after the URI)

  std::optional<std::string_view> tag() const { return params.find("tag"); }
  // Contact parameters: expires (delta-seconds) and q (0..1000 in thousandths).
  std::optional<uint32_t> expires() const;
  std::optional<int> qMillis() const;
};
using NameAddrList = boost::container::small_vector<NameAddr, 2>;

struct ContactList {
  bool star = false;  // "Contact: *" (REGISTER removal of every binding)
  NameAddrList contacts;
};

struct CSeq {
  uint32_t number = 0;  // < 2**31 (§8.1.1.5)
  std::string_view method;
};

struct MediaType {
  std::string_view type;     // "application"
  std::string_view subtype;  // "sdp"
  Params params;
};

using TokenList = boost::container::small_vector<std::string_view, 8>;

// Appends the Via values of one header field value (which may list several) to `out`.
common::Status parseVia(std::string_view value, ViaList& out);
// One name-addr or addr-spec with header parameters (From, To, one Contact element).
common::Result<NameAddr> parseNameAddr(std::string_view value);
common::Status parseNameAddr(std::string_view value, NameAddr& out);
// Contact: "*" or a comma-separated list of name-addr/addr-spec; appends.
common::Status parseContact(std::string_view value, ContactList& out);
// Route, Record-Route, Path: comma-separated name-addrs (angle brackets required); appends.
common::Status parseRouteList(std::string_view value, NameAddrList& out);
common::Result<CSeq> parseCSeq(std::string_view value);
common::Result<MediaType> parseMediaType(std::string_view value);
// Comma-separated tokens (Require, Supported, Allow, ...); appends. `may_be_empty` accepts a
// value with no token at all, which RFC 3261 §25.1 allows for Supported and Allow (an empty
// list: nothing supported) but not for Require, Proxy-Require or Unsupported.
common::Status parseTokenList(std::string_view value, TokenList& out, bool may_be_empty = false);
// callid = word [ "@" word ]
common::Result<std::string_view> parseCallId(std::string_view value);
// delta-seconds bounded to 2**32-1 (Expires, Min-Expires); a larger value is an error.
common::Result<uint32_t> parseDeltaSeconds(std::string_view value);
// Max-Forwards: 0..255.
common::Result<uint32_t> parseMaxForwards(std::string_view value);
// rfc1123-date (§20.17): "Sat, 13 Nov 2010 23:29:00 GMT"; only GMT is allowed.
// `unix_seconds` as an rfc1123-date for a Date header (§20.17): "Sat, 13 Nov 2010 23:29:00 GMT".
std::string formatSipDate(int64_t unix_seconds);
common::Status checkSipDate(std::string_view value);

}  // namespace sip
