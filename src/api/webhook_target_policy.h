// WebhookTargetPolicy: which addresses the platform's outbound HTTP (webhooks, status
// callbacks, TwiML fetches) may connect to. Loopback, private, link-local, unique-local,
// CGNAT, multicast, reserved and unspecified addresses are refused, also when an IPv6 address
// carries such an IPv4 one (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo), and so are the
// cloud metadata names -- unless `webhooks.allow` admits the address.
//
//   auto policy = api::WebhookTargetPolicy::create({"127.0.0.0/8"});  // webhooks.allow
//   if (auto why = policy->refusalForHost(url.host)) return 400;      // a URL being stored
//   if (auto why = policy->refusal(endpoint.address())) skip;         // before each connect
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/address_v4.hpp>

#include "common/address_set.h"
#include "common/result.h"

namespace api {

class WebhookTargetPolicy {
 public:
  // Only public addresses: what an empty webhooks.allow means.
  WebhookTargetPolicy() = default;
  explicit WebhookTargetPolicy(common::AddressSet allow) : allow_(std::move(allow)) {}
  // `allow`: webhooks.allow, addresses or CIDRs admitted although in a refused range. Fails
  // naming the first entry that is not one.
  static common::Result<WebhookTargetPolicy> create(const std::vector<std::string>& allow);

  // Why a connection to `ip` is refused, e.g. "127.0.0.1 is loopback"; nullopt when it may be
  // made (a public address, or one webhooks.allow admits).
  std::optional<std::string> refusal(const boost::asio::ip::address& ip) const;

  // Why a URL's host is refused before any lookup: a literal address that refusal() refuses,
  // in any form the system resolver reads as one ("2130706433", "0x7f.1", "0177.0.0.1",
  // "[::ffff:7f00:1]"); a cloud metadata name ("metadata.google.internal", "instance-data"
  // ...); a loopback name ("localhost", "*.localhost") unless webhooks.allow admits loopback.
  // nullopt for any other name: its addresses are checked on each connection.
  std::optional<std::string> refusalForHost(std::string_view host) const;

  const common::AddressSet& allow() const { return allow_; }

 private:
  common::AddressSet allow_;
};

// A name of a cloud instance metadata service ("metadata.google.internal", "instance-data"
// ...), in any case, with or without the final dot. Always refused: no allow list admits one.
bool isCloudMetadataName(std::string_view host);

// The IPv4 address `host` names in the forms inet_aton (and so getaddrinfo) accepts: one to
// four dot-separated parts, each decimal, octal (leading 0) or hexadecimal (0x), the last
// filling the remaining bytes: "2130706433", "127.1", "0x7f.0.0.1", "0177.0.0.01". nullopt for
// anything else, e.g. a name or an IPv6 address.
std::optional<boost::asio::ip::address_v4> parseInetAton(std::string_view host);

}  // namespace api
