// A fresh SQLite store in a temp dir, a fixed master key and the Provisioning over them: what
// the tests of the API's store-backed parts (authentication, REST resources) start from.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "api/provisioning.h"
#include "api/secrets.h"
#include "store/store.h"

namespace api::testing {

class StoreFixture : public ::testing::Test {
 protected:
  static constexpr std::string_view kFixtureHexKey =
      "5b2e9d8c7a6f5e4d3c2b1a09f8e7d6c5b4a3928170f1e2d3c4b5a69788796a5b";

  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("sb_api_test_" + std::to_string(getpid()) + "_" + std::to_string(++counter));
    std::filesystem::remove_all(dir_);
    auto s = store::Store::open("sqlite:" + (dir_ / "data" / "sb.db").string());
    ASSERT_TRUE(s) << s.error().reason;
    store_ = std::move(*s);
    auto k = MasterKey::fromHex(kFixtureHexKey);
    ASSERT_TRUE(k);
    key_ = std::make_unique<MasterKey>(*k);
    provisioning_ = std::make_unique<Provisioning>(*store_, *key_);
  }

  void TearDown() override {
    provisioning_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<MasterKey> key_;
  std::unique_ptr<Provisioning> provisioning_;
};

}  // namespace api::testing
