#include "store/opt_outs.h"

#include "backends.h"

namespace store {
namespace {

using common::ErrorCode;
using testing::BackendTest;
using testing::sid;

const std::string kA = sid("AC", 1);
const std::string kB = sid("AC", 2);

OptOut optOut(const std::string& account, const std::string& number, int64_t at,
              const std::string& keyword = "STOP") {
  return OptOut{account, number, keyword, "+14155550100", at};
}

std::vector<std::string> numbers(const std::vector<OptOut>& list) {
  std::vector<std::string> out;
  for (const OptOut& o : list) out.push_back(o.phone_number);
  return out;
}

class OptOutsTest : public BackendTest {
 protected:
  std::unique_ptr<Store> openWithAccounts() { return BackendTest::openWithAccounts({kA, kB}); }
};

TEST_P(OptOutsTest, AddTwiceKeepsTheFirstAndIsPerAccount) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& opt_outs = s->optOuts();
  EXPECT_FALSE(*opt_outs.isOptedOut(kA, "+447700900001"));
  OptOut first = optOut(kA, "+447700900001", 100, "STOP");
  auto added = opt_outs.add(first);
  ASSERT_TRUE(added) << added.error().reason;
  EXPECT_TRUE(*added);
  auto again = opt_outs.add(optOut(kA, "+447700900001", 200, "UNSUBSCRIBE"));
  ASSERT_TRUE(again) << again.error().reason;
  EXPECT_FALSE(*again);
  auto listed = opt_outs.list(kA, 0, 10);
  ASSERT_TRUE(listed) << listed.error().reason;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front(), first);  // the row is kept as it was

  auto blocked = opt_outs.isOptedOut(kA, "+447700900001");
  ASSERT_TRUE(blocked) << blocked.error().reason;
  EXPECT_TRUE(*blocked);
  EXPECT_FALSE(*opt_outs.isOptedOut(kB, "+447700900001"));  // another account
  EXPECT_FALSE(*opt_outs.isOptedOut(kA, "+447700900002"));
  EXPECT_EQ(*opt_outs.count(kA), 1);
  EXPECT_EQ(*opt_outs.count(kB), 0);
  EXPECT_TRUE(*opt_outs.add(optOut(kB, "+447700900001", 300)));
  EXPECT_TRUE(*opt_outs.isOptedOut(kB, "+447700900001"));
}

TEST_P(OptOutsTest, RemoveOptsBackIn) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& opt_outs = s->optOuts();
  ASSERT_TRUE(*opt_outs.add(optOut(kA, "+447700900001", 100)));
  ASSERT_TRUE(*opt_outs.add(optOut(kB, "+447700900001", 100)));
  auto removed = opt_outs.remove(kA, "+447700900001");
  ASSERT_TRUE(removed) << removed.error().reason;
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(*opt_outs.isOptedOut(kA, "+447700900001"));
  EXPECT_TRUE(*opt_outs.isOptedOut(kB, "+447700900001"));  // untouched
  EXPECT_FALSE(*opt_outs.remove(kA, "+447700900001"));
  EXPECT_FALSE(*opt_outs.remove(kA, "' OR '1'='1"));
  EXPECT_EQ(*opt_outs.count(kB), 1);
  // Opting out again after opting in is a new row.
  EXPECT_TRUE(*opt_outs.add(optOut(kA, "+447700900001", 500, "QUIT")));
  EXPECT_EQ(opt_outs.list(kA, 0, 10)->front().keyword, "QUIT");
}

TEST_P(OptOutsTest, ListIsNewestFirstWithPaging) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& opt_outs = s->optOuts();
  for (const OptOut& o : {optOut(kA, "+15550000003", 100), optOut(kA, "+15550000002", 300),
                          optOut(kA, "+15550000001", 200), optOut(kA, "+15550000004", 300),
                          optOut(kB, "+15550000009", 999)})
    ASSERT_TRUE(*opt_outs.add(o));
  auto all = opt_outs.list(kA, 0, 10);
  ASSERT_TRUE(all) << all.error().reason;
  EXPECT_EQ(numbers(*all), (std::vector<std::string>{"+15550000002", "+15550000004", "+15550000001",
                                                     "+15550000003"}));
  EXPECT_EQ((*all)[2], optOut(kA, "+15550000001", 200));
  EXPECT_EQ(numbers(*opt_outs.list(kA, 1, 2)),
            (std::vector<std::string>{"+15550000004", "+15550000001"}));
  EXPECT_EQ(numbers(*opt_outs.list(kA, 3, 2)), (std::vector<std::string>{"+15550000003"}));
  EXPECT_TRUE(opt_outs.list(kA, 4, 2)->empty());
  EXPECT_EQ(*opt_outs.count(kA), 4);
  auto bad = opt_outs.list(kA, -1, 2);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST_P(OptOutsTest, BadValuesAreRefused) {
  auto s = openWithAccounts();
  ASSERT_TRUE(s);
  auto& opt_outs = s->optOuts();
  for (const OptOut& bad :
       {optOut("AC1", "+447700900001", 1), optOut(kA, "447700900001", 1), optOut(kA, "", 1),
        optOut(kA, "+44 7700 900001", 1), optOut(sid("AC", 9), "+447700900001", 1)}) {
    auto r = opt_outs.add(bad);
    ASSERT_FALSE(r) << bad.account_sid << " " << bad.phone_number;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().reason.rfind("store: sms opt-out: ", 0), 0u) << r.error().reason;
  }
  auto unknown = opt_outs.add(optOut(sid("AC", 9), "+447700900001", 1));
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().reason.find("does not exist"), std::string::npos)
      << unknown.error().reason;
  EXPECT_EQ(*opt_outs.count(kA), 0);
}

SB_INSTANTIATE_BACKENDS(OptOutsTest);

}  // namespace
}  // namespace store
