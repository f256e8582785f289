#include "store/sip_credentials.h"
#include "store/sip_domains.h"

#include "backends.h"

namespace store {
namespace {

using testing::BackendTest;

const std::string kMd5 = "0123456789abcdef0123456789abcdef";
const std::string kSha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

class SipCredentialsTest : public BackendTest {};

TEST_P(SipCredentialsTest, FoundWhenStoredAbsentOtherwise) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& creds = s->sipCredentials();
  SipCredential c{"Example.COM", "Alice", kMd5, kSha, "AC0123", 1700000000};
  ASSERT_TRUE(creds.upsert(c));

  auto found = creds.find("example.com", "Alice");
  ASSERT_TRUE(found) << found.error().reason;
  ASSERT_TRUE(*found);
  SipCredential want = c;
  want.domain = "example.com";
  EXPECT_EQ(**found, want);

  auto absent = creds.find("example.com", "alice");  // usernames are case-sensitive
  ASSERT_TRUE(absent);
  EXPECT_FALSE(*absent);
  EXPECT_FALSE(*creds.find("other.example.com", "Alice"));
}

TEST_P(SipCredentialsTest, UpsertReplacesHashesAndKeepsCreatedAt) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& creds = s->sipCredentials();
  ASSERT_TRUE(creds.upsert({"example.com", "bob", kMd5, kSha, std::nullopt, 100}));
  std::string md5 = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF";
  ASSERT_TRUE(creds.upsert({"example.com", "bob", md5, "", "AC9", 200}));
  auto found = creds.find("example.com", "bob");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->ha1_md5, "ffffffffffffffffffffffffffffffff");
  EXPECT_EQ((*found)->ha1_sha256, "");
  EXPECT_EQ((*found)->account_sid, std::optional<std::string>("AC9"));
  EXPECT_EQ((*found)->created_at, 100);
}

TEST_P(SipCredentialsTest, ListRemoveAndValidation) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& creds = s->sipCredentials();
  for (const char* user : {"carol", "alice", "bob"})
    ASSERT_TRUE(creds.upsert({"example.com", user, kMd5, kSha, std::nullopt, 1}));
  ASSERT_TRUE(creds.upsert({"example.org", "dave", kMd5, kSha, std::nullopt, 1}));
  auto list = creds.list("EXAMPLE.com");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].username, "alice");
  EXPECT_EQ((*list)[2].username, "carol");

  EXPECT_TRUE(*creds.remove("example.com", "bob"));
  EXPECT_FALSE(*creds.remove("example.com", "bob"));
  EXPECT_EQ(creds.list("example.com")->size(), 2u);

  for (const SipCredential& bad : std::vector<SipCredential>{
           {"", "x", kMd5, kSha, std::nullopt, 1},
           {"example.com", "", kMd5, kSha, std::nullopt, 1},
           {"example.com", "x", "secret", "", std::nullopt, 1},  // a password, not a hash
           {"example.com", "x", kMd5, "abc", std::nullopt, 1},
           {"example.com", "x", "", "", std::nullopt, 1}}) {
    auto st = creds.upsert(bad);
    ASSERT_FALSE(st) << bad.username << " " << bad.ha1_md5;
    EXPECT_EQ(st.error().code, common::ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(*creds.find("example.com", "x"));
}

TEST_P(SipCredentialsTest, SqlShapedNamesAreData) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& creds = s->sipCredentials();
  std::string evil = "'; DROP TABLE sip_credentials; --";
  ASSERT_TRUE(creds.upsert({"example.com", evil, kMd5, kSha, "' OR 1=1 --", 1}));
  ASSERT_TRUE(creds.upsert({"example.com", "plain", kMd5, kSha, std::nullopt, 1}));
  auto found = creds.find("example.com", evil);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->username, evil);
  EXPECT_EQ((*found)->account_sid, std::optional<std::string>("' OR 1=1 --"));
  EXPECT_FALSE(*creds.find("example.com", "' OR '1'='1"));
  EXPECT_EQ(creds.list("example.com")->size(), 2u);
}

class SipDomainsTest : public BackendTest {};

TEST_P(SipDomainsTest, UpsertFindListRemove) {
  auto s = openStore();
  ASSERT_TRUE(s);
  auto& domains = s->sipDomains();
  ASSERT_TRUE(domains.upsert({"Example.COM", "", SipDomainMode::kProxy, std::nullopt}));
  ASSERT_TRUE(domains.upsert({"b.example.net", "Realm B", SipDomainMode::kRedirect, "AC1"}));

  auto a = domains.find("EXAMPLE.com");
  ASSERT_TRUE(a && *a);
  EXPECT_EQ(**a, (SipDomain{"example.com", "example.com", SipDomainMode::kProxy, std::nullopt}));
  auto b = domains.find("b.example.net");
  ASSERT_TRUE(b && *b);
  EXPECT_EQ(**b, (SipDomain{"b.example.net", "Realm B", SipDomainMode::kRedirect, "AC1"}));
  EXPECT_FALSE(*domains.find("c.example.net"));

  ASSERT_TRUE(domains.upsert({"b.example.net", "", SipDomainMode::kProxy, std::nullopt}));
  auto list = domains.list();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].domain, "b.example.net");
  EXPECT_EQ((*list)[0].realm, "b.example.net");
  EXPECT_EQ((*list)[0].mode, SipDomainMode::kProxy);

  EXPECT_TRUE(*domains.remove("example.com"));
  EXPECT_FALSE(*domains.remove("example.com"));
  EXPECT_EQ(domains.list()->size(), 1u);
  EXPECT_FALSE(domains.upsert({"", "", SipDomainMode::kProxy, std::nullopt}));
}

TEST(SipDomainModeTest, NamesRoundTrip) {
  EXPECT_EQ(parseSipDomainMode("proxy"), SipDomainMode::kProxy);
  EXPECT_EQ(parseSipDomainMode("redirect"), SipDomainMode::kRedirect);
  EXPECT_FALSE(parseSipDomainMode("Proxy"));
  EXPECT_STREQ(sipDomainModeName(SipDomainMode::kRedirect), "redirect");
}

SB_INSTANTIATE_BACKENDS(SipCredentialsTest);
SB_INSTANTIATE_BACKENDS(SipDomainsTest);

}  // namespace
}  // namespace store
