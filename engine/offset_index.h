// OffsetIndex: a segment's sparse map from offset to byte position in its .log file (Kafka's OffsetIndex).
//
// File format (<base>.index), a plain array of 8-byte entries, no header, no checksum:
//   offset  width  field
//   0       4      relativeOffset  be32: last offset of the indexed batch - segment base offset (0..INT32_MAX)
//   4       4      position        be32: byte position of that batch in the segment's .log file
// Entries are strictly increasing in both fields. One entry is added every index.interval.bytes of log
// data (the first batch of a segment is never indexed: lookups below the first entry start at position 0).
// "No attempt is made to checksum the contents of this file, in the event of a crash it is rebuilt": the
// owner (Segment) sanity-checks entries on load against the log and rebuilds the index from the log when it
// is missing, inconsistent or stale.
// Ownership: owned by one Segment; the File is opened lazily. Thread-compatible (the Log serialises access).
// Durability: entries are written to the page cache as they are added; sync() makes them durable.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/coding.h"
#include "base/fs.h"
#include "base/result.h"
#include "kafka/format/types.h"

namespace streamctl::engine {

// The file behind an index of fixed-size entries (shared by OffsetIndex and TimeIndex). Tracks how many
// entries the file is known to hold so that appending new entries is one positioned write.
class IndexFile {
 public:
  // fs: not owned, must outlive this object.
  IndexFile(FileSystem* fs, std::string path, size_t entry_size);
  IndexFile(const IndexFile&) = delete;
  IndexFile& operator=(const IndexFile&) = delete;

  // Reads every complete entry of the file. A missing file reads as empty with *existed = false.
  Result<Bytes> read_all(bool* existed);
  // Reads up to `count` entries starting at entry `first` (fewer when the file is shorter).
  Result<Bytes> read_entries(size_t first, size_t count);
  // Makes the file hold exactly `total` entries: the first `keep` are assumed right, `tail` holds the encoded
  // entries [keep, total). Creates the file when missing. Page cache only.
  Status write(size_t keep, ByteSpan tail, size_t total);
  // Replaces the file atomically (tmp + sync + rename + dir sync) with `all`.
  Status rewrite(ByteSpan all);
  // fsyncs the file (opening it when needed; a missing file is fine).
  Status sync();
  // Closes the descriptor (reopened on demand).
  void close();
  // Forget what is known about the file's length (another process may have changed it).
  void forget_length() { known_entries_ = kUnknown; }
  // Whether the file is known to hold exactly n entries.
  bool holds(size_t n) const { return known_entries_ == n; }
  const std::string& path() const { return path_; }
  void set_path(std::string path);

 private:
  static constexpr size_t kUnknown = SIZE_MAX;
  Status open_for_write();

  FileSystem* fs_;
  std::string path_;
  size_t entry_size_;
  std::unique_ptr<File> file_;
  bool writable_ = false;
  size_t known_entries_ = kUnknown;  // entries the file holds, when known
};

// An index hit: the indexed batch's last offset and its byte position.
struct OffsetPosition {
  Offset offset;
  uint64_t position = 0;
  auto operator<=>(const OffsetPosition&) const = default;
};

class OffsetIndex {
 public:
  static constexpr size_t kEntrySize = 8;

  // fs: not owned, must outlive the index. max_entries: when entries() reaches it the index is full()
  // (segment.index.bytes / 8) and the segment must roll.
  OffsetIndex(FileSystem* fs, std::string path, Offset base_offset, size_t max_entries);
  OffsetIndex(const OffsetIndex&) = delete;
  OffsetIndex& operator=(const OffsetIndex&) = delete;

  // Replaces the in-memory entries with the file's (no checks: see sanity_check). Returns whether the file
  // existed. A trailing partial entry is ignored (and cut off by the next write()).
  Result<bool> load();
  // Appends entries [entries(), total) read from the file, which another process extended. Each must follow
  // the previous one and point below log_size; kCorruption (nothing added) otherwise.
  // REQUIRES: the in-memory entries are exactly the file's first entries() (no unwritten entries).
  Status load_more(size_t total, uint64_t log_size);
  // Checks the in-memory entries: strictly increasing offsets and positions, relative offsets within
  // [0, INT32_MAX] and below next_offset, positions below log_size. kCorruption naming the file, the entry
  // and what is wrong.
  Status sanity_check(uint64_t log_size, Offset next_offset) const;

  // The greatest entry whose offset is <= target, or {base offset, 0} when there is none.
  OffsetPosition lookup(Offset target) const;
  // The entry with the smallest position >= position, if any.
  std::optional<OffsetPosition> first_at_or_after(uint64_t position) const;
  // The entry with the greatest position <= position, if any.
  std::optional<OffsetPosition> last_at_or_before(uint64_t position) const;
  std::optional<OffsetPosition> last_entry() const;
  OffsetPosition entry(size_t i) const;
  size_t entries() const { return entries_.size(); }
  bool full() const { return entries_.size() >= max_entries_; }
  void set_max_entries(size_t n) { max_entries_ = n; }
  // Entries added in memory but not written yet.
  bool has_unwritten() const { return file_entries_ != entries_.size(); }
  // Whether write() has anything to do (unwritten entries, or a file that may hold entries beyond ours).
  bool needs_write() const { return has_unwritten() || !file_.holds(entries_.size()); }

  // Adds an entry in memory (write() puts it in the file). Returns false (and adds nothing) when it would not
  // follow the last entry or does not fit the format; the index stays valid either way (it is sparse).
  bool append(Offset last_offset, uint64_t position);
  // Writes the entries the file lacks and cuts off anything after them.
  Status write();
  // Drops every entry whose position is >= position (in memory and, on the next write(), in the file).
  void truncate_to_position(uint64_t position);
  // Keeps the first n entries.
  void truncate_entries(size_t n);
  // Drops every entry (the file is emptied by the next write()).
  void clear();
  // Writes the whole index to its file atomically (used for rebuilt indexes of closed segments).
  Status rewrite();
  Status sync() { return file_.sync(); }
  void close() { file_.close(); }
  // Encoded bytes of all entries (the file's intended contents).
  Bytes encode() const;
  const std::string& path() const { return file_.path(); }
  void set_path(std::string path) { file_.set_path(std::move(path)); }
  Offset base_offset() const { return base_offset_; }

 private:
  struct Entry {
    uint32_t relative_offset;
    uint32_t position;
  };
  Status decode_into(ByteSpan bytes, std::vector<Entry>* out) const;

  IndexFile file_;
  Offset base_offset_;
  size_t max_entries_;
  std::vector<Entry> entries_;
  size_t file_entries_ = 0;  // entries_[0, file_entries_) are in the file as they are in memory
};

}  // namespace streamctl::engine
