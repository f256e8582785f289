#include "common/thread_pool.h"

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>

#include <gtest/gtest.h>

namespace common {
namespace {

TEST(ThreadPoolTest, RunsEveryTaskAndStopDrains) {
  std::atomic<int> done{0};
  ThreadPool pool(3, 10000);
  EXPECT_EQ(pool.threadCount(), 3u);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(pool.post([&] {
      std::this_thread::sleep_for(std::chrono::microseconds(10));
      done.fetch_add(1);
    }));
  }
  pool.stop();
  EXPECT_EQ(done.load(), 1000);
  EXPECT_EQ(pool.queued(), 0u);
}

TEST(ThreadPoolTest, FullQueueIsRefusedWithAClearError) {
  ThreadPool pool(1, 2);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> started;
  ASSERT_TRUE(pool.post([&] {
    started.set_value();
    gate.wait();
  }));
  started.get_future().wait();  // the only thread is busy: the next two wait in the queue
  ASSERT_TRUE(pool.post([] {}));
  ASSERT_TRUE(pool.post([] {}));
  Status st = pool.post([] {});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kTooLarge);
  EXPECT_NE(st.error().reason.find("queue full"), std::string::npos);
  release.set_value();
  pool.stop();
  EXPECT_EQ(pool.queued(), 0u);
}

TEST(ThreadPoolTest, PostAfterStopFails) {
  ThreadPool pool(2, 4);
  pool.stop();
  pool.stop();  // idempotent
  Status st = pool.post([] {});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kUnsupported);
}

TEST(ThreadPoolTest, ThrowingTaskIsCountedAndThreadSurvives) {
  std::atomic<int> done{0};
  ThreadPool pool(1, 16);
  ASSERT_TRUE(pool.post([] { throw std::runtime_error("boom"); }));
  ASSERT_TRUE(pool.post([&] { done.fetch_add(1); }));
  pool.stop();
  EXPECT_EQ(done.load(), 1);
  EXPECT_EQ(pool.failedTasks(), 1u);
}

}  // namespace
}  // namespace common
