#include "common/key_file.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <vector>

#include "common/private_files.h"
#include "common/strings.h"

namespace common {
namespace {

bool randomBytes(unsigned char* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::getrandom(out + got, n - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    got += size_t(r);
  }
  return true;
}

std::string randomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (!randomBytes(buf.data(), bytes)) return {};
  std::string out;
  appendHex(out, buf.data(), bytes);
  return out;
}

}  // namespace

Result<std::string> readOrCreateKeyFile(const std::string& path_text, size_t random_bytes) {
  const std::filesystem::path path(path_text);
  std::error_code ec;
  // The folder (usually data_dir) is the owner's only, like the key.
  if (path.has_parent_path()) {
    if (auto st = createPrivateDirectories(path.parent_path().string()); !st) return st.error();
  }
  if (!std::filesystem::exists(path, ec)) {
    const std::string salt = randomHex(4);
    const std::string hex = randomHex(random_bytes);
    if (salt.empty() || hex.empty())
      return makeError(ErrorCode::kIo, "no random source to make " + path.string());
    const std::filesystem::path tmp =
        path.string() + ".tmp." + std::to_string(::getpid()) + "." + salt;
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return makeError(ErrorCode::kIo, "cannot create " + tmp.string());
    const std::string line = hex + "\n";
    bool ok = ::write(fd, line.data(), line.size()) == ssize_t(line.size()) && ::fsync(fd) == 0;
    ::close(fd);
    // link() fails when another process got there first: theirs is kept.
    if (ok && ::link(tmp.c_str(), path.c_str()) != 0 && errno != EEXIST) ok = false;
    std::filesystem::remove(tmp, ec);
    if (!ok) return makeError(ErrorCode::kIo, "cannot write " + path.string());
  }
  std::ifstream in(path);
  std::string text;
  if (!in || !std::getline(in, text))
    return makeError(ErrorCode::kIo, "cannot read " + path.string());
  return std::string(trimLws(text));
}

}  // namespace common
