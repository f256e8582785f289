// Reads files of the shared corpora (../shared/testdata). Tests call GTEST_SKIP when the
// folder is absent, saying so, as the project's rule for optional corpora asks.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

namespace testdata {

inline std::filesystem::path root() {
  return std::filesystem::path(SB_TESTDATA_DIR);
}

inline bool available(const std::string& sub) {
  return std::filesystem::is_directory(root() / sub);
}

inline std::optional<std::string> read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace testdata
