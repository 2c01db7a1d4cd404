// File names inside a data directory, Kafka's LogFileUtils (leveldb's filename.h): every name the engine
// builds or parses for a partition goes through here.
//
//   <topic>-<partition>/                       partition directory (topic names may contain '-': the
//                                              partition number follows the LAST '-')
//   <20-digit zero-padded base offset>.log     segment data (RecordBatch v2 bytes)
//   <base>.index / <base>.timeindex            offset and time indexes (engine/offset_index.h, time_index.h)
//   <name>.cleaned                             compaction output not yet committed (deleted on open)
//   <name>.swap                                compaction output committed, not yet renamed in (finished on open)
//   <name>.deleted                             segment file removed from the log, not yet unlinked
//   .lock, recovery-checkpoint, log-start-offset   per-partition state (byte tables in engine/log.h)
// Pure functions, thread-safe, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "kafka/format/types.h"

namespace streamctl::engine {

inline constexpr int kOffsetDigits = 20;

inline constexpr std::string_view kLogSuffix = ".log";
inline constexpr std::string_view kOffsetIndexSuffix = ".index";
inline constexpr std::string_view kTimeIndexSuffix = ".timeindex";
inline constexpr std::string_view kCleanedSuffix = ".cleaned";
inline constexpr std::string_view kSwapSuffix = ".swap";
inline constexpr std::string_view kDeletedSuffix = ".deleted";

inline constexpr std::string_view kLockFileName = ".lock";
inline constexpr std::string_view kRecoveryCheckpointFileName = "recovery-checkpoint";
inline constexpr std::string_view kLogStartOffsetFileName = "log-start-offset";
inline constexpr std::string_view kLeaderEpochCheckpointFileName = "leader-epoch-checkpoint";

// The three files of one segment.
enum class SegmentFileKind { kLog, kOffsetIndex, kTimeIndex };

// A staging state a segment file can be in (the suffix after .log/.index/.timeindex).
enum class StagingSuffix { kNone, kCleaned, kSwap, kDeleted };

// ".log", ".index" or ".timeindex".
std::string_view segment_file_suffix(SegmentFileKind kind);
// "", ".cleaned", ".swap" or ".deleted".
std::string_view staging_suffix(StagingSuffix staging);

// "00000000000000000042" for base offset 42. REQUIRES: base >= 0.
std::string offset_file_stem(Offset base);
// "00000000000000000042.log" (+ staging suffix, e.g. "...42.log.swap").
std::string segment_file_name(Offset base, SegmentFileKind kind, StagingSuffix staging = StagingSuffix::kNone);
inline std::string log_file_name(Offset base) { return segment_file_name(base, SegmentFileKind::kLog); }
inline std::string offset_index_file_name(Offset base) {
  return segment_file_name(base, SegmentFileKind::kOffsetIndex);
}
inline std::string time_index_file_name(Offset base) {
  return segment_file_name(base, SegmentFileKind::kTimeIndex);
}

// A parsed segment file name.
struct SegmentFileName {
  Offset base_offset;
  SegmentFileKind kind = SegmentFileKind::kLog;
  StagingSuffix staging = StagingSuffix::kNone;
  auto operator<=>(const SegmentFileName&) const = default;
};

// Parses "<20 digits>.<log|index|timeindex>[.cleaned|.swap|.deleted]". nullopt for any other name
// (including a stem that is not exactly 20 digits or does not fit an int64).
std::optional<SegmentFileName> parse_segment_file_name(std::string_view name);

// "<topic>-<partition>", e.g. "orders-3".
std::string partition_dir_name(const TopicPartition& tp);
// Parses a partition directory name, splitting at the last '-': "my-topic-12" -> {"my-topic", 12}.
// kInvalidArgument naming the input when there is no '-', the topic is empty, or the partition is not a
// non-negative decimal int32 (no sign, no leading zeros except "0").
Result<TopicPartition> parse_partition_dir_name(std::string_view name);

}  // namespace streamctl::engine
