// The Raft core's messages (raft/types.h) on the wire: Kafka's KRaft quorum APIs, one Kafka request per API
// per step and destination node, each carrying the partitions (= Raft groups) of that step.
//
//   raft body                   Kafka API (version)            coalescing
//   VoteRequest/Response        Vote (52, v0)                  every group's vote of one step: one request
//   BeginQuorumEpoch*           BeginQuorumEpoch (53, v0)      likewise
//   EndQuorumEpoch*             EndQuorumEpoch (54, v0)        likewise
//   FetchRequest/Response       Fetch (1, v12)                 one Fetch (one long poll per node pair)
//   FetchSnapshot*              FetchSnapshot (59, v0)         likewise
//   (host's quorum view)        DescribeQuorum (55, v0-1)      QuorumDescription, see below
//
// Field mapping: raft's structs keep Kafka's field names. Vote: replica_epoch = CandidateEpoch, replica_id =
// CandidateId. Fetch v12 (the first flexible version; it has LastFetchedEpoch, DivergingEpoch, CurrentLeader,
// SnapshotId and still names topics; v15's ReplicaState is beyond the generated codec): the top-level ReplicaId
// is FetchRequest.replica_id (all fetches of one request share it), per partition CurrentLeaderEpoch,
// FetchOffset, LastFetchedEpoch, LogStartOffset; a response's Records are the concatenated batches, each a
// whole RecordBatch v2 as the log stores it (Batch.epoch = partitionLeaderEpoch, record_count =
// lastOffsetDelta + 1, control = attribute bit 5); records_base_offset = the first batch's baseOffset (0 when
// there are no records: Raft reads it only with records). Batches are never re-encoded.
//
// Pre-vote (KIP-996) is not in Kafka 3.8's Vote v0: streamctl carries it as a tagged field of the partition
// (tag kPreVoteTag, one byte 1), absent = false. A Kafka 3.8 controller would ignore it, so streamctl peers
// only talk to streamctl peers.
//
// Correlation: a Kafka request has one correlation id; the Raft messages it carries each have their own. The
// sender keeps an OutstandingRequest (which groups went out with which Raft correlation id) until the response
// arrives and decode_response puts the ids back. The receiver's decode_request gives every message of the
// request the Kafka correlation id as its Raft correlation id, so the Raft responses come back with it and the
// host finds the InboundRequest to answer (keyed by source node and correlation id) for encode_response.
//
// Errors: malformed bytes are kCorruption naming the API and field (from the generated codecs) or the group
// and batch (bad CRC, batches not contiguous; a partial trailing batch is dropped, as Kafka fetchers do); a top-level
// error code in a response is kInvalidArgument (the request failed as a whole; Raft treats it as lost); misuse (a
// response passed to encode_requests, a batch whose header contradicts the Batch) is kInvalidArgument. Pure functions;
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/coding.h"
#include "base/result.h"
#include "cluster/peer_transport.h"
#include "raft/types.h"

