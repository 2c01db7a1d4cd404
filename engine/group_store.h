// GroupStore: durable committed consumer-group offsets, shared by embedded `consume --group` and the
// server's group coordinator (so switching between them keeps positions).
//
// One file per group, <data>/__meta/groups/<escaped group>.offsets, rewritten atomically on every commit
// (tmp + fsync + rename + dir fsync) under an advisory lock on <...>.lock, so commits from several
// processes merge rather than overwrite. The byte format is documented in group_store.cc's header table.
// Thread-safety: thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/fs.h"
#include "engine/result.h"
#include "engine/types.h"

namespace streamctl::engine {

struct CommittedOffset {
  Offset offset;                 // next offset to consume
  LeaderEpoch leader_epoch = kNoLeaderEpoch;
  std::string metadata;
  Timestamp commit_time;
};

class GroupStore {
 public:
  // dir: <data>/__meta/groups (created on first commit).
  GroupStore(FileSystem* fs, Clock* clock, std::string dir);
  GroupStore(const GroupStore&) = delete;
  GroupStore& operator=(const GroupStore&) = delete;

  // Commits offsets (merging with what is stored); durable when it returns.
  Status commit(const std::string& group, const std::map<TopicPartition, CommittedOffset>& offsets);
  // All committed offsets of a group (empty map for an unknown group).
  Result<std::map<TopicPartition, CommittedOffset>> fetch(const std::string& group);
  // Groups with stored offsets, sorted.
  Result<std::vector<std::string>> list_groups();
  // kNotFound if the group has nothing stored.
  Status delete_group(const std::string& group);
  // Drops the offsets of the given partitions (e.g. a deleted topic).
  Status delete_offsets(const std::string& group, const std::vector<TopicPartition>& partitions);

 private:
  FileSystem* fs_;
  Clock* clock_;
  std::string dir_;
};

}  // namespace streamctl::engine
