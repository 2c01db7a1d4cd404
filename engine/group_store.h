// GroupStore: durable committed consumer-group offsets, shared by embedded `consume --group` and the
// server's group coordinator (so switching between them keeps positions).
//
// One file per group, <data>/__meta/groups/<escaped group>.offsets, rewritten atomically on every commit
// (tmp + fsync + rename + dir fsync) under an advisory lock on <escaped group>.lock, so commits from several
// processes and threads merge rather than overwrite. Durable when commit() returns. Readers take no lock: a
// rename makes a reader see the old or the new file, never a mix. Thread-safety: thread-safe.
//
// File name: the group id with every byte outside [A-Za-z0-9._-] percent-encoded (%XX, upper-case hex), so
// any group id maps to one file and back; an escaped name longer than 200 bytes is cut to 180 bytes plus
// "~" and 16 hex digits of the id's FNV-1a 64 hash ('~' never appears in an escaped name). Lock files stay
// behind after delete_group (removing a lock file others may be waiting on would let two holders in).
//
// Byte format of a .offsets file (all integers big-endian, base/coding.h):
//   offset  width  field
//   0       4      magic         0x5347524F ("SGRO": streamctl group offsets)
//   4       2      version       1
//   6       2      group length  G (bytes of the group id, UTF-8 as given)
//   8       G      group id      checked on read (guards against hashed-name collisions)
//   8+G     4      entry count   N
//   ...            N entries, sorted by (topic, partition):
//                    2  topic length T     4  partition         8  offset (next offset to consume)
//                    T  topic bytes        4  leader epoch (-1: none)
//                    4  metadata length M  M  metadata bytes    8  commit time (ms since the epoch)
//   end-4   4      CRC-32C (Castagnoli, base/crc32c.h) of every byte before it
// A file that is short, has a bad magic, CRC or length, or trailing bytes is kCorruption naming the file;
// a newer version is kNotSupported. Neither is ever read as "no offsets".
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/fs.h"
#include "base/result.h"
#include "kafka/format/types.h"

namespace streamctl::engine {

struct CommittedOffset {
  Offset offset;  // next offset to consume
  LeaderEpoch leader_epoch = kNoLeaderEpoch;
  std::string metadata;
  Timestamp commit_time = kNoTimestamp;  // kNoTimestamp (or any negative value): the store's clock at commit

  bool operator==(const CommittedOffset&) const = default;
};

class GroupStore {
 public:
  static constexpr uint32_t kMagic = 0x5347524F;
  static constexpr uint16_t kVersion = 1;

  // dir: <data>/__meta/groups (created, durably, on first commit). fs and clock are not owned and must
  // outlive the store.
  GroupStore(FileSystem* fs, Clock* clock, std::string dir);
  GroupStore(const GroupStore&) = delete;
  GroupStore& operator=(const GroupStore&) = delete;

  // Commits offsets (merging with what is stored: these partitions are replaced, others kept); durable when
  // it returns. On error nothing changed. kInvalidArgument for an empty group id or topic, or a negative
  // partition; kCorruption if the stored file is damaged (delete_group clears it).
  Status commit(const std::string& group, const std::map<TopicPartition, CommittedOffset>& offsets);
  // All committed offsets of a group (empty map for an unknown group).
  Result<std::map<TopicPartition, CommittedOffset>> fetch(const std::string& group);
  // Groups with stored offsets, sorted.
  Result<std::vector<std::string>> list_groups();
  // kNotFound if the group has nothing stored. Works on a corrupt file too (it is how to clear one).
  Status delete_group(const std::string& group);
  // Drops the offsets of the given partitions (e.g. a deleted topic); the group disappears when none are
  // left. Unknown group or partitions: ok, nothing to do.
  Status delete_offsets(const std::string& group, const std::vector<TopicPartition>& partitions);

  // The .offsets file of a group (whether or not it exists).
  std::string path_for(const std::string& group) const;
  const std::string& dir() const { return dir_; }

 private:
  // The stored offsets (empty when there is no file). Callers that modify hold the group's lock.
  Result<std::map<TopicPartition, CommittedOffset>> read_offsets(const std::string& group);
  Status write(const std::string& group, const std::map<TopicPartition, CommittedOffset>& offsets);
  Status ensure_dir();

  FileSystem* fs_;
  Clock* clock_;
  std::string dir_;
};

// The file-name form of a group id (see the file comment), without the ".offsets" suffix.
std::string escape_group_id(const std::string& group);

}  // namespace streamctl::engine
