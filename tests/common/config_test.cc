#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/config.h"
#include "common/result.h"
#include "common/strings.h"

namespace {

std::string writeTemp(const std::string& text) {
  static int n = 0;
  auto path =
      std::filesystem::temp_directory_path() /
      ("sb_config_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++) + ".yaml");
  std::ofstream(path) << text;
  return path.string();
}

TEST(Config, DefaultsWork) {
  auto c = common::Config::defaults();
  ASSERT_TRUE(c.has_value()) << c.error().reason;
  EXPECT_EQ(c->dataDir(), "./data");
  ASSERT_EQ(c->sipListen().size(), 2u);
  EXPECT_EQ(c->sipListen()[0].toString(), "udp:0.0.0.0:5060");
  EXPECT_EQ(c->sipListen()[1].toString(), "tcp:0.0.0.0:5060");
  EXPECT_EQ(c->httpListen().toString(), "127.0.0.1:8080");
  EXPECT_EQ(c->storeUrl(), "sqlite:./data/switchboard.db");
  EXPECT_EQ(c->sipMaxMessageBytes(), 65536u);
  EXPECT_GE(c->sipWorkers(), 1u);
  EXPECT_EQ(c->logLevel(), "info");
}

TEST(Config, FileThenOverrides) {
  std::string file = writeTemp(
      "data_dir: /tmp/sbdata\n"
      "sip:\n"
      "  listen: [udp:127.0.0.1:5070, 'tls:[::1]:5071']\n"
      "  workers: 3\n"
      "log:\n"
      "  level: debug\n");
  auto c = common::Config::load(file, {"http.listen=[::1]:0", "log.format=json"});
  std::remove(file.c_str());
  ASSERT_TRUE(c.has_value()) << c.error().reason;
  EXPECT_EQ(c->dataDir(), "/tmp/sbdata");
  EXPECT_EQ(c->storeUrl(), "sqlite:/tmp/sbdata/switchboard.db");  // derived from data_dir
  ASSERT_EQ(c->sipListen().size(), 2u);
  EXPECT_EQ(c->sipListen()[1].transport, "tls");
  EXPECT_EQ(c->sipListen()[1].host, "::1");
  EXPECT_EQ(c->sipListen()[1].port, 5071);
  EXPECT_EQ(c->sipWorkers(), 3u);
  EXPECT_EQ(c->httpListen().host, "::1");
  EXPECT_EQ(c->httpListen().port, 0);
  EXPECT_EQ(c->logLevel(), "debug");
  EXPECT_EQ(c->logFormat(), "json");
}

TEST(Config, ListOverridesCommaAndFlow) {
  auto a = common::Config::load("", {"sip.listen=udp:127.0.0.1:5080,ws:127.0.0.1:5066"});
  ASSERT_TRUE(a.has_value());
  ASSERT_EQ(a->sipListen().size(), 2u);
  EXPECT_EQ(a->sipListen()[1].transport, "ws");
  auto b = common::Config::load("", {"sip.listen=[tcp:127.0.0.1:5090]"});
  ASSERT_TRUE(b.has_value());
  ASSERT_EQ(b->sipListen().size(), 1u);
  EXPECT_EQ(b->sipListen()[0].port, 5090);
  auto s = common::Config::load("", {"store.url=postgresql://sb@127.0.0.1:5432/sb"});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->storeUrl(), "postgresql://sb@127.0.0.1:5432/sb");
}

TEST(Config, ErrorsNameTheKey) {
  struct Case {
    std::vector<std::string> sets;
    const char* key;
  } cases[] = {
      {{"nosuch.key=1"}, "nosuch.key"},
      {{"sip.listen=udp:127.0.0.1:99999"}, "sip.listen"},
      {{"sip.listen=carrier-pigeon:127.0.0.1:5060"}, "sip.listen"},
      {{"http.listen=localhost"}, "http.listen"},
      {{"log.level=loud"}, "log.level"},
      {{"store.url=mysql://x"}, "store.url"},
      {{"sip.max_message_bytes=10"}, "sip.max_message_bytes"},
      {{"data_dir="}, "data_dir"},
      {{"http.listen=a:1,b:2"}, "http.listen"},
  };
  for (const Case& c : cases) {
    auto r = common::Config::load("", c.sets);
    ASSERT_FALSE(r.has_value()) << c.sets[0];
    EXPECT_NE(r.error().reason.find(c.key), std::string::npos) << r.error().reason;
  }
  EXPECT_FALSE(common::Config::load("", {"no-equals-sign"}).has_value());
}

TEST(Config, FileErrors) {
  EXPECT_FALSE(common::Config::load("/nonexistent/switchboard.yaml", {}).has_value());
  std::string unknown = writeTemp("sip:\n  lisen: [udp:127.0.0.1:5060]\n");
  auto r = common::Config::load(unknown, {});
  std::remove(unknown.c_str());
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().reason.find("sip.lisen"), std::string::npos);
  std::string broken = writeTemp("sip: [unclosed\n");
  EXPECT_FALSE(common::Config::load(broken, {}).has_value());
  std::remove(broken.c_str());
}

TEST(Config, DumpYamlLoadsBackTheSame) {
  auto c =
      common::Config::load("", {"sip.listen=udp:127.0.0.1:5070,tcp:[::1]:5071", "sip.workers=2"});
  ASSERT_TRUE(c.has_value());
  std::string file = writeTemp(c->dumpYaml());
  auto again = common::Config::load(file, {});
  std::remove(file.c_str());
  ASSERT_TRUE(again.has_value()) << again.error().reason;
  EXPECT_EQ(again->dumpYaml(), c->dumpYaml());
}

TEST(Strings, ParseUintBounds) {
  EXPECT_EQ(common::parseUint("0068", 255).value_or(0), 68u);
  EXPECT_FALSE(common::parseUint("256", 255).has_value());
  EXPECT_FALSE(common::parseUint("18446744073709551616", UINT64_MAX).has_value());
  EXPECT_EQ(common::parseUint("18446744073709551615", UINT64_MAX).value_or(0), UINT64_MAX);
  EXPECT_FALSE(common::parseUint("", 10).has_value());
  EXPECT_FALSE(common::parseUint("1a", 100).has_value());
}

TEST(Result, ValueAndError) {
  common::Result<int> ok = 5;
  EXPECT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, 5);
  common::Result<int> err = common::makeError(common::ErrorCode::kNotFound, "gone", 404);
  EXPECT_FALSE(err);
  EXPECT_EQ(err.error().status, 404);
  EXPECT_EQ(err.value_or(7), 7);
  common::Status st;
  EXPECT_TRUE(st.has_value());
  common::Status bad = common::makeError(common::ErrorCode::kIo, "disk");
  EXPECT_EQ(bad.error().reason, "disk");
}

}  // namespace
