// Log::Impl: the private state of a partition Log, shared by engine/log.cc (open, recovery, append, read,
// flush, catch-up) and engine/log_maintenance.cc (truncation, delete-records, retention, compaction).
// Not a public header: only the Log's own translation units include it.
//
// Locking: `mu` guards everything below and is always taken first; the partition's advisory lock
// (`<dir>/.lock`, Impl::LockScope) is taken under it for any change to the files, so a process that holds it
// is the only writer of the directory. Methods named *_locked REQUIRE mu held; those that change files also
// REQUIRE the partition lock (held_lock != nullptr when cross_process_lock is on).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/log.h"
#include "engine/segment.h"

namespace streamctl::engine {

// `recovery-checkpoint`: the point up to which the log is known durable and valid (byte table in log.h).
struct RecoveryCheckpoint {
  Offset segment_base;          // the segment the position refers to
  uint64_t position = 0;        // bytes of that segment that were fsynced
  Offset next_offset;           // log end offset at that point
  uint32_t offset_index_entries = 0;  // durable entries of that segment's offset index
  uint32_t time_index_entries = 0;    // durable entries of its time index
  bool operator==(const RecoveryCheckpoint&) const = default;
};

// The live-state stamp kept in `.lock` (byte table in log.h): what the last writer left behind.
struct PartitionStamp {
  uint64_t generation = 0;   // bumped on every change other than an append (roll, truncate, delete, compact)
  Offset log_start_offset;
  Offset active_base_offset;
  SegmentTail active;        // the active segment's tail after the last append
  bool operator==(const PartitionStamp&) const = default;
};

inline constexpr size_t kCheckpointSize = 42;
inline constexpr size_t kLogStartOffsetFileSize = 18;
inline constexpr size_t kStampSize = 88;
inline constexpr uint32_t kCheckpointMagic = 0x5343434b;  // "SCCK"
inline constexpr uint32_t kLogStartMagic = 0x53434c53;    // "SCLS"
inline constexpr uint32_t kStampMagic = 0x53435354;       // "SCST"
inline constexpr uint16_t kStateFileVersion = 1;
// Log::append keeps its encoding buffer between appends unless it grew past this.
inline constexpr size_t kMaxRetainedAppendBuffer = size_t(16) << 20;

Bytes encode_checkpoint(const RecoveryCheckpoint& cp);
// nullopt when the bytes are not a valid checkpoint (wrong size, magic, version or CRC).
std::optional<RecoveryCheckpoint> decode_checkpoint(ByteSpan bytes);
Bytes encode_log_start_offset(Offset offset);
std::optional<Offset> decode_log_start_offset(ByteSpan bytes);
Bytes encode_stamp(const PartitionStamp& stamp);
std::optional<PartitionStamp> decode_stamp(ByteSpan bytes);

struct Log::Impl {
  LogOptions options;
  FileSystem* fs = nullptr;
  Clock* clock = nullptr;
  LogConfig config;
  std::string dir;
  std::string lock_path;
  std::string checkpoint_path;
  std::string log_start_path;

  mutable std::mutex mu;
  // Ordered by base offset; never empty once open. The last one is the active segment.
  std::map<int64_t, std::unique_ptr<Segment>> segments;
  Offset log_start;
  Offset high_watermark;
  bool high_watermark_set = false;  // false: single-node, the high watermark follows the log end offset
  uint64_t generation = 0;
  // The checkpoint last written to (or read from) the `recovery-checkpoint` file: in the page cache at least,
  // durable only when write_checkpoint() wrote it (flush_locked() updates it in place without an fsync).
  std::optional<RecoveryCheckpoint> checkpoint;
  // Base offset of the active segment when the directory was last known synced: every segment up to it is a
  // durable directory entry. flush_locked() syncs the directory only when the active segment is newer.
  std::optional<int64_t> dir_synced_for;
  // The newest checkpoint this process read or wrote: what is known fsynced. Segments are told their part of
  // it (Segment::set_durable_position) so that no scan ever cuts fsynced bytes as a torn tail.
  std::optional<RecoveryCheckpoint> durable_mark;
  RecoveryReport report;
  bool closed = false;
  // When this process created the active segment (clock ms): the segment.ms roll base, with its first batch.
  std::optional<int64_t> active_created_ms;
  uint64_t tick = 0;  // use counter for the open-file budget
  std::map<int64_t, uint64_t> last_use;  // base offset -> tick of last use, for segments with open files

  // Cross-process state.
  std::unique_ptr<FileLock> held_lock;  // the partition lock while held
  std::unique_ptr<File> stamp_reader;   // read-only handle on .lock for refresh() without the lock

  // Flush policy (this process's appends).
  int64_t unflushed_records = 0;
  int64_t first_unflushed_ms = -1;  // monotonic ms of the oldest unflushed append, -1 when none
  bool needs_flush = false;         // appended or recovered since the last flush

  // Log::append encodes its batches here; kept between appends (see kMaxRetainedAppendBuffer).
  Bytes append_buffer;

  Segment* active() const { return segments.rbegin()->second.get(); }
  Offset log_end_offset() const { return active()->next_offset(); }
  Offset high_watermark_locked() const;
  Segment::Options segment_options() const;
  std::unique_ptr<Segment> new_segment(Offset base, StagingSuffix staging = StagingSuffix::kNone) const;
  // Bytes of segment `base` known fsynced by durable_mark: all below its segment, its position in it, 0 after.
  uint64_t durable_position_of(int64_t base) const;
  // Records cp as durable and tells every segment its durable position.
  void mark_durable(const RecoveryCheckpoint& cp);

  // ---- partition lock and stamp
  Status acquire_lock();
  void release_lock();
  std::optional<PartitionStamp> read_stamp();
  PartitionStamp current_stamp() const;
  Status write_stamp();

