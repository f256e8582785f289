#include "common/log.h"

#include <chrono>
#include <ctime>
#include <mutex>
#include <string>

namespace common::log {

namespace internal {
std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};
}

namespace {

std::atomic<bool> g_json{false};
std::mutex g_mutex;          // one record at a time, and guards g_out
std::FILE* g_out = nullptr;  // nullptr = stderr (not a constant initializer)

// Appends `s` with what would break the line format escaped: JSON string rules, which also
// keep a text record on one line.
void appendEscaped(std::string& out, std::string_view s, bool json) {
  for (char c : s) {
    switch (c) {
      case '"':
        out += json ? "\\\"" : "\"";
        break;
      case '\\':
        out += json ? "\\\\" : "\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += json ? "\\t" : "\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c) & 0xffu);
          out += buf;
        } else {
          out += c;
        }
    }
  }
}

// 2025-01-31T09:00:00.123Z
std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) %
            std::chrono::seconds(1);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];  // room for any int the compiler imagines in each field
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count()));
  return buf;
}

}  // namespace

std::optional<Level> parseLevel(std::string_view name) {
  for (Level l :
       {Level::kTrace, Level::kDebug, Level::kInfo, Level::kWarn, Level::kError, Level::kOff}) {
    if (name == levelName(l)) return l;
  }
  return std::nullopt;
}

std::optional<Format> parseFormat(std::string_view name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  return std::nullopt;
}

const char* levelName(Level level) {
  switch (level) {
    case Level::kTrace:
      return "trace";
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kOff:
      return "off";
  }
  return "info";
}

void setup(Level level, Format format) {
  internal::g_min_level.store(static_cast<int>(level), std::memory_order_relaxed);
  g_json.store(format == Format::kJson, std::memory_order_relaxed);
}

void setOutput(std::FILE* out) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_out = out;
}

void write(Level level, std::string_view message) {
  if (level == Level::kOff) return;
  bool json = g_json.load(std::memory_order_relaxed);
  std::string line;
  line.reserve(message.size() + 64);
  if (json) {
    line += "{\"ts\":\"";
    line += timestamp();
    line += "\",\"level\":\"";
    line += levelName(level);
    line += "\",\"msg\":\"";
    appendEscaped(line, message, true);
    line += "\"}\n";
  } else {
    line += timestamp();
    line += ' ';
    line += levelName(level);
    line += ' ';
    appendEscaped(line, message, false);
    line += '\n';
  }
  std::lock_guard<std::mutex> lock(g_mutex);
  std::FILE* out = g_out ? g_out : stderr;
  std::fwrite(line.data(), 1, line.size(), out);
  std::fflush(out);
}

}  // namespace common::log
