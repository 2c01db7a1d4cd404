// Log: open and crash recovery, append, read, flush, and catching up with other processes.
// Truncation, delete-records, retention and compaction live in engine/log_maintenance.cc.
#include "engine/log.h"

#include <algorithm>
#include <limits>
#include <set>

#include "base/crc32c.h"
#include "engine/file_names.h"
#include "engine/log_impl.h"

namespace streamctl::engine {
namespace {

// Segments whose files stay open at once (beyond the active one); the least recently used are closed.
constexpr size_t kMaxOpenSegments = 128;
// Where maxTimestamp sits in a batch header (record_batch.h byte table), rewritten for LogAppendTime.
constexpr size_t kMaxTimestampOffset = 35;
constexpr uint16_t kTimestampTypeAttribute = 0x08;

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Error closed_error(const std::string& dir) { return Error{ErrorCode::kUnavailable, "log " + dir + " is closed"}; }

std::string offset_range_message(const std::string& dir, Offset from, Offset start, Offset end) {
  return "offset " + std::to_string(from.value) + " is out of range for " + dir + " (log start offset " +
         std::to_string(start.value) + ", log end offset " + std::to_string(end.value) + ")";
}

void append_detail(RecoveryReport& report, const std::string& detail) {
  if (detail.empty()) return;
  if (!report.detail.empty()) report.detail += "\n";
  report.detail += detail;
}

// The codec a topic's compression.type imposes on what is appended, or nullopt for "producer" (keep the
// producer's codec).
Result<std::optional<Compression>> topic_codec(const LogConfig& config) {
  if (config.compression_type == "producer" || config.compression_type.empty()) return std::optional<Compression>();
  if (config.compression_type == "uncompressed") return std::optional<Compression>(Compression::kNone);
  STREAMCTL_ASSIGN_OR_RETURN(Compression c, parse_compression(config.compression_type));
  return std::optional<Compression>(c);
}

// compression.<codec>.level for the codec (-1: the codec's default).
int32_t topic_codec_level(const LogConfig& config, Compression codec) {
  switch (codec) {
    case Compression::kGzip: return config.compression_gzip_level;
    case Compression::kLz4: return config.compression_lz4_level;
    case Compression::kZstd: return config.compression_zstd_level;
    default: return -1;
  }
}

// Kafka's broker-side recompression: client batches in a codec other than the topic's compression.type are
// rebuilt in that codec (records, offset deltas, timestamps, timestamp type and producer id/epoch/sequence
// kept; records without a timestamp take `now`). Control and transactional batches stay as sent. A request
// that does not parse is left alone for the caller's validation to report. kCorruption for a batch whose
// records do not decode.
Status recompress_batches(Bytes& buffer, Compression codec, int32_t level, Timestamp now) {
  auto keep = [codec](const RecordBatchHeader& h) {
    return h.compression() == codec || h.is_control() || h.is_transactional();
  };
  BatchIterator scan(buffer);
  bool needed = false;
  while (!needed && scan.next()) needed = !keep(scan.header());
  if (!needed) return ok_status();
  Bytes out;
  out.reserve(buffer.size());
  BatchIterator it(buffer);
  while (it.next()) {
    const RecordBatchHeader& h = it.header();
    ByteSpan batch = it.batch();
    if (keep(h)) {
      out.insert(out.end(), batch.begin(), batch.end());
      continue;
    }
    STREAMCTL_ASSIGN_OR_RETURN(std::vector<Record> records, decode_records(batch));
    BatchBuildOptions o;
    o.compression = codec;
    o.compression_level = level;
    o.timestamp_type = h.timestamp_type();
    o.producer_id = h.producer_id;
    o.producer_epoch = h.producer_epoch;
    o.base_sequence = h.base_sequence;
    o.append_time = now;
    STREAMCTL_ASSIGN_OR_RETURN(Bytes rebuilt, build_batch(records, h.base_offset, o));
    out.insert(out.end(), rebuilt.begin(), rebuilt.end());
  }
  if (!it.status().ok() || it.truncated_tail()) return ok_status();  // validation reports it
  buffer.swap(out);
  return ok_status();
}

}  // namespace

// ---- state files

Bytes encode_checkpoint(const RecoveryCheckpoint& cp) {
  Bytes out(kCheckpointSize);
  std::byte* p = out.data();
  put_be32(p, kCheckpointMagic);
  put_be16(p + 4, kStateFileVersion);
  put_be64(p + 6, uint64_t(cp.segment_base.value));
  put_be64(p + 14, cp.position);
  put_be64(p + 22, uint64_t(cp.next_offset.value));
  put_be32(p + 30, cp.offset_index_entries);
  put_be32(p + 34, cp.time_index_entries);
  put_be32(p + 38, crc32c(ByteSpan(p, 38)));
  return out;
}

std::optional<RecoveryCheckpoint> decode_checkpoint(ByteSpan bytes) {
  if (bytes.size() != kCheckpointSize) return std::nullopt;
  const std::byte* p = bytes.data();
  if (get_be32(p) != kCheckpointMagic || get_be16(p + 4) != kStateFileVersion) return std::nullopt;
  if (get_be32(p + 38) != crc32c(ByteSpan(p, 38))) return std::nullopt;
  RecoveryCheckpoint cp;
  cp.segment_base = Offset(int64_t(get_be64(p + 6)));
  cp.position = get_be64(p + 14);
  cp.next_offset = Offset(int64_t(get_be64(p + 22)));
  cp.offset_index_entries = get_be32(p + 30);
  cp.time_index_entries = get_be32(p + 34);
  if (cp.segment_base.value < 0 || cp.next_offset < cp.segment_base) return std::nullopt;
  return cp;
}

Bytes encode_log_start_offset(Offset offset) {
  Bytes out(kLogStartOffsetFileSize);
  std::byte* p = out.data();
  put_be32(p, kLogStartMagic);
  put_be16(p + 4, kStateFileVersion);
  put_be64(p + 6, uint64_t(offset.value));
  put_be32(p + 14, crc32c(ByteSpan(p, 14)));
  return out;
}

std::optional<Offset> decode_log_start_offset(ByteSpan bytes) {
  if (bytes.size() != kLogStartOffsetFileSize) return std::nullopt;
  const std::byte* p = bytes.data();
  if (get_be32(p) != kLogStartMagic || get_be16(p + 4) != kStateFileVersion) return std::nullopt;
  if (get_be32(p + 14) != crc32c(ByteSpan(p, 14))) return std::nullopt;
  int64_t v = int64_t(get_be64(p + 6));
  if (v < 0) return std::nullopt;
  return Offset(v);
}

Bytes encode_stamp(const PartitionStamp& s) {
  Bytes out(kStampSize);
  std::byte* p = out.data();
  put_be32(p, kStampMagic);
  put_be16(p + 4, kStateFileVersion);
  put_be16(p + 6, 0);
  put_be64(p + 8, s.generation);
  put_be64(p + 16, uint64_t(s.log_start_offset.value));
  put_be64(p + 24, uint64_t(s.active_base_offset.value));
  put_be64(p + 32, s.active.size);
  put_be64(p + 40, uint64_t(s.active.next_offset.value));
  put_be64(p + 48, uint64_t(s.active.max_timestamp.value));
  put_be64(p + 56, uint64_t(s.active.offset_of_max_timestamp.value));
  put_be64(p + 64, uint64_t(s.active.first_batch_timestamp.value));
  put_be32(p + 72, uint32_t(s.active.last_epoch));
  put_be32(p + 76, s.active.offset_index_entries);
  put_be32(p + 80, s.active.time_index_entries);
  put_be32(p + 84, crc32c(ByteSpan(p, 84)));
  return out;
}

std::optional<PartitionStamp> decode_stamp(ByteSpan bytes) {
  if (bytes.size() < kStampSize) return std::nullopt;
  const std::byte* p = bytes.data();
  if (get_be32(p) != kStampMagic || get_be16(p + 4) != kStateFileVersion) return std::nullopt;
  if (get_be32(p + 84) != crc32c(ByteSpan(p, 84))) return std::nullopt;
  PartitionStamp s;
  s.generation = get_be64(p + 8);
  s.log_start_offset = Offset(int64_t(get_be64(p + 16)));
  s.active_base_offset = Offset(int64_t(get_be64(p + 24)));
  s.active.size = get_be64(p + 32);
  s.active.next_offset = Offset(int64_t(get_be64(p + 40)));
  s.active.max_timestamp = Timestamp(int64_t(get_be64(p + 48)));
  s.active.offset_of_max_timestamp = Offset(int64_t(get_be64(p + 56)));
  s.active.first_batch_timestamp = Timestamp(int64_t(get_be64(p + 64)));
  s.active.last_epoch = LeaderEpoch(int32_t(get_be32(p + 72)));
  s.active.offset_index_entries = get_be32(p + 76);
  s.active.time_index_entries = get_be32(p + 80);
  if (s.active_base_offset.value < 0 || s.active.next_offset < s.active_base_offset) return std::nullopt;
  return s;
}

// ---- Impl: basics

Offset Log::Impl::high_watermark_locked() const {
  Offset end = log_end_offset();
  Offset hw = high_watermark_set ? std::min(high_watermark, end) : end;
  return std::max(hw, std::min(log_start, end));
}

Segment::Options Log::Impl::segment_options() const {
  return Segment::Options{config.index_interval_bytes, config.segment_index_bytes};
}

std::unique_ptr<Segment> Log::Impl::new_segment(Offset base, StagingSuffix staging) const {
  auto seg = std::make_unique<Segment>(fs, dir, base, segment_options(), staging);
  if (staging == StagingSuffix::kNone) seg->set_durable_position(durable_position_of(base.value));
  return seg;
}

uint64_t Log::Impl::durable_position_of(int64_t base) const {
  if (!durable_mark || base > durable_mark->segment_base.value) return 0;
  if (base < durable_mark->segment_base.value) return std::numeric_limits<uint64_t>::max();
  return durable_mark->position;
}

void Log::Impl::mark_durable(const RecoveryCheckpoint& cp) {
  durable_mark = cp;
  for (auto& [base, seg] : segments) seg->set_durable_position(durable_position_of(base));
}

Status Log::Impl::acquire_lock() {
  if (!options.cross_process_lock) return ok_status();
  STREAMCTL_CHECK(held_lock == nullptr, "partition lock of %s taken twice", dir.c_str());
  STREAMCTL_ASSIGN_OR_RETURN(held_lock, fs->lock(lock_path, LockMode::kExclusive, /*wait=*/true));
  return ok_status();
}

void Log::Impl::release_lock() { held_lock.reset(); }

std::optional<PartitionStamp> Log::Impl::read_stamp() {
  File* file = nullptr;
  if (held_lock) {
    file = &held_lock->file();
  } else {
    if (!stamp_reader) {
      auto f = fs->open(lock_path, OpenMode::kRead);
      if (!f.ok()) return std::nullopt;
      stamp_reader = std::move(f).value();
    }
    file = stamp_reader.get();
  }
  // Without the lock a writer may be rewriting the stamp as we read it: a torn read fails its CRC; retry.
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::byte buf[kStampSize];
    auto n = file->read_at(0, buf);
    if (!n.ok() || *n < kStampSize) return std::nullopt;
    if (auto stamp = decode_stamp(ByteSpan(buf, kStampSize))) return stamp;
    if (held_lock) break;
  }
  return std::nullopt;
}

