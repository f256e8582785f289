#include "common/private_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace common {
namespace {

namespace fs = std::filesystem;

unsigned modeOf(const fs::path& p) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return 0xFFFF;
  return st.st_mode & 0777;
}

class PrivateFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    old_umask_ = ::umask(022);
    dir_ = fs::temp_directory_path() / ("sb_private_files_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override {
    ::umask(old_umask_);
    fs::remove_all(dir_);
  }
  mode_t old_umask_ = 0;
  fs::path dir_;
};

TEST_F(PrivateFilesTest, DirectoriesAndFilesAreMadeOwnerOnly) {
  ASSERT_TRUE(createPrivateDirectories((dir_ / "a" / "b").string()));
  EXPECT_EQ(modeOf(dir_), 0700u);
  EXPECT_EQ(modeOf(dir_ / "a"), 0700u);
  EXPECT_EQ(modeOf(dir_ / "a" / "b"), 0700u);
  ASSERT_TRUE(createPrivateFile((dir_ / "a" / "f").string()));
  EXPECT_EQ(modeOf(dir_ / "a" / "f"), 0600u);
  // An existing file is left alone, and so is an existing folder.
  fs::permissions(dir_ / "a" / "f", fs::perms(0640));
  EXPECT_TRUE(createPrivateFile((dir_ / "a" / "f").string()));
  EXPECT_EQ(modeOf(dir_ / "a" / "f"), 0640u);
  fs::permissions(dir_ / "a", fs::perms(0750));
  EXPECT_TRUE(createPrivateDirectories((dir_ / "a" / "b").string()));
  EXPECT_EQ(modeOf(dir_ / "a"), 0750u);
}

TEST_F(PrivateFilesTest, WhatOthersCanReachIsRefusedWithTheChmod) {
  EXPECT_TRUE(checkPrivate((dir_ / "missing").string(), "data directory"));
  fs::path data = dir_ / "my data";
  ASSERT_TRUE(preparePrivateDirectory(data.string(), "data directory"));
  EXPECT_EQ(modeOf(data), 0700u);
  EXPECT_TRUE(checkPrivate(data.string(), "data directory"));
  fs::permissions(data, fs::perms(0755));
  auto st = preparePrivateDirectory(data.string(), "data directory");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().reason, "data directory \"" + data.string() +
                                   "\" has invalid permissions (0755): group or others can reach "
                                   "it. Permissions should be u=rwx (0700); run: chmod 0700 '" +
                                   data.string() + "'");
  fs::permissions(data, fs::perms(0701));  // even search only
  EXPECT_FALSE(checkPrivate(data.string(), "data directory"));
  fs::permissions(data, fs::perms(0700));
  ASSERT_TRUE(createPrivateFile((data / "x.db").string()));
  fs::permissions(data / "x.db", fs::perms(0604));
  st = checkPrivate((data / "x.db").string(), "database file");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().reason.find("(0604)"), std::string::npos) << st.error().reason;
  EXPECT_NE(
      st.error().reason.find("u=rw (0600); run: chmod 0600 '" + (data / "x.db").string() + "'"),
      std::string::npos)
      << st.error().reason;
}

}  // namespace
}  // namespace common
