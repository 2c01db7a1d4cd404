// Segment: one <base>.log file of RecordBatch v2 batches plus its .index and .timeindex (Kafka's LogSegment).
//
// "Each segment has a base offset which is an offset <= the least offset of any message in this segment and >
// any offset in any previous segment." The .log file is a plain concatenation of stored batches (byte table in
// kafka/format/record_batch.h); there is no segment header. Only the bytes [0, size()) are valid: complete batches
// whose length, magic, CRC and offsets checked out. Anything after is a torn tail (cut off by recovery), a
// batch another process is writing, or data the Log has not caught up with yet.
// Indexes are derived data (engine/offset_index.h, time_index.h): checked on load and rebuilt from the log
// when missing, inconsistent or stale. A segment is loaded lazily: until load()/recover(), only its base
// offset is known and no file is open.
// Ownership: owned by the Log. Not thread-safe (the Log serialises access). Durability: append() puts bytes
// in the page cache; sync() fsyncs the log and both indexes, sync_log() the log only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/file_names.h"
#include "base/fs.h"
#include "engine/offset_index.h"
#include "kafka/format/record_batch.h"
#include "base/result.h"
#include "engine/time_index.h"
#include "kafka/format/types.h"

namespace streamctl::engine {

// What the Log knows about a batch it appends (offsets already assigned).
struct BatchInfo {
  uint32_t size = 0;  // bytes, header included
  Offset base_offset;
  Offset last_offset;
  Timestamp max_timestamp = kNoTimestamp;
  LeaderEpoch leader_epoch = kNoLeaderEpoch;
};

// The part of a segment's state that changes on append (mirrored in the partition's lock-file stamp so that
// other processes can catch up without rescanning).
struct SegmentTail {
  uint64_t size = 0;                              // bytes of valid batches
  Offset next_offset;                             // one past the last offset in the segment
  Timestamp max_timestamp = kNoTimestamp;         // largest batch maxTimestamp
  Offset offset_of_max_timestamp;                 // last offset of the batch holding it
  Timestamp first_batch_timestamp = kNoTimestamp; // maxTimestamp of the first batch (segment.ms roll)
  LeaderEpoch last_epoch = kNoLeaderEpoch;        // leader epoch of the last batch
  uint32_t offset_index_entries = 0;
  uint32_t time_index_entries = 0;
  bool operator==(const SegmentTail&) const = default;
};

// A batch that fails validation at or below the durable point (the recovery checkpoint), or anywhere with a
// valid batch right after it: fsynced data that went bad on disk (a crash tears only the end of what was
// written). Never a torn tail: it is reported (durable_corruption_error) and nothing is cut, so its offsets
// are never handed out again. Fields for tools that act on it (log verify, a later --repair).
struct DurableCorruption {
  std::string file;               // the .log file
  uint64_t position = 0;          // byte position of the bad batch
  uint64_t durable_position = 0;  // bytes before this were fsynced (UINT64_MAX: the whole segment)
  Offset expected_offset;         // the offset the bad batch should start at
  std::optional<Offset> base_offset;  // its header's offsets, when the header itself parses
  std::optional<Offset> last_offset;
  std::string reason;             // what failed (length, magic, CRC, offsets)
};
// kCorruption whose message names every field: "<file>: corrupt batch at position P (offsets B..L, expected to
// start at E) within the fsynced bytes (recovery checkpoint at C): <reason>; nothing was truncated" ("followed
// by valid batches" instead of "within the fsynced bytes" when P is past C).
Error durable_corruption_error(const DurableCorruption& c);

// What load()/recover()/catch_up() found.
struct ScanReport {
  uint64_t scanned_bytes = 0;  // log bytes validated
  uint64_t dropped_bytes = 0;  // torn or corrupt tail bytes truncated away
  bool rebuilt_index = false;  // an index was missing or inconsistent and was rebuilt from the log
  std::string detail;          // what was wrong ("" when nothing), naming the file and position
};

class Segment {
 public:
  struct Options {
    int64_t index_interval_bytes = 4096;      // index.interval.bytes
    int64_t segment_index_bytes = 10485760;   // segment.index.bytes (index capacity)
  };

  // fs: not owned, must outlive the segment. staging: kCleaned for compaction output, else kNone.
  Segment(FileSystem* fs, std::string dir, Offset base_offset, Options options,
          StagingSuffix staging = StagingSuffix::kNone);
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  ~Segment();

