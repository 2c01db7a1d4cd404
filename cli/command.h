// Shared pieces of the streamctl command line: global options, exit codes, error reporting, terminal
// detection, signal handling and opening the data directory.
//
// How a command plugs in: cli/<name>_cmd.cc defines `void register_<name>_command(CLI::App&, CommandContext&)`,
// declared below and called from cli/main.cc. It adds a subcommand whose parse callback stores the work in
// `ctx.run` (a std::function<int()> returning an exit code); main() runs it after parsing succeeded, so CLI11
// exceptions never meet command code. Commands print records to stdout only; every diagnostic goes to
// stderr through report_error / warn / info below. Thread-safety: call these from the main thread (produce
// and consume run helper threads internally, which block SIGINT/SIGTERM so signals reach the main thread);
// the stop flag is async-signal-safe and may be read from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/log_manager.h"
#include "base/result.h"

namespace CLI {
class App;
}

namespace streamctl::cli {

// Exit codes, documented in `streamctl --help` and man/streamctl.1. Stable: scripts test them.
enum class ExitCode : int {
  kOk = 0,               // success
  kError = 1,            // runtime error: I/O, corruption, lock held, already exists, ...
  kUsage = 2,            // bad command line or bad input: unknown flag, bad offset spec, bad config, bad name
  kNotFound = 3,         // topic, partition, group or input file does not exist
  kPartial = 4,          // partial failure: some work was done (and is durable) before an error stopped it
  kNothingConsumed = 5,  // consume ended without writing any record (like grep's "no match")
  kInterrupted = 130,    // stopped by SIGINT/SIGTERM before the input was exhausted (128 + SIGINT)
};
inline int to_int(ExitCode c) { return static_cast<int>(c); }

// Flags accepted before or after any subcommand.
struct GlobalOptions {
  std::string data_dir;                 // --data-dir; empty = STREAMCTL_DATA_DIR or the XDG default
  std::string brokers;                  // --brokers host:port[,...]; empty = STREAMCTL_BROKERS / --profile / embedded
  std::string profile;                  // --profile NAME: a section of the config file (cli/client_config.h)
  std::vector<std::string> properties;  // -X key=value, as given (see parse_properties)
  int verbosity = 0;                    // -q: -1, default 0, -v: 1, -vv: 2
  bool json = false;                    // --json: JSON lines in (produce) and out (everything else)

