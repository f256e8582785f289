#include "common/private_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace common {
namespace {

std::string octal(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

// PATH as a shell word, for a command the operator can paste.
std::string shellQuoted(const std::string& path) {
  bool plain = !path.empty();
  for (char c : path) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '_' ||
          c == '-' || c == '+' || c == ':' || c == '@' || c == ','))
      plain = false;
  }
  if (plain) return path;
  std::string out = "'";
  for (char c : path) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

Status createPrivateDirectories(const std::string& path) {
  if (path.empty()) return {};
  std::filesystem::path p = std::filesystem::path(path).lexically_normal();
  // From the top down, so each folder made here is made by mkdir with its final mode.
  std::filesystem::path partial;
  for (const auto& part : p) {
    partial /= part;
    if (part.empty() || part == "/" || part == "." || part == "..") continue;
    if (::mkdir(partial.c_str(), 0700) == 0 || errno == EEXIST) {
      struct stat st;
      if (::stat(partial.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
      return makeError(ErrorCode::kIo, "cannot create " + partial.string() + ": not a folder");
    }
    return makeError(ErrorCode::kIo,
                     "cannot create " + partial.string() + ": " + std::strerror(errno));
  }
  return {};
}

Status createPrivateFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0) {
    ::close(fd);
    return {};
  }
  if (errno == EEXIST) return {};
  return makeError(ErrorCode::kIo, "cannot create " + path + ": " + std::strerror(errno));
}

Status checkPrivate(const std::string& path, std::string_view what) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return makeError(ErrorCode::kIo, "cannot inspect " + std::string(what) + " \"" + path +
                                         "\": " + std::strerror(errno));
  }
  if ((st.st_mode & 077) == 0) return {};
  bool dir = S_ISDIR(st.st_mode);
  std::string want = dir ? "0700" : "0600";
  return makeError(ErrorCode::kInvalidArgument,
                   std::string(what) + " \"" + path + "\" has invalid permissions (" +
                       octal(st.st_mode) +
                       "): group or others can reach it. Permissions should be " +
                       (dir ? "u=rwx (0700)" : "u=rw (0600)") + "; run: chmod " + want + " " +
                       shellQuoted(path));
}

Status preparePrivateDirectory(const std::string& path, std::string_view what) {
  if (auto st = checkPrivate(path, what); !st) return st;
  if (auto st = createPrivateDirectories(path); !st)
    return makeError(ErrorCode::kIo, std::string(what) + ": " + st.error().reason);
  return {};
}

}  // namespace common
