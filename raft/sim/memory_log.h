// An in-memory RaftLog for the simulator and the unit tests, with a disk model: data up to flushed() is
// durable; crash() loses everything after it. Keeps the snapshotted prefix too, so the invariant checker can
// compare every offset ever written. Not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <deque>
#include <vector>

#include "raft/log.h"

namespace streamctl::raft::sim {

class MemoryLog final : public RaftLog {
 public:
  Offset start_offset() const override { return start_; }
  Offset end_offset() const override { return end_; }
  Epoch last_epoch() const override;
  Offset append(Batch batch) override;
  void truncate_to(Offset end) override;
  OffsetAndEpoch end_offset_for_epoch(Epoch epoch) const override { return cache_.end_offset_for(epoch, end_); }
  Offset read(Offset from, size_t max_batches, std::vector<Batch>* out) const override;
  SnapshotId latest_snapshot() const override { return snapshot_; }
  std::string read_snapshot(SnapshotId id) const override;
  bool install_snapshot(SnapshotId id, std::string_view bytes) override;
  void truncate_fully_and_start_at(Offset offset) override;

  // ---- simulator side
  Offset flushed() const { return flushed_; }
  // The disk made the log durable up to `offset` (clamped to the end).
  void mark_flushed(Offset offset);
  // A crash: unflushed batches are lost. Returns how many offsets were lost.
  Offset crash();
  // Drops everything below `offset` (a batch boundary <= end) from the log: as a snapshot (the metadata
  // group) or, with `snapshot` false, as retention deletes a partition's prefix.
  void compact(Offset offset, bool snapshot = true);
  // The batch holding `offset` (snapshotted or not), or nullptr beyond the end.
  const Batch* batch_at(Offset offset) const;
  // The lowest offset truncated since the last call (INT64_MAX if none); crash() counts as truncation.
  Offset take_lowest_truncation();

 private:
  struct Entry {
    Offset base;
    Batch batch;
  };
  // First entry (in all_) whose range ends after `offset`.
  size_t index_of(Offset offset) const;

  std::deque<Entry> all_;   // every batch from offset 0: [0, first_live_) is the snapshot
  size_t first_live_ = 0;
  Offset start_ = 0;
  Offset end_ = 0;
  Offset flushed_ = 0;
  SnapshotId snapshot_;
  EpochCache cache_;
  Offset lowest_truncation_ = INT64_MAX;
};

}  // namespace streamctl::raft::sim
