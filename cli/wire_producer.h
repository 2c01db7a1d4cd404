// The native produce path of `streamctl produce --brokers`: a RecordWriter that encodes RecordBatch v2
// itself, with the engine's encoder (the very bytes the embedded log writes), and sends Produce requests
// over its own connections to the partition leaders: pipelined (up to 5 requests in flight a connection),
// idempotent when the broker supports it (InitProducerId; a retried batch is never written twice), retried
// on leader changes and lost connections until delivery.timeout.ms, acks 0/1/all.
//
// Why not librdkafka here: librdkafka costs ~300 ns of client CPU per message (allocation, queueing,
// re-encoding each record), which caps `produce --brokers` at a quarter of embedded `produce` on the same
// file; batches built from the lines as they are read cost what the embedded path costs. librdkafka stays
// the client for everything else (metadata, admin, consume, groups) and for produce whenever a setting
// needs it: TLS or SASL, or any -X property this path does not implement (wire_producer_config says which),
// or STREAMCTL_KAFKA_PRODUCER=librdkafka.
//
// Records go to the partition StickyPartitioner chose, like the librdkafka writer, so the two paths put
// records in the same places. flush_touched() returns once every record is acknowledged or has failed;
// failures make it (and the next added()) return an error saying how many records failed and why.
// Ownership: the writer owns its KafkaClient (used for metadata) and its sockets. Thread-compatible.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "cli/command.h"
#include "cli/record_writer.h"
#include "kafka/format/record_batch.h"
#include "base/result.h"

namespace streamctl::cli {

class KafkaClient;

// The producer settings the native path implements, from librdkafka property names.
struct WireProducerConfig {
  int16_t acks = -1;                       // acks / request.required.acks: 0, 1, -1 (all)
  bool idempotence = true;                 // enable.idempotence (only with acks=all, as Kafka requires)
  size_t max_batch_bytes = 1000000;        // batch.size: the largest RecordBatch sent
  Compression compression = Compression::kNone;  // compression.codec / compression.type
  int32_t compression_level = -1;          // compression.level
  std::string client_id = "streamctl";     // client.id
  int32_t request_timeout_ms = 30000;      // request.timeout.ms: the broker's wait and ours for a response
  int64_t delivery_timeout_ms = 300000;    // message.timeout.ms / delivery.timeout.ms: give up retrying after
  int64_t retry_backoff_ms = 100;          // retry.backoff.ms (doubles per retry, at most 1 s)
  int max_in_flight = 5;                   // max.in.flight(.requests.per.connection), at most 5 when idempotent
};

// The native configuration for `properties` (-X / profile) and --compression (empty = not given), or
// nullopt with *why_not saying which setting needs librdkafka (also when STREAMCTL_KAFKA_PRODUCER says
// so). kInvalidArgument for a value of an implemented property that is malformed.
Result<std::optional<WireProducerConfig>> wire_producer_config(
    const std::map<std::string, std::string>& properties, const std::string& compression, std::string* why_not);

// Connects to the leaders of `topic` (metadata through `client`), negotiates versions and, when asked
// and supported, an idempotent producer id. kNotSupported when a broker cannot take RecordBatch v2
// produce requests (Produce v3+), so the caller can use librdkafka instead; connection errors otherwise.
// Takes `client` on success; on error `client` is left to the caller.
Result<std::unique_ptr<RecordWriter>> open_wire_writer(std::unique_ptr<KafkaClient>& client,
                                                               const std::string& topic, int32_t partitions,
                                                               const WireProducerConfig& config,
                                                               StickyPartitioner partitioner,
                                                               const GlobalOptions& global);

}  // namespace streamctl::cli
