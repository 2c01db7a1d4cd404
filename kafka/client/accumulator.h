// RecordAccumulator: the producer's records on their way into RecordBatches. Records are filled in place
// (slot/added; a slot's strings keep their capacity for the next record), counted towards a size
// estimate, and encoded with kafka/format's encoder into batches of at most max_batch_bytes when a
// partition has a full batch waiting, or all of them on a flush. The encoded batches wait per partition,
// in sequence order, until the sender releases them (delivered or failed); their buffers are reused.
// Thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "base/result.h"
#include "kafka/client/idempotence.h"
#include "kafka/format/record_batch.h"
#include "kafka/format/types.h"

namespace streamctl::kafka::client {

// One encoded RecordBatch waiting for delivery.
struct ProducerBatch {
  int32_t partition = 0;
  int32_t records = 0;
  uint64_t payload_bytes = 0;  // key + value bytes of its records
  Bytes bytes;                 // the RecordBatch in bytes[0, size)
  size_t size = 0;
  bool in_flight = false;      // the sender's: part of an unanswered request
  int64_t created_ns = 0;      // mono_ns() when encoded (the delivery timeout counts from here)
};

class RecordAccumulator {
 public:
  RecordAccumulator(int32_t partitions, size_t max_batch_bytes, Compression compression, int32_t compression_level)
      : parts_(size_t(partitions)),
        max_batch_bytes_(max_batch_bytes),
        compression_(compression),
        compression_level_(compression_level) {}

  // The slot for the next record of partition p. REQUIRES: 0 <= p < partitions.
  Record* slot(PartitionId p);
  // Counts the record just filled in (bytes: its payload size); true when p has a full batch to encode.
  bool added(PartitionId p, size_t bytes);
  // Encodes p's waiting records into batches: all of them, or only while a full batch waits. Batches are
  // stamped by `idempotence` (producer id, epoch, sequence), whose sequence advances.
  Status encode(PartitionId p, bool all, Idempotence& idempotence);

  // p's encoded batches not yet released, in sequence order.
  std::deque<std::unique_ptr<ProducerBatch>>& batches(PartitionId p) { return parts_[size_t(p)].batches; }
  // Drops `batch` from its partition's (delivered or failed for good); its buffer is kept for reuse.
  void release(ProducerBatch& batch);

  int32_t partitions() const { return int32_t(parts_.size()); }
  // Encoded batches not yet released, all partitions.
  int buffered_batches() const { return buffered_batches_; }
  // Buffered batches, or records not yet encoded.
  bool has_pending() const;

 private:
  static constexpr size_t kRecordOverhead = 12;  // length, attributes, deltas, key/value lengths, headers count
  static constexpr size_t kBatchOverhead = 61;   // RecordBatch v2 header

  struct Partition {
    std::vector<Record> records;  // records[0, used) wait to be encoded
    size_t used = 0;
    size_t estimate = 0;          // their encoded size, roughly
    std::deque<std::unique_ptr<ProducerBatch>> batches;
  };

  bool full(const Partition& s) const { return s.estimate + kBatchOverhead >= max_batch_bytes_; }
  std::unique_ptr<ProducerBatch> take_batch();

  std::vector<Partition> parts_;
  size_t max_batch_bytes_;
  Compression compression_;
  int32_t compression_level_;
  std::vector<std::unique_ptr<ProducerBatch>> free_;
  int buffered_batches_ = 0;
};

}  // namespace streamctl::kafka::client
