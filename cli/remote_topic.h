// Topic administration against a Kafka-protocol cluster (Admin API through librdkafka), for `streamctl
// topic` when the backend is remote. Results come back in the engine's own shapes (engine::TopicMetadata,
// PartitionOffsets), so topic_cmd.cc prints both backends with the same code.
//
// What a cluster does not expose through librdkafka 2.0 (partition sizes, segment counts, topic ids,
// creation time, newest timestamp) is left unknown (nullopt / empty / 0 / -1) and printed as "-" or null.
// Thread-compatible; the KafkaClient is not owned.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/kafka_client.h"
#include "engine/log_manager.h"
#include "base/result.h"

namespace streamctl::cli {

// One partition as `topic describe` shows it.
struct PartitionDescription {
  int32_t partition = 0;
  int64_t log_start_offset = 0;
  int64_t log_end_offset = 0;
  std::optional<uint64_t> size_bytes;  // unknown remotely
  std::optional<size_t> segments;      // unknown remotely
  int64_t max_timestamp = -1;          // -1: none / unknown
  std::optional<int32_t> leader;       // remote only: the leader broker id (-1: none)
  std::vector<int32_t> replicas;       // remote only
  std::vector<int32_t> isr;            // remote only
};

// Topic names, sorted (internal "__" topics left out, as embedded list does not have them).
Result<std::vector<std::string>> remote_list_topics(const KafkaClient& client);
// One config of a topic as DescribeConfigs reports it: its effective value and whether it is a topic
// override (else a broker default).
struct RemoteConfigEntry {
  std::string value;
  bool topic_override = false;
};
// Every config of a topic (effective values), by name. kNotFound when the topic does not exist.
Result<std::map<std::string, RemoteConfigEntry>> remote_topic_configs(const KafkaClient& client,
                                                                          const std::string& name);
// Name, partition count and config overrides (topic_id empty, created_ms 0: unknown remotely).
Result<engine::TopicMetadata> remote_topic_metadata(const KafkaClient& client, const std::string& name);
// Per-partition offsets (and leaders) of a topic.
Result<std::vector<PartitionDescription>> remote_partitions(const KafkaClient& client,
                                                                     const std::string& name);
Status remote_delete_topic(const KafkaClient& client, const std::string& name);
// Sets `set` and removes `remove` overrides, keeping the others (AlterConfigs replaces the whole set, so
// the current overrides are read first).
Status remote_alter_topic_configs(const KafkaClient& client, const std::string& name,
                                          const std::map<std::string, std::string>& set,
                                          const std::vector<std::string>& remove);
Status remote_add_partitions(const KafkaClient& client, const std::string& name, int32_t total);

// A client for admin work on `settings` (a producer handle: no group, no subscription).
Result<std::unique_ptr<KafkaClient>> admin_client(const ConnectionSettings& settings,
                                                          const GlobalOptions& global);

}  // namespace streamctl::cli
