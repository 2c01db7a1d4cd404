// `streamctl topic create|list|describe|delete|alter|add-partitions`: flags -> TopicOptions -> one
// LogManager call each. Human output is aligned text; --json prints one JSON document (list: an array;
// describe: one object per topic per line). Confirmations ("created topic ...") are notes on stderr.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/command.h"
#include "cli/output_format.h"
#include "cli/remote_produce.h"
#include "cli/remote_topic.h"
#include "engine/log.h"
#include "engine/log_config.h"

namespace streamctl::cli {

namespace {

using Json = nlohmann::ordered_json;

struct TopicOptions {
  std::vector<std::string> names;
  int32_t partitions = 1;
  std::vector<std::string> configs;         // --config k=v
  std::vector<std::string> delete_configs;  // --delete-config k
  bool if_not_exists = false;
  bool if_exists = false;
  bool long_listing = false;
};

constexpr const char* kConfigHint =
    "config names and defaults are listed by 'streamctl topic describe TOPIC' (Kafka's topic config names)";

Result<std::map<std::string, std::string>> parse_configs(const std::vector<std::string>& configs) {
  std::map<std::string, std::string> out;
  for (const auto& c : configs) {
    auto kv = parse_key_value(c, "--config");
    if (!kv.ok()) return std::move(kv).error();
    out[kv->first] = kv->second;
  }
  return out;
}

std::string iso_time(int64_t ms) {
  std::string s;
  append_iso8601_utc(s, ms);
  return s;
}

int print_json(const Json& j) {
  auto st = write_stdout(j.dump() + "\n");
  return st.ok() ? 0 : report_error(st.error());
}

// Opens the data dir for commands that need existing topics; a missing directory is "topic not found".
Result<std::unique_ptr<engine::LogManager>> open_existing(const GlobalOptions& g) {
  return open_data_dir(g, /*create_if_missing=*/false);
}

int topic_not_found(const Error& e) {
  return report_error(e, "list topics with: streamctl topic list");
}

int run_create(const TopicOptions& o, const GlobalOptions& g) {
  if (o.partitions < 1) return report_usage_error("--partitions must be at least 1");
  auto configs = parse_configs(o.configs);
  if (!configs.ok()) return report_error(configs.error());
  for (const auto& name : o.names) {
    auto valid = engine::LogManager::validate_topic_name(name);
    if (!valid.ok()) return report_error(valid.error());
  }
  auto backend = select_backend(g);
  if (!backend.ok()) return report_error(backend.error());
  // Creates every named topic with `create` (either backend); an existing one is fine with --if-not-exists.
  auto create_each = [&](const std::function<Result<engine::TopicMetadata>(const std::string&)>& create) {
    Json out = Json::array();
    for (const auto& name : o.names) {
      auto created = create(name);
      if (!created.ok()) {
        if (created.error().code == ErrorCode::kAlreadyExists && o.if_not_exists) {
          info(g, "topic '" + name + "' already exists");
          if (g.json) out.push_back({{"name", name}, {"created", false}});
          continue;
        }
        if (created.error().code == ErrorCode::kAlreadyExists) {
          return report_error(created.error(), "add --if-not-exists to accept an existing topic");
        }
        if (created.error().code == ErrorCode::kInvalidArgument) return report_error(created.error(), kConfigHint);
        return report_error(created.error());
      }
      const auto& md = *created;
      info(g, "created topic '" + name + "' with " + std::to_string(md.partitions) +
                  (md.partitions == 1 ? " partition" : " partitions"));
      if (g.json) {
        Json cfg = Json::object();
        for (const auto& [k, v] : md.overrides) cfg[k] = v;
        out.push_back({{"name", md.name}, {"created", true}, {"topic_id", md.topic_id},
                       {"partitions", md.partitions}, {"configs", cfg}});
      }
    }
    if (g.json) return print_json(o.names.size() == 1 ? out.at(0) : out);
    return 0;
  };
  if (backend->remote) {
    // The same validation as embedded mode first, so a bad config fails the same way on every backend.
    for (const auto& [k, v] : *configs) {
      auto one = engine::LogConfig::from_overrides({{k, v}});
      if (!one.ok() && engine::find_topic_config(k) != nullptr) return report_error(one.error(), kConfigHint);
    }
    auto client = admin_client(*backend->remote, g);
    if (!client.ok()) return report_error(client.error());
    return create_each([&](const std::string& name) -> Result<engine::TopicMetadata> {
      STREAMCTL_TRY(create_remote_topic(**client, name, o.partitions, *configs));
      // What the cluster does not say back (topic id) stays empty.
      return engine::TopicMetadata{name, "", o.partitions, *configs, 0};
    });
  }
  auto lm = open_data_dir(g, /*create_if_missing=*/true);
  if (!lm.ok()) return report_error(lm.error());
  return create_each([&](const std::string& name) { return (*lm)->create_topic(name, o.partitions, *configs); });
}

// `topic list` output, both backends: names one a line (plain), or the JSON array / the -l table.
int print_topic_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += n + "\n";
  auto st = write_stdout(out);
  return st.ok() ? 0 : report_error(st.error());
}

int print_listing(const Json& arr, const std::vector<std::vector<std::string>>& rows, const GlobalOptions& g) {
  if (g.json) return print_json(arr);
  auto st = write_stdout(format_table(rows, color_enabled(STDOUT_FILENO)));
  return st.ok() ? 0 : report_error(st.error());
}

int run_list_remote(const TopicOptions& o, const GlobalOptions& g, const ConnectionSettings& settings) {
  auto client = admin_client(settings, g);
  if (!client.ok()) return report_error(client.error());
  auto names = remote_list_topics(**client);
  if (!names.ok()) return report_error(names.error());
  if (!g.json && !o.long_listing) return print_topic_names(*names);
  Json arr = Json::array();
  std::vector<std::vector<std::string>> rows = {{"TOPIC", "PARTITIONS", "RECORDS", "SIZE"}};
  for (const auto& name : *names) {
    auto parts = remote_partitions(**client, name);
    if (!parts.ok()) {
      if (parts.error().code == ErrorCode::kNotFound) continue;  // deleted meanwhile
      return report_error(parts.error());
    }
    Json t = {{"name", name}, {"topic_id", ""}, {"partitions", parts->size()}};
    if (o.long_listing) {
      int64_t records = 0;
      for (const auto& p : *parts) records += p.log_end_offset - p.log_start_offset;
      t["records"] = records;
      t["size_bytes"] = nullptr;  // not known through the Kafka protocol
      rows.push_back({name, std::to_string(parts->size()), std::to_string(records), "-"});
    }
    arr.push_back(std::move(t));
  }
  return print_listing(arr, rows, g);
}

int run_list(const TopicOptions& o, const GlobalOptions& g) {
  auto backend = select_backend(g);
  if (!backend.ok()) return report_error(backend.error());
  if (backend->remote && !backend->routed) return run_list_remote(o, g, *backend->remote);
  auto lm = open_existing(g);
  if (!lm.ok()) {
    if (lm.error().code == ErrorCode::kNotFound && !data_dir_chosen(g)) {
      // The default data directory before anything was produced: no topics.
      return g.json ? print_json(Json::array()) : 0;
    }
    if (lm.error().code == ErrorCode::kNotFound) {
      return report_error(lm.error(), "check the path; producing to a topic there creates it");
    }
    return report_error(lm.error());
  }
  auto names = (*lm)->list_topics();
  if (!names.ok()) return report_error(names.error());
  if (!g.json && !o.long_listing) return print_topic_names(*names);
  Json arr = Json::array();
  std::vector<std::vector<std::string>> rows = {{"TOPIC", "PARTITIONS", "RECORDS", "SIZE"}};
  for (const auto& name : *names) {
    auto md = (*lm)->describe_topic(name);
    if (!md.ok()) {
      if (md.error().code == ErrorCode::kNotFound) continue;  // deleted meanwhile
      return report_error(md.error());
    }
    Json t = {{"name", md->name}, {"topic_id", md->topic_id}, {"partitions", md->partitions}};
    if (o.long_listing) {
      uint64_t size = 0;
      int64_t records = 0;
      for (int32_t p = 0; p < md->partitions; ++p) {
        auto log = (*lm)->log(name, p);
        if (!log.ok()) return report_error(log.error());
        size += (*log)->size_bytes();
        records += (*log)->log_end_offset() - (*log)->log_start_offset();
      }
      t["records"] = records;
      t["size_bytes"] = size;
      rows.push_back({name, std::to_string(md->partitions), std::to_string(records), human_bytes(size)});
    }
    arr.push_back(std::move(t));
  }
  return print_listing(arr, rows, g);
}

// Prints `topic describe` for one topic (both backends): the header, the partition table and the configs
// (text), or one JSON object per line. Unknown remote details print as "-" (text) and null (JSON).
void append_description(const engine::TopicMetadata& md, const std::vector<PartitionDescription>& partitions,
                        const GlobalOptions& g, bool first, std::string& text) {
  bool color = color_enabled(STDOUT_FILENO);
  bool remote = !partitions.empty() && partitions.front().leader.has_value();
  Json parts = Json::array();
  std::vector<std::vector<std::string>> prow = {
      {"PARTITION", "LOG-START", "LOG-END", "RECORDS", "SIZE", "SEGMENTS", "NEWEST-RECORD"}};
  if (remote) prow.front().push_back("LEADER");
  uint64_t size_sum = 0;
  bool size_known = true;  // false once a partition's size is unknown (remote)
  for (const auto& pd : partitions) {
    int64_t start = pd.log_start_offset, end = pd.log_end_offset;
    size_known = size_known && pd.size_bytes.has_value();
    size_sum += pd.size_bytes.value_or(0);
    Json pj = {{"partition", pd.partition},
               {"log_start_offset", start},
               {"log_end_offset", end},
               {"size_bytes", pd.size_bytes ? Json(*pd.size_bytes) : Json(nullptr)},
               {"segments", pd.segments ? Json(*pd.segments) : Json(nullptr)},
               {"max_timestamp", pd.max_timestamp}};
    if (pd.leader) {
      pj["leader"] = *pd.leader;
      pj["replicas"] = pd.replicas;
      pj["isr"] = pd.isr;
    }
    parts.push_back(std::move(pj));
    std::vector<std::string> row = {std::to_string(pd.partition), std::to_string(start), std::to_string(end),
                                    std::to_string(end - start), pd.size_bytes ? human_bytes(*pd.size_bytes) : "-",
                                    pd.segments ? std::to_string(*pd.segments) : "-",
                                    pd.max_timestamp >= 0 ? iso_time(pd.max_timestamp) : "-"};
    if (pd.leader) row.push_back(*pd.leader >= 0 ? std::to_string(*pd.leader) : "none");
    prow.push_back(std::move(row));
  }
  Json configs = Json::array();
  std::vector<std::vector<std::string>> crow = {{"CONFIG", "VALUE", "SOURCE"}};
  for (const auto& def : engine::topic_config_defs()) {
    auto it = md.overrides.find(def.name);
    bool is_default = it == md.overrides.end();
    const std::string& value = is_default ? def.default_value : it->second;
    configs.push_back({{"name", def.name}, {"value", value}, {"default", is_default},
                       {"default_value", def.default_value}});
    crow.push_back({def.name, value, is_default ? "default" : "override (default " + def.default_value + ")"});
  }
  // Overrides the engine does not list (from another Kafka implementation, or unvalidated) still show up.
  for (const auto& [k, v] : md.overrides) {
    if (engine::find_topic_config(k) == nullptr) {
      configs.push_back({{"name", k}, {"value", v}, {"default", false}});
      crow.push_back({k, v, "override"});
    }
  }
  if (g.json) {
    Json t = {{"name", md.name},
              {"topic_id", md.topic_id},
              {"partitions", md.partitions},
              {"created_ms", md.created_ms},
              {"size_bytes", size_known ? Json(size_sum) : Json(nullptr)},
              {"partition_info", parts},
              {"configs", configs}};
    text += t.dump() + "\n";
    return;
  }
  if (!first) text += "\n";
  std::vector<std::vector<std::string>> head = {
      {"Topic:", md.name},
      {"Topic ID:", md.topic_id.empty() ? "-" : md.topic_id},
      {"Partitions:", std::to_string(md.partitions)},
      {"Size:", size_known ? human_bytes(size_sum) : "-"},
      {"Created:", md.created_ms > 0 ? iso_time(md.created_ms) : "-"}};
  text += format_table(head, false);
  text += "\n" + format_table(prow, color) + "\n" + format_table(crow, color);
}

int run_describe_remote(const TopicOptions& o, const GlobalOptions& g, const ConnectionSettings& settings) {
  auto client = admin_client(settings, g);
  if (!client.ok()) return report_error(client.error());
  std::string text;
  for (size_t i = 0; i < o.names.size(); ++i) {
    auto md = remote_topic_metadata(**client, o.names[i]);
    if (!md.ok()) {
      if (md.error().code == ErrorCode::kNotFound) return topic_not_found(md.error());
      return report_error(md.error());
    }
    auto parts = remote_partitions(**client, o.names[i]);
    if (!parts.ok()) return report_error(parts.error());
    append_description(*md, *parts, g, i == 0, text);
  }
  auto st = write_stdout(text);
  return st.ok() ? 0 : report_error(st.error());
}

int run_describe(const TopicOptions& o, const GlobalOptions& g) {
  auto backend = select_backend(g);
  if (!backend.ok()) return report_error(backend.error());
  // A served local directory is read directly (reads beside the server are safe and show sizes).
  if (backend->remote && !backend->routed) return run_describe_remote(o, g, *backend->remote);
  auto lm = open_existing(g);
  if (!lm.ok()) {
    if (lm.error().code == ErrorCode::kNotFound) {
      return topic_not_found(Error::not_found("topic '" + o.names.front() + "' does not exist (" +
                                              lm.error().message + ")"));
    }
    return report_error(lm.error());
  }
  std::string text;
  for (size_t i = 0; i < o.names.size(); ++i) {
    const std::string& name = o.names[i];
    auto md = (*lm)->describe_topic(name);
    if (!md.ok()) {
      if (md.error().code == ErrorCode::kNotFound) return topic_not_found(md.error());
      return report_error(md.error());
    }
    std::vector<PartitionDescription> parts;
    for (int32_t p = 0; p < md->partitions; ++p) {
      auto log = (*lm)->log(name, p);
      if (!log.ok()) return report_error(log.error());
      engine::Log& l = **log;
      auto segments = l.segments();
      PartitionDescription pd;
      pd.partition = p;
      pd.log_start_offset = l.log_start_offset().value;
      pd.log_end_offset = l.log_end_offset().value;
      pd.size_bytes = l.size_bytes();
      pd.segments = segments.size();
      for (const auto& seg : segments) pd.max_timestamp = std::max(pd.max_timestamp, seg.max_timestamp.value);
      parts.push_back(std::move(pd));
    }
    append_description(*md, parts, g, i == 0, text);
  }
  auto st = write_stdout(text);
  return st.ok() ? 0 : report_error(st.error());
}

int run_delete(const TopicOptions& o, const GlobalOptions& g) {
  auto backend = select_backend(g);
  if (!backend.ok()) return report_error(backend.error());
  // Deletes every named topic with `del` (either backend); a missing one is fine with --if-exists.
  auto delete_each = [&](const std::function<Status(const std::string&)>& del) {
    Json deleted = Json::array(), missing = Json::array();
    for (const auto& name : o.names) {
      auto st = del(name);
      if (!st.ok()) {
        if (st.error().code == ErrorCode::kNotFound && o.if_exists) {
          missing.push_back(name);
          info(g, "topic '" + name + "' does not exist");
          continue;
        }
        if (st.error().code == ErrorCode::kNotFound) {
          return report_error(st.error(), "add --if-exists to accept a missing topic");
        }
        return report_error(st.error());
      }
      deleted.push_back(name);
      info(g, "deleted topic '" + name + "'");
    }
    if (g.json) return print_json({{"deleted", deleted}, {"missing", missing}});
    return 0;
  };
  if (backend->remote) {
    auto client = admin_client(*backend->remote, g);
    if (!client.ok()) return report_error(client.error());
    return delete_each([&](const std::string& name) { return remote_delete_topic(**client, name); });
  }
  auto lm = open_existing(g);
  if (!lm.ok()) {
    if (lm.error().code == ErrorCode::kNotFound) {
      if (o.if_exists) return g.json ? print_json({{"deleted", Json::array()}, {"missing", o.names}}) : 0;
      return report_error(Error::not_found("topic '" + o.names.front() + "' does not exist (" +
                                           lm.error().message + ")"),
                          "add --if-exists to accept a missing topic");
    }
    return report_error(lm.error());
  }
  return delete_each([&](const std::string& name) { return (*lm)->delete_topic(name); });
}

int run_alter(const TopicOptions& o, const GlobalOptions& g) {
  if (o.configs.empty() && o.delete_configs.empty()) {
    return report_usage_error("nothing to alter", "give --config NAME=VALUE and/or --delete-config NAME");
  }
  auto set = parse_configs(o.configs);
  if (!set.ok()) return report_error(set.error());
  auto backend = select_backend(g);
  if (!backend.ok()) return report_error(backend.error());
  const std::string& name = o.names.front();
  std::unique_ptr<engine::LogManager> local;
  std::unique_ptr<KafkaClient> client;
  Status st;
  if (backend->remote) {
    for (const auto& [k, v] : *set) {
      auto one = engine::LogConfig::from_overrides({{k, v}});
      if (!one.ok() && engine::find_topic_config(k) != nullptr) return report_error(one.error(), kConfigHint);
    }
    auto c = admin_client(*backend->remote, g);
    if (!c.ok()) return report_error(c.error());
    client = std::move(c).value();
    st = remote_alter_topic_configs(*client, name, *set, o.delete_configs);
  } else {
    auto lm = open_existing(g);
    if (!lm.ok()) {
      if (lm.error().code == ErrorCode::kNotFound) {
        return topic_not_found(Error::not_found("topic '" + o.names.front() + "' does not exist"));
      }
      return report_error(lm.error());
    }
    local = std::move(lm).value();
    st = local->alter_configs(name, *set, o.delete_configs);
  }
  if (!st.ok()) {
    if (st.error().code == ErrorCode::kNotFound) return topic_not_found(st.error());
    if (st.error().code == ErrorCode::kInvalidArgument) return report_error(st.error(), kConfigHint);
    return report_error(st.error());
  }
  std::string what;
  for (const auto& [k, v] : *set) what += (what.empty() ? "" : ", ") + k + "=" + v;
  for (const auto& k : o.delete_configs) what += (what.empty() ? "" : ", ") + k + " reset to default";
  info(g, "altered topic '" + name + "': " + what);
  if (g.json) {
    auto md = client ? remote_topic_metadata(*client, name) : local->describe_topic(name);
    if (!md.ok()) return report_error(md.error());
    Json cfg = Json::object();
    for (const auto& [k, v] : md->overrides) cfg[k] = v;
    return print_json({{"name", name}, {"overrides", cfg}});
  }
  return 0;
}

int run_add_partitions_remote(const TopicOptions& o, const GlobalOptions& g, const ConnectionSettings& settings) {
  auto client = admin_client(settings, g);
  if (!client.ok()) return report_error(client.error());
  const std::string& name = o.names.front();
  auto md = (*client)->topic(name);
  if (!md.ok()) {
    if (md.error().code == ErrorCode::kNotFound) return topic_not_found(md.error());
    return report_error(md.error());
  }
  const int32_t before = int32_t(md->partitions.size());
  if (o.partitions <= before) {
    return report_usage_error("topic '" + name + "' already has " + std::to_string(before) +
                                  " partitions; --partitions is the new total and must be larger",
                              "e.g. streamctl topic add-partitions " + name + " --partitions " +
                                  std::to_string(before + 1));
  }
  auto st = remote_add_partitions(**client, name, o.partitions);
  if (!st.ok()) return report_error(st.error());
  info(g, "topic '" + name + "' now has " + std::to_string(o.partitions) + " partitions (was " +
              std::to_string(before) + "); keyed records now hash over the new count");
  if (g.json) return print_json({{"name", name}, {"partitions", o.partitions}, {"previous_partitions", before}});
  return 0;
}

int run_add_partitions(const TopicOptions& o, const GlobalOptions& g) {
  auto backend = select_backend(g);
  if (!backend.ok()) return report_error(backend.error());
  if (backend->remote) return run_add_partitions_remote(o, g, *backend->remote);
  auto lm = open_existing(g);
  if (!lm.ok()) {
    if (lm.error().code == ErrorCode::kNotFound) {
      return topic_not_found(Error::not_found("topic '" + o.names.front() + "' does not exist"));
    }
    return report_error(lm.error());
  }
  const std::string& name = o.names.front();
  auto md = (*lm)->describe_topic(name);
  if (!md.ok()) {
    if (md.error().code == ErrorCode::kNotFound) return topic_not_found(md.error());
    return report_error(md.error());
  }
  if (o.partitions <= md->partitions) {
    return report_usage_error("topic '" + name + "' already has " + std::to_string(md->partitions) +
                                  " partitions; --partitions is the new total and must be larger",
                              "e.g. streamctl topic add-partitions " + name + " --partitions " +
                                  std::to_string(md->partitions + 1));
  }
  auto st = (*lm)->add_partitions(name, o.partitions);
  if (!st.ok()) return report_error(st.error());
  info(g, "topic '" + name + "' now has " + std::to_string(o.partitions) + " partitions (was " +
              std::to_string(md->partitions) + "); keyed records now hash over the new count");
  if (g.json) {
    return print_json({{"name", name}, {"partitions", o.partitions}, {"previous_partitions", md->partitions}});
  }
  return 0;
}

}  // namespace

