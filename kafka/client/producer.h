// Producer: the pipelined, idempotent Kafka producer. It encodes RecordBatch v2 itself, with
// kafka/format's encoder (the very bytes the embedded log writes), and sends Produce requests over its own
// BrokerConnections to the partition leaders (found with native Metadata from the bootstrap list):
// pipelined (up to max_in_flight requests a connection), idempotent when asked and the cluster supports
// it (InitProducerId; a retried batch is never written twice), retried on leader changes, retriable
// broker errors and lost connections until delivery_timeout_ms, acks 0/1/all.
//
// Protocol, per record: slot(p) returns a Record to fill in (reused: its strings keep their capacity),
// then added(p, bytes) takes it (bytes: its payload size, for batching). send_all() hands everything
// waiting to the brokers; flush() returns once every record is acknowledged or has failed. Failures make
// flush() (and the next added()) return an error saying how many records failed and the first reason:
//   "3 of 10 records failed delivery to 't' (first: partition 0: broker error MESSAGE_TOO_LARGE)"
// with the ErrorCode of that reason (errors.h; kUnavailable for a lost connection, kTimeout for a record
// not delivered within delivery_timeout_ms).
//
// Parts: RecordAccumulator (accumulator.h: records into batches), Idempotence (idempotence.h: producer id
// and sequences) and the sender here (connections to the leaders, requests in flight, retries, outcomes).
// Ownership: the producer owns its connections. Thread-compatible (one thread drives it; the callbacks in
// ProducerOptions run on that thread).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "kafka/client/connection.h"
#include "kafka/format/record_batch.h"
#include "kafka/format/types.h"

namespace streamctl::kafka::client {

struct ProducerOptions {
  int16_t acks = -1;                             // 0, 1, -1 (all)
  bool idempotence = true;                       // only with acks=all (a Kafka rule; ignored otherwise)
  size_t max_batch_bytes = 1000000;              // the largest RecordBatch sent
  Compression compression = Compression::kNone;
  int32_t compression_level = -1;
  std::string client_id = "streamctl";           // at most 32767 bytes
  int32_t connect_timeout_ms = 10000;
  int32_t request_timeout_ms = 30000;            // the broker's wait (acks) and ours for a response
  int64_t delivery_timeout_ms = 300000;          // give up retrying a batch after this long
  int64_t retry_backoff_ms = 100;                // doubles per retry, at most 1 s
  int max_in_flight = 5;                         // requests a connection; at most 5 when idempotent
  Dialer dial;                                   // how connections are made (connection.h); empty: plain TCP
  // Progress and retry messages (the CLI prints them with -v); may be empty.
  std::function<void(const std::string&)> log;
  // Polled while waiting: true stops flush() and back-pressure waits; what is undelivered then fails.
  std::function<bool()> interrupted;
};

struct ProducerStats {
  int64_t records_handed = 0;      // added()
  int64_t records_delivered = 0;   // acknowledged (acks=0: written)
  uint64_t bytes_delivered = 0;    // their key + value bytes
  int64_t records_failed = 0;
  int64_t requests_sent = 0;       // Produce requests, retries included
  int64_t batches_retried = 0;
  int max_in_flight_seen = 0;      // the most Produce requests one connection had in flight
};

class Producer {
 public:
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Asks the bootstrap brokers for the leaders of `topic` (`partitions` partitions), connects to them,
  // negotiates versions and, when asked and supported, an idempotent producer id. kNotSupported when a
  // leader cannot take RecordBatch v2 produce requests (Produce v3-v8); connection errors otherwise.
  static Result<std::unique_ptr<Producer>> open(const std::vector<BrokerAddress>& bootstrap, std::string topic,
                                                int32_t partitions, ProducerOptions options);

  // The slot for the next record of partition p. REQUIRES: 0 <= p < partitions.
  Record* slot(PartitionId p);
  // Takes the record just filled in; sends full batches. Errors: an earlier failure (see the file comment).
  Status added(PartitionId p, size_t bytes);
  // Encodes and sends every waiting record (does not wait for acknowledgements).
  Status send_all();
  // send_all, then waits until every record is acknowledged or failed.
  Status flush();
  // Records added but not acknowledged or failed yet.
  bool has_pending() const;

  const ProducerStats& stats() const;
  // The idempotent producer id, -1 when not idempotent.
  int64_t producer_id() const;

 private:
  class Impl;
  explicit Producer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamctl::kafka::client
