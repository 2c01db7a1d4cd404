// Log: one partition's append-only log of RecordBatch v2 batches in ordered segments (Kafka's LocalLog +
// UnifiedLog, minus replication).
//
// Directory: <data>/<topic>-<partition>/ holding <20-digit base offset>.log|.index|.timeindex per segment
// (engine/file_names.h), a `.lock` file (advisory lock serialising appends across processes, also holding a
// small live-state stamp) and a `recovery-checkpoint` file (offset and file position up to which the log was
// fsynced; recovery on open scans only what follows it).
//
// Durability: append() returns once the batch is in the page cache (visible to readers in any process); it is
// durable after flush() (fsync of the active segment, then the checkpoint is advanced). flush.messages and
// flush.ms make append() flush by itself. Invariant: log start <= high watermark <= log end; flushed <= end.
//
// Several processes: appends take the partition lock, first catch up with what other processes appended
// (stat + stamp check, then scan), so offsets are never reused or skipped. Readers never see a torn batch: a
// batch is visible only once its length and CRC check out. refresh() picks up others' appends for readers.
// Thread-safety: a Log is thread-safe (an internal mutex); appends are serialised.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/fs.h"
#include "engine/log_config.h"
#include "engine/record_batch.h"
#include "engine/result.h"
#include "engine/types.h"

namespace streamctl::engine {

struct LogOptions {
  std::string dir;             // the partition directory, e.g. <data>/orders-0 (created if missing)
  TopicPartition tp;           // for messages
  LogConfig config;
  FileSystem* fs = nullptr;    // not owned; must outlive the Log
  Clock* clock = nullptr;      // not owned; must outlive the Log
  bool cross_process_lock = true;  // take the .lock file on append (off only for single-owner tests)
};

// What open() found and repaired.
struct RecoveryReport {
  int segments = 0;             // segments loaded
  uint64_t scanned_bytes = 0;   // bytes validated after the recovery checkpoint
  uint64_t dropped_bytes = 0;   // torn or corrupt tail bytes truncated away
  int rebuilt_indexes = 0;      // missing or inconsistent indexes rebuilt
  std::string detail;           // human-readable account of what was dropped/rebuilt (empty when clean)
};

struct AppendResult {
  Offset base_offset;           // first offset assigned
  Offset last_offset;           // last offset assigned (inclusive)
  Timestamp log_append_time = kNoTimestamp;  // set when the topic uses LogAppendTime
  Offset log_start_offset;
  int32_t record_count = 0;
  size_t bytes = 0;             // stored bytes
};

struct ReadResult {
  Bytes records;                // whole stored batches, wire format (may start before `from` within a batch)
  Offset next_offset;           // offset after the last batch returned (where the next read starts)
  Offset log_start_offset;
  Offset high_watermark;
  Offset log_end_offset;
};

struct SegmentInfo {
  Offset base_offset;
  Offset next_offset;           // one past the last offset in it
  uint64_t size_bytes = 0;
  Timestamp max_timestamp;      // largest record timestamp in it (kNoTimestamp when empty)
  std::string path;
};

class Log {
 public:
  // Opens (creating if needed) and recovers the partition directory.
  static Result<std::unique_ptr<Log>> open(const LogOptions& options);
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;
  ~Log();

  // Builds batches from records (split so none exceeds max.message.bytes) and appends them.
  // Records with kNoTimestamp get the clock's time. Offsets are consecutive from the returned base.
  Result<AppendResult> append(std::span<const Record> records, const BatchBuildOptions& options);
  // Appends client-built batches (one produce request's record set) after validating each (size, magic, CRC,
  // offset deltas, max.message.bytes). Base offsets and leader epoch are rewritten; bytes otherwise stored as
  // sent. Either all batches are appended or none.
  Result<AppendResult> append_batches(ByteSpan batches, LeaderEpoch leader_epoch = kNoLeaderEpoch);

  // Reads whole batches starting with the one containing `from`, up to max_bytes (at least one batch even if
  // larger, when min_one_batch), never past `max_offset` (exclusive; default: the high watermark).
  // kOffsetOutOfRange when from < log start offset or from > log end offset. from == end: empty result.
  Result<ReadResult> read(Offset from, size_t max_bytes, bool min_one_batch = true);
  Result<ReadResult> read_up_to(Offset from, size_t max_bytes, Offset max_offset, bool min_one_batch = true);

  // The first offset whose record timestamp is >= ts, or log end offset if none (Kafka ListOffsets by time).
  Result<Offset> offset_for_timestamp(Timestamp ts);

  Offset log_start_offset() const;
  Offset log_end_offset() const;
  Offset high_watermark() const;
  // Moves the high watermark (cluster layer). Single node: follows the log end offset by itself.
  void set_high_watermark(Offset hw);
  // Leader epoch of the last batch (kNoLeaderEpoch when empty).
  LeaderEpoch latest_epoch() const;

  // Removes everything at and after `offset` (replication). Example: batches [10..10][11..30][31..100];
  // truncate_to(31) leaves [10..10][11..30]. REQUIRES offset on a batch boundary (kInvalidArgument otherwise).
  Status truncate_to(Offset offset);
  // Moves the log start offset forward to `offset` (DeleteRecords); whole segments below it are deleted.
  Status delete_records_before(Offset offset);
  // Deletes segments past retention.ms / retention.bytes (never the active one). Returns segments removed.
  Result<int> apply_retention();
  // Compacts closed segments (cleanup.policy=compact): latest record per key survives; tombstones older than
  // delete.retention.ms are dropped. Returns bytes reclaimed.
  Result<uint64_t> compact();

  // fsyncs unflushed data and advances the recovery checkpoint.
  Status flush();
  // Picks up batches and segments appended/deleted by other processes since the last look.
  Status refresh();
  Status close();

  std::vector<SegmentInfo> segments() const;
  uint64_t size_bytes() const;
  const RecoveryReport& recovery_report() const;
  const LogConfig& config() const;
  void update_config(const LogConfig& config);
  const std::string& dir() const;

 private:
  Log() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamctl::engine
