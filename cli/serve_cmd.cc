// `streamctl serve`: run a Kafka-protocol broker (server/broker.h) over the data directory until SIGINT or
// SIGTERM, then shut down cleanly (finish in-flight requests, flush, exit 0).
// Settings: defaults, then --config FILE (`key = value` lines named like the flags, server/config_file.h),
// then the flags given on the command line, which win. Diagnostics are structured log lines on stderr.
#include <poll.h>
#include <signal.h>

#include <csignal>

#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "server/broker.h"
#include "server/config_file.h"

namespace streamctl::cli {

void register_serve_command(CLI::App& app, CommandContext& ctx);

namespace {

struct ServeOptions {
  std::string config_file;
  // Flag values by setting name (server/config_file.h); only flags actually given are applied.
  std::map<std::string, std::string> values;
  std::map<std::string, CLI::Option*> options;
  bool no_auto_create = false;
  bool allow_plaintext = false;
  bool authorizer = false;
  bool allow_everyone = false;
};

int run_serve(const GlobalOptions& global, const ServeOptions& opts) {
  server::BrokerConfig config;
  if (!opts.config_file.empty()) {
    auto entries = server::read_config_file(opts.config_file);
    if (!entries.ok()) return report_error(entries.error());
    auto st = server::apply_config_entries(config, *entries, opts.config_file);
    if (!st.ok()) return report_usage_error(st.error().message, "run 'streamctl serve --help' for the setting names");
  }
  // --data-dir (or the environment/XDG default) unless the config file named one and no flag was given.
  if (!global.data_dir.empty() || config.data_dir.empty()) config.data_dir = resolve_data_dir(global);
  if (global.quiet()) config.log_level = "warn";
  if (global.verbosity >= 2) config.log_level = "debug";
  for (const auto& [key, option] : opts.options) {
    if (option->count() == 0) continue;
    auto st = server::apply_config_setting(config, key, opts.values.at(key));
    // The setting's own message names the key ("max-connections: 'x' is not an integer"): add the dashes.
    if (!st.ok()) return report_usage_error("--" + st.error().message);
  }
  if (opts.no_auto_create) config.auto_create_topics = false;
  if (opts.allow_plaintext) config.allow_plaintext = true;
  if (opts.authorizer) config.authorizer = true;
  if (opts.allow_everyone) config.allow_everyone_if_no_acl_found = true;
  if (auto st = server::validate_broker_config(config); !st.ok()) return report_usage_error(st.error().message);

  auto broker = server::Broker::start(config);
  if (!broker.ok()) {
    const auto& e = broker.error();
    if (e.code == streamctl::ErrorCode::kBusy) {
      return report_error(e, "stop the other server first, or serve another --data-dir / --listen address");
    }
    return report_error(e);
  }
  // main() installed the SIGINT/SIGTERM handlers; wait for one. SIGHUP reloads the TLS files and the ACLs.
  static volatile std::sig_atomic_t hup = 0;
  struct sigaction sa {};
  sa.sa_handler = [](int) { hup = 1; };
  sigemptyset(&sa.sa_mask);
  (void)::sigaction(SIGHUP, &sa, nullptr);
  while (!stop_requested()) {
    struct pollfd pfd{stop_fd(), POLLIN, 0};
    (void)::poll(&pfd, stop_fd() >= 0 ? 1 : 0, 1000);
    if (hup) {
      hup = 0;
      (void)(*broker)->reload_tls();  // logged by the broker
      (void)(*broker)->reload_acls();
    }
  }
  (*broker)->stop();
  auto st = (*broker)->wait();
  if (!st.ok()) return report_error(st.error(), "some data may not have been flushed to disk");
  return to_int(ExitCode::kOk);
}

}  // namespace

void register_serve_command(CLI::App& app, CommandContext& ctx) {
  auto opts = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "run a Kafka-protocol broker over the data directory");
  cmd->footer(R"(Kafka clients (librdkafka/kcat, kafka-python, kafkajs, Java) connect to --listen. While it runs, the
server owns the data directory (<data>/__meta/serve.lock); embedded commands that would write there are
refused and pointed to --brokers. Stops cleanly on SIGINT/SIGTERM: in-flight requests finish, logs are
flushed, exit 0.

Examples:
  streamctl serve                                        # 127.0.0.1:9092 on the default data directory
  streamctl serve --listen 127.0.0.1:0 --port-file /tmp/port   # a free port, written to /tmp/port
  streamctl serve --listen 0.0.0.0:9092 --allow-plaintext --advertise broker1.lan:9092 --http 127.0.0.1:9644
  streamctl serve --listen PLAINTEXT://127.0.0.1:9092,SASL_PLAINTEXT://127.0.0.1:9093   # users: streamctl user
  streamctl serve --config /etc/streamctl/serve.conf     # key = value lines named like these flags
  kcat -b 127.0.0.1:9092 -L                              # what clients see)");
  cmd->add_option("--config", opts->config_file, "settings file: `key = value` lines named like the flags")
      ->type_name("FILE");
  struct Flag {
    const char* key;
    const char* help;
    const char* type;
  };
  static const Flag kFlags[] = {
      {"listen",
       "Kafka listeners: host:port (PLAINTEXT) or NAME://host:port,... with NAME PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL "
       "(default 127.0.0.1:9092; port 0 = any free port)",
       "LISTENERS"},
      {"advertise", "host:port handed to clients, or NAME://host:port per listener (default: the listener's address)",
       "ADDRS"},
      {"super-users", "principals allowed everything with --authorizer, e.g. User:admin,User:CN=ops", "LIST"},
      {"tls-cert", "PEM certificate chain of SSL/SASL_SSL listeners (reloaded on SIGHUP)", "FILE"},
      {"tls-key", "PEM private key of --tls-cert", "FILE"},
      {"tls-ca", "PEM CA: clients must present a certificate it signed (mTLS)", "FILE"},
      {"tls-handshake-timeout-ms", "close TLS connections whose handshake takes longer (default 10000)", "MS"},
      {"sasl-mechanisms", "SASL mechanisms of SASL listeners (default SCRAM-SHA-256,SCRAM-SHA-512,PLAIN)", "LIST"},
      {"node-id", "broker id in Metadata (default 0)", "N"},
      {"http", "serve GET /metrics (Prometheus) and /health on host:port", "HOST:PORT"},
      {"port-file", "write the first listener's port here once listening (for scripts using port 0)", "FILE"},
      {"threads", "io threads (default 2)", "N"},
      {"max-connections", "refuse connections beyond this many (default 1000)", "N"},
      {"max-connections-per-ip", "connections one address may hold (default 0: 3/4 of --max-connections)", "N"},
      {"max-connections-per-ip-overrides", "per-address limits, e.g. 127.0.0.1:2000,10.0.0.7:50", "LIST"},
      {"max-request-bytes", "largest request accepted (default 104857600)", "BYTES"},
      {"initial-max-request-bytes", "largest first request of a connection (default 2097152)", "BYTES"},
      {"queued-max-request-bytes", "bytes of large requests read at once, all connections (default 209715200)",
       "BYTES"},
      {"max-inflight-requests", "per-connection pipeline depth before reading pauses (default 256)", "N"},
      {"idle-timeout-ms", "close connections idle this long (default 600000; 0 = never)", "MS"},
      {"flush-interval-ms", "fsync every log this often (default 0: as Kafka, per topic flush.* and on exit)", "MS"},
      {"retention-check-interval-ms", "run retention/compaction this often (default 300000)", "MS"},
      {"shutdown-timeout-ms", "time in-flight requests get on SIGTERM (default 10000)", "MS"},
      {"default-partitions", "partitions of auto-created topics (default 1)", "N"},
      {"group-initial-rebalance-delay-ms", "wait for more members before a new group's first rebalance (default 3000)",
       "MS"},
      {"group-min-session-timeout-ms", "smallest session timeout accepted (default 6000)", "MS"},
      {"group-max-session-timeout-ms", "largest session timeout accepted (default 1800000)", "MS"},
      {"log-level", "debug|info|warn|error|off (default info; -q = warn, -vv = debug)", "LEVEL"},
  };
  for (const auto& f : kFlags) {
    opts->values[f.key] = "";
    opts->options[f.key] = cmd->add_option(std::string("--") + f.key, opts->values[f.key], f.help)->type_name(f.type);
  }
  cmd->add_flag("--no-auto-create-topics", opts->no_auto_create, "do not create topics named in Metadata requests");
  cmd->add_flag("--authorizer", opts->authorizer,
                "enforce Kafka ACLs from <data>/__meta/acls.json (no matching ACL = denied; managed with "
                "streamctl acl, re-read within 1 s of a change and on SIGHUP)");
  cmd->add_flag("--allow-everyone-if-no-acl-found", opts->allow_everyone,
                "with --authorizer: a resource without any ACL is open to everyone");
  cmd->add_flag("--allow-plaintext", opts->allow_plaintext,
                "allow a PLAINTEXT or SASL_PLAINTEXT listener on a non-loopback address (nothing is encrypted)");
  cmd->callback([opts, &ctx]() { ctx.run = [opts, &ctx]() { return run_serve(ctx.global, *opts); }; });
}

}  // namespace streamctl::cli