PartitionStamp Log::Impl::current_stamp() const {
  PartitionStamp s;
  s.generation = generation;
  s.log_start_offset = log_start;
  s.active_base_offset = active()->base_offset();
  s.active = active()->tail();
  return s;
}

Status Log::Impl::write_stamp() {
  if (!held_lock) return ok_status();
  Bytes bytes = encode_stamp(current_stamp());
  return held_lock->file().write_at(0, bytes);
}

Status Log::Impl::write_checkpoint(const RecoveryCheckpoint& cp) {
  Bytes bytes = encode_checkpoint(cp);
  STREAMCTL_TRY(write_file_atomically(*fs, checkpoint_path, bytes));
  checkpoint = cp;
  mark_durable(cp);
  return ok_status();
}

Status Log::Impl::advance_checkpoint(const RecoveryCheckpoint& cp) {
  const bool forward = checkpoint && checkpoint->segment_base == cp.segment_base &&
                       checkpoint->position <= cp.position && checkpoint->next_offset <= cp.next_offset;
  if (!forward) return write_checkpoint(cp);
  // In place, unsynced: a crash leaves the old 42 bytes or the new ones (one sector; a torn sector fails the
  // CRC and the file is ignored: every segment is scanned, as without a checkpoint). Both claim only fsynced
  // bytes, because these are written after the fdatasync of what they cover.
  Bytes bytes = encode_checkpoint(cp);
  auto file = fs->open(checkpoint_path, OpenMode::kReadWrite);
  if (!file.ok() || !(*file)->write_at(0, bytes).ok()) return write_checkpoint(cp);
  checkpoint = cp;
  mark_durable(cp);
  return ok_status();
}

Status Log::Impl::write_log_start_offset() {
  Bytes bytes = encode_log_start_offset(log_start);
  return write_file_atomically(*fs, log_start_path, bytes);
}

Result<uint64_t> Log::Impl::segment_size(Segment* seg) {
  if (seg->loaded()) return seg->size();
  return fs->file_size(seg->log_path());
}

Status Log::Impl::enforce_open_file_budget(Segment* keep) {
  while (last_use.size() > kMaxOpenSegments) {
    auto victim = last_use.end();
    for (auto it = last_use.begin(); it != last_use.end(); ++it) {
      if (keep != nullptr && it->first == keep->base_offset().value) continue;
      if (victim == last_use.end() || it->second < victim->second) victim = it;
    }
    if (victim == last_use.end()) break;
    auto seg = segments.find(victim->first);
    if (seg != segments.end() && seg->second.get() != active()) seg->second->release_files();
    last_use.erase(victim);
  }
  return ok_status();
}

Status Log::Impl::ensure_loaded(Segment* seg) {
  if (!seg->loaded()) {
    STREAMCTL_ASSIGN_OR_RETURN(ScanReport r, seg->load(/*writable=*/false, /*truncate_invalid_tail=*/false));
    if (r.rebuilt_index) {
      ++report.rebuilt_indexes;
      append_detail(report, r.detail);
    }
    // Keep a rebuilt or completed index for next time, if the partition lock is free right now.
    if (seg != active()) {
      if (held_lock || !options.cross_process_lock) {
        (void)seg->persist_indexes();
      } else if (auto lock = fs->lock(lock_path, LockMode::kExclusive, /*wait=*/false); lock.ok()) {
        (void)seg->persist_indexes();
      }
    }
  }
  if (seg != active()) {
    last_use[seg->base_offset().value] = ++tick;
    STREAMCTL_TRY(enforce_open_file_budget(seg));
  }
  return ok_status();
}

Status Log::Impl::ensure_active_writable() {
  Segment* a = active();
  if (a->loaded() && a->writable()) return ok_status();
  STREAMCTL_ASSIGN_OR_RETURN(ScanReport r, a->load(/*writable=*/true, /*truncate_invalid_tail=*/true));
  if (r.rebuilt_index) ++report.rebuilt_indexes;
  report.dropped_bytes += r.dropped_bytes;
  append_detail(report, r.detail);
  return ok_status();
}