  bool quiet() const { return verbosity < 0; }
  bool verbose() const { return verbosity > 0; }
};

// What main() runs once parsing succeeded; set by the selected subcommand's parse callback.
using CommandAction = std::function<int()>;

struct ConsumeOptions;  // cli/consume_cmd.h

// Lets group mode take over `streamctl consume`: register_group_command (registered after consume) finds
// the subcommand with app.get_subcommand("consume"), adds its own flags (--group, --state-file, ...) and sets
// this. consume calls it first; a returned exit code means it handled the invocation, std::nullopt means
// plain consume runs.
using ConsumeTakeover = std::function<std::optional<int>(const ConsumeOptions&, const GlobalOptions&)>;

struct CommandContext {
  GlobalOptions global;
  CommandAction run;
  ConsumeTakeover consume_takeover;
};

// One per command file (cli/<name>_cmd.cc). Each adds its subcommand to `app` and sets ctx.run from the
// subcommand's callback. The options it binds must live as long as `app` (use a shared_ptr captured in
// the callback, or a static-storage-free struct owned by the lambda).
void register_topic_command(CLI::App& app, CommandContext& ctx);
void register_produce_command(CLI::App& app, CommandContext& ctx);
void register_consume_command(CLI::App& app, CommandContext& ctx);
void register_group_command(CLI::App& app, CommandContext& ctx);  // cli/group_cmd.cc
void register_log_command(CLI::App& app, CommandContext& ctx);    // cli/log_cmd.cc
void register_serve_command(CLI::App& app, CommandContext& ctx);  // cli/serve_cmd.cc
void register_cluster_command(CLI::App& app, CommandContext& ctx);  // cli/cluster_cmd.cc
void register_user_command(CLI::App& app, CommandContext& ctx);     // cli/user_cmd.cc
void register_acl_command(CLI::App& app, CommandContext& ctx);      // cli/acl_cmd.cc

// ---- errors and diagnostics (all on stderr)

// The exit code an engine error maps to: kNotFound -> 3, kInvalidArgument -> 2, everything else -> 1.
ExitCode exit_code_for(streamctl::ErrorCode code);

// Prints "streamctl: error: <message>" and, on the next line, "hint: <hint>" (the given hint, or a default
// one for the error's code when `hint` is empty; none when there is nothing useful to say). Returns the
// exit code for the error, so commands can `return report_error(r.error());`.
int report_error(const Error& error, std::string_view hint = {});
// Same, for a usage mistake found after parsing (conflicting flags, bad values). Returns 2.
int report_usage_error(std::string_view message, std::string_view hint = {});
// "streamctl: warning: <message>" unless quiet.
void warn(const GlobalOptions& global, std::string_view message);
// "streamctl: <message>" (an informational note, e.g. "created topic 'x'") unless quiet.
void info(const GlobalOptions& global, std::string_view message);
// Printed only with -v (level 1) or -vv (level 2).
void debug(const GlobalOptions& global, int level, std::string_view message);

// ---- terminal

// isatty(fd).
bool is_tty(int fd);
// Colour on fd: a terminal, NO_COLOR unset or empty, TERM not "dumb".
bool color_enabled(int fd);

// ---- signals
//
// install_signal_handlers(): SIGINT and SIGTERM set the stop flag and wake stop_fd(); SIGPIPE is ignored,
// so a write to a closed pipe fails with EPIPE and the command stops cleanly (committing what was written).
void install_signal_handlers();
// True once SIGINT or SIGTERM arrived.
bool stop_requested();
// The signal that asked to stop (0 if none).
int stop_signal();
// A descriptor that becomes readable when a stop is requested (for poll()); -1 before installation.
int stop_fd();
// Asks to stop as if a signal arrived (tests, and commands that hit a fatal condition in a loop).
void request_stop(int signal_number);

// ---- process tuning

// Keeps freed large buffers (1 MiB read and batch buffers) in the heap instead of returning them to the OS
// and faulting them in again on the next read: raises glibc's mmap and trim thresholds. Streaming commands
// (produce, consume) call it once at start.
void tune_allocator_for_streaming();

// ---- data directory

// ${STREAMCTL_DATA_DIR:-${XDG_DATA_HOME:-~/.local/share}/streamctl}.
std::string default_data_dir();
// --data-dir when given, else default_data_dir().
std::string resolve_data_dir(const GlobalOptions& global);

// True when the data directory was given on the command line (--data-dir). Read commands treat a missing
// one as an error (a mistyped path must not look like an empty one); a missing directory from
// $STREAMCTL_DATA_DIR or the XDG default (set once, before anything was produced) is just empty.
bool data_dir_chosen(const GlobalOptions& global);
// kNotFound "no data directory at <path> (nothing has been produced there yet)".
Error missing_data_dir(const GlobalOptions& global);

// Opens the LogManager for the data directory. create_if_missing=false turns a missing directory into a
// kNotFound error saying so ("nothing has been produced there yet"). Errors name the directory. Creating
// the directory says so on stderr ("created data directory <path>"), so a mistyped path is noticed.
Result<std::unique_ptr<engine::LogManager>> open_data_dir(const GlobalOptions& global,
                                                                 bool create_if_missing);

// ---- output helpers

// Writes all of text to stdout (one write(2) where possible). EPIPE is not an error (the reader left).
Status write_stdout(std::string_view text);
// 1536 -> "1.5 KiB"; below 1024 -> "512 B".
std::string human_bytes(uint64_t bytes);
// Left-aligned columns separated by two spaces; the first row is the header (bold when `color`).
std::string format_table(const std::vector<std::vector<std::string>>& rows, bool color);

// Embedded commands never write beside a running `streamctl serve` (it owns the data directory: see
// engine/advert.h): select_backend (cli/kafka_client.h) routes them through the server instead.

// ---- small parsers shared by commands

// "name=value" -> {name, value}; kInvalidArgument naming `what` (e.g. "-X", "--config") when there is no '='
// or the name is empty. The value may be empty and may contain '='.
Result<std::pair<std::string, std::string>> parse_key_value(std::string_view text,
                                                                    std::string_view what);
// All -X properties as a map (later occurrences win).
Result<std::map<std::string, std::string>> parse_properties(const GlobalOptions& global);

// Decodes backslash escapes in a flag value: \n \r \t \0 \\ and \xHH (so `--delimiter '\0'` works).
Result<std::string> unescape(std::string_view text, std::string_view what);

}  // namespace streamctl::cli
