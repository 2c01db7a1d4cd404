// GroupStore: one atomically rewritten file per consumer group. See group_store.h for the contract.
//
// Byte format of <data>/__meta/groups/<escaped group>.offsets (big-endian, base/coding.h):
//   offset  width  field
//   0       4      magic         0x5347524F ("SGRO")
//   4       2      version       1
//   6       2      group length  G
//   8       G      group id
//   8+G     4      entry count   N
//   ...            N entries sorted by (topic, partition), each:
//                    topic length (2), topic (T), partition (4), offset (8), leader epoch (4),
//                    metadata length (4), metadata (M), commit time ms (8)
//   end-4   4      CRC-32C of every byte before it
//
// Commit protocol: lock <escaped>.lock (exclusive, waiting) -> read the current file -> merge -> write
// <file>.tmp, fsync, rename over <file>, fsync the directory -> unlock. A crash at any step leaves the old
// or the new file (rename is the commit point); a failed step leaves the old one and at worst a stale .tmp,
// which the next commit overwrites and list_groups ignores.
#include "engine/group_store.h"

#include <algorithm>
#include <cstdio>

#include "base/coding.h"
#include "base/crc32c.h"

namespace streamctl::engine {
namespace {

constexpr const char* kOffsetsSuffix = ".offsets";
constexpr const char* kLockSuffix = ".lock";
constexpr size_t kMaxEscapedName = 200;
constexpr size_t kHashedPrefix = 180;
constexpr size_t kMaxStringBytes = 32767;  // Kafka's int16 string length
// magic + version + group length + entry count + crc
constexpr size_t kMinFileSize = 4 + 2 + 2 + 4 + 4;

bool is_safe(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

uint64_t fnv1a64(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // escape_group_id writes upper-case only
}

// The group id of an escaped name, or false when the name is not one escape_group_id produces
// (or it is a hashed long name, whose id must be read from the file).
bool unescape(const std::string& name, std::string* out) {
  out->clear();
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '%') {
      if (i + 2 >= name.size()) return false;
      int hi = hex_value(name[i + 1]);
      int lo = hex_value(name[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (is_safe(static_cast<unsigned char>(c))) {
      out->push_back(c);
    } else {
      return false;
    }
  }
  return true;
}

Error corrupt(const std::string& path, const std::string& group, const std::string& why) {
  return Error::corruption("group offsets file " + path + " is corrupt: " + why +
                           "; delete the group to start over (streamctl group delete '" + group + "')");
}

// Adds context to an error, keeping its code.
Error in_context(const std::string& what, Error e) {
  e.message = what + ": " + e.message;
  return e;
}

Bytes encode(const std::string& group, const std::map<TopicPartition, CommittedOffset>& offsets) {
  Bytes out;
  ByteWriter w(out);
  w.be32(GroupStore::kMagic);
  w.be16(GroupStore::kVersion);
  w.be16(static_cast<uint16_t>(group.size()));
  w.raw(group);
  w.be32(static_cast<uint32_t>(offsets.size()));
  for (const auto& [tp, co] : offsets) {
    w.be16(static_cast<uint16_t>(tp.topic.size()));
    w.raw(tp.topic);
    w.i32(tp.partition);
    w.i64(co.offset.value);
    w.i32(co.leader_epoch);
    w.be32(static_cast<uint32_t>(co.metadata.size()));
    w.raw(co.metadata);
    w.i64(co.commit_time.value);
  }
  uint32_t crc = crc32c(out);
  w.be32(crc);
  return out;
}

Result<std::map<TopicPartition, CommittedOffset>> decode(ByteSpan bytes, const std::string& path,
                                                         const std::string& group, std::string* stored_group) {
  if (bytes.size() < kMinFileSize) {
    return corrupt(path, group, "only " + std::to_string(bytes.size()) + " bytes (truncated)");
  }
  ByteSpan body = bytes.first(bytes.size() - 4);
  uint32_t stored_crc = get_be32(bytes.data() + body.size());
  uint32_t actual_crc = crc32c(body);
  if (stored_crc != actual_crc) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "CRC mismatch (stored 0x%08x, computed 0x%08x)", stored_crc, actual_crc);
    return corrupt(path, group, buf);
  }
  ByteReader r(body);
  uint32_t magic = r.be32();
  if (magic != GroupStore::kMagic) return corrupt(path, group, "not a group offsets file (bad magic)");
  uint16_t version = r.be16();
  if (version != GroupStore::kVersion) {
    return Error::not_supported("group offsets file " + path + " has format version " + std::to_string(version) +
                                "; this streamctl reads version " + std::to_string(GroupStore::kVersion) +
                                " (written by a newer streamctl? upgrade it)");
  }
  uint16_t group_len = r.be16();
  std::string id(as_string_view(r.raw(group_len)));
  if (stored_group != nullptr) *stored_group = id;
  if (!group.empty() && r.ok() && id != group) {
    return corrupt(path, group, "it holds group '" + id + "'");
  }
  uint32_t count = r.be32();
  std::map<TopicPartition, CommittedOffset> out;
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    TopicPartition tp;
    CommittedOffset co;
    uint16_t topic_len = r.be16();
    tp.topic = std::string(as_string_view(r.raw(topic_len)));
    tp.partition = r.i32();
    co.offset = Offset(r.i64());
    co.leader_epoch = r.i32();
    uint32_t metadata_len = r.be32();
    co.metadata = std::string(as_string_view(r.raw(metadata_len)));
    co.commit_time = Timestamp(r.i64());
    if (r.ok()) out[std::move(tp)] = std::move(co);
  }
  if (!r.ok()) return corrupt(path, group, "an entry runs past the end of the file");
  if (!r.at_end()) {
    return corrupt(
        path, group,
        std::to_string(r.remaining()) + " unexpected bytes after " + std::to_string(count) + " entries");
  }
  return out;
}

Status validate_group(const std::string& group) {
  if (group.empty()) return Error::invalid_argument("group id must not be empty");
  if (group.size() > kMaxStringBytes) {
    return Error::invalid_argument("group id is " + std::to_string(group.size()) + " bytes; the limit is " +
                                   std::to_string(kMaxStringBytes));
  }
  return Status();
}

}  // namespace

