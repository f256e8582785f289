// The audit log's writer: failed authentications coalesced into one row per source per account
// per window (FailureDigest), written when the window ends, on flush() and at stop().
#include "api/audit_trail.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "api/failure_digest.h"
#include "store_fixture.h"

namespace api {
namespace {

using namespace std::chrono_literals;
using Clock = FailureDigest::Clock;

const std::string kA = "AC00000000000000000000000000000001";
const std::string kB = "AC00000000000000000000000000000002";
const std::string kKey = "SK00000000000000000000000000000001";

store::AuditEntry failure(const std::string& account, const std::string& source, int64_t at_ms,
                          const std::string& path = "/2010-04-01/Accounts.json") {
  store::AuditEntry e;
  e.at_ms = at_ms;
  e.account_sid = account;
  e.principal = kKey;
  e.method = "GET";
  e.path = path;
  e.status = 401;
  e.source = source;
  return e;
}

TEST(FailureDigest, TheFirstAtOnceThenOneRowPerSourcePerAccountPerWindow) {
  FailureDigest d(60s, 100);
  const Clock::time_point t0{};
  for (int i = 0; i < 300; ++i)
    d.add(failure(kA, "203.0.113.9", 1000 + i, i == 0 ? "/first" : "/later"), t0 + i * 10ms);
  for (int i = 0; i < 7; ++i) d.add(failure(kA, "198.51.100.1", 5000 + i), t0 + 1s);
  for (int i = 0; i < 2; ++i) d.add(failure(kB, "203.0.113.9", 6000 + i), t0 + 2s);
  EXPECT_EQ(d.open(), 3u);
  // The first attempt of each source and account is written at once, alone.
  auto rows = d.take(t0 + 2s, false);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].count, 1);
  EXPECT_EQ(rows[0].at_ms, 1000);
  EXPECT_EQ(rows[0].path, "/first");
  EXPECT_EQ(rows[1].source, "198.51.100.1");
  EXPECT_EQ(rows[2].account_sid, kB);
  EXPECT_TRUE(d.take(t0 + 59s, false).empty());  // the rest still counting

  rows = d.take(t0 + 60s, false);  // the first one's window ended
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].count, 299);
  EXPECT_EQ(rows[0].at_ms, 1001);  // the second attempt's
  EXPECT_EQ(rows[0].path, "/later");
  EXPECT_EQ(rows[0].source, "203.0.113.9");
  EXPECT_EQ(rows[0].account_sid, kA);
  EXPECT_EQ(rows[0].status, 401);

  rows = d.take(t0 + 62s, false);
  ASSERT_EQ(rows.size(), 2u);  // in the order opened
  EXPECT_EQ(rows[0].source, "198.51.100.1");
  EXPECT_EQ(rows[0].count, 6);
  EXPECT_EQ(rows[1].account_sid, kB);
  EXPECT_EQ(rows[1].count, 1);
  EXPECT_EQ(d.open(), 0u);
  EXPECT_TRUE(d.take(t0 + 1h, true).empty());
}

TEST(FailureDigest, ANewWindowStartsWithARowOfItsOwn) {
  FailureDigest d(60s, 100);
  const Clock::time_point t0{};
  d.add(failure(kA, "203.0.113.9", 1), t0);
  d.add(failure(kA, "203.0.113.9", 2), t0 + 30s);
  d.add(failure(kA, "203.0.113.9", 3), t0 + 40s);
  d.add(failure(kA, "203.0.113.9", 4), t0 + 61s);  // the first window is over
  auto rows = d.take(t0 + 61s, true);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].count, 1);
  EXPECT_EQ(rows[0].at_ms, 1);
  EXPECT_EQ(rows[1].count, 2);
  EXPECT_EQ(rows[1].at_ms, 2);
  EXPECT_EQ(rows[2].count, 1);
  EXPECT_EQ(rows[2].at_ms, 4);
}

TEST(FailureDigest, ALoneFailureIsOneRow) {
  FailureDigest d(60s, 100);
  const Clock::time_point t0{};
  d.add(failure(kA, "203.0.113.9", 1), t0);
  EXPECT_EQ(d.take(t0, false).size(), 1u);
  EXPECT_TRUE(d.take(t0 + 1h, true).empty());  // nothing counted after it
}

