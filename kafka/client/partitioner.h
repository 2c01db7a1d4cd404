// Partitioner: where `produce` puts a record, compatible with Kafka's Java client default so keyed records
// land on the same partition whichever client wrote them.
//
//   keyed record (key not null, empty included):  toPositive(murmur2(key)) % partitions   (Utils.murmur2,
//                                                   seed 0x9747b28c; toPositive = & 0x7fffffff)
//   null key:  sticky (Kafka's BuiltInPartitioner, KIP-480/KIP-794): stay on one randomly chosen partition
//              until batch.size bytes (16384 by default) were sent to it, then switch to another one.
// Thread-compatible; one per producer.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "kafka/format/types.h"

namespace streamctl::kafka::client {

// Kafka's Utils.murmur2 (32-bit, seed 0x9747b28c) over the key bytes, as a signed Java int.
int32_t murmur2(std::string_view data);
// Kafka's Utils.toPositive: clears the sign bit.
inline int32_t to_positive(int32_t v) { return v & 0x7fffffff; }
// The partition Kafka's default partitioner picks for a non-null key. REQUIRES num_partitions >= 1.
inline PartitionId partition_for_key(std::string_view key, int32_t num_partitions) {
  return to_positive(murmur2(key)) % num_partitions;
}

// Kafka's default batch.size, the sticky switch threshold.
inline constexpr int64_t kDefaultBatchBytes = 16384;

class StickyPartitioner {
 public:
  // REQUIRES num_partitions >= 1, batch_bytes >= 1. seed drives the random choice (tests pass a fixed one).
  StickyPartitioner(int32_t num_partitions, int64_t batch_bytes, uint64_t seed);

  // The partition for a record: murmur2 for a key, the sticky partition for a null key. record_bytes is
  // the record's size (key + value + headers), counted towards the sticky batch.
  PartitionId partition(const std::optional<std::string_view>& key, size_t record_bytes);

  int32_t num_partitions() const { return num_partitions_; }

 private:
  PartitionId next_sticky();
  uint64_t next_random();

  int32_t num_partitions_;
  int64_t batch_bytes_;
  uint64_t rng_state_;
  PartitionId sticky_ = -1;
  int64_t sticky_bytes_ = 0;
};

}  // namespace streamctl::kafka::client
