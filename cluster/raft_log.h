// EngineRaftLog: the raft::RaftLog of a partition's Raft group is the engine's Kafka-format partition log
// itself (engine::Log), so replicated data is written once and Fetch serves it unchanged.
//
// Mapping (raft/types.h Batch <-> a stored RecordBatch v2):
//   Batch.epoch         partitionLeaderEpoch (the engine's leader-epoch cache answers end_offset_for_epoch)
//   Batch.record_count  lastOffsetDelta + 1 (the offsets the batch covers)
//   Batch.control       the batch's control attribute (bit 5)
//   Batch.bytes         the whole stored batch, as read() returns it and followers append it again
// append() takes Batch.bytes as they are when they hold exactly one valid RecordBatch v2 (a produced or
// replicated batch: its base offset and epoch are rewritten by the engine), and otherwise wraps them:
//   - control (Raft's LeaderChange, bytes "LeaderChange:<id>"): a control batch with one LEADER_CHANGE control
//     record, key = {version 0, type 2}, value = LeaderChangeMessage v0 {LeaderId, Voters [], GrantingVoters []};
//   - data: a batch of record_count records, the first holding the bytes as its value, the others null.
// payload() gives the wrapped bytes back, so a batch built from opaque bytes reads back as the same bytes.
// Snapshots: partitions have none (latest_snapshot() = {-1,-1}; a follower behind the leader's log start
// restarts at it with truncate_fully_and_start_at).
//
// Durability follows raft/log.h: append() is in the page cache; flush() (the host, on Effects.flush_to) makes
// the whole log durable and returns the durable end for Raft::on_flushed; truncations are durable at once.
// Errors: RaftLog has no error path. The first failing engine call is kept in error() and later calls do
// nothing; the host must check error() after every Raft call and stop the replica (its state is then unknown,
// as after a crash; reopening recovers). Not thread-safe (one Raft instance owns it).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "engine/log.h"
#include "raft/log.h"

namespace streamctl::cluster {

class EngineRaftLog final : public raft::RaftLog {
 public:
  // `log` and `clock` must outlive this (the clock stamps the records of wrapped batches).
  EngineRaftLog(engine::Log* log, Clock* clock) : log_(log), clock_(clock) {}

  raft::Offset start_offset() const override;
  raft::Offset end_offset() const override;
  raft::Epoch last_epoch() const override;
  raft::Offset append(raft::Batch batch) override;
  void truncate_to(raft::Offset end) override;
  raft::OffsetAndEpoch end_offset_for_epoch(raft::Epoch epoch) const override;
  raft::Offset read(raft::Offset from, size_t max_batches, std::vector<raft::Batch>* out) const override;
  raft::SnapshotId latest_snapshot() const override { return {}; }
  std::string read_snapshot(raft::SnapshotId) const override { return {}; }
  void truncate_fully_and_start_at(raft::Offset offset) override;
  bool install_snapshot(raft::SnapshotId, std::string_view) override { return false; }

  // ---- host side
  // fsyncs the log; returns the durable end offset (for Raft::on_flushed), or the error (also kept).
  Result<raft::Offset> flush();
  // The first engine error, ok while none happened.
  const Status& error() const { return error_; }
  engine::Log& log() { return *log_; }

  // The bytes a batch was appended with: the value of the first record of a batch append() wrapped, the
  // whole batch otherwise (a control batch, or a batch that was a RecordBatch already).
  static std::string payload(const raft::Batch& batch);

 private:
  Result<Bytes> encode(const raft::Batch& batch) const;
  void fail(Status status);

  engine::Log* log_;
  Clock* clock_;
  Status error_;
  mutable engine::ReadResult scratch_;  // read() buffer, reused
};

}  // namespace streamctl::cluster
