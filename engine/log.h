// Log: one partition's append-only log of RecordBatch v2 batches in ordered segments (Kafka's LocalLog +
// UnifiedLog, minus replication).
//
// Directory: <data>/<topic>-<partition>/ holding <20-digit base offset>.log|.index|.timeindex per segment
// (engine/file_names.h, engine/segment.h), a `.lock` file (advisory lock serialising appends across processes, also holding a
// small live-state stamp) and a `recovery-checkpoint` file (offset and file position up to which the log was
// fsynced; recovery on open scans only what follows it).
//
// Durability: append() returns once the batch is in the page cache (visible to readers in any process); it is
// durable after flush() (fdatasync of the active segment's .log, then the checkpoint is advanced). flush.messages and
// flush.ms make append() flush by itself. Invariant: log start <= high watermark <= log end; flushed <= end.
//
// Several processes: appends take the partition lock, first catch up with what other processes appended
// (stat + stamp check, then scan), so offsets are never reused or skipped. Readers never see a torn batch: a
// batch is visible only once its length and CRC check out. refresh() picks up others' appends for readers.
// Thread-safety: a Log is thread-safe (an internal mutex); appends are serialised.
//
// Partition state files (all integers big-endian; CRC-32C as in base/crc32c.h):
//
//   recovery-checkpoint (42 bytes, written only after the segment bytes it covers were fsynced, so it never
//   claims more than is durable; moved forward within a segment by a 42-byte overwrite in place without an
//   fsync (it may lag on disk), otherwise written atomically: tmp + fsync + rename + dir fsync; a file that
//   fails any check is ignored and every segment is scanned; engine/README.md "One fdatasync per flush"):
//     offset  width  field
//     0       4      magic                  "SCCK" (0x5343434b)
//     4       2      version                1
//     6       8      segment base offset    the segment `position` refers to (older segments are durable whole)
//     14      8      position               bytes of that segment known durable and valid
//     22      8      next offset            the log end offset at that position
//     30      4      offset index entries   entries of that segment's .index that are durable
//     34      4      time index entries     entries of its .timeindex that are durable
//     38      4      crc                    CRC-32C of bytes [0, 38)
//
//   leader-epoch-checkpoint (Kafka's text file: version, count, "epoch startOffset" lines; format and
//   validation in engine/leader_epoch_checkpoint.h): written before the recovery checkpoint moves past a new
//   epoch, and on truncation; checked against the log on open and rebuilt from it when it disagrees.
//
//   log-start-offset (18 bytes, written atomically whenever the log start offset moves):
//     0  4  magic "SCLS" (0x53434c53) | 4  2  version 1 | 6  8  log start offset | 14  4  CRC-32C of [0, 14)
//
//   .lock (the flock target; its first 88 bytes are the stamp, rewritten in place by whoever holds the lock
//   after every change, never fsynced: a hint for other processes, checked by its CRC, ignored when torn):
//     offset  width  field
//     0       4      magic                  "SCST" (0x53435354)
//     4       2      version                1
//     6       2      reserved               0
//     8       8      generation             bumped by every change other than an append (roll, truncate,
//                                           delete-records, retention, compaction): a different value means
//                                           "re-read the directory"
//     16      8      log start offset
//     24      8      active segment base offset
//     32      8      active segment size    bytes of complete, valid batches
//     40      8      log end offset         (the active segment's next offset)
//     48      8      active max timestamp   largest batch maxTimestamp in the active segment
//     56      8      offset of max timestamp
//     64      8      first batch timestamp  of the active segment (segment.ms roll)
//     72      4      latest leader epoch
//     76      4      offset index entries   of the active segment
//     80      4      time index entries     of the active segment
//     84      4      crc                    CRC-32C of bytes [0, 84)
//   Catching up under the lock: same generation, base and log start -> adopt the stamp's tail (load the new
//   index entries) and validate whatever the file holds beyond it (a batch whose writer died before stamping
//   is kept if complete, a torn one is cut off); otherwise re-list the directory and reload the active segment.
//
// Lifetime: close() flushes what this process appended (so the next open scans nothing) and releases the files;
// the destructor calls close(). Without close() (a crash), the next open recovers from the last checkpoint.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/fs.h"
#include "engine/leader_epoch_checkpoint.h"
#include "engine/log_config.h"
#include "kafka/format/record_batch.h"
#include "base/result.h"
#include "kafka/format/types.h"

