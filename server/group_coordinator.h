// GroupCoordinator: Kafka's classic consumer-group protocol (JoinGroup / SyncGroup / Heartbeat /
// LeaveGroup) for every group of this broker, plus the group side of OffsetCommit / OffsetFetch /
// ListGroups / DescribeGroups / DeleteGroups / OffsetDelete. Committed offsets live in engine::GroupStore, the same store
// embedded `streamctl consume --group` uses, so both see the same positions.
//
// Group states (Kafka's names and transitions):
//
//   Empty --join--> PreparingRebalance --all members joined / rebalance timeout--> CompletingRebalance
//     ^                 ^      |                                                      | leader's SyncGroup
//     |                 |      +--no member left--> Empty                              v
//     |                 +---- join with new metadata, leave, session timeout ------ Stable
//     +---- DeleteGroups / last member gone ---- (Dead: removed from memory)
//
// * JoinGroup responses are held until every known member has rejoined or the rebalance timeout (the
//   largest of the members') expires; members that did not rejoin are removed. The generation then
//   increases, the protocol is chosen by vote among those every member supports (none in common ->
//   INCONSISTENT_GROUP_PROTOCOL at join time), and the leader alone receives the member list.
// * JoinGroup v4+ with an empty member id gets MEMBER_ID_REQUIRED and a member id to rejoin with.
// * Static members (group.instance.id) keep their assignment across restarts: a rejoin with a new member
//   id replaces the old one (FENCED_INSTANCE_ID for the old id), without a rebalance when the group is
//   Stable and the metadata did not change.
// * Heartbeat answers REBALANCE_IN_PROGRESS while preparing a rebalance; UNKNOWN_MEMBER_ID and
//   ILLEGAL_GENERATION as Kafka. A member silent for its session timeout is removed (a rebalance follows).
// * OffsetCommit with generation -1 is accepted for a group without members (librdkafka's assign()).
//
// Time comes from the injected Clock (monotonic ms); tick() applies the timeouts and is driven by an asio
// timer in the broker and by hand in tests. Callbacks (held JoinGroup/SyncGroup responses) are invoked
// outside the coordinator's lock, from whichever thread called the method that completed them.
// Thread-safety: thread-safe (one mutex).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/coding.h"
#include "engine/group_store.h"
#include "base/result.h"
#include "kafka/format/types.h"
#include "kafka/protocol/error_codes.h"

namespace streamctl::server {

using kafka::protocol::ErrorCode;

enum class GroupState { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable, kDead };
// Kafka's names: "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead".
const char* group_state_name(GroupState state);

struct GroupCoordinatorConfig {
  int64_t min_session_timeout_ms = 6000;      // group.min.session.timeout.ms
  int64_t max_session_timeout_ms = 1800000;   // group.max.session.timeout.ms
  int64_t initial_rebalance_delay_ms = 0;     // group.initial.rebalance.delay.ms
  size_t max_metadata_bytes = 4096;           // offset.metadata.max.bytes
};

struct JoinGroupParams {
  std::string group_id;
  std::string member_id;                        // "" = a new member
  std::optional<std::string> group_instance_id;  // static membership (JoinGroup v5+)
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;             // v0: the session timeout
  std::string protocol_type;                    // "consumer" for consumer groups
  std::vector<std::pair<std::string, Bytes>> protocols;  // (name, metadata), preferred first
  bool require_known_member_id = false;         // JoinGroup v4+: answer MEMBER_ID_REQUIRED first
};

struct JoinGroupMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  Bytes metadata;  // for the selected protocol
};

struct JoinGroupResult {
  ErrorCode error = ErrorCode::kNone;
  int32_t generation_id = -1;
  std::string protocol_type;
  std::string protocol_name;
  std::string leader_id;
  std::string member_id;
  std::vector<JoinGroupMember> members;  // only in the leader's response
};
using JoinGroupCallback = std::function<void(JoinGroupResult)>;

