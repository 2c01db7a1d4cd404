// RecordWriter: where `streamctl produce` puts the records it parsed, the backend interface of produce.
// The embedded writer (cli/produce_cmd.cc) appends chunks to engine::Logs and fsyncs them; the Kafka
// writer (cli/remote_produce.h) hands each record to librdkafka and waits for delivery reports. Both get
// the same records, partitioned by the same StickyPartitioner, so output and exit codes do not depend on
// the backend.
//
// Protocol, per record: slot(p) returns a Record to fill in (reused: its strings keep their capacity), then
// added(p, bytes) takes it. append_all() hands over everything pending; flush_touched() returns once every
// record handed over is durable (local: fsync; Kafka: acknowledged per the producer's acks). The
// counters count only records that made it. Ownership: the caller owns the writer. Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command.h"
#include "kafka/format/record_batch.h"
#include "base/result.h"
#include "kafka/format/types.h"
#include "kafka/client/partitioner.h"

namespace streamctl::cli {

// The partitioner lives with the Kafka client (both backends use it).
using kafka::client::kDefaultBatchBytes;
using kafka::client::StickyPartitioner;

// dst = src, reusing dst's capacity.
inline void assign_optional(std::optional<std::string>& dst, std::optional<std::string_view> src) {
  if (!src) {
    dst.reset();
    return;
  }
  if (!dst) dst.emplace();
  dst->assign(src->data(), src->size());
}

class RecordWriter {
 public:
  explicit RecordWriter(StickyPartitioner partitioner) : partitioner_(std::move(partitioner)) {}
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;
  virtual ~RecordWriter() = default;

  // The slot for the next record of partition p. REQUIRES: 0 <= p < partitions.
  virtual Result<Record*> slot(PartitionId p) = 0;
  // Takes the record just filled in (bytes: its payload size, for batching decisions).
  virtual Status added(PartitionId p, size_t bytes) = 0;
  // slot() + added() for a record given by its fields (views, used only during the call): the line path.
  // The embedded writer encodes them straight into the batch it is building (one copy, no Record); this
  // default fills a slot.
  virtual Status add(PartitionId p, std::optional<std::string_view> key, std::optional<std::string_view> value,
                     const std::vector<RecordHeader>& headers, Timestamp timestamp, size_t bytes) {
    STREAMCTL_ASSIGN_OR_RETURN(Record * r, slot(p));
    assign_optional(r->key, key);
    assign_optional(r->value, value);
    if (r->headers != headers) r->headers = headers;
    r->timestamp = timestamp;
    return added(p, bytes);
  }
  // Hands every pending record to the log / the client and waits until they are accepted (not yet durable).
  virtual Status append_all() = 0;
  // Waits for background work (append thread) to finish; its first error.
  virtual Status drain() = 0;
  virtual bool has_pending() const = 0;
  // Makes everything handed over durable. REQUIRES: append_all() first. The Kafka writer's error says how
  // many records failed delivery.
  virtual Status flush_touched() = 0;
  // Monotonic ns of the last flush_touched (idle pipes flush at most once a second).
  virtual int64_t last_flush_ns() const = 0;
  // Post-flush housekeeping (embedded retention); warnings only.
  virtual void apply_retention(const GlobalOptions&) {}

  virtual int64_t records_written() const = 0;
  virtual uint64_t bytes_written() const = 0;
  virtual const std::set<PartitionId>& touched() const = 0;

  StickyPartitioner& partitioner() { return partitioner_; }

 private:
  StickyPartitioner partitioner_;
};

}  // namespace streamctl::cli