namespace streamctl::engine {

struct LogOptions {
  std::string dir;             // the partition directory, e.g. <data>/orders-0 (created if missing)
  TopicPartition tp;           // for messages
  LogConfig config;
  FileSystem* fs = nullptr;    // not owned; must outlive the Log
  Clock* clock = nullptr;      // not owned; must outlive the Log
  bool cross_process_lock = true;  // take the .lock file on append (off only for single-owner tests)
};

// What open() found and repaired. Indexes of old segments are checked lazily when first used, so
// rebuilt_indexes (and detail) can grow after open(); dropped_bytes also counts torn tails left by dead writers
// that this Log cut off later, under the partition lock.
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
  ScratchBytes records;         // whole stored batches, wire format (may start before `from` within a batch)
  // read_slices() only: the same batches left in their segment files, in order (then `records` is empty).
  std::vector<FileSlice> slices;
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
  // Opens (creating if needed) and recovers the partition directory. A directory this process may not write
  // (the partition lock cannot be opened for writing: EROFS, EACCES) is opened read-only instead: nothing is
  // recovered, truncated or written, reads see up to the last valid batch, and appends fail naming the lock.
  static Result<std::unique_ptr<Log>> open(const LogOptions& options);
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;
  ~Log();

  // Builds batches from records (split so none exceeds max.message.bytes) and appends them.
  // Records with kNoTimestamp get the clock's time. Offsets are consecutive from the returned base.
  // A record that alone makes a batch larger than max.message.bytes: kRecordTooLarge naming both sizes.
  // compression.type other than "producer" overrides options.compression; LogAppendTime topics stamp the
  // clock's time. One call = one lock + one write (per segment, when it rolls); on error nothing is appended.
  Result<AppendResult> append(std::span<const Record> records, const BatchBuildOptions& options);
  // Appends client-built batches (one produce request's record set) after validating each (size, magic, CRC,
  // offset deltas, max.message.bytes). Base offsets and leader epoch are rewritten; bytes otherwise stored as
  // sent, except that a compression.type other than "producer" recompresses batches in another codec (as
  // Kafka's broker does; max.message.bytes applies to the result). Either all batches are appended or none. Each batch must hold >= 1 record with lastOffsetDelta ==
  // recordCount - 1 (kInvalidArgument otherwise), as Kafka requires of produced batches. LogAppendTime topics:
  // attribute bit 3 is set, maxTimestamp = clock time and the CRC recomputed.
  Result<AppendResult> append_batches(ByteSpan batches, LeaderEpoch leader_epoch = kNoLeaderEpoch);
  // append_batches() for batches this process built itself (kafka/format BatchBuilder: CRCs computed by it,
  // records encoded by it), without a copy: base offsets and leader epoch (and the LogAppendTime fields) are
  // written into `batches` in place, then the bytes go to the segment with one write. Checked: framing,
  // recordCount / lastOffsetDelta and max.message.bytes as in append_batches(); not CRCs nor records. A topic
  // whose compression.type names a codec: append_batches() (a copy, recompressed). Same errors and
  // all-or-nothing rule as append_batches().
  Result<AppendResult> append_built(std::span<std::byte> batches, LeaderEpoch leader_epoch = kNoLeaderEpoch);

  // Reads whole batches starting with the one containing `from`, up to max_bytes (at least one batch even if
  // larger, when min_one_batch), never past `max_offset` (exclusive; default: the high watermark).
  // kOffsetOutOfRange when from < log start offset or from > log end offset. from == end: empty result.
  // Details: only batches whose last offset is below max_offset are returned; the read continues into later
  // segments while max_bytes allows; every returned batch was CRC-checked, by this read or by an earlier
  // read, recovery scan or append of this Log (bytes this Log has checked are not re-checked while no other
  // process has changed the log's shape; see read_into in log.cc), kCorruption naming the file and byte
  // position when the first batch to return is bad; after good batches the read stops short of it.
  // When `from` falls in a compaction gap, the read starts at the next batch. Sees other processes' appends
  // only after refresh() (or this Log's own append()).
  Result<ReadResult> read(Offset from, size_t max_bytes, bool min_one_batch = true);
  Result<ReadResult> read_up_to(Offset from, size_t max_bytes, Offset max_offset, bool min_one_batch = true);
  // read_up_to() into a caller-owned ReadResult that is reused across calls (the hot path of consumers and
  // fetch loops): out.records is cleared and refilled, keeping its capacity, so a steady reader allocates and
  // page-faults its buffer once. The stored bytes are pread straight into out.records (no intermediate copy)
  // and validated there. Same batches, limits and errors as read_up_to(); on error out.records is empty and
  // the other fields of out are unspecified.
  //   ReadResult r; Offset next = log.log_start_offset();
  //   while (next < log.high_watermark()) { STREAMCTL_TRY(log.read_into(next, 1 << 20, log.high_watermark(), true, r));
  //                                          use(r.records); next = r.next_offset; }
  Status read_into(Offset from, size_t max_bytes, Offset max_offset, bool min_one_batch, ReadResult& out);
  // read_into() without the copy, for senders that can send file ranges (sendfile): the batches come back as
  // out.slices, byte ranges of the segment files that stay open while the slices live (retention deleting a
  // segment meanwhile does not affect them), one per segment touched, and out.records stays empty. That
  // happens when the file system has OS descriptors and every batch to return was CRC-checked by this Log
  // already (Segment::verified_size: everything it appended or read before) and no other process changed the
  // log's shape; otherwise this is read_into() (out.slices empty), which also checks the new bytes so that
  // the next read can slice them. Same batches, limits, offsets and errors as read_into(), except that
  // next_offset may be the base offset of the first batch not returned when a compaction gap precedes it
  // (the same next read).
  Status read_slices(Offset from, size_t max_bytes, Offset max_offset, bool min_one_batch, ReadResult& out);

