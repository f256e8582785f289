// Runs a repository test once per backend: SQLite in a fresh temp dir always, PostgreSQL when
// SB_TEST_POSTGRES_URL names a server (each test gets its own schema, dropped afterwards, so
// the database is left as it was). Instances are named .../Sqlite and .../Postgres, so
// --gtest_filter='*Postgres*' selects the PostgreSQL ones.
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/store.h"

namespace store::testing {

enum class Backend { kSqlite, kPostgres };

inline std::string backendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

// A well-formed SID: the two-letter prefix and n as 32 zero-padded digits ("AC000...001").
inline std::string sid(const char* prefix, int n) {
  std::string digits = std::to_string(n);
  return prefix + std::string(32 - digits.size(), '0') + digits;
}

inline const char* postgresUrl() {
  const char* url = std::getenv("SB_TEST_POSTGRES_URL");
  return url && *url ? url : nullptr;
}

class BackendTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    std::string unique =
        std::to_string(getpid()) + "_" + std::to_string(++counter) + "_" +
        std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 100000);
    if (GetParam() == Backend::kPostgres) {
      const char* base = postgresUrl();
      if (!base)
        GTEST_SKIP() << "PostgreSQL skipped: SB_TEST_POSTGRES_URL is not set (ctest -L "
                        "integration runs these against a throwaway server)";
      base_url_ = base;
      schema_ = "sbtest_" + unique;
      ASSERT_TRUE(adminScript("CREATE SCHEMA " + schema_));
      url_ = base_url_ + (base_url_.find('?') == std::string::npos ? "?" : "&") +
             "options=-csearch_path%3D" + schema_;
    } else {
      dir_ = std::filesystem::temp_directory_path() / ("sb_store_test_" + unique);
      std::filesystem::remove_all(dir_);
      url_ = "sqlite:" + (dir_ / "data" / "switchboard.db").string();  // data/ is created
    }
  }

  void TearDown() override {
    if (!schema_.empty()) {
      EXPECT_TRUE(adminScript("DROP SCHEMA " + schema_ + " CASCADE"));
    }
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  bool postgres() const { return GetParam() == Backend::kPostgres; }

  std::unique_ptr<Store> openStore() {
    auto s = Store::open(url_);
    EXPECT_TRUE(s) << s.error().reason;
    return s ? std::move(*s) : nullptr;
  }

  // A store holding one active account per SID (the parent rows other repositories need).
  std::unique_ptr<Store> openWithAccounts(const std::vector<std::string>& account_sids) {
    auto s = openStore();
    if (!s) return nullptr;
    for (const std::string& account_sid : account_sids) {
      Account a;
      a.sid = account_sid;
      a.friendly_name = "account";
      a.auth_token_sealed = "sealed";
      auto created = s->accounts().create(a);
      EXPECT_TRUE(created && *created) << (created ? "exists" : created.error().reason);
    }
    return s;
  }

  // Constant SQL on the base database (outside the test's schema); our own names only.
  bool adminScript(const std::string& sql) {
    auto db = Database::open(base_url_);
    if (!db) {
      ADD_FAILURE() << db.error().reason;
      return false;
    }
    auto st = (*db)->transaction([&](Tx& tx) { return tx.execScript(sql); });
    if (!st) ADD_FAILURE() << st.error().reason;
    return bool(st);
  }

  std::string url_;
  std::string base_url_;
  std::string schema_;
  std::filesystem::path dir_;
};

#define SB_INSTANTIATE_BACKENDS(Suite)                                                             \
  INSTANTIATE_TEST_SUITE_P(                                                                        \
      Backends, Suite,                                                                             \
      ::testing::Values(::store::testing::Backend::kSqlite, ::store::testing::Backend::kPostgres), \
      ::store::testing::backendName)

}  // namespace store::testing