// ---- Impl: catching up with other processes

Status Log::Impl::catch_up_locked(bool writer) {
  if (writer && !options.cross_process_lock) return ok_status();
  std::optional<PartitionStamp> stamp = read_stamp();
  Segment* a = active();
  if (stamp) {
    const bool same_shape = stamp->generation == generation && stamp->active_base_offset == a->base_offset() &&
                            stamp->log_start_offset == log_start;
    if (same_shape) {
      if (writer) {
        STREAMCTL_TRY(ensure_active_writable());
      } else if (!a->loaded()) {
        STREAMCTL_TRY(ensure_loaded(a));
      }
      Result<ScanReport> r = stamp->active.size > a->size() ? a->catch_up(stamp->active, writer)
                                                             : a->scan_to_end(writer);
      if (r.ok()) {
        if (r->dropped_bytes > 0) {
          // A writer died mid-append; its torn batch is gone now.
          report.dropped_bytes += r->dropped_bytes;
          append_detail(report, r->detail);
        }
        return ok_status();
      }
      if (r.error().code != ErrorCode::kCorruption) return std::move(r).error();
    }
    return reload_locked(writer);
  }
  // No readable stamp: compare the segment files with ours.
  STREAMCTL_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->list_dir(dir));
  std::set<int64_t> bases;
  for (const std::string& name : names) {
    auto parsed = parse_segment_file_name(name);
    if (parsed && parsed->kind == SegmentFileKind::kLog && parsed->staging == StagingSuffix::kNone) {
      bases.insert(parsed->base_offset.value);
    }
  }
  bool same = bases.size() == segments.size();
  for (auto it = segments.begin(); same && it != segments.end(); ++it) same = bases.count(it->first) > 0;
  if (same) {
    if (writer) {
      STREAMCTL_TRY(ensure_active_writable());
    } else if (!a->loaded()) {
      STREAMCTL_TRY(ensure_loaded(a));
    }
    Result<ScanReport> r = a->scan_to_end(writer);
    if (r.ok()) {
      report.dropped_bytes += r->dropped_bytes;
      append_detail(report, r->detail);
      return ok_status();
    }
    if (r.error().code != ErrorCode::kCorruption) return std::move(r).error();
  }
  return reload_locked(writer);
}

Status Log::Impl::reload_locked(bool writer) {
  STREAMCTL_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->list_dir(dir));
  std::set<int64_t> bases;
  for (const std::string& name : names) {
    auto parsed = parse_segment_file_name(name);
    if (parsed && parsed->kind == SegmentFileKind::kLog && parsed->staging == StagingSuffix::kNone) {
      bases.insert(parsed->base_offset.value);
    }
  }
  if (bases.empty()) {
    return Error::corruption(dir + " holds no segment files (removed by another process?)");
  }
  std::optional<PartitionStamp> stamp = read_stamp();
  // Another process changed the log's shape (a truncation may have moved the checkpoint back): what this
  // process knew of the checkpoint and of the directory's durable entries is stale; read them again.
  checkpoint.reset();
  dir_synced_for.reset();
  if (auto bytes = read_file(*fs, checkpoint_path); bytes.ok()) {
    if (auto cp = decode_checkpoint(*bytes)) {
      checkpoint = *cp;
      dir_synced_for = cp->segment_base.value;
      durable_mark = *cp;
    }
  }
  segments.clear();
  last_use.clear();
  for (int64_t base : bases) segments[base] = new_segment(Offset(base));
  active_created_ms.reset();
  Segment* a = active();
  STREAMCTL_ASSIGN_OR_RETURN(ScanReport r, a->load(/*writable=*/writer, /*truncate_invalid_tail=*/writer));
  if (r.rebuilt_index) ++report.rebuilt_indexes;
  report.dropped_bytes += r.dropped_bytes;
  if (writer) append_detail(report, r.detail);
  Offset start = Offset(*bases.begin());
  if (stamp) {
    generation = stamp->generation;
    start = std::max(start, stamp->log_start_offset);
  } else {
    ++generation;
    if (auto bytes = read_file(*fs, log_start_path); bytes.ok()) {
      if (auto v = decode_log_start_offset(*bytes)) start = std::max(start, *v);
    }
  }
  log_start = std::min(start, a->next_offset());
  if (high_watermark_set) high_watermark = std::clamp(high_watermark, log_start, a->next_offset());
  return ok_status();
}

// ---- Impl: open and recovery

Status Log::Impl::finish_staged_files() {
  STREAMCTL_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->list_dir(dir));
  bool changed = false;
  std::set<int64_t> log_swaps;
  for (const std::string& name : names) {
    if (ends_with(name, ".tmp")) {
      // A small state file or rebuilt index that was being written atomically.
      STREAMCTL_TRY(fs->remove_file(join_path(dir, name)));
      changed = true;
      continue;
    }
    auto parsed = parse_segment_file_name(name);
    if (!parsed) continue;
    if (parsed->staging == StagingSuffix::kCleaned || parsed->staging == StagingSuffix::kDeleted) {
      // .cleaned: compaction output never committed (roll back). .deleted: already out of the log.
      STREAMCTL_TRY(fs->remove_file(join_path(dir, name)));
      changed = true;
    } else if (parsed->staging == StagingSuffix::kSwap && parsed->kind == SegmentFileKind::kLog) {
      log_swaps.insert(parsed->base_offset.value);
    }
  }
  for (const std::string& name : names) {
    auto parsed = parse_segment_file_name(name);
    if (!parsed || parsed->staging != StagingSuffix::kSwap || parsed->kind == SegmentFileKind::kLog) continue;
    std::string from = join_path(dir, name);
    if (log_swaps.count(parsed->base_offset.value)) {
      // The compaction committed (its .log.swap exists): move the new index in.
      STREAMCTL_TRY(fs->rename(from, join_path(dir, segment_file_name(parsed->base_offset, parsed->kind))));
    } else {
      STREAMCTL_TRY(fs->remove_file(from));
    }
    changed = true;
  }
  for (int64_t base : log_swaps) {
    STREAMCTL_TRY(fs->rename(join_path(dir, segment_file_name(Offset(base), SegmentFileKind::kLog, StagingSuffix::kSwap)),
                             join_path(dir, log_file_name(Offset(base)))));
    append_detail(report, "finished the compaction of segment " + log_file_name(Offset(base)));
    changed = true;
  }
  if (changed) STREAMCTL_TRY(fs->sync_dir(dir));
  // Index files whose .log is gone (a crash while deleting a segment) are removed.
  if (changed) {
    STREAMCTL_ASSIGN_OR_RETURN(names, fs->list_dir(dir));
  }
  std::set<int64_t> logs;
  for (const std::string& name : names) {
    auto parsed = parse_segment_file_name(name);
    if (parsed && parsed->staging == StagingSuffix::kNone && parsed->kind == SegmentFileKind::kLog) {
      logs.insert(parsed->base_offset.value);
    }
  }
  for (const std::string& name : names) {
    auto parsed = parse_segment_file_name(name);
    if (parsed && parsed->staging == StagingSuffix::kNone && parsed->kind != SegmentFileKind::kLog &&
        !logs.count(parsed->base_offset.value)) {
      STREAMCTL_TRY(fs->remove_file(join_path(dir, name)));
    }
  }
  return ok_status();
}

