// Log maintenance: truncation (replication), delete-records, retention and compaction. Each runs under the
// partition lock after catching up with other processes, changes whole files in a crash-safe order, and bumps
// the generation in the lock-file stamp so that other processes reload.
#include <algorithm>
#include <limits>
#include <unordered_map>

#include "engine/file_names.h"
#include "engine/log.h"
#include "engine/log_impl.h"

namespace streamctl::engine {
namespace {

// Header fields rewritten when a compacted batch keeps some of its records (record_batch.h byte table).
constexpr size_t kMaxTimestampOffset = 35;
constexpr size_t kRecordCountOffset = 57;

Error closed_error(const std::string& dir) { return Error{ErrorCode::kUnavailable, "log " + dir + " is closed"}; }

// A batch holding only the kept records of an uncompressed batch. The records are copied byte for byte: their
// offset and timestamp deltas stay relative to the unchanged baseOffset and baseTimestamp, so offsets and
// timestamps are preserved (as Kafka's cleaner does, lastOffsetDelta is kept too).
Result<Bytes> filter_uncompressed(const RecordBatchHeader& h, ByteSpan batch, const std::vector<Record>& records,
                                  const std::vector<bool>& keep) {
  ByteReader in(batch.subspan(kBatchHeaderSize));
  Bytes out(batch.begin(), batch.begin() + kBatchHeaderSize);
  int32_t kept = 0;
  Timestamp max_ts = kNoTimestamp;
  for (size_t i = 0; i < records.size(); ++i) {
    size_t start = in.position();
    int32_t length = in.varint();
    if (!in.ok() || length < 0) break;
    in.skip(size_t(length));
    if (!in.ok()) break;
    if (keep[i]) {
      ByteSpan raw = batch.subspan(kBatchHeaderSize + start, in.position() - start);
      out.insert(out.end(), raw.begin(), raw.end());
      ++kept;
      max_ts = std::max(max_ts, records[i].timestamp);
    }
  }
  if (!in.ok()) {
    return Error::corruption("record batch at base offset " + std::to_string(h.base_offset.value) +
                             ": malformed record framing while compacting");
  }
  put_be32(out.data() + kBatchLengthOffset, uint32_t(out.size() - kLogOverhead));
  put_be32(out.data() + kRecordCountOffset, uint32_t(kept));
  if (h.timestamp_type() == TimestampType::kCreateTime) {
    put_be64(out.data() + kMaxTimestampOffset, uint64_t(max_ts.value));
  }
  put_be32(out.data() + kCrcOffset, compute_batch_crc(out));
  return out;
}

// The kept records of a compressed batch, re-encoded as one batch per run of consecutive offsets (build_batch
// assigns dense offset deltas), with the original codec, timestamps, producer fields and leader epoch.
Result<std::vector<Bytes>> rebuild_compressed(const RecordBatchHeader& h, const std::vector<Record>& records,
                                              const std::vector<bool>& keep) {
  std::vector<Bytes> out;
  BatchBuildOptions options;
  options.compression = h.compression();
  options.timestamp_type = h.timestamp_type();
  options.producer_id = h.producer_id;
  options.producer_epoch = h.producer_epoch;
  options.leader_epoch = h.leader_epoch;
  size_t i = 0;
  while (i < records.size()) {
    if (!keep[i]) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < records.size() && keep[j] && records[j].offset == records[j - 1].offset + 1) ++j;
    options.base_sequence = h.base_sequence >= 0 ? int32_t(h.base_sequence + (records[i].offset - h.base_offset)) : -1;
    std::span<const Record> run(records.data() + i, j - i);
    STREAMCTL_ASSIGN_OR_RETURN(Bytes batch, build_batch(run, records[i].offset, options));
    out.push_back(std::move(batch));
    i = j;
  }
  return out;
}

}  // namespace