void register_topic_command(CLI::App& app, CommandContext& ctx) {
  auto opts = std::make_shared<TopicOptions>();
  CLI::App* topic = app.add_subcommand("topic", "create, list, describe, delete and alter topics");
  topic->require_subcommand(1);
  topic->footer(R"(Examples:
  streamctl topic create orders --partitions 6 --config retention.ms=86400000
  streamctl topic list -l
  streamctl topic describe orders --json | jq '.partition_info[].log_end_offset'
  streamctl topic alter orders --config cleanup.policy=compact --delete-config retention.ms
  streamctl topic add-partitions orders --partitions 12
  streamctl topic delete orders --if-exists)");

  auto set_run = [&ctx, opts](int (*fn)(const TopicOptions&, const GlobalOptions&)) {
    return [&ctx, opts, fn] { ctx.run = [&ctx, opts, fn] { return fn(*opts, ctx.global); }; };
  };

  CLI::App* create = topic->add_subcommand("create", "create one or more topics");
  create->add_option("name", opts->names, "topic name(s): [a-zA-Z0-9._-], at most 249 characters")->required();
  create->add_option("-p,--partitions", opts->partitions, "number of partitions (default 1)")->type_name("N");
  create->add_option("-c,--config", opts->configs, "topic config NAME=VALUE (repeatable), Kafka's names")
      ->type_name("NAME=VALUE")
      ->allow_extra_args(false);
  create->add_flag("--if-not-exists", opts->if_not_exists, "succeed if the topic exists already");
  create->footer("Example:\n  streamctl topic create logs -p 3 -c retention.ms=3600000 -c segment.bytes=104857600");
  create->callback(set_run(run_create));

  CLI::App* list = topic->add_subcommand("list", "list topics (one name per line; -l for a table)");
  list->alias("ls");
  list->add_flag("-l,--long", opts->long_listing, "show partitions, records and size");
  list->footer("Examples:\n  streamctl topic list\n  streamctl topic list -l\n  streamctl topic list --json");
  list->callback(set_run(run_list));

  CLI::App* describe = topic->add_subcommand(
      "describe", "partitions (start/end offsets, size, segments) and configs (which are defaults)");
  describe->add_option("name", opts->names, "topic name(s)")->required();
  describe->footer("Examples:\n  streamctl topic describe orders\n  streamctl topic describe orders --json");
  describe->callback(set_run(run_describe));

  CLI::App* del = topic->add_subcommand("delete", "delete topics and all their records");
  del->alias("rm");
  del->add_option("name", opts->names, "topic name(s)")->required();
  del->add_flag("--if-exists", opts->if_exists, "succeed if a topic does not exist");
  del->footer("Example:\n  streamctl topic delete scratch --if-exists");
  del->callback(set_run(run_delete));

  CLI::App* alter = topic->add_subcommand("alter", "set or remove topic config overrides");
  alter->add_option("name", opts->names, "topic name")->required()->expected(1);
  alter->add_option("-c,--config", opts->configs, "set NAME=VALUE (repeatable)")
      ->type_name("NAME=VALUE")
      ->allow_extra_args(false);
  alter->add_option("--delete-config", opts->delete_configs, "remove an override: back to the default (repeatable)")
      ->type_name("NAME")
      ->allow_extra_args(false);
  alter->footer("Example:\n  streamctl topic alter orders -c retention.ms=3600000 --delete-config segment.bytes");
  alter->callback(set_run(run_alter));

  CLI::App* add = topic->add_subcommand("add-partitions", "grow a topic to a larger partition count");
  add->add_option("name", opts->names, "topic name")->required()->expected(1);
  add->add_option("-p,--partitions", opts->partitions, "the new total number of partitions")
      ->required()
      ->type_name("N");
  add->footer("Example:\n  streamctl topic add-partitions orders --partitions 12");
  add->callback(set_run(run_add_partitions));
}

}  // namespace streamctl::cli