Status Log::Impl::recover_segments(const std::optional<RecoveryCheckpoint>& cp) {
  // Segments below the checkpoint's segment were fsynced whole: trusted, loaded lazily. The checkpoint's
  // segment is recovered from the checkpoint position, later ones (rolled after the last flush) from 0.
  int64_t trusted_below = std::numeric_limits<int64_t>::min();
  bool cp_usable = false;
  if (cp) {
    trusted_below = cp->segment_base.value;
    auto it = segments.find(cp->segment_base.value);
    if (it != segments.end()) {
      STREAMCTL_ASSIGN_OR_RETURN(uint64_t size, fs->file_size(it->second->log_path()));
      if (size >= cp->position) {
        cp_usable = true;
      } else {
        append_detail(report, "recovery checkpoint position " + std::to_string(cp->position) + " is past the end of " +
                                  it->second->log_path() + " (" + std::to_string(size) +
                                  " bytes); scanning that segment from the start");
      }
    }
  }
  for (auto it = segments.lower_bound(trusted_below); it != segments.end(); ++it) {
    Segment* seg = it->second.get();
    const bool from_cp = cp_usable && it->first == cp->segment_base.value;
    STREAMCTL_ASSIGN_OR_RETURN(ScanReport r, from_cp ? seg->recover(cp->position, cp->offset_index_entries,
                                                                    cp->time_index_entries)
                                                     : seg->recover(0, 0, 0));
    report.scanned_bytes += r.scanned_bytes;
    report.dropped_bytes += r.dropped_bytes;
    if (r.rebuilt_index) ++report.rebuilt_indexes;
    append_detail(report, r.detail);
    needs_flush = needs_flush || r.scanned_bytes > 0;
    auto next = std::next(it);
    if (r.dropped_bytes > 0 && next != segments.end()) {
      // A torn segment that is not the last: what follows it was written after the lost bytes (Kafka deletes
      // the remaining unflushed segments too), so the log ends here.
      std::vector<int64_t> later;
      for (auto j = next; j != segments.end(); ++j) later.push_back(j->first);
      for (int64_t base : later) {
        Segment* doomed = segments[base].get();
        STREAMCTL_ASSIGN_OR_RETURN(uint64_t size, fs->file_size(doomed->log_path()));
        report.dropped_bytes += size;
        append_detail(report, "removed " + doomed->log_path() + " (" + std::to_string(size) +
                                  " bytes) after the torn segment before it");
        STREAMCTL_TRY(delete_segment_locked(base));
      }
      break;
    }
    if (seg != active()) seg->release_files();
  }
  Segment* a = active();
  if (!a->loaded() || !a->writable()) {
    STREAMCTL_ASSIGN_OR_RETURN(ScanReport r, a->load(/*writable=*/true, /*truncate_invalid_tail=*/true));
    report.dropped_bytes += r.dropped_bytes;
    if (r.rebuilt_index) ++report.rebuilt_indexes;
    append_detail(report, r.detail);
  }
  return ok_status();
}

Status Log::Impl::open_locked() {
  STREAMCTL_TRY(finish_staged_files());
  std::optional<Offset> persisted_start;
  if (auto bytes = read_file(*fs, log_start_path); bytes.ok()) {
    persisted_start = decode_log_start_offset(*bytes);
    if (!persisted_start) append_detail(report, "ignored a garbled " + log_start_path);
  } else if (bytes.error().code != ErrorCode::kNotFound) {
    return std::move(bytes).error();
  }
  std::optional<RecoveryCheckpoint> cp;
  if (auto bytes = read_file(*fs, checkpoint_path); bytes.ok()) {
    cp = decode_checkpoint(*bytes);
    if (!cp) append_detail(report, "ignored a garbled " + checkpoint_path + "; scanning every segment");
  } else if (bytes.error().code != ErrorCode::kNotFound) {
    return std::move(bytes).error();
  }

  STREAMCTL_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->list_dir(dir));
  std::set<int64_t> bases;
  for (const std::string& name : names) {
    auto parsed = parse_segment_file_name(name);
    if (parsed && parsed->kind == SegmentFileKind::kLog && parsed->staging == StagingSuffix::kNone) {
      bases.insert(parsed->base_offset.value);
    }
  }
  if (bases.empty()) {
    Offset base = persisted_start.value_or(Offset(0));
    auto seg = new_segment(base);
    STREAMCTL_TRY(seg->create());
    segments[base.value] = std::move(seg);
    STREAMCTL_TRY(fs->sync_dir(dir));
    dir_synced_for = base.value;
    active_created_ms = clock->now().value;
  } else {
    for (int64_t base : bases) segments[base] = new_segment(Offset(base));
    if (cp) {
      mark_durable(*cp);
      // What the file says (flush_locked() moves it forward from here). The directory was synced before any
      // checkpoint named its segment, so the entries of that segment and older ones are durable.
      checkpoint = *cp;
      dir_synced_for = cp->segment_base.value;
    }
    if (persisted_start) {
      // Segments wholly below the log start offset (a crash between moving it and deleting them).
      while (segments.size() > 1 && std::next(segments.begin())->first <= persisted_start->value) {
        STREAMCTL_TRY(delete_segment_locked(segments.begin()->first));
      }
    }
    STREAMCTL_TRY(recover_segments(cp));
  }
  Offset first = Offset(segments.begin()->first);
  log_start = std::max(first, persisted_start.value_or(first));
  if (log_start > log_end_offset()) {
    append_detail(report, "log start offset " + std::to_string(log_start.value) + " was past the log end offset " +
                              std::to_string(log_end_offset().value) + "; moved it back");
    log_start = log_end_offset();
  }
  STREAMCTL_TRY(load_epochs_locked(/*writer=*/true));
  report.segments = int(segments.size());
  std::optional<PartitionStamp> stamp = read_stamp();
  generation = (stamp ? stamp->generation : 0) + 1;
  if (needs_flush || (!cp && log_end_offset() > first)) {
    // Make what recovery validated durable now, so the next open does not scan it again.
    STREAMCTL_TRY(flush_locked());
  }
  return write_stamp();
}

Status Log::Impl::open_read_only() {
  // A shared lock while loading waits for a writer that is mid-change (one that can write here) and holds
  // off the next; no lock file can exist (and no writer) where a writer never could create it.
  std::unique_ptr<FileLock> shared;
  if (options.cross_process_lock) {
    auto held = fs->lock(lock_path, LockMode::kShared, /*wait=*/true);
    if (held.ok()) {
      shared = std::move(held).value();
    } else if (held.error().code != ErrorCode::kNotFound) {
      return std::move(held).error();
    }
  }
  if (auto bytes = read_file(*fs, checkpoint_path); bytes.ok()) {
    if (auto cp = decode_checkpoint(*bytes)) mark_durable(*cp);
  } else if (bytes.error().code != ErrorCode::kNotFound) {
    return std::move(bytes).error();
  }
  // The reader's view: every segment as it is (staged compaction files left alone), the active one loaded
  // read-only up to its last complete, valid batch; nothing truncated, rebuilt on disk or flushed.
  STREAMCTL_TRY(reload_locked(/*writer=*/false));
  Segment* a = active();
  if (!a->invalid_tail().empty() && a->size() < durable_position_of(a->base_offset().value)) {
    // Bad bytes below the recovery checkpoint are corruption, not a torn tail (as open_locked() says).
    return Error::corruption(a->invalid_tail() + ", within the fsynced bytes (recovery checkpoint); nothing was changed");
  }
  return load_epochs_locked(/*writer=*/false);
}

// ---- Impl: write path

