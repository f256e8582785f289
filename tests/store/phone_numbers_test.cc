#include "store/phone_numbers.h"

#include "backends.h"

namespace store {
namespace {

using common::ErrorCode;
using testing::BackendTest;
using testing::sid;

const std::string kA = sid("AC", 1);
const std::string kB = sid("AC", 2);

PhoneNumber number(int n, const std::string& account, const std::string& e164,
                   int64_t created_at = 100) {
  PhoneNumber p;
  p.sid = sid("PN", n);
  p.account_sid = account;
  p.phone_number = e164;
  p.friendly_name = "line " + std::to_string(n);
  p.created_at = created_at;
  p.updated_at = created_at;
  return p;
}

// Every field set to something other than its default.
PhoneNumber everyField() {
  PhoneNumber p;
  p.sid = sid("PN", 1);
  p.account_sid = kA;
  p.phone_number = "+14155550100";
  p.friendly_name = "Support line";
  p.voice_url = "https://example.com/voice?x=1&y=2";
  p.voice_method = "GET";
  p.voice_fallback_url = "https://fallback.example.com/voice";
  p.voice_fallback_method = "GET";
  p.sms_url = "https://example.com/sms";
  p.sms_method = "GET";
  p.sms_fallback_url = "https://fallback.example.com/sms";
  p.sms_fallback_method = "GET";
  p.status_callback = "https://example.com/status";
  p.status_callback_method = "GET";
  p.voice_capable = false;
  p.sms_capable = false;
  p.mms_capable = true;
  p.fax_capable = true;
  p.porting_status = "loa-received";
  p.hosting = "sms-only";
  p.sms_native_opt_out = false;
  p.created_at = 1700000000;
  p.updated_at = 1700000500;
  return p;
}

std::vector<std::string> sids(const std::vector<PhoneNumber>& list) {
  std::vector<std::string> out;
  for (const PhoneNumber& p : list) out.push_back(p.sid);
  return out;
}

TEST(PhoneNumberPredicatesTest, E164PortingAndHosting) {
  for (const char* ok : {"+14155550100", "+44", "+123456789012345", "+33123456789"})
    EXPECT_TRUE(isE164(ok)) << ok;
  for (const char* bad : {"", "+", "+1", "14155550100", "+04155550100", "+1234567890123456",
                          "+1 415 555 0100", "+1-415", "+1415555010a", "++14155550100"})
    EXPECT_FALSE(isE164(bad)) << bad;
  for (const char* ok : {"none", "loa-received", "in-progress", "completed"})
    EXPECT_TRUE(isPortingStatus(ok)) << ok;
  EXPECT_FALSE(isPortingStatus("done"));
  EXPECT_FALSE(isPortingStatus(""));
  EXPECT_TRUE(isHosting("full"));
  EXPECT_TRUE(isHosting("sms-only"));
  EXPECT_FALSE(isHosting("voice-only"));
  EXPECT_FALSE(isHosting("Full"));
}

class PhoneNumbersTest : public BackendTest {
 protected:
  std::unique_ptr<Store> openWithAccounts() { return BackendTest::openWithAccounts({kA, kB}); }
};

TEST_P(PhoneNumbersTest, CreateFindRoundTripsEveryField) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& numbers = s->phoneNumbers();
  PhoneNumber p = everyField();
  auto created = numbers.create(p);
  ASSERT_TRUE(created) << created.error().reason;
  EXPECT_TRUE(*created);
  PhoneNumber defaults = number(2, kA, "+14155550101");
  ASSERT_TRUE(*numbers.create(defaults));

  auto found = numbers.find(kA, p.sid);
  ASSERT_TRUE(found) << found.error().reason;
  ASSERT_TRUE(*found);
  EXPECT_EQ(**found, p);
  auto by_number = numbers.findByNumber("+14155550100");
  ASSERT_TRUE(by_number && *by_number);
  EXPECT_EQ(**by_number, p);
  EXPECT_EQ(**numbers.find(kA, defaults.sid), defaults);
  EXPECT_TRUE((*numbers.find(kA, defaults.sid))->sms_native_opt_out);
  EXPECT_FALSE((*numbers.find(kA, p.sid))->sms_native_opt_out);
  EXPECT_FALSE(*numbers.find(kA, sid("PN", 9)));
  EXPECT_FALSE(*numbers.findByNumber("+14155550199"));
}

TEST_P(PhoneNumbersTest, DuplicatesAreRefused) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& numbers = s->phoneNumbers();
  PhoneNumber p = number(1, kA, "+14155550100");
  ASSERT_TRUE(*numbers.create(p));
  for (const PhoneNumber& dup : {number(2, kA, "+14155550100"),     // the number, another SID
                                 number(3, kB, "+14155550100"),     // another account's number
                                 number(1, kA, "+14155550111")}) {  // the SID
    auto r = numbers.create(dup);
    ASSERT_TRUE(r) << r.error().reason;
    EXPECT_FALSE(*r) << dup.sid << " " << dup.phone_number;
  }
  EXPECT_EQ(**numbers.findByNumber("+14155550100"), p);
  EXPECT_FALSE(*numbers.findByNumber("+14155550111"));
  EXPECT_EQ(*numbers.count(kB, {}), 0);
}

