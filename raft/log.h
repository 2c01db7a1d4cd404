// The log a Raft replica drives, and the epoch -> start offset cache every implementation keeps beside it.
//
// Implementations: the in-memory simulator log (raft/sim/memory_log.h) and, later, an adapter over the
// engine's Kafka-format partition log. Contract for every implementation:
// - Offsets run from start_offset() (inclusive; the end of the latest snapshot, or 0) to end_offset()
//   (exclusive). Batches are appended whole; epochs never decrease along the log.
// - append() and truncate_to() change the log at once (page cache); append() is not durable until the
//   host flushed it (Raft learns this through Raft::on_flushed). truncate_to() is durable before the next
//   flush completes. install_snapshot() is durable on return.
// - Not thread-safe; one Raft instance owns its log.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "raft/types.h"

namespace streamctl::raft {

// Kafka's leader-epoch-checkpoint: for each epoch present in the log, the offset of its first batch.
// end_offset_for(e) answers "where does the largest epoch <= e end in this log" (OffsetsForLeaderEpoch).
class EpochCache {
 public:
  // Records that `epoch` starts at `start` if it is newer than the last epoch (appends call this).
  void assign(Epoch epoch, Offset start);
  // Drops epochs starting at or after `end` (truncation of the log's tail to `end`).
  void truncate_from_end(Offset end);
  // Resets the cache to one epoch starting at `start` (a snapshot was installed).
  void reset(Epoch epoch, Offset start);
  // Drops epochs wholly below `start` (prefix compaction), keeping the one that covers it.
  void truncate_from_start(Offset start);
  // {end offset, epoch} of the largest epoch <= `epoch`; {-1,-1} if there is none. `log_end` ends the
  // last epoch.
  OffsetAndEpoch end_offset_for(Epoch epoch, Offset log_end) const;
  Epoch last_epoch() const { return entries_.empty() ? 0 : entries_.back().first; }
  const std::vector<std::pair<Epoch, Offset>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<Epoch, Offset>> entries_;  // ascending in both fields
};

class RaftLog {
 public:
  virtual ~RaftLog() = default;
  virtual Offset start_offset() const = 0;
  virtual Offset end_offset() const = 0;
  // Epoch of the last batch, or of the snapshot if the log holds no batch; 0 for an empty log.
  virtual Epoch last_epoch() const = 0;
  // Appends `batch` at end_offset() and returns its base offset. REQUIRES batch.epoch >= last_epoch().
  virtual Offset append(Batch batch) = 0;
  // Removes every batch at or after `end`. REQUIRES start_offset() <= end.
  virtual void truncate_to(Offset end) = 0;
  virtual OffsetAndEpoch end_offset_for_epoch(Epoch epoch) const = 0;
  // Appends to `out` up to `max_batches` batches from the one containing `from` on; returns the base
  // offset of the first one (or end_offset() if none). REQUIRES start_offset() <= from <= end_offset().
  virtual Offset read(Offset from, size_t max_batches, std::vector<Batch>* out) const = 0;
  // The latest snapshot (its end offset is start_offset()), or {-1,-1}.
  virtual SnapshotId latest_snapshot() const = 0;
  // The bytes of snapshot `id`; empty if it is not the latest snapshot.
  virtual std::string read_snapshot(SnapshotId id) const = 0;
  // Empties the log and restarts it at `offset` (Kafka's truncateFullyAndStartAt): a partition follower
  // behind a leader that deleted its prefix without a snapshot. Durable on return.
  virtual void truncate_fully_and_start_at(Offset offset) = 0;
  // Replaces the whole log by snapshot `id` (start = end = id.offset). Returns false (log unchanged) if
  // `bytes` is not a valid snapshot.
  virtual bool install_snapshot(SnapshotId id, std::string_view bytes) = 0;
};

}  // namespace streamctl::raft