  // Creates the three files empty (truncating leftovers) and opens them for appending.
  Status create();

  // Loads a segment whose bytes are trusted: loads both indexes, checks them against the log (rebuilding from
  // the log when missing or inconsistent), then validates the batches after the last index entry to learn the
  // next offset, largest timestamp and leader epoch. A torn or invalid batch there ends the valid data: with
  // truncate_invalid_tail it is cut off (REQUIRES the partition lock), otherwise reads stop before it (it may be
  // a batch another process is still writing). writable opens the files for appending.
  Result<ScanReport> load(bool writable, bool truncate_invalid_tail);
  // Crash recovery from a checkpoint: like load(writable, truncate) but only the first
  // durable_offset_index_entries / durable_time_index_entries index entries and the bytes before `position` are
  // trusted; everything after is validated batch by batch (length, CRC, increasing offsets) and re-indexed, and
  // the first torn or corrupt batch is truncated away with everything after it. position 0 = full scan.
  // A bad batch starting before `position` (fsynced, see set_durable_position) is not cut: kCorruption from
  // durable_corruption_error, the files unchanged.
  Result<ScanReport> recover(uint64_t position, size_t durable_offset_index_entries,
                             size_t durable_time_index_entries);
  // Bytes [0, position) of the .log file are known fsynced (the recovery checkpoint; UINT64_MAX when the
  // checkpoint is past this segment). A scan asked to truncate an invalid tail (load, recover, catch_up,
  // scan_to_end) treats a bad batch starting before it as corruption instead: kCorruption
  // (durable_corruption_error), nothing truncated, last_corruption() set. Scans that do not truncate stop
  // before it as before (invalid_tail()). Default 0: nothing known durable. Kept across unload().
  void set_durable_position(uint64_t position) { durable_position_ = position; }
  uint64_t durable_position() const { return durable_position_; }
  // The corruption the last failed scan found below the durable position (nullopt when none).
  const std::optional<DurableCorruption>& last_corruption() const { return last_corruption_; }
  // Catches up with appends another process made (stamp = its recorded tail): loads the index entries it
  // added, trusts the bytes up to stamp.size, then validates whatever lies beyond (a complete batch whose writer
  // died before updating the stamp is kept, a torn one cut off when truncate_invalid_tail). kCorruption when the
  // stamp does not extend this segment's state (the caller reloads instead).
  Result<ScanReport> catch_up(const SegmentTail& stamp, bool truncate_invalid_tail);
  // Validates bytes appended after size() by others (no stamp): keeps complete batches, and cuts a torn or
  // corrupt tail when truncate_invalid_tail.
  Result<ScanReport> scan_to_end(bool truncate_invalid_tail);
  bool loaded() const { return loaded_; }
  bool writable() const { return writable_; }
  // Why the valid data ends before the end of the file, when load() stopped at a torn or invalid batch without
  // truncating it ("" otherwise). For a closed segment this is corruption; for the active one it may be a
  // batch still being written.
  const std::string& invalid_tail() const { return invalid_tail_; }
  // Writes indexes that differ from their files (entries rebuilt or added by a read-only load) atomically.
  // REQUIRES the partition lock.
  Status persist_indexes();
  // Closes every descriptor and forgets the loaded state (the next use loads again).
  void unload();
  // Closes descriptors but keeps the loaded state; they are reopened on demand (open-file budget).
  void release_files();
  bool has_open_files() const { return log_ != nullptr; }

  // Appends consecutive whole batches (`bytes`, described in order by `batches`) with one positioned write,
  // adding index entries every index.interval.bytes. Page cache only. On error the segment is unchanged (the
  // bytes written are cut off again; if even that fails, the error says so and the caller must reload).
  // REQUIRES: loaded writable; batches[0].base_offset >= next_offset().
  Status append(ByteSpan bytes, std::span<const BatchInfo> batches);
  // Writes index entries not yet in their files (append() does this itself).
  Status write_indexes();
  // Marks the segment closed (roll): adds the final time index entry (its largest timestamp) and writes it.
  Status close_for_roll();
  // fsyncs the log and both indexes.
  Status sync();
  // fsyncs the .log only (one fdatasync): the steady flush of the active segment. Index entries are written
  // to the page cache but not fsynced: indexes are derived data, checked against the log on load and rebuilt
  // when a crash lost or garbled them (engine/README.md, "One fdatasync per flush").
  Status sync_log();
  // Removes every batch at and after `offset`: the batch containing offset must start at it (kInvalidArgument
  // naming the batch otherwise). Truncates the file and both indexes. REQUIRES loaded writable.
  Status truncate_to(Offset offset);
  // The position truncate_to(offset) would cut at: the start of the first batch at or after offset (size()
  // when there is none). kInvalidArgument naming the batch when offset falls strictly inside one.
  Result<uint64_t> boundary_position(Offset offset);