TEST_P(PhoneNumbersTest, CreateAndUpdateValidation) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& numbers = s->phoneNumbers();
  ASSERT_TRUE(*numbers.create(number(1, kA, "+14155550100")));
  struct Case {
    const char* why;
    PhoneNumber number;
  };
  std::vector<Case> cases;
  PhoneNumber p = number(1, kA, "+14155550100");
  p.sid = "PN123";
  cases.push_back({"bad sid", p});
  p = number(1, kA, "+14155550100");
  p.sid = sid("AC", 1);
  cases.push_back({"account sid as number sid", p});
  cases.push_back({"not E.164", number(1, kA, "4155550100")});
  cases.push_back({"leading zero", number(1, kA, "+04155550100")});
  p = number(1, kA, "+14155550100");
  p.porting_status = "ported";
  cases.push_back({"porting status", p});
  p = number(1, kA, "+14155550100");
  p.hosting = "voice";
  cases.push_back({"hosting", p});
  for (const Case& c : cases) {
    for (bool update : {false, true}) {
      auto r = update ? numbers.update(c.number) : numbers.create(c.number);
      ASSERT_FALSE(r) << c.why << (update ? " (update)" : " (create)");
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << c.why;
      EXPECT_EQ(r.error().reason.rfind("store: ", 0), 0u) << r.error().reason;
    }
  }
  auto unknown_account = numbers.create(number(5, sid("AC", 9), "+14155550105"));
  ASSERT_FALSE(unknown_account);
  EXPECT_EQ(unknown_account.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(*numbers.count(kA, {}), 1);
  EXPECT_EQ(**numbers.find(kA, sid("PN", 1)), number(1, kA, "+14155550100"));
}

TEST_P(PhoneNumbersTest, AnotherAccountsNumberIsInvisible) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& numbers = s->phoneNumbers();
  PhoneNumber mine = number(1, kA, "+14155550100");
  ASSERT_TRUE(*numbers.create(mine));

  auto found = numbers.find(kB, mine.sid);
  ASSERT_TRUE(found) << found.error().reason;
  EXPECT_FALSE(*found);
  PhoneNumber hijack = mine;
  hijack.account_sid = kB;
  hijack.voice_url = "https://attacker.example/";
  auto updated = numbers.update(hijack);
  ASSERT_TRUE(updated) << updated.error().reason;
  EXPECT_FALSE(*updated);
  auto removed = numbers.remove(kB, mine.sid);
  ASSERT_TRUE(removed) << removed.error().reason;
  EXPECT_FALSE(*removed);
  EXPECT_TRUE(numbers.list(kB, {}, 0, 10)->empty());
  EXPECT_EQ(*numbers.count(kB, {.phone_number = mine.phone_number}), 0);
  EXPECT_EQ(**numbers.find(kA, mine.sid), mine);  // untouched
}

