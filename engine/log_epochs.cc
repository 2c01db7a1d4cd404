// Log: the leader-epoch cache beside the partition (Kafka's leader-epoch-checkpoint), and
// truncate_fully_and_start_at. The file format is in engine/leader_epoch_checkpoint.h.
//
// Crash safety without trusting the file: the file is rewritten (atomically) before the recovery checkpoint
// moves past a new epoch (flush) and after every truncation, but any crash can still leave it behind or ahead
// of the log (an epoch appended and lost, a truncation whose rewrite did not happen). open() therefore keeps
// only the file's entries below the durable mark (what the recovery checkpoint says was fsynced), learns the
// rest from the batches after it, and then checks every entry against the log: the batch at its start offset
// carries its epoch, the batch before it an older one (<= the previous entry's epoch; negative before the
// first entry), and the last batch of the log carries no newer epoch than the last entry. That costs two batch
// lookups per epoch. Any disagreement (or a missing or garbled file) rebuilds the cache from every batch of
// the log; the result is written back. The checks prove the file exact for logs whose epochs never decrease
// (Raft logs); a log mixing epochs arbitrarily is checked against Kafka's assign rule (an epoch counts from
// the first batch newer than every epoch before it) at those points only.
#include <algorithm>

#include "engine/log.h"
#include "engine/log_impl.h"

