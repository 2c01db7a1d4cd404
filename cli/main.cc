// streamctl entry point: global flags, subcommands (registered from cli/<name>_cmd.cc), CLI11 parse errors
// (caught only here) and the exit code. The selected subcommand's callback stores its work in ctx.run; it
// runs after parsing, with signal handlers installed, so command code never sees CLI11 exceptions.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "cli/command.h"

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

}  // namespace

int main(int argc, char** argv) {
  using namespace streamctl::cli;
  // Every open partition holds a few descriptors; use all the hard limit allows (serve and embedded commands).
  (void)streamctl::engine::raise_open_files_limit();
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

  if (argc <= 1) {
    std::fputs(app.help().c_str(), stderr);
    return to_int(ExitCode::kUsage);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_failure(app, e);
  }
  ctx.global.verbosity = quiet ? -1 : verbose;
  if (!ctx.run) {
    std::fputs(app.help().c_str(), stderr);
    return to_int(ExitCode::kUsage);
  }
  install_signal_handlers();
  return ctx.run();
}
