// Offline segment and index inspection; what is checked is described in log_inspect.h.
#include "cli/log_inspect.h"

#include <algorithm>

#include "engine/file_names.h"
#include "engine/offset_index.h"
#include "engine/time_index.h"

namespace streamctl::cli {


namespace {

// Why `bytes` (fewer than a batch header, at byte `pos`) cannot be the start of a record batch, or "" when
// they can (a torn tail). A batch header has the magic byte 2 at offset 16 and a batchLength of at least
// kMinBatchLength at offset 8.
std::string not_a_batch_start(ByteSpan bytes, uint64_t pos) {
  const std::string at = "at byte position " + std::to_string(pos) + ": ";
  const std::string suffix = pos == 0 ? kNotASegmentHint : "";
  if (bytes.size() > kMagicOffset && uint8_t(bytes[kMagicOffset]) != kMagicV2) {
    return at + "magic is " + std::to_string(int(uint8_t(bytes[kMagicOffset]))) + ", expected 2 (the " +
           std::to_string(bytes.size()) + " bytes there are not a record batch)" + suffix;
  }
  if (bytes.size() >= kLogOverhead) {
    int32_t length = int32_t(get_be32(bytes.data() + kBatchLengthOffset));
    if (length < kMinBatchLength) {
      return at + "batchLength is " + std::to_string(length) + ", expected >= " + std::to_string(kMinBatchLength) +
             " (the " + std::to_string(bytes.size()) + " bytes there are not a record batch)" + suffix;
    }
  }
  if (pos == 0) {
    bool text = !bytes.empty();
    for (std::byte b : bytes) {
      auto c = uint8_t(b);
      if (!(c == '\n' || c == '\r' || c == '\t' || (c >= 0x20 && c < 0x7f))) text = false;
    }
    if (text) return at + "the file holds text, not record batches" + suffix;
  }
  return "";
}

// Reads a file sequentially through a bounded window (1 MiB, or one batch when a batch is larger).
class WindowReader {
 public:
  explicit WindowReader(File& file, uint64_t size) : file_(file), size_(size) {}

  // The bytes [pos, pos + n), n <= remaining. Valid until the next call.
  Result<ByteSpan> get(uint64_t pos, size_t n) {
    if (pos < start_ || pos + n > start_ + buf_.size()) {
      size_t want = std::max<size_t>(n, kWindowBytes);
      want = size_t(std::min<uint64_t>(want, size_ - pos));
      buf_.resize(want);
      STREAMCTL_ASSIGN_OR_RETURN(size_t got, file_.read_at(pos, std::span<std::byte>(buf_.data(), want)));
      buf_.resize(got);
      start_ = pos;
      if (got < n) {
        return Error::io_error("short read of " + file_.path() + " at byte position " + std::to_string(pos) +
                               ": the file shrank while being read");
      }
    }
    return ByteSpan(buf_.data() + (pos - start_), n);
  }

