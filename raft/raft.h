// One Raft group member as a pure state machine: Kafka's pull-based Raft (KIP-595) with pre-vote (KIP-996).
//
// No threads, clock, sockets or files inside. The host feeds events in:
//   receive(message, now), tick(now), append(batch), on_flushed(offset), resign(now)
// and after each call drains effects() (then clears them), in this order:
//   1. effects().quorum_state: write it durably (fsync) BEFORE sending any message below (votes and leader
//      announcements must never be forgotten after a restart);
//   2. effects().messages: send them (best effort; the protocol tolerates loss, delay, duplication);
//   3. effects().flush_to: make the log durable up to at least that offset, then call on_flushed(offset)
//      (group commit: the host may coalesce flushes; on_flushed reports the durable log end);
//   4. high_watermark / role_changed: informational (committed offsets, leadership changes).
// The log is written through the RaftLog interface directly (appends and truncations, page cache).
//
// Roles: Unattached (no leader known), Prospective (pre-vote round), Candidate, Leader, Follower, Resigned
// (a leader giving up: graceful shutdown or check-quorum). Observers (not in the voter set) are Unattached
// or Follower only. Thread-compatible: one thread at a time per instance.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "raft/log.h"
#include "raft/types.h"

namespace streamctl::raft {

// Known bugs that can be planted to prove the simulator catches them (never set in production).
enum class Mutation {
  kNone,
  kCommitWithoutMajority,    // the leader advances the HW from its own log alone
  kVoteTwice,                // a voter grants a second candidate in the same epoch
  kSkipDivergenceCheck,      // the leader ignores LastFetchedEpoch: diverging tails are never truncated
  kCountUnflushedLeaderLog,  // the leader counts its unflushed log end toward the HW
  kGrantStaleLog,            // votes are granted without the up-to-date check
  kForgetVoteOnRestart,      // (host side) the quorum state loses voted_id on restart
};

struct Config {
  NodeId id = kNoNode;
  std::vector<NodeId> voters;          // the voter set (the same on every member); id not in it = observer
  int64_t election_timeout_ms = 1000;  // randomized in [t, 2t)
  int64_t fetch_timeout_ms = 2000;     // follower: no leader contact -> election; leader: check-quorum
  int64_t request_timeout_ms = 300;    // unanswered fetch / vote resent after this
  int64_t fetch_max_wait_ms = 200;     // the leader parks an empty fetch this long (long poll)
  size_t fetch_max_batches = 1024;
  uint64_t seed = 1;                   // randomized timeouts (deterministic per seed)
  Mutation mutation = Mutation::kNone;
};

enum class Role { kUnattached, kProspective, kCandidate, kLeader, kFollower, kResigned };
const char* role_name(Role role);

struct Effects {
  std::optional<QuorumState> quorum_state;
  std::vector<Message> messages;
  std::optional<Offset> flush_to;
  std::optional<Offset> high_watermark;
  bool role_changed = false;
  void clear() {
    quorum_state.reset();
    messages.clear();
    flush_to.reset();
    high_watermark.reset();
    role_changed = false;
  }
};

struct Stats {
  int64_t elections_won = 0;
  int64_t pre_votes_started = 0;
  int64_t truncations = 0;         // diverging tails truncated
  int64_t truncated_offsets = 0;
  int64_t snapshots_installed = 0;
  int64_t resignations = 0;        // graceful or check-quorum
};

class Raft {
 public:
  // `log` must outlive the Raft. `persisted` is the quorum state read back at start (zero if none).
  // A replica that was leader before the restart comes back Resigned (it cannot resume its epoch).
  Raft(Config config, RaftLog* log, QuorumState persisted, int64_t now);
  Raft(const Raft&) = delete;
  Raft& operator=(const Raft&) = delete;

  // Takes the message by value: fetched batches are moved into the log.
  void receive(Message message, int64_t now);
  void tick(int64_t now);
  // Leader only: appends `batch` (its epoch is set to the current epoch). Returns its base offset and
  // epoch, or nullopt when this replica is not an active leader. Committed once high_watermark() > offset
  // and the log still holds that epoch there.
  std::optional<OffsetAndEpoch> append(Batch batch);
  // The log is durable up to `durable_end` (<= end_offset()).
  void on_flushed(Offset durable_end, int64_t now);
  // Graceful shutdown of a leader: EndQuorumEpoch to the voters, preferred successors first.
  void resign(int64_t now);

