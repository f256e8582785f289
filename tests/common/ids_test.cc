#include "common/ids.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace common {
namespace {

bool isLowerHex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

TEST(NewSid, PrefixAnd32LowerHexDigits) {
  for (std::string_view prefix : {"AC", "PN", "SK", "US", "SM"}) {
    std::string sid = newSid(prefix);
    ASSERT_EQ(sid.size(), 34u);
    EXPECT_EQ(sid.substr(0, 2), prefix);
    EXPECT_TRUE(isLowerHex(sid.substr(2))) << sid;
  }
}

TEST(NewSid, Unique) {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) seen.insert(newSid("PN"));
  EXPECT_EQ(seen.size(), 2000u);
}

}  // namespace
}  // namespace common