 private:
  static constexpr size_t kWindowBytes = size_t(1) << 20;
  File& file_;
  uint64_t size_;
  Bytes buf_;
  uint64_t start_ = 0;
};

std::string base_name(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void note_problem(SegmentSummary& s, uint64_t position, const std::string& message) {
  if (!s.first_error.empty()) return;
  s.first_error = message;
  s.first_error_position = position;
}

void fail_entry(IndexReport& r, size_t entry, const std::string& why) {
  if (!r.first_error.empty()) return;
  const size_t entry_bytes =
      r.kind == IndexKind::kOffset ? engine::OffsetIndex::kEntrySize : engine::TimeIndex::kEntrySize;
  r.first_error = "entry " + std::to_string(entry) + " (byte position " + std::to_string(entry * entry_bytes) +
                  "): " + why;
  r.first_error_entry = entry;
}

// Walks index entries alongside the batches of a scan (both are in log order).
class IndexChecker {
 public:
  IndexChecker(IndexReport* offset_index, IndexReport* time_index, const std::string& log_path)
      : oi_(offset_index), ti_(time_index), log_path_(log_path) {}

  // Called for every valid batch, in file order.
  void on_batch(uint64_t position, const RecordBatchHeader& h) {
    if (oi_ != nullptr) {
      while (o_ < oi_->entries.size() && oi_->entries[o_].position < position) {
        const IndexEntry& e = oi_->entries[o_];
        fail_entry(*oi_, o_, "position " + std::to_string(e.position) + " (offset " + std::to_string(e.offset.value) +
                                 ") is not the start of a valid batch in " + log_path_);
        ++o_;
      }
      if (o_ < oi_->entries.size() && oi_->entries[o_].position == position) {
        const IndexEntry& e = oi_->entries[o_];
        if (e.offset != h.last_offset()) {
          fail_entry(*oi_, o_, "offset " + std::to_string(e.offset.value) + " at position " +
                                   std::to_string(e.position) + ", but the batch there ends at offset " +
                                   std::to_string(h.last_offset().value));
        }
        ++o_;
      }
    }
    if (ti_ != nullptr) {
      max_seen_ = std::max(max_seen_, h.max_timestamp);
      while (t_ < ti_->entries.size() && ti_->entries[t_].offset <= h.last_offset()) {
        const IndexEntry& e = ti_->entries[t_];
        if (e.offset < first_base_.value_or(h.base_offset)) {
          fail_entry(*ti_, t_, "offset " + std::to_string(e.offset.value) + " is below the first batch of " +
                                   log_path_);
        } else if (e.timestamp > max_seen_) {
          fail_entry(*ti_, t_, "timestamp " + std::to_string(e.timestamp.value) + " for offset " +
                                   std::to_string(e.offset.value) +
                                   " is larger than every record timestamp up to that offset (" +
                                   std::to_string(max_seen_.value) + ")");
        }
        ++t_;
      }
      if (!first_base_) first_base_ = h.base_offset;
    }
  }

  // Entries left once the scan is over point past the last valid batch.
  void finish(const SegmentSummary& s) {
    if (oi_ != nullptr && o_ < oi_->entries.size()) {
      const IndexEntry& e = oi_->entries[o_];
      fail_entry(*oi_, o_, "position " + std::to_string(e.position) + " (offset " + std::to_string(e.offset.value) +
                               ") is past the last valid batch of " + log_path_ + " (valid bytes: " +
                               std::to_string(s.valid_bytes) + ")");
    }
    if (ti_ != nullptr && t_ < ti_->entries.size()) {
      const IndexEntry& e = ti_->entries[t_];
      fail_entry(*ti_, t_, "offset " + std::to_string(e.offset.value) + " is past the last valid batch of " +
                               log_path_ +
                               (s.last_offset ? " (last offset " + std::to_string(s.last_offset->value) + ")"
                                              : std::string(" (it holds no valid batch)")));
    }
  }

 private:
  IndexReport* oi_;
  IndexReport* ti_;
  const std::string& log_path_;
  size_t o_ = 0;
  size_t t_ = 0;
  Timestamp max_seen_ = kNoTimestamp;
  std::optional<Offset> first_base_;
};

}  // namespace

Result<SegmentSummary> scan_segment(FileSystem& fs, const std::string& path, const ScanOptions& options,
                                    const std::function<void(const BatchReport&)>& on_batch) {
  SegmentSummary s;
  s.path = path;
  if (auto name = engine::parse_segment_file_name(base_name(path));
      name && name->kind == engine::SegmentFileKind::kLog) {
    s.file_base_offset = name->base_offset;
  }
  STREAMCTL_ASSIGN_OR_RETURN(auto file, fs.open(path, OpenMode::kRead));
  STREAMCTL_ASSIGN_OR_RETURN(s.file_bytes, file->size());
  WindowReader reader(*file, s.file_bytes);
  IndexChecker indexes(options.offset_index, options.time_index, path);

  std::optional<Offset> next_expected;  // one past the last offset of the previous valid batch
  uint64_t pos = 0;
  // True when every byte from pos to the end of the file is zero (preallocated, never written).
  auto zeros_to_end = [&](uint64_t from) -> Result<bool> {
    for (uint64_t at = from; at < s.file_bytes;) {
      size_t n = size_t(std::min<uint64_t>(s.file_bytes - at, uint64_t(1) << 20));
      STREAMCTL_ASSIGN_OR_RETURN(ByteSpan chunk, reader.get(at, n));
      for (std::byte b : chunk) {
        if (b != std::byte{0}) return false;
      }
      at += n;
    }
    return true;
  };
  while (pos < s.file_bytes) {
    const uint64_t remaining = s.file_bytes - pos;
    if (remaining >= kLogOverhead) {
      STREAMCTL_ASSIGN_OR_RETURN(ByteSpan prefix, reader.get(pos, kLogOverhead));
      if (get_be32(prefix.data() + kBatchLengthOffset) == 0) {
        STREAMCTL_ASSIGN_OR_RETURN(bool zeros, zeros_to_end(pos));
        if (zeros) {
          s.zero_tail_bytes = remaining;
          break;
        }
      }
    }
    if (remaining < kBatchHeaderSize) {
      // A short tail is torn only if what is there could be the start of a batch header: a text file or
      // garbage is not a torn batch, and saying so would send the user after a crash that never happened.
      STREAMCTL_ASSIGN_OR_RETURN(ByteSpan tail, reader.get(pos, size_t(remaining)));
      std::string not_a_batch = not_a_batch_start(tail, pos);
      if (!not_a_batch.empty()) {
        ++s.batches;
        ++s.invalid_batches;
        s.stopped = true;
        note_problem(s, pos, not_a_batch);
        break;
      }
      s.truncated_tail = true;
      note_problem(s, pos,
                   "at byte position " + std::to_string(pos) + ": torn tail: the file ends " +
                       std::to_string(remaining) + " bytes into a batch header of " +
                       std::to_string(kBatchHeaderSize) + " bytes");
      break;
    }
    STREAMCTL_ASSIGN_OR_RETURN(ByteSpan head, reader.get(pos, kBatchHeaderSize));
    BatchReport report;
    report.position = pos;
    report.header = parse_batch_header(head);
    const auto& h = report.header;
    if (h.batch_length < kMinBatchLength || h.magic != kMagicV2) {
      // Without a trustworthy length nothing after this point can be framed.
      std::string why = h.magic != kMagicV2
                            ? "magic is " + std::to_string(int(h.magic)) + ", expected 2"
                            : "batchLength is " + std::to_string(h.batch_length) + ", expected >= " +
                                  std::to_string(kMinBatchLength);
      report.valid = false;
      report.error = "at byte position " + std::to_string(pos) + ": " + why +
                     " (cannot frame the rest of the file: " + std::to_string(remaining) + " bytes not read)";
      if (pos == 0) report.error += kNotASegmentHint;
      ++s.batches;
      ++s.invalid_batches;
      s.stopped = true;
      note_problem(s, pos, report.error);
      if (on_batch) on_batch(report);
      break;
    }
    const uint64_t size = h.size_bytes();
    if (size > remaining) {
      s.truncated_tail = true;
      note_problem(s, pos,
                   "at byte position " + std::to_string(pos) + ": torn tail: batch at base offset " +
                       std::to_string(h.base_offset.value) + " needs " + std::to_string(size) +
                       " bytes but the file ends after " + std::to_string(remaining));
      break;
    }
    STREAMCTL_ASSIGN_OR_RETURN(ByteSpan batch, reader.get(pos, size_t(size)));
    ++s.batches;
    auto validated = validate_batch(batch);
    if (!validated.ok()) {
      report.valid = false;
      report.error = "at byte position " + std::to_string(pos) + ": " + validated.error().message;
    } else if (s.file_base_offset && h.base_offset < *s.file_base_offset) {
      report.valid = false;
      report.error = "at byte position " + std::to_string(pos) + ": base offset " +
                     std::to_string(h.base_offset.value) + " is below the segment's base offset " +
                     std::to_string(s.file_base_offset->value) + " (from its file name)";
    } else if (next_expected && h.base_offset < *next_expected) {
      report.valid = false;
      report.error = "at byte position " + std::to_string(pos) + ": base offset " +
                     std::to_string(h.base_offset.value) + " does not follow the previous batch (last offset " +
                     std::to_string(next_expected->value - 1) + ")";
    }
    if (report.valid) {
      if (options.decode_records) {
        auto records = decode_records(batch);
        if (records.ok()) {
          report.records = std::move(records).value();
        } else {
          report.records_error = records.error().message;
          report.valid = false;
          report.error = "at byte position " + std::to_string(pos) + ": " + records.error().message;
        }
      } else if (options.check_records) {
        if (Status r = check_batch_records(batch); !r.ok()) {
          report.records_error = r.error().message;
          report.valid = false;
          report.error = "at byte position " + std::to_string(pos) + ": " + r.error().message;
        }
      }
    }
    if (report.valid) {
      s.valid_bytes = pos + size;
      s.records += h.record_count;
      if (!s.first_offset) s.first_offset = h.base_offset;
      s.last_offset = h.last_offset();
      next_expected = h.next_offset();
      s.max_timestamp = std::max(s.max_timestamp, h.max_timestamp);
      indexes.on_batch(pos, h);
    } else {
      ++s.invalid_batches;
      note_problem(s, pos, report.error);
    }
    if (on_batch) on_batch(report);
    pos += size;
    if (!report.valid && options.stop_at_first_error) {
      s.stopped = pos < s.file_bytes;
      break;
    }
  }
  indexes.finish(s);
  return s;
}

Result<IndexReport> read_index(FileSystem& fs, const std::string& path, IndexKind kind,
                               Offset base_offset) {
  IndexReport r;
  r.path = path;
  r.kind = kind;
  STREAMCTL_ASSIGN_OR_RETURN(r.exists, fs.exists(path));
  if (!r.exists) return r;
  STREAMCTL_ASSIGN_OR_RETURN(Bytes bytes, read_file(fs, path));
  r.file_bytes = bytes.size();
  const size_t entry_bytes = kind == IndexKind::kOffset ? engine::OffsetIndex::kEntrySize
                                                        : engine::TimeIndex::kEntrySize;
  const size_t n = bytes.size() / entry_bytes;
  for (size_t i = 0; i < n; ++i) {
    const std::byte* p = bytes.data() + i * entry_bytes;
    IndexEntry e;
    if (kind == IndexKind::kOffset) {
      e.offset = base_offset + int64_t(get_be32(p));
      e.position = get_be32(p + 4);
    } else {
      e.timestamp = Timestamp(int64_t(get_be64(p)));
      e.offset = base_offset + int64_t(get_be32(p + 8));
    }
    r.entries.push_back(e);
  }
  for (size_t i = 1; i < r.entries.size(); ++i) {
    const IndexEntry& e = r.entries[i];
    const IndexEntry& prev = r.entries[i - 1];
    if (kind == IndexKind::kOffset) {
      if (e.offset <= prev.offset) {
        fail_entry(r, i, "offset " + std::to_string(e.offset.value) + " does not increase (previous entry: " +
                             std::to_string(prev.offset.value) + ")");
      }
      if (e.position <= prev.position) {
        fail_entry(r, i, "position " + std::to_string(e.position) + " does not increase (previous entry: " +
                             std::to_string(prev.position) + ")");
      }
    } else {
      if (e.timestamp <= prev.timestamp) {
        fail_entry(r, i, "timestamp " + std::to_string(e.timestamp.value) +
                             " does not increase (previous entry: " + std::to_string(prev.timestamp.value) + ")");
      }
      if (e.offset < prev.offset) {
        fail_entry(r, i, "offset " + std::to_string(e.offset.value) + " goes back (previous entry: " +
                             std::to_string(prev.offset.value) + ")");
      }
    }
  }
  if (bytes.size() % entry_bytes != 0) {
    fail_entry(r, n, "the file is " + std::to_string(bytes.size()) + " bytes, not a whole number of " +
                         std::to_string(entry_bytes) + "-byte entries");
  }
  return r;
}

}  // namespace streamctl::cli
