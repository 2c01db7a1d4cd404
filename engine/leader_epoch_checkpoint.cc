#include "engine/leader_epoch_checkpoint.h"

#include <algorithm>
#include <charconv>

namespace streamctl::engine {

bool LeaderEpochCache::assign(LeaderEpoch epoch, Offset start) {
  if (epoch < 0 || start.value < 0) return false;
  if (!entries_.empty() && (epoch <= entries_.back().epoch || start < entries_.back().start_offset)) return false;
  entries_.push_back(EpochEntry{epoch, start});
  return true;
}

bool LeaderEpochCache::truncate_from_end(Offset end) {
  size_t before = entries_.size();
  while (!entries_.empty() && entries_.back().start_offset >= end) entries_.pop_back();
  return entries_.size() != before;
}

bool LeaderEpochCache::truncate_from_start(Offset start) {
  bool changed = false;
  while (entries_.size() >= 2 && entries_[1].start_offset <= start) {
    entries_.erase(entries_.begin());
    changed = true;
  }
  if (!entries_.empty() && entries_[0].start_offset < start) {
    entries_[0].start_offset = start;
    changed = true;
  }
  return changed;
}

bool LeaderEpochCache::clear() {
  bool changed = !entries_.empty();
  entries_.clear();
  return changed;
}

EpochEndOffset LeaderEpochCache::end_offset_for(LeaderEpoch epoch, Offset log_end) const {
  // The first entry with an epoch > `epoch`; the one before it is the largest epoch <= `epoch`.
  auto it = std::upper_bound(entries_.begin(), entries_.end(), epoch,
                             [](LeaderEpoch e, const EpochEntry& entry) { return e < entry.epoch; });
  if (it == entries_.begin()) return {};
  return EpochEndOffset{std::prev(it)->epoch, it == entries_.end() ? log_end : it->start_offset};
}

std::string encode_leader_epoch_checkpoint(const std::vector<EpochEntry>& entries) {
  std::string out = "0\n" + std::to_string(entries.size()) + "\n";
  for (const EpochEntry& e : entries) {
    out += std::to_string(e.epoch);
    out += ' ';
    out += std::to_string(e.start_offset.value);
    out += '\n';
  }
  return out;
}

namespace {

// The next '\n'-terminated line of `text` from *pos (without the newline); nullopt when none is left.
std::optional<std::string_view> next_line(std::string_view text, size_t* pos) {
  if (*pos >= text.size()) return std::nullopt;
  size_t nl = text.find('\n', *pos);
  if (nl == std::string_view::npos) return std::nullopt;  // a line without its newline: torn
  std::string_view line = text.substr(*pos, nl - *pos);
  *pos = nl + 1;
  return line;
}

template <typename T>
bool parse_int(std::string_view s, T* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Result<std::vector<EpochEntry>> decode_leader_epoch_checkpoint(std::string_view text) {
  size_t pos = 0;
  auto version = next_line(text, &pos);
  int32_t v = -1;
  if (!version || !parse_int(*version, &v) || v != 0) {
    return Error::corruption("leader-epoch-checkpoint: expected version line \"0\"");
  }
  auto count_line = next_line(text, &pos);
  int64_t count = -1;
  if (!count_line || !parse_int(*count_line, &count) || count < 0) {
    return Error::corruption("leader-epoch-checkpoint: bad entry count line");
  }
  std::vector<EpochEntry> entries;
  for (int64_t i = 0; i < count; ++i) {
    auto line = next_line(text, &pos);
    if (!line) {
      return Error::corruption("leader-epoch-checkpoint: " + std::to_string(count) + " entries announced, " +
                               std::to_string(i) + " found");
    }
    size_t space = line->find(' ');
    EpochEntry e;
    int64_t start = -1;
    if (space == std::string_view::npos || !parse_int(line->substr(0, space), &e.epoch) ||
        !parse_int(line->substr(space + 1), &start) || e.epoch < 0 || start < 0) {
      return Error::corruption("leader-epoch-checkpoint: line " + std::to_string(i + 3) + " is not \"<epoch> <offset>\"");
    }
    e.start_offset = Offset(start);
    if (!entries.empty() && (e.epoch <= entries.back().epoch || e.start_offset < entries.back().start_offset)) {
      return Error::corruption("leader-epoch-checkpoint: line " + std::to_string(i + 3) +
                               " does not ascend (epoch and start offset)");
    }
    entries.push_back(e);
  }
  if (pos != text.size()) return Error::corruption("leader-epoch-checkpoint: bytes after the last entry");
  return entries;
}

Status write_leader_epoch_checkpoint(FileSystem& fs, const std::string& path, const std::vector<EpochEntry>& entries) {
  std::string text = encode_leader_epoch_checkpoint(entries);
  return write_file_atomically(fs, path, as_byte_span(text));
}

Result<std::optional<std::vector<EpochEntry>>> read_leader_epoch_checkpoint(FileSystem& fs, const std::string& path) {
  auto bytes = read_file(fs, path);
  if (!bytes.ok()) {
    if (bytes.error().code == ErrorCode::kNotFound) return std::optional<std::vector<EpochEntry>>();
    return std::move(bytes).error();
  }
  std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  auto entries = decode_leader_epoch_checkpoint(text);
  if (!entries.ok()) return Error::corruption(path + ": " + entries.error().message.substr(entries.error().message.find(':') + 2));
  return std::optional<std::vector<EpochEntry>>(std::move(entries).value());
}

}  // namespace streamctl::engine
