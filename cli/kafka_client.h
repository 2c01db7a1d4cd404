// The Kafka backend's connection: RAII wrappers over librdkafka's C API (client handle, configuration,
// admin results), cluster metadata and offset lookups, and the mapping of librdkafka errors to
// Error (so remote commands report and exit exactly like embedded ones: unknown topic -> kNotFound
// -> exit 3, and so on).
//
// Ownership: KafkaClient owns its rd_kafka_t (destroyed, after consumer close, in the destructor); copy is
// deleted. Objects returned by value (ClusterMetadata, ...) own their data. Thread-safety: librdkafka
// handles are thread-safe; KafkaClient adds no state of its own beyond construction.
// librdkafka's own log lines go to stderr only with -v (prefixed "streamctl: librdkafka:").
#pragma once

#include "cli/rdkafka_lazy.h"  // librdkafka, loaded on first use

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/client_config.h"
#include "cli/command.h"
#include "base/result.h"

namespace streamctl::cli {

// How long a remote command waits for the cluster to answer one request (metadata, admin, offsets)
// before it fails with an error naming the brokers and this time, unless -X socket.timeout.ms (librdkafka's
// "default timeout for network requests", which also bounds its admin requests) says otherwise.
inline constexpr std::chrono::milliseconds kRemoteRequestTimeout{15000};
// How long every connection to the brokers may fail (refused, unreachable) before a metadata request gives
// up early with an error saying nothing answers there.
inline constexpr std::chrono::milliseconds kRefusedGiveUp{3000};

// The error code an rd_kafka error maps to: unknown topic/partition/group -> kNotFound, topic exists ->
// kAlreadyExists, invalid request/config/partitions/replication -> kInvalidArgument, transport, timeout and
// all-brokers-down -> kUnavailable / kTimeout, non-empty group -> kBusy, too large -> kRecordTooLarge,
// everything else kIoError.
streamctl::ErrorCode error_code_for(rd_kafka_resp_err_t err);
// An Error with that code and the message "<context>: <librdkafka's description>" (or just the
// description when context is empty).
Error kafka_error(rd_kafka_resp_err_t err, const std::string& context);

// One partition in cluster metadata.
struct PartitionMetadata {
  int32_t id = 0;
  int32_t leader = -1;  // -1 = no leader right now
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
};

struct TopicMetadata {
  std::string name;
  std::vector<PartitionMetadata> partitions;  // sorted by id
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
};

struct BrokerMetadata {
  int32_t id = 0;
  std::string host;
  int port = 0;
};

struct ClusterMetadata {
  std::vector<BrokerMetadata> brokers;  // sorted by id
  std::vector<TopicMetadata> topics;    // sorted by name
  int32_t controller = -1;              // -1 when the cluster did not say
  int32_t answered_by = -1;             // the broker that answered
};

// A connected librdkafka client (producer or consumer handle; either can run admin requests and metadata).
class KafkaClient {
 public:
  enum class Kind { kProducer, kConsumer };

  // Creates the client for `settings` (brokers + properties) plus `extra` properties (set first, so the
  // user's -X / profile properties win). A bad property is kInvalidArgument naming it. Creating does not
  // contact the cluster; the first request does. `customize` may register callbacks (delivery reports,
  // rebalances) and the opaque pointer on the configuration before the handle is made.
  static Result<std::unique_ptr<KafkaClient>> create(
      Kind kind, const ConnectionSettings& settings, const std::map<std::string, std::string>& extra,
      const GlobalOptions& global, const std::function<void(rd_kafka_conf_t*)>& customize = {});
  KafkaClient(const KafkaClient&) = delete;
  KafkaClient& operator=(const KafkaClient&) = delete;
  ~KafkaClient();

  rd_kafka_t* handle() const { return rk_; }
  // The wait for one request: -X socket.timeout.ms, else kRemoteRequestTimeout.
  std::chrono::milliseconds request_timeout() const { return request_timeout_; }
  const ConnectionSettings& settings() const { return settings_; }

  // An error for "the cluster did not answer": names the brokers, where they came from, and the time.
  // `waited`: how long the request was given (0 = the request timeout), as the message says.
  Error unreachable(rd_kafka_resp_err_t err, const std::string& what,
                    std::chrono::milliseconds waited = std::chrono::milliseconds(0)) const;
  // What to check when no broker answers: the missing port of a portless entry, or whether one listens.
  std::string unreachable_advice() const;
  // Maps an error of a request about `what` (e.g. "topic 'x'"): transport/timeout errors become
  // unreachable(); the rest kafka_error(err, what).
  Error request_error(rd_kafka_resp_err_t err, const std::string& what,
                      std::chrono::milliseconds waited = std::chrono::milliseconds(0)) const;

  // Brokers, controller and topics. `topic` non-null: only that topic (beware: a broker with
  // auto.create.topics.enable creates it). Null: every topic, internal ones (__consumer_offsets) included.
  // `timeout` bounds the wait for an answer (cluster health polls with short ones).
  // A zero timeout means request_timeout().
  Result<ClusterMetadata> metadata(const std::string* topic,
                                           std::chrono::milliseconds timeout = std::chrono::milliseconds{0}) const;
  // One topic's metadata (kNotFound naming it when missing).
  Result<TopicMetadata> topic(const std::string& name) const;
  // The log start offset and high watermark of a partition, asked of its leader.
  Result<std::pair<int64_t, int64_t>> watermarks(const std::string& topic, int32_t partition) const;
  // The first offset with timestamp >= ts (ListOffsets by time); the high watermark when there is none.
  Result<int64_t> offset_for_time(const std::string& topic, int32_t partition, int64_t ts) const;

  // Runs an admin request: `start` is called with a fresh result queue and admin options (request timeout
  // set); this waits for the result event (owned by the returned pointer).
  using EventPtr = std::unique_ptr<rd_kafka_event_t, void (*)(rd_kafka_event_t*)>;
  Result<EventPtr> admin(rd_kafka_admin_op_t op,
                                 const std::function<void(rd_kafka_queue_t*, rd_kafka_AdminOptions_t*)>& start,
                                 const std::string& what) const;

 private:
  KafkaClient(rd_kafka_t* rk, Kind kind, ConnectionSettings settings, std::chrono::milliseconds request_timeout)
      : rk_(rk), kind_(kind), settings_(std::move(settings)), request_timeout_(request_timeout) {}
  rd_kafka_t* rk_;
  Kind kind_;
  ConnectionSettings settings_;
  std::chrono::milliseconds request_timeout_;
};

// ---- choosing the backend

// Where a command should run. `remote` nullopt = embedded (the local data directory, nobody serves it).
// `routed` = no cluster was named but a live `streamctl serve` owns the data directory, so the command
// goes through it (the same directory: local on-disk details such as sizes may still be read from it).
struct Backend {
  std::optional<ConnectionSettings> remote;
  bool routed = false;
};

// Resolves --brokers / STREAMCTL_BROKERS / --profile (config file) / -X, then the data directory's serve
// advertisement. Errors for a bad config file or profile, and for a directory whose server is still
// starting. `-v` prints which backend was chosen and why.
Result<Backend> select_backend(const GlobalOptions& global);

}  // namespace streamctl::cli
