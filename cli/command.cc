#include "cli/command.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>

#include "base/fs.h"

namespace streamctl::cli {

namespace {

// Writes the whole string to stderr with one write(2) so lines from concurrent processes do not interleave.
void write_stderr(const std::string& text) {
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += n;
    left -= size_t(n);
  }
}

std::string colored(std::string_view text, const char* sgr, bool color) {
  if (!color) return std::string(text);
  std::string out = "\x1b[";
  out += sgr;
  out += 'm';
  out += text;
  out += "\x1b[0m";
  return out;
}

// Messages of errors writing the command's own output (stdout): their hints are about the output, not the
// data directory.
bool is_output_error(const Error& error) {
  return error.message.rfind("cannot write the output", 0) == 0 || error.message.rfind("cannot write to stdout", 0) == 0;
}

const char* default_hint(const Error& error) {
  if (is_output_error(error)) {
    return error.code == ErrorCode::kNoSpace
               ? "the file system the output goes to is full: free space there, or send the output elsewhere"
               : "check where the output goes (a closed pipe, a full or read-only file system)";
  }
  switch (error.code) {
    case ErrorCode::kPermissionDenied:
      return "check the permissions of the data directory, or choose another with --data-dir";
    case ErrorCode::kNoSpace:
      return "free disk space, or lower retention: streamctl topic alter <topic> --config retention.bytes=N";
    case ErrorCode::kBusy:
      return "another process holds the lock; retry when it is done";
    case ErrorCode::kCorruption:
      return "check the partition with: streamctl log verify <topic>";
    case ErrorCode::kRecordTooLarge:
      return "raise the topic's limit: streamctl topic alter <topic> --config max.message.bytes=N";
    default:
      return "";
  }
}

std::atomic<int> g_stop_signal{0};
int g_stop_pipe[2] = {-1, -1};

void on_stop_signal(int sig) {
  int saved = errno;
  int expected = 0;
  g_stop_signal.compare_exchange_strong(expected, sig);
  if (g_stop_pipe[1] >= 0) {
    char c = 1;
    [[maybe_unused]] ssize_t n = ::write(g_stop_pipe[1], &c, 1);
  }
  errno = saved;
}

}  // namespace

ExitCode exit_code_for(streamctl::ErrorCode code) {
  switch (code) {
    case streamctl::ErrorCode::kOk: return ExitCode::kOk;
    case streamctl::ErrorCode::kNotFound: return ExitCode::kNotFound;
    case streamctl::ErrorCode::kInvalidArgument: return ExitCode::kUsage;
    default: return ExitCode::kError;
  }
}

int report_error(const Error& error, std::string_view hint) {
  bool color = color_enabled(STDERR_FILENO);
  std::string text = "streamctl: " + colored("error:", "1;31", color) + " " + error.message + "\n";
  std::string_view h = hint.empty() ? std::string_view(default_hint(error)) : hint;
  if (!h.empty()) text += colored("hint:", "36", color) + " " + std::string(h) + "\n";
  write_stderr(text);
  return to_int(exit_code_for(error.code));
}

int report_usage_error(std::string_view message, std::string_view hint) {
  std::string h(hint);
  if (h.empty()) h = "see 'streamctl --help' or 'streamctl COMMAND --help'";
  return report_error(Error::invalid_argument(std::string(message)), h);
}

void warn(const GlobalOptions& global, std::string_view message) {
  if (global.quiet()) return;
  bool color = color_enabled(STDERR_FILENO);
  write_stderr("streamctl: " + colored("warning:", "1;33", color) + " " + std::string(message) + "\n");
}

void info(const GlobalOptions& global, std::string_view message) {
  if (global.quiet()) return;
  write_stderr("streamctl: " + std::string(message) + "\n");
}

void debug(const GlobalOptions& global, int level, std::string_view message) {
  if (global.verbosity < level) return;
  write_stderr("streamctl: " + std::string(message) + "\n");
}

bool is_tty(int fd) { return ::isatty(fd) == 1; }

bool color_enabled(int fd) {
  if (!is_tty(fd)) return false;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && no_color[0] != '\0') return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::strcmp(term, "dumb") == 0) return false;
  return true;
}

