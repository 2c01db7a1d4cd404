// `streamctl cluster info|health`: what a Kafka-protocol cluster looks like (brokers, controller, topics,
// partition leaders) and whether it is ready, for scripts: `streamctl cluster health --wait` exits 0 once
// the cluster answers and every partition has a leader. Works on any backend that has a cluster: --brokers,
// STREAMCTL_BROKERS, a profile, or a data directory served by `streamctl serve`.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "cli/command.h"
#include "cli/kafka_client.h"
#include "cli/offset_spec.h"
#include "cli/remote_topic.h"

namespace streamctl::cli {

namespace {

using Json = nlohmann::ordered_json;

struct ClusterOptions {
  bool wait = false;
  std::string timeout = "60s";
};

std::string ids_text(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
  return s.empty() ? "-" : s;
}

// The remote settings, or an error saying how to name a cluster.
Result<ConnectionSettings> cluster_settings(const GlobalOptions& g) {
  auto backend = select_backend(g);
  if (!backend.ok()) return std::move(backend).error();
  if (!backend->remote) {
    return Error::invalid_argument(
        "no cluster to ask: give --brokers HOST:PORT (or STREAMCTL_BROKERS, or --profile), or run 'streamctl "
        "serve' on the data directory " + resolve_data_dir(g));
  }
  return *backend->remote;
}

int run_info(const ClusterOptions&, const GlobalOptions& g) {
  auto settings = cluster_settings(g);
  if (!settings.ok()) return report_error(settings.error());
  auto client = admin_client(*settings, g);
  if (!client.ok()) return report_error(client.error());
  auto md = (*client)->metadata(nullptr);
  if (!md.ok()) return report_error(md.error());
  if (g.json) {
    Json brokers = Json::array();
    for (const auto& b : md->brokers) brokers.push_back({{"id", b.id}, {"host", b.host}, {"port", b.port}});
    Json topics = Json::array();
    for (const auto& t : md->topics) {
      Json parts = Json::array();
      for (const auto& p : t.partitions) {
        parts.push_back({{"partition", p.id}, {"leader", p.leader}, {"replicas", p.replicas}, {"isr", p.isr}});
      }
      topics.push_back({{"name", t.name}, {"partitions", parts}});
    }
    Json out = {{"bootstrap", settings->brokers}, {"controller", md->controller}, {"brokers", brokers},
                {"topics", topics}};
    auto st = write_stdout(out.dump() + "\n");
    return st.ok() ? 0 : report_error(st.error());
  }
  bool color = color_enabled(STDOUT_FILENO);
  std::vector<std::vector<std::string>> brows = {{"BROKER", "HOST", "PORT", "ROLE"}};
  for (const auto& b : md->brokers) {
    brows.push_back({std::to_string(b.id), b.host, std::to_string(b.port), b.id == md->controller ? "controller" : "-"});
  }
  std::vector<std::vector<std::string>> trows = {{"TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR"}};
  for (const auto& t : md->topics) {
    for (const auto& p : t.partitions) {
      trows.push_back({t.name, std::to_string(p.id), p.leader >= 0 ? std::to_string(p.leader) : "none",
                       ids_text(p.replicas), ids_text(p.isr)});
    }
  }
  std::string text = format_table({{"Bootstrap:", settings->brokers},
                                   {"Controller:", md->controller >= 0 ? std::to_string(md->controller) : "-"},
                                   {"Brokers:", std::to_string(md->brokers.size())},
                                   {"Topics:", std::to_string(md->topics.size())}},
                                  false);
  text += "\n" + format_table(brows, color) + "\n" + format_table(trows, color);
  auto st = write_stdout(text);
  return st.ok() ? 0 : report_error(st.error());
}

int run_health(const ClusterOptions& o, const GlobalOptions& g) {
  auto timeout_ms = parse_duration_ms(o.timeout);
  if (!timeout_ms.ok()) return report_error(timeout_ms.error());
  auto settings = cluster_settings(g);
  if (!settings.ok()) return report_error(settings.error());
  auto client = admin_client(*settings, g);
  if (!client.ok()) return report_error(client.error());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(*timeout_ms);
  std::string problem;
  Error last;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const auto attempt = o.wait ? std::clamp(left, std::chrono::milliseconds(200), std::chrono::milliseconds(2000))
                                : (*client)->request_timeout();
    auto md = (*client)->metadata(nullptr, attempt);
    if (md.ok()) {
      size_t partitions = 0;
      std::vector<std::string> leaderless;
      for (const auto& t : md->topics) {
        for (const auto& p : t.partitions) {
          ++partitions;
          if (p.leader < 0) leaderless.push_back(t.name + "-" + std::to_string(p.id));
        }
      }
      if (leaderless.empty() && !md->brokers.empty()) {
        std::string summary = std::to_string(md->brokers.size()) + " broker(s), " +
                              std::to_string(md->topics.size()) + " topic(s), " + std::to_string(partitions) +
                              " partition(s), all with leaders";
        if (g.json) {
          auto st = write_stdout(Json({{"healthy", true}, {"brokers", md->brokers.size()},
                                       {"topics", md->topics.size()}, {"partitions", partitions}})
                                     .dump() +
                                 "\n");
          if (!st.ok()) return report_error(st.error());
        }
        info(g, "cluster " + settings->brokers + " is healthy: " + summary);
        return 0;
      }
      std::string list;
      for (size_t i = 0; i < leaderless.size() && i < 5; ++i) list += (i ? ", " : "") + leaderless[i];
      if (leaderless.size() > 5) list += ", ...";
      problem = md->brokers.empty() ? "the cluster lists no brokers"
                                    : std::to_string(leaderless.size()) + " partition(s) without a leader: " + list;
      last = Error{streamctl::ErrorCode::kUnavailable, "cluster " + settings->brokers + ": " + problem};
    } else {
      last = md.error();
    }
    if (!o.wait || std::chrono::steady_clock::now() >= deadline || stop_requested()) break;
    debug(g, 1, "not healthy yet: " + last.message);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (g.json) {
    [[maybe_unused]] auto st = write_stdout(Json({{"healthy", false}, {"reason", last.message}}).dump() + "\n");
  }
  if (o.wait) {
    // The last attempt's own wait ("within 1.7 s") is not the user's --timeout: say only the latter.
    last.message = "not healthy after " + o.timeout + ": " +
                   std::regex_replace(last.message, std::regex(" within [0-9.]+ s"), "");
  }
  return report_error(last, o.wait ? "check the brokers; a longer --timeout waits more"
                                   : "add --wait to wait for the cluster to become healthy");
}

}  // namespace

void register_cluster_command(CLI::App& app, CommandContext& ctx) {
  auto opts = std::make_shared<ClusterOptions>();
  CLI::App* cluster = app.add_subcommand("cluster", "brokers, controller, partition leaders; health checks");
  cluster->require_subcommand(1);
  cluster->footer(R"(Needs a cluster: --brokers, STREAMCTL_BROKERS, --profile, or a data directory served by
'streamctl serve'.

Examples:
  streamctl --brokers kafka1:9092 cluster info
  streamctl cluster health --wait --timeout 30s && ./run-pipeline.sh)");
  auto set_run = [&ctx, opts](int (*fn)(const ClusterOptions&, const GlobalOptions&)) {
    return [&ctx, opts, fn] { ctx.run = [&ctx, opts, fn] { return fn(*opts, ctx.global); }; };
  };
  CLI::App* info_cmd = cluster->add_subcommand("info", "brokers, controller, topics and partition leaders");
  info_cmd->footer("Examples:\n  streamctl --brokers 127.0.0.1:9092 cluster info\n  streamctl cluster info --json");
  info_cmd->callback(set_run(run_info));
  CLI::App* health = cluster->add_subcommand(
      "health", "exit 0 when the cluster answers and every partition has a leader (else 1)");
  health->add_flag("-w,--wait", opts->wait, "keep checking until healthy or --timeout");
  health->add_option("--timeout", opts->timeout, "how long --wait waits (duration: 30s, 2m; default 60s)")
      ->type_name("DURATION");
  health->footer("Example:\n  streamctl --brokers 127.0.0.1:9092 cluster health --wait --timeout 30s");
  health->callback(set_run(run_health));
}

}  // namespace streamctl::cli
