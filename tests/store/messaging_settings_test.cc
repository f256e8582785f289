#include "store/messaging_settings.h"

#include "backends.h"

namespace store {
namespace {

using common::ErrorCode;
using testing::BackendTest;
using testing::sid;

const std::string kA = sid("AC", 1);
const std::string kB = sid("AC", 2);

SmsTrunk smpp(const std::string& name, const std::string& address = "127.0.0.1:2775") {
  SmsTrunk t;
  t.name = name;
  t.kind = "smpp";
  t.address = address;
  t.system_id = "switchboard";
  t.password_sealed = "sealed:abc";
  t.system_type = "CPAAS";
  t.window = 20;
  t.max_per_second = 50;
  t.prefixes = {"+1", "+44"};
  t.created_at = 1000;
  return t;
}

std::vector<std::string> names(const std::vector<SmsTrunk>& list) {
  std::vector<std::string> out;
  for (const SmsTrunk& t : list) out.push_back(t.name);
  return out;
}

class MessagingSettingsTest : public BackendTest {
 protected:
  std::unique_ptr<Store> openWithAccounts() { return BackendTest::openWithAccounts({kA, kB}); }
};

TEST_P(MessagingSettingsTest, AccountDefaultsWhenNeverWritten) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto got = s->messagingSettings().account(kA);
  ASSERT_TRUE(got) << got.error().reason;
  AccountMessagingSettings want;
  want.account_sid = kA;
  EXPECT_EQ(*got, want);
  EXPECT_EQ(got->sms_per_second, 1);
  EXPECT_FALSE(got->dlr_level2);
  EXPECT_EQ(got->help_text, "");
}

TEST_P(MessagingSettingsTest, PutThenGetAndReplace) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& settings = s->messagingSettings();
  AccountMessagingSettings a{.account_sid = kA,
                             .sms_per_second = 5,
                             .dlr_level2 = true,
                             .help_text = "Reply STOP to stop. Caf\xc3\xa9 's",
                             .stop_text = "You are unsubscribed.",
                             .start_text = "Welcome back.",
                             .updated_at = 1700000000};
  auto st = settings.putAccount(a);
  ASSERT_TRUE(st) << st.error().reason;
  EXPECT_EQ(*settings.account(kA), a);
  AccountMessagingSettings b_defaults;
  b_defaults.account_sid = kB;
  EXPECT_EQ(*settings.account(kB), b_defaults);  // another account keeps the defaults

  AccountMessagingSettings changed = a;
  changed.sms_per_second = 100000;
  changed.dlr_level2 = false;
  changed.help_text = "";
  changed.updated_at = 1700000100;
  ASSERT_TRUE(settings.putAccount(changed));
  EXPECT_EQ(*settings.account(kA), changed);
  changed.sms_per_second = 1;
  ASSERT_TRUE(settings.putAccount(changed));
  EXPECT_EQ(settings.account(kA)->sms_per_second, 1);
}

TEST_P(MessagingSettingsTest, BadAccountSettingsAreRefused) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& settings = s->messagingSettings();
  ASSERT_TRUE(settings.putAccount({.account_sid = kA, .sms_per_second = 7}));
  for (const AccountMessagingSettings& bad :
       {AccountMessagingSettings{.account_sid = kA, .sms_per_second = 0},
        AccountMessagingSettings{.account_sid = kA, .sms_per_second = -1},
        AccountMessagingSettings{.account_sid = kA, .sms_per_second = 100001},
        AccountMessagingSettings{.account_sid = "AC1", .sms_per_second = 2},
        AccountMessagingSettings{.account_sid = sid("AC", 9), .sms_per_second = 2}}) {
    auto r = settings.putAccount(bad);
    ASSERT_FALSE(r) << bad.account_sid << " " << bad.sms_per_second;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().reason.rfind("store: messaging settings: ", 0), 0u) << r.error().reason;
  }
  auto unknown = settings.putAccount({.account_sid = sid("AC", 9), .sms_per_second = 2});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().reason.find("does not exist"), std::string::npos)
      << unknown.error().reason;
  EXPECT_EQ(settings.account(kA)->sms_per_second, 7);  // unchanged
}