std::string escape_group_id(const std::string& group) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(group.size());
  for (unsigned char c : group) {
    if (is_safe(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  if (out.size() > kMaxEscapedName) {
    char hash[17];
    std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a64(group)));
    out = out.substr(0, kHashedPrefix) + "~" + hash;
  }
  return out;
}

GroupStore::GroupStore(FileSystem* fs, Clock* clock, std::string dir)
    : fs_(fs), clock_(clock), dir_(std::move(dir)) {}

std::string GroupStore::path_for(const std::string& group) const {
  return join_path(dir_, escape_group_id(group) + kOffsetsSuffix);
}

Status GroupStore::ensure_dir() {
  STREAMCTL_ASSIGN_OR_RETURN(bool there, fs_->exists(dir_));
  if (there) return Status();
  // Create the missing directories, then make each new entry durable in its parent, so a crash right after
  // the first commit cannot lose the whole directory.
  std::vector<std::string> missing;
  for (std::string p = dir_; p != "/" && p != "."; p = parent_path(p)) {
    STREAMCTL_ASSIGN_OR_RETURN(bool exists, fs_->exists(p));
    if (exists) break;
    missing.push_back(p);
  }
  STREAMCTL_TRY(fs_->create_dirs(dir_));
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) STREAMCTL_TRY(fs_->sync_dir(parent_path(*it)));
  return Status();
}

Result<std::map<TopicPartition, CommittedOffset>> GroupStore::read_offsets(const std::string& group) {
  std::string path = path_for(group);
  auto bytes = read_file(*fs_, path);
  if (!bytes.ok()) {
    if (bytes.error().code == ErrorCode::kNotFound) return std::map<TopicPartition, CommittedOffset>{};
    return std::move(bytes).error();
  }
  return decode(*bytes, path, group, nullptr);
}

Status GroupStore::write(const std::string& group, const std::map<TopicPartition, CommittedOffset>& offsets) {
  std::string path = path_for(group);
  Bytes bytes = encode(group, offsets);
  Status s = write_file_atomically(*fs_, path, bytes);
  if (!s.ok()) (void)fs_->remove_file(path + ".tmp");  // best effort; the next commit overwrites it anyway
  return s;
}