bool Log::Impl::should_roll(const Segment& seg, uint64_t projected_size, const BatchInfo& next, Timestamp now) const {
  if (projected_size == 0) return false;  // never roll an empty segment
  if (int64_t(projected_size + next.size) > config.segment_bytes) return true;
  if (projected_size + next.size > std::numeric_limits<uint32_t>::max()) return true;  // index positions are u32
  if (next.last_offset - seg.base_offset() > std::numeric_limits<int32_t>::max()) return true;
  if (seg.index_full()) return true;
  if (config.segment_ms >= 0 && config.segment_ms < kInfinite) {
    // Kafka rolls when the first batch's timestamp is segment.ms old; when this process created the segment,
    // its creation time counts too, so old producer timestamps do not make every append roll.
    int64_t base = seg.first_batch_timestamp().value;
    if (active_created_ms && &seg == active()) base = std::max(base, *active_created_ms);
    if (base >= 0 && now.value - base > config.segment_ms) return true;
  }
  return false;
}

Status Log::Impl::roll_locked(Offset base) {
  Segment* old = active();
  STREAMCTL_TRY(old->close_for_roll());
  auto seg = new_segment(base);
  if (Status s = seg->create(); !s.ok()) {
    seg->release_files();
    for (SegmentFileKind kind : {SegmentFileKind::kLog, SegmentFileKind::kOffsetIndex, SegmentFileKind::kTimeIndex}) {
      (void)fs->remove_file(seg->path(kind));
    }
    return s;
  }
  segments[base.value] = std::move(seg);
  ++generation;
  active_created_ms = clock->now().value;
  last_use[old->base_offset().value] = ++tick;
  return enforce_open_file_budget(nullptr);
}

Result<AppendResult> Log::Impl::append_prepared(std::span<std::byte> buffer, std::vector<PreparedBatch>& batches,
                                                LeaderEpoch epoch) {
  const Timestamp now = clock->now();
  const bool log_append_time = config.message_timestamp_type == TimestampType::kLogAppendTime;
  AppendResult result;
  result.base_offset = log_end_offset();
  Offset next = result.base_offset;
  for (PreparedBatch& b : batches) {
    std::span<std::byte> batch = buffer.subspan(b.position, b.info.size);
    set_batch_base_offset(batch, next);
    set_batch_leader_epoch(batch, epoch);
    if (log_append_time) {
      // The broker's time replaces the producer's: attribute bit 3 and maxTimestamp, so the CRC changes.
      put_be16(batch.data() + kAttributesOffset,
               uint16_t(get_be16(batch.data() + kAttributesOffset) | kTimestampTypeAttribute));
      put_be64(batch.data() + kMaxTimestampOffset, uint64_t(now.value));
      put_be32(batch.data() + kCrcOffset, compute_batch_crc(batch));
      b.info.max_timestamp = now;
    }
    b.info.base_offset = next;
    b.info.last_offset = next + b.last_offset_delta;
    b.info.leader_epoch = epoch;
    next = b.info.last_offset + 1;
    result.record_count += b.record_count;
    result.bytes += b.info.size;
  }
  result.last_offset = next - 1;
  result.log_append_time = log_append_time ? now : kNoTimestamp;

  Segment* first_active = active();
  const Offset first_active_next = first_active->next_offset();
  std::vector<int64_t> created;
  std::vector<BatchInfo> infos;
  Status failure;
  size_t i = 0;
  while (i < batches.size()) {
    Segment* a = active();
    if (should_roll(*a, a->size(), batches[i].info, now)) {
      failure = roll_locked(batches[i].info.base_offset);
      if (!failure.ok()) break;
      created.push_back(batches[i].info.base_offset.value);
      a = active();
    }
    infos.clear();
    uint64_t run = 0;
    size_t j = i;
    while (j < batches.size() && (j == i || !should_roll(*a, a->size() + run, batches[j].info, now))) {
      run += batches[j].info.size;
      infos.push_back(batches[j].info);
      ++j;
    }
    failure = a->append(ByteSpan(buffer.data() + batches[i].position, size_t(run)), infos);
    if (!failure.ok()) break;
    i = j;
  }
  if (!failure.ok()) {
    // All or nothing: remove the segments this append rolled, then cut the first one back.
    for (auto it = created.rbegin(); it != created.rend(); ++it) {
      auto seg = segments.find(*it);
      if (seg == segments.end()) continue;
      seg->second->release_files();
      for (SegmentFileKind kind : {SegmentFileKind::kLog, SegmentFileKind::kOffsetIndex, SegmentFileKind::kTimeIndex}) {
        (void)fs->remove_file(seg->second->path(kind));
      }
      segments.erase(seg);
      last_use.erase(*it);
    }
    if (!created.empty()) active_created_ms.reset();
    Status undo = first_active->truncate_to(first_active_next);
    ++generation;  // files changed shape: make other processes reload
    (void)write_stamp();
    if (!undo.ok()) {
      return Error{failure.error().code, failure.error().message + " (and undoing the partial append failed: " +
                                             undo.error().message + ")"};
    }
    return std::move(failure).error();
  }
  // The stamp is a hint for other processes; if it cannot be written they notice the file grew and scan.
  (void)write_stamp();
  learn_epoch_locked(epoch, result.base_offset);
  result.log_start_offset = log_start;
  needs_flush = true;
  unflushed_records += result.record_count;
  if (first_unflushed_ms < 0) first_unflushed_ms = clock->monotonic_ms();
  STREAMCTL_TRY(maybe_flush_locked());
  return result;
}

Status Log::Impl::flush_locked() {
  // Everything from the checkpoint's segment on may hold unsynced data (segments below it were fsynced whole
  // before the checkpoint moved past them).
  // The steady path (no roll since the last flush) is one fdatasync, of the active .log: closed segments are
  // synced whole (log and indexes) once, the active segment's indexes never (derived data, checked and rebuilt
  // by recovery), the directory only when it holds a segment not yet synced into it, and the checkpoint is
  // moved forward in place without an fsync (advance_checkpoint). engine/README.md, "One fdatasync per flush",
  // has the reasoning, and why no fsynced batch is ever cut as a torn tail.
  int64_t from = checkpoint ? checkpoint->segment_base.value : std::numeric_limits<int64_t>::min();
  Segment* a = active();
  for (auto it = segments.lower_bound(from); it != segments.end(); ++it) {
    STREAMCTL_TRY(it->second.get() == a ? a->sync_log() : it->second->sync());
  }
  // New segment files must be durable directory entries before the checkpoint names them.
  if (dir_synced_for != a->base_offset().value) {
    STREAMCTL_TRY(fs->sync_dir(dir));
    dir_synced_for = a->base_offset().value;
  }
  RecoveryCheckpoint cp{a->base_offset(), a->size(), a->next_offset(), uint32_t(a->offset_index().entries()),
                        uint32_t(a->time_index().entries())};
  STREAMCTL_TRY(write_epochs_locked());  // before the checkpoint moves past a new epoch
  if (!checkpoint || !(*checkpoint == cp)) STREAMCTL_TRY(advance_checkpoint(cp));
  unflushed_records = 0;
  first_unflushed_ms = -1;
  needs_flush = false;
  return ok_status();
}

Status Log::Impl::maybe_flush_locked() {
  bool due = unflushed_records >= config.flush_messages;
  if (!due && first_unflushed_ms >= 0 && config.flush_ms < kInfinite) {
    due = clock->monotonic_ms() - first_unflushed_ms >= config.flush_ms;
  }
  return due ? flush_locked() : ok_status();
}

