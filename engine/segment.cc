// Segment: scanning, recovery, append and reads over one .log file and its indexes.
//
// Every walk over a .log file goes through SegmentScanner, which reads the file in large chunks (one pread per
// chunk, not per batch) and separates the three ways a walk can stop early: a torn batch (the file ends inside
// it), an invalid batch (bad length/magic/CRC: kCorruption naming the file and position), and an I/O error
// (returned as is: never a reason to truncate anything).
#include "engine/segment.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

namespace streamctl::engine {
namespace {

constexpr size_t kScanChunkBytes = size_t(1) << 20;
// Reads walk the headers between the index entry and the first wanted batch through a window this large.
constexpr size_t kLocateWindowBytes = 4096;
// The most one pread of a read puts into the caller's buffer (bounds overshoot when max_bytes is huge).
constexpr size_t kMaxReadChunkBytes = size_t(16) << 20;
// Appends start the writeback of what they wrote once this much accumulated (Segment::append).
constexpr uint64_t kWriteBehindBytes = uint64_t(8) << 20;
constexpr Offset kMaxOffset{std::numeric_limits<int64_t>::max()};

class SegmentScanner {
 public:
  SegmentScanner(File* file, const std::string& path, uint64_t begin, uint64_t end, size_t chunk_bytes)
      : file_(file), path_(path), begin_(begin), end_(end), chunk_(chunk_bytes) {}

  // Moves to the next batch and parses its header. False at the end, at a torn batch (torn()), on an invalid
  // header (status() kCorruption) or on an I/O error (status() with that error).
  bool next() {
    if (!status_.ok() || torn_) return false;
    pos_ = started_ ? pos_ + header_.size_bytes() : begin_;
    started_ = true;
    if (pos_ >= end_) return false;
    const uint64_t remaining = end_ - pos_;
    if (remaining < kBatchHeaderSize) {
      // Too short to be a batch. A non-empty length field that already says "bigger than what is left" is
      // torn; anything else this short is torn as well (a header cut mid-way).
      torn_ = true;
      torn_detail_ = std::to_string(remaining) + " bytes left, fewer than a batch header";
      return false;
    }
    if (!ensure(pos_, kBatchHeaderSize)) return false;
    const std::byte* p = buffered(pos_);
    const int32_t batch_length = int32_t(get_be32(p + kBatchLengthOffset));
    const int8_t magic = int8_t(p[kMagicOffset]);
    if (batch_length < kMinBatchLength || magic != kMagicV2) {
      status_ = Error::corruption(path_ + ": invalid batch header at position " + std::to_string(pos_) +
                                  ": batchLength " + std::to_string(batch_length) + ", magic " +
                                  std::to_string(magic));
      return false;
    }
    header_ = parse_batch_header(ByteSpan(p, kBatchHeaderSize));
    if (header_.size_bytes() > remaining) {
      torn_ = true;
      torn_detail_ = "batch needs " + std::to_string(header_.size_bytes()) + " bytes, " +
                     std::to_string(remaining) + " left";
      return false;
    }
    return true;
  }

  const RecordBatchHeader& header() const { return header_; }
  uint64_t position() const { return pos_; }
  uint64_t batch_end() const { return pos_ + header_.size_bytes(); }

  // The current batch's bytes, fully validated (validate_batch: length, magic, CRC, counts). On failure the
  // scanner stops (status()).
  Result<ByteSpan> verified_batch() {
    STREAMCTL_ASSIGN_OR_RETURN(ByteSpan bytes, raw_batch());
    auto v = validate_batch(bytes);
    if (!v.ok()) {
      status_ = Error{v.error().code == ErrorCode::kNotSupported ? ErrorCode::kCorruption : v.error().code,
                      path_ + ": batch at position " + std::to_string(pos_) + ": " + v.error().message};
      return status_.error();
    }
    return bytes;
  }
  // The current batch's bytes, unchecked beyond the header.
  Result<ByteSpan> raw_batch() {
    if (!ensure(pos_, header_.size_bytes())) return status_.error();
    return ByteSpan(buffered(pos_), header_.size_bytes());
  }

  bool torn() const { return torn_; }
  const std::string& torn_detail() const { return torn_detail_; }
  const Status& status() const { return status_; }
  // Whether the scan stopped because of an I/O error (as opposed to bad or torn data).
  bool io_error() const { return !status_.ok() && status_.error().code != ErrorCode::kCorruption; }

 private:
  const std::byte* buffered(uint64_t pos) const { return buf_.data() + (pos - buf_start_); }

  bool ensure(uint64_t pos, uint64_t n) {
    if (pos >= buf_start_ && pos + n <= buf_start_ + buf_.size()) return true;
    uint64_t want = std::max<uint64_t>(n, chunk_);
    want = std::min<uint64_t>(want, end_ - pos);
    if (want < n) want = n;
    buf_.resize(size_t(want));
    buf_start_ = pos;
    auto got = file_->read_at(pos, buf_);
    if (!got.ok()) {
      buf_.clear();
      status_ = std::move(got).error();
      return false;
    }
    buf_.resize(*got);
    if (*got < n) {
      // The file is shorter than it was (another process truncated it): treat as torn.
      torn_ = true;
      torn_detail_ = "file ends at " + std::to_string(pos + *got);
      return false;
    }
    return true;
  }

