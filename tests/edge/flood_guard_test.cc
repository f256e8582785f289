#include "edge/flood_guard.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace ip = boost::asio::ip;

ip::address addr(const char* s) {
  return ip::make_address(s);
}

edge::FloodGuardOptions opts(uint32_t max = 10) {
  edge::FloodGuardOptions o;
  o.max_requests = max;
  o.window = 1000ms;
  o.block_for = 60s;
  return o;
}

const Clock::time_point t0 = Clock::time_point{} + 1000h;

TEST(FloodGuard, ThresholdExactly) {
  edge::FloodGuard g(opts(10));
  auto a = addr("192.0.2.7");
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(g.admit(a, t0 + std::chrono::milliseconds(i))) << i;
  EXPECT_FALSE(g.admit(a, t0 + 10ms));
  EXPECT_FALSE(g.admit(a, t0 + 11ms));
  // Another source is unaffected.
  EXPECT_TRUE(g.admit(addr("192.0.2.8"), t0 + 12ms));
  auto s = g.stats();
  EXPECT_EQ(s.admitted, 11u);
  EXPECT_EQ(s.dropped, 2u);
  EXPECT_EQ(s.blocks, 1u);
  EXPECT_EQ(s.tracked, 2u);
  auto b = g.blocked(t0 + 20ms);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].source, a);
  EXPECT_EQ(b[0].dropped, 2u);
  EXPECT_EQ(b[0].until - b[0].since, std::chrono::system_clock::duration(60s));
}

TEST(FloodGuard, SpreadTrafficBelowTheRateIsNeverBlocked) {
  edge::FloodGuard g(opts(10));
  auto a = addr("2001:db8::7");
  // 8 per second (one every 125 ms) for a minute. The estimate can exceed the true rate by
  // up to the granularity of one request per window, so 8 against a limit of 10 never trips.
  for (int i = 0; i < 480; ++i) ASSERT_TRUE(g.admit(a, t0 + i * 125ms)) << i;
  // After a pause, bursty but within the rate: 5 at the start of each second.
  for (int s = 62; s < 122; ++s)
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(g.admit(a, t0 + std::chrono::seconds(s))) << s;
  EXPECT_EQ(g.stats().dropped, 0u);
  EXPECT_EQ(g.stats().blocks, 0u);
}

TEST(FloodGuard, BurstAtTheWindowBoundaryIsCaught) {
  edge::FloodGuard g(opts(10));
  auto a = addr("192.0.2.7");
  // The first request starts the source's window at t0. 8 requests at its very end and 8
  // just after the boundary: 16 in 20 ms, though no fixed window sees more than 8.
  EXPECT_TRUE(g.admit(a, t0));
  for (int i = 0; i < 7; ++i) EXPECT_TRUE(g.admit(a, t0 + 990ms + std::chrono::milliseconds(i)));
  bool refused = false;
  for (int i = 0; i < 8; ++i) refused |= !g.admit(a, t0 + 1000ms + std::chrono::milliseconds(i));
  EXPECT_TRUE(refused);
  EXPECT_EQ(g.stats().blocks, 1u);
}

TEST(FloodGuard, PreviousWindowFadesOut) {
  edge::FloodGuard g(opts(10));
  auto a = addr("192.0.2.7");
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(g.admit(a, t0));
  // Two windows later the past no longer counts: a full allowance again.
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(g.admit(a, t0 + 2000ms));
  // Half way into the next window, half of the previous 10 still weighs: 5 more fit.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(g.admit(a, t0 + 3500ms)) << i;
  EXPECT_FALSE(g.admit(a, t0 + 3500ms));
}

TEST(FloodGuard, BlockExpires) {
  edge::FloodGuard g(opts(3));
  auto a = addr("192.0.2.7");
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(g.admit(a, t0));
  EXPECT_FALSE(g.admit(a, t0));
  EXPECT_FALSE(g.admit(a, t0 + 59s));
  EXPECT_EQ(g.blocked(t0 + 59s).size(), 1u);
  EXPECT_TRUE(g.blocked(t0 + 60s).empty());
  EXPECT_TRUE(g.admit(a, t0 + 60s));
  EXPECT_TRUE(g.admit(a, t0 + 60s));
  EXPECT_TRUE(g.admit(a, t0 + 60s));
  EXPECT_FALSE(g.admit(a, t0 + 60s));  // and can be blocked again
  EXPECT_EQ(g.stats().blocks, 2u);
}

