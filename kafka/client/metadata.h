// Native Metadata (API key 3) and the bootstrap list: which brokers the cluster has and who leads each
// partition, asked at the highest version both the broker and the generated codec support (v0-v12).
//
// Bootstrap failover: connect_bootstrap tries each address in the order given until one connects and
// answers ApiVersions; when none does, the error lists every address tried with its reason:
//   "cannot reach any bootstrap broker (127.0.0.1:1: cannot connect to broker 127.0.0.1:1: Connection
//    refused; ...)". Thread-compatible.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "kafka/client/connection.h"

namespace streamctl::kafka::client {

struct BrokerMetadata {
  int32_t id = -1;
  std::string host;
  int port = 0;
  std::optional<std::string> rack;

  BrokerAddress address() const { return {host, port}; }
};

struct PartitionMetadata {
  int32_t id = 0;
  int16_t error_code = 0;  // Kafka's (LEADER_NOT_AVAILABLE while an election runs)
  int32_t leader = -1;     // broker id, -1 when none
  int32_t leader_epoch = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
};

struct TopicMetadata {
  std::string name;
  int16_t error_code = 0;  // UNKNOWN_TOPIC_OR_PARTITION for a topic the cluster does not have
  std::vector<PartitionMetadata> partitions;  // ascending by id
};

struct ClusterMetadata {
  std::vector<BrokerMetadata> brokers;
  std::vector<TopicMetadata> topics;
  int32_t controller_id = -1;
  std::optional<std::string> cluster_id;

  const BrokerMetadata* broker(int32_t id) const;
  const TopicMetadata* topic(const std::string& name) const;
};

// Asks `conn` for the metadata of `topics` (nullptr: every topic). Never asks the broker to create a
// topic. A topic-level error stays in TopicMetadata::error_code (the caller decides).
Result<ClusterMetadata> fetch_metadata(BrokerConnection& conn, const std::vector<std::string>* topics);

// Connects to the first bootstrap broker that answers (see the file comment).
Result<std::unique_ptr<BrokerConnection>> connect_bootstrap(const std::vector<BrokerAddress>& bootstrap,
                                                            const ConnectionOptions& options);

// connect_bootstrap + fetch_metadata; a broker that connects but fails the Metadata request is skipped
// like one that does not connect.
Result<ClusterMetadata> bootstrap_metadata(const std::vector<BrokerAddress>& bootstrap,
                                           const ConnectionOptions& options,
                                           const std::vector<std::string>* topics);

// Where a long-lived client (Producer, Fetcher) asks for metadata: one connection kept for it, to the
// first broker that answers among the bootstrap list and then `known` (brokers learnt from earlier
// metadata). A failed request drops the connection; the next call connects again.
class MetadataSource {
 public:
  MetadataSource(std::vector<BrokerAddress> bootstrap, ConnectionOptions options)
      : bootstrap_(std::move(bootstrap)), options_(std::move(options)) {}

  Result<ClusterMetadata> fetch(const std::vector<std::string>* topics, const std::vector<BrokerAddress>& known = {});

 private:
  std::vector<BrokerAddress> bootstrap_;
  ConnectionOptions options_;
  std::unique_ptr<BrokerConnection> conn_;
};

}  // namespace streamctl::kafka::client