  // Appends to *out the stored batches whose last offset >= from, in order, CRC-checked, stopping before a
  // batch whose last offset >= max_offset, before a batch that would take out->size() past max_bytes (unless
  // out is empty and min_one_batch: the first batch is always whole), and at size(). Sets *next to the offset
  // after the last batch appended. Returns true when it stopped because of a limit (max_bytes or max_offset),
  // false when it reached the end of the segment. kCorruption naming the file and position when the first
  // batch it would return fails validation (after others were returned, it stops before the bad one).
  Result<bool> read(Offset from, size_t max_bytes, Offset max_offset, bool min_one_batch, Bytes* out,
                    Offset* next);
  // read() into a reusable buffer without an intermediate copy: bytes [0, *used) of *buf are the result so far
  // (the "out" of read()), and *buf may be longer than that (left over from earlier reads: scratch, overwritten
  // here, never zeroed again). The stored bytes go with one pread per chunk straight to buf->data() + *used
  // and are validated there; *used grows by the bytes of the batches returned. Bytes past the final *used
  // are scratch (the caller trims). Same limits, return value and errors as read().
  // crc_skipped: nullptr = CRC-check every batch (read() does). Otherwise batches wholly below
  // verified_size() get every check but the CRC, and *crc_skipped is set to true when any did: the caller
  // must then make sure no other process rewrote those bytes in place (Log::read_into checks the stamp's
  // generation after the read and reads again with every CRC checked when it moved).
  Result<bool> read_into(Offset from, size_t max_bytes, Offset max_offset, bool min_one_batch, bool* crc_skipped,
                         ScratchBytes* buf, size_t* used, Offset* next);
  // What slice() did: reached the end of the segment, stopped at a limit (read_into's false / true), or found
  // that the read cannot be served as a slice (nothing appended; read_into() must do it).
  enum class SliceOutcome { kEndOfSegment, kStopped, kNeedsCopy };
  // The zero-copy sibling of read_into(): instead of reading the batches, appends to *slices the byte range of
  // this segment's .log file that holds exactly the batches read_into() would return after *used bytes (same
  // limits; *used and *next advance as it would advance them), with the file kept open by the FileSlice.
  // Only batch headers are read, and the offset index skips most of them. kNeedsCopy (nothing appended,
  // *used and *next unchanged) when the file has no OS descriptor, when a batch to return is not wholly below
  // verified_size() (its CRC was not checked by this process: read_into() checks it), or when a header fails
  // a check (read_into() reports it). *next: past the last batch returned, or, when the offset index skipped
  // headers, the base offset of the first batch not returned (the same next read across a compaction gap).
  // Errors: I/O errors only.
  Result<SliceOutcome> slice(Offset from, size_t max_bytes, Offset max_offset, bool min_one_batch, size_t* used,
                             Offset* next, std::vector<FileSlice>* slices);
  // Calls fn(header, position, bytes) for each valid batch at or after `from_position`, in order, until fn
  // returns false. Batches are CRC-checked; kCorruption naming the file and position on a bad one.
  // read_chunk: bytes read at a time (0: 1 MiB, for scans; point lookups that stop after a batch or two pass
  // a few KiB).
  Status for_each_batch(uint64_t from_position,
                        const std::function<Result<bool>(const RecordBatchHeader&, uint64_t, ByteSpan)>& fn,
                        size_t read_chunk = 0);
  // The first batch holding an offset >= offset with a timestamp >= ts could be: the position to start a
  // scan for offset_for_timestamp (offset index lookup of the time index hint).
  uint64_t position_for_timestamp(Timestamp ts, Offset* start_offset) const;