struct SyncGroupParams {
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<std::pair<std::string, Bytes>> assignments;  // leader only: (member id, assignment)
};

struct SyncGroupResult {
  ErrorCode error = ErrorCode::kNone;
  std::string protocol_type;
  std::string protocol_name;
  Bytes assignment;
};
using SyncGroupCallback = std::function<void(SyncGroupResult)>;

struct LeaveMember {
  std::string member_id;  // may be "" with a group_instance_id (LeaveGroup v3+)
  std::optional<std::string> group_instance_id;
};

struct LeaveGroupResult {
  ErrorCode error = ErrorCode::kNone;    // top level
  std::vector<ErrorCode> member_errors;  // one per LeaveMember, same order
};

struct OffsetCommitParams {
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
};

// The result of an OffsetCommit: the group-level error (applies to every partition) and, when the group
// accepted it, whether the store did.
struct OffsetCommitOutcome {
  ErrorCode error = ErrorCode::kNone;
  Status store_status;
};

// The result of an OffsetDelete: the group-level error and, when there is none, one error per partition asked
// about (NONE for a partition deleted or without a committed offset).
struct OffsetDeleteOutcome {
  ErrorCode error = ErrorCode::kNone;
  std::map<TopicPartition, ErrorCode> partitions;
};

struct GroupMemberDescription {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  Bytes metadata;    // for the selected protocol
  Bytes assignment;
};

struct GroupDescription {
  ErrorCode error = ErrorCode::kNone;
  std::string group_id;
  GroupState state = GroupState::kDead;
  std::string protocol_type;
  std::string protocol_name;
  int32_t generation_id = 0;
  std::string leader_id;
  std::vector<GroupMemberDescription> members;
};

struct GroupListing {
  std::string group_id;
  std::string protocol_type;
  GroupState state = GroupState::kEmpty;
};

class GroupCoordinator {
 public:
  // store and clock must outlive the coordinator.
  GroupCoordinator(engine::GroupStore& store, Clock& clock, GroupCoordinatorConfig config);
  GroupCoordinator(const GroupCoordinator&) = delete;
  GroupCoordinator& operator=(const GroupCoordinator&) = delete;

  // `done` is called exactly once: at once, or when the rebalance completes (or the member is removed,
  // or the coordinator shuts down).
  void join_group(const JoinGroupParams& params, JoinGroupCallback done);
  // `done` is called exactly once: at once, or when the leader's assignment arrives.
  void sync_group(const SyncGroupParams& params, SyncGroupCallback done);
  ErrorCode heartbeat(const std::string& group_id, int32_t generation_id, const std::string& member_id,
                      const std::optional<std::string>& group_instance_id);
  LeaveGroupResult leave_group(const std::string& group_id, const std::vector<LeaveMember>& members);

  // Validates the committer against the group (generation, membership) and stores the offsets durably.
  OffsetCommitOutcome commit_offsets(const OffsetCommitParams& params,
                                     const std::map<TopicPartition, engine::CommittedOffset>& offsets);
  // Deletes committed offsets of some partitions (Kafka's OffsetDelete), atomically with respect to members
  // joining. Group-level: INVALID_GROUP_ID, GROUP_ID_NOT_FOUND when neither members nor offsets are known,
  // NON_EMPTY_GROUP for an active group whose protocol type is not "consumer". In an active consumer group a
  // partition of a topic some member subscribes to (in any protocol it offers; an undecodable subscription
  // counts as subscribing to everything) gets GROUP_SUBSCRIBED_TO_TOPIC and is kept; the other partitions'
  // offsets are deleted. A failing store gives KAFKA_STORAGE_ERROR for the partitions it should have deleted.
  OffsetDeleteOutcome delete_offsets(const std::string& group_id, const std::vector<TopicPartition>& partitions);
  // Committed offsets of a group (empty for an unknown group).
  Result<std::map<TopicPartition, engine::CommittedOffset>> fetch_offsets(
      const std::string& group_id);

