#include "store/migrations.h"

#include <thread>

#include "backends.h"

namespace store {
namespace {

using testing::BackendTest;

class MigrationsTest : public BackendTest {};

TEST_P(MigrationsTest, OpenAppliesEachMigrationOnceAndReopenAppliesNothing) {
  const int latest = int(builtinMigrations().size());
  {
    auto s = Store::open(url_, StoreOptions{.now_unix = 1234});
    ASSERT_TRUE(s) << s.error().reason;
    const MigrationReport& r = (*s)->migrations();
    EXPECT_EQ(r.from_version, 0);
    EXPECT_EQ(r.to_version, latest);
    ASSERT_EQ(int(r.applied.size()), latest);
    for (int i = 0; i < latest; ++i) EXPECT_EQ(r.applied[size_t(i)], i + 1);
    ASSERT_TRUE((*s)->sipDomains().upsert({"example.com", "", SipDomainMode::kProxy, {}}));

    auto rows = (*s)->database().query(
        "SELECT version, description, applied_at FROM schema_migrations ORDER BY version");
    ASSERT_TRUE(rows) << rows.error().reason;
    ASSERT_EQ(int(rows->size()), latest);
    EXPECT_EQ((*rows)[0].integer(0), 1);
    EXPECT_EQ((*rows)[0].text(1), std::string(builtinMigrations()[0].description));
    EXPECT_EQ((*rows)[0].integer(2), 1234);
  }
  auto again = Store::open(url_);  // a restart
  ASSERT_TRUE(again) << again.error().reason;
  EXPECT_EQ((*again)->migrations().from_version, latest);
  EXPECT_EQ((*again)->migrations().to_version, latest);
  EXPECT_TRUE((*again)->migrations().applied.empty());
  auto count = (*again)->database().queryOne("SELECT COUNT(*) FROM schema_migrations");
  ASSERT_TRUE(count && *count);
  EXPECT_EQ((*count)->integer(0), latest);
  auto kept = (*again)->sipDomains().find("example.com");  // data survives the reopen
  ASSERT_TRUE(kept && *kept);
}

TEST_P(MigrationsTest, DatabaseNewerThanTheBinaryIsRefused) {
  {
    auto s = openStore();
    ASSERT_TRUE(s);
    auto n = s->database().exec(
        "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)",
        {int64_t{99}, std::string("from the future"), int64_t{1}});
    ASSERT_TRUE(n) << n.error().reason;
  }
  auto s = Store::open(url_);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, common::ErrorCode::kUnsupported);
  EXPECT_NE(s.error().reason.find("version 99"), std::string::npos) << s.error().reason;
  EXPECT_NE(s.error().reason.find("newer"), std::string::npos) << s.error().reason;
}

TEST_P(MigrationsTest, FailedMigrationLeavesNothingHalfApplied) {
  auto db = Database::open(url_);
  ASSERT_TRUE(db) << db.error().reason;
  std::vector<Migration> list = {
      {1, "good", "CREATE TABLE good_one (x INTEGER)"},
      {2, "bad half-way",
       "CREATE TABLE half_a (x INTEGER); INSERT INTO half_a VALUES (1);"
       "INSERT INTO no_such_table VALUES (1)"},
  };
  auto r = migrate(**db, list, 1);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().reason.find("migration 2 (bad half-way) failed"), std::string::npos)
      << r.error().reason;
  EXPECT_EQ(*schemaVersion(**db), 1);
  EXPECT_TRUE((*db)->query("SELECT x FROM good_one"));
  EXPECT_FALSE((*db)->query("SELECT x FROM half_a"));  // rolled back with the rest

  list[1].sql = "CREATE TABLE half_a (x INTEGER); INSERT INTO half_a VALUES (1)";  // fixed
  auto fixed = migrate(**db, list, 2);
  ASSERT_TRUE(fixed) << fixed.error().reason;
  EXPECT_EQ(fixed->applied, std::vector<int>{2});
  EXPECT_EQ(fixed->from_version, 1);
  EXPECT_EQ(fixed->to_version, 2);
}

TEST_P(MigrationsTest, EachDialectGetsItsOwnText) {
  auto db = Database::open(url_);
  ASSERT_TRUE(db) << db.error().reason;
  std::vector<Migration> list = {
      {1, "dialects", "CREATE TABLE never (x INTEGER)",
       "CREATE TABLE which (name TEXT); INSERT INTO which VALUES ('sqlite')",
       "CREATE TABLE which (name TEXT); INSERT INTO which VALUES ('postgresql')"},
  };
  ASSERT_TRUE(migrate(**db, list, 1));
  auto row = (*db)->queryOne("SELECT name FROM which");
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->text(0), dialectName((*db)->dialect()));
  EXPECT_FALSE((*db)->query("SELECT x FROM never"));
}

TEST_P(MigrationsTest, VersionsMustBeDense) {
  auto db = Database::open(url_);
  ASSERT_TRUE(db);
  auto r = migrate(**db, {{1, "a", "SELECT 1"}, {3, "c", "SELECT 1"}}, 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, common::ErrorCode::kInternal);
}

// Several nodes (or a node and `switchboard admin`) starting at once on a fresh database:
// each migration is applied by exactly one of them and every open succeeds.
TEST_P(MigrationsTest, ConcurrentOpensApplyEachMigrationOnce) {
  constexpr int kOpeners = 4;
  std::vector<common::Result<std::unique_ptr<Store>>> opened;
  for (int i = 0; i < kOpeners; ++i) opened.emplace_back(common::makeError({}, "not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kOpeners; ++i)
    threads.emplace_back([&, i] { opened[size_t(i)] = Store::open(url_); });
  for (auto& t : threads) t.join();
  size_t applied = 0;
  for (auto& s : opened) {
    ASSERT_TRUE(s) << s.error().reason;
    applied += (*s)->migrations().applied.size();
  }
  EXPECT_EQ(applied, builtinMigrations().size());
  auto count = (*opened[0])->database().queryOne("SELECT COUNT(*) FROM schema_migrations");
  ASSERT_TRUE(count && *count);
  EXPECT_EQ(size_t((*count)->integer(0)), builtinMigrations().size());
}

SB_INSTANTIATE_BACKENDS(MigrationsTest);

TEST(StoreOpenTest, UnknownSchemeIsRefused) {
  auto s = Store::open("mysql://root:hunter2@localhost/x");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, common::ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.error().reason.find("hunter2"), std::string::npos) << s.error().reason;
}

TEST(StoreOpenTest, UnopenableSqlitePathNamesTheUrl) {
  auto s = Store::open("sqlite:/proc/no/such/dir/x.db");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().reason.rfind("store: cannot open sqlite:/proc/no/such/dir/x.db: ", 0), 0u)
      << s.error().reason;
}

TEST(StoreOpenTest, UnreachablePostgresHidesThePassword) {
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  auto s = Store::open("postgresql://sb:s3cret@127.0.0.1:1/sb?connect_timeout=2");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, common::ErrorCode::kIo);
  EXPECT_EQ(s.error().reason.find("s3cret"), std::string::npos) << s.error().reason;
  EXPECT_NE(s.error().reason.find("postgresql://sb:***@127.0.0.1:1/sb"), std::string::npos)
      << s.error().reason;
}

}  // namespace
}  // namespace store
