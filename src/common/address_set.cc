#include "common/address_set.h"

#include <cstring>
#include <optional>

namespace common {
namespace {

void mask(AddressSet::Key& k, unsigned prefix) {
  for (unsigned bit = prefix; bit < 128; ++bit) k[bit / 8] &= uint8_t(~(0x80u >> (bit % 8)));
}

}  // namespace

std::optional<boost::asio::ip::address> ipLiteral(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto ip = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) return std::nullopt;
  return ip;
}

AddressSet::Key AddressSet::keyOf(const boost::asio::ip::address& ip) {
  if (ip.is_v4())
    return boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, ip.to_v4()).to_bytes();
  return ip.to_v6().to_bytes();
}

boost::asio::ip::address AddressSet::addressOf(const Key& key) {
  boost::asio::ip::address_v6 v6(key);
  if (v6.is_v4_mapped()) return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6);
  return v6;
}

bool AddressSet::add(std::string_view entry) {
  std::string_view host = entry;
  std::optional<unsigned> prefix;
  if (auto slash = entry.find('/'); slash != std::string_view::npos) {
    host = entry.substr(0, slash);
    std::string_view p = entry.substr(slash + 1);
    if (p.empty() || p.size() > 3) return false;
    unsigned v = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + unsigned(c - '0');
    }
    prefix = v;
  }
  auto parsed = ipLiteral(host);
  if (!parsed) return false;
  const boost::asio::ip::address& ip = *parsed;
  unsigned bits = ip.is_v4() ? 32 : 128;
  unsigned p = prefix.value_or(bits);
  if (p > bits) return false;
  if (ip.is_v4()) p += 96;
  Network n{keyOf(ip), p};
  mask(n.net, p);
  networks_.push_back(n);
  return true;
}

Result<AddressSet> AddressSet::parse(const std::vector<std::string>& entries) {
  AddressSet set;
  for (const std::string& e : entries) {
    if (!set.add(e))
      return makeError(ErrorCode::kInvalidArgument,
                       "'" + e + "' is not an address or address/prefix-length");
  }
  return set;
}

bool AddressSet::contains(const Key& key) const {
  for (const Network& n : networks_) {
    unsigned full = n.prefix / 8, rest = n.prefix % 8;
    if (std::memcmp(key.data(), n.net.data(), full) != 0) continue;
    if (rest == 0) return true;
    uint8_t m = uint8_t(0xFFu << (8 - rest));
    if ((key[full] & m) == n.net[full]) return true;
  }
  return false;
}

}  // namespace common