Status Log::Impl::truncate_to_locked(Offset offset) {
  if (offset >= log_end_offset()) return ok_status();
  if (offset.value < segments.begin()->first) {
    // Nothing stays: Kafka's truncateFullyAndStartAt. The new empty segment comes first, then the old ones go
    // last first, so a crash at any point leaves a readable log.
    auto seg = new_segment(offset);
    STREAMCTL_TRY(seg->create());
    segments[offset.value] = std::move(seg);
    STREAMCTL_TRY(fs->sync_dir(dir));
    while (segments.rbegin()->first > offset.value) STREAMCTL_TRY(delete_segment_locked(segments.rbegin()->first));
    log_start = offset;
    STREAMCTL_TRY(write_log_start_offset());
  } else {
    auto it = std::prev(segments.upper_bound(offset.value));
    Segment* seg = it->second.get();
    if (!seg->loaded() || !seg->writable()) {
      STREAMCTL_ASSIGN_OR_RETURN(ScanReport r, seg->load(/*writable=*/true, /*truncate_invalid_tail=*/false));
      (void)r;
    }
    // Checks the batch boundary before anything is removed.
    if (auto boundary = seg->boundary_position(offset); !boundary.ok()) return std::move(boundary).error();
    while (segments.rbegin()->first > it->first) STREAMCTL_TRY(delete_segment_locked(segments.rbegin()->first));
    STREAMCTL_TRY(seg->truncate_to(offset));
    // The cut must be durable, or the removed batches could reappear after a crash and pass recovery.
    STREAMCTL_TRY(seg->sync());
    last_use.erase(it->first);
    if (log_start > log_end_offset()) {
      // Truncated below the log start: what is left was deleted already, the log restarts at its end.
      log_start = log_end_offset();
      STREAMCTL_TRY(write_log_start_offset());
      while (segments.size() > 1 && std::next(segments.begin())->first <= log_start.value) {
        STREAMCTL_TRY(delete_segment_locked(segments.begin()->first));
      }
    }
  }
  active_created_ms.reset();
  Segment* a = active();
  if (checkpoint && (checkpoint->segment_base > a->base_offset() ||
                     (checkpoint->segment_base == a->base_offset() && checkpoint->position > a->size()))) {
    // Everything up to the cut was durable (the old checkpoint covered it) and the cut is synced.
    STREAMCTL_TRY(write_checkpoint(RecoveryCheckpoint{a->base_offset(), a->size(), a->next_offset(),
                                                      uint32_t(a->offset_index().entries()),
                                                      uint32_t(a->time_index().entries())}));
  }
  STREAMCTL_TRY(trim_epochs_locked(/*durable=*/true));
  if (high_watermark_set) high_watermark = std::clamp(high_watermark, log_start, log_end_offset());
  ++generation;
  return write_stamp();
}

Result<int> Log::Impl::apply_retention_locked() {
  if (config.cleanup_policy == CleanupPolicy::kCompact) return 0;
  const Timestamp now = clock->now();
  const Offset hw = high_watermark_locked();
  int deleted = 0;
  // Only whole, non-active segments that are entirely below the high watermark are deleted.
  auto deletable = [&]() {
    return segments.size() > 1 && std::next(segments.begin())->first <= hw.value;
  };
  if (config.retention_ms >= 0 && config.retention_ms < kInfinite) {
    while (deletable()) {
      Segment* seg = segments.begin()->second.get();
      STREAMCTL_TRY(ensure_loaded(seg));
      // A segment without timestamps never expires by time.
      if (seg->max_timestamp() == kNoTimestamp || now.value - seg->max_timestamp().value <= config.retention_ms) break;
      STREAMCTL_TRY(delete_segment_locked(segments.begin()->first));
      ++deleted;
    }
  }
  if (config.retention_bytes >= 0) {
    uint64_t total = 0;
    for (auto& [base, seg] : segments) {
      STREAMCTL_ASSIGN_OR_RETURN(uint64_t size, segment_size(seg.get()));
      total += size;
    }
    while (deletable()) {
      STREAMCTL_ASSIGN_OR_RETURN(uint64_t size, segment_size(segments.begin()->second.get()));
      if (total - size < uint64_t(config.retention_bytes)) break;
      STREAMCTL_TRY(delete_segment_locked(segments.begin()->first));
      total -= size;
      ++deleted;
    }
  }
  if (deleted > 0) {
    Offset first(segments.begin()->first);
    if (first > log_start) {
      log_start = first;
      STREAMCTL_TRY(write_log_start_offset());
      STREAMCTL_TRY(trim_epochs_locked(/*durable=*/false));  // written by the next flush; open() clips too
    }
    ++generation;
    STREAMCTL_TRY(write_stamp());
  }
  return deleted;
}

