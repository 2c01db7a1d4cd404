// The native produce path of `streamctl produce --brokers`: the CLI's side of kafka::client::Producer
// (kafka/client/producer.h, which encodes RecordBatch v2 itself and sends pipelined, idempotent Produce
// requests). Here: which -X properties map to ProducerOptions (the rest need librdkafka), and a
// RecordWriter over the producer with the CLI's -v logging and Ctrl-C.
//
// Why not librdkafka here: librdkafka costs ~300 ns of client CPU per message (allocation, queueing,
// re-encoding each record), which caps `produce --brokers` at a quarter of embedded `produce` on the same
// file; batches built from the lines as they are read cost what the embedded path costs. librdkafka stays
// the client for everything else (admin, consume, groups) and for produce whenever a setting needs it:
// TLS or SASL, or any -X property this path does not implement (wire_producer_config says which), or
// STREAMCTL_KAFKA_PRODUCER=librdkafka.
//
// Records go to the partition StickyPartitioner chose, like the librdkafka writer, so the two paths put
// records in the same places. Thread-compatible.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "cli/command.h"
#include "cli/record_writer.h"
#include "kafka/client/producer.h"

namespace streamctl::cli {

using kafka::client::ProducerOptions;

// The native producer options for `properties` (-X / profile) and --compression (empty = not given), or
// nullopt with *why_not saying which setting needs librdkafka (also when STREAMCTL_KAFKA_PRODUCER says
// so). kInvalidArgument for a value of an implemented property that is malformed.
Result<std::optional<ProducerOptions>> wire_producer_config(const std::map<std::string, std::string>& properties,
                                                            const std::string& compression, std::string* why_not);

// Opens a kafka::client::Producer for `topic` from the bootstrap list `brokers` ("host:port,...") and
// wraps it in a RecordWriter; its progress messages go to debug(global, 1). kNotSupported when a broker
// cannot take RecordBatch v2 produce requests (the caller can use librdkafka instead).
Result<std::unique_ptr<RecordWriter>> open_wire_writer(const std::string& brokers, const std::string& topic,
                                                       int32_t partitions, ProducerOptions options,
                                                       StickyPartitioner partitioner, const GlobalOptions& global);

// Whether a security.protocol value means a plain TCP connection (what kafka/client speaks today),
// case-insensitive.
bool is_plaintext_protocol(const std::string& security_protocol);

}  // namespace streamctl::cli
