#include "base/logging.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace streamctl {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    case LogLevel::kOff: return "off";
  }
  return "info";
}

bool is_bare_char(unsigned char c) {
  return c > 0x20 && c < 0x7f && c != '"' && c != '=' && c != '\\';
}

std::string utc_timestamp() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

bool parse_log_level(std::string_view text, LogLevel* out) {
  static constexpr LogLevel kAll[] = {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError,
                                      LogLevel::kOff};
  for (LogLevel l : kAll) {
    if (text == level_name(l)) {
      *out = l;
      return true;
    }
  }
  return false;
}

void set_log_level(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel log_level() { return static_cast<LogLevel>(g_level.load()); }
bool log_enabled(LogLevel level) {
  return level != LogLevel::kOff && static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

std::string logfmt_value(std::string_view value) {
  bool bare = !value.empty();
  for (unsigned char c : value) {
    if (!is_bare_char(c)) {
      bare = false;
      break;
    }
  }
  if (bare) return std::string(value);
  std::string out;
  out.reserve(value.size() + 2);
  out.push_back('"');
  for (unsigned char c : value) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
  return out;
}

LogLine::LogLine(LogLevel level, std::string_view msg) : enabled_(log_enabled(level)) {
  if (!enabled_) return;
  line_.reserve(128);
  line_ += "ts=";
  line_ += utc_timestamp();
  line_ += " level=";
  line_ += level_name(level);
  line_ += " msg=";
  // msg is always quoted, as in the examples of the spec: msg="..."
  std::string v = logfmt_value(msg);
  if (v.empty() || v.front() != '"') v = "\"" + v + "\"";
  line_ += v;
}

LogLine::~LogLine() {
  if (!enabled_) return;
  line_.push_back('\n');
  std::fwrite(line_.data(), 1, line_.size(), stderr);
  std::fflush(stderr);
}

LogLine& LogLine::kv(std::string_view key, std::string_view value) {
  if (enabled_) append_raw(key, logfmt_value(value));
  return *this;
}

LogLine& LogLine::kv(std::string_view key, double value) {
  if (enabled_) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", value);
    append_raw(key, buf);
  }
  return *this;
}

void LogLine::append_raw(std::string_view key, std::string_view value) {
  line_.push_back(' ');
  line_.append(key);
  line_.push_back('=');
  line_.append(value);
}

}  // namespace streamctl
