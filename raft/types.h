// Basic types and wire messages of the Raft core (Kafka's KRaft, KIP-595 + pre-vote KIP-996).
//
// The structs mirror the fields of Kafka's Vote, BeginQuorumEpoch, EndQuorumEpoch, Fetch (v13+) and
// FetchSnapshot schemas for one partition (field names kept, snake_case); mapping them to the wire codecs is
// the host's job. Term = Kafka leader epoch; offsets are Kafka offsets (a batch covers record_count offsets).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace streamctl::raft {

using NodeId = int32_t;
using Epoch = int32_t;
using Offset = int64_t;

inline constexpr NodeId kNoNode = -1;

// Kafka error codes used by the quorum APIs.
enum ErrorCode : int16_t {
  kNone = 0,
  kNotLeaderOrFollower = 6,
  kFencedLeaderEpoch = 74,
  kUnknownLeaderEpoch = 76,
  kSnapshotNotFound = 98,
};

// An opaque record batch as the log stores it: the epoch goes into the batch's partitionLeaderEpoch field.
struct Batch {
  Epoch epoch = 0;
  int32_t record_count = 1;  // offsets the batch covers (>= 1)
  bool control = false;      // true for the LeaderChange control batch
  std::string bytes;
};

// Kafka's OffsetAndEpoch / SnapshotId: offset -1 and epoch -1 mean "none".
struct OffsetAndEpoch {
  Offset offset = -1;
  Epoch epoch = -1;
  bool operator==(const OffsetAndEpoch&) const = default;
};
using SnapshotId = OffsetAndEpoch;  // offset = EndOffset of the snapshot

struct LeaderIdAndEpoch {
  NodeId leader_id = kNoNode;
  Epoch leader_epoch = -1;
};

struct VoteRequest {
  Epoch replica_epoch = 0;  // the epoch the candidate campaigns in (its epoch + 1 for a pre-vote)
  NodeId replica_id = kNoNode;
  Epoch last_offset_epoch = 0;
  Offset last_offset = 0;  // the candidate's log end offset
  bool pre_vote = false;
};
struct VoteResponse {
  int16_t error_code = kNone;
  LeaderIdAndEpoch current_leader;  // the voter's epoch and known leader
  bool vote_granted = false;
  bool pre_vote = false;
};
struct BeginQuorumEpochRequest {
  Epoch leader_epoch = 0;
  NodeId leader_id = kNoNode;
};
struct BeginQuorumEpochResponse {
  int16_t error_code = kNone;
  LeaderIdAndEpoch current_leader;
};
struct EndQuorumEpochRequest {
  Epoch leader_epoch = 0;
  NodeId leader_id = kNoNode;
  std::vector<NodeId> preferred_successors;  // most up-to-date first
};
struct EndQuorumEpochResponse {
  int16_t error_code = kNone;
  LeaderIdAndEpoch current_leader;
};
struct FetchRequest {
  NodeId replica_id = kNoNode;
  Epoch current_leader_epoch = 0;
  Offset fetch_offset = 0;        // the follower's (flushed) log end offset
  Epoch last_fetched_epoch = 0;   // epoch of the batch just before fetch_offset
  Offset log_start_offset = 0;
};
struct FetchResponse {
  int16_t error_code = kNone;
  Offset high_watermark = -1;
  Offset log_start_offset = 0;
  OffsetAndEpoch diverging_epoch;  // DivergingEpoch{EndOffset, Epoch}; epoch -1 = none
  LeaderIdAndEpoch current_leader;
  SnapshotId snapshot_id;          // set when the fetch offset is below the leader's log start
  Offset records_base_offset = 0;  // base offset of records[0]
  std::vector<Batch> records;
};
struct FetchSnapshotRequest {
  NodeId replica_id = kNoNode;
  Epoch current_leader_epoch = 0;
  SnapshotId snapshot_id;
  int64_t position = 0;
};
struct FetchSnapshotResponse {
  int16_t error_code = kNone;
  LeaderIdAndEpoch current_leader;
  SnapshotId snapshot_id;
  int64_t size = 0;
  int64_t position = 0;
  std::string unaligned_records;  // the whole snapshot (one chunk)
};

using MessageBody =
    std::variant<VoteRequest, VoteResponse, BeginQuorumEpochRequest, BeginQuorumEpochResponse,
                 EndQuorumEpochRequest, EndQuorumEpochResponse, FetchRequest, FetchResponse,
                 FetchSnapshotRequest, FetchSnapshotResponse>;

// One message between two replicas of the same group. Responses carry the request's correlation_id.
struct Message {
  NodeId source = kNoNode;
  NodeId destination = kNoNode;
  int32_t correlation_id = 0;
  MessageBody body;
};

// The quorum-state file: what a replica must remember across a restart. The host makes it durable
// (write + fsync + rename) before it sends any message emitted together with it.
struct QuorumState {
  Epoch leader_epoch = 0;
  NodeId voted_id = kNoNode;
  NodeId leader_id = kNoNode;
  bool operator==(const QuorumState&) const = default;
};

}  // namespace streamctl::raft
