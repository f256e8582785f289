// A small thread-safe logger: one record per line on stderr, as text or JSON, stamped with
// UTC ISO 8601 time. SB_LOG checks the level before the message expression is evaluated, so
// a disabled debug line costs one relaxed atomic load and builds no string.
//
//   common::log::setup(common::log::Level::kInfo, common::log::Format::kText);
//   SB_LOG(kDebug, "sip: " + std::to_string(n) + " messages parsed");
//   // 2025-01-31T09:00:00.123Z debug sip: 12 messages parsed
#pragma once

#include <atomic>
#include <cstdio>
#include <optional>
#include <string_view>

namespace common::log {

enum class Level { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };
enum class Format { kText, kJson };

// "trace" ... "off" and "text" | "json" (the log.level and log.format config values).
std::optional<Level> parseLevel(std::string_view name);
std::optional<Format> parseFormat(std::string_view name);
const char* levelName(Level level);

// Records below `level` are skipped. Callable from any thread at any time.
void setup(Level level, Format format);
// Where records go: stderr unless a test points them elsewhere. The FILE is not owned.
void setOutput(std::FILE* out);

namespace internal {
extern std::atomic<int> g_min_level;
}

inline bool enabled(Level level) {
  return static_cast<int>(level) >= internal::g_min_level.load(std::memory_order_relaxed);
}

// Writes one record, whatever the level; SB_LOG is the way in. Control characters in the
// message are escaped, so text from the network cannot forge a second line.
void write(Level level, std::string_view message);

}  // namespace common::log

// SB_LOG(kWarn, "edge: " + reason): `message` is evaluated only when kWarn is enabled.
#define SB_LOG(level, message)                                      \
  do {                                                              \
    if (::common::log::enabled(::common::log::Level::level))        \
      ::common::log::write(::common::log::Level::level, (message)); \
  } while (0)
