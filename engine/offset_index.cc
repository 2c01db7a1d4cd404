#include "engine/offset_index.h"

#include <algorithm>
#include <limits>

namespace streamctl::engine {

// ---- IndexFile

IndexFile::IndexFile(FileSystem* fs, std::string path, size_t entry_size)
    : fs_(fs), path_(std::move(path)), entry_size_(entry_size) {}

void IndexFile::set_path(std::string path) {
  close();
  path_ = std::move(path);
  known_entries_ = kUnknown;
}

Result<Bytes> IndexFile::read_all(bool* existed) {
  auto file = fs_->open(path_, OpenMode::kRead);
  if (!file.ok()) {
    if (file.error().code == ErrorCode::kNotFound) {
      *existed = false;
      known_entries_ = 0;
      return Bytes{};
    }
    return std::move(file).error();
  }
  *existed = true;
  STREAMCTL_ASSIGN_OR_RETURN(uint64_t size, (*file)->size());
  Bytes out(size - size % entry_size_);
  STREAMCTL_ASSIGN_OR_RETURN(size_t n, (*file)->read_at(0, out));
  out.resize(n - n % entry_size_);
  // A trailing partial entry makes the length unknown, so the next write() cuts it off.
  known_entries_ = (n == size) ? n / entry_size_ : kUnknown;
  if (!writable_) file_ = std::move(file).value();
  return out;
}

Result<Bytes> IndexFile::read_entries(size_t first, size_t count) {
  if (!file_) {
    auto file = fs_->open(path_, OpenMode::kRead);
    if (!file.ok()) {
      if (file.error().code == ErrorCode::kNotFound) return Bytes{};
      return std::move(file).error();
    }
    file_ = std::move(file).value();
    writable_ = false;
  }
  Bytes out(count * entry_size_);
  STREAMCTL_ASSIGN_OR_RETURN(size_t n, file_->read_at(uint64_t(first) * entry_size_, out));
  out.resize(n - n % entry_size_);
  known_entries_ = kUnknown;
  return out;
}

Status IndexFile::open_for_write() {
  if (file_ && writable_) return ok_status();
  STREAMCTL_ASSIGN_OR_RETURN(file_, fs_->open(path_, OpenMode::kCreate));
  writable_ = true;
  return ok_status();
}

Status IndexFile::write(size_t keep, ByteSpan tail, size_t total) {
  STREAMCTL_TRY(open_for_write());
  if (!tail.empty()) STREAMCTL_TRY(file_->write_at(uint64_t(keep) * entry_size_, tail));
  if (known_entries_ == kUnknown || known_entries_ > total) {
    STREAMCTL_TRY(file_->truncate(uint64_t(total) * entry_size_));
  }
  known_entries_ = total;
  return ok_status();
}

Status IndexFile::rewrite(ByteSpan all) {
  close();
  STREAMCTL_TRY(write_file_atomically(*fs_, path_, all));
  known_entries_ = all.size() / entry_size_;
  return ok_status();
}

Status IndexFile::sync() {
  if (!file_) {
    // Written by another process (or never opened here): fsync through a read-only descriptor.
    auto file = fs_->open(path_, OpenMode::kRead);
    if (!file.ok()) {
      if (file.error().code == ErrorCode::kNotFound) return ok_status();
      return std::move(file).error();
    }
    file_ = std::move(file).value();
    writable_ = false;
  }
  return file_->sync();
}

void IndexFile::close() {
  if (file_) (void)file_->close();
  file_.reset();
  writable_ = false;
}

// ---- OffsetIndex

OffsetIndex::OffsetIndex(FileSystem* fs, std::string path, Offset base_offset, size_t max_entries)
    : file_(fs, std::move(path), kEntrySize), base_offset_(base_offset), max_entries_(max_entries) {}

Status OffsetIndex::decode_into(ByteSpan bytes, std::vector<Entry>* out) const {
  size_t n = bytes.size() / kEntrySize;
  out->reserve(out->size() + n);
  for (size_t i = 0; i < n; ++i) {
    const std::byte* p = bytes.data() + i * kEntrySize;
    out->push_back(Entry{get_be32(p), get_be32(p + 4)});
  }
  return ok_status();
}

Result<bool> OffsetIndex::load() {
  bool existed = false;
  STREAMCTL_ASSIGN_OR_RETURN(Bytes bytes, file_.read_all(&existed));
  entries_.clear();
  STREAMCTL_TRY(decode_into(bytes, &entries_));
  file_entries_ = entries_.size();
  return existed;
}

Status OffsetIndex::load_more(size_t total, uint64_t log_size) {
  STREAMCTL_CHECK(!has_unwritten(), "load_more on %s with unwritten entries", path().c_str());
  if (total <= entries_.size()) return ok_status();
  STREAMCTL_ASSIGN_OR_RETURN(Bytes bytes, file_.read_entries(entries_.size(), total - entries_.size()));
  std::vector<Entry> more;
  STREAMCTL_TRY(decode_into(bytes, &more));
  if (more.size() != total - entries_.size()) {
    return Error::corruption(path() + ": expected " + std::to_string(total) + " entries, the file holds " +
                             std::to_string(entries_.size() + more.size()));
  }
  Entry prev = entries_.empty() ? Entry{0, 0} : entries_.back();
  bool have_prev = !entries_.empty();
  for (size_t i = 0; i < more.size(); ++i) {
    const Entry& e = more[i];
    if ((have_prev && (e.relative_offset <= prev.relative_offset || e.position <= prev.position)) ||
        e.position >= log_size || e.relative_offset > uint32_t(std::numeric_limits<int32_t>::max())) {
      return Error::corruption(path() + ": entry " + std::to_string(entries_.size() + i) +
                               " (relative offset " + std::to_string(e.relative_offset) + ", position " +
                               std::to_string(e.position) + ") does not follow the previous entries");
    }
    prev = e;
    have_prev = true;
  }
  entries_.insert(entries_.end(), more.begin(), more.end());
  file_entries_ = entries_.size();
  file_.forget_length();
  return ok_status();
}

Status OffsetIndex::sanity_check(uint64_t log_size, Offset next_offset) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    auto bad = [&](const std::string& what) {
      return Error::corruption(path() + ": entry " + std::to_string(i) + " at byte " +
                               std::to_string(i * kEntrySize) + " (relative offset " +
                               std::to_string(e.relative_offset) + ", position " + std::to_string(e.position) +
                               "): " + what);
    };
    if (e.relative_offset > uint32_t(std::numeric_limits<int32_t>::max())) return bad("relative offset overflows");
    if (base_offset_ + int64_t(e.relative_offset) >= next_offset) {
      return bad("offset is not below the segment's next offset " + std::to_string(next_offset.value));
    }
    if (e.position >= log_size) return bad("position is past the log's " + std::to_string(log_size) + " bytes");
    if (i > 0) {
      const Entry& p = entries_[i - 1];
      if (e.relative_offset <= p.relative_offset) return bad("offset does not increase");
      if (e.position <= p.position) return bad("position does not increase");
    }
  }
  return ok_status();
}

