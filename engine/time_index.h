// TimeIndex: a segment's sparse map from timestamp to offset (Kafka's TimeIndex), for ListOffsets by time and
// time-based retention.
//
// File format (<base>.timeindex), a plain array of 12-byte entries, no header, no checksum:
//   offset  width  field
//   0       8      timestamp       be64: the largest record timestamp (ms) in the segment up to this entry
//   8       4      relativeOffset  be32: the offset of the batch holding that timestamp - segment base offset
// Timestamps are strictly increasing (an entry is added only when the timestamp exceeds the last one) and
// relative offsets never decrease. Entries are added next to offset index entries (every
// index.interval.bytes) and once more when the segment is closed (roll), so the last entry of a closed
// segment holds its largest timestamp. Rebuilt from the log when missing or inconsistent, like OffsetIndex.
// Ownership: owned by one Segment. Thread-compatible. Durability: page cache on add, durable after sync().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/offset_index.h"

namespace streamctl::engine {

struct TimestampOffset {
  Timestamp timestamp;
  Offset offset;
  auto operator<=>(const TimestampOffset&) const = default;
};

class TimeIndex {
 public:
  static constexpr size_t kEntrySize = 12;

  // fs: not owned, must outlive the index. max_entries: full() at that many (segment.index.bytes / 12).
  TimeIndex(FileSystem* fs, std::string path, Offset base_offset, size_t max_entries);
  TimeIndex(const TimeIndex&) = delete;
  TimeIndex& operator=(const TimeIndex&) = delete;

  // Replaces the in-memory entries with the file's (no checks). Returns whether the file existed.
  Result<bool> load();
  // Appends entries [entries(), total) from the file (another process extended it). Each must follow the
  // previous one and have an offset below next_offset; kCorruption (nothing added) otherwise.
  // REQUIRES: no unwritten entries.
  Status load_more(size_t total, Offset next_offset);
  // Strictly increasing timestamps, non-decreasing offsets within [base, next_offset). kCorruption naming the
  // file and entry otherwise.
  Status sanity_check(Offset next_offset) const;

  // Where to start looking for the first record with timestamp >= target: one past the offset of the last
  // entry whose timestamp is < target (every record at or before that offset is older than target), or the
  // base offset when there is none.
  Offset lookup(Timestamp target) const;
  std::optional<TimestampOffset> last_entry() const;
  TimestampOffset entry(size_t i) const;
  size_t entries() const { return entries_.size(); }
  bool full() const { return entries_.size() >= max_entries_; }
  void set_max_entries(size_t n) { max_entries_ = n; }
  bool has_unwritten() const { return file_entries_ != entries_.size(); }
  // Whether write() has anything to do (unwritten entries, or a file that may hold entries beyond ours).
  bool needs_write() const { return has_unwritten() || !file_.holds(entries_.size()); }

  // Adds {timestamp, offset} when timestamp is greater than the last entry's (returns whether it did).
  // Offsets that would go backwards or do not fit the format are refused too.
  bool maybe_append(Timestamp timestamp, Offset offset);
  // Writes the entries the file lacks and cuts off anything after them.
  Status write();
  // Drops every entry whose offset is >= offset.
  void truncate_to_offset(Offset offset);
  void truncate_entries(size_t n);
  void clear();
  Status rewrite();
  Status sync() { return file_.sync(); }
  void close() { file_.close(); }
  Bytes encode() const;
  const std::string& path() const { return file_.path(); }
  void set_path(std::string path) { file_.set_path(std::move(path)); }

 private:
  struct Entry {
    int64_t timestamp;
    uint32_t relative_offset;
  };
  void decode_into(ByteSpan bytes, std::vector<Entry>* out) const;

  IndexFile file_;
  Offset base_offset_;
  size_t max_entries_;
  std::vector<Entry> entries_;
  size_t file_entries_ = 0;
};

}  // namespace streamctl::engine
