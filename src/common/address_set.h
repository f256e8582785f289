// A set of IP networks ("192.0.2.0/24", "2001:db8::/32", or single addresses), asked
// whether an address falls in one: the flood guard's allowlist, the trunks' access
// lists. IPv4 is kept as IPv4-mapped IPv6, so one comparison serves both families and an
// IPv4-mapped source matches its IPv4 network.
//
//   auto acl = common::AddressSet::parse({"192.0.2.0/24", "2001:db8::1"});
//   if (!acl) return acl.error();
//   bool trusted = acl->contains(source.ip);
#pragma once

#include <array>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace common {

// The address a URI or Via host names when it is an IP literal ("192.0.2.1", "[2001:db8::1]"
// or without brackets); nullopt for a host name.
std::optional<boost::asio::ip::address> ipLiteral(std::string_view host);

class AddressSet {
 public:
  using Key = std::array<uint8_t, 16>;

  // Fails naming the first entry that is not an address or address/prefix-length.
  static Result<AddressSet> parse(const std::vector<std::string>& entries);
  // One entry; false when it does not parse.
  bool add(std::string_view entry);

  bool contains(const boost::asio::ip::address& ip) const { return contains(keyOf(ip)); }
  bool contains(const Key& key) const;
  bool empty() const { return networks_.empty(); }
  size_t size() const { return networks_.size(); }

  // The 16-byte form used for matching (IPv4 as IPv4-mapped IPv6), and back.
  static Key keyOf(const boost::asio::ip::address& ip);
  static boost::asio::ip::address addressOf(const Key& key);

 private:
  struct Network {
    Key net;          // already masked to its prefix
    unsigned prefix;  // in bits of the 128
  };
  std::vector<Network> networks_;
};

}  // namespace common