TEST_P(PhoneNumbersTest, ListFiltersCountAndPaging) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& numbers = s->phoneNumbers();
  // Created out of order; the two at 200 are ordered by SID.
  PhoneNumber n3 = number(3, kA, "+14155550103", 300);
  PhoneNumber n2 = number(2, kA, "+14155550102", 200);
  PhoneNumber n1 = number(1, kA, "+14155550101", 200);
  PhoneNumber n4 = number(4, kA, "+14155550104", 100);
  n2.friendly_name = "Sales";
  n3.friendly_name = "Sales";
  PhoneNumber b1 = number(5, kB, "+14155550105", 50);
  b1.friendly_name = "Sales";
  for (const PhoneNumber& p : {n3, n2, n1, n4, b1}) ASSERT_TRUE(*numbers.create(p));

  auto all = numbers.list(kA, {}, 0, 50);
  ASSERT_TRUE(all) << all.error().reason;
  EXPECT_EQ(sids(*all), (std::vector<std::string>{n4.sid, n1.sid, n2.sid, n3.sid}));
  EXPECT_EQ((*all)[2], n2);
  EXPECT_EQ(*numbers.count(kA, {}), 4);
  EXPECT_EQ(sids(*numbers.list(kA, {}, 1, 2)), (std::vector<std::string>{n1.sid, n2.sid}));
  EXPECT_EQ(sids(*numbers.list(kA, {}, 3, 2)), (std::vector<std::string>{n3.sid}));
  EXPECT_TRUE(numbers.list(kA, {}, 4, 2)->empty());

  PhoneNumberFilter sales{.friendly_name = "Sales"};
  EXPECT_EQ(sids(*numbers.list(kA, sales, 0, 50)), (std::vector<std::string>{n2.sid, n3.sid}));
  EXPECT_EQ(*numbers.count(kA, sales), 2);
  EXPECT_EQ(*numbers.count(kB, sales), 1);
  PhoneNumberFilter one{.phone_number = "+14155550101"};
  EXPECT_EQ(sids(*numbers.list(kA, one, 0, 50)), (std::vector<std::string>{n1.sid}));
  EXPECT_EQ(*numbers.count(kA, one), 1);
  PhoneNumberFilter both{.phone_number = "+14155550101", .friendly_name = "Sales"};
  EXPECT_TRUE(numbers.list(kA, both, 0, 50)->empty());
  EXPECT_EQ(*numbers.count(kA, both), 0);
  both.phone_number = "+14155550103";
  EXPECT_EQ(sids(*numbers.list(kA, both, 0, 50)), (std::vector<std::string>{n3.sid}));

  auto bad = numbers.list(kA, {}, 0, -5);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(PhoneNumbersTest, UpdateReplacesFieldsButKeepsIdentityAndRemove) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& numbers = s->phoneNumbers();
  PhoneNumber before = number(1, kA, "+14155550100", 100);
  ASSERT_TRUE(*numbers.create(before));

  PhoneNumber change = everyField();     // same sid and account, other values everywhere
  change.phone_number = "+14155550199";  // ignored
  change.created_at = 5;                 // ignored
  change.updated_at = 777;
  auto updated = numbers.update(change);
  ASSERT_TRUE(updated) << updated.error().reason;
  EXPECT_TRUE(*updated);
  PhoneNumber want = change;
  want.phone_number = before.phone_number;
  want.created_at = before.created_at;
  EXPECT_EQ(**numbers.find(kA, before.sid), want);
  EXPECT_EQ(**numbers.findByNumber(before.phone_number), want);
  EXPECT_FALSE(*numbers.findByNumber("+14155550199"));

  PhoneNumber unknown = number(9, kA, "+14155550109");
  auto none = numbers.update(unknown);
  ASSERT_TRUE(none) << none.error().reason;
  EXPECT_FALSE(*none);
  EXPECT_FALSE(*numbers.find(kA, unknown.sid));

  EXPECT_TRUE(*numbers.remove(kA, before.sid));
  EXPECT_FALSE(*numbers.remove(kA, before.sid));
  EXPECT_FALSE(*numbers.find(kA, before.sid));
  EXPECT_FALSE(*numbers.findByNumber(before.phone_number));
  // The number is free again, for any account.
  EXPECT_TRUE(*numbers.create(number(2, kB, before.phone_number)));
}

TEST_P(PhoneNumbersTest, SqlShapedValuesAreData) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& numbers = s->phoneNumbers();
  PhoneNumber p = number(1, kA, "+14155550100");
  p.friendly_name = "x'); DROP TABLE phone_numbers;--";
  p.voice_url = "https://example.com/?q=' OR '1'='1";
  ASSERT_TRUE(*numbers.create(p));
  EXPECT_EQ(**numbers.find(kA, p.sid), p);
  EXPECT_EQ(*numbers.count(kA, {.friendly_name = p.friendly_name}), 1);
  EXPECT_FALSE(*numbers.findByNumber("' OR '1'='1"));
}

TEST_P(PhoneNumbersTest, NativeOptOutFlagRoundTripsThroughUpdate) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& numbers = s->phoneNumbers();
  PhoneNumber p = number(1, kA, "+14155550100");
  ASSERT_TRUE(p.sms_native_opt_out);  // on by default, as the product promises
  ASSERT_TRUE(*numbers.create(p));
  EXPECT_TRUE((*numbers.findByNumber(p.phone_number))->sms_native_opt_out);
  p.sms_native_opt_out = false;
  p.updated_at = 200;
  ASSERT_TRUE(*numbers.update(p));
  EXPECT_EQ(**numbers.find(kA, p.sid), p);
  EXPECT_FALSE((*numbers.findByNumber(p.phone_number))->sms_native_opt_out);
  p.sms_native_opt_out = true;
  ASSERT_TRUE(*numbers.update(p));
  EXPECT_TRUE((*numbers.findByNumber(p.phone_number))->sms_native_opt_out);
  auto listed = numbers.list(kA, {}, 0, 10);
  ASSERT_TRUE(listed && listed->size() == 1u);
  EXPECT_EQ(listed->front(), p);
}

SB_INSTANTIATE_BACKENDS(PhoneNumbersTest);

}  // namespace
}  // namespace store
