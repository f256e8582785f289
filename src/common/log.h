// A small thread-safe logger: one line per record on stderr, as text or JSON, with a UTC
// ISO 8601 timestamp. The level check is inline, so a disabled debug line costs a compare.
//
//   common::log::setup("info", "text");
//   SB_LOG(kInfo, "serve: listening on " + addr);
#pragma once

#include <string>
#include <string_view>

namespace common::log {

enum class Level { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };

// Parses "trace" ... "off"; unknown text gives kInfo.
Level levelFromName(std::string_view name);
void setup(std::string_view level, std::string_view format);

extern Level g_level;
inline bool enabled(Level l) {
  return l >= g_level && g_level != Level::kOff;
}
void write(Level l, std::string_view message);

}  // namespace common::log

#define SB_LOG(level, message)                                      \
  do {                                                              \
    if (::common::log::enabled(::common::log::Level::level))        \
      ::common::log::write(::common::log::Level::level, (message)); \
  } while (0)