TEST(FloodGuard, Allowlist) {
  auto o = opts(2);
  o.allowlist = {"192.0.2.0/24", "2001:db8::/32", "198.51.100.9"};
  auto checked = edge::FloodGuard::check(o);
  ASSERT_TRUE(checked.has_value());
  edge::FloodGuard g(std::move(*checked));
  for (const char* s : {"192.0.2.200", "2001:db8:1::5", "198.51.100.9"}) {
    for (int i = 0; i < 100; ++i) EXPECT_TRUE(g.admit(addr(s), t0)) << s;
  }
  EXPECT_EQ(g.stats().tracked, 0u);
  // Just outside each entry: tracked and blocked.
  for (const char* s : {"192.0.3.1", "2001:db9::5", "198.51.100.10"}) {
    EXPECT_TRUE(g.admit(addr(s), t0));
    EXPECT_TRUE(g.admit(addr(s), t0));
    EXPECT_FALSE(g.admit(addr(s), t0)) << s;
  }
  EXPECT_EQ(g.stats().blocks, 3u);
}

TEST(FloodGuard, CheckRejectsBadAllowlist) {
  for (const char* bad :
       {"192.0.2.0/33", "2001:db8::/129", "example.com", "10.0.0.1/", "1.2.3.4/x"}) {
    auto o = opts();
    o.allowlist = {bad};
    EXPECT_FALSE(edge::FloodGuard::check(o).has_value()) << bad;
  }
  auto o = opts();
  o.max_requests = 0;
  EXPECT_FALSE(edge::FloodGuard::check(o).has_value());
}

TEST(FloodGuard, Disabled) {
  auto o = opts(1);
  o.enabled = false;
  edge::FloodGuard g(o);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(g.admit(addr("192.0.2.7"), t0));
  EXPECT_EQ(g.stats().tracked, 0u);
}

TEST(FloodGuard, Unblock) {
  edge::FloodGuard g(opts(1));
  auto a = addr("192.0.2.7");
  EXPECT_TRUE(g.admit(a, t0));
  EXPECT_FALSE(g.admit(a, t0));
  EXPECT_TRUE(g.unblock(a));
  EXPECT_FALSE(g.unblock(a));
  EXPECT_FALSE(g.unblock(addr("192.0.2.99")));
  EXPECT_TRUE(g.blocked(t0).empty());
  EXPECT_TRUE(g.admit(a, t0));
}

TEST(FloodGuard, TrackingIsBoundedUnderAScan) {
  auto o = opts(5);
  o.max_tracked = 1000;
  edge::FloodGuard g(o);
  // A real flooder first, then a scan of 2^17 distinct sources, one packet each.
  auto flooder = addr("2001:db8::1");
  for (int i = 0; i < 6; ++i) g.admit(flooder, t0);
  ASSERT_EQ(g.stats().blocks, 1u);
  for (uint32_t i = 0; i < (1u << 17); ++i) {
    EXPECT_TRUE(g.admit(ip::address_v4(0x0a000000u + i), t0 + std::chrono::microseconds(i)));
    if (i % 4096 == 0) {
      ASSERT_LE(g.stats().tracked, 1000u + 64u);
    }
  }
  EXPECT_LE(g.stats().tracked, 1000u + 64u);
  // The live block survives eviction.
  EXPECT_FALSE(g.admit(flooder, t0 + 1s));
}

TEST(FloodGuard, ConcurrentAdmitCountsAddUp) {
  auto o = opts(1000);
  edge::FloodGuard g(o);
  constexpr int kThreads = 4, kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&g, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // 8 shared sources, hammered by every thread, at one instant.
        g.admit(ip::address_v4(0xc0000200u + static_cast<uint32_t>(i % 8)), t0);
        (void)t;
      }
    });
  }
  for (auto& th : threads) th.join();
  auto s = g.stats();
  EXPECT_EQ(s.admitted + s.dropped, uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(s.admitted, 8u * 1000u);  // exactly max_requests per source
  EXPECT_EQ(s.blocks, 8u);
  EXPECT_EQ(s.tracked, 8u);
}

}  // namespace