TEST_P(MessagingSettingsTest, TrunksUpsertReplaceListRemove) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& settings = s->messagingSettings();
  EXPECT_TRUE(settings.listTrunks()->empty());
  SmsTrunk b = smpp("smsc-b", "[::1]:2775");
  SmsTrunk a = smpp("smsc-a", "smsc.example.net:2775");
  a.prefixes = {};
  SmsTrunk sip;
  sip.name = "sip_1";
  sip.kind = "sip";
  sip.address = "carrier-trunk";
  sip.window = 1;
  sip.prefixes = {"+33"};
  sip.created_at = 2000;
  for (const SmsTrunk& t : {b, a, sip}) {
    auto st = settings.upsertTrunk(t);
    ASSERT_TRUE(st) << t.name << ": " << st.error().reason;
  }
  auto all = settings.listTrunks();
  ASSERT_TRUE(all) << all.error().reason;
  EXPECT_EQ(names(*all), (std::vector<std::string>{"sip_1", "smsc-a", "smsc-b"}));
  EXPECT_EQ((*all)[0], sip);
  EXPECT_EQ((*all)[1], a);
  EXPECT_EQ((*all)[2], b);

  // Replace: every field but the creation time.
  SmsTrunk b2 = b;
  b2.address = "10.0.0.7:2776";
  b2.system_id = "other";
  b2.password_sealed = "sealed:def";
  b2.system_type = "";
  b2.window = 1000;
  b2.max_per_second = 0;
  b2.prefixes = {"+4420", "+1", "+999999999999999"};
  b2.created_at = 5000;
  ASSERT_TRUE(settings.upsertTrunk(b2));
  all = settings.listTrunks();
  ASSERT_EQ(all->size(), 3u);
  SmsTrunk want = b2;
  want.created_at = b.created_at;
  EXPECT_EQ((*all)[2], want);

  auto removed = settings.removeTrunk("smsc-a");
  ASSERT_TRUE(removed) << removed.error().reason;
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(*settings.removeTrunk("smsc-a"));
  EXPECT_FALSE(*settings.removeTrunk("nope"));
  EXPECT_EQ(names(*settings.listTrunks()), (std::vector<std::string>{"sip_1", "smsc-b"}));
}

TEST_P(MessagingSettingsTest, BadTrunksAreRefused) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& settings = s->messagingSettings();
  struct Case {
    const char* why;
    SmsTrunk trunk;
  };
  std::vector<Case> cases;
  cases.push_back({"empty name", smpp("")});
  cases.push_back({"upper case", smpp("SMSC")});
  cases.push_back({"dot", smpp("smsc.a")});
  cases.push_back({"65 chars", smpp(std::string(65, 'a'))});
  SmsTrunk t = smpp("t");
  t.kind = "http";
  cases.push_back({"kind", t});
  for (int64_t w : {0, -1, 1001}) {
    t = smpp("t");
    t.window = w;
    cases.push_back({"window", t});
  }
  t = smpp("t");
  t.max_per_second = -1;
  cases.push_back({"max_per_second", t});
  for (const char* address : {"", "host", ":2775", "host:", "host:0", "host:65536", "host:27x5",
                              "::1:2775", "[::1]", "[]:2775", "a b:1"})
    cases.push_back({address, smpp("t", address)});
  t = smpp("t");
  t.kind = "sip";
  t.address = "";
  cases.push_back({"sip without trunk", t});
  for (const char* prefix : {"", "+", "1", "+1,44", "+1a", "+1234567890123456"}) {
    t = smpp("t");
    t.prefixes = {"+1", prefix};
    cases.push_back({prefix, t});
  }
  for (const Case& c : cases) {
    auto r = settings.upsertTrunk(c.trunk);
    ASSERT_FALSE(r) << c.why;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << c.why;
    EXPECT_EQ(r.error().reason.rfind("store: messaging settings: ", 0), 0u) << r.error().reason;
  }
  EXPECT_TRUE(settings.listTrunks()->empty());
  EXPECT_TRUE(settings.upsertTrunk(smpp(std::string(64, 'a'))));  // the longest name
  EXPECT_TRUE(settings.upsertTrunk(smpp("a_b-9", "192.0.2.1:1")));
}

SB_INSTANTIATE_BACKENDS(MessagingSettingsTest);

}  // namespace
}  // namespace store
