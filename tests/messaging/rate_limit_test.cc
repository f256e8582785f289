#include "messaging/rate_limit.h"

#include <gtest/gtest.h>

#include <vector>

namespace messaging {
namespace {

using namespace std::chrono_literals;
using Clock = RateLimit::Clock;

const Clock::time_point kT0 = Clock::time_point(1000h);

// Offers a message every `step` from `from` for `span`, as a queue that is never empty
// would; returns the instants the limit let one go.
std::vector<Clock::time_point> drain(RateLimit& limit, int64_t per_second, Clock::time_point from,
                                     Clock::duration span, Clock::duration step) {
  std::vector<Clock::time_point> went;
  for (Clock::time_point t = from; t <= from + span; t += step) {
    while (limit.allows(per_second, t)) {
      limit.take();
      went.push_back(t);
    }
  }
  return went;
}

TEST(RateLimit, OnePerSecondAdmitsNoPairBackToBack) {
  RateLimit limit;
  ASSERT_TRUE(limit.allows(1, kT0));
  limit.take();
  EXPECT_FALSE(limit.allows(1, kT0));  // the same instant
  EXPECT_FALSE(limit.allows(1, kT0 + 1ns));
  EXPECT_FALSE(limit.allows(1, kT0 + 500ms));
  EXPECT_FALSE(limit.allows(1, kT0 + 999ms));
  ASSERT_TRUE(limit.allows(1, kT0 + 1s));  // the slot is now: it goes
  limit.take();
  EXPECT_FALSE(limit.allows(1, kT0 + 1s));
}

TEST(RateLimit, OnePerSecondAfterAQuietSpellStillAdmitsOne) {
  // A bucket that filled up while nothing was sent must not hand over two at once.
  RateLimit limit;
  ASSERT_TRUE(limit.allows(1, kT0));
  limit.take();
  ASSERT_TRUE(limit.allows(1, kT0 + 1h));
  limit.take();
  EXPECT_FALSE(limit.allows(1, kT0 + 1h));
  EXPECT_FALSE(limit.allows(1, kT0 + 1h + 999ms));
}

TEST(RateLimit, WaitNamesTheFirstInstantThatAdmits) {
  RateLimit limit;
  ASSERT_TRUE(limit.allows(1, kT0));
  limit.take();
  ASSERT_FALSE(limit.allows(1, kT0 + 250ms));
  const Clock::duration wait = limit.wait(1);
  EXPECT_EQ(wait, 750ms);
  EXPECT_FALSE(limit.allows(1, kT0 + 250ms + wait - 1ns));
  EXPECT_TRUE(limit.allows(1, kT0 + 250ms + wait));
}

TEST(RateLimit, QueuedMessagesAtOnePerSecondAreASecondApart) {
  RateLimit limit;
  const auto went = drain(limit, 1, kT0, 10s + 500ms, 1ms);
  ASSERT_GE(went.size(), 10u);
  EXPECT_LE(went.size(), 11u);
  EXPECT_EQ(went.front(), kT0);
  for (size_t i = 1; i < went.size(); ++i)
    EXPECT_GE(went[i] - went[i - 1], 999ms) << "message " << i;
}

TEST(RateLimit, TwentyPerSecondBurstsTwoThenSpacesBy50ms) {
  RateLimit limit;
  // Started, then idle long enough to fill: a burst of two (a tenth of the rate), no more.
  ASSERT_TRUE(limit.allows(20, kT0));
  limit.take();
  auto went = drain(limit, 20, kT0 + 10s, 1s, 1ms);
  // Within a second of steady demand: the burst plus one every 50 ms, never more.
  ASSERT_GE(went.size(), 21u);
  EXPECT_LE(went.size(), 22u);
  EXPECT_EQ(went[0], kT0 + 10s);
  EXPECT_EQ(went[1], kT0 + 10s);
  EXPECT_GE(went[2] - went[1], 49ms);
  for (size_t i = 3; i < went.size(); ++i)
    EXPECT_GE(went[i] - went[i - 1], 49ms) << "message " << i;
}

TEST(RateLimit, RatesBelowOneCountAsOne) {
  RateLimit limit;
  ASSERT_TRUE(limit.allows(0, kT0));
  limit.take();
  EXPECT_FALSE(limit.allows(0, kT0 + 999ms));
  EXPECT_TRUE(limit.allows(-5, kT0 + 1s));
}

}  // namespace
}  // namespace messaging