  // Groups known in memory (with members) and groups with stored offsets only (state Empty).
  Result<std::vector<GroupListing>> list_groups();
  // An unknown group is described as Dead with no error (as Kafka does).
  GroupDescription describe_group(const std::string& group_id);
  // NON_EMPTY_GROUP while it has members, GROUP_ID_NOT_FOUND when nothing is known about it.
  ErrorCode delete_group(const std::string& group_id);

  // Applies session, rebalance and pending-member timeouts as of clock.monotonic_ms(). Returns the
  // number of callbacks completed (tests).
  size_t tick();
  // Answers every held request with COORDINATOR_NOT_AVAILABLE; later requests get the same. Idempotent.
  void shutdown();

  // Per-group member counts (metrics).
  std::map<std::string, size_t> member_counts();

 private:
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string client_id;
    std::string client_host;
    int32_t session_timeout_ms = 0;
    int32_t rebalance_timeout_ms = 0;
    std::string protocol_type;
    std::vector<std::pair<std::string, Bytes>> protocols;
    Bytes assignment;
    JoinGroupCallback awaiting_join;
    SyncGroupCallback awaiting_sync;
    int64_t last_heartbeat_ms = 0;
  };
  struct Group {
    std::string group_id;
    GroupState state = GroupState::kEmpty;
    int32_t generation_id = 0;
    std::string protocol_type;
    std::string protocol_name;  // selected protocol ("" while Empty)
    std::string leader_id;
    std::map<std::string, Member> members;                  // by member id
    std::map<std::string, std::string> static_members;      // group.instance.id -> member id
    std::map<std::string, int64_t> pending_members;         // MEMBER_ID_REQUIRED ids -> expiry (monotonic ms)
    int64_t rebalance_deadline_ms = 0;                      // PreparingRebalance: complete by then
    int64_t initial_delay_until_ms = 0;                     // PreparingRebalance from Empty: wait until then
    int64_t sync_deadline_ms = 0;                           // CompletingRebalance: leader must sync by then
  };
  using Completions = std::vector<std::function<void()>>;

  Group* find_group(const std::string& group_id);
  // FENCED_INSTANCE_ID for an old incarnation of a static member, UNKNOWN_MEMBER_ID, or NONE.
  static ErrorCode check_member(const Group& g, const std::string& member_id,
                                const std::optional<std::string>& group_instance_id);
  std::string new_member_id(const std::string& prefix);
  bool supports_protocols(const Group& g, const JoinGroupParams& p) const;
  static bool same_protocols(const Member& m, const JoinGroupParams& p);
  JoinGroupResult current_generation_result(const Group& g, const std::string& member_id, bool with_members) const;

  void add_member_and_rebalance(Group& g, const std::string& member_id, const JoinGroupParams& p,
                                JoinGroupCallback done, Completions& out);
  void update_member_and_rebalance(Group& g, Member& m, const JoinGroupParams& p, JoinGroupCallback done,
                                   Completions& out);
  void replace_static_member(Group& g, const std::string& old_id, const JoinGroupParams& p,
                             JoinGroupCallback done, Completions& out);
  void prepare_rebalance(Group& g, const std::string& reason, Completions& out);
  void try_complete_join(Group& g, Completions& out);
  void complete_join(Group& g, Completions& out);
  void remove_member(Group& g, const std::string& member_id, const std::string& reason, Completions& out);
  std::string select_protocol(const Group& g) const;
  void set_state(Group& g, GroupState state);
  void run(Completions& out);

  engine::GroupStore& store_;
  Clock& clock_;
  GroupCoordinatorConfig config_;

  std::mutex mu_;
  std::map<std::string, Group> groups_;
  bool stopped_ = false;
  std::mt19937_64 rng_;
};

}  // namespace streamctl::server