void install_signal_handlers() {
  if (g_stop_pipe[0] < 0) {
    if (::pipe2(g_stop_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
      g_stop_pipe[0] = g_stop_pipe[1] = -1;
    }
  }
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking reads and poll() return EINTR so loops notice the flag
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  struct sigaction ign;
  std::memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  ::sigaction(SIGPIPE, &ign, nullptr);
}

bool stop_requested() { return g_stop_signal.load(std::memory_order_relaxed) != 0; }

int stop_signal() { return g_stop_signal.load(std::memory_order_relaxed); }

int stop_fd() { return g_stop_pipe[0]; }

void request_stop(int signal_number) { on_stop_signal(signal_number); }

void tune_allocator_for_streaming() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

std::string default_data_dir() {
  const char* env = std::getenv("STREAMCTL_DATA_DIR");
  if (env != nullptr && env[0] != '\0') return env;
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/streamctl";
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') return std::string(home) + "/.local/share/streamctl";
  return "./streamctl-data";
}

std::string resolve_data_dir(const GlobalOptions& global) {
  return global.data_dir.empty() ? default_data_dir() : global.data_dir;
}

bool data_dir_chosen(const GlobalOptions& global) { return !global.data_dir.empty(); }

Error missing_data_dir(const GlobalOptions& global) {
  return Error::not_found("no data directory at " + resolve_data_dir(global) +
                                  " (nothing has been produced there yet)");
}

Result<std::unique_ptr<engine::LogManager>> open_data_dir(const GlobalOptions& global,
                                                                 bool create_if_missing) {
  std::string dir = resolve_data_dir(global);
  FileSystem* fs = posix_file_system();
  auto exists = fs->exists(dir);
  if (!exists.ok()) return std::move(exists).error();
  if (*exists) {
    struct stat st;
    if (::stat(dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
      return Error::invalid_argument("data directory " + dir + " exists but is not a directory");
    }
  }
  if (!*exists && !create_if_missing) return missing_data_dir(global);
  engine::LogManagerOptions options;
  options.data_dir = dir;
  options.fs = fs;
  options.clock = system_clock();
  options.create_if_missing = create_if_missing;
  auto manager = engine::LogManager::open(options);
  if (!manager.ok()) {
    Error e = std::move(manager).error();
    if (e.message.find(dir) == std::string::npos) e.message = "data directory " + dir + ": " + e.message;
    return e;
  }
  if (!*exists) info(global, "created data directory " + dir);
  return manager;
}

Status write_stdout(std::string_view text) {
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) return ok_status();
      return Error::from_errno(errno, "cannot write to stdout");
    }
    p += n;
    left -= size_t(n);
  }
  return ok_status();
}

std::string human_bytes(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = double(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 5) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, kUnits[unit]);
  return buf;
}

std::string format_table(const std::vector<std::vector<std::string>>& rows, bool color) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (size_t i = 0; i < rows[r].size(); ++i) {
      line += rows[r][i];
      if (i + 1 < rows[r].size()) line.append(widths[i] - rows[r][i].size() + 2, ' ');
    }
    if (r == 0 && color) line = "\x1b[1m" + line + "\x1b[0m";
    out += line;
    out += '\n';
  }
  return out;
}

Result<std::pair<std::string, std::string>> parse_key_value(std::string_view text,
                                                                    std::string_view what) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return Error::invalid_argument(std::string(what) + " expects name=value, got '" +
                                           std::string(text) + "'");
  }
  return std::pair<std::string, std::string>(std::string(text.substr(0, eq)),
                                             std::string(text.substr(eq + 1)));
}

Result<std::map<std::string, std::string>> parse_properties(const GlobalOptions& global) {
  std::map<std::string, std::string> out;
  for (const auto& p : global.properties) {
    auto kv = parse_key_value(p, "-X");
    if (!kv.ok()) return std::move(kv).error();
    out[kv->first] = kv->second;
  }
  return out;
}

Result<std::string> unescape(std::string_view text, std::string_view what) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (i + 1 >= text.size()) {
      return Error::invalid_argument(std::string(what) + ": trailing backslash in '" +
                                             std::string(text) + "'");
    }
    char e = text[++i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case '0': out += '\0'; break;
      case '\\': out += '\\'; break;
      case 'x': {
        auto hex = [](char h) -> int {
          if (h >= '0' && h <= '9') return h - '0';
          if (h >= 'a' && h <= 'f') return h - 'a' + 10;
          if (h >= 'A' && h <= 'F') return h - 'A' + 10;
          return -1;
        };
        int hi = i + 1 < text.size() ? hex(text[i + 1]) : -1;
        int lo = i + 2 < text.size() ? hex(text[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
          return Error::invalid_argument(std::string(what) + ": \\x needs two hex digits in '" +
                                                 std::string(text) + "'");
        }
        out += char(hi * 16 + lo);
        i += 2;
        break;
      }
      default:
        return Error::invalid_argument(std::string(what) + ": unknown escape '\\" +
                                               std::string(1, e) + "' in '" + std::string(text) +
                                               "' (known: \\n \\r \\t \\0 \\\\ \\xHH)");
    }
  }
  return out;
}

}  // namespace streamctl::cli
