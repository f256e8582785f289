// Folders and files that only their owner may reach: the data directory and the SQLite
// database (SIP HA1s, message bodies, the audit log) and key files. They are created with
// their final mode (0700, 0600) rather than chmod'ed afterwards, so there is no moment when
// another local user can open them; an existing one that group or others can reach is
// refused with the chmod that fixes it, as PostgreSQL refuses its data directory.
//
//   if (auto st = common::preparePrivateDirectory(dir, "data directory"); !st) return st;
//   if (auto st = common::createPrivateFile(dir + "/switchboard.db"); !st) return st;
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace common {

// Creates PATH and each missing folder above it with mode 0700; folders that already exist
// are left as they are.
Status createPrivateDirectories(const std::string& path);

// Creates PATH empty with mode 0600 unless it exists (then it is left as it is).
Status createPrivateFile(const std::string& path);

// Fails when PATH exists and group or others have any permission on it, with a message that
// names `what` ("data directory", "database file") and the chmod to run. A missing PATH passes.
Status checkPrivate(const std::string& path, std::string_view what);

// checkPrivate(path, what), then createPrivateDirectories(path): a data directory at start.
Status preparePrivateDirectory(const std::string& path, std::string_view what);

}  // namespace common