  // Whether the stamp's generation differs from ours (or the stamp is unreadable): another process changed
  // the log's shape since this Log last looked.
  bool stamp_moved();

  // ---- read path (REQUIRE mu held)
  Status read_into_locked(Offset from, size_t max_bytes, Offset max_offset, bool min_one_batch, ReadResult& out);
  // Log::read_slices when every batch can go as a slice: true with out filled (out.records empty); false
  // (out.slices empty) when the read must go through read_into_locked.
  bool read_slices_locked(Offset from, size_t max_bytes, Offset max_offset, bool min_one_batch, ReadResult& out);

  // ---- loading and catch-up
  // Loads a non-active segment lazily for reading (checks indexes, validates its tail).
  Status ensure_loaded(Segment* seg);
  // Loads (if needed) and makes the active segment writable. REQUIRES the partition lock.
  Status ensure_active_writable();
  // Brings the in-memory state up to date with the directory (other processes' appends, rolls, deletions).
  // writer: under the partition lock, a torn tail left by a dead writer is truncated.
  Status catch_up_locked(bool writer);
  // Re-reads the directory from scratch (after a structural change by another process).
  Status reload_locked(bool writer);
  Status enforce_open_file_budget(Segment* keep);

  // ---- open and recovery
  Status open_locked();
  // open() of a directory this process may not write: loads it for reading only (no file opened for
  // writing, no lock file created), under a shared partition lock when the lock file exists.
  Status open_read_only();
  Status finish_staged_files();
  Status recover_segments(const std::optional<RecoveryCheckpoint>& cp);

  // ---- write path
  struct PreparedBatch {
    size_t position = 0;  // in the append buffer
    BatchInfo info;       // size, and offsets/epoch once assigned
    int32_t last_offset_delta = 0;
    int32_t record_count = 0;
  };
  // Walks the batches of an append (framing, recordCount / lastOffsetDelta, max.message.bytes; with verify
  // also the CRC and the records) into `prepared`. Errors name the batch's byte position.
  Status prepare_batches(ByteSpan buffer, bool verify, std::vector<PreparedBatch>& prepared) const;
  Result<AppendResult> append_prepared(std::span<std::byte> buffer, std::vector<PreparedBatch>& batches,
                                       LeaderEpoch epoch);
  bool should_roll(const Segment& seg, uint64_t projected_size, const BatchInfo& next, Timestamp now) const;
  Status roll_locked(Offset base);
  Status flush_locked();
  Status maybe_flush_locked();
  // Writes the checkpoint durably (tmp + fsync + rename + directory fsync).
  Status write_checkpoint(const RecoveryCheckpoint& cp);
  // flush_locked()'s checkpoint, after the fdatasync of every byte it covers: when it only moves the current
  // checkpoint forward within the same segment, the 42 bytes are overwritten in place with no fsync (the
  // checkpoint may lag on disk; it never claims more than is durable). Otherwise write_checkpoint().
  Status advance_checkpoint(const RecoveryCheckpoint& cp);
  Status write_log_start_offset();
  // Removes a whole segment: its files are renamed to .deleted, the directory synced, then unlinked.
  Status delete_segment_locked(int64_t base);
  Result<uint64_t> segment_size(Segment* seg);

  // ---- leader epochs (engine/log_epochs.cc)
  std::string epochs_path;
  LeaderEpochCache epochs;
  bool epochs_dirty = false;  // the cache moved since the file was last written
  // Batches of `epoch` were appended from `base` on.
  void learn_epoch_locked(LeaderEpoch epoch, Offset base);
  // open(): reads leader-epoch-checkpoint, keeps its entries below the durable mark, learns the tail after it
  // from the batches, checks every entry against the batches it names and rebuilds the cache from the whole
  // log when the file is missing, garbled or wrong. writer: writes the file back when it changed.
  Status load_epochs_locked(bool writer);
  // Writes the file when the cache moved (flush calls this before the recovery checkpoint moves).
  Status write_epochs_locked();
  // After the log's tail or prefix moved: drops epochs outside [log start, log end); durable: writes now.
  Status trim_epochs_locked(bool durable);
  // {base offset, epoch} of the batch holding `offset`; nullopt when no batch holds it (a gap, out of range).
  Result<std::optional<std::pair<Offset, LeaderEpoch>>> batch_at_locked(Offset offset);
  // The epoch of the last batch ending before `limit` (a batch boundary); nullopt when there is none.
  Result<std::optional<LeaderEpoch>> epoch_before_locked(Offset limit);
  // Assigns the epoch of every batch from the one holding `from` to the log end into `cache`.
  Status scan_epochs_locked(Offset from, LeaderEpochCache& cache);
  // Whether `entries` describe this log exactly (every entry's first batch and the batch before it).
  Result<bool> epochs_match_log_locked(const std::vector<EpochEntry>& entries);
  Status truncate_fully_locked(Offset offset);

  // ---- maintenance (engine/log_maintenance.cc)
  Status truncate_to_locked(Offset offset);
  Result<uint64_t> compact_locked();
  Result<int> apply_retention_locked();

  // RAII holder of the partition lock for one operation (no-op when cross_process_lock is off).
  class LockScope {
   public:
    explicit LockScope(Impl& impl) : impl_(impl) {}
    Status acquire() {
      STREAMCTL_TRY(impl_.acquire_lock());
      acquired_ = true;
      return ok_status();
    }
    ~LockScope() {
      if (acquired_) impl_.release_lock();
    }
    LockScope(const LockScope&) = delete;
    LockScope& operator=(const LockScope&) = delete;

   private:
    Impl& impl_;
    bool acquired_ = false;
  };
};

}  // namespace streamctl::engine
