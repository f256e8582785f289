// A secret kept in a file of the data folder (the API's master key, the SIP edge's HMAC key):
// read when it exists, else made from the system's random source and written with mode 0600.
// The file is written whole under a temporary name and linked into place, so two processes
// starting together agree on one key and no reader ever sees half of one.
//
//   auto hex = common::readOrCreateKeyFile(data_dir + "/sip.key", 32);  // 64 hex digits
#pragma once

#include <cstddef>
#include <string>

#include "common/result.h"

namespace common {

// The first line of `path`, trimmed; when the file does not exist, `random_bytes` random bytes
// are written there first as lower-case hex. The folder is created when missing.
Result<std::string> readOrCreateKeyFile(const std::string& path, size_t random_bytes);

}  // namespace common
