#include "api/internal/forwarded_for.h"

#include <optional>
#include <string>

#include "common/strings.h"

namespace api::internal {
namespace {

using boost::asio::ip::address;

// One entry: "192.0.2.1", "2001:db8::1", "[2001:db8::1]"; a port is not part of the field.
std::optional<address> entryAddress(std::string_view entry) {
  if (entry.size() >= 2 && entry.front() == '[' && entry.back() == ']')
    entry = entry.substr(1, entry.size() - 2);
  if (entry.empty() || entry.size() > 45) return std::nullopt;
  boost::system::error_code ec;
  address a = boost::asio::ip::make_address(std::string(entry), ec);
  if (ec) return std::nullopt;
  // One spelling for one client: an IPv4-mapped IPv6 entry is its IPv4 address.
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return address(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6()));
  return a;
}

}  // namespace

address forwardedClient(const address& peer, std::string_view xff,
                        const common::AddressSet& trusted_proxies) {
  if (trusted_proxies.empty() || !trusted_proxies.contains(peer)) return peer;
  std::optional<address> client;
  // Right to left: each hop was added by the proxy after it; stop at the first one no
  // trusted proxy would have added for itself.
  while (!xff.empty()) {
    size_t comma = xff.rfind(',');
    std::string_view entry =
        common::trimLws(comma == std::string_view::npos ? xff : xff.substr(comma + 1));
    xff = comma == std::string_view::npos ? std::string_view() : xff.substr(0, comma);
    if (entry.empty()) continue;
    auto a = entryAddress(entry);
    if (!a) return peer;
    client = *a;
    if (!trusted_proxies.contains(*a)) return *a;
  }
  return client.value_or(peer);
}

}  // namespace api::internal
