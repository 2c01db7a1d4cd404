// `streamctl produce` against a Kafka-protocol cluster: the RecordWriter that hands records to a
// librdkafka producer (one rd_kafka_producev per record, copied, to the partition StickyPartitioner chose,
// so keyed records land where the embedded engine and Java clients put them) and counts delivery reports.
// flush_touched() waits until every record was acknowledged or failed; failures make it return an error
// saying how many records of how many failed and the first reason.
// Ownership: the writer owns its KafkaClient. Thread-compatible (delivery reports run inside poll calls
// made by the writer's own methods).
#pragma once

#include <memory>
#include <string>

#include "cli/client_config.h"
#include "cli/command.h"
#include "cli/record_writer.h"
#include "base/result.h"

namespace streamctl::cli {

struct RemoteProduceRequest {
  std::string topic;
  bool create_missing = true;     // create the topic (CreateTopics) when the cluster does not have it
  int32_t create_partitions = 1;  // its partition count then (replication: the cluster's default)
  std::string compression;        // none|gzip|snappy|lz4|zstd; empty = the client's default (none)
  int64_t batch_bytes = 16384;    // StickyPartitioner's batch size (also librdkafka's batch.size unless -X)
  uint64_t seed = 0;              // StickyPartitioner seed
};

struct RemoteProduceTarget {
  std::unique_ptr<RecordWriter> writer;
  int32_t partitions = 0;  // the topic's partition count
  // The topic's max.message.bytes as the cluster reports it (DescribeConfigs); Kafka's default 1048588
  // when the cluster does not say (the debug log then says so).
  int64_t max_message_bytes = 1048588;
};

// Connects, finds (or creates) the topic and returns a writer for it. kNotFound when the topic is missing
// and create_missing is false; unreachable brokers name the brokers and the wait.
Result<RemoteProduceTarget> open_remote_producer(const ConnectionSettings& settings,
                                                         const GlobalOptions& global,
                                                         const RemoteProduceRequest& request);

// Creates a topic through the Admin API (replication factor: the cluster's default). kAlreadyExists when
// it exists. Shared with `topic create`.
Status create_remote_topic(const class KafkaClient& client, const std::string& topic, int32_t partitions,
                                   const std::map<std::string, std::string>& configs);

}  // namespace streamctl::cli
