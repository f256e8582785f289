// Replays every input kept in fuzz/regressions/<target>/ (crashers the fuzzers once found)
// through the same invariant checks the fuzz targets run; a regression traps here.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "targets.h"

namespace {

namespace fs = std::filesystem;

size_t replay(const std::string& target, void (*fn)(const uint8_t*, size_t)) {
  fs::path dir = fs::path(SB_SOURCE_DIR) / "fuzz" / "regressions" / target;
  size_t count = 0;
  if (!fs::is_directory(dir)) return 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().filename() == "README.md") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(entry.path().string());
    fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++count;
  }
  return count;
}

struct Target {
  const char* name;
  void (*fn)(const uint8_t*, size_t);
};
constexpr Target kTargets[] = {{"sip", fuzz::sipMessage},  {"uri", fuzz::sipUri},
                               {"sdp", fuzz::sdpDocument}, {"auth", fuzz::authHeader},
                               {"api", fuzz::apiInput},    {"capture", fuzz::captureInput},
                               {"smpp", fuzz::smppInput}};

TEST(FuzzRegressions, SavedCrashers) {
  size_t total = 0;
  for (const Target& t : kTargets) total += replay(t.name, t.fn);
  RecordProperty("inputs", int(total));
  EXPECT_GE(total, 3u);  // the crashers found so far
}

// The seed corpora too: the checks must hold on every well-formed message we ship.
TEST(FuzzRegressions, SeedsPass) {
  for (const Target& t : kTargets) {
    fs::path dir = fs::path(SB_SOURCE_DIR) / "fuzz" / "corpus" / t.name;
    size_t n = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      t.fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      ++n;
    }
    EXPECT_GE(n, 3u) << t.name;
  }
}

}  // namespace