Status Log::Impl::delete_segment_locked(int64_t base) {
  auto it = segments.find(base);
  STREAMCTL_CHECK(it != segments.end(), "deleting unknown segment %lld", static_cast<long long>(base));
  Segment* seg = it->second.get();
  seg->release_files();
  // The .log goes first: once it is renamed the segment is out of the log, whatever happens next.
  for (SegmentFileKind kind : {SegmentFileKind::kLog, SegmentFileKind::kOffsetIndex, SegmentFileKind::kTimeIndex}) {
    Status s = fs->rename(seg->path(kind), seg->path(kind) + std::string(kDeletedSuffix));
    if (!s.ok() && !(s.error().code == ErrorCode::kNotFound && kind != SegmentFileKind::kLog)) return s;
  }
  STREAMCTL_TRY(fs->sync_dir(dir));
  for (SegmentFileKind kind : {SegmentFileKind::kLog, SegmentFileKind::kOffsetIndex, SegmentFileKind::kTimeIndex}) {
    Status s = fs->remove_file(seg->path(kind) + std::string(kDeletedSuffix));
    if (!s.ok() && s.error().code != ErrorCode::kNotFound) return s;
  }
  segments.erase(it);
  last_use.erase(base);
  return ok_status();
}

// ---- Log

Result<std::unique_ptr<Log>> Log::open(const LogOptions& options) {
  if (options.fs == nullptr || options.clock == nullptr) {
    return Error::invalid_argument("Log::open: LogOptions.fs and LogOptions.clock are required");
  }
  if (options.dir.empty()) return Error::invalid_argument("Log::open: LogOptions.dir is empty");
  if (options.config.segment_bytes < 1 || options.config.max_message_bytes < 1) {
    return Error::invalid_argument("Log::open " + options.dir + ": segment.bytes and max.message.bytes must be positive");
  }
  std::unique_ptr<Log> log(new Log());
  log->impl_ = std::make_unique<Impl>();
  Impl& impl = *log->impl_;
  impl.options = options;
  impl.fs = options.fs;
  impl.clock = options.clock;
  impl.config = options.config;
  impl.dir = options.dir;
  impl.lock_path = join_path(impl.dir, std::string(kLockFileName));
  impl.checkpoint_path = join_path(impl.dir, std::string(kRecoveryCheckpointFileName));
  impl.log_start_path = join_path(impl.dir, std::string(kLogStartOffsetFileName));
  impl.epochs_path = join_path(impl.dir, std::string(kLeaderEpochCheckpointFileName));
  {
    // A new partition directory (and any parent created with it) must be a durable entry of its parent.
    std::vector<std::string> missing;
    for (std::string d = impl.dir; !d.empty() && d != "/" && d != "."; d = parent_path(d)) {
      STREAMCTL_ASSIGN_OR_RETURN(bool exists, impl.fs->exists(d));
      if (exists) break;
      missing.push_back(d);
    }
    STREAMCTL_TRY(impl.fs->create_dirs(impl.dir));
    for (const std::string& d : missing) STREAMCTL_TRY(impl.fs->sync_dir(parent_path(d)));
  }
  std::lock_guard<std::mutex> guard(impl.mu);
  Impl::LockScope lock(impl);
  Status acquired = lock.acquire();
  if (!acquired.ok() && acquired.error().code == ErrorCode::kPermissionDenied) {
    // The directory cannot be written here (a read-only mount, a backup without write permission): open it
    // for reading only. Appends and other changes then fail on the partition lock, naming it.
    if (Status s = impl.open_read_only(); !s.ok()) {
      impl.closed = true;
      return Error{s.error().code, "opening " + impl.dir + " (read-only): " + s.error().message};
    }
    return log;
  }
  STREAMCTL_TRY(acquired);
  if (Status s = impl.open_locked(); !s.ok()) {
    impl.closed = true;
    return Error{s.error().code, "opening " + impl.dir + ": " + s.error().message};
  }
  return log;
}

Log::~Log() {
  if (impl_) (void)close();
}

Result<AppendResult> Log::append(std::span<const Record> records, const BatchBuildOptions& options) {
  Impl& impl = *impl_;
  if (records.empty()) return Error::invalid_argument("append to " + impl.dir + ": no records");
  std::lock_guard<std::mutex> guard(impl.mu);
  if (impl.closed) return closed_error(impl.dir);
  const Timestamp now = impl.clock->now();
  BatchBuildOptions build = options;
  build.timestamp_type = impl.config.message_timestamp_type;
  STREAMCTL_ASSIGN_OR_RETURN(std::optional<Compression> codec, topic_codec(impl.config));
  if (codec) {
    build.compression = *codec;
    build.compression_level = topic_codec_level(impl.config, *codec);
  }
  // Records without a timestamp (and every record under LogAppendTime) take "now", filled in while encoding.
  build.append_time = now;
  const size_t max_bytes = size_t(impl.config.max_message_bytes);

  // Every batch of this append is encoded straight into impl.append_buffer, one after the other: the buffer
  // is kept between appends, so a warm append allocates and zero-fills nothing.
  Bytes& buf = impl.append_buffer;
  std::vector<Impl::PreparedBatch> prepared;
  size_t total = 0;
  size_t i = 0;
  while (i < records.size()) {
    std::span<const Record> rest = records.subspan(i);
    STREAMCTL_ASSIGN_OR_RETURN(EncodedBatch e, encode_batch_prefix(rest, Offset(0), build, max_bytes, buf, total));
    while (e.bytes > max_bytes) {  // only a compressed batch can outgrow the limit its records were chosen by
      if (e.records == 1) {
        return Error::record_too_large("record " + std::to_string(i) + " appended to " + impl.dir + " makes a " +
                                       std::to_string(e.bytes) + "-byte batch, larger than max.message.bytes (" +
                                       std::to_string(max_bytes) + ")");
      }
      STREAMCTL_ASSIGN_OR_RETURN(e, encode_batch_prefix(rest.first(e.records / 2), Offset(0), build, max_bytes,
                                                        buf, total));
    }
    Impl::PreparedBatch p;
    p.position = total;
    p.info.size = uint32_t(e.bytes);
    p.info.max_timestamp = e.max_timestamp;
    p.last_offset_delta = int32_t(e.records - 1);
    p.record_count = int32_t(e.records);
    total += e.bytes;
    prepared.push_back(p);
    i += e.records;
  }
  std::span<std::byte> buffer(buf.data(), total);
  // A huge one-off append should not pin its buffer for the life of the log.
  struct ShrinkAfter {
    Bytes& b;
    ~ShrinkAfter() {
      if (b.size() > kMaxRetainedAppendBuffer) Bytes().swap(b);
    }
  } shrink{buf};
  Impl::LockScope lock(impl);
  STREAMCTL_TRY(lock.acquire());
  STREAMCTL_TRY(impl.catch_up_locked(/*writer=*/true));
  STREAMCTL_TRY(impl.ensure_active_writable());
  return impl.append_prepared(buffer, prepared, options.leader_epoch);
}

Result<AppendResult> Log::append_batches(ByteSpan batches, LeaderEpoch leader_epoch) {
  Impl& impl = *impl_;
  if (batches.empty()) return Error::invalid_argument("append to " + impl.dir + ": no record batches");
  Bytes buffer(batches.begin(), batches.end());
  std::lock_guard<std::mutex> guard(impl.mu);
  if (impl.closed) return closed_error(impl.dir);
  STREAMCTL_ASSIGN_OR_RETURN(std::optional<Compression> codec, topic_codec(impl.config));
  if (codec) {
    auto st = recompress_batches(buffer, *codec, topic_codec_level(impl.config, *codec), impl.clock->now());
    if (!st.ok()) return Error{st.error().code, "appending to " + impl.dir + ": " + st.error().message};
  }
  std::vector<Impl::PreparedBatch> prepared;
  STREAMCTL_TRY(impl.prepare_batches(buffer, /*verify=*/true, prepared));
  Impl::LockScope lock(impl);
  STREAMCTL_TRY(lock.acquire());
  STREAMCTL_TRY(impl.catch_up_locked(/*writer=*/true));
  STREAMCTL_TRY(impl.ensure_active_writable());
  return impl.append_prepared(buffer, prepared, leader_epoch);
}

