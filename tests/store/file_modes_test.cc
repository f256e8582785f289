// The SQLite store's files are the owner's only from the moment they exist: the folders made
// for it 0700, the database and its -wal and -shm files 0600, whatever the umask; an existing
// database file that group or others can reach is refused with the chmod that fixes it.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "store/db.h"

namespace store {
namespace {

namespace fs = std::filesystem;

unsigned modeOf(const fs::path& p) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return 0xFFFF;
  return st.st_mode & 0777;
}

class FileModesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    old_umask_ = ::umask(022);  // the common default that made 0755 and 0644
    dir_ = fs::temp_directory_path() / ("sb_file_modes_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override {
    ::umask(old_umask_);
    fs::remove_all(dir_);
  }
  mode_t old_umask_ = 0;
  fs::path dir_;
};

TEST_F(FileModesTest, FoldersAndEveryDatabaseFileAreOwnerOnly) {
  fs::path db_path = dir_ / "a" / "data" / "switchboard.db";
  auto db = Database::open("sqlite:" + db_path.string());
  ASSERT_TRUE(db) << db.error().reason;
  ASSERT_TRUE((*db)->exec("CREATE TABLE t (v INTEGER)"));
  ASSERT_TRUE((*db)->exec("INSERT INTO t VALUES (1)"));
  EXPECT_EQ(modeOf(dir_), 0700u);
  EXPECT_EQ(modeOf(dir_ / "a"), 0700u);
  EXPECT_EQ(modeOf(dir_ / "a" / "data"), 0700u);
  EXPECT_EQ(modeOf(db_path), 0600u);
  ASSERT_TRUE(fs::exists(db_path.string() + "-wal"));
  ASSERT_TRUE(fs::exists(db_path.string() + "-shm"));
  EXPECT_EQ(modeOf(db_path.string() + "-wal"), 0600u);
  EXPECT_EQ(modeOf(db_path.string() + "-shm"), 0600u);
}

TEST_F(FileModesTest, AnExistingFolderIsLeftAsItIs) {
  fs::create_directories(dir_);
  fs::permissions(dir_, fs::perms(0755));
  auto db = Database::open("sqlite:" + (dir_ / "x.db").string());
  ASSERT_TRUE(db) << db.error().reason;
  EXPECT_EQ(modeOf(dir_), 0755u);  // checking data_dir is serve's, the store's parent may be any
  EXPECT_EQ(modeOf(dir_ / "x.db"), 0600u);
}

TEST_F(FileModesTest, ADatabaseFileOthersCanReadIsRefusedWithTheChmod) {
  fs::path db_path = dir_ / "switchboard.db";
  {
    auto db = Database::open("sqlite:" + db_path.string());
    ASSERT_TRUE(db) << db.error().reason;
    ASSERT_TRUE((*db)->exec("CREATE TABLE t (v INTEGER)"));
  }
  for (std::string suffix : {"", "-wal", "-shm", "-journal"}) {
    std::string f = db_path.string() + suffix;
    if (!fs::exists(f)) std::ofstream(f).flush();  // an old journal left by an older version
    fs::permissions(f, fs::perms(0644));
    auto db = Database::open("sqlite:" + db_path.string());
    ASSERT_FALSE(db) << suffix;
    EXPECT_NE(db.error().reason.find("has invalid permissions (0644)"), std::string::npos)
        << db.error().reason;
    EXPECT_NE(db.error().reason.find("run: chmod 0600 " + f), std::string::npos)
        << db.error().reason;
    fs::permissions(f, fs::perms(0600));
    if (suffix == "-journal") fs::remove(f);
  }
  // Group write alone is refused too.
  fs::permissions(db_path, fs::perms(0620));
  EXPECT_FALSE(Database::open("sqlite:" + db_path.string()));
  fs::permissions(db_path, fs::perms(0600));
  EXPECT_TRUE(Database::open("sqlite:" + db_path.string()));
}

}  // namespace
}  // namespace store
