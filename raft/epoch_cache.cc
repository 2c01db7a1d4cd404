#include <algorithm>

#include "raft/log.h"

namespace streamctl::raft {

void EpochCache::assign(Epoch epoch, Offset start) {
  if (entries_.empty() || epoch > entries_.back().first) entries_.emplace_back(epoch, start);
}

void EpochCache::truncate_from_end(Offset end) {
  while (!entries_.empty() && entries_.back().second >= end) entries_.pop_back();
}

void EpochCache::reset(Epoch epoch, Offset start) {
  entries_.clear();
  entries_.emplace_back(epoch, start);
}

void EpochCache::truncate_from_start(Offset start) {
  while (entries_.size() >= 2 && entries_[1].second <= start) entries_.erase(entries_.begin());
  if (!entries_.empty() && entries_[0].second < start) entries_[0].second = start;
}

OffsetAndEpoch EpochCache::end_offset_for(Epoch epoch, Offset log_end) const {
  // First entry with an epoch > `epoch`; the one before it is the largest epoch <= `epoch`.
  auto it = std::upper_bound(entries_.begin(), entries_.end(), epoch,
                             [](Epoch e, const std::pair<Epoch, Offset>& p) { return e < p.first; });
  if (it == entries_.begin()) return {};
  Offset end = it == entries_.end() ? log_end : it->second;
  return {end, std::prev(it)->first};
}

}  // namespace streamctl::raft
