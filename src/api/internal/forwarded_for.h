// The client behind a reverse proxy: X-Forwarded-For is believed only when the connection
// comes from a trusted proxy, and then only up to the first hop that is not itself trusted
// (the right-most address a trusted proxy vouches for). Internal to the api part.
//
//   auto client = api::internal::forwardedClient(peer, "203.0.113.7, 10.0.0.2", trusted);
//   // peer in trusted and 10.0.0.2 in trusted: 203.0.113.7; otherwise: peer
#pragma once

#include <boost/asio/ip/address.hpp>
#include <string_view>

#include "common/address_set.h"

namespace api::internal {

// `xff` holds every X-Forwarded-For field joined as one list ("a, b"; "" when absent). Returns
// the peer when it is not a trusted proxy, when there is no X-Forwarded-For, or when any of
// the entries a trusted proxy added is not an IP address (a malformed header proves nothing).
// When every entry is a trusted proxy, the left-most one is the client.
boost::asio::ip::address forwardedClient(const boost::asio::ip::address& peer, std::string_view xff,
                                         const common::AddressSet& trusted_proxies);

}  // namespace api::internal