Status GroupStore::commit(const std::string& group, const std::map<TopicPartition, CommittedOffset>& offsets) {
  STREAMCTL_TRY(validate_group(group));
  for (const auto& [tp, co] : offsets) {
    if (tp.topic.empty() || tp.topic.size() > kMaxStringBytes || tp.partition < 0) {
      return Error::invalid_argument("cannot commit offsets of group '" + group + "' for partition '" +
                                     tp.to_string() + "': the topic must be 1.." +
                                     std::to_string(kMaxStringBytes) + " bytes and the partition >= 0");
    }
    if (co.metadata.size() > UINT32_MAX) {
      return Error::invalid_argument("commit metadata of group '" + group + "' is too large");
    }
  }
  if (offsets.empty()) return Status();
  std::string what = "commit offsets of group '" + group + "'";
  auto dir_ok = ensure_dir();
  if (!dir_ok.ok()) return in_context(what, std::move(dir_ok).error());
  auto lock = fs_->lock(join_path(dir_, escape_group_id(group) + kLockSuffix), LockMode::kExclusive, true);
  if (!lock.ok()) return in_context(what, std::move(lock).error());
  auto current = read_offsets(group);
  if (!current.ok()) return in_context(what, std::move(current).error());
  Timestamp now = clock_->now();
  for (const auto& [tp, co] : offsets) {
    CommittedOffset stored = co;
    if (stored.commit_time.value < 0) stored.commit_time = now;
    (*current)[tp] = std::move(stored);
  }
  auto written = write(group, *current);
  if (!written.ok()) return in_context(what, std::move(written).error());
  return Status();
}

Result<std::map<TopicPartition, CommittedOffset>> GroupStore::fetch(const std::string& group) {
  STREAMCTL_TRY(validate_group(group));
  return read_offsets(group);
}

Result<std::vector<std::string>> GroupStore::list_groups() {
  STREAMCTL_ASSIGN_OR_RETURN(bool there, fs_->exists(dir_));
  std::vector<std::string> groups;
  if (!there) return groups;
  STREAMCTL_ASSIGN_OR_RETURN(auto names, fs_->list_dir(dir_));
  const std::string suffix = kOffsetsSuffix;
  for (const auto& name : names) {
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;  // .lock, .tmp and anything not ours
    }
    std::string stem = name.substr(0, name.size() - suffix.size());
    std::string group;
    if (stem.find('~') != std::string::npos) {
      // A hashed long name: the id is inside the file.
      std::string path = join_path(dir_, name);
      auto bytes = read_file(*fs_, path);
      if (!bytes.ok()) {
        if (bytes.error().code == ErrorCode::kNotFound) continue;  // deleted meanwhile
        return std::move(bytes).error();
      }
      auto decoded = decode(*bytes, path, "", &group);
      if (!decoded.ok()) return std::move(decoded).error();
    } else if (!unescape(stem, &group) || escape_group_id(group) != stem) {
      continue;
    }
    groups.push_back(std::move(group));
  }
  std::sort(groups.begin(), groups.end());
  return groups;
}

Status GroupStore::delete_group(const std::string& group) {
  STREAMCTL_TRY(validate_group(group));
  std::string path = path_for(group);
  std::string what = "delete group '" + group + "'";
  STREAMCTL_ASSIGN_OR_RETURN(bool dir_there, fs_->exists(dir_));
  if (!dir_there) return Error::not_found("group '" + group + "' has no committed offsets");
  auto lock = fs_->lock(join_path(dir_, escape_group_id(group) + kLockSuffix), LockMode::kExclusive, true);
  if (!lock.ok()) return in_context(what, std::move(lock).error());
  auto removed = fs_->remove_file(path);
  if (!removed.ok()) {
    if (removed.error().code == ErrorCode::kNotFound) {
      return Error::not_found("group '" + group + "' has no committed offsets");
    }
    return in_context(what, std::move(removed).error());
  }
  auto synced = fs_->sync_dir(dir_);
  if (!synced.ok()) return in_context(what, std::move(synced).error());
  return Status();
}

Status GroupStore::delete_offsets(const std::string& group, const std::vector<TopicPartition>& partitions) {
  STREAMCTL_TRY(validate_group(group));
  std::string what = "delete offsets of group '" + group + "'";
  STREAMCTL_ASSIGN_OR_RETURN(bool dir_there, fs_->exists(dir_));
  if (!dir_there || partitions.empty()) return Status();
  auto lock = fs_->lock(join_path(dir_, escape_group_id(group) + kLockSuffix), LockMode::kExclusive, true);
  if (!lock.ok()) return in_context(what, std::move(lock).error());
  auto current = read_offsets(group);
  if (!current.ok()) return in_context(what, std::move(current).error());
  size_t erased = 0;
  for (const auto& tp : partitions) erased += current->erase(tp);
  if (erased == 0) return Status();
  Status s;
  if (current->empty()) {
    s = fs_->remove_file(path_for(group));
    if (s.ok()) s = fs_->sync_dir(dir_);
  } else {
    s = write(group, *current);
  }
  if (!s.ok()) return in_context(what, std::move(s).error());
  return Status();
}

}  // namespace streamctl::engine