namespace streamctl::cluster {

// Versions this side sends (and the lowest it accepts: Fetch below v12 lacks LastFetchedEpoch).
inline constexpr int16_t kVoteVersion = 0;
inline constexpr int16_t kBeginQuorumEpochVersion = 0;
inline constexpr int16_t kEndQuorumEpochVersion = 0;
inline constexpr int16_t kFetchVersion = 12;
inline constexpr int16_t kFetchSnapshotVersion = 0;
inline constexpr int16_t kDescribeQuorumVersion = 1;
// Tag of streamctl's PreVote flag in Vote request and response partitions.
inline constexpr uint32_t kPreVoteTag = 115;

// One Kafka request or response body (the bytes after the header) of api_key at api_version.
struct KafkaMessage {
  int16_t api_key = 0;
  int16_t api_version = 0;
  Bytes body;
};

struct WireOptions {
  std::optional<std::string> cluster_id;  // ClusterId of Vote/BeginQuorumEpoch/EndQuorumEpoch/FetchSnapshot/Fetch
  int32_t fetch_max_wait_ms = 500;        // the follower's long poll
  int32_t fetch_min_bytes = 0;
  int32_t fetch_max_bytes = 8 << 20;
  int32_t fetch_partition_max_bytes = 1 << 20;
  int32_t snapshot_max_bytes = 0x7fffffff;
};

// What one sent Kafka request carried: kept by the sender until its response arrives (or is given up).
struct OutstandingRequest {
  struct Entry {
    GroupId group;
    int32_t correlation_id = 0;  // the Raft correlation id of the group's request
    raft::NodeId source = raft::kNoNode;
  };
  int16_t api_key = 0;
  int16_t api_version = 0;
  raft::NodeId destination = raft::kNoNode;
  std::vector<Entry> groups;  // one per partition of the request, in request order
};

struct OutboundRequest {
  KafkaMessage request;
  OutstandingRequest outstanding;
};

// A decoded request from a peer, to be answered with encode_response.
struct InboundRequest {
  raft::NodeId source = raft::kNoNode;
  int32_t correlation_id = 0;  // the Kafka request's; also the Raft correlation id of every message below
  int16_t api_key = 0;
  int16_t api_version = 0;
  std::optional<std::string> cluster_id;  // the request's ClusterId (the host may check it against its own)
  std::vector<GroupMessage> requests;     // one per partition, in request order
};

// True for the Raft request bodies (Vote, BeginQuorumEpoch, EndQuorumEpoch, Fetch, FetchSnapshot requests).
bool is_request(const raft::MessageBody& body);

// The Kafka requests for `messages` (all requests, all to `to`): one per API, in the order Vote,
// BeginQuorumEpoch, EndQuorumEpoch, Fetch, FetchSnapshot; a group appearing twice for one API (or a fetch with
// another replica id) goes into a further request of that API, so each request names a group at most once.
Result<std::vector<OutboundRequest>> encode_requests(raft::NodeId to, const std::vector<GroupMessage>& messages,
                                                     const WireOptions& options = {});

// A Kafka request from node `from` to node `self` -> its Raft requests.
Result<InboundRequest> decode_request(raft::NodeId from, raft::NodeId self, int32_t correlation_id,
                                      const KafkaMessage& request);

// The Kafka response to `request` from the Raft responses to it (responses of other requests are an error).
// A group of the request without a response is left out of the response (for Raft, a lost message); a group
// answered twice keeps the last answer.
Result<KafkaMessage> encode_response(const InboundRequest& request, const std::vector<GroupMessage>& responses);

// The Kafka response body to `outstanding` received by node `self` -> the Raft responses, one per partition
// in it, each with the correlation id its request went out with. A partition that was not asked is kCorruption.
Result<std::vector<GroupMessage>> decode_response(const OutstandingRequest& outstanding, raft::NodeId self,
                                                  ByteSpan body);

// ---- DescribeQuorum: the host's view of its groups' quorums (admin tooling), not a Raft message.
struct ReplicaDescription {
  raft::NodeId replica_id = raft::kNoNode;
  raft::Offset log_end_offset = -1;
  int64_t last_fetch_timestamp = -1;      // v1+; ms since the epoch, -1 unknown
  int64_t last_caught_up_timestamp = -1;  // v1+
  bool operator==(const ReplicaDescription&) const = default;
};

struct QuorumDescription {
  GroupId group;
  int16_t error_code = raft::kNone;
  raft::NodeId leader_id = raft::kNoNode;
  raft::Epoch leader_epoch = -1;
  raft::Offset high_watermark = -1;
  std::vector<ReplicaDescription> voters;
  std::vector<ReplicaDescription> observers;
  bool operator==(const QuorumDescription&) const = default;
};

Result<KafkaMessage> encode_describe_quorum_request(const std::vector<GroupId>& groups,
                                                    int16_t version = kDescribeQuorumVersion);
Result<std::vector<GroupId>> decode_describe_quorum_request(const KafkaMessage& request);
// Timestamps are dropped at v0 (Kafka's schema marks them ignorable).
Result<KafkaMessage> encode_describe_quorum_response(const std::vector<QuorumDescription>& quorums,
                                                     int16_t version = kDescribeQuorumVersion);
Result<std::vector<QuorumDescription>> decode_describe_quorum_response(const KafkaMessage& response);

}  // namespace streamctl::cluster
