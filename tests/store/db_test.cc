#include "store/db.h"

#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "backends.h"

namespace store {
namespace {

using common::Status;
using testing::BackendTest;

TEST(PlaceholdersTest, QuestionMarksBecomeNumberedOutsideLiteralsAndComments) {
  EXPECT_EQ(toPostgresPlaceholders("SELECT a FROM t WHERE b = ? AND c = ?"),
            "SELECT a FROM t WHERE b = $1 AND c = $2");
  EXPECT_EQ(toPostgresPlaceholders("SELECT '?', 'it''s ?', \"q?\" , ? -- what?\n, ? /* ? */, ?"),
            "SELECT '?', 'it''s ?', \"q?\" , $1 -- what?\n, $2 /* ? */, $3");
  EXPECT_EQ(toPostgresPlaceholders("no params"), "no params");
}

class DatabaseTest : public BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto db = Database::open(url_);
    ASSERT_TRUE(db) << db.error().reason;
    db_ = std::move(*db);
    ASSERT_TRUE(db_->transaction([](Tx& tx) {
      return tx.execScript("CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT, r DOUBLE PRECISION)");
    }));
  }
  void TearDown() override {
    db_.reset();
    BackendTest::TearDown();
  }
  int64_t rows() {
    auto r = db_->queryOne("SELECT COUNT(*) FROM kv");
    EXPECT_TRUE(r && *r);
    return r && *r ? (*r)->integer(0) : -1;
  }
  std::unique_ptr<Database> db_;
};

TEST_P(DatabaseTest, ValuesRoundTripWithTheirTypes) {
  ASSERT_TRUE(db_->exec("INSERT INTO kv (k, v, r) VALUES (?, ?, ?)",
                        {std::string("a"), int64_t{-9007199254740993}, 0.1}));
  ASSERT_TRUE(
      db_->exec("INSERT INTO kv (k, v, r) VALUES (?, ?, ?)", {std::string("b"), nullptr, nullptr}));
  auto r = db_->query("SELECT k, v, r FROM kv ORDER BY k");
  ASSERT_TRUE(r) << r.error().reason;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].text(0), "a");
  EXPECT_EQ((*r)[0].integer(1), -9007199254740993);
  EXPECT_EQ((*r)[0].real(2), 0.1);
  EXPECT_TRUE((*r)[1].isNull(1));
  EXPECT_FALSE((*r)[1].optionalInteger(1));
  EXPECT_FALSE((*r)[1].optionalText(2));
  auto changed = db_->exec("UPDATE kv SET v = ? WHERE k IN (?, ?)",
                           {int64_t{7}, std::string("a"), std::string("b")});
  ASSERT_TRUE(changed);
  EXPECT_EQ(*changed, 2);
  auto none = db_->queryOne("SELECT k FROM kv WHERE k = ?", {std::string("zz")});
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST_P(DatabaseTest, SqlShapedStringsAreOnlyData) {
  const std::vector<std::string> texts = {"'; DROP TABLE kv; --", "x' OR '1'='1", "?",      "$1",
                                          "\"quoted\" \\ back",   "名前 ☎",       "a\nb\tc"};
  for (size_t i = 0; i < texts.size(); ++i)
    ASSERT_TRUE(db_->exec("INSERT INTO kv (k, v) VALUES (?, ?)", {texts[i], int64_t(i)}));
  for (size_t i = 0; i < texts.size(); ++i) {
    auto r = db_->queryOne("SELECT v, k FROM kv WHERE k = ?", {texts[i]});
    ASSERT_TRUE(r && *r) << texts[i];
    EXPECT_EQ((*r)->integer(0), int64_t(i));
    EXPECT_EQ((*r)->text(1), texts[i]);
  }
  EXPECT_EQ(rows(), int64_t(texts.size()));
}

