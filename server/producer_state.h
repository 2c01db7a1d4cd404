// ProducerStateManager: idempotent-producer bookkeeping (Kafka's ProducerStateManager, minus transactions).
//
// InitProducerId hands out producer ids from blocks reserved durably in <data>/__meta/producer-ids (a text
// file holding the next unreserved id, written atomically before a block is used), so an id is never
// handed out twice, even across restarts and kill -9.
//
// For every (partition, producer id) it remembers the producer epoch and the metadata of the last
// kMaxCachedBatches batches appended (first/last sequence, base/last offset). A produce batch with a
// producer id >= 0 is checked against it, under the partition's lock, together with the append itself:
//   * same epoch, same first and last sequence as a cached batch -> duplicate: not appended again, the
//     original offsets are returned (a retry never duplicates);
//   * same epoch, first sequence == last sequence + 1 (int32 wraps to 0) -> appended;
//   * higher epoch with first sequence 0 -> appended (the producer bumped its epoch), history reset;
//   * lower epoch -> kInvalidEpoch (INVALID_PRODUCER_EPOCH); anything else -> kOutOfOrder
//     (OUT_OF_ORDER_SEQUENCE_NUMBER);
//   * no state for the producer on this partition -> appended (the state may have expired).
// After a restart the state of a partition is rebuilt on first use from the tail of its log (the batches'
// producer id, epoch and sequences are stored in their headers), so a retry of a batch that was appended
// just before a crash is still recognised.
// Thread-safety: thread-safe; appends to one partition are serialised by the partition's lock.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/fs.h"
#include "kafka/format/record_batch.h"
#include "base/result.h"
#include "kafka/format/types.h"

namespace streamctl::server {

inline constexpr size_t kMaxCachedBatches = 5;  // Kafka keeps the last 5 batches per producer

struct ProducerIdAndEpoch {
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
};

// The producer fields of one batch header, and its sequence range (inclusive).
struct ProducerBatch {
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t first_sequence = -1;
  int32_t last_sequence = -1;  // first_sequence + last offset delta (int32 wrap-around)

  static ProducerBatch from_header(const RecordBatchHeader& h);
};

// Where an appended batch landed (kept for duplicate answers).
struct BatchPlacement {
  Offset base_offset{-1};
  Offset last_offset{-1};
  Timestamp log_append_time = kNoTimestamp;
  Offset log_start_offset{0};
};

enum class SequenceOutcome {
  kAppended,    // new batch, appended (placement = where)
  kDuplicate,   // retry of a cached batch: not appended; placement = the original
  kOutOfOrder,  // OUT_OF_ORDER_SEQUENCE_NUMBER
  kInvalidEpoch,  // INVALID_PRODUCER_EPOCH (an older epoch than the partition has seen)
  kAppendFailed,  // the append itself failed (error in `error`)
};

struct IdempotentAppendResult {
  SequenceOutcome outcome = SequenceOutcome::kAppended;
  BatchPlacement placement;
  Error error;  // set when outcome == kAppendFailed
};

class ProducerStateManager {
 public:
  // Batch headers of a partition's log tail, oldest first, with their real base offsets (used to rebuild
  // the state after a restart). May return fewer than all; an error means "no history".
  using TailLoader =
      std::function<Result<std::vector<RecordBatchHeader>>(const TopicPartition&)>;
  using AppendFn = std::function<Result<BatchPlacement>()>;

  // meta_dir: <data>/__meta (the id block file lives there). fs must outlive the manager.
  ProducerStateManager(FileSystem& fs, std::string meta_dir, TailLoader tail_loader);
  ProducerStateManager(const ProducerStateManager&) = delete;
  ProducerStateManager& operator=(const ProducerStateManager&) = delete;

  // A fresh producer id with epoch 0 (InitProducerId without a transactional id). Fails only when the id
  // block file cannot be written.
  Result<ProducerIdAndEpoch> init_producer_id();

  // Checks `batch` against the partition's state and, when it is new, runs `append` (under the partition's
  // lock) and records the placement. REQUIRES: batch.producer_id >= 0.
  IdempotentAppendResult append(const TopicPartition& tp, const ProducerBatch& batch,
                                const AppendFn& append, int64_t now_ms);

  // Runs `fn` under the partition's lock (non-idempotent appends to a partition that has producer state
  // take it too, so a duplicate check never races an append).
  void with_partition_lock(const TopicPartition& tp, const std::function<void()>& fn);

  // Forgets the partitions of a deleted topic.
  void remove_topic(const std::string& topic);
  // Drops producers idle for longer than max_idle_ms (Kafka producer.id.expiration.ms). Returns how many.
  size_t expire(int64_t now_ms, int64_t max_idle_ms);
  // Number of (partition, producer) entries (metrics, tests).
  size_t entry_count() const;

 private:
  struct ProducerEntry {
    int16_t epoch = -1;
    std::deque<std::pair<ProducerBatch, BatchPlacement>> batches;  // newest last, at most kMaxCachedBatches
    int64_t last_update_ms = 0;
  };
  struct PartitionState {
    std::mutex mu;
    bool loaded = false;
    std::unordered_map<int64_t, ProducerEntry> producers;
  };

  std::shared_ptr<PartitionState> partition(const TopicPartition& tp);
  void load_locked(const TopicPartition& tp, PartitionState& ps, int64_t now_ms);
  static void record_locked(ProducerEntry& e, const ProducerBatch& b, const BatchPlacement& p, int64_t now_ms);

  FileSystem& fs_;
  std::string id_file_;
  TailLoader tail_loader_;

  std::mutex ids_mu_;
  int64_t next_id_ = 0;   // next id to hand out
  int64_t block_end_ = 0;  // first id not reserved on disk

  mutable std::mutex map_mu_;
  std::map<TopicPartition, std::shared_ptr<PartitionState>> partitions_;
};

}  // namespace streamctl::server