namespace streamctl::engine {
namespace {

Error closed_error(const std::string& dir) { return Error{ErrorCode::kUnavailable, "log " + dir + " is closed"}; }

// Bytes read per point lookup (an index interval and a batch or two, not a 1 MiB scan chunk).
constexpr size_t kLookupChunk = 16 * 1024;

}  // namespace

void Log::Impl::learn_epoch_locked(LeaderEpoch epoch, Offset base) {
  if (epochs.assign(epoch, base)) epochs_dirty = true;
}

Status Log::Impl::write_epochs_locked() {
  if (!epochs_dirty) return ok_status();
  STREAMCTL_TRY(write_leader_epoch_checkpoint(*fs, epochs_path, epochs.entries()));
  epochs_dirty = false;
  return ok_status();
}

Status Log::Impl::trim_epochs_locked(bool durable) {
  bool changed = epochs.truncate_from_end(log_end_offset());
  changed = epochs.truncate_from_start(log_start) || changed;
  if (log_start >= log_end_offset()) changed = epochs.clear() || changed;
  if (changed) epochs_dirty = true;
  return durable ? write_epochs_locked() : ok_status();
}

Result<std::optional<std::pair<Offset, LeaderEpoch>>> Log::Impl::batch_at_locked(Offset offset) {
  using Found = std::optional<std::pair<Offset, LeaderEpoch>>;
  auto it = segments.upper_bound(offset.value);
  if (it == segments.begin()) return Found();
  --it;
  Segment* seg = it->second.get();
  STREAMCTL_TRY(ensure_loaded(seg));
  if (offset >= seg->next_offset()) return Found();
  Found found;
  STREAMCTL_TRY(seg->for_each_batch(seg->offset_index().lookup(offset).position,
                                    [&](const RecordBatchHeader& h, uint64_t, ByteSpan) -> Result<bool> {
                                      if (h.last_offset() < offset) return true;
                                      if (h.base_offset <= offset) found = std::make_pair(h.base_offset, h.leader_epoch);
                                      return false;
                                    },
                                    kLookupChunk));
  return found;
}

Result<std::optional<LeaderEpoch>> Log::Impl::epoch_before_locked(Offset limit) {
  auto it = segments.upper_bound((limit - 1).value);
  if (it == segments.begin()) return std::optional<LeaderEpoch>();
  --it;
  for (;;) {
    Segment* seg = it->second.get();
    STREAMCTL_TRY(ensure_loaded(seg));
    if (!seg->empty()) {
      if (seg->next_offset() <= limit) return std::optional<LeaderEpoch>(seg->last_epoch());
      // `limit` is a batch boundary (callers check that first), so the indexed batch at or below limit - 1 ends
      // before it.
      std::optional<LeaderEpoch> found;
      STREAMCTL_TRY(seg->for_each_batch(seg->offset_index().lookup(limit - 1).position,
                                        [&](const RecordBatchHeader& h, uint64_t, ByteSpan) -> Result<bool> {
                                          if (h.last_offset() >= limit) return false;
                                          found = h.leader_epoch;
                                          return true;
                                        },
                                        kLookupChunk));
      if (found) return found;
    }
    if (it == segments.begin()) return std::optional<LeaderEpoch>();
    --it;
  }
}

Status Log::Impl::scan_epochs_locked(Offset from, LeaderEpochCache& cache) {
  if (from >= log_end_offset()) return ok_status();
  auto it = segments.upper_bound(from.value);
  if (it != segments.begin()) --it;
  bool first = true;
  for (; it != segments.end(); ++it) {
    Segment* seg = it->second.get();
    STREAMCTL_TRY(ensure_loaded(seg));
    uint64_t position = first ? seg->offset_index().lookup(from).position : 0;
    first = false;
    STREAMCTL_TRY(seg->for_each_batch(position, [&](const RecordBatchHeader& h, uint64_t, ByteSpan) -> Result<bool> {
      if (h.last_offset() >= from) cache.assign(h.leader_epoch, h.base_offset);
      return true;
    }));
  }
  return ok_status();
}

Result<bool> Log::Impl::epochs_match_log_locked(const std::vector<EpochEntry>& entries) {
  const Offset end = log_end_offset();
  for (size_t i = 0; i < entries.size(); ++i) {
    const EpochEntry& e = entries[i];
    if (e.start_offset < log_start || e.start_offset >= end) return false;
    // The batch at the entry's start offset starts there (the first entry may start mid-batch at the log
    // start) and carries its epoch.
    STREAMCTL_ASSIGN_OR_RETURN(auto at, batch_at_locked(e.start_offset));
    if (!at || at->second != e.epoch || (at->first != e.start_offset && e.start_offset != log_start)) return false;
    if (e.start_offset > log_start) {
      // Before it: no epoch at all (first entry), or none newer than the previous entry's.
      STREAMCTL_ASSIGN_OR_RETURN(std::optional<LeaderEpoch> before, epoch_before_locked(e.start_offset));
      if (i == 0 ? (before && *before >= 0) : (!before || *before > entries[i - 1].epoch)) return false;
    }
  }
  if (end > log_start) {
    // The last batch carries no epoch newer than the last entry's (none at all when there is no entry).
    STREAMCTL_ASSIGN_OR_RETURN(std::optional<LeaderEpoch> last, epoch_before_locked(end));
    if (entries.empty() ? (last && *last >= 0) : (!last || *last > entries.back().epoch)) return false;
  }
  return true;
}

Status Log::Impl::load_epochs_locked(bool writer) {
  const Offset end = log_end_offset();
  // Entries below the durable mark were written before it moved; the batches after it are scanned anyway.
  Offset trusted_end = log_start;
  if (durable_mark) trusted_end = std::clamp(durable_mark->next_offset, log_start, end);
  auto clip = [&](LeaderEpochCache& cache) {
    cache.truncate_from_end(end);
    cache.truncate_from_start(log_start);
    if (log_start >= end) cache.clear();
  };

  std::string problem;
  std::optional<std::vector<EpochEntry>> from_file;
  auto read = read_leader_epoch_checkpoint(*fs, epochs_path);
  if (!read.ok()) {
    if (read.error().code != ErrorCode::kCorruption) return std::move(read).error();
    problem = read.error().message;
  } else {
    from_file = std::move(read).value();
  }

  LeaderEpochCache cache;
  bool verified = false;
  if (from_file) {
    cache.set_entries(*from_file);
    cache.truncate_from_end(trusted_end);
    STREAMCTL_TRY(scan_epochs_locked(trusted_end, cache));
    clip(cache);
    auto match = epochs_match_log_locked(cache.entries());
    if (!match.ok() && match.error().code != ErrorCode::kCorruption) return std::move(match).error();
    verified = match.ok() && *match;
    if (!verified) problem = epochs_path + " disagrees with the log";
  } else if (problem.empty() && end > log_start) {
    // No file (a log written before epochs were tracked): a log whose first and last batches carry no epoch
    // holds none (two lookups instead of a scan).
    STREAMCTL_ASSIGN_OR_RETURN(auto first, batch_at_locked(log_start));
    STREAMCTL_ASSIGN_OR_RETURN(std::optional<LeaderEpoch> last, epoch_before_locked(end));
    verified = first && last && first->second < 0 && *last < 0;
  } else if (problem.empty()) {
    verified = true;  // an empty log and no file: nothing to know
  }
  if (!verified) {
    cache = LeaderEpochCache();
    Status scanned = scan_epochs_locked(log_start, cache);
    if (!scanned.ok()) {
      // A corrupt batch in the middle of the log: keep the epochs before it and say so (reads report it too).
      if (scanned.error().code != ErrorCode::kCorruption) return scanned;
      problem += (problem.empty() ? "" : "; ") + std::string("rebuilding stopped at ") + scanned.error().message;
    }
    clip(cache);
    if (!problem.empty()) {
      if (!report.detail.empty()) report.detail += "\n";
      report.detail += "rebuilt the leader epochs from the log (" + std::to_string(cache.entries().size()) +
                       " epochs): " + problem;
    }
  }
  epochs = std::move(cache);
  epochs_dirty = !from_file || epochs.entries() != *from_file;
  return writer ? write_epochs_locked() : ok_status();
}

Status Log::Impl::truncate_fully_locked(Offset offset) {
  if (offset < Offset(segments.begin()->first)) {
    // Below every segment: truncate_to_locked creates the new first segment and removes the others.
    return truncate_to_locked(offset);
  }
  // 1. Empty the log down to its first segment (later segments go last first: every crash leaves a prefix).
  while (segments.size() > 1) STREAMCTL_TRY(delete_segment_locked(segments.rbegin()->first));
  STREAMCTL_TRY(ensure_active_writable());
  Segment* first = active();
  const Offset base = first->base_offset();
  STREAMCTL_TRY(first->truncate_to(base));
  STREAMCTL_TRY(first->sync());
  last_use.erase(base.value);
  // 2. An empty segment at `offset` (durable entry), then the new log start, then the old segment goes.
  if (offset > base) {
    auto seg = new_segment(offset);
    STREAMCTL_TRY(seg->create());
    segments[offset.value] = std::move(seg);
    STREAMCTL_TRY(fs->sync_dir(dir));
  }
  log_start = offset;
  STREAMCTL_TRY(write_log_start_offset());
  if (offset > base) STREAMCTL_TRY(delete_segment_locked(base.value));
  active_created_ms.reset();
  Segment* a = active();
  STREAMCTL_TRY(write_checkpoint(RecoveryCheckpoint{a->base_offset(), a->size(), a->next_offset(),
                                                    uint32_t(a->offset_index().entries()),
                                                    uint32_t(a->time_index().entries())}));
  STREAMCTL_TRY(trim_epochs_locked(/*durable=*/true));
  if (high_watermark_set) high_watermark = log_start;
  ++generation;
  return write_stamp();
}

// ---- Log

Status Log::truncate_fully_and_start_at(Offset offset) {
  Impl& impl = *impl_;
  if (offset.value < 0) {
    return Error::invalid_argument("truncate_fully_and_start_at(" + std::to_string(offset.value) + ") on " +
                                   impl.dir + ": offsets are >= 0");
  }
  std::lock_guard<std::mutex> guard(impl.mu);
  if (impl.closed) return closed_error(impl.dir);
  Impl::LockScope lock(impl);
  STREAMCTL_TRY(lock.acquire());
  STREAMCTL_TRY(impl.catch_up_locked(/*writer=*/true));
  return impl.truncate_fully_locked(offset);
}

EpochEndOffset Log::end_offset_for_epoch(LeaderEpoch epoch) const {
  std::lock_guard<std::mutex> guard(impl_->mu);
  return impl_->epochs.end_offset_for(epoch, impl_->log_end_offset());
}

std::vector<EpochEntry> Log::leader_epochs() const {
  std::lock_guard<std::mutex> guard(impl_->mu);
  return impl_->epochs.entries();
}

}  // namespace streamctl::engine