Result<uint64_t> Log::Impl::compact_locked() {
  if (config.cleanup_policy == CleanupPolicy::kDelete) return uint64_t{0};
  // Closed segments must be durable before their replacements are swapped in.
  STREAMCTL_TRY(flush_locked());
  const Timestamp now = clock->now();

  // 1. The latest offset of every key in the whole log, the active segment included.
  std::unordered_map<std::string, int64_t> latest;
  for (auto& [base, seg] : segments) {
    STREAMCTL_TRY(ensure_loaded(seg.get()));
    STREAMCTL_TRY(seg->for_each_batch(0, [&](const RecordBatchHeader& h, uint64_t, ByteSpan bytes) -> Result<bool> {
      if (h.is_control()) return true;
      STREAMCTL_ASSIGN_OR_RETURN(std::vector<Record> records, decode_records(bytes));
      for (const Record& r : records) {
        if (r.key) latest[*r.key] = r.offset.value;
      }
      return true;
    }));
  }

  // 2. Clean each closed segment into <base>.log.cleaned, then swap it in.
  std::vector<int64_t> bases;
  for (auto& [base, seg] : segments) {
    if (seg.get() != active()) bases.push_back(base);
  }
  uint64_t reclaimed = 0;
  bool changed_any = false;
  for (int64_t base : bases) {
    Segment* seg = segments[base].get();
    STREAMCTL_TRY(ensure_loaded(seg));
    if (config.min_compaction_lag_ms > 0 && seg->max_timestamp().value > now.value - config.min_compaction_lag_ms) {
      break;  // too recent to compact, and so is everything after it
    }
    Bytes cleaned_bytes;
    std::vector<BatchInfo> infos;
    bool changed = false;
    auto add = [&](ByteSpan batch) {
      RecordBatchHeader h = parse_batch_header(batch);
      infos.push_back(BatchInfo{uint32_t(batch.size()), h.base_offset, h.last_offset(), h.max_timestamp, h.leader_epoch});
      cleaned_bytes.insert(cleaned_bytes.end(), batch.begin(), batch.end());
    };
    STREAMCTL_TRY(seg->for_each_batch(0, [&](const RecordBatchHeader& h, uint64_t, ByteSpan bytes) -> Result<bool> {
      if (h.is_control()) {
        add(bytes);
        return true;
      }
      STREAMCTL_ASSIGN_OR_RETURN(std::vector<Record> records, decode_records(bytes));
      std::vector<bool> keep(records.size(), true);
      size_t kept = 0;
      for (size_t i = 0; i < records.size(); ++i) {
        const Record& r = records[i];
        if (r.key) {
          auto l = latest.find(*r.key);
          bool superseded = l != latest.end() && l->second != r.offset.value;
          bool expired_tombstone = !r.value && now.value - r.timestamp.value > config.delete_retention_ms;
          keep[i] = !superseded && !expired_tombstone;
        }
        kept += keep[i] ? 1 : 0;
      }
      if (kept == records.size()) {
        add(bytes);
        return true;
      }
      changed = true;
      if (kept == 0) return true;
      if (h.compression() == Compression::kNone) {
        STREAMCTL_ASSIGN_OR_RETURN(Bytes filtered, filter_uncompressed(h, bytes, records, keep));
        add(filtered);
      } else {
        STREAMCTL_ASSIGN_OR_RETURN(std::vector<Bytes> rebuilt, rebuild_compressed(h, records, keep));
        for (const Bytes& b : rebuilt) add(b);
      }
      return true;
    }));
    if (!changed) continue;

    auto cleaned = new_segment(Offset(base), StagingSuffix::kCleaned);
    STREAMCTL_TRY(cleaned->create());
    if (!cleaned_bytes.empty()) STREAMCTL_TRY(cleaned->append(cleaned_bytes, infos));
    STREAMCTL_TRY(cleaned->close_for_roll());
    STREAMCTL_TRY(cleaned->sync());
    // Commit point: once <base>.log.swap exists, open() finishes the swap; before it, open() rolls back.
    STREAMCTL_TRY(cleaned->rename_files(StagingSuffix::kSwap));
    STREAMCTL_TRY(fs->sync_dir(dir));
    STREAMCTL_TRY(cleaned->rename_files(StagingSuffix::kNone));
    STREAMCTL_TRY(fs->sync_dir(dir));
    const uint64_t before = seg->size();
    seg->release_files();
    cleaned->release_files();
    reclaimed += before - std::min(before, cleaned->size());
    segments[base] = std::move(cleaned);
    last_use.erase(base);
    changed_any = true;
  }
  if (changed_any) {
    ++generation;
    STREAMCTL_TRY(write_stamp());
  }
  return reclaimed;
}

