// Offline inspection of partition files for `streamctl log dump|verify` (Kafka's kafka-dump-log).
//
// Reads segment (.log), offset index (.index) and time index (.timeindex) files directly through
// FileSystem, read-only: unlike opening the Log, it never recovers, truncates or rebuilds anything,
// so it shows the bytes exactly as they are on disk. A segment is read batch by batch through a bounded
// buffer (never the whole file). Checks per segment:
//   * each batch: length, magic 2, CRC-32C and header fields (validate_batch);
//   * offsets: the first batch's base offset >= the segment's base offset (its file name), and every batch
//     starts after the previous one's last offset;
//   * the tail: a batch cut short by the end of the file is reported as a torn tail.
// A batch with a sane length but bad contents (e.g. a CRC mismatch) is reported and skipped (the next
// batch can still be found); a broken length or magic stops the scan, since nothing after it can be framed.
// Index checks (indexes are derived data the Log rebuilds, so a bad index is reported, not fatal to the data):
// entries ordered, each offset index entry at the start position of the batch whose last offset it names,
// each time index entry naming an offset inside the segment, with a timestamp no larger than the largest
// batch timestamp up to the batch holding that offset. Thread-compatible; plain functions.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/fs.h"
#include "kafka/format/record_batch.h"
#include "base/result.h"
#include "kafka/format/types.h"

namespace streamctl::cli {

// Ends a problem found at byte 0 of a file that holds no record batch at all (text, garbage): the file is
// probably not a log segment, and advice about torn tails does not apply.
inline constexpr const char* kNotASegmentHint =
    "; is this a Kafka log segment (a <20-digit base offset>.log file of a partition directory)?";

// One batch as found in a segment file.
struct BatchReport {
  uint64_t position = 0;             // byte position in the file
  RecordBatchHeader header;  // as parsed (fields may be garbage when !valid)
  bool valid = true;                 // length, magic, CRC and fields all check out
  std::string error;                 // why it is not valid (empty when valid)
  std::vector<Record> records;  // decoded when asked for and valid
  std::string records_error;         // decoding the records failed (the batch header was fine)
};

// What a scan found in one segment file.
struct SegmentSummary {
  std::string path;
  std::optional<Offset> file_base_offset;  // from the file name, when it is a segment name
  uint64_t file_bytes = 0;
  uint64_t valid_bytes = 0;      // bytes up to the end of the last batch that checked out
  int64_t batches = 0;           // batches framed (valid or not)
  int64_t invalid_batches = 0;
  int64_t records = 0;           // sum of recordCount over valid batches
  std::optional<Offset> first_offset;  // base offset of the first valid batch
  std::optional<Offset> last_offset;   // last offset of the last valid batch (inclusive)
  Timestamp max_timestamp = kNoTimestamp;
  bool truncated_tail = false;   // the file ends inside a batch
  // Zero bytes from the end of the last batch to the end of the file (a preallocated segment's unused
  // space, preallocate=true): not a problem, nothing was written there.
  uint64_t zero_tail_bytes = 0;
  bool stopped = false;          // framing broke (bad length/magic): the rest of the file was not read
  // The first problem found, with its byte position (empty when the segment is clean).
  std::string first_error;
  std::optional<uint64_t> first_error_position;
  bool clean() const { return first_error.empty(); }
};

// An index entry as stored (absolute offset = segment base offset + relative offset).
struct IndexEntry {
  Offset offset;
  uint64_t position = 0;                          // offset index only
  Timestamp timestamp = kNoTimestamp;  // time index only
};

enum class IndexKind { kOffset, kTime };

struct IndexReport {
  std::string path;
  IndexKind kind = IndexKind::kOffset;
  bool exists = false;
  uint64_t file_bytes = 0;
  std::vector<IndexEntry> entries;
  std::string first_error;                  // empty when consistent
  std::optional<size_t> first_error_entry;  // index of the offending entry
  bool clean() const { return first_error.empty(); }
};

struct ScanOptions {
  bool decode_records = false;
  // Without decode_records: still check that every batch's records decode (decompressing once, copying
  // nothing: engine::check_batch_records); a batch whose payload does not is invalid (verify).
  bool check_records = false;
  // Stop at the first problem (verify); otherwise skip bad-but-framed batches (dump).
  bool stop_at_first_error = false;
  // Indexes to check against the batches while scanning (read_index output; not owned, may be null).
  // Read them BEFORE scanning: the log is appended before its index, so everything an index read first
  // refers to is in the log scanned afterwards, even while a producer is appending.
  IndexReport* offset_index = nullptr;
  IndexReport* time_index = nullptr;
};

// Scans a segment file, calling on_batch (may be empty) for every framed batch in order, and checks the
// given indexes against it (their first_error is set on a mismatch). Memory is bounded by the largest batch.
// Returns an error only when the file cannot be read; problems in the bytes land in the summary.
Result<SegmentSummary> scan_segment(FileSystem& fs, const std::string& path,
                                            const ScanOptions& options,
                                            const std::function<void(const BatchReport&)>& on_batch);

// Reads an index file (formats in engine/offset_index.h and engine/time_index.h; a missing file is reported
// with exists = false, not an error) and checks its shape: whole entries; offset index: strictly increasing
// offsets and positions; time index: strictly increasing timestamps, non-decreasing offsets.
// Pass the report to scan_segment (ScanOptions) to check it against the log too.
Result<IndexReport> read_index(FileSystem& fs, const std::string& path, IndexKind kind,
                                       Offset base_offset);

}  // namespace streamctl::cli