TEST_P(DatabaseTest, TransactionCommitsOnSuccess) {
  Status st = db_->transaction([](Tx& tx) -> Status {
    for (const char* k : {"a", "b"})
      if (auto n = tx.exec("INSERT INTO kv (k) VALUES (?)", {std::string(k)}); !n) return n.error();
    auto seen = tx.queryOne("SELECT COUNT(*) FROM kv");  // its own writes are visible
    if (!seen) return seen.error();
    EXPECT_EQ((*seen)->integer(0), 2);
    return {};
  });
  ASSERT_TRUE(st) << st.error().reason;
  EXPECT_EQ(rows(), 2);
}

TEST_P(DatabaseTest, FailedTransactionLeavesNothingHalfWritten) {
  Status st = db_->transaction([](Tx& tx) -> Status {
    if (auto n = tx.exec("INSERT INTO kv (k) VALUES (?)", {std::string("a")}); !n) return n.error();
    if (auto n = tx.exec("INSERT INTO kv (k) VALUES (?)", {std::string("b")}); !n) return n.error();
    return common::makeError(common::ErrorCode::kInvalidArgument, "balance would go negative");
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().reason, "balance would go negative");
  EXPECT_EQ(rows(), 0);

  // A failing statement half-way: its error comes back and the first insert is undone.
  st = db_->transaction([](Tx& tx) -> Status {
    if (auto n = tx.exec("INSERT INTO kv (k) VALUES (?)", {std::string("a")}); !n) return n.error();
    if (auto n = tx.exec("INSERT INTO kv (k) VALUES (?)", {std::string("a")}); !n) return n.error();
    return {};
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, common::ErrorCode::kInvalidArgument);  // a constraint
  EXPECT_EQ(rows(), 0);

  // The same when the caller ignores the failed statement and returns success.
  st = db_->transaction([](Tx& tx) -> Status {
    (void)tx.exec("INSERT INTO kv (k) VALUES (?)", {std::string("a")});
    (void)tx.exec("INSERT INTO nowhere (k) VALUES (?)", {std::string("a")});
    return {};
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(rows(), 0);

  // An exception is caught, rolls back and becomes an error.
  st = db_->transaction([](Tx& tx) -> Status {
    (void)tx.exec("INSERT INTO kv (k) VALUES (?)", {std::string("a")});
    throw std::runtime_error("boom");
  });
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().reason.find("boom"), std::string::npos);
  EXPECT_EQ(rows(), 0);

  // The connection is fine afterwards.
  ASSERT_TRUE(db_->exec("INSERT INTO kv (k) VALUES (?)", {std::string("ok")}));
  EXPECT_EQ(rows(), 1);
}

TEST_P(DatabaseTest, NestedUseOfTheDatabaseInsideATransactionIsAnError) {
  Status inner_status;
  Status st = db_->transaction([&](Tx&) -> Status {
    inner_status = db_->transaction([](Tx&) -> Status { return {}; });
    auto n = db_->exec("INSERT INTO kv (k) VALUES (?)", {std::string("a")});
    EXPECT_FALSE(n);
    return {};
  });
  EXPECT_TRUE(st);
  ASSERT_FALSE(inner_status);
  EXPECT_NE(inner_status.error().reason.find("nested"), std::string::npos);
  EXPECT_EQ(rows(), 0);
}

TEST_P(DatabaseTest, WrongParameterCountIsAnError) {
  auto n = db_->exec("INSERT INTO kv (k, v) VALUES (?, ?)", {std::string("a")});
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().reason.rfind("store: ", 0), 0u);
  EXPECT_EQ(rows(), 0);
}

TEST_P(DatabaseTest, ManyThreadsWriteAtOnce) {
  constexpr int kThreads = 8, kEach = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string key = std::to_string(t) + ":" + std::to_string(i);
        if (!db_->exec("INSERT INTO kv (k, v) VALUES (?, ?)", {key, int64_t{i}})) ++failures;
        Status st = db_->transaction([&](Tx& tx) -> Status {
          auto n = tx.exec("UPDATE kv SET v = v + 1 WHERE k = ?", {key});
          if (!n) return n.error();
          auto r = tx.query("SELECT COUNT(*) FROM kv");
          if (!r) return r.error();
          return {};
        });
        if (!st) {
          ADD_FAILURE() << st.error().reason;
          ++failures;
        }
        if (!db_->query("SELECT v FROM kv WHERE k = ?", {key})) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(rows(), kThreads * kEach);
  auto sum = db_->queryOne("SELECT SUM(v) FROM kv");
  ASSERT_TRUE(sum && *sum);
  EXPECT_EQ((*sum)->integer(0), kThreads * (kEach * (kEach - 1) / 2 + kEach));
}

TEST_P(DatabaseTest, ReconnectsAfterTheServerDropsTheSession) {
  if (!postgres()) GTEST_SKIP() << "PostgreSQL only: an embedded SQLite has no session to lose";
  // Put two sessions in the pool.
  std::thread other([&] {
    EXPECT_TRUE(db_->transaction([](Tx& tx) -> Status {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      auto r = tx.query("SELECT 1");
      if (!r) return r.error();
      return {};
    }));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(db_->query("SELECT 1"));
  other.join();

  auto admin = Database::open(base_url_);
  ASSERT_TRUE(admin);
  const std::string sessions =
      "FROM pg_stat_activity WHERE application_name = 'switchboard' AND "
      "datname = current_database() AND pid <> pg_backend_pid()";
  auto killed = (*admin)->query("SELECT pg_terminate_backend(pid) " + sessions);
  ASSERT_TRUE(killed) << killed.error().reason;
  EXPECT_GE(killed->size(), 1u);
  for (int i = 0; i < 200; ++i) {  // wait, bounded, until the sessions are gone
    auto left = (*admin)->queryOne("SELECT COUNT(*) " + sessions);
    ASSERT_TRUE(left && *left);
    if ((*left)->integer(0) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  admin->reset();

  auto n = db_->exec("INSERT INTO kv (k) VALUES (?)", {std::string("after")});
  EXPECT_TRUE(n) << n.error().reason;
  EXPECT_TRUE(db_->transaction([](Tx& tx) -> Status {
    auto r = tx.exec("INSERT INTO kv (k) VALUES (?)", {std::string("after2")});
    if (!r) return r.error();
    return {};
  }));
  EXPECT_EQ(rows(), 2);
}

TEST_P(DatabaseTest, PingAnswers) {
  EXPECT_TRUE(db_->ping());
}

TEST_P(DatabaseTest, SqliteSettingsAreApplied) {
  if (postgres()) GTEST_SKIP() << "SQLite only";
  EXPECT_TRUE(std::filesystem::exists(dir_ / "data" / "switchboard.db"));  // folder created
  for (auto [pragma, want] :
       std::vector<std::pair<std::string, std::string>>{{"PRAGMA journal_mode", "wal"},
                                                        {"PRAGMA foreign_keys", "1"},
                                                        {"PRAGMA synchronous", "1"},  // NORMAL
                                                        {"PRAGMA busy_timeout", "5000"}}) {
    auto r = db_->queryOne(pragma);
    ASSERT_TRUE(r && *r) << pragma;
    EXPECT_EQ((*r)->text(0), want) << pragma;
  }
}

// Two Database objects on one file stand for two processes (serve and admin): their writers
// meet SQLite's file lock, and busy_timeout makes them wait instead of failing.
TEST_P(DatabaseTest, TwoHandlesOnOneSqliteFileWaitForEachOther) {
  if (postgres()) GTEST_SKIP() << "SQLite only";
  auto second = Database::open(url_);
  ASSERT_TRUE(second) << second.error().reason;
  std::atomic<int> failures{0};
  auto writer = [&](Database& db, const std::string& prefix) {
    for (int i = 0; i < 50; ++i) {
      Status st = db.transaction([&](Tx& tx) -> Status {
        auto n = tx.exec("INSERT INTO kv (k, v) VALUES (?, ?)",
                         {prefix + std::to_string(i), int64_t{i}});
        if (!n) return n.error();
        return {};
      });
      if (!st) {
        ADD_FAILURE() << st.error().reason;
        ++failures;
      }
    }
  };
  std::thread a([&] { writer(*db_, "a"); });
  std::thread b([&] { writer(**second, "b"); });
  a.join();
  b.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(rows(), 100);
}

SB_INSTANTIATE_BACKENDS(DatabaseTest);

}  // namespace
}  // namespace store