// ---- Log

Status Log::truncate_to(Offset offset) {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> guard(impl.mu);
  if (impl.closed) return closed_error(impl.dir);
  Impl::LockScope lock(impl);
  STREAMCTL_TRY(lock.acquire());
  STREAMCTL_TRY(impl.catch_up_locked(/*writer=*/true));
  STREAMCTL_TRY(impl.ensure_active_writable());
  return impl.truncate_to_locked(offset);
}

Status Log::delete_records_before(Offset offset) {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> guard(impl.mu);
  if (impl.closed) return closed_error(impl.dir);
  Impl::LockScope lock(impl);
  STREAMCTL_TRY(lock.acquire());
  STREAMCTL_TRY(impl.catch_up_locked(/*writer=*/true));
  const Offset hw = impl.high_watermark_locked();
  if (offset > hw) {
    return Error::offset_out_of_range("cannot move the log start offset of " + impl.dir + " to " +
                                      std::to_string(offset.value) + ": it is above the high watermark " +
                                      std::to_string(hw.value));
  }
  if (offset <= impl.log_start) return ok_status();
  // The new log start is durable first; segments wholly below it go next (open() finishes that after a crash).
  impl.log_start = offset;
  STREAMCTL_TRY(impl.write_log_start_offset());
  while (impl.segments.size() > 1 && std::next(impl.segments.begin())->first <= offset.value) {
    STREAMCTL_TRY(impl.delete_segment_locked(impl.segments.begin()->first));
  }
  STREAMCTL_TRY(impl.trim_epochs_locked(/*durable=*/false));
  ++impl.generation;
  return impl.write_stamp();
}

Result<int> Log::apply_retention() {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> guard(impl.mu);
  if (impl.closed) return closed_error(impl.dir);
  Impl::LockScope lock(impl);
  STREAMCTL_TRY(lock.acquire());
  STREAMCTL_TRY(impl.catch_up_locked(/*writer=*/true));
  return impl.apply_retention_locked();
}

Result<uint64_t> Log::compact() {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> guard(impl.mu);
  if (impl.closed) return closed_error(impl.dir);
  Impl::LockScope lock(impl);
  STREAMCTL_TRY(lock.acquire());
  STREAMCTL_TRY(impl.catch_up_locked(/*writer=*/true));
  STREAMCTL_TRY(impl.ensure_active_writable());
  return impl.compact_locked();
}

}  // namespace streamctl::engine
