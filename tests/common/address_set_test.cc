#include "common/address_set.h"

#include <gtest/gtest.h>

namespace common {
namespace {

boost::asio::ip::address ip(const char* text) {
  return boost::asio::ip::make_address(text);
}

TEST(AddressSet, MatchesNetworksOfBothFamilies) {
  auto set = AddressSet::parse({"192.0.2.0/24", "2001:db8::/32", "198.51.100.7", "[::1]"});
  ASSERT_TRUE(set) << set.error().reason;
  EXPECT_TRUE(set->contains(ip("192.0.2.200")));
  EXPECT_FALSE(set->contains(ip("192.0.3.1")));
  EXPECT_TRUE(set->contains(ip("198.51.100.7")));
  EXPECT_FALSE(set->contains(ip("198.51.100.8")));
  EXPECT_TRUE(set->contains(ip("2001:db8:ffff::1")));
  EXPECT_FALSE(set->contains(ip("2001:db9::1")));
  EXPECT_TRUE(set->contains(ip("::1")));
  // An IPv4-mapped source matches its IPv4 network.
  EXPECT_TRUE(set->contains(ip("::ffff:192.0.2.9")));
}

TEST(AddressSet, HostBitsOfANetworkAreIgnoredAndBadEntriesNamed) {
  auto set = AddressSet::parse({"10.1.2.3/8"});
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->contains(ip("10.200.0.1")));
  for (const char* bad : {"10.0.0.0/33", "nonsense", "10.0.0.0/", "::/129", "1.2.3.4/x"}) {
    auto r = AddressSet::parse({bad});
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().reason.find(bad), std::string::npos);
  }
}

TEST(AddressSet, IpLiteralTakesBracketedAndBareAddressesOnly) {
  EXPECT_EQ(ipLiteral("[2001:db8::1]")->to_string(), "2001:db8::1");
  EXPECT_EQ(ipLiteral("192.0.2.1")->to_string(), "192.0.2.1");
  EXPECT_FALSE(ipLiteral("example.com"));
  EXPECT_FALSE(ipLiteral("[192.0.2.1"));
}

}  // namespace
}  // namespace common
