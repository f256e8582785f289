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
