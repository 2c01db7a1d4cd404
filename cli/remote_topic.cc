#include "cli/remote_topic.h"

#include <algorithm>

namespace streamctl::cli {

namespace {

// The first error of an admin result's per-topic results, named after the topic.
Status topic_results_status(const KafkaClient& client, const rd_kafka_topic_result_t** results, size_t n,
                                    const std::string& doing) {
  for (size_t i = 0; i < n; ++i) {
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    std::string name = rd_kafka_topic_result_name(results[i]);
    if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      return Error::not_found("topic '" + name + "' does not exist on " + client.settings().brokers);
    }
    Error e = client.request_error(err, doing + " '" + name + "'");
    const char* msg = rd_kafka_topic_result_error_string(results[i]);
    if (msg != nullptr && msg[0] != '\0' && e.message.find(msg) == std::string::npos) e.message += " (" + std::string(msg) + ")";
    return e;
  }
  return ok_status();
}

}  // namespace

Result<std::unique_ptr<KafkaClient>> admin_client(const ConnectionSettings& settings,
                                                          const GlobalOptions& global) {
  return KafkaClient::create(KafkaClient::Kind::kProducer, settings, {}, global);
}

Result<std::vector<std::string>> remote_list_topics(const KafkaClient& client) {
  auto md = client.metadata(nullptr);
  if (!md.ok()) return std::move(md).error();
  std::vector<std::string> names;
  for (const auto& t : md->topics) {
    if (t.name.rfind("__", 0) == 0) continue;
    names.push_back(t.name);
  }
  return names;
}

Result<std::map<std::string, RemoteConfigEntry>> remote_topic_configs(const KafkaClient& client,
                                                                          const std::string& name) {
  rd_kafka_ConfigResource_t* res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str());
  auto ev = client.admin(
      RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS,
      [&](rd_kafka_queue_t* q, rd_kafka_AdminOptions_t* opts) {
        rd_kafka_DescribeConfigs(client.handle(), &res, 1, opts, q);
      },
      "configs of topic '" + name + "'");
  rd_kafka_ConfigResource_destroy(res);
  if (!ev.ok()) return std::move(ev).error();
  size_t n = 0;
  const rd_kafka_ConfigResource_t** resources =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev->get()), &n);
  std::map<std::string, RemoteConfigEntry> out;
  for (size_t i = 0; i < n; ++i) {
    rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(resources[i]);
    if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      return Error::not_found("topic '" + name + "' does not exist on " + client.settings().brokers);
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return client.request_error(err, "configs of topic '" + name + "'");
    size_t cn = 0;
    const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(resources[i], &cn);
    for (size_t j = 0; j < cn; ++j) {
      const char* value = rd_kafka_ConfigEntry_value(entries[j]);
      out[rd_kafka_ConfigEntry_name(entries[j])] =
          RemoteConfigEntry{value != nullptr ? value : "",
                            rd_kafka_ConfigEntry_source(entries[j]) == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG};
    }
  }
  return out;
}

Result<engine::TopicMetadata> remote_topic_metadata(const KafkaClient& client, const std::string& name) {
  auto t = client.topic(name);
  if (!t.ok()) return std::move(t).error();
  engine::TopicMetadata md;
  md.name = name;
  md.partitions = int32_t(t->partitions.size());
  auto configs = remote_topic_configs(client, name);
  if (!configs.ok()) return std::move(configs).error();
  for (auto& [k, entry] : *configs) {
    if (entry.topic_override) md.overrides[k] = std::move(entry.value);
  }
  return md;
}

Result<std::vector<PartitionDescription>> remote_partitions(const KafkaClient& client,
                                                                     const std::string& name) {
  auto t = client.topic(name);
  if (!t.ok()) return std::move(t).error();
  std::vector<PartitionDescription> out;
  for (const auto& p : t->partitions) {
    PartitionDescription d;
    d.partition = p.id;
    d.leader = p.leader;
    d.replicas = p.replicas;
    d.isr = p.isr;
    if (p.leader >= 0) {
      auto wm = client.watermarks(name, p.id);
      if (!wm.ok()) return std::move(wm).error();
      d.log_start_offset = wm->first;
      d.log_end_offset = wm->second;
    }
    out.push_back(std::move(d));
  }
  return out;
}

Status remote_delete_topic(const KafkaClient& client, const std::string& name) {
  rd_kafka_DeleteTopic_t* dt = rd_kafka_DeleteTopic_new(name.c_str());
  auto ev = client.admin(
      RD_KAFKA_ADMIN_OP_DELETETOPICS,
      [&](rd_kafka_queue_t* q, rd_kafka_AdminOptions_t* opts) { rd_kafka_DeleteTopics(client.handle(), &dt, 1, opts, q); },
      "deleting topic '" + name + "'");
  rd_kafka_DeleteTopic_destroy(dt);
  if (!ev.ok()) return std::move(ev).error();
  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev->get()), &n);
  return topic_results_status(client, results, n, "cannot delete topic");
}

Status remote_alter_topic_configs(const KafkaClient& client, const std::string& name,
                                          const std::map<std::string, std::string>& set,
                                          const std::vector<std::string>& remove) {
  auto md = remote_topic_metadata(client, name);
  if (!md.ok()) return std::move(md).error();
  std::map<std::string, std::string> configs = md->overrides;
  for (const auto& k : remove) configs.erase(k);
  for (const auto& [k, v] : set) configs[k] = v;
  rd_kafka_ConfigResource_t* res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str());
  for (const auto& [k, v] : configs) rd_kafka_ConfigResource_set_config(res, k.c_str(), v.c_str());
  auto ev = client.admin(
      RD_KAFKA_ADMIN_OP_ALTERCONFIGS,
      [&](rd_kafka_queue_t* q, rd_kafka_AdminOptions_t* opts) { rd_kafka_AlterConfigs(client.handle(), &res, 1, opts, q); },
      "altering topic '" + name + "'");
  rd_kafka_ConfigResource_destroy(res);
  if (!ev.ok()) return std::move(ev).error();
  size_t n = 0;
  const rd_kafka_ConfigResource_t** resources =
      rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev->get()), &n);
  for (size_t i = 0; i < n; ++i) {
    rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(resources[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    Error e = client.request_error(err, "cannot alter topic '" + name + "'");
    const char* msg = rd_kafka_ConfigResource_error_string(resources[i]);
    if (msg != nullptr && msg[0] != '\0') e.message += " (" + std::string(msg) + ")";
    return e;
  }
  return ok_status();
}

Status remote_add_partitions(const KafkaClient& client, const std::string& name, int32_t total) {
  char errstr[256];
  rd_kafka_NewPartitions_t* np = rd_kafka_NewPartitions_new(name.c_str(), size_t(total), errstr, sizeof errstr);
  if (np == nullptr) return Error::invalid_argument("topic '" + name + "': " + errstr);
  auto ev = client.admin(
      RD_KAFKA_ADMIN_OP_CREATEPARTITIONS,
      [&](rd_kafka_queue_t* q, rd_kafka_AdminOptions_t* opts) {
        rd_kafka_CreatePartitions(client.handle(), &np, 1, opts, q);
      },
      "adding partitions to topic '" + name + "'");
  rd_kafka_NewPartitions_destroy(np);
  if (!ev.ok()) return std::move(ev).error();
  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev->get()), &n);
  return topic_results_status(client, results, n, "cannot add partitions to topic");
}

}  // namespace streamctl::cli