  // The first offset whose record timestamp is >= ts, or log end offset if none (Kafka ListOffsets by time).
  Result<Offset> offset_for_timestamp(Timestamp ts);

  Offset log_start_offset() const;
  Offset log_end_offset() const;
  Offset high_watermark() const;
  // Moves the high watermark (cluster layer). Single node: follows the log end offset by itself.
  // Clamped to [log start, log end]; kept in memory only (the cluster layer persists its own).
  void set_high_watermark(Offset hw);
  // Leader epoch of the last batch (kNoLeaderEpoch when empty).
  LeaderEpoch latest_epoch() const;

  // Removes everything at and after `offset` (replication). Example: batches [10..10][11..30][31..100];
  // truncate_to(31) leaves [10..10][11..30]. REQUIRES offset on a batch boundary (kInvalidArgument otherwise).
  // offset >= log end offset: nothing to do. offset below the log start offset (or the first segment): the
  // log is emptied and restarts at `offset` (Kafka's truncateFullyAndStartAt). The cut is fsynced.
  Status truncate_to(Offset offset);
  // Kafka's truncateFullyAndStartAt: removes every batch and restarts the empty log at `offset`, which may
  // lie below, inside or beyond the current log (a follower behind its leader's log start); the leader epochs
  // are cleared. Crash-safe (each intermediate state opens as a valid log) and durable on return.
  Status truncate_fully_and_start_at(Offset offset);

  // Leader epochs (engine/leader_epoch_checkpoint.h), learned from each appended batch's partitionLeaderEpoch,
  // kept across restarts in leader-epoch-checkpoint and trimmed by truncation and retention. They cover this
  // Log's appends and what open() found; appends with epochs by other processes are not tracked (a replicated
  // partition has one writer). OffsetsForLeaderEpoch as the Raft layer asks it: {end offset, epoch} of the
  // largest epoch <= `epoch` (the next epoch's start offset, or the log end offset for the latest epoch);
  // {-1, -1} when the log holds no epoch <= `epoch`.
  EpochEndOffset end_offset_for_epoch(LeaderEpoch epoch) const;
  // Every epoch in the log with the offset of its first batch (the first one clipped to the log start).
  std::vector<EpochEntry> leader_epochs() const;

  // Moves the log start offset forward to `offset` (DeleteRecords); whole segments below it are deleted.
  Status delete_records_before(Offset offset);
  // Deletes segments past retention.ms / retention.bytes (never the active one). Returns segments removed.
  // By time: a segment expires when clock now - its largest record timestamp > retention.ms (segments without
  // timestamps never do). By size: oldest first while the partition minus that segment is still >=
  // retention.bytes. Only segments wholly below the high watermark; nothing for cleanup.policy=compact.
  Result<int> apply_retention();
  // Compacts closed segments (cleanup.policy=compact): latest record per key survives; tombstones older than
  // delete.retention.ms are dropped. Returns bytes reclaimed.
  // Keys are compared over the whole log, active segment included; null-key records and control batches are
  // kept; a tombstone's age is now - its record timestamp; segments newer than min.compaction.lag.ms are left
  // alone. Surviving records keep their offsets and timestamps (uncompressed batches keep their bytes and
  // lastOffsetDelta; compressed ones are re-encoded per run of consecutive offsets). Each segment is rewritten
  // to <base>.log.cleaned, fsynced, renamed to .swap (the commit point) and then over the original; open()
  // rolls back .cleaned files and finishes .swap ones. Returns 0 for cleanup.policy=delete.
  Result<uint64_t> compact();

  // fsyncs unflushed data and advances the recovery checkpoint. A no-op when this Log appended nothing since
  // its last flush.
  Status flush();
  // Picks up batches and segments appended/deleted by other processes since the last look (lock-free: reads
  // the stamp and stats the active segment; re-lists the directory only after a roll, truncation, retention or
  // compaction elsewhere). A batch another process is still writing stays invisible until complete.
  Status refresh();
  Status close();

  // Loads every segment's metadata (lazily loaded ones included): an introspection call, not a hot path.
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