Result<AppendResult> Log::append_built(std::span<std::byte> batches, LeaderEpoch leader_epoch) {
  Impl& impl = *impl_;
  if (batches.empty()) return Error::invalid_argument("append to " + impl.dir + ": no record batches");
  std::unique_lock<std::mutex> guard(impl.mu);
  if (impl.closed) return closed_error(impl.dir);
  STREAMCTL_ASSIGN_OR_RETURN(std::optional<Compression> codec, topic_codec(impl.config));
  if (codec && *codec != Compression::kNone) {
    guard.unlock();
    return append_batches(batches, leader_epoch);
  }
  std::vector<Impl::PreparedBatch> prepared;
  STREAMCTL_TRY(impl.prepare_batches(batches, /*verify=*/false, prepared));
  Impl::LockScope lock(impl);
  STREAMCTL_TRY(lock.acquire());
  STREAMCTL_TRY(impl.catch_up_locked(/*writer=*/true));
  STREAMCTL_TRY(impl.ensure_active_writable());
  return impl.append_prepared(batches, prepared, leader_epoch);
}

Status Log::Impl::prepare_batches(ByteSpan buffer, bool verify, std::vector<PreparedBatch>& prepared) const {
  const size_t max_bytes = size_t(config.max_message_bytes);
  BatchIterator it(buffer, /*verify_crc=*/verify);
  while (it.next()) {
    const RecordBatchHeader& h = it.header();
    std::string where = "record batch at byte " + std::to_string(it.position()) + " of the request for " + dir;
    if (h.size_bytes() > max_bytes) {
      return Error::record_too_large(where + " is " + std::to_string(h.size_bytes()) +
                                     " bytes, larger than max.message.bytes (" + std::to_string(max_bytes) + ")");
    }
    if (h.record_count < 1 || h.last_offset_delta != h.record_count - 1) {
      return Error::invalid_argument(where + " has recordCount " + std::to_string(h.record_count) +
                                     " and lastOffsetDelta " + std::to_string(h.last_offset_delta) +
                                     " (a produced batch holds at least one record, with offset deltas 0..recordCount-1)");
    }
    // A batch whose records do not decode (say a gzip flag over random bytes with a valid CRC) would stop
    // every reader of the partition: refuse it, as Kafka's broker does (CORRUPT_MESSAGE).
    if (Status r = verify ? check_batch_records(it.batch()) : ok_status(); !r.ok()) {
      return Error{r.error().code == ErrorCode::kRecordTooLarge ? ErrorCode::kRecordTooLarge : ErrorCode::kCorruption,
                   where + ": " + r.error().message};
    }
    PreparedBatch p;
    p.position = it.position();
    p.info.size = uint32_t(h.size_bytes());
    p.info.max_timestamp = h.max_timestamp;
    p.last_offset_delta = h.last_offset_delta;
    p.record_count = h.record_count;
    prepared.push_back(p);
  }
  if (!it.status().ok()) {
    return Error{it.status().error().code, "appending to " + dir + ": " + it.status().error().message};
  }
  if (it.truncated_tail()) {
    return Error::corruption("appending to " + dir + ": the record batches end with a partial batch at byte " +
                             std::to_string(it.valid_bytes()) + " of " + std::to_string(buffer.size()));
  }
  return ok_status();
}

Result<ReadResult> Log::read(Offset from, size_t max_bytes, bool min_one_batch) {
  Offset hw = high_watermark();
  return read_up_to(from, max_bytes, hw, min_one_batch);
}

Result<ReadResult> Log::read_up_to(Offset from, size_t max_bytes, Offset max_offset, bool min_one_batch) {
  ReadResult result;
  STREAMCTL_TRY(read_into(from, max_bytes, max_offset, min_one_batch, result));
  return result;
}

bool Log::Impl::stamp_moved() {
  std::optional<PartitionStamp> stamp = read_stamp();
  return !stamp || stamp->generation != generation;
}

Status Log::read_into(Offset from, size_t max_bytes, Offset max_offset, bool min_one_batch, ReadResult& out) {
  std::lock_guard<std::mutex> guard(impl_->mu);
  return impl_->read_into_locked(from, max_bytes, max_offset, min_one_batch, out);
}

Status Log::read_slices(Offset from, size_t max_bytes, Offset max_offset, bool min_one_batch, ReadResult& out) {
  std::lock_guard<std::mutex> guard(impl_->mu);
  if (impl_->read_slices_locked(from, max_bytes, max_offset, min_one_batch, out)) return ok_status();
  return impl_->read_into_locked(from, max_bytes, max_offset, min_one_batch, out);
}

bool Log::Impl::read_slices_locked(Offset from, size_t max_bytes, Offset max_offset, bool min_one_batch,
                                   ReadResult& out) {
  out.records.clear();
  out.slices.clear();
  // Slices only for bytes whose CRC this process checked (Segment::slice) and that no other process has
  // rewritten: a moved stamp generation sends the read through read_into_locked, which checks every CRC. The
  // bytes are read later (sendfile), after this check: only a truncation in place by another writer could
  // change them in between, and the sender then finds the file short (FileSlice). Errors of any kind are
  // left to read_into_locked, so both paths report them alike.
  if (closed || !fs->is_posix()) return false;
  if (options.cross_process_lock && stamp_moved()) return false;
  const Offset end = log_end_offset();
  if (from < log_start || from > end) return false;
  out.next_offset = from;
  out.log_start_offset = log_start;
  out.high_watermark = high_watermark_locked();
  out.log_end_offset = end;
  const Offset limit = std::min(max_offset, end);
  if (from >= limit) return true;
  auto it = segments.upper_bound(from.value);
  if (it != segments.begin()) --it;
  size_t used = 0;
  for (; it != segments.end(); ++it) {
    Segment* seg = it->second.get();
    if (!ensure_loaded(seg).ok()) break;
    Offset next = out.next_offset;
    auto r = seg->slice(from, max_bytes, limit, min_one_batch, &used, &next, &out.slices);
    if (!r.ok() || *r == Segment::SliceOutcome::kNeedsCopy) break;
    out.next_offset = next;
    if (*r == Segment::SliceOutcome::kStopped) return true;
    if (seg != active() && !seg->invalid_tail().empty()) {
      // A closed segment whose valid data ends early: read_into_locked reports the corruption.
      if (used == 0) break;
      return true;
    }
    if (used >= max_bytes) return true;
  }
  if (it == segments.end()) return true;
  out.slices.clear();
  return false;
}