TEST(FailureDigest, AnIpv6SourceIsGroupedByItsSlash64) {
  FailureDigest d(60s, 100);
  const Clock::time_point t0{};
  for (int i = 1; i <= 10; ++i) d.add(failure(kA, "2001:db8:1:2::" + std::to_string(i), i), t0);
  d.add(failure(kA, "2001:db8:1:3::1", 11), t0);  // another /64
  d.add(failure(kA, "::ffff:192.0.2.1", 12), t0);
  d.add(failure(kA, "::ffff:192.0.2.2", 13), t0);  // IPv4 addresses stay apart
  EXPECT_EQ(d.open(), 4u);
  auto rows = d.take(t0 + 1h, true);
  int64_t total = 0;
  for (const auto& r : rows) total += r.count;
  EXPECT_EQ(total, 13);
  EXPECT_EQ(rows.size(), 5u);  // 4 first ones, and the other 9 of the first /64
}

TEST(FailureDigest, BoundedRowsCloseEarly) {
  FailureDigest d(60s, 4);
  const Clock::time_point t0{};
  for (int i = 0; i < 10; ++i) d.add(failure(kA, "192.0.2." + std::to_string(i), i), t0);
  EXPECT_LE(d.open(), 4u);
  auto rows = d.take(t0, true);
  ASSERT_EQ(rows.size(), 10u);  // nothing lost, nothing merged across sources
  int64_t total = 0;
  for (const auto& r : rows) total += r.count;
  EXPECT_EQ(total, 10);
}

class AuditTrailTest : public testing::StoreFixture {};

TEST_F(AuditTrailTest, ThreeHundredFailuresAreTwoRowsWithTheirCounts) {
  AuditTrail::Options o;
  o.failure_window = 1h;
  AuditTrail trail(store_->auditLog(), o);
  for (int i = 0; i < 300; ++i) trail.recordFailure(failure(kA, "203.0.113.9", 1000 + i));
  store::AuditEntry ok = failure(kA, "192.0.2.1", 2000);
  ok.status = 200;
  trail.record(ok);
  trail.flush();
  auto rows = store_->auditLog().list(kA, 0, 100);
  ASSERT_TRUE(rows) << rows.error().reason;
  ASSERT_EQ(rows->size(), 3u);
  // Newest first: the coalesced row was appended after the request that came later, which
  // came after the first failure (written at once).
  EXPECT_EQ((*rows)[0].status, 401);
  EXPECT_EQ((*rows)[0].count, 299);
  EXPECT_EQ((*rows)[0].at_ms, 1001);
  EXPECT_EQ((*rows)[1].status, 200);
  EXPECT_EQ((*rows)[1].count, 1);
  EXPECT_EQ((*rows)[2].status, 401);
  EXPECT_EQ((*rows)[2].count, 1);
  EXPECT_EQ((*rows)[2].at_ms, 1000);
  EXPECT_EQ(trail.written(), 3u);
}

TEST_F(AuditTrailTest, RowsStillCountingAreWrittenAtStop) {
  AuditTrail::Options o;
  o.failure_window = 1h;
  {
    AuditTrail trail(store_->auditLog(), o);
    for (int i = 0; i < 25; ++i) trail.recordFailure(failure(kB, "198.51.100.7", i));
    EXPECT_LE(trail.written(), 1u);  // the first may be written already; the rest still count
  }
  auto rows = store_->auditLog().list(kB, 0, 100);
  ASSERT_TRUE(rows) << rows.error().reason;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].count, 24);  // newest first
  EXPECT_EQ((*rows)[1].count, 1);
  EXPECT_EQ((*rows)[0].source, "198.51.100.7");
}

TEST_F(AuditTrailTest, AnEndedWindowIsWrittenWithoutAFlush) {
  AuditTrail::Options o;
  o.failure_window = 50ms;
  AuditTrail trail(store_->auditLog(), o);
  for (int i = 0; i < 10; ++i) trail.recordFailure(failure(kA, "203.0.113.5", i));
  for (int i = 0; i < 200 && trail.written() < 2; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(trail.written(), 2u);
  auto rows = store_->auditLog().list(kA, 0, 100);
  ASSERT_TRUE(rows && rows->size() == 2u);
  EXPECT_EQ((*rows)[0].count, 9);
  EXPECT_EQ((*rows)[1].count, 1);
}

}  // namespace
}  // namespace api