  Effects& effects() { return effects_; }
  Role role() const { return role_; }
  Epoch epoch() const { return epoch_; }
  NodeId leader() const { return leader_; }
  NodeId voted_for() const { return voted_; }
  NodeId id() const { return config_.id; }
  bool is_voter() const { return is_voter_; }
  Offset high_watermark() const { return hw_; }
  Offset flushed_end() const { return flushed_end_; }
  const Stats& stats() const { return stats_; }

 private:
  struct ReplicaState {
    Offset end_offset = 0;     // flushed log end the replica reported (valid fetches of this epoch)
    int64_t last_fetch = 0;
    bool fetched_this_epoch = false;
    Offset last_sent_hw = -1;  // the HW in the last response sent to it (long polls park only if equal)
  };
  static constexpr int32_t kBackoff = -1;
  struct Parked {
    Message request;
    int64_t since = 0;
  };

  bool up_to_date(Epoch last_epoch, Offset last_offset) const;
  int64_t random_timeout(int64_t base);
  bool has_live_leader(int64_t now) const;
  size_t majority() const { return config_.voters.size() / 2 + 1; }
  LeaderIdAndEpoch current_leader() const;
  void persist();
  void send(NodeId to, MessageBody body, int32_t correlation_id = 0);
  void set_role(Role role);

  void become_unattached(Epoch epoch, int64_t now);
  void become_follower(Epoch epoch, NodeId leader, int64_t now);
  void become_prospective(int64_t now);
  void become_candidate(int64_t now);
  void become_leader(int64_t now);
  void become_resigned(int64_t now);
  // A message from `source` told us about `epoch` and maybe its leader: move to it if it is newer, or
  // follow the leader of the current epoch when we knew none or `source` is that leader.
  bool observe(const LeaderIdAndEpoch& leader, int64_t now, NodeId source = kNoNode);

  void on_vote_request(const Message& m, const VoteRequest& r, int64_t now);
  void on_vote_response(const Message& m, const VoteResponse& r, int64_t now);
  void on_begin_quorum(const Message& m, const BeginQuorumEpochRequest& r, int64_t now);
  void on_end_quorum(const Message& m, const EndQuorumEpochRequest& r, int64_t now);
  void on_fetch_request(const Message& m, int64_t now);
  void on_fetch_response(const Message& m, FetchResponse& r, int64_t now);
  void on_fetch_snapshot_request(const Message& m, const FetchSnapshotRequest& r);
  void on_fetch_snapshot_response(const Message& m, const FetchSnapshotResponse& r, int64_t now);

  void answer_fetch(const Message& m, int64_t now, bool allow_park);
  void answer_parked(int64_t now, bool all);
  void maybe_advance_hw();
  void update_follower_hw(Offset leader_hw);
  void send_fetch(int64_t now);
  void send_votes(bool pre_vote);

  Config config_;
  RaftLog* log_;
  Effects effects_;
  Stats stats_;
  bool is_voter_ = false;
  uint64_t rng_;

  Role role_ = Role::kUnattached;
  Epoch epoch_ = 0;
  NodeId voted_ = kNoNode;
  NodeId leader_ = kNoNode;
  Offset hw_ = 0;
  Offset flushed_end_ = 0;

  int64_t election_deadline_ = 0;
  // Follower / observer.
  int64_t fetch_deadline_ = 0;       // no leader contact by then: election (voter) / rediscovery (observer)
  int64_t last_leader_contact_ = -1;
  int32_t fetch_correlation_ = 0;    // the outstanding fetch or fetch-snapshot (0 = none)
  int64_t fetch_sent_at_ = 0;
  bool fetch_wanted_ = false;        // fetch once the log is flushed
  int32_t next_correlation_ = 1;
  size_t discovery_index_ = 0;
  // Prospective / candidate.
  std::vector<NodeId> granted_;
  std::vector<NodeId> rejected_;
  int64_t votes_sent_at_ = 0;
  // Leader.
  Offset epoch_start_offset_ = 0;  // offset of this epoch's LeaderChange batch
  std::unordered_map<NodeId, ReplicaState> replicas_;  // voters (and observers) other than self
  std::vector<Parked> parked_;
  int64_t leader_since_ = 0;
  int64_t begin_quorum_sent_at_ = 0;
};

}  // namespace streamctl::raft
