// WebhookTargetPolicy: every refused range in IPv4, IPv6 and the IPv6 forms that carry IPv4,
// public addresses admitted, webhooks.allow admitting a range, the numeric host forms the
// system resolver reads, and the metadata and loopback names.
#include "api/webhook_target_policy.h"

#include <gtest/gtest.h>

#include <string>

namespace api {
namespace {

boost::asio::ip::address ip(const char* text) {
  return boost::asio::ip::make_address(text);
}

TEST(WebhookTargetPolicy, RefusesEveryNonPublicIpv4Range) {
  const WebhookTargetPolicy policy;
  const std::pair<const char*, const char*> refused[] = {
      {"0.0.0.0", "unspecified"},
      {"0.255.255.255", "unspecified"},
      {"10.0.0.1", "RFC 1918"},
      {"10.255.255.255", "RFC 1918"},
      {"100.64.0.1", "CGNAT"},
      {"100.100.100.200", "CGNAT"},  // Alibaba Cloud's metadata service
      {"100.127.255.255", "CGNAT"},
      {"127.0.0.1", "loopback"},
      {"127.255.255.254", "loopback"},
      {"169.254.169.254", "link-local"},
      {"169.254.0.1", "link-local"},
      {"172.16.0.1", "RFC 1918"},
      {"172.31.255.255", "RFC 1918"},
      {"192.0.0.192", "IETF"},  // Oracle Cloud Classic's metadata service
      {"192.168.1.1", "RFC 1918"},
      {"198.18.0.1", "benchmarking"},
      {"224.0.0.1", "multicast"},
      {"239.255.255.250", "multicast"},
      {"240.0.0.1", "reserved"},
      {"255.255.255.255", "broadcast"},
  };
  for (const auto& [address, what] : refused) {
    auto why = policy.refusal(ip(address));
    ASSERT_TRUE(why.has_value()) << address;
    EXPECT_NE(why->find(address), std::string::npos) << *why;
    EXPECT_NE(why->find(what), std::string::npos) << *why;
  }
}

TEST(WebhookTargetPolicy, AdmitsPublicAddressesNextToTheRefusedRanges) {
  const WebhookTargetPolicy policy;
  for (const char* address :
       {"8.8.8.8",         "1.1.1.1",          "9.255.255.255",        "11.0.0.1",
        "100.63.255.255",  "100.128.0.1",      "126.255.255.255",      "128.0.0.1",
        "169.253.255.255", "169.255.0.1",      "172.15.255.255",       "172.32.0.1",
        "192.0.1.1",       "192.167.255.255",  "192.169.0.1",          "198.17.255.255",
        "198.20.0.1",      "223.255.255.255",  "2001:4860:4860::8888", "2606:4700:4700::1111",
        "::ffff:8.8.8.8",  "64:ff9b::808:808", "2002:808:808::1"}) {
    EXPECT_FALSE(policy.refusal(ip(address)).has_value())
        << address << ": " << policy.refusal(ip(address)).value_or("");
  }
}

TEST(WebhookTargetPolicy, RefusesEveryNonPublicIpv6Range) {
  const WebhookTargetPolicy policy;
  const std::pair<const char*, const char*> refused[] = {
      {"::", "unspecified"},
      {"::1", "loopback"},
      {"fc00::1", "unique-local"},
      {"fd00:ec2::254", "unique-local"},  // AWS's IPv6 metadata service
      {"fdff:ffff::1", "unique-local"},
      {"fe80::1", "link-local"},
      {"febf:ffff::1", "link-local"},
      {"fec0::1", "site-local"},
      {"ff02::1", "multicast"},
      {"ff05::1:3", "multicast"},
      {"100::1", "discard-only"},
  };
  for (const auto& [address, what] : refused) {
    auto why = policy.refusal(ip(address));
    ASSERT_TRUE(why.has_value()) << address;
    EXPECT_NE(why->find(what), std::string::npos) << *why;
  }
}

TEST(WebhookTargetPolicy, RefusesRefusedIpv4InsideIpv6) {
  const WebhookTargetPolicy policy;
  const std::pair<const char*, const char*> refused[] = {
      {"::ffff:127.0.0.1", "IPv4-mapped 127.0.0.1, loopback"},
      {"::ffff:7f00:1", "IPv4-mapped 127.0.0.1, loopback"},
      {"::ffff:169.254.169.254", "IPv4-mapped 169.254.169.254, link-local"},
      {"::ffff:10.0.0.1", "IPv4-mapped 10.0.0.1, private"},
      {"::ffff:0.0.0.0", "IPv4-mapped 0.0.0.0, unspecified"},
      {"::127.0.0.1", "IPv4-compatible 127.0.0.1, loopback"},
      {"::192.168.0.1", "IPv4-compatible 192.168.0.1, private"},
      {"::ffff:0:a9fe:a9fe", "SIIT) 169.254.169.254"},
      {"64:ff9b::7f00:1", "NAT64 (64:ff9b::/96) 127.0.0.1, loopback"},
      {"64:ff9b::169.254.169.254", "NAT64 (64:ff9b::/96) 169.254.169.254"},
      {"64:ff9b:1::a00:1", "local NAT64 (64:ff9b:1::/48) 10.0.0.1"},
      {"2002:7f00:1::1", "6to4 (2002::/16) 127.0.0.1, loopback"},
      {"2002:a9fe:a9fe::", "6to4 (2002::/16) 169.254.169.254"},
      {"2002:c0a8:101::1", "6to4 (2002::/16) 192.168.1.1"},
      // Teredo: client 127.0.0.1 is stored inverted (80ff:fffe).
      {"2001:0:808:808::80ff:fffe", "Teredo client (2001::/32) 127.0.0.1"},
      {"2001:0:a00:1::f7f7:f7f7", "Teredo server (2001::/32) 10.0.0.1"},
  };
  for (const auto& [address, what] : refused) {
    auto why = policy.refusal(ip(address));
    ASSERT_TRUE(why.has_value()) << address;
    EXPECT_NE(why->find(what), std::string::npos) << address << ": " << *why;
  }
}

TEST(WebhookTargetPolicy, AllowListAdmitsItsRangesOnly) {
  auto policy = WebhookTargetPolicy::create({"127.0.0.0/8", "::1/128", "10.20.0.0/16"});
  ASSERT_TRUE(policy) << policy.error().reason;
  for (const char* admitted : {"127.0.0.1", "127.9.9.9", "::1", "10.20.30.40", "::ffff:127.0.0.1",
                               "64:ff9b::7f00:1", "2002:0a14:0001::1", "8.8.8.8"}) {
    EXPECT_FALSE(policy->refusal(ip(admitted)).has_value())
        << admitted << ": " << policy->refusal(ip(admitted)).value_or("");
  }
  for (const char* refused : {"10.21.0.1", "169.254.169.254", "192.168.0.1", "fe80::1",
                              "::", "0.0.0.0", "::ffff:10.21.0.1"}) {
    EXPECT_TRUE(policy->refusal(ip(refused)).has_value()) << refused;
  }
  // A link-local allow admits that range and nothing else.
  auto lab = WebhookTargetPolicy::create({"fe80::/10"});
  ASSERT_TRUE(lab);
  EXPECT_FALSE(lab->refusal(ip("fe80::1234")).has_value());
  EXPECT_TRUE(lab->refusal(ip("::1")).has_value());
}

TEST(WebhookTargetPolicy, ABadAllowEntryIsNamed) {
  auto policy = WebhookTargetPolicy::create({"127.0.0.0/8", "localhost"});
  ASSERT_FALSE(policy);
  EXPECT_NE(policy.error().reason.find("localhost"), std::string::npos);
}

TEST(ParseInetAton, ReadsEveryFormTheResolverReads) {
  const std::pair<const char*, const char*> forms[] = {
      {"127.0.0.1", "127.0.0.1"},
      {"2130706433", "127.0.0.1"},
      {"0x7f000001", "127.0.0.1"},
      {"0X7F000001", "127.0.0.1"},
      {"017700000001", "127.0.0.1"},
      {"0177.0.0.1", "127.0.0.1"},
      {"0x7f.0.0.1", "127.0.0.1"},
      {"127.1", "127.0.0.1"},
      {"127.0.1", "127.0.0.1"},
      {"0x7f.1", "127.0.0.1"},
      {"169.254.43518", "169.254.169.254"},
      {"2852039166", "169.254.169.254"},
      {"0", "0.0.0.0"},
      {"4294967295", "255.255.255.255"},
      {"10.0x10.010.1", "10.16.8.1"},
  };
  for (const auto& [text, want] : forms) {
    auto a = parseInetAton(text);
    ASSERT_TRUE(a.has_value()) << text;
    EXPECT_EQ(a->to_string(), want) << text;
  }
  for (const char* not_one :
       {"", "example.com", "4294967296", "1.2.3.4.5", "256.0.0.1", "1.256.1", "1.2.65536", "08",
        "0x1g", "127.0.0.1.", ".1", "1..2", "::1", "1e3", "12a"}) {
    EXPECT_FALSE(parseInetAton(not_one).has_value()) << not_one;
  }
}

TEST(WebhookTargetPolicy, RefusesHostsOfTheIssuesUrls) {
  const WebhookTargetPolicy policy;
  for (const char* host : {"169.254.169.254",
                           "127.0.0.1",
                           "localhost",
                           "LOCALHOST.",
                           "[::1]",
                           "::1",
                           "2130706433",
                           "0x7f000001",
                           "0177.0.0.1",
                           "127.1",
                           "10.0.0.1",
                           "metadata.google.internal",
                           "Metadata.Google.Internal.",
                           "metadata",
                           "metadata.goog",
                           "instance-data",
                           "instance-data.ec2.internal",
                           "metadata.tencentyun.com",
                           "app.localhost",
                           "localhost.localdomain",
                           "[::ffff:127.0.0.1]",
                           "[64:ff9b::a9fe:a9fe]",
                           "0",
                           "[fe80::1]"}) {
    EXPECT_TRUE(policy.refusalForHost(host).has_value()) << host;
  }
  for (const char* host :
       {"example.com", "hooks.example.com", "8.8.8.8", "134744072", "[2001:4860:4860::8888]",
        "metadata.example.com", "localhost.example.com", "notlocalhost"}) {
    EXPECT_FALSE(policy.refusalForHost(host).has_value())
        << host << ": " << policy.refusalForHost(host).value_or("");
  }
}

TEST(WebhookTargetPolicy, LoopbackNamesFollowTheAllowListButMetadataNamesNever) {
  auto policy = WebhookTargetPolicy::create({"127.0.0.0/8", "169.254.0.0/16"});
  ASSERT_TRUE(policy);
  EXPECT_FALSE(policy->refusalForHost("localhost").has_value());
  EXPECT_FALSE(policy->refusalForHost("2130706433").has_value());
  EXPECT_FALSE(policy->refusalForHost("169.254.169.254").has_value());
  EXPECT_TRUE(policy->refusalForHost("metadata.google.internal").has_value());
  EXPECT_TRUE(policy->refusalForHost("[::1]").has_value());
  auto v6 = WebhookTargetPolicy::create({"::1/128"});
  ASSERT_TRUE(v6);
  EXPECT_FALSE(v6->refusalForHost("localhost").has_value());
  EXPECT_TRUE(v6->refusalForHost("127.0.0.1").has_value());
}

}  // namespace
}  // namespace api