  File* file_;
  const std::string& path_;
  uint64_t begin_;
  uint64_t end_;
  size_t chunk_;
  Bytes buf_;
  uint64_t buf_start_ = 0;
  uint64_t pos_ = 0;
  bool started_ = false;
  RecordBatchHeader header_;
  Status status_;
  bool torn_ = false;
  std::string torn_detail_;
};

}  // namespace

Segment::Segment(FileSystem* fs, std::string dir, Offset base_offset, Options options, StagingSuffix staging)
    : fs_(fs),
      dir_(std::move(dir)),
      base_offset_(base_offset),
      options_(options),
      staging_(staging),
      log_path_(join_path(dir_, segment_file_name(base_offset, SegmentFileKind::kLog, staging))),
      next_offset_(base_offset),
      offset_of_max_timestamp_(base_offset),
      offset_index_(fs, join_path(dir_, segment_file_name(base_offset, SegmentFileKind::kOffsetIndex, staging)),
                    base_offset, size_t(std::max<int64_t>(options.segment_index_bytes, 8)) / OffsetIndex::kEntrySize),
      time_index_(fs, join_path(dir_, segment_file_name(base_offset, SegmentFileKind::kTimeIndex, staging)),
                  base_offset, size_t(std::max<int64_t>(options.segment_index_bytes, 12)) / TimeIndex::kEntrySize) {}

Segment::~Segment() = default;

std::string Segment::path(SegmentFileKind kind) const {
  return join_path(dir_, segment_file_name(base_offset_, kind, staging_));
}

void Segment::set_options(const Options& options) {
  options_ = options;
  offset_index_.set_max_entries(size_t(std::max<int64_t>(options.segment_index_bytes, 8)) / OffsetIndex::kEntrySize);
  time_index_.set_max_entries(size_t(std::max<int64_t>(options.segment_index_bytes, 12)) / TimeIndex::kEntrySize);
}

Status Segment::open_log(bool writable) {
  if (log_ && (writable_ || !writable)) return ok_status();
  STREAMCTL_ASSIGN_OR_RETURN(log_, fs_->open(log_path_, writable ? OpenMode::kReadWrite : OpenMode::kRead));
  writable_ = writable;
  return ok_status();
}

Status Segment::ensure_log_open() {
  if (log_) return ok_status();
  return open_log(writable_);
}

void Segment::reset_state() {
  size_ = 0;
  next_offset_ = base_offset_;
  max_timestamp_ = kNoTimestamp;
  offset_of_max_timestamp_ = base_offset_;
  first_batch_timestamp_ = kNoTimestamp;
  last_epoch_ = kNoLeaderEpoch;
  verified_size_ = 0;
  invalid_tail_.clear();
  offset_index_.clear();
  time_index_.clear();
}

Status Segment::create() {
  STREAMCTL_ASSIGN_OR_RETURN(log_, fs_->open(log_path_, OpenMode::kCreateTruncate));
  writable_ = true;
  reset_state();
  STREAMCTL_TRY(offset_index_.write());
  STREAMCTL_TRY(time_index_.write());
  loaded_ = true;
  return ok_status();
}

void Segment::release_files() {
  // Only our reference goes: slices of reads in flight may still hold the descriptor (it closes with the last).
  log_.reset();
  offset_index_.close();
  time_index_.close();
}

void Segment::unload() {
  release_files();
  reset_state();
  loaded_ = false;
  writable_ = false;
}

SegmentTail Segment::tail() const {
  SegmentTail t;
  t.size = size_;
  t.next_offset = next_offset_;
  t.max_timestamp = max_timestamp_;
  t.offset_of_max_timestamp = offset_of_max_timestamp_;
  t.first_batch_timestamp = first_batch_timestamp_;
  t.last_epoch = last_epoch_;
  t.offset_index_entries = uint32_t(offset_index_.entries());
  t.time_index_entries = uint32_t(time_index_.entries());
  return t;
}

void Segment::account_batch(uint64_t position, uint64_t size, Offset last_offset, Timestamp max_timestamp,
                            LeaderEpoch epoch) {
  // Kafka's LogSegment.append: the max timestamp first, then an index entry for this batch when more than
  // index.interval.bytes were appended since the last entry.
  if (max_timestamp > max_timestamp_) {
    max_timestamp_ = max_timestamp;
    offset_of_max_timestamp_ = last_offset;
  }
  auto last = offset_index_.last_entry();
  uint64_t since_last_entry = position - (last ? last->position : 0);
  if (position > 0 && since_last_entry > uint64_t(std::max<int64_t>(options_.index_interval_bytes, 0))) {
    if (offset_index_.append(last_offset, position)) {
      time_index_.maybe_append(max_timestamp_, offset_of_max_timestamp_);
    }
  }
  if (position == 0) first_batch_timestamp_ = max_timestamp;
  size_ = position + size;
  next_offset_ = last_offset + 1;
  last_epoch_ = epoch;
}

Result<Timestamp> Segment::read_first_batch_timestamp() {
  if (size_ < kBatchHeaderSize) return kNoTimestamp;
  STREAMCTL_TRY(ensure_log_open());
  std::byte header[kBatchHeaderSize];
  STREAMCTL_ASSIGN_OR_RETURN(size_t n, log_->read_at(0, header));
  if (n < kBatchHeaderSize) return kNoTimestamp;
  return parse_batch_header(ByteSpan(header, kBatchHeaderSize)).max_timestamp;
}

Result<ScanReport> Segment::scan_from(uint64_t from, uint64_t file_size, bool truncate_invalid_tail) {
  ScanReport report;
  SegmentScanner scanner(log_.get(), log_path_, from, file_size, kScanChunkBytes);
  std::string problem;
  std::optional<RecordBatchHeader> bad_header;  // the header of the batch that failed, when it parsed
  while (scanner.next()) {
    const RecordBatchHeader& h = scanner.header();
    bad_header = h;
    if (h.base_offset < next_offset_ || h.base_offset < base_offset_) {
      problem = log_path_ + ": batch at position " + std::to_string(scanner.position()) + " has base offset " +
                std::to_string(h.base_offset.value) + ", expected at least " +
                std::to_string(std::max(next_offset_, base_offset_).value);
      break;
    }
    if (h.last_offset() - base_offset_ > std::numeric_limits<int32_t>::max()) {
      problem = log_path_ + ": batch at position " + std::to_string(scanner.position()) + " has last offset " +
                std::to_string(h.last_offset().value) + ", too far from the segment base offset";
      break;
    }
    auto bytes = scanner.verified_batch();
    if (!bytes.ok()) break;
    bad_header.reset();
    account_batch(scanner.position(), h.size_bytes(), h.last_offset(), h.max_timestamp, h.leader_epoch);
    if (verified_size_ == scanner.position()) verified_size_ = scanner.batch_end();
    report.scanned_bytes += h.size_bytes();
  }
  if (scanner.io_error()) return scanner.status().error();
  if (problem.empty()) {
    if (!scanner.status().ok()) {
      problem = scanner.status().error().message;
    } else if (scanner.torn()) {
      problem = log_path_ + ": torn batch at position " + std::to_string(size_) + " (" + scanner.torn_detail() + ")";
    }
  }
  // A bad batch followed by a valid one is not a torn tail either, wherever the checkpoint is: a crash tears
  // the end of what was written, and the batch after it was written (and, if acknowledged, fsynced) later.
  // This is what keeps a batch fsynced after the last durable checkpoint (the checkpoint may lag on disk:
  // Log::Impl::advance_checkpoint) from being cut with the tail behind it.
  bool followed_by_valid = false;
  if (!problem.empty() && file_size > size_ && truncate_invalid_tail && size_ >= durable_position_ && bad_header &&
      size_ + bad_header->size_bytes() < file_size) {
    SegmentScanner after(log_.get(), log_path_, size_ + bad_header->size_bytes(), file_size, kBatchHeaderSize);
    if (after.next() && after.header().base_offset >= std::max(next_offset_, base_offset_) &&
        after.verified_batch().ok()) {
      followed_by_valid = true;
      problem += "; the batch after it (position " + std::to_string(after.position()) + ", offsets " +
                 std::to_string(after.header().base_offset.value) + ".." +
                 std::to_string(after.header().last_offset().value) + ") is valid, so this is not a torn tail";
    } else if (after.io_error()) {
      return after.status().error();
    }
  }
  if (!problem.empty() && file_size > size_ && truncate_invalid_tail &&
      (size_ < durable_position_ || followed_by_valid)) {
    // fsynced bytes went bad: not a torn tail. Cutting would lose acknowledged records and hand their offsets
    // out again, so nothing is changed and the caller gets the whole story.
    DurableCorruption c;
    c.file = log_path_;
    c.position = size_;
    c.durable_position = durable_position_;
    c.expected_offset = std::max(next_offset_, base_offset_);
    if (bad_header) {
      c.base_offset = bad_header->base_offset;
      c.last_offset = bad_header->last_offset();
    }
    c.reason = problem;
    last_corruption_ = c;
    return durable_corruption_error(c);
  }
  if (!problem.empty() && file_size > size_) {
    report.detail = problem;
    if (!truncate_invalid_tail) invalid_tail_ = problem;
    if (truncate_invalid_tail) {
      STREAMCTL_TRY(log_->truncate(size_));
      report.dropped_bytes = file_size - size_;
      report.scanned_bytes += report.dropped_bytes;
      report.detail += "; truncated " + std::to_string(report.dropped_bytes) + " bytes at position " +
                       std::to_string(size_);
    }
    offset_index_.truncate_to_position(size_);
    time_index_.truncate_to_offset(next_offset_);
  }
  return report;
}

Error durable_corruption_error(const DurableCorruption& c) {
  std::string offsets = c.base_offset && c.last_offset
                            ? "offsets " + std::to_string(c.base_offset->value) + ".." +
                                  std::to_string(c.last_offset->value) + ", expected to start at "
                            : "header unreadable, expected to start at offset ";
  std::string durable = c.durable_position == std::numeric_limits<uint64_t>::max()
                            ? "the whole segment is fsynced"
                            : "recovery checkpoint at position " + std::to_string(c.durable_position);
  std::string where = c.position < c.durable_position ? ") within the fsynced bytes (" + durable + ")"
                                                      : ") followed by valid batches (" + durable + ")";
  return Error::corruption(c.file + ": corrupt batch at position " + std::to_string(c.position) + " (" + offsets +
                           std::to_string(c.expected_offset.value) + where + ": " + c.reason + "; nothing was truncated (these records were acknowledged as durable)");
}

Result<ScanReport> Segment::load(bool writable, bool truncate_invalid_tail) {
  return load_impl(writable, truncate_invalid_tail, std::nullopt, 0, 0);
}

Result<ScanReport> Segment::recover(uint64_t position, size_t durable_offset_index_entries,
                                    size_t durable_time_index_entries) {
  return load_impl(true, true, position, durable_offset_index_entries, durable_time_index_entries);
}

Result<ScanReport> Segment::load_impl(bool writable, bool truncate_invalid_tail,
                                      std::optional<uint64_t> trusted_position, size_t durable_oi,
                                      size_t durable_ti) {
  last_corruption_.reset();
  if (trusted_position) durable_position_ = *trusted_position;
  STREAMCTL_TRY(open_log(writable));
  STREAMCTL_ASSIGN_OR_RETURN(uint64_t file_size, log_->size());
  reset_state();
  ScanReport report;
  STREAMCTL_ASSIGN_OR_RETURN(bool oi_existed, offset_index_.load());
  STREAMCTL_ASSIGN_OR_RETURN(bool ti_existed, time_index_.load());
  uint64_t trusted = file_size;
  if (trusted_position) {
    trusted = std::min(*trusted_position, file_size);
    offset_index_.truncate_entries(std::min(durable_oi, offset_index_.entries()));
    offset_index_.truncate_to_position(trusted);
    time_index_.truncate_entries(std::min(durable_ti, time_index_.entries()));
  }
  std::string index_problem;
  if ((!oi_existed || !ti_existed) && file_size > 0) {
    index_problem = (!oi_existed ? offset_index_.path() : time_index_.path()) + " is missing";
  } else if (Status s = offset_index_.sanity_check(std::max<uint64_t>(trusted, 1), kMaxOffset); !s.ok()) {
    index_problem = s.error().message;
  } else if (Status t = time_index_.sanity_check(kMaxOffset); !t.ok()) {
    index_problem = t.error().message;
  }

  uint64_t start = 0;
  if (index_problem.empty()) {
    if (auto last = offset_index_.last_entry()) {
      // The last entry must point at a batch whose last offset is the entry's offset: a cheap check that
      // the index belongs to this log (a stale index from an older file fails it).
      SegmentScanner peek(log_.get(), log_path_, last->position, file_size, kBatchHeaderSize);
      if (peek.next() && peek.header().last_offset() == last->offset && peek.header().base_offset >= base_offset_) {
        start = last->position;
        next_offset_ = peek.header().base_offset;
        size_ = start;
      } else if (peek.io_error()) {
        return peek.status().error();
      } else {
        index_problem = offset_index_.path() + ": last entry (offset " + std::to_string(last->offset.value) +
                        ", position " + std::to_string(last->position) + ") does not point at that batch";
      }
    }
  }
  if (!index_problem.empty()) {
    offset_index_.clear();
    time_index_.clear();
    start = 0;
    report.rebuilt_index = true;
    report.detail = index_problem + "; rebuilt the indexes from the log";
  }
  if (auto last_time = time_index_.last_entry()) {
    max_timestamp_ = last_time->timestamp;
    offset_of_max_timestamp_ = last_time->offset;
  }
  if (start > 0) {
    size_ = start;
    STREAMCTL_ASSIGN_OR_RETURN(first_batch_timestamp_, read_first_batch_timestamp());
  }
  STREAMCTL_ASSIGN_OR_RETURN(ScanReport scan, scan_from(start, file_size, truncate_invalid_tail));
  // The time index may still hold entries past the valid data (it is checked against offsets only now).
  if (Status t = time_index_.sanity_check(next_offset_); !t.ok() ||
      (max_timestamp_ > kNoTimestamp && offset_of_max_timestamp_ >= next_offset_)) {
    std::string why = t.ok() ? time_index_.path() + ": largest timestamp points past the log" : t.error().message;
    reset_state();
    STREAMCTL_ASSIGN_OR_RETURN(uint64_t now_size, log_->size());
    STREAMCTL_ASSIGN_OR_RETURN(ScanReport again, scan_from(0, now_size, truncate_invalid_tail));
    scan.dropped_bytes += again.dropped_bytes;
    if (!again.detail.empty()) scan.detail = again.detail;
    report.rebuilt_index = true;
    report.detail = why + "; rebuilt the indexes from the log";
  }
  report.dropped_bytes = scan.dropped_bytes;
  // Bytes validated beyond the trusted prefix (the re-checked bytes before it are not "scanned").
  uint64_t checked_from = std::max(start, trusted_position ? trusted : file_size);
  uint64_t checked_to = size_ + scan.dropped_bytes;
  report.scanned_bytes = checked_to > checked_from ? checked_to - checked_from : 0;
  if (!scan.detail.empty()) report.detail = report.detail.empty() ? scan.detail : report.detail + "; " + scan.detail;
  if (writable) STREAMCTL_TRY(write_indexes());
  loaded_ = true;
  return report;
}

Result<ScanReport> Segment::catch_up(const SegmentTail& stamp, bool truncate_invalid_tail) {
  STREAMCTL_CHECK(loaded_, "catch_up on unloaded segment %s", log_path_.c_str());
  if (stamp.size < size_ || stamp.next_offset < next_offset_) {
    return Error::corruption(log_path_ + ": the partition stamp (" + std::to_string(stamp.size) + " bytes, next offset " +
                             std::to_string(stamp.next_offset.value) + ") is behind this process (" +
                             std::to_string(size_) + " bytes, next offset " + std::to_string(next_offset_.value) + ")");
  }
  if (stamp.size > size_ && !offset_index_.has_unwritten() && !time_index_.has_unwritten()) {
    const size_t oi_before = offset_index_.entries();
    const size_t ti_before = time_index_.entries();
    Status a = offset_index_.load_more(stamp.offset_index_entries, stamp.size);
    Status b = a.ok() ? time_index_.load_more(stamp.time_index_entries, stamp.next_offset) : ok_status();
    if (a.ok() && b.ok()) {
      const bool was_empty = size_ == 0;
      size_ = stamp.size;
      next_offset_ = stamp.next_offset;
      max_timestamp_ = stamp.max_timestamp;
      offset_of_max_timestamp_ = stamp.offset_of_max_timestamp;
      last_epoch_ = stamp.last_epoch;
      if (was_empty) first_batch_timestamp_ = stamp.first_batch_timestamp;
    } else {
      // Keep what we had and validate the new bytes ourselves instead.
      offset_index_.truncate_entries(oi_before);
      time_index_.truncate_entries(ti_before);
    }
  }
  return scan_to_end(truncate_invalid_tail);
}

Result<ScanReport> Segment::scan_to_end(bool truncate_invalid_tail) {
  STREAMCTL_CHECK(loaded_, "scan_to_end on unloaded segment %s", log_path_.c_str());
  STREAMCTL_TRY(ensure_log_open());
  STREAMCTL_ASSIGN_OR_RETURN(uint64_t file_size, log_->size());
  ScanReport report;
  invalid_tail_.clear();
  if (file_size < size_) {
    return Error::corruption(log_path_ + " is " + std::to_string(file_size) + " bytes, shorter than the " +
                             std::to_string(size_) + " bytes of valid batches known");
  }
  if (file_size > size_) {
    STREAMCTL_ASSIGN_OR_RETURN(report, scan_from(size_, file_size, truncate_invalid_tail));
  }
  if (writable_ && (offset_index_.needs_write() || time_index_.needs_write())) STREAMCTL_TRY(write_indexes());
  return report;
}

Status Segment::write_indexes() {
  if (offset_index_.needs_write()) STREAMCTL_TRY(offset_index_.write());
  if (time_index_.needs_write()) STREAMCTL_TRY(time_index_.write());
  return ok_status();
}

Status Segment::append(ByteSpan bytes, std::span<const BatchInfo> batches) {
  STREAMCTL_CHECK(loaded_ && writable_, "append to %s, which is not loaded for writing", log_path_.c_str());
  STREAMCTL_TRY(ensure_log_open());
  const uint64_t position = size_;
  if (Status w = log_->write_at(position, bytes); !w.ok()) {
    if (Status t = log_->truncate(position); !t.ok()) {
      return Error{w.error().code, w.error().message + " (and cutting the partial write off failed: " +
                                       t.error().message + ")"};
    }
    return w;
  }
  // Write-behind: every kWriteBehindBytes appended, start their writeback at once, so a producer's final
  // fsync waits for the last few MiB instead of everything since the previous fsync.
  if (writeback_from_ > position) writeback_from_ = position;  // truncated since
  if (position + bytes.size() - writeback_from_ >= kWriteBehindBytes) {
    log_->start_writeback(writeback_from_, position + bytes.size() - writeback_from_);
    writeback_from_ = position + bytes.size();
  }
  const SegmentTail before = tail();
  uint64_t p = position;
  for (const BatchInfo& b : batches) {
    account_batch(p, b.size, b.last_offset, b.max_timestamp, b.leader_epoch);
    p += b.size;
  }
  STREAMCTL_CHECK(p == position + bytes.size(), "batch sizes (%llu) do not add up to the %zu bytes appended",
                  static_cast<unsigned long long>(p - position), bytes.size());
  if (Status s = write_indexes(); !s.ok()) {
    // All or nothing: take the batches back out.
    size_ = before.size;
    next_offset_ = before.next_offset;
    max_timestamp_ = before.max_timestamp;
    offset_of_max_timestamp_ = before.offset_of_max_timestamp;
    first_batch_timestamp_ = before.first_batch_timestamp;
    last_epoch_ = before.last_epoch;
    offset_index_.truncate_entries(before.offset_index_entries);
    time_index_.truncate_entries(before.time_index_entries);
    if (Status t = log_->truncate(position); !t.ok()) {
      return Error{s.error().code, s.error().message + " (and cutting the appended batches off failed: " +
                                       t.error().message + ")"};
    }
    return s;
  }
  // The Log built these batches or validated them (CRC included) before handing them over.
  if (verified_size_ == position) verified_size_ = size_;
  return ok_status();
}

Status Segment::persist_indexes() {
  if (offset_index_.needs_write()) STREAMCTL_TRY(offset_index_.rewrite());
  if (time_index_.needs_write()) STREAMCTL_TRY(time_index_.rewrite());
  return ok_status();
}

Status Segment::close_for_roll() {
  if (max_timestamp_ > kNoTimestamp) time_index_.maybe_append(max_timestamp_, offset_of_max_timestamp_);
  return write_indexes();
}

Status Segment::sync() {
  if (!loaded_ && !log_) {
    // Rolled by another process and never loaded here: fsync the files as they are.
    STREAMCTL_ASSIGN_OR_RETURN(auto file, fs_->open(log_path_, OpenMode::kRead));
    STREAMCTL_TRY(file->sync());
  } else {
    STREAMCTL_TRY(ensure_log_open());
    STREAMCTL_TRY(log_->sync());
    if (writable_) STREAMCTL_TRY(write_indexes());
  }
  STREAMCTL_TRY(offset_index_.sync());
  return time_index_.sync();
}

Status Segment::sync_log() {
  if (!loaded_ && !log_) return sync();  // not ours to index: fsync the files as they are
  STREAMCTL_TRY(ensure_log_open());
  STREAMCTL_TRY(log_->sync());
  if (writable_) STREAMCTL_TRY(write_indexes());
  return ok_status();
}

Result<uint64_t> Segment::boundary_position(Offset offset) {
  if (offset >= next_offset_) return size_;
  if (offset <= base_offset_) return uint64_t{0};
  STREAMCTL_TRY(ensure_log_open());
  OffsetPosition from = offset_index_.lookup(offset - 1);
  SegmentScanner scanner(log_.get(), log_path_, from.position, size_, kScanChunkBytes);
  while (scanner.next()) {
    const RecordBatchHeader& h = scanner.header();
    if (h.base_offset >= offset) return scanner.position();
    if (h.last_offset() >= offset) {
      return Error::invalid_argument("cannot truncate " + log_path_ + " to offset " + std::to_string(offset.value) +
                                     ": it is inside the batch of offsets " + std::to_string(h.base_offset.value) +
                                     ".." + std::to_string(h.last_offset().value) + " at position " +
                                     std::to_string(scanner.position()) + " (truncate to a batch boundary)");
    }
  }
  if (!scanner.status().ok()) return scanner.status().error();
  return size_;
}

Status Segment::truncate_to(Offset offset) {
  STREAMCTL_CHECK(loaded_ && writable_, "truncate %s, which is not loaded for writing", log_path_.c_str());
  if (offset >= next_offset_) return ok_status();
  STREAMCTL_TRY(ensure_log_open());
  STREAMCTL_ASSIGN_OR_RETURN(uint64_t position, boundary_position(offset));
  STREAMCTL_TRY(log_->truncate(position));
  verified_size_ = std::min(verified_size_, position);
  offset_index_.truncate_to_position(position);
  time_index_.truncate_to_offset(offset);
  // Re-derive the tail state from the last index entry that is left.
  const Timestamp first = position > 0 ? first_batch_timestamp_ : kNoTimestamp;
  auto last = offset_index_.last_entry();
  uint64_t start = last ? last->position : 0;
  size_ = start;
  next_offset_ = base_offset_;
  last_epoch_ = kNoLeaderEpoch;
  max_timestamp_ = kNoTimestamp;
  offset_of_max_timestamp_ = base_offset_;
  if (auto t = time_index_.last_entry()) {
    max_timestamp_ = t->timestamp;
    offset_of_max_timestamp_ = t->offset;
  }
  SegmentScanner scanner(log_.get(), log_path_, start, position, kScanChunkBytes);
  while (scanner.next()) {
    const RecordBatchHeader& h = scanner.header();
    if (h.max_timestamp > max_timestamp_) {
      max_timestamp_ = h.max_timestamp;
      offset_of_max_timestamp_ = h.last_offset();
    }
    next_offset_ = h.next_offset();
    last_epoch_ = h.leader_epoch;
  }
  if (!scanner.status().ok()) return scanner.status().error();
  size_ = position;
  first_batch_timestamp_ = first;
  return write_indexes();
}

Result<bool> Segment::read(Offset from, size_t max_bytes, Offset max_offset, bool min_one_batch, Bytes* out,
                           Offset* next) {
  ScratchBytes buf(out->begin(), out->end());
  size_t used = buf.size();
  Result<bool> r = read_into(from, max_bytes, max_offset, min_one_batch, /*crc_skipped=*/nullptr, &buf, &used, next);
  out->assign(buf.begin(), buf.begin() + ptrdiff_t(used));
  return r;
}

uint64_t Segment::read_bound(Offset max_offset) const {
  if (max_offset >= next_offset_) return size_;
  // Index entries hold the last offset of the batch at their position, so the first entry whose offset is
  // >= max_offset starts a batch that is excluded, and so is everything after it.
  const OffsetPosition at_or_below = offset_index_.lookup(max_offset);  // position 0: no such entry
  if (at_or_below.position > 0 && at_or_below.offset >= max_offset) return std::min(at_or_below.position, size_);
  auto above = offset_index_.first_at_or_after(at_or_below.position + 1);
  return above ? std::min(above->position, size_) : size_;
}

Result<RecordBatchHeader> Segment::checked_header(const std::byte* p, uint64_t position, Offset expected) const {
  const int32_t batch_length = int32_t(get_be32(p + kBatchLengthOffset));
  const int8_t magic = int8_t(p[kMagicOffset]);
  if (batch_length < kMinBatchLength || magic != kMagicV2) {
    return Error::corruption(log_path_ + ": invalid batch header at position " + std::to_string(position) +
                             ": batchLength " + std::to_string(batch_length) + ", magic " + std::to_string(magic));
  }
  RecordBatchHeader h = parse_batch_header(ByteSpan(p, kBatchHeaderSize));
  if (h.size_bytes() > size_ - position) {
    return Error::corruption(log_path_ + ": batch at position " + std::to_string(position) + " is incomplete (batch needs " +
                             std::to_string(h.size_bytes()) + " bytes, " + std::to_string(size_ - position) + " left)");
  }
  STREAMCTL_TRY(check_offsets(h, position, expected));
  return h;
}

Result<bool> Segment::find_batch(Offset from, uint64_t* pos, RecordBatchHeader* h, Offset* expected) {
  auto incomplete = [&](uint64_t position, const std::string& why) {
    return Error::corruption(log_path_ + ": batch at position " + std::to_string(position) + " is incomplete (" +
                             why + ")");
  };
  *pos = offset_index_.lookup(from).position;
  std::array<std::byte, kLocateWindowBytes> window;
  uint64_t window_pos = 0;
  size_t window_len = 0;
  for (;;) {
    if (*pos >= size_) return false;
    if (size_ - *pos < kBatchHeaderSize) {
      return incomplete(*pos, std::to_string(size_ - *pos) + " bytes left, fewer than a batch header");
    }
    if (*pos < window_pos || *pos + kBatchHeaderSize > window_pos + window_len) {
      const size_t want = size_t(std::min<uint64_t>(window.size(), size_ - *pos));
      STREAMCTL_ASSIGN_OR_RETURN(size_t got, log_->read_at(*pos, std::span<std::byte>(window.data(), want)));
      window_pos = *pos;
      window_len = got;
      // size_ covers only complete batches, so a short read means the file shrank under us.
      if (got < kBatchHeaderSize) return incomplete(*pos, "file ends at " + std::to_string(*pos + got));
    }
    STREAMCTL_ASSIGN_OR_RETURN(*h, checked_header(window.data() + (*pos - window_pos), *pos, *expected));
    if (h->last_offset() >= from) return true;
    *expected = h->next_offset();
    *pos += h->size_bytes();
  }
}

Result<bool> Segment::read_into(Offset from, size_t max_bytes, Offset max_offset, bool min_one_batch,
                                bool* crc_skipped, ScratchBytes* buf, size_t* used, Offset* next) {
  STREAMCTL_TRY(ensure_log_open());
  // A bad batch: an error when it would be the first one returned, otherwise the read stops short of it (the
  // next read, starting there, reports it). I/O errors are returned as they are, never turned into "stop".
  auto stop_at = [&](Error e) -> Result<bool> {
    if (*used == 0) return e;
    return true;
  };
  auto incomplete = [&](uint64_t position, const std::string& why) {
    return Error::corruption(log_path_ + ": batch at position " + std::to_string(position) + " is incomplete (" +
                             why + ")");
  };
  // baseOffset is not covered by the CRC: every batch's offsets are checked against its predecessor's.
  Offset expected = base_offset_;

  // Phase 1: find the first batch whose last offset is >= from.
  uint64_t pos = 0;
  RecordBatchHeader h;
  {
    auto found = find_batch(from, &pos, &h, &expected);
    if (!found.ok()) {
      if (found.error().code == ErrorCode::kCorruption) return stop_at(std::move(found).error());
      return std::move(found).error();
    }
    if (!*found) return false;
  }
  if (h.last_offset() >= max_offset) return true;

  // Phase 2: pread from `pos` straight into the caller's buffer after the bytes already returned, then
  // validate the batches in place and keep the longest run that passes and fits the limits. One pread
  // covers the whole budget (up to kMaxReadChunkBytes); a later chunk starts at the first batch not kept.
  const uint64_t end = std::max(read_bound(max_offset), pos);
  bool have_header = true;  // h describes the batch at pos (its header was checked)
  for (;;) {
    if (pos >= size_) return false;
    if (pos >= end) return true;
    const size_t room = max_bytes > *used ? max_bytes - *used : 0;
    const uint64_t need = have_header ? h.size_bytes() : kBatchHeaderSize;
    const bool may_exceed = *used == 0 && min_one_batch;  // the first batch is returned whole regardless
    if (need > room && !may_exceed) return true;
    if (size_ - pos < need) {
      return stop_at(incomplete(pos, std::to_string(size_ - pos) + " bytes left, fewer than a batch header"));
    }
    uint64_t want = std::min<uint64_t>(std::max<uint64_t>(std::min<uint64_t>(end - pos, room), need), size_ - pos);
    if (want > kMaxReadChunkBytes) want = std::max<uint64_t>(kMaxReadChunkBytes, need);
    const size_t chunk_start = *used;
    // Grows only the first time a buffer is this large (std::vector zero-fills new bytes; reused buffers
    // already have them).
    if (buf->size() < chunk_start + want) buf->resize(chunk_start + size_t(want));
    STREAMCTL_ASSIGN_OR_RETURN(
        size_t got, log_->read_at(pos, std::span<std::byte>(buf->data() + chunk_start, size_t(want))));
    const uint64_t chunk_pos = pos;
    size_t o = 0;
    have_header = false;
    while (got - o >= kBatchHeaderSize) {
      const std::byte* p = buf->data() + chunk_start + o;
      auto header = checked_header(p, pos, expected);
      if (!header.ok()) return stop_at(std::move(header).error());
      h = *header;
      have_header = true;
      if (h.last_offset() < from) {
        // Phase 1 saw a batch reaching `from` here: the file changed under us.
        return stop_at(Error::corruption(log_path_ + ": batch at position " + std::to_string(pos) + " has offsets " +
                                         std::to_string(h.base_offset.value) + ".." +
                                         std::to_string(h.last_offset().value) + ", below offset " +
                                         std::to_string(from.value) + " (the file changed while being read)"));
      }
      if (h.last_offset() >= max_offset) return true;
      const size_t size = h.size_bytes();
      if (*used + size > max_bytes && !(*used == 0 && min_one_batch)) return true;
      if (size > got - o) break;  // continues in the next chunk
      // Below verified_size_ the CRC was checked by this process already (or the batch was built here): only
      // the structure is re-checked, when the caller allows it (see crc_skipped in segment.h).
      const bool skip_crc = crc_skipped != nullptr && pos + size <= verified_size_;
      auto v = skip_crc ? check_batch_structure(ByteSpan(p, size)) : validate_batch(ByteSpan(p, size));
      if (!v.ok()) {
        const ErrorCode code = v.error().code == ErrorCode::kNotSupported ? ErrorCode::kCorruption : v.error().code;
        return stop_at(Error{code, log_path_ + ": batch at position " + std::to_string(pos) + ": " + v.error().message});
      }
      if (skip_crc) {
        *crc_skipped = true;
      } else if (verified_size_ == pos) {
        verified_size_ = pos + size;
      }
      expected = h.next_offset();
      *next = h.next_offset();
      *used += size;
      o += size;
      pos += size;
      have_header = false;
      if (pos >= size_) return false;
    }
    if (got < want) return stop_at(incomplete(pos, "file ends at " + std::to_string(chunk_pos + got)));
  }
}

Result<Segment::SliceOutcome> Segment::slice(Offset from, size_t max_bytes, Offset max_offset, bool min_one_batch,
                                             size_t* used, Offset* next, std::vector<FileSlice>* slices) {
  STREAMCTL_TRY(ensure_log_open());
  if (log_->native_handle() < 0) return SliceOutcome::kNeedsCopy;
  uint64_t pos = 0;
  RecordBatchHeader h;
  Offset expected = base_offset_;
  {
    auto found = find_batch(from, &pos, &h, &expected);
    if (!found.ok()) {
      if (found.error().code == ErrorCode::kCorruption) return SliceOutcome::kNeedsCopy;
      return std::move(found).error();
    }
    if (!*found) return SliceOutcome::kEndOfSegment;
  }
  const uint64_t start = pos;
  const uint64_t room = max_bytes > *used ? max_bytes - *used : 0;
  const bool take_first = *used == 0 && min_one_batch;  // the first batch goes whole regardless of room
  const uint64_t fits_end = start + std::min<uint64_t>(room, size_ - start);  // batches ending here fit
  Offset taken_next = *next;
  bool skipped = false;  // the index skipped batches since the last header taken (taken_next is behind)
  SliceOutcome outcome = SliceOutcome::kEndOfSegment;
  std::array<std::byte, kLocateWindowBytes> window;
  uint64_t window_pos = 0;
  size_t window_len = 0;
  bool have_header = true;  // h describes the batch at pos
  while (pos < size_) {
    if (!have_header) {
      // Every batch before an indexed position that is within the budget and the checked bytes fits, and
      // (when that entry's last offset is below max_offset) is below max_offset: skip to it.
      auto e = offset_index_.last_at_or_before(std::min(fits_end, verified_size_));
      if (e && e->position > pos && e->offset < max_offset) {
        pos = e->position;
        skipped = true;
      }
      if (pos < window_pos || pos + kBatchHeaderSize > window_pos + window_len) {
        const size_t want = size_t(std::min<uint64_t>(window.size(), size_ - pos));
        STREAMCTL_ASSIGN_OR_RETURN(size_t got, log_->read_at(pos, std::span<std::byte>(window.data(), want)));
        window_pos = pos;
        window_len = got;
        if (got < kBatchHeaderSize) return SliceOutcome::kNeedsCopy;
      }
      auto header = checked_header(window.data() + (pos - window_pos), pos, skipped ? base_offset_ : expected);
      if (!header.ok()) return SliceOutcome::kNeedsCopy;
      h = *header;
    }
    have_header = false;
    const uint64_t batch_end = pos + h.size_bytes();
    if (h.last_offset() >= max_offset || (batch_end > fits_end && !(pos == start && take_first))) {
      if (skipped) taken_next = h.base_offset;
      outcome = SliceOutcome::kStopped;
      break;
    }
    if (batch_end > verified_size_) return SliceOutcome::kNeedsCopy;
    expected = taken_next = h.next_offset();
    skipped = false;
    pos = batch_end;
  }
  if (pos > start) {
    slices->push_back(FileSlice{log_, start, pos - start});
    *used += size_t(pos - start);
    *next = taken_next;
  }
  return outcome;
}

Status Segment::check_offsets(const RecordBatchHeader& h, uint64_t position, Offset expected) const {
  if (h.base_offset >= expected && h.base_offset >= base_offset_ && h.last_offset() < next_offset_) {
    return ok_status();
  }
  return Error::corruption(log_path_ + ": batch at position " + std::to_string(position) + " has offsets " +
                           std::to_string(h.base_offset.value) + ".." + std::to_string(h.last_offset().value) +
                           ", outside the expected range [" + std::to_string(std::max(expected, base_offset_).value) +
                           ", " + std::to_string(next_offset_.value) + ")");
}

Status Segment::for_each_batch(uint64_t from_position,
                               const std::function<Result<bool>(const RecordBatchHeader&, uint64_t, ByteSpan)>& fn,
                               size_t read_chunk) {
  STREAMCTL_TRY(ensure_log_open());
  SegmentScanner scanner(log_.get(), log_path_, from_position, size_, read_chunk > 0 ? read_chunk : kScanChunkBytes);
  Offset expected = base_offset_;
  while (scanner.next()) {
    STREAMCTL_TRY(check_offsets(scanner.header(), scanner.position(), expected));
    expected = scanner.header().next_offset();
    STREAMCTL_ASSIGN_OR_RETURN(ByteSpan bytes, scanner.verified_batch());
    STREAMCTL_ASSIGN_OR_RETURN(bool more, fn(scanner.header(), scanner.position(), bytes));
    if (!more) return ok_status();
  }
  if (!scanner.status().ok()) return scanner.status().error();
  if (scanner.torn()) {
    return Error::corruption(log_path_ + ": batch at position " + std::to_string(scanner.position()) +
                             " is incomplete (" + scanner.torn_detail() + ")");
  }
  return ok_status();
}

uint64_t Segment::position_for_timestamp(Timestamp ts, Offset* start_offset) const {
  Offset start = time_index_.lookup(ts);
  *start_offset = start;
  return offset_index_.lookup(start).position;
}

Status Segment::rename_files(StagingSuffix to) {
  for (SegmentFileKind kind : {SegmentFileKind::kOffsetIndex, SegmentFileKind::kTimeIndex, SegmentFileKind::kLog}) {
    std::string from = join_path(dir_, segment_file_name(base_offset_, kind, staging_));
    std::string dest = join_path(dir_, segment_file_name(base_offset_, kind, to));
    Status s = fs_->rename(from, dest);
    if (!s.ok()) {
      if (s.error().code == ErrorCode::kNotFound && kind != SegmentFileKind::kLog) continue;
      return s;
    }
  }
  staging_ = to;
  log_path_ = path(SegmentFileKind::kLog);
  offset_index_.set_path(path(SegmentFileKind::kOffsetIndex));
  time_index_.set_path(path(SegmentFileKind::kTimeIndex));
  return ok_status();
}

}  // namespace streamctl::engine
