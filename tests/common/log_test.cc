#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/log.h"

namespace {

using common::log::Format;
using common::log::Level;

// Points the logger at a temporary file for one test and reads back what was written.
class LogCapture {
 public:
  LogCapture() : file_(std::tmpfile()) { common::log::setOutput(file_); }
  ~LogCapture() {
    common::log::setOutput(nullptr);
    common::log::setup(Level::kInfo, Format::kText);
    std::fclose(file_);
  }
  std::vector<std::string> lines() {
    std::fflush(file_);
    std::rewind(file_);
    std::string all;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0) all.append(buf, n);
    std::vector<std::string> out;
    std::istringstream in(all);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

 private:
  std::FILE* file_;
};

// True when `s` is a UTC ISO 8601 time with milliseconds: 2025-01-31T09:00:00.123Z. (No
// std::regex: g++ 12 with ASan warns inside it, and warnings are errors.)
bool isUtcTimestamp(std::string_view s) {
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (s.size() != kShape.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool ok = kShape[i] == 'd' ? (s[i] >= '0' && s[i] <= '9') : s[i] == kShape[i];
    if (!ok) return false;
  }
  return true;
}

TEST(Log, ParsesTheConfigNames) {
  EXPECT_EQ(common::log::parseLevel("trace"), Level::kTrace);
  EXPECT_EQ(common::log::parseLevel("warn"), Level::kWarn);
  EXPECT_EQ(common::log::parseLevel("off"), Level::kOff);
  EXPECT_FALSE(common::log::parseLevel("loud").has_value());
  EXPECT_EQ(common::log::parseFormat("json"), Format::kJson);
  EXPECT_FALSE(common::log::parseFormat("xml").has_value());
  EXPECT_STREQ(common::log::levelName(Level::kError), "error");
}

TEST(Log, LevelCheckSkipsTheMessageExpression) {
  LogCapture capture;
  common::log::setup(Level::kWarn, Format::kText);
  int built = 0;
  auto message = [&] {
    ++built;
    return std::string("m");
  };
  SB_LOG(kDebug, message());
  SB_LOG(kInfo, message());
  EXPECT_EQ(built, 0);
  SB_LOG(kWarn, message());
  SB_LOG(kError, message());
  EXPECT_EQ(built, 2);
  common::log::setup(Level::kOff, Format::kText);
  SB_LOG(kError, message());
  EXPECT_EQ(built, 2);
  EXPECT_EQ(capture.lines().size(), 2u);
}

TEST(Log, TextLineHasUtcTimestampLevelAndOneLine) {
  LogCapture capture;
  common::log::setup(Level::kTrace, Format::kText);
  SB_LOG(kInfo, "serve: running");
  SB_LOG(kDebug, "forged\n2025-01-01T00:00:00.000Z error injected");
  auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 2u);
  ASSERT_GT(lines[0].size(), 24u);
  EXPECT_TRUE(isUtcTimestamp(lines[0].substr(0, 24))) << lines[0];
  EXPECT_EQ(lines[0].substr(24), " info serve: running");
  EXPECT_NE(lines[1].find(" debug forged\\n2025"), std::string::npos) << lines[1];
}

TEST(Log, JsonLineEscapesTheMessage) {
  LogCapture capture;
  common::log::setup(Level::kInfo, Format::kJson);
  SB_LOG(kWarn, std::string("say \"hi\"\\ \x01"));
  auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 1u);
  const std::string prefix = "{\"ts\":\"";
  ASSERT_GT(lines[0].size(), prefix.size() + 24);
  EXPECT_EQ(lines[0].substr(0, prefix.size()), prefix);
  EXPECT_TRUE(isUtcTimestamp(lines[0].substr(prefix.size(), 24))) << lines[0];
  EXPECT_EQ(lines[0].substr(prefix.size() + 24),
            R"(","level":"warn","msg":"say \"hi\"\\ \u0001"})");
}

TEST(Log, ConcurrentWritersNeverInterleaveLines) {
  LogCapture capture;
  common::log::setup(Level::kInfo, Format::kText);
  constexpr int kThreads = 4, kEach = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      std::string body(100, char('a' + t));
      for (int i = 0; i < kEach; ++i) SB_LOG(kInfo, body);
    });
  }
  for (auto& th : threads) th.join();
  auto lines = capture.lines();
  ASSERT_EQ(lines.size(), size_t(kThreads * kEach));
  for (const std::string& line : lines) {
    ASSERT_GE(line.size(), 100u);
    std::string tail = line.substr(line.size() - 100);
    EXPECT_EQ(tail, std::string(100, tail[0])) << line;
  }
}

}  // namespace
