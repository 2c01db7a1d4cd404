// Field-by-field equality of the Raft core's message bodies (raft/types.h defines no operator== for them), for
// the wire tests: a FetchResponse's records_base_offset counts only when it has records (the Fetch wire has no
// field for it otherwise).
#pragma once

#include <string>
#include <type_traits>
#include <variant>

#include "cluster/peer_transport.h"
#include "raft/types.h"

namespace streamctl::test {

inline bool eq(const raft::LeaderIdAndEpoch& a, const raft::LeaderIdAndEpoch& b) {
  return a.leader_id == b.leader_id && a.leader_epoch == b.leader_epoch;
}
inline bool eq(const raft::VoteRequest& a, const raft::VoteRequest& b) {
  return a.replica_epoch == b.replica_epoch && a.replica_id == b.replica_id &&
         a.last_offset_epoch == b.last_offset_epoch && a.last_offset == b.last_offset && a.pre_vote == b.pre_vote;
}
inline bool eq(const raft::VoteResponse& a, const raft::VoteResponse& b) {
  return a.error_code == b.error_code && eq(a.current_leader, b.current_leader) && a.vote_granted == b.vote_granted &&
         a.pre_vote == b.pre_vote;
}
inline bool eq(const raft::BeginQuorumEpochRequest& a, const raft::BeginQuorumEpochRequest& b) {
  return a.leader_epoch == b.leader_epoch && a.leader_id == b.leader_id;
}
inline bool eq(const raft::BeginQuorumEpochResponse& a, const raft::BeginQuorumEpochResponse& b) {
  return a.error_code == b.error_code && eq(a.current_leader, b.current_leader);
}
inline bool eq(const raft::EndQuorumEpochRequest& a, const raft::EndQuorumEpochRequest& b) {
  return a.leader_epoch == b.leader_epoch && a.leader_id == b.leader_id &&
         a.preferred_successors == b.preferred_successors;
}
inline bool eq(const raft::EndQuorumEpochResponse& a, const raft::EndQuorumEpochResponse& b) {
  return a.error_code == b.error_code && eq(a.current_leader, b.current_leader);
}
inline bool eq(const raft::FetchRequest& a, const raft::FetchRequest& b) {
  return a.replica_id == b.replica_id && a.current_leader_epoch == b.current_leader_epoch &&
         a.fetch_offset == b.fetch_offset && a.last_fetched_epoch == b.last_fetched_epoch &&
         a.log_start_offset == b.log_start_offset;
}
inline bool eq(const raft::FetchResponse& a, const raft::FetchResponse& b) {
  if (a.records.size() != b.records.size()) return false;
  for (size_t i = 0; i < a.records.size(); ++i) {
    const raft::Batch& x = a.records[i];
    const raft::Batch& y = b.records[i];
    if (x.epoch != y.epoch || x.record_count != y.record_count || x.control != y.control || x.bytes != y.bytes) {
      return false;
    }
  }
  return a.error_code == b.error_code && a.high_watermark == b.high_watermark &&
         a.log_start_offset == b.log_start_offset && a.diverging_epoch == b.diverging_epoch &&
         eq(a.current_leader, b.current_leader) && a.snapshot_id == b.snapshot_id &&
         (a.records.empty() || a.records_base_offset == b.records_base_offset);
}
inline bool eq(const raft::FetchSnapshotRequest& a, const raft::FetchSnapshotRequest& b) {
  return a.replica_id == b.replica_id && a.current_leader_epoch == b.current_leader_epoch &&
         a.snapshot_id == b.snapshot_id && a.position == b.position;
}
inline bool eq(const raft::FetchSnapshotResponse& a, const raft::FetchSnapshotResponse& b) {
  return a.error_code == b.error_code && eq(a.current_leader, b.current_leader) && a.snapshot_id == b.snapshot_id &&
         a.size == b.size && a.position == b.position && a.unaligned_records == b.unaligned_records;
}
inline bool eq(const raft::MessageBody& a, const raft::MessageBody& b) {
  if (a.index() != b.index()) return false;
  return std::visit([&](const auto& x) { return eq(x, std::get<std::decay_t<decltype(x)>>(b)); }, a);
}
// Same group, endpoints, correlation id and body.
inline bool eq(const cluster::GroupMessage& a, const cluster::GroupMessage& b) {
  return a.group == b.group && a.message.source == b.message.source && a.message.destination == b.message.destination &&
         a.message.correlation_id == b.message.correlation_id && eq(a.message.body, b.message.body);
}

// The error text of a Result/Status, "" when ok (for REQUIRE_MESSAGE, which may evaluate it either way).
template <typename R>
std::string error_text(const R& r) {
  return r.ok() ? std::string() : r.error().to_string();
}

}  // namespace streamctl::test
