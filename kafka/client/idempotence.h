// Idempotence: the idempotent producer's identity (producer id and epoch from InitProducerId) and each
// partition's next sequence number. A batch carries the id, the epoch and its first record's sequence;
// the broker keeps the last sequences per producer and partition, so a batch sent twice (a retry after a
// lost response) is written once, and a gap is OUT_OF_ORDER_SEQUENCE_NUMBER. Sequences wrap at 2^31.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "kafka/client/connection.h"
#include "kafka/format/record_batch.h"

namespace streamctl::kafka::client {

class Idempotence {
 public:
  explicit Idempotence(int32_t partitions) : next_sequence_(size_t(partitions), 0) {}

  // Asks `conn` for a producer id (InitProducerId, not transactional). true when the producer is
  // idempotent now; false when the broker lacks the API or refuses (then *why_not says why, or is empty
  // for a missing API). Connection errors are errors.
  Result<bool> init(BrokerConnection& conn, std::string* why_not);

  bool enabled() const { return producer_id_ >= 0; }
  int64_t producer_id() const { return producer_id_; }
  int16_t producer_epoch() const { return producer_epoch_; }

  // Sets o's producer id, epoch and base sequence (partition p's next) when enabled.
  void stamp(PartitionId p, BatchBuildOptions& o) const;
  // Partition p's next sequence after a batch of `records` (when enabled).
  void advance(PartitionId p, int32_t records);

 private:
  int64_t producer_id_ = -1;
  int16_t producer_epoch_ = -1;
  std::vector<int32_t> next_sequence_;
};

}  // namespace streamctl::kafka::client
