#include "raft/sim/memory_log.h"

#include <algorithm>
#include <cstdint>

namespace streamctl::raft::sim {

Epoch MemoryLog::last_epoch() const {
  if (all_.size() > first_live_) return all_.back().batch.epoch;
  return std::max<Epoch>(0, snapshot_.epoch);
}

Offset MemoryLog::append(Batch batch) {
  Offset base = end_;
  cache_.assign(batch.epoch, base);
  end_ += std::max<int32_t>(1, batch.record_count);
  all_.push_back(Entry{base, std::move(batch)});
  return base;
}

size_t MemoryLog::index_of(Offset offset) const {
  auto it = std::upper_bound(all_.begin(), all_.end(), offset,
                             [](Offset o, const Entry& e) { return o < e.base; });
  return it == all_.begin() ? 0 : static_cast<size_t>(it - all_.begin()) - 1;
}

void MemoryLog::truncate_to(Offset end) {
  if (end >= end_) return;
  end = std::max(end, start_);
  size_t i = first_live_;
  while (i < all_.size() && all_[i].base < end) i++;
  all_.resize(i);
  end_ = all_.size() > first_live_ ? all_.back().base + std::max<int32_t>(1, all_.back().batch.record_count) : start_;
  cache_.truncate_from_end(end_);
  if (cache_.entries().empty() && snapshot_.epoch >= 0) cache_.reset(snapshot_.epoch, start_);
  flushed_ = std::min(flushed_, end_);
  lowest_truncation_ = std::min(lowest_truncation_, end_);
}

Offset MemoryLog::read(Offset from, size_t max_batches, std::vector<Batch>* out) const {
  if (from >= end_ || all_.size() == first_live_) return end_;
  size_t i = std::max(index_of(from), first_live_);
  Offset base = all_[i].base;
  for (size_t n = 0; i < all_.size() && n < max_batches; ++i, ++n) out->push_back(all_[i].batch);
  return base;
}

std::string MemoryLog::read_snapshot(SnapshotId id) const {
  if (!(id == snapshot_) || snapshot_.epoch < 0) return {};
  // One line per batch: epoch control record_count size bytes.
  std::string out;
  for (size_t i = 0; i < first_live_; ++i) {
    const Batch& b = all_[i].batch;
    out += std::to_string(b.epoch) + ' ' + (b.control ? '1' : '0') + ' ' + std::to_string(b.record_count) + ' ' +
           std::to_string(b.bytes.size()) + ' ' + b.bytes + '\n';
  }
  return out;
}

bool MemoryLog::install_snapshot(SnapshotId id, std::string_view bytes) {
  std::deque<Entry> entries;
  Offset offset = 0;
  size_t pos = 0;
  auto number = [&](int64_t* v) {
    size_t sp = bytes.find(' ', pos);
    if (sp == std::string_view::npos || sp == pos) return false;
    int64_t x = 0;
    for (size_t k = pos; k < sp; ++k) {
      if (bytes[k] < '0' || bytes[k] > '9') return false;
      x = x * 10 + (bytes[k] - '0');
    }
    *v = x;
    pos = sp + 1;
    return true;
  };
  while (pos < bytes.size()) {
    int64_t epoch, control, count, size;
    if (!number(&epoch) || !number(&control) || !number(&count) || !number(&size)) return false;
    if (count < 1 || pos + static_cast<size_t>(size) + 1 > bytes.size() || bytes[pos + size] != '\n') return false;
    Batch b{static_cast<Epoch>(epoch), static_cast<int32_t>(count), control == 1,
            std::string(bytes.substr(pos, size))};
    pos += size + 1;
    entries.push_back(Entry{offset, std::move(b)});
    offset += count;
  }
  if (offset != id.offset || (!entries.empty() && entries.back().batch.epoch != id.epoch)) return false;
  lowest_truncation_ = std::min(lowest_truncation_, std::min(end_, Offset{0}));
  all_ = std::move(entries);
  first_live_ = all_.size();
  start_ = end_ = flushed_ = id.offset;
  snapshot_ = id;
  cache_.reset(id.epoch, id.offset);
  return true;
}

void MemoryLog::mark_flushed(Offset offset) { flushed_ = std::max(flushed_, std::min(offset, end_)); }

Offset MemoryLog::crash() {
  Offset lost = end_ - flushed_;
  truncate_to(flushed_);
  return lost;
}

void MemoryLog::truncate_fully_and_start_at(Offset offset) {
  lowest_truncation_ = std::min(lowest_truncation_, std::min(end_, offset));
  all_.clear();
  first_live_ = 0;
  start_ = end_ = flushed_ = offset;
  snapshot_ = {};
  cache_ = EpochCache();
}

void MemoryLog::compact(Offset offset, bool snapshot) {
  if (offset <= start_ || offset > end_) return;
  size_t i = first_live_;
  while (i < all_.size() && all_[i].base + std::max<int32_t>(1, all_[i].batch.record_count) <= offset) i++;
  if (i == first_live_) return;
  first_live_ = i;
  const Entry& last = all_[i - 1];
  start_ = last.base + std::max<int32_t>(1, last.batch.record_count);
  if (snapshot) snapshot_ = {start_, last.batch.epoch};
  cache_.truncate_from_start(start_);
  if (cache_.entries().empty() && snapshot) cache_.reset(snapshot_.epoch, start_);
  flushed_ = std::max(flushed_, start_);
}

const Batch* MemoryLog::batch_at(Offset offset) const {
  if (offset < 0 || offset >= end_ || all_.empty() || offset < all_.front().base) return nullptr;
  return &all_[index_of(offset)].batch;
}

Offset MemoryLog::take_lowest_truncation() {
  Offset t = lowest_truncation_;
  lowest_truncation_ = INT64_MAX;
  return t;
}

}  // namespace streamctl::raft::sim
