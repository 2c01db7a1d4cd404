// The leader-epoch cache of a partition log and its file, Kafka's `leader-epoch-checkpoint`.
//
// For each leader epoch present in the log, the offset of its first batch (epochs come from each RecordBatch's
// partitionLeaderEpoch; batches with a negative epoch, as single-node appends have, are not tracked). Raft
// followers ask "where does epoch E end in your log" (OffsetsForLeaderEpoch, DivergingEpoch) and truncate there.
//
// File `<partition dir>/leader-epoch-checkpoint`, text as Kafka writes it (CheckpointFile, version 0):
//   0\n                      version
//   N\n                      number of entries
//   <epoch> <start offset>\n  N lines, both ascending
// Written atomically (tmp + fdatasync + rename + directory fsync, through the FileSystem interface). Kafka's
// format has no checksum, so the Log never trusts it blindly: on open every entry is checked against the
// batches it names (engine/log_epochs.cc), and a missing, garbled or disagreeing file is rebuilt from the log.
// Plain values; thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/fs.h"
#include "base/result.h"
#include "kafka/format/types.h"

namespace streamctl::engine {

struct EpochEntry {
  LeaderEpoch epoch = kNoLeaderEpoch;
  Offset start_offset;
  bool operator==(const EpochEntry&) const = default;
};

// The OffsetsForLeaderEpoch answer Raft uses (raft/log.h EpochCache): {end offset, epoch} of the largest epoch
// <= the one asked; {-1, -1} (UNDEFINED_EPOCH_OFFSET, UNDEFINED_EPOCH) when there is none. Kafka's broker
// differs at the edges (LeaderEpochFileCache.endOffsetFor): an epoch above the latest is {-1, -1} there (here:
// the latest epoch and the log end), one below the first is {first start offset, the asked epoch} (here:
// {-1, -1}); a Kafka-protocol handler must map those two cases.
struct EpochEndOffset {
  LeaderEpoch epoch = kNoLeaderEpoch;
  Offset end_offset = Offset(-1);
  bool operator==(const EpochEndOffset&) const = default;
};

class LeaderEpochCache {
 public:
  // Records that `epoch` starts at `start` when it is newer than the last epoch (appends and scans call
  // this for every batch; negative epochs and older ones are ignored, as Kafka's assign does). Returns
  // whether the cache changed.
  bool assign(LeaderEpoch epoch, Offset start);
  // Drops epochs starting at or after `end` (the log's tail was truncated to `end`).
  bool truncate_from_end(Offset end);
  // Drops epochs wholly below `start` and moves the first kept one up to `start` (the log's prefix went).
  bool truncate_from_start(Offset start);
  bool clear();
  // The largest epoch <= `epoch` and where it ends: the next epoch's start, or `log_end` for the last one.
  EpochEndOffset end_offset_for(LeaderEpoch epoch, Offset log_end) const;
  // The last epoch, kNoLeaderEpoch when empty.
  LeaderEpoch last_epoch() const { return entries_.empty() ? kNoLeaderEpoch : entries_.back().epoch; }
  const std::vector<EpochEntry>& entries() const { return entries_; }
  void set_entries(std::vector<EpochEntry> entries) { entries_ = std::move(entries); }

 private:
  std::vector<EpochEntry> entries_;  // ascending in both fields
};

std::string encode_leader_epoch_checkpoint(const std::vector<EpochEntry>& entries);
// kCorruption saying what is wrong (version, count, a line, order) when the text is not a valid file.
Result<std::vector<EpochEntry>> decode_leader_epoch_checkpoint(std::string_view text);
// Writes the file atomically and durably (see the file comment).
Status write_leader_epoch_checkpoint(FileSystem& fs, const std::string& path, const std::vector<EpochEntry>& entries);
// The entries in the file; nullopt when it does not exist; kCorruption when it does not parse.
Result<std::optional<std::vector<EpochEntry>>> read_leader_epoch_checkpoint(FileSystem& fs, const std::string& path);

}  // namespace streamctl::engine