  Offset base_offset() const { return base_offset_; }
  // REQUIRES loaded() for the accessors below.
  Offset next_offset() const { return next_offset_; }
  uint64_t size() const { return size_; }
  // Bytes [0, verified_size()) hold batches whose CRC this process checked (recovery scans, catch-up scans,
  // reads) or that it appended itself from bytes it built or CRC-checked. Bytes adopted without a check (the
  // trusted prefix before a recovery checkpoint, another process's appends taken from its stamp) are not
  // included until a read checks them. <= size(); lowered by truncate_to().
  uint64_t verified_size() const { return verified_size_; }
  Timestamp max_timestamp() const { return max_timestamp_; }
  Timestamp first_batch_timestamp() const { return first_batch_timestamp_; }
  LeaderEpoch last_epoch() const { return last_epoch_; }
  bool empty() const { return size_ == 0; }
  // Whether the offset or time index has reached segment.index.bytes (the segment must roll).
  bool index_full() const { return offset_index_.full() || time_index_.full(); }
  SegmentTail tail() const;
  const OffsetIndex& offset_index() const { return offset_index_; }
  const TimeIndex& time_index() const { return time_index_; }
  void set_options(const Options& options);

  std::string path(SegmentFileKind kind) const;
  const std::string& log_path() const { return log_path_; }
  // Renames the three files from `from` to `to` staging (e.g. kCleaned -> kSwap); missing index files are
  // skipped. Descriptors stay valid (rename keeps the inode).
  Status rename_files(StagingSuffix to);
  StagingSuffix staging() const { return staging_; }

 private:
  Status open_log(bool writable);
  Status ensure_log_open();
  // Loads both index files and keeps the entries that pass the checks (see load()).
  Result<ScanReport> load_impl(bool writable, bool truncate_invalid_tail, std::optional<uint64_t> trusted_position,
                               size_t durable_oi, size_t durable_ti);
  // Validates batches from position `from` (where next_offset_ etc. describe the state) to the file's end,
  // updating the tail state and index entries as it goes. On a torn/corrupt batch: truncate or stop.
  Result<ScanReport> scan_from(uint64_t from, uint64_t file_size, bool truncate_invalid_tail);
  // Resets the tail state to "empty segment" and clears both indexes.
  void reset_state();
  // Adds the index entries a batch at `position` calls for (Kafka's every-index.interval.bytes rule) and folds
  // its timestamp, offsets and epoch into the tail state.
  void account_batch(uint64_t position, uint64_t size, Offset last_offset, Timestamp max_timestamp,
                     LeaderEpoch epoch);
  Result<Timestamp> read_first_batch_timestamp();
  // kCorruption naming the file and position unless the batch's offsets lie in [max(expected, base), next_offset).
  Status check_offsets(const RecordBatchHeader& h, uint64_t position, Offset expected) const;
  // The header of the batch whose first kBatchHeaderSize bytes are at p (file position `position`), checked
  // as reads require: length and magic, the whole batch within size(), offsets (check_offsets). kCorruption
  // naming the file and position otherwise.
  Result<RecordBatchHeader> checked_header(const std::byte* p, uint64_t position, Offset expected) const;
  // Phase 1 of a read: the first batch whose last offset is >= from, found by walking the headers after the
  // offset index's hint (one pread, usually). True with *pos, *h (its checked header) and *expected (the offset
  // its predecessor ends at) set; false when the segment has no such batch. kCorruption naming the file and
  // position for a bad or incomplete header on the way; I/O errors as they are.
  Result<bool> find_batch(Offset from, uint64_t* pos, RecordBatchHeader* h, Offset* expected);
  // A file position no read limited by max_offset needs to go past: the start of the first indexed batch
  // whose last offset is >= max_offset (every batch from there on is excluded), or size().
  uint64_t read_bound(Offset max_offset) const;

  FileSystem* fs_;
  std::string dir_;
  Offset base_offset_;
  Options options_;
  StagingSuffix staging_;
  std::string log_path_;
  // Shared with the FileSlices of reads in flight (slice()): releasing it never closes their descriptor.
  std::shared_ptr<File> log_;
  bool writable_ = false;
  bool loaded_ = false;

  uint64_t size_ = 0;
  Offset next_offset_;
  Timestamp max_timestamp_ = kNoTimestamp;
  Offset offset_of_max_timestamp_;
  Timestamp first_batch_timestamp_ = kNoTimestamp;
  LeaderEpoch last_epoch_ = kNoLeaderEpoch;
  uint64_t verified_size_ = 0;  // see verified_size()
  uint64_t writeback_from_ = 0;  // appended bytes before this were handed to File::start_writeback
  std::string invalid_tail_;
  uint64_t durable_position_ = 0;  // see set_durable_position()
  std::optional<DurableCorruption> last_corruption_;

  OffsetIndex offset_index_;
  TimeIndex time_index_;
};

}  // namespace streamctl::engine
