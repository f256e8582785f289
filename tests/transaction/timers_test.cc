#include "transaction/timers.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace transaction {
namespace {

using std::chrono::milliseconds;

TEST(ManualTimersTest, FiresInTimeOrderAndOnlyWhenDue) {
  ManualTimers t;
  std::vector<std::string> fired;
  t.schedule(milliseconds(300), [&] { fired.push_back("c"); });
  t.schedule(milliseconds(100), [&] { fired.push_back("a"); });
  t.schedule(milliseconds(200), [&] { fired.push_back("b"); });
  t.advance(milliseconds(199));
  EXPECT_EQ(fired, (std::vector<std::string>{"a"}));
  t.advance(milliseconds(101));
  EXPECT_EQ(fired, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(t.now(), milliseconds(300));
  EXPECT_EQ(t.pending(), 0u);
}

TEST(ManualTimersTest, RunsTimersScheduledByFiredTimersAtTheirOwnTime) {
  ManualTimers t;
  std::vector<milliseconds> at;
  std::function<void()> tick = [&] {
    at.push_back(t.now());
    if (at.size() < 4) t.schedule(milliseconds(500), tick);
  };
  t.schedule(milliseconds(500), tick);
  t.advance(milliseconds(10'000));
  EXPECT_EQ(at, (std::vector<milliseconds>{milliseconds(500), milliseconds(1000),
                                           milliseconds(1500), milliseconds(2000)}));
}

TEST(ManualTimersTest, ZeroDelayRunsOnNextAdvanceNotInsideSchedule) {
  ManualTimers t;
  int n = 0;
  t.schedule(milliseconds(0), [&] { ++n; });
  EXPECT_EQ(n, 0);
  t.advance(milliseconds(0));
  EXPECT_EQ(n, 1);
}

TEST(ManualTimersTest, CancelledTimerNeverFires) {
  ManualTimers t;
  int n = 0;
  TimerId a = t.schedule(milliseconds(100), [&] { ++n; });
  TimerId b = t.schedule(milliseconds(100), [&] { n += 10; });
  t.cancel(a);
  t.cancel(a);      // twice: no-op
  t.cancel(12345);  // unknown: no-op
  t.advance(milliseconds(100));
  EXPECT_EQ(n, 10);
  t.cancel(b);  // already fired: no-op
}

TEST(AsioTimersTest, FiresOnTheLoopAndHonoursCancel) {
  boost::asio::io_context io;
  AsioTimers t(io);
  int fired = 0;
  t.schedule(milliseconds(0), [&] { ++fired; });
  TimerId c = t.schedule(milliseconds(0), [&] { fired += 100; });
  t.cancel(c);
  EXPECT_EQ(t.pending(), 1u);
  io.run();
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(t.pending(), 0u);
}

TEST(AsioTimersTest, FireInDeadlineOrderAndLetCallbacksScheduleAndCancel) {
  boost::asio::io_context io;
  AsioTimers t(io);
  std::vector<int> order;
  TimerId victim = 0;
  // Far enough apart that the firing grid (kSlack) and a late loop cannot reorder them.
  t.schedule(milliseconds(120), [&] { order.push_back(30); });
  t.schedule(milliseconds(10), [&] {
    order.push_back(10);
    t.cancel(victim);                                          // due at the same turn
    t.schedule(milliseconds(0), [&] { order.push_back(0); });  // a later turn, not inside
    t.schedule(milliseconds(20), [&] { order.push_back(15); });
  });
  victim = t.schedule(milliseconds(10), [&] { order.push_back(-1); });
  t.schedule(milliseconds(80), [&] { order.push_back(20); });
  io.run();
  EXPECT_EQ(order, (std::vector<int>{10, 0, 15, 20, 30}));
  EXPECT_EQ(t.pending(), 0u);
}

TEST(AsioTimersTest, ManyCancelledTimersDoNotDelayOrLeak) {
  boost::asio::io_context io;
  AsioTimers t(io);
  int fired = 0;
  // Like transactions: thousands of long timers cancelled early, a few short ones kept.
  for (int i = 0; i < 5000; ++i) {
    TimerId id = t.schedule(milliseconds(32000), [&] { fired += 1000; });
    t.cancel(id);
    if (i % 1000 == 0) t.schedule(milliseconds(1 + i / 1000), [&] { ++fired; });
  }
  EXPECT_EQ(t.pending(), 5u);
  auto start = std::chrono::steady_clock::now();
  io.run();  // returns once the live timers have fired: nothing waits for the cancelled ones
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(fired, 5);
  EXPECT_EQ(t.pending(), 0u);
}

TEST(AsioTimersTest, TimersOfOneSlotShareAWakeUpAndNoneFiresEarly) {
  boost::asio::io_context io;
  AsioTimers t(io);
  using Clock = std::chrono::steady_clock;
  int early = 0, fired = 0;
  // Like a registrar's responses: many near-immediate timers (0-4 ms), each scheduled after
  // the last. Without the grid each would move the kernel timer.
  for (int i = 0; i < 200; ++i) {
    const milliseconds delay(i % 5);
    const auto due = Clock::now() + delay;
    t.schedule(delay, [&, due] {
      ++fired;
      if (Clock::now() < due) ++early;
    });
  }
  io.run();
  EXPECT_EQ(fired, 200);
  EXPECT_EQ(early, 0);
  // Deadlines within 5 ms span at most two grid slots (three if the loop ran late).
  EXPECT_LE(t.arms(), 3u);
}

TEST(AsioTimersTest, DestroyedWithPendingTimersIsSafe) {
  boost::asio::io_context io;
  int fired = 0;
  {
    AsioTimers t(io);
    t.schedule(milliseconds(0), [&] { ++fired; });
  }
  io.run();
  EXPECT_EQ(fired, 0);
}

}  // namespace
}  // namespace transaction
