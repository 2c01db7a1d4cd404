// streamctl entry point: global flags, subcommands (registered from cli/<name>_cmd.cc), CLI11 parse errors
// (caught only here) and the exit code. The selected subcommand's callback stores its work in ctx.run; it
// runs after parsing, with signal handlers installed, so command code never sees CLI11 exceptions.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/suggest.h"

namespace {

constexpr const char* kVersion = "streamctl 0.1.0";

constexpr const char* kFooter = R"(Examples:
  seq 1 5 | streamctl produce numbers              # five records into topic 'numbers' (auto-created)
  streamctl consume numbers -o beginning           # print them, exit at the end
  streamctl consume app-logs -o @-1h -f --grep ERROR   # last hour of errors, then follow
  streamctl topic create orders -p 6 -c retention.ms=86400000
  streamctl consume orders --json | streamctl produce orders-copy --json   # exact copy

Data directory: --data-dir, else $STREAMCTL_DATA_DIR, else ${XDG_DATA_HOME:-~/.local/share}/streamctl.
Remote: --brokers, else $STREAMCTL_BROKERS, else the profile's brokers (--profile / $STREAMCTL_PROFILE);
  -X and flags override profile properties. A data directory owned by a running 'streamctl serve' is
  used through that server. Same commands, flags, output and exit codes either way.
stdout carries records only; diagnostics go to stderr ("streamctl: error: ...").

Exit codes:
  0  success
  1  runtime error (I/O, corruption, lock held, topic already exists, ...)
  2  usage error (bad flag, offset, config, topic name or input line)
  3  not found (topic, partition, group or input file)
  4  partial failure (some records were written and flushed before an error)
  5  nothing consumed (consume ended without writing a record)
  130  interrupted (SIGINT/SIGTERM) before the input was exhausted; what was read is flushed

Run 'streamctl COMMAND --help' for a command's flags and examples.)";

int usage_failure(const CLI::App& app, const CLI::ParseError& e) {
  // Name the subcommand whose help to look at: the deepest one that was given.
  std::string path = "streamctl";
  const CLI::App* at = &app;
  for (;;) {
    auto subs = at->get_subcommands();
    if (subs.empty()) break;
    at = subs.front();
    path += " " + at->get_name();
  }
  std::string message = e.what();
  return streamctl::cli::report_usage_error(message, "run '" + path + " --help' for usage and examples");
}

// The named option of `at` or of an app above it (global flags are accepted after any subcommand).
const CLI::Option* find_option(const CLI::App* at, const std::string& name) {
  for (; at != nullptr; at = at->get_parent()) {
    if (const CLI::Option* opt = at->get_option_no_throw(name)) return opt;
  }
  return nullptr;
}

std::string command_path(const CLI::App* at) {
  std::string path;
  for (; at != nullptr; at = at->get_parent()) path = at->get_name() + (path.empty() ? "" : " " + path);
  return path;
}

// "streamctl topic needs a subcommand" with the list of them, as `streamctl topic` alone asks.
int missing_subcommand(const CLI::App* at) {
  std::string text = "streamctl: error: '" + command_path(at) + "' needs a subcommand:\n";
  size_t width = 0;
  for (const CLI::App* sub : at->get_subcommands([](const CLI::App*) { return true; })) {
    width = std::max(width, sub->get_name().size());
  }
  for (const CLI::App* sub : at->get_subcommands([](const CLI::App*) { return true; })) {
    text += "  " + sub->get_name() + std::string(width + 2 - sub->get_name().size(), ' ') + sub->get_description() + "\n";
  }
  text += "hint: run '" + command_path(at) + " SUBCOMMAND --help' for its flags and examples\n";
  std::fputs(text.c_str(), stderr);
  return streamctl::cli::to_int(streamctl::cli::ExitCode::kUsage);
}

// `token` is the whole command-line word the unknown flag came from ("-dash" for flag "-d"): a word that
// starts with one dash and holds no known flag is likely a name (a topic "-dash"), which goes after "--".
int unknown_word(const CLI::App* at, const std::string& what, const std::string& word,
                 const std::vector<std::string>& candidates, const std::string& token = {}) {
  std::string message = "unknown " + what + " '" + word + "' for '" + command_path(at) + "'";
  if (!token.empty() && token != word) message += " (in '" + token + "')";
  if (auto best = streamctl::cli::closest(word, candidates)) message += " (did you mean '" + *best + "'?)";
  std::string hint = "run '" + command_path(at) + " --help' for usage and examples";
  if (token.size() > 2 && token[0] == '-' && token[1] != '-') {
    hint = "a name starting with '-' goes after '--': " + command_path(at) + " [flags] -- " + token + "; or " + hint;
  }
  return streamctl::cli::report_usage_error(message, hint);
}

bool is_negative_number(const std::string& t) {
  return t.size() > 1 && t[0] == '-' && (std::isdigit(static_cast<unsigned char>(t[1])) || t[1] == '.');
}

// What the command line asks for, read the way CLI11 will parse it, so that a mistyped subcommand or flag
// is named (with the closest real one) instead of CLI11's "A subcommand is required".
struct WordCheck {
  std::optional<int> exit;  // set: the mistake was reported (or help printed); exit with this code
  int help_at = -1;         // argv index of a `help` pseudo-command
};

WordCheck check_words(const CLI::App& app, int argc, char** argv) {
  const CLI::App* at = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string t = argv[i];
    if (t == "--") break;  // the rest is positional
    if (t.size() > 1 && t[0] == '-' && !is_negative_number(t)) {
      // Long "--name[=value]" or short "-abc" (flags combined, or "-kVALUE").
      std::vector<std::string> names;
      std::string inline_value;
      if (t.rfind("--", 0) == 0) {
        size_t eq = t.find('=');
        names.push_back(t.substr(0, eq));
        if (eq != std::string::npos) inline_value = t.substr(eq + 1);
      } else {
        for (size_t k = 1; k < t.size(); ++k) {
          names.push_back(std::string("-") + t[k]);
          const CLI::Option* opt = find_option(at, names.back());
          if (opt != nullptr && opt->get_items_expected_max() > 0) {
            inline_value = t.substr(k + 1);
            break;
          }
        }
      }
      const std::string& last = names.back();
      for (const auto& name : names) {
        if (find_option(at, name) != nullptr) continue;
        std::vector<std::string> candidates;
        for (const CLI::App* a = at; a != nullptr; a = a->get_parent()) {
          for (const CLI::Option* opt : a->get_options()) {
            for (const auto& l : opt->get_lnames()) candidates.push_back("--" + l);
          }
        }
        return {unknown_word(at, "flag", name, name.rfind("--", 0) == 0 ? candidates : std::vector<std::string>{}, t),
                -1};
      }
      if (last == "-h" || last == "--help") return {};  // CLI11 prints the help
      const CLI::Option* opt = find_option(at, last);
      const int takes_max = opt->get_items_expected_max();
      const int takes_min = std::min(opt->get_type_size_min(), opt->get_items_expected_min());
      if (takes_max > 0 && inline_value.empty() && i + 1 < argc) {
        if (takes_min > 0 || argv[i + 1][0] != '-') ++i;  // its value
      }
      continue;
    }
    // A word: a subcommand where one is expected, else a positional argument.
    auto subs = at->get_subcommands([](const CLI::App*) { return true; });
    if (subs.empty()) continue;
    if (at == &app && t == "help") return {std::nullopt, i};
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : subs) {
      if (sub->check_name(t)) next = sub;
    }
    if (next == nullptr) {
      if (at->get_require_subcommand_min() == 0) continue;
      std::vector<std::string> names;
      for (const CLI::App* sub : subs) names.push_back(sub->get_name());
      if (at == &app) names.push_back("help");
      return {unknown_word(at, at == &app ? "command" : "subcommand", t, names), -1};
    }
    at = next;
  }
  if (at != &app && at->get_require_subcommand_min() > 0) return {missing_subcommand(at), -1};
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  using namespace streamctl::cli;
  // `streamctl --version` alone is answered before anything is built (the command tree, CLI11's parser,
  // the open-files limit): scripts call it to probe for streamctl, and it should cost what `cat --version`
  // costs. Any other use of -V/--version goes through CLI11 below (same text).
  if (argc == 2 && (std::strcmp(argv[1], "--version") == 0 || std::strcmp(argv[1], "-V") == 0)) {
    const size_t n = std::strlen(kVersion);
    char line[64];
    std::memcpy(line, kVersion, n);
    line[n] = '\n';
    return ::write(STDOUT_FILENO, line, n + 1) == ssize_t(n + 1) ? 0 : 1;
  }
  // Every open partition holds a few descriptors; use all the hard limit allows (serve and embedded commands).
  (void)streamctl::raise_open_files_limit();
  CommandContext ctx;
  CLI::App app{"streamctl: a Kafka-class event log for the terminal (embedded engine on a local data directory)",
               "streamctl"};
  app.set_version_flag("-V,--version", kVersion);
  app.require_subcommand(1);
  app.fallthrough();  // global flags may follow the subcommand: `streamctl topic list --json`
  app.footer(kFooter);
  app.get_formatter()->column_width(34);

  int verbose = 0;
  bool quiet = false;
  app.add_option("--data-dir", ctx.global.data_dir, "data directory (default: $STREAMCTL_DATA_DIR or XDG path)")
      ->type_name("DIR");
  app.add_option("--brokers", ctx.global.brokers,
                 "Kafka-protocol cluster host:port[,...] (default: $STREAMCTL_BROKERS, --profile, or embedded)")
      ->type_name("HOSTS");
  app.add_option("--profile", ctx.global.profile,
                 "named connection settings from ${XDG_CONFIG_HOME:-~/.config}/streamctl/config "
                 "(default: $STREAMCTL_PROFILE)")
      ->type_name("NAME");
  app.add_option("-X", ctx.global.properties, "client property key=value (repeatable), e.g. -X batch.size=65536")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  app.add_flag("-v,--verbose", verbose, "more detail on stderr (repeat for more)");
  app.add_flag("-q,--quiet", quiet, "no notes, warnings or summaries on stderr (errors still print)");
  app.add_flag("--json", ctx.global.json, "JSON output (records as JSON lines; produce reads JSON lines)");

  register_topic_command(app, ctx);
  register_produce_command(app, ctx);
  register_consume_command(app, ctx);
  register_group_command(app, ctx);  // after consume: it adds --group/--state-file to it
  register_log_command(app, ctx);
  register_serve_command(app, ctx);
  register_cluster_command(app, ctx);
  register_user_command(app, ctx);
  register_acl_command(app, ctx);

  if (argc <= 1) {
    std::fputs(app.help().c_str(), stderr);
    return to_int(ExitCode::kUsage);
  }
  // `streamctl help [COMMAND...]` is `streamctl [COMMAND...] --help`.
  std::vector<char*> args(argv, argv + argc);
  WordCheck words = check_words(app, argc, argv);
  if (words.exit) return *words.exit;
  if (words.help_at >= 0) {
    args.erase(args.begin() + words.help_at);
    if (args.size() == 1) {
      std::fputs(app.help().c_str(), stdout);
      return 0;
    }
    static char help_flag[] = "--help";
    args.push_back(help_flag);
    words = check_words(app, int(args.size()), args.data());  // `help consme` is a typo too
    if (words.exit) return *words.exit;
  }
  try {
    app.parse(int(args.size()), args.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_failure(app, e);
  }
  if (quiet && verbose > 0) {
    return report_usage_error("-q/--quiet and -v/--verbose contradict each other; give one of them");
  }
  ctx.global.verbosity = quiet ? -1 : verbose;
  if (!ctx.run) {
    std::fputs(app.help().c_str(), stderr);
    return to_int(ExitCode::kUsage);
  }
  install_signal_handlers();
  return ctx.run();
}
