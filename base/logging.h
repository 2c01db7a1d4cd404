// Structured log lines for the server, one line per event on stderr, logfmt style:
//
//   ts=2024-05-01T12:00:00.123Z level=info msg="listening" addr=127.0.0.1:9092 node_id=0
//
// Values that contain spaces, quotes, '=' or control bytes are quoted and escaped, so every line splits
// unambiguously into key=value pairs (grep/awk friendly; the e2e tests parse them). A line is built in
// memory and written with one fwrite, so lines from different threads never interleave.
// Usage: `log_info("listening").kv("addr", addr).kv("port", port);` (the line is written when the
// temporary is destroyed). Thread-safe; the level threshold is process-wide.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace streamctl {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

// "debug" | "info" | "warn" | "error" | "off"; false for anything else.
bool parse_log_level(std::string_view text, LogLevel* out);
void set_log_level(LogLevel level);
LogLevel log_level();
bool log_enabled(LogLevel level);

// One log line under construction. Written (with a trailing newline) when destroyed, if its level is
// enabled. Copy is forbidden; construct it as a temporary through log_info() & co.
class LogLine {
 public:
  LogLine(LogLevel level, std::string_view msg);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  LogLine& kv(std::string_view key, std::string_view value);
  LogLine& kv(std::string_view key, const std::string& value) { return kv(key, std::string_view(value)); }
  LogLine& kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
  LogLine& kv(std::string_view key, bool value) { return kv(key, std::string_view(value ? "true" : "false")); }
  template <typename T>
    requires std::is_integral_v<T>
  LogLine& kv(std::string_view key, T value) {
    if (enabled_) append_raw(key, std::to_string(value));
    return *this;
  }
  LogLine& kv(std::string_view key, double value);

 private:
  void append_raw(std::string_view key, std::string_view value);
  bool enabled_;
  std::string line_;
};

inline LogLine log_debug(std::string_view msg) { return LogLine(LogLevel::kDebug, msg); }
inline LogLine log_info(std::string_view msg) { return LogLine(LogLevel::kInfo, msg); }
inline LogLine log_warn(std::string_view msg) { return LogLine(LogLevel::kWarn, msg); }
inline LogLine log_error(std::string_view msg) { return LogLine(LogLevel::kError, msg); }

// The logfmt form of one value: bare when it is a non-empty run of safe characters, else quoted with
// \" \\ \n \r \t and \xHH escapes. Exposed for tests.
std::string logfmt_value(std::string_view value);

}  // namespace streamctl