OffsetPosition OffsetIndex::lookup(Offset target) const {
  int64_t rel = target - base_offset_;
  if (rel < 0 || entries_.empty() || int64_t(entries_.front().relative_offset) > rel) {
    return {base_offset_, 0};
  }
  uint32_t key = rel > int64_t(std::numeric_limits<uint32_t>::max()) ? std::numeric_limits<uint32_t>::max()
                                                                      : uint32_t(rel);
  // First entry with relative offset > key; the one before it is the answer.
  auto it = std::upper_bound(entries_.begin(), entries_.end(), key,
                             [](uint32_t k, const Entry& e) { return k < e.relative_offset; });
  --it;
  return {base_offset_ + int64_t(it->relative_offset), it->position};
}

std::optional<OffsetPosition> OffsetIndex::first_at_or_after(uint64_t position) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), position,
                             [](const Entry& e, uint64_t p) { return uint64_t(e.position) < p; });
  if (it == entries_.end()) return std::nullopt;
  return OffsetPosition{base_offset_ + int64_t(it->relative_offset), it->position};
}

std::optional<OffsetPosition> OffsetIndex::last_at_or_before(uint64_t position) const {
  auto it = std::upper_bound(entries_.begin(), entries_.end(), position,
                             [](uint64_t p, const Entry& e) { return p < uint64_t(e.position); });
  if (it == entries_.begin()) return std::nullopt;
  --it;
  return OffsetPosition{base_offset_ + int64_t(it->relative_offset), it->position};
}

std::optional<OffsetPosition> OffsetIndex::last_entry() const {
  if (entries_.empty()) return std::nullopt;
  return entry(entries_.size() - 1);
}

OffsetPosition OffsetIndex::entry(size_t i) const {
  return {base_offset_ + int64_t(entries_[i].relative_offset), entries_[i].position};
}

bool OffsetIndex::append(Offset last_offset, uint64_t position) {
  int64_t rel = last_offset - base_offset_;
  if (rel < 0 || rel > std::numeric_limits<int32_t>::max()) return false;
  if (position > std::numeric_limits<uint32_t>::max()) return false;
  if (!entries_.empty() &&
      (uint32_t(rel) <= entries_.back().relative_offset || uint32_t(position) <= entries_.back().position)) {
    return false;
  }
  entries_.push_back(Entry{uint32_t(rel), uint32_t(position)});
  return true;
}

Status OffsetIndex::write() {
  size_t n = entries_.size();
  Bytes tail((n - file_entries_) * kEntrySize);
  for (size_t i = file_entries_; i < n; ++i) {
    std::byte* p = tail.data() + (i - file_entries_) * kEntrySize;
    put_be32(p, entries_[i].relative_offset);
    put_be32(p + 4, entries_[i].position);
  }
  STREAMCTL_TRY(file_.write(file_entries_, tail, n));
  file_entries_ = n;
  return ok_status();
}

void OffsetIndex::truncate_to_position(uint64_t position) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), position,
                             [](const Entry& e, uint64_t p) { return uint64_t(e.position) < p; });
  truncate_entries(size_t(it - entries_.begin()));
}

void OffsetIndex::truncate_entries(size_t n) {
  if (n < entries_.size()) entries_.resize(n);
  file_entries_ = std::min(file_entries_, entries_.size());
  // The file may hold more than we now keep: the next write() cuts it to size.
  file_.forget_length();
}

void OffsetIndex::clear() { truncate_entries(0); }

Bytes OffsetIndex::encode() const {
  Bytes out(entries_.size() * kEntrySize);
  for (size_t i = 0; i < entries_.size(); ++i) {
    put_be32(out.data() + i * kEntrySize, entries_[i].relative_offset);
    put_be32(out.data() + i * kEntrySize + 4, entries_[i].position);
  }
  return out;
}

Status OffsetIndex::rewrite() {
  Bytes all = encode();
  STREAMCTL_TRY(file_.rewrite(all));
  file_entries_ = entries_.size();
  return ok_status();
}

}  // namespace streamctl::engine