Status Log::Impl::read_into_locked(Offset from, size_t max_bytes, Offset max_offset, bool min_one_batch,
                                   ReadResult& out) {
  Impl& impl = *this;
  out.slices.clear();
  // out.records is the segments' read buffer: [0, used) holds the batches read so far, the rest is scratch
  // left from earlier calls (overwritten, not zeroed). It is cut to `used` on every return.
  size_t used = 0;
  struct Trim {
    ScratchBytes& records;
    size_t& used;
    ~Trim() { records.resize(used); }
  } trim{out.records, used};
  if (impl.closed) return closed_error(impl.dir);
  // Why a read may skip the CRC of batches below a segment's verified_size(): those bytes were CRC-checked
  // by this process already (or built by it), and the page cache does not flip bits; re-checking them on every
  // read would make the CRC, not the copy, the cost of a read (Kafka brokers do not check CRCs on fetch at
  // all; consumers do). "Readers never see a torn batch" still holds because the only way the bytes below
  // verified_size() can change under us is another process truncating the segment in place and appending
  // again, and that process bumps the stamp's generation before its first new byte is written. So after a
  // read that skipped a CRC, the stamp is read again: same generation -> nothing was rewritten before or
  // during our preads; a different (or unreadable) one -> read again with every CRC checked. The stamp is
  // also read first: when its generation already differs from ours (another process changed the log's shape
  // and this Log has not refreshed), every CRC is checked from the start. Bytes beyond verified_size()
  // (others' appends, the trusted prefix before a recovery checkpoint) are always CRC-checked, and each check
  // extends verified_size(). Without cross_process_lock the Log is the only writer: nothing to check.
  bool check_every_crc = impl.options.cross_process_lock && impl.stamp_moved();
  for (int attempt = 0;; ++attempt) {
    used = 0;
    const Offset end = impl.log_end_offset();
    if (from < impl.log_start || from > end) {
      return Error::offset_out_of_range(offset_range_message(impl.dir, from, impl.log_start, end));
    }
    out.next_offset = from;
    out.log_start_offset = impl.log_start;
    out.high_watermark = impl.high_watermark_locked();
    out.log_end_offset = end;
    const Offset limit = std::min(max_offset, end);
    if (from >= limit) return ok_status();
    auto it = impl.segments.upper_bound(from.value);
    if (it != impl.segments.begin()) --it;
    Status failure;
    bool crc_skipped = false;
    for (; it != impl.segments.end(); ++it) {
      Segment* seg = it->second.get();
      failure = impl.ensure_loaded(seg);
      if (!failure.ok()) break;
      Offset next = out.next_offset;
      auto stopped = seg->read_into(from, max_bytes, limit, min_one_batch, check_every_crc ? nullptr : &crc_skipped,
                                    &out.records, &used, &next);
      if (!stopped.ok()) {
        failure = std::move(stopped).error();
        break;
      }
      out.next_offset = next;
      if (*stopped) break;
      if (seg != impl.active() && !seg->invalid_tail().empty()) {
        // A closed segment whose valid data ends early: corruption, not a batch still being written.
        if (used == 0) {
          failure = Error::corruption(seg->invalid_tail());
          break;
        }
        break;
      }
      if (used >= max_bytes) break;
    }
    if (crc_skipped && impl.options.cross_process_lock && impl.stamp_moved()) {
      check_every_crc = true;
      --attempt;  // not a catch-up retry: the same read again, every CRC checked
      continue;
    }
    if (failure.ok()) return ok_status();
    // A segment removed by another process (retention, truncation): catch up once and retry.
    if (failure.error().code == ErrorCode::kNotFound && attempt == 0) {
      STREAMCTL_TRY(impl.catch_up_locked(/*writer=*/false));
      continue;
    }
    used = 0;
    return std::move(failure).error();
  }
}

Result<Offset> Log::offset_for_timestamp(Timestamp ts) {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> guard(impl.mu);
  if (impl.closed) return closed_error(impl.dir);
  auto it = impl.segments.upper_bound(impl.log_start.value);
  if (it != impl.segments.begin()) --it;
  for (; it != impl.segments.end(); ++it) {
    Segment* seg = it->second.get();
    STREAMCTL_TRY(impl.ensure_loaded(seg));
    if (seg->empty() || seg->max_timestamp() < ts) continue;
    Offset hint;
    uint64_t position = seg->position_for_timestamp(ts, &hint);
    const Offset start = std::max(hint, impl.log_start);
    std::optional<Offset> found;
    STREAMCTL_TRY(seg->for_each_batch(position, [&](const RecordBatchHeader& h, uint64_t, ByteSpan bytes) -> Result<bool> {
      if (h.last_offset() < start || h.max_timestamp < ts) return true;
      STREAMCTL_ASSIGN_OR_RETURN(std::vector<Record> records, decode_records(bytes));
      for (const Record& r : records) {
        if (r.offset >= start && r.timestamp >= ts) {
          found = r.offset;
          return false;
        }
      }
      return true;
    }));
    if (found) return *found;
  }
  return impl.log_end_offset();
}

Offset Log::log_start_offset() const {
  std::lock_guard<std::mutex> guard(impl_->mu);
  return impl_->log_start;
}

Offset Log::log_end_offset() const {
  std::lock_guard<std::mutex> guard(impl_->mu);
  return impl_->log_end_offset();
}

Offset Log::high_watermark() const {
  std::lock_guard<std::mutex> guard(impl_->mu);
  return impl_->high_watermark_locked();
}

void Log::set_high_watermark(Offset hw) {
  std::lock_guard<std::mutex> guard(impl_->mu);
  impl_->high_watermark = std::clamp(hw, impl_->log_start, impl_->log_end_offset());
  impl_->high_watermark_set = true;
}

LeaderEpoch Log::latest_epoch() const {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> guard(impl.mu);
  for (auto it = impl.segments.rbegin(); it != impl.segments.rend(); ++it) {
    Segment* seg = it->second.get();
    if (!impl.ensure_loaded(seg).ok()) return kNoLeaderEpoch;
    if (!seg->empty()) return seg->last_epoch();
  }
  return kNoLeaderEpoch;
}

Status Log::flush() {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> guard(impl.mu);
  if (impl.closed) return closed_error(impl.dir);
  if (!impl.needs_flush) return ok_status();
  Impl::LockScope lock(impl);
  STREAMCTL_TRY(lock.acquire());
  STREAMCTL_TRY(impl.catch_up_locked(/*writer=*/true));
  return impl.flush_locked();
}

Status Log::refresh() {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> guard(impl.mu);
  if (impl.closed) return closed_error(impl.dir);
  return impl.catch_up_locked(/*writer=*/false);
}

Status Log::close() {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> guard(impl.mu);
  if (impl.closed) return ok_status();
  Status result;
  if (impl.needs_flush) {
    Impl::LockScope lock(impl);
    result = lock.acquire();
    if (result.ok()) result = impl.catch_up_locked(/*writer=*/true);
    if (result.ok()) result = impl.flush_locked();
  }
  for (auto& [base, seg] : impl.segments) seg->release_files();
  impl.last_use.clear();
  impl.stamp_reader.reset();
  impl.closed = true;
  return result;
}

std::vector<SegmentInfo> Log::segments() const {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> guard(impl.mu);
  std::vector<SegmentInfo> out;
  for (auto& [base, seg] : impl.segments) {
    SegmentInfo info;
    info.base_offset = seg->base_offset();
    info.path = seg->log_path();
    if (impl.ensure_loaded(seg.get()).ok()) {
      info.next_offset = seg->next_offset();
      info.size_bytes = seg->size();
      info.max_timestamp = seg->max_timestamp();
    } else {
      info.next_offset = seg->base_offset();
      info.max_timestamp = kNoTimestamp;
    }
    out.push_back(info);
  }
  return out;
}

uint64_t Log::size_bytes() const {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> guard(impl.mu);
  uint64_t total = 0;
  for (auto& [base, seg] : impl.segments) {
    auto size = impl.segment_size(seg.get());
    if (size.ok()) total += *size;
  }
  return total;
}

const RecoveryReport& Log::recovery_report() const { return impl_->report; }

const LogConfig& Log::config() const { return impl_->config; }

void Log::update_config(const LogConfig& config) {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> guard(impl.mu);
  impl.config = config;
  Segment::Options options = impl.segment_options();
  for (auto& [base, seg] : impl.segments) seg->set_options(options);
}

const std::string& Log::dir() const { return impl_->dir; }

}  // namespace streamctl::engine
