// DescribeConfigs, AlterConfigs, IncrementalAlterConfigs for topics (Kafka config names and defaults from
// engine/log_config.h) and a read-only view of this broker's settings. Topic changes are validated as a
// whole by LogManager::alter_configs before anything is written; live logs pick them up through it.
#include <algorithm>
#include <charconv>
#include <set>
#include <sstream>

#include "engine/log_config.h"
#include "server/handlers/handlers.h"
#include "base/logging.h"

namespace streamctl::server::handlers {

using kafka::protocol::ErrorCode;
using kafka::protocol::to_int16;

namespace {

constexpr int8_t kResourceTopic = 2;
constexpr int8_t kResourceBroker = 4;

// Kafka's ConfigSource values.
constexpr int8_t kSourceDynamicTopic = 1;
constexpr int8_t kSourceStaticBroker = 4;
constexpr int8_t kSourceDefault = 5;

// Kafka's ConfigType values (DescribeConfigs v3+).
int8_t config_type_of(const std::string& name, const std::string& default_value) {
  if (name == "cleanup.policy") return 7;  // LIST
  if (default_value == "true" || default_value == "false") return 1;  // BOOLEAN
  int64_t v = 0;
  auto [p, ec] = std::from_chars(default_value.data(), default_value.data() + default_value.size(), v);
  if (ec == std::errc() && p == default_value.data() + default_value.size() && !default_value.empty()) {
    return 5;  // LONG
  }
  return 2;  // STRING
}

bool wanted(const std::optional<std::vector<std::string>>& keys, const std::string& name) {
  if (!keys || keys->empty()) return true;
  return std::find(keys->begin(), keys->end(), name) != keys->end();
}

// Kafka's listener list form: NAME://host:port,...
std::string listener_list(const BrokerServices& s) {
  if (s.listeners.empty()) return "PLAINTEXT://" + s.advertised_host + ":" + std::to_string(s.advertised_port);
  std::string out;
  for (const auto& l : s.listeners) {
    if (!out.empty()) out += ",";
    const bool v6 = l.host.find(':') != std::string::npos;
    out += l.name + "://" + (v6 ? "[" + l.host + "]" : l.host) + ":" + std::to_string(l.port);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> broker_configs(const BrokerServices& s) {
  const BrokerConfig& c = *s.config;
  const bool bare_listen = c.listen.find("://") == std::string::npos;
  return {
      {"advertised.listeners", listener_list(s)},
      {"auto.create.topics.enable", c.auto_create_topics ? "true" : "false"},
      {"broker.id", std::to_string(s.node_id)},
      {"connections.max.idle.ms", std::to_string(c.idle_timeout_ms)},
      {"group.initial.rebalance.delay.ms", std::to_string(c.group_initial_rebalance_delay_ms)},
      {"group.max.session.timeout.ms", std::to_string(c.group_max_session_timeout_ms)},
      {"group.min.session.timeout.ms", std::to_string(c.group_min_session_timeout_ms)},
      {"listeners", bare_listen ? "PLAINTEXT://" + c.listen : c.listen},
      {"log.dirs", c.data_dir},
      {"log.retention.check.interval.ms", std::to_string(c.retention_check_interval_ms)},
      {"max.connections", std::to_string(c.max_connections)},
      {"num.partitions", std::to_string(c.default_partitions)},
      {"socket.request.max.bytes", std::to_string(c.max_request_bytes)},
  };
}

using Resource = kafka::protocol::DescribeConfigsResponse::DescribeConfigsResult;
using Entry = kafka::protocol::DescribeConfigsResponse::DescribeConfigsResourceResult;

void describe_topic_configs(BrokerServices& s, const kafka::protocol::DescribeConfigsRequest& req,
                            const kafka::protocol::DescribeConfigsRequest::DescribeConfigsResource& res, int16_t version,
                            Resource& out) {
  auto md = s.logs->describe_topic(res.resource_name);
  if (!md.ok()) {
    out.error_code = to_int16(ErrorCode::kUnknownTopicOrPartition);
    out.error_message = md.error().message;
    return;
  }
  for (const auto& def : engine::topic_config_defs()) {
    if (!wanted(res.configuration_keys, def.name)) continue;
    auto it = md->overrides.find(def.name);
    const bool overridden = it != md->overrides.end();
    Entry e;
    e.name = def.name;
    e.value = overridden ? it->second : def.default_value;
    e.read_only = false;
    e.is_default = version == 0 && !overridden;  // v0 only
    e.config_source = overridden ? kSourceDynamicTopic : kSourceDefault;
    e.is_sensitive = false;
    if (version >= 1 && req.include_synonyms) {
      if (overridden) e.synonyms.push_back({def.name, it->second, kSourceDynamicTopic, {}});
      e.synonyms.push_back({def.name, def.default_value, kSourceDefault, {}});
    }
    e.config_type = config_type_of(def.name, def.default_value);
    e.documentation = (version >= 3 && req.include_documentation) ? std::optional<std::string>(def.doc) : std::nullopt;
    out.configs.push_back(std::move(e));
  }
}

void describe_broker_configs(BrokerServices& s, const kafka::protocol::DescribeConfigsRequest& req,
                             const kafka::protocol::DescribeConfigsRequest::DescribeConfigsResource& res, int16_t version,
                             Resource& out) {
  if (!res.resource_name.empty() && res.resource_name != std::to_string(s.node_id)) {
    out.error_code = to_int16(ErrorCode::kInvalidRequest);
    out.error_message = "this broker's id is " + std::to_string(s.node_id);
    return;
  }
  for (const auto& [name, value] : broker_configs(s)) {
    if (!wanted(res.configuration_keys, name)) continue;
    Entry e;
    e.name = name;
    e.value = value;
    e.read_only = true;
    e.is_default = false;
    e.config_source = kSourceStaticBroker;
    if (version >= 1 && req.include_synonyms) e.synonyms.push_back({name, value, kSourceStaticBroker, {}});
    e.config_type = config_type_of(name, value);
    e.documentation = std::nullopt;
    out.configs.push_back(std::move(e));
  }
}

std::vector<std::string> split_list(const std::string& v) {
  std::vector<std::string> out;
  std::stringstream ss(v);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

std::string default_of(const std::string& name) {
  for (const auto& d : engine::topic_config_defs()) {
    if (d.name == name) return d.default_value;
  }
  return "";
}

// Applies a topic config change; returns the error (code + message) or NONE.
std::pair<ErrorCode, std::string> alter_topic(BrokerServices& s, const std::string& topic,
                                              const std::map<std::string, std::string>& set,
                                              const std::vector<std::string>& remove, bool validate_only,
                                              const std::string& client_id) {
  auto md = s.logs->describe_topic(topic);
  if (!md.ok()) return {ErrorCode::kUnknownTopicOrPartition, md.error().message};
  for (const auto& [k, v] : set) {
    if (auto st = engine::validate_topic_config(k, v); !st.ok()) return {ErrorCode::kInvalidConfig, st.error().message};
  }
  if (validate_only) return {ErrorCode::kNone, ""};
  auto st = s.logs->alter_configs(topic, set, remove);
  if (!st.ok()) {
    return {st.error().code == streamctl::ErrorCode::kInvalidArgument ? ErrorCode::kInvalidConfig
                                                                   : kafka::protocol::to_kafka_error(st.error()),
            st.error().message};
  }
  log_info("topic configs altered").kv("topic", topic).kv("set", set.size()).kv("removed", remove.size())
      .kv("client_id", client_id);
  return {ErrorCode::kNone, ""};
}

}  // namespace

kafka::protocol::DescribeConfigsResponse handle_describe_configs(RequestContext& ctx,
                                                          const kafka::protocol::DescribeConfigsRequest& req) {
  BrokerServices& s = *ctx.services;
  kafka::protocol::DescribeConfigsResponse resp;
  for (const auto& res : req.resources) {
    Resource out;
    out.resource_type = res.resource_type;
    out.resource_name = res.resource_name;
    out.error_message = std::nullopt;
    if (res.resource_type == kResourceTopic) {
      describe_topic_configs(s, req, res, ctx.api_version(), out);
    } else if (res.resource_type == kResourceBroker) {
      describe_broker_configs(s, req, res, ctx.api_version(), out);
    } else {
      out.error_code = to_int16(ErrorCode::kInvalidRequest);
      out.error_message = "resource type " + std::to_string(res.resource_type) + " is not supported";
    }
    resp.results.push_back(std::move(out));
  }
  return resp;
}

kafka::protocol::AlterConfigsResponse handle_alter_configs(RequestContext& ctx, const kafka::protocol::AlterConfigsRequest& req) {
  BrokerServices& s = *ctx.services;
  kafka::protocol::AlterConfigsResponse resp;
  for (const auto& res : req.resources) {
    kafka::protocol::AlterConfigsResponse::AlterConfigsResourceResponse r;
    r.resource_type = res.resource_type;
    r.resource_name = res.resource_name;
    r.error_message = std::nullopt;
    if (res.resource_type != kResourceTopic) {
      r.error_code = to_int16(ErrorCode::kInvalidRequest);
      r.error_message = "only topic configs can be altered; broker settings come from flags and --config";
    } else {
      // AlterConfigs replaces the whole set of overrides.
      std::map<std::string, std::string> set;
      for (const auto& c : res.configs) {
        if (c.value) set[c.name] = *c.value;
      }
      std::vector<std::string> remove;
      if (auto md = s.logs->describe_topic(res.resource_name); md.ok()) {
        for (const auto& [k, _] : md->overrides) {
          if (!set.count(k)) remove.push_back(k);
        }
      }
      std::unique_lock<std::shared_mutex> topics_lock(s.topics_mu);
      auto [code, msg] = alter_topic(s, res.resource_name, set, remove, req.validate_only, ctx.client_id());
      r.error_code = to_int16(code);
      if (code != ErrorCode::kNone) r.error_message = msg;
    }
    resp.responses.push_back(std::move(r));
  }
  return resp;
}

kafka::protocol::IncrementalAlterConfigsResponse handle_incremental_alter_configs(
    RequestContext& ctx, const kafka::protocol::IncrementalAlterConfigsRequest& req) {
  BrokerServices& s = *ctx.services;
  kafka::protocol::IncrementalAlterConfigsResponse resp;
  for (const auto& res : req.resources) {
    kafka::protocol::IncrementalAlterConfigsResponse::AlterConfigsResourceResponse r;
    r.resource_type = res.resource_type;
    r.resource_name = res.resource_name;
    r.error_message = std::nullopt;
    ErrorCode code = ErrorCode::kNone;
    std::string msg;
    if (res.resource_type != kResourceTopic) {
      code = ErrorCode::kInvalidRequest;
      msg = "only topic configs can be altered; broker settings come from flags and --config";
    } else {
      auto md = s.logs->describe_topic(res.resource_name);
      std::map<std::string, std::string> set;
      std::vector<std::string> remove;
      std::set<std::string> seen;
      if (!md.ok()) {
        code = ErrorCode::kUnknownTopicOrPartition;
        msg = md.error().message;
      }
      for (const auto& c : res.configs) {
        if (code != ErrorCode::kNone) break;
        if (!seen.insert(c.name).second) {
          code = ErrorCode::kInvalidRequest;
          msg = "config '" + c.name + "' appears more than once";
          break;
        }
        auto cur_it = md->overrides.find(c.name);
        std::string current = cur_it != md->overrides.end() ? cur_it->second : default_of(c.name);
        switch (c.config_operation) {
          case 0:  // SET
            if (!c.value) {
              code = ErrorCode::kInvalidRequest;
              msg = "SET of '" + c.name + "' needs a value";
            } else {
              set[c.name] = *c.value;
            }
            break;
          case 1:  // DELETE
            remove.push_back(c.name);
            break;
          case 2:    // APPEND
          case 3: {  // SUBTRACT
            if (c.name != "cleanup.policy") {
              code = ErrorCode::kInvalidConfig;
              msg = "APPEND/SUBTRACT apply only to list configs (cleanup.policy), not '" + c.name + "'";
              break;
            }
            auto items = split_list(current);
            for (const auto& v : split_list(c.value.value_or(""))) {
              auto pos = std::find(items.begin(), items.end(), v);
              if (c.config_operation == 2 && pos == items.end()) items.push_back(v);
              if (c.config_operation == 3 && pos != items.end()) items.erase(pos);
            }
            set[c.name] = join_list(items);
            break;
          }
          default:
            code = ErrorCode::kInvalidRequest;
            msg = "unknown config operation " + std::to_string(c.config_operation);
        }
      }
      if (code == ErrorCode::kNone) {
        std::unique_lock<std::shared_mutex> topics_lock(s.topics_mu);
        std::tie(code, msg) = alter_topic(s, res.resource_name, set, remove, req.validate_only, ctx.client_id());
      }
    }
    r.error_code = to_int16(code);
    if (code != ErrorCode::kNone) r.error_message = msg;
    resp.responses.push_back(std::move(r));
  }
  return resp;
}

}  // namespace streamctl::server::handlers
