#include "engine/time_index.h"

#include <algorithm>
#include <limits>

namespace streamctl::engine {

TimeIndex::TimeIndex(FileSystem* fs, std::string path, Offset base_offset, size_t max_entries)
    : file_(fs, std::move(path), kEntrySize), base_offset_(base_offset), max_entries_(max_entries) {}

void TimeIndex::decode_into(ByteSpan bytes, std::vector<Entry>* out) const {
  size_t n = bytes.size() / kEntrySize;
  out->reserve(out->size() + n);
  for (size_t i = 0; i < n; ++i) {
    const std::byte* p = bytes.data() + i * kEntrySize;
    out->push_back(Entry{int64_t(get_be64(p)), get_be32(p + 8)});
  }
}

Result<bool> TimeIndex::load() {
  bool existed = false;
  STREAMCTL_ASSIGN_OR_RETURN(Bytes bytes, file_.read_all(&existed));
  entries_.clear();
  decode_into(bytes, &entries_);
  file_entries_ = entries_.size();
  return existed;
}

Status TimeIndex::load_more(size_t total, Offset next_offset) {
  STREAMCTL_CHECK(!has_unwritten(), "load_more on %s with unwritten entries", path().c_str());
  if (total <= entries_.size()) return ok_status();
  STREAMCTL_ASSIGN_OR_RETURN(Bytes bytes, file_.read_entries(entries_.size(), total - entries_.size()));
  std::vector<Entry> more;
  decode_into(bytes, &more);
  if (more.size() != total - entries_.size()) {
    return Error::corruption(path() + ": expected " + std::to_string(total) + " entries, the file holds " +
                             std::to_string(entries_.size() + more.size()));
  }
  bool have_prev = !entries_.empty();
  Entry prev = have_prev ? entries_.back() : Entry{0, 0};
  for (size_t i = 0; i < more.size(); ++i) {
    const Entry& e = more[i];
    if ((have_prev && (e.timestamp <= prev.timestamp || e.relative_offset < prev.relative_offset)) ||
        base_offset_ + int64_t(e.relative_offset) >= next_offset) {
      return Error::corruption(path() + ": entry " + std::to_string(entries_.size() + i) + " (timestamp " +
                               std::to_string(e.timestamp) + ", relative offset " +
                               std::to_string(e.relative_offset) + ") does not follow the previous entries");
    }
    prev = e;
    have_prev = true;
  }
  entries_.insert(entries_.end(), more.begin(), more.end());
  file_entries_ = entries_.size();
  file_.forget_length();
  return ok_status();
}

Status TimeIndex::sanity_check(Offset next_offset) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    auto bad = [&](const std::string& what) {
      return Error::corruption(path() + ": entry " + std::to_string(i) + " at byte " +
                               std::to_string(i * kEntrySize) + " (timestamp " + std::to_string(e.timestamp) +
                               ", relative offset " + std::to_string(e.relative_offset) + "): " + what);
    };
    if (e.relative_offset > uint32_t(std::numeric_limits<int32_t>::max())) return bad("relative offset overflows");
    if (base_offset_ + int64_t(e.relative_offset) >= next_offset) {
      return bad("offset is not below the segment's next offset " + std::to_string(next_offset.value));
    }
    if (e.timestamp < 0) return bad("negative timestamp");
    if (i > 0) {
      const Entry& p = entries_[i - 1];
      if (e.timestamp <= p.timestamp) return bad("timestamp does not increase");
      if (e.relative_offset < p.relative_offset) return bad("offset goes backwards");
    }
  }
  return ok_status();
}

Offset TimeIndex::lookup(Timestamp target) const {
  // First entry with timestamp >= target; the one before it (if any) is older than target.
  auto it = std::lower_bound(entries_.begin(), entries_.end(), target.value,
                             [](const Entry& e, int64_t t) { return e.timestamp < t; });
  if (it == entries_.begin()) return base_offset_;
  --it;
  return base_offset_ + int64_t(it->relative_offset) + 1;
}

std::optional<TimestampOffset> TimeIndex::last_entry() const {
  if (entries_.empty()) return std::nullopt;
  return entry(entries_.size() - 1);
}

TimestampOffset TimeIndex::entry(size_t i) const {
  return {Timestamp(entries_[i].timestamp), base_offset_ + int64_t(entries_[i].relative_offset)};
}

bool TimeIndex::maybe_append(Timestamp timestamp, Offset offset) {
  int64_t rel = offset - base_offset_;
  if (timestamp.value < 0 || rel < 0 || rel > std::numeric_limits<int32_t>::max()) return false;
  if (!entries_.empty() &&
      (timestamp.value <= entries_.back().timestamp || uint32_t(rel) < entries_.back().relative_offset)) {
    return false;
  }
  entries_.push_back(Entry{timestamp.value, uint32_t(rel)});
  return true;
}

Status TimeIndex::write() {
  size_t n = entries_.size();
  Bytes tail((n - file_entries_) * kEntrySize);
  for (size_t i = file_entries_; i < n; ++i) {
    std::byte* p = tail.data() + (i - file_entries_) * kEntrySize;
    put_be64(p, uint64_t(entries_[i].timestamp));
    put_be32(p + 8, entries_[i].relative_offset);
  }
  STREAMCTL_TRY(file_.write(file_entries_, tail, n));
  file_entries_ = n;
  return ok_status();
}

void TimeIndex::truncate_to_offset(Offset offset) {
  int64_t rel = offset - base_offset_;
  size_t keep = 0;
  if (rel > 0) {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), rel,
                               [](const Entry& e, int64_t r) { return int64_t(e.relative_offset) < r; });
    keep = size_t(it - entries_.begin());
  }
  truncate_entries(keep);
}

void TimeIndex::truncate_entries(size_t n) {
  if (n < entries_.size()) entries_.resize(n);
  file_entries_ = std::min(file_entries_, entries_.size());
  file_.forget_length();
}

void TimeIndex::clear() { truncate_entries(0); }

Bytes TimeIndex::encode() const {
  Bytes out(entries_.size() * kEntrySize);
  for (size_t i = 0; i < entries_.size(); ++i) {
    put_be64(out.data() + i * kEntrySize, uint64_t(entries_[i].timestamp));
    put_be32(out.data() + i * kEntrySize + 8, entries_[i].relative_offset);
  }
  return out;
}

Status TimeIndex::rewrite() {
  Bytes all = encode();
  STREAMCTL_TRY(file_.rewrite(all));
  file_entries_ = entries_.size();
  return ok_status();
}

}  // namespace streamctl::engine
