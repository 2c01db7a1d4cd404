// GroupMembership: serverless consumer-group membership for `streamctl consume --group` on one machine.
//
// Several `consume --group G` processes on one data directory share the partitions of their topics with
// no server: membership and partition ownership are advisory flocks (FileSystem::lock), which the
// kernel drops when a process dies, even on kill -9. Files, under <data>/__meta/groups/<group file name>.members/:
//
//   <pid>-<hex>.member   one per live member, held with an exclusive flock for the member's whole life.
//                        Content: one JSON line {"member_id","pid","host","client_id","joined_ms"}.
//                        Created as <id>.joining, locked, then renamed, so nobody sees an unlocked .member of
//                        a live process. A .member (or .joining) file whose lock can be taken is stale: removed.
//   <topic>-<p>.claim    ownership of one partition: whoever holds its exclusive flock owns it. Content: the
//                        owner's member id (written after locking; meaningless once unlocked). Claim files are
//                        never removed while the group may be active (removing a lock file under a holder would
//                        let two processes "own" the same partition), only by `group delete` when it is empty.
//
// Protocol, run by each member every ~500 ms (rebalance()):
//   1. count live members (probe each .member with a non-blocking shared lock: busy = alive);
//   2. fair share = ceil(partitions / live members);
//   3. claim free partitions (non-blocking exclusive lock) until the fair share is reached;
//   4. report owned partitions beyond the fair share as `excess`.
// The caller keeps the handover exact: it commits a partition's position BEFORE release(), and reads the
// committed position AFTER a partition shows up in `acquired`. Since commits are durable and atomic
// (engine::GroupStore), the next owner starts exactly where the previous one stopped. A killed member cannot
// commit, so the next owner re-reads what it had written but not committed (Kafka's at-least-once).
//
// Thread-safety: thread-compatible (the consume loop drives it). Copy is forbidden (it holds locks).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/fs.h"
#include "base/result.h"
#include "kafka/format/types.h"

namespace streamctl::cli {

// A group name as a file name: [A-Za-z0-9._-] kept, every other byte (and a leading '.') as %XX, so
// "ops/nightly" -> "ops%2Fnightly". An escaped name longer than 200 bytes is cut to 180 plus '~' and 16 hex
// digits of the name's FNV-1a 64 hash (such groups are listed only once they have committed offsets).
std::string group_file_name(const std::string& group);
// <data>/__meta/groups/<group file name>.members
std::string group_members_dir(const std::string& data_dir, const std::string& group);
// "<topic>-<partition>.claim"
std::string claim_file_name(const TopicPartition& tp);

// What a member file says about its process.
struct MemberInfo {
  std::string member_id;  // "<pid>-<16 hex digits>"
  int64_t pid = 0;
  std::string host;
  std::string client_id;
  int64_t joined_ms = 0;  // wall clock, ms since the epoch
};

// The outcome of one rebalance step.
struct RebalanceResult {
  // Newly claimed partitions. REQUIRES of the caller: read each one's committed position now (after the
  // claim), never from a cache filled before it.
  std::vector<TopicPartition> acquired;
  // Owned partitions beyond the fair share. The caller commits their position, then calls release().
  std::vector<TopicPartition> excess;
  // Owned partitions that left the subscription (e.g. a deleted topic); released already.
  std::vector<TopicPartition> dropped;
  int live_members = 1;  // including this one
  int fair_share = 0;    // ceil(subscribed partitions / live members)
};

class GroupMembership {
 public:
  // Joins `group` on the data directory: creates and locks this process's member file. Partitions are
  // claimed only by rebalance(). `fs` and `clock` are not owned and must outlive the membership.
  static Result<std::unique_ptr<GroupMembership>> join(FileSystem* fs,
                                                               Clock* clock,
                                                               const std::string& data_dir,
                                                               const std::string& group,
                                                               const std::string& client_id);
  GroupMembership(const GroupMembership&) = delete;
  GroupMembership& operator=(const GroupMembership&) = delete;
  // Releases every claim and removes the member file (errors ignored: the kernel drops the locks anyway).
  ~GroupMembership();

  // One step of the protocol above over the currently subscribed partitions (the caller re-reads topic
  // metadata so a grown topic is picked up). Claims are tried starting at a per-member rotation so members
  // do not all race for partition 0. Errors are I/O errors on the members directory.
  Result<RebalanceResult> rebalance(const std::vector<TopicPartition>& subscribed);

  // Gives up ownership of tp (no-op when not owned). REQUIRES: the caller committed tp's position first.
  void release(const TopicPartition& tp);
  // Releases all claims (positions must be committed first) and removes the member file.
  Status leave();

  bool owns(const TopicPartition& tp) const { return claims_.count(tp) != 0; }
  std::vector<TopicPartition> owned() const;
  const std::string& member_id() const { return info_.member_id; }
  const std::string& dir() const { return dir_; }

 private:
  GroupMembership(FileSystem* fs, Clock* clock, std::string dir, MemberInfo info);
  Status register_member();
  // Counts live members (this one included) and removes stale member files.
  Result<int> count_live_members();

  FileSystem* fs_;
  Clock* clock_;
  std::string dir_;
  MemberInfo info_;
  std::unique_ptr<FileLock> member_lock_;
  std::map<TopicPartition, std::unique_ptr<FileLock>> claims_;
};

// ---- read-only views for `streamctl group ...` (they take no membership)

struct GroupActivity {
  std::vector<MemberInfo> members;                     // live members, by member id
  std::map<TopicPartition, std::string> owners;  // partitions currently claimed -> member id
};

// Live members of a group and who owns which partition right now. An unknown group is empty, not an error.
// Probing a claim takes a shared lock for an instant; a member trying to claim it at that very moment
// simply retries at its next step.
Result<GroupActivity> inspect_group(FileSystem& fs, const std::string& data_dir,
                                            const std::string& group);

// Groups that have a members directory (they may have no committed offsets yet), decoded names, sorted.
Result<std::vector<std::string>> groups_with_members(FileSystem& fs,
                                                             const std::string& data_dir);

// Removes a group's members directory (stale member files and claim files). kBusy naming the live member
// when the group has one; ok when there is no directory.
Status remove_group_members_dir(FileSystem& fs, const std::string& data_dir,
                                        const std::string& group);

}  // namespace streamctl::cli
