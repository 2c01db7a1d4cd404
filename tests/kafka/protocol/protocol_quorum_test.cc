// Generated codecs of the KRaft quorum APIs (Vote, BeginQuorumEpoch, EndQuorumEpoch, DescribeQuorum,
// FetchSnapshot) and the LeaderChangeMessage control record value: round trips of default and populated
// messages at every generated version, bytes hand-derived from Kafka 3.8's schemas (so a symmetric
// encoder/decoder bug cannot pass), their place in the API table, and truncated input.
#include <doctest/doctest.h>

#include <string>

#include "kafka/protocol/api_keys.h"
#include "kafka/protocol/generated/begin_quorum_epoch.h"
#include "kafka/protocol/generated/describe_quorum.h"
#include "kafka/protocol/generated/end_quorum_epoch.h"
#include "kafka/protocol/generated/fetch_snapshot.h"
#include "kafka/protocol/generated/leader_change_message.h"
#include "kafka/protocol/generated/messages.h"
#include "kafka/protocol/generated/vote.h"
#include "kafka/protocol/header.h"
#include "tests/kafka/protocol/protocol_test_util.h"

namespace streamctl::kafka::protocol {
namespace {

using testing::from_hex;
using testing::to_hex;

// Round trips at every version, and every strict prefix of each encoding is an error.
template <typename M>
void check_round_trip(const M& m) {
  testing::check_round_trip(m, /*check_prefixes=*/true);
}

VoteRequest vote_request() {
  VoteRequest m;
  m.cluster_id = "c1";
  auto& t = m.topics.emplace_back();
  t.topic_name = "__cluster_metadata";
  auto& p = t.partitions.emplace_back();
  p.partition_index = 0;
  p.candidate_epoch = 5;
  p.candidate_id = 2;
  p.last_offset_epoch = 4;
  p.last_offset = 1234567890123;
  return m;
}

VoteResponse vote_response() {
  VoteResponse m;
  auto& t = m.topics.emplace_back();
  t.topic_name = "t";
  auto& p = t.partitions.emplace_back();
  p.partition_index = 3;
  p.error_code = 74;
  p.leader_id = -1;
  p.leader_epoch = 6;
  p.vote_granted = true;
  return m;
}

BeginQuorumEpochRequest begin_request() {
  BeginQuorumEpochRequest m;
  auto& t = m.topics.emplace_back();
  t.topic_name = "t";
  auto& p = t.partitions.emplace_back();
  p.partition_index = 1;
  p.leader_id = 3;
  p.leader_epoch = 9;
  return m;
}

BeginQuorumEpochResponse begin_response() {
  BeginQuorumEpochResponse m;
  m.error_code = 0;
  auto& t = m.topics.emplace_back();
  t.topic_name = "t";
  auto& p = t.partitions.emplace_back();
  p.partition_index = 1;
  p.error_code = 6;
  p.leader_id = 3;
  p.leader_epoch = 9;
  return m;
}

EndQuorumEpochRequest end_request() {
  EndQuorumEpochRequest m;
  m.cluster_id = "c";
  auto& t = m.topics.emplace_back();
  t.topic_name = "t";
  auto& p = t.partitions.emplace_back();
  p.partition_index = 2;
  p.leader_id = 1;
  p.leader_epoch = 4;
  p.preferred_successors = {3, 2};
  return m;
}

EndQuorumEpochResponse end_response() {
  EndQuorumEpochResponse m;
  auto& t = m.topics.emplace_back();
  t.topic_name = "t";
  auto& p = t.partitions.emplace_back();
  p.partition_index = 2;
  p.leader_id = 1;
  p.leader_epoch = 4;
  return m;
}

DescribeQuorumRequest describe_request() {
  DescribeQuorumRequest m;
  auto& t = m.topics.emplace_back();
  t.topic_name = "__cluster_metadata";
  t.partitions.emplace_back().partition_index = 0;
  return m;
}

DescribeQuorumResponse describe_response(bool v1_fields) {
  DescribeQuorumResponse m;
  auto& t = m.topics.emplace_back();
  t.topic_name = "__cluster_metadata";
  auto& p = t.partitions.emplace_back();
  p.leader_id = 1;
  p.leader_epoch = 7;
  p.high_watermark = 100;
  for (int32_t id : {1, 2, 3}) {
    auto& r = p.current_voters.emplace_back();
    r.replica_id = id;
    r.log_end_offset = 100 - id;
    if (v1_fields) {
      r.last_fetch_timestamp = 1700000000000 + id;
      r.last_caught_up_timestamp = 1700000000000 - id;
    }
  }
  auto& o = p.observers.emplace_back();
  o.replica_id = 9;
  o.log_end_offset = -1;
  return m;
}

FetchSnapshotRequest snapshot_request() {
  FetchSnapshotRequest m;
  m.cluster_id = "c";  // tagged (tag 0)
  m.replica_id = 2;
  auto& t = m.topics.emplace_back();
  t.name = "__cluster_metadata";
  auto& p = t.partitions.emplace_back();
  p.partition = 0;
  p.current_leader_epoch = 5;
  p.snapshot_id.end_offset = 50;
  p.snapshot_id.epoch = 4;
  p.position = 4096;
  return m;
}

FetchSnapshotResponse snapshot_response() {
  FetchSnapshotResponse m;
  auto& t = m.topics.emplace_back();
  t.name = "__cluster_metadata";
  auto& p = t.partitions.emplace_back();
  p.index = 0;
  p.snapshot_id.end_offset = 50;
  p.snapshot_id.epoch = 4;
  p.current_leader.leader_id = 1;  // tagged (tag 0)
  p.current_leader.leader_epoch = 5;
  p.size = 3;
  p.position = 0;
  p.unaligned_records = from_hex("010203");
  return m;
}

TEST_CASE("QuorumMessagesRoundTripAtEveryGeneratedVersion") {
  check_round_trip(VoteRequest{});
  check_round_trip(VoteResponse{});
  check_round_trip(BeginQuorumEpochRequest{});
  check_round_trip(BeginQuorumEpochResponse{});
  check_round_trip(EndQuorumEpochRequest{});
  check_round_trip(EndQuorumEpochResponse{});
  check_round_trip(DescribeQuorumRequest{});
  check_round_trip(DescribeQuorumResponse{});
  check_round_trip(FetchSnapshotRequest{});
  check_round_trip(FetchSnapshotResponse{});
  check_round_trip(LeaderChangeMessage{});
  check_round_trip(vote_request());
  check_round_trip(vote_response());
  check_round_trip(begin_request());
  check_round_trip(begin_response());
  check_round_trip(end_request());
  check_round_trip(end_response());
  check_round_trip(describe_request());
  check_round_trip(describe_response(false));
  check_round_trip(snapshot_request());
  check_round_trip(snapshot_response());
  LeaderChangeMessage lc;
  lc.leader_id = 2;
  lc.voters = {{1, {}}, {2, {}}, {3, {}}};
  lc.granting_voters = {{2, {}}, {3, {}}};
  check_round_trip(lc);
}

TEST_CASE("DescribeQuorumResponseV1CarriesTimestampsV0DropsThem") {
  Bytes v1;
  REQUIRE(encode_message(describe_response(true), 1, v1).ok());
  auto back = decode_message<DescribeQuorumResponse>(v1, 1);
  REQUIRE(back.ok());
  CHECK(*back == describe_response(true));
  // The timestamps are ignorable: v0 leaves them out and decodes them as -1.
  Bytes v0;
  REQUIRE(encode_message(describe_response(true), 0, v0).ok());
  CHECK(v0.size() == v1.size() - 4 * 16);  // 3 voters + 1 observer, 2 int64 each
  auto back0 = decode_message<DescribeQuorumResponse>(v0, 0);
  REQUIRE(back0.ok());
  CHECK(*back0 == describe_response(false));
}

// Bytes written out by hand from VoteRequest.json (v0, flexible from v0): compact strings/arrays are
// uvarint length + 1, every struct ends with an empty tagged-field section (00).
TEST_CASE("VoteRequestV0MatchesBytesDerivedFromTheSchema") {
  VoteRequest m;
  auto& t = m.topics.emplace_back();
  t.topic_name = "t";
  auto& p = t.partitions.emplace_back();
  p.partition_index = 1;
  p.candidate_epoch = 5;
  p.candidate_id = 2;
  p.last_offset_epoch = 4;
  p.last_offset = 10;
  Bytes out;
  REQUIRE(encode_message(m, 0, out).ok());
  const std::string expected =
      "00"                // ClusterId: null compact nullable string
      "02"                // Topics: 1 entry
      "0274"              // TopicName "t"
      "02"                // Partitions: 1 entry
      "00000001"          // PartitionIndex
      "00000005"          // CandidateEpoch
      "00000002"          // CandidateId
      "00000004"          // LastOffsetEpoch
      "000000000000000a"  // LastOffset
      "00"                // partition tagged fields
      "00"                // topic tagged fields
      "00";               // message tagged fields
  CHECK(to_hex(out) == expected);
  auto back = decode_message<VoteRequest>(from_hex(expected), 0);
  REQUIRE(back.ok());
  CHECK(*back == m);
}

// BeginQuorumEpoch v0 is NOT flexible: classic int16-length strings, int32 array counts, no tag sections.
TEST_CASE("BeginQuorumEpochRequestV0MatchesBytesDerivedFromTheSchema") {
  Bytes out;
  REQUIRE(encode_message(begin_request(), 0, out).ok());
  CHECK(to_hex(out) ==
        "ffff"        // ClusterId: null int16-length nullable string
        "00000001"    // Topics: 1
        "000174"      // TopicName "t"
        "00000001"    // Partitions: 1
        "00000001"    // PartitionIndex
        "00000003"    // LeaderId
        "00000009");  // LeaderEpoch
}

// FetchSnapshotResponse v0: CurrentLeader is a tagged struct (tag 0) of the partition.
TEST_CASE("FetchSnapshotResponseV0MatchesBytesDerivedFromTheSchema") {
  Bytes out;
  REQUIRE(encode_message(snapshot_response(), 0, out).ok());
  CHECK(to_hex(out) ==
        "00000000"  // ThrottleTimeMs
        "0000"      // ErrorCode
        "02"        // Topics: 1
        "13"
        "5f5f636c75737465725f6d65746164617461"  // Name "__cluster_metadata" (18 + 1)
        "02"                                    // Partitions: 1
        "00000000"                              // Index
        "0000"                                  // ErrorCode
        "0000000000000032"
        "00000004"
        "00"                // SnapshotId {EndOffset 50, Epoch 4} + its tags
        "0000000000000003"  // Size
        "0000000000000000"  // Position
        "04"
        "010203"  // UnalignedRecords: compact bytes
        "01"
        "00"
        "09"
        "00000001"
        "00000005"
        "00"    // tags: 1 field, tag 0, 9 bytes: CurrentLeader {1, 5}
        "00"    // topic tags
        "00");  // message tags
}

// FetchSnapshotRequest v0 (snapshot_request()): ClusterId is a tagged field (tag 0) of the message, after Topics.
TEST_CASE("FetchSnapshotRequestV0MatchesBytesDerivedFromTheSchema") {
  Bytes out;
  REQUIRE(encode_message(snapshot_request(), 0, out).ok());
  CHECK(to_hex(out) ==
        "00000002"  // ReplicaId
        "7fffffff"  // MaxBytes (default)
        "02"
        "13"
        "5f5f636c75737465725f6d65746164617461"  // Topics [1]: Name "__cluster_metadata"
        "02"                                    // Partitions [1]
        "00000000"
        "00000005"  // Partition, CurrentLeaderEpoch
        "0000000000000032"
        "00000004"
        "00"                // SnapshotId {EndOffset 50, Epoch 4}
        "0000000000001000"  // Position 4096
        "00"
        "00"  // partition, topic tags
        "01"
        "00"
        "02"
        "0263");  // tags: 1 field, tag 0, 2 bytes: ClusterId "c" (compact string)
}

// DescribeQuorumResponse v1 (KIP-836): each ReplicaState gains LastFetchTimestamp and LastCaughtUpTimestamp.
TEST_CASE("DescribeQuorumResponseV1MatchesBytesDerivedFromTheSchema") {
  DescribeQuorumResponse m;
  auto& t = m.topics.emplace_back();
  t.topic_name = "t";
  auto& part = t.partitions.emplace_back();
  part.leader_id = 1;
  part.leader_epoch = 2;
  part.high_watermark = 3;
  auto& v = part.current_voters.emplace_back();
  v.replica_id = 1;
  v.log_end_offset = 4;
  v.last_fetch_timestamp = 5;
  v.last_caught_up_timestamp = 6;
  Bytes out;
  REQUIRE(encode_message(m, 1, out).ok());
  CHECK(to_hex(out) ==
        "0000"  // ErrorCode
        "02"
        "0274"  // Topics [1]: "t"
        "02"    // Partitions [1]
        "00000000"
        "0000"  // PartitionIndex, ErrorCode
        "00000001"
        "00000002"          // LeaderId, LeaderEpoch
        "0000000000000003"  // HighWatermark
        "02"                // CurrentVoters [1]
        "00000001"
        "0000000000000004"
        "0000000000000005"
        "0000000000000006"
        "00"
        "01"  // Observers []
        "00"
        "00"
        "00");  // partition, topic, message tags
}

// The value cluster/raft_log.cc writes into a LEADER_CHANGE control record (LeaderChangeMessage v0).
TEST_CASE("LeaderChangeMessageV0MatchesBytesDerivedFromTheSchema") {
  LeaderChangeMessage m;
  m.leader_id = 7;
  m.voters = {{1, {}}};
  Bytes out;
  REQUIRE(encode_message(m, 0, out).ok());
  CHECK(to_hex(out) ==
        "0000"
        "00000007"
        "02"
        "00000001"
        "00"
        "01"
        "00");
}

TEST_CASE("QuorumApisAreInTheTableButNotAdvertisedNorInTheClientVariants") {
  for (auto [key, name] : {std::pair<ApiKey, const char*>{ApiKey::kVote, "Vote"},
                           {ApiKey::kBeginQuorumEpoch, "BeginQuorumEpoch"},
                           {ApiKey::kEndQuorumEpoch, "EndQuorumEpoch"},
                           {ApiKey::kDescribeQuorum, "DescribeQuorum"},
                           {ApiKey::kFetchSnapshot, "FetchSnapshot"}}) {
    const int16_t k = static_cast<int16_t>(key);
    CAPTURE(name);
    const ApiInfo* info = find_api(k);
    REQUIRE(info != nullptr);
    CHECK(std::string(info->name) == name);
    CHECK(is_quorum_api(k));
    CHECK(info->advertised.empty());
    CHECK_FALSE(is_advertised(k, 0));
    CHECK(info->decodable.min == 0);
    CHECK_FALSE(decode_request_message(k, 0, Bytes{}).ok());  // peer-only: not in RequestBody
  }
  CHECK(find_api(static_cast<int16_t>(ApiKey::kDescribeQuorum))->decodable.max == 1);
  CHECK(find_api(static_cast<int16_t>(ApiKey::kVote))->first_flexible == 0);
  CHECK(find_api(static_cast<int16_t>(ApiKey::kBeginQuorumEpoch))->first_flexible == -1);
  CHECK(is_flexible_version(static_cast<int16_t>(ApiKey::kFetchSnapshot), 0));
  CHECK_FALSE(is_flexible_version(static_cast<int16_t>(ApiKey::kEndQuorumEpoch), 0));
  CHECK_FALSE(is_quorum_api(static_cast<int16_t>(ApiKey::kFetch)));
  auto advertised = make_api_versions_response();
  for (const auto& a : advertised.api_keys) CHECK_FALSE(is_quorum_api(a.api_key));
}

// A peer frames quorum requests like any other: header v2 (tagged fields) for the flexible Vote, DescribeQuorum
// and FetchSnapshot, v1 for BeginQuorumEpoch/EndQuorumEpoch v0; the header decoder finds the body after it.
TEST_CASE("QuorumRequestHeadersFollowTheFlexibleVersions") {
  CHECK(request_header_version(int16_t(ApiKey::kVote), 0) == 2);
  CHECK(request_header_version(int16_t(ApiKey::kBeginQuorumEpoch), 0) == 1);
  CHECK(request_header_version(int16_t(ApiKey::kEndQuorumEpoch), 0) == 1);
  CHECK(request_header_version(int16_t(ApiKey::kDescribeQuorum), 1) == 2);
  CHECK(request_header_version(int16_t(ApiKey::kFetchSnapshot), 0) == 2);
  CHECK(response_header_version(int16_t(ApiKey::kVote), 0) == 1);
  CHECK(response_header_version(int16_t(ApiKey::kBeginQuorumEpoch), 0) == 0);
  for (int16_t key : {int16_t(ApiKey::kVote), int16_t(ApiKey::kBeginQuorumEpoch)}) {
    CAPTURE(key);
    Bytes encoded_body;
    const bool flexible = key == int16_t(ApiKey::kVote);
    REQUIRE(
        (flexible ? encode_message(vote_request(), 0, encoded_body) : encode_message(begin_request(), 0, encoded_body))
            .ok());
    RequestHeader h;
    h.api_key = key;
    h.api_version = 0;
    h.correlation_id = 77;
    h.client_id = "streamctl-node-2";
    Bytes frame;
    REQUIRE(encode_request_header(h, frame).ok());
    const size_t header_size = frame.size();
    CHECK(header_size == 2 + 2 + 4 + 2 + 16 + (flexible ? 1 : 0));  // + the empty tag section of header v2
    frame.insert(frame.end(), encoded_body.begin(), encoded_body.end());
    size_t offset = 0;
    auto decoded = decode_request_header(frame, &offset);
    REQUIRE(decoded.ok());
    CHECK(*decoded == h);
    CHECK(offset == header_size);
  }
}

}  // namespace
}  // namespace streamctl::kafka::protocol
