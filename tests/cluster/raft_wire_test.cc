// cluster/raft_wire: Raft messages of many groups <-> Kafka quorum requests/responses. Every message type
// through sender encode -> receiver decode -> receiver answer -> sender decode, coalescing (3 groups' fetches
// = one Kafka Fetch), batches byte-identical, bytes derived by hand from Kafka's schemas, and malformed input
// (every truncation, random garbling, corrupt batches, wrong partitions) giving errors, never a crash.
#include "cluster/raft_wire.h"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "kafka/format/record_batch.h"
#include "kafka/protocol/generated/end_quorum_epoch.h"
#include "kafka/protocol/generated/fetch.h"
#include "kafka/protocol/generated/vote.h"
#include "tests/cluster/raft_message_eq.h"

namespace streamctl::cluster {
namespace {

namespace p = kafka::protocol;
using raft::Message;
using raft::MessageBody;
using test::eq;

constexpr raft::NodeId kLeader = 1;
constexpr raft::NodeId kFollower = 2;

std::string hex(ByteSpan b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::byte c : b) {
    out.push_back(kDigits[uint8_t(c) >> 4]);
    out.push_back(kDigits[uint8_t(c) & 15]);
  }
  return out;
}

Bytes unhex(std::string_view h) {
  Bytes out;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(std::byte(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

GroupMessage gm(GroupId g, raft::NodeId from, raft::NodeId to, int32_t correlation, MessageBody body) {
  return GroupMessage{std::move(g), Message{from, to, correlation, std::move(body)}};
}

// A RecordBatch v2 at `base` with `count` records of epoch `epoch` (a LEADER_CHANGE-style control batch if
// `control`), as the engine stores it.
std::string batch(int64_t base, raft::Epoch epoch, int count, bool control = false) {
  std::vector<Record> records(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    records[size_t(i)].timestamp = Timestamp(1700000000000 + i);
    records[size_t(i)].value = std::to_string(base + i);
  }
  BatchBuildOptions options;
  options.leader_epoch = epoch;
  auto built = build_batch(records, Offset(base), options);
  REQUIRE(built.ok());
  Bytes out = std::move(built).value();
  if (control) {
    put_be16(out.data() + kAttributesOffset, uint16_t(get_be16(out.data() + kAttributesOffset) | 0x20));
    put_be32(out.data() + kCrcOffset, compute_batch_crc(out));
  }
  return std::string(reinterpret_cast<const char*>(out.data()), out.size());
}

raft::Batch raft_batch(int64_t base, raft::Epoch epoch, int count, bool control = false) {
  return raft::Batch{epoch, count, control, batch(base, epoch, count, control)};
}

// The leader's answer (correlation id = the inbound Kafka request's) to each request of `in`, computed from
// the request so that every field differs per group.
std::vector<GroupMessage> answer(const InboundRequest& in) {
  std::vector<GroupMessage> out;
  int i = 0;
  for (const GroupMessage& req : in.requests) {
    ++i;
    MessageBody body = std::visit(
        [&](const auto& r) -> MessageBody {
          using T = std::decay_t<decltype(r)>;
          if constexpr (std::is_same_v<T, raft::VoteRequest>) {
            return raft::VoteResponse{
                int16_t(i == 2 ? raft::kFencedLeaderEpoch : 0), {-1, r.replica_epoch + i}, i != 2, r.pre_vote};
          } else if constexpr (std::is_same_v<T, raft::BeginQuorumEpochRequest>) {
            return raft::BeginQuorumEpochResponse{int16_t(0), {r.leader_id, r.leader_epoch + i}};
          } else if constexpr (std::is_same_v<T, raft::EndQuorumEpochRequest>) {
            return raft::EndQuorumEpochResponse{int16_t(raft::kNotLeaderOrFollower), {r.leader_id + i, r.leader_epoch}};
          } else if constexpr (std::is_same_v<T, raft::FetchRequest>) {
            raft::FetchResponse f;
            f.high_watermark = r.fetch_offset + 10 * i;
            f.log_start_offset = i;
            f.current_leader = {kLeader, r.current_leader_epoch};
            if (i == 1) {
              f.records_base_offset = r.fetch_offset;
              f.records.push_back(raft_batch(r.fetch_offset, 3, 1, /*control=*/true));
              f.records.push_back(raft_batch(r.fetch_offset + 1, 3, 4));
              f.records.push_back(raft_batch(r.fetch_offset + 5, 4, 2));
            } else if (i == 2) {
              f.diverging_epoch = {r.fetch_offset - 3, r.last_fetched_epoch - 1};
            } else {
              f.error_code = raft::kFencedLeaderEpoch;
              f.snapshot_id = {100, 2};
            }
            return f;
          } else if constexpr (std::is_same_v<T, raft::FetchSnapshotRequest>) {
            raft::FetchSnapshotResponse s;
            s.current_leader = {kLeader, r.current_leader_epoch};
            s.snapshot_id = r.snapshot_id;
            s.position = r.position;
            s.unaligned_records.assign("snapshot\0bytes", 14);
            s.unaligned_records.push_back(char('0' + i));
            s.size = int64_t(s.unaligned_records.size());
            return s;
          } else {
            FAIL("not a request");
            return r;
          }
        },
        req.message.body);
    out.push_back(
        gm(req.group, req.message.destination, req.message.source, req.message.correlation_id, std::move(body)));
  }
  return out;
}

// One full exchange: the follower's `sent` (to the leader) -> Kafka requests -> the leader's Raft requests
// (checked equal to `sent` but for the correlation id) -> answers -> Kafka responses -> the follower's Raft
// responses (checked equal to the answers, with the follower's correlation ids back). Returns the requests.
std::vector<OutboundRequest> wire_exchange(const std::vector<GroupMessage>& sent, size_t expected_requests) {
  auto out = encode_requests(kLeader, sent);
  REQUIRE_MESSAGE(out.ok(), test::error_text(out));
  REQUIRE(out->size() == expected_requests);
  size_t matched = 0;
  int32_t kafka_correlation = 1000;
  for (const OutboundRequest& o : *out) {
    CHECK(o.request.api_key == o.outstanding.api_key);
    CHECK(o.outstanding.destination == kLeader);
    auto in = decode_request(kFollower, kLeader, ++kafka_correlation, o.request);
    REQUIRE_MESSAGE(in.ok(), test::error_text(in));
    REQUIRE(in->requests.size() == o.outstanding.groups.size());
    for (size_t i = 0; i < in->requests.size(); ++i) {
      const GroupMessage& got = in->requests[i];
      // Find the sent message of this group with the Raft correlation id the outstanding request recorded.
      const auto& entry = o.outstanding.groups[i];
      CHECK(entry.group == got.group);
      bool found = false;
      for (const GroupMessage& s : sent) {
        if (s.group == got.group && s.message.correlation_id == entry.correlation_id &&
            s.message.body.index() == got.message.body.index()) {
          GroupMessage expect = s;
          expect.message.correlation_id = kafka_correlation;  // the receiver's ids are the Kafka request's
          found = eq(expect, got);
          if (found) break;
        }
      }
      CHECK_MESSAGE(found, "request of " << got.group.topic << "-" << got.group.partition << " changed on the wire");
      ++matched;
    }
    const std::vector<GroupMessage> answers = answer(*in);
    auto resp = encode_response(*in, answers);
    REQUIRE_MESSAGE(resp.ok(), test::error_text(resp));
    CHECK(resp->api_key == o.request.api_key);
    CHECK(resp->api_version == o.request.api_version);
    auto back = decode_response(o.outstanding, kFollower, resp->body);
    REQUIRE_MESSAGE(back.ok(), test::error_text(back));
    REQUIRE(back->size() == answers.size());
    for (size_t i = 0; i < answers.size(); ++i) {
      GroupMessage expect = answers[i];
      expect.message.correlation_id = o.outstanding.groups[i].correlation_id;
      CHECK_MESSAGE(eq(expect, (*back)[i]), "response " << i << " changed on the wire");
    }
    // Every truncation of the response and request is an error.
    for (size_t n = 0; n < resp->body.size(); ++n) {
      CHECK_FALSE(decode_response(o.outstanding, kFollower, ByteSpan(resp->body.data(), n)).ok());
    }
    for (size_t n = 0; n < o.request.body.size(); ++n) {
      KafkaMessage cut = o.request;
      cut.body.resize(n);
      CHECK_FALSE(decode_request(kFollower, kLeader, 1, cut).ok());
    }
  }
  CHECK(matched == sent.size());
  return std::move(out).value();
}

const GroupId kMeta = metadata_group();
const GroupId kT0{"orders", 0};
const GroupId kT1{"orders", 1};
const GroupId kU0{"users", 7};

TEST_CASE("VotesOfThreeGroupsAreOneVoteRequestAndRoundTrip") {
  std::vector<GroupMessage> sent = {
      gm(kMeta, kFollower, kLeader, 11, raft::VoteRequest{5, kFollower, 4, 120, false}),
      gm(kT0, kFollower, kLeader, 12, raft::VoteRequest{8, kFollower, 7, 0, true}),
      gm(kU0, kFollower, kLeader, 13, raft::VoteRequest{2, kFollower, 1, 1ll << 40, true}),
  };
  auto out = wire_exchange(sent, 1);
  CHECK(out[0].request.api_key == 52);
  CHECK(out[0].request.api_version == 0);
}

TEST_CASE("BeginAndEndQuorumEpochCoalescePerApi") {
  std::vector<GroupMessage> sent = {
      gm(kT0, kFollower, kLeader, 1, raft::BeginQuorumEpochRequest{3, kFollower}),
      gm(kT1, kFollower, kLeader, 2, raft::EndQuorumEpochRequest{4, kFollower, {3, 1}}),
      gm(kU0, kFollower, kLeader, 3, raft::BeginQuorumEpochRequest{9, kFollower}),
      gm(kMeta, kFollower, kLeader, 4, raft::EndQuorumEpochRequest{6, kFollower, {}}),
  };
  auto out = wire_exchange(sent, 2);
  CHECK(out[0].request.api_key == 53);
  CHECK(out[0].outstanding.groups.size() == 2);
  CHECK(out[1].request.api_key == 54);
  CHECK(out[1].outstanding.groups.size() == 2);
}

TEST_CASE("FetchesOfThreeGroupsAreOneKafkaFetchAndBatchesComeBackByteIdentical") {
  std::vector<GroupMessage> sent = {
      gm(kT0, kFollower, kLeader, 21, raft::FetchRequest{kFollower, 3, 40, 2, 0}),
      gm(kT1, kFollower, kLeader, 22, raft::FetchRequest{kFollower, 5, 17, 4, 3}),
      gm(kU0, kFollower, kLeader, 23, raft::FetchRequest{kFollower, 2, 0, 0, 0}),
  };
  auto out = wire_exchange(sent, 1);
  const KafkaMessage& req = out[0].request;
  CHECK(req.api_key == 1);
  CHECK(req.api_version == 12);
  // Decoded independently with the generated codec: one replica fetch, two topics, three partitions.
  auto fetch = p::decode_message<p::FetchRequest>(req.body, 12);
  REQUIRE(fetch.ok());
  CHECK(fetch->replica_id == kFollower);
  CHECK(fetch->session_id == 0);
  REQUIRE(fetch->topics.size() == 2);
  CHECK(fetch->topics[0].topic == "orders");
  REQUIRE(fetch->topics[0].partitions.size() == 2);
  CHECK(fetch->topics[0].partitions[1].partition == 1);
  CHECK(fetch->topics[0].partitions[1].fetch_offset == 17);
  CHECK(fetch->topics[0].partitions[1].last_fetched_epoch == 4);
  CHECK(fetch->topics[0].partitions[1].current_leader_epoch == 5);
  CHECK(fetch->topics[0].partitions[1].log_start_offset == 3);
  CHECK(fetch->topics[1].topic == "users");
}

TEST_CASE("FetchResponseRecordsAreTheConcatenatedBatches") {
  InboundRequest in;
  in.source = kFollower;
  in.correlation_id = 7;
  in.api_key = 1;
  in.api_version = kFetchVersion;
  in.requests.push_back(gm(kT0, kFollower, kLeader, 7, raft::FetchRequest{kFollower, 3, 10, 3, 0}));
  raft::FetchResponse f;
  f.high_watermark = 15;
  f.records_base_offset = 10;
  f.records = {raft_batch(10, 3, 2), raft_batch(12, 3, 1, true), raft_batch(13, 4, 3)};
  auto resp = encode_response(in, {gm(kT0, kLeader, kFollower, 7, f)});
  REQUIRE(resp.ok());
  auto decoded = p::decode_message<p::FetchResponse>(resp->body, kFetchVersion);
  REQUIRE(decoded.ok());
  REQUIRE(decoded->responses.size() == 1);
  const auto& part = decoded->responses[0].partitions.at(0);
  REQUIRE(part.records.has_value());
  const std::string all = f.records[0].bytes + f.records[1].bytes + f.records[2].bytes;
  CHECK(std::string(reinterpret_cast<const char*>(part.records->data()), part.records->size()) == all);
  CHECK(part.high_watermark == 15);
  // No divergence / snapshot / leader: the tagged fields stay out.
  CHECK(part.diverging_epoch == p::FetchResponse::EpochEndOffset{});
  OutstandingRequest o{1, kFetchVersion, kLeader, {{kT0, 99, kFollower}}};
  auto back = decode_response(o, kFollower, resp->body);
  REQUIRE(back.ok());
  const auto& r = std::get<raft::FetchResponse>(back->at(0).message.body);
  CHECK(r.records_base_offset == 10);
  CHECK(back->at(0).message.correlation_id == 99);
  REQUIRE(r.records.size() == 3);
  CHECK(r.records[1].control);
  CHECK(r.records[2].epoch == 4);
  CHECK(r.records[2].record_count == 3);
  CHECK(eq(f, r));
}

TEST_CASE("FetchSnapshotRoundTripsOneChunk") {
  std::vector<GroupMessage> sent = {
      gm(kMeta, kFollower, kLeader, 31, raft::FetchSnapshotRequest{kFollower, 6, {500, 5}, 0}),
      gm(kT1, kFollower, kLeader, 32, raft::FetchSnapshotRequest{kFollower, 2, {20, 1}, 4096}),
  };
  auto out = wire_exchange(sent, 1);
  CHECK(out[0].request.api_key == 59);
}

TEST_CASE("MixedStepSplitsPerApiInAFixedOrder") {
  std::vector<GroupMessage> sent = {
      gm(kT0, kFollower, kLeader, 1, raft::FetchRequest{kFollower, 3, 40, 2, 0}),
      gm(kT1, kFollower, kLeader, 2, raft::VoteRequest{4, kFollower, 3, 9, false}),
      gm(kMeta, kFollower, kLeader, 3, raft::FetchSnapshotRequest{kFollower, 6, {500, 5}, 0}),
      gm(kU0, kFollower, kLeader, 4, raft::BeginQuorumEpochRequest{1, kFollower}),
      gm(kT0, kFollower, kLeader, 5, raft::EndQuorumEpochRequest{1, kFollower, {3}}),
  };
  auto out = wire_exchange(sent, 5);
  std::vector<int16_t> keys;
  for (const auto& o : out) keys.push_back(o.request.api_key);
  CHECK(keys == std::vector<int16_t>{52, 53, 54, 1, 59});
}

TEST_CASE("AGroupTwiceInOneStepGoesIntoASecondRequest") {
  std::vector<GroupMessage> sent = {
      gm(kT0, kFollower, kLeader, 1, raft::VoteRequest{4, kFollower, 3, 9, true}),
      gm(kT1, kFollower, kLeader, 2, raft::VoteRequest{4, kFollower, 3, 9, false}),
      gm(kT0, kFollower, kLeader, 3, raft::VoteRequest{5, kFollower, 3, 9, false}),
  };
  auto out = wire_exchange(sent, 2);
  CHECK(out[0].outstanding.groups.size() == 2);
  CHECK(out[1].outstanding.groups.size() == 1);
  CHECK(out[1].outstanding.groups[0].correlation_id == 3);
}

TEST_CASE("ThousandsOfInterleavedGroupsAreOneRequestPerApiInOrder") {
  // 60 topics x 50 partitions, visited interleaved (as a hash map would), fetches and votes mixed.
  std::vector<GroupMessage> sent;
  for (int partition = 0; partition < 50; ++partition) {
    for (int topic = 0; topic < 60; ++topic) {
      GroupId g{"topic-" + std::to_string(topic), partition};
      const int32_t id = int32_t(sent.size()) + 1;
      if ((topic + partition) % 7 == 0) {
        sent.push_back(gm(g, kFollower, kLeader, id,
                          raft::VoteRequest{partition + 1, kFollower, partition, topic, topic % 2 == 0}));
      } else {
        sent.push_back(
            gm(g, kFollower, kLeader, id, raft::FetchRequest{kFollower, topic, 100 * partition, partition, 0}));
      }
    }
  }
  WireOptions options;
  options.cluster_id = "cluster-1";
  auto out = encode_requests(kLeader, sent, options);
  REQUIRE(out.ok());
  REQUIRE(out->size() == 2);  // one Vote, one Fetch
  size_t n = 0;
  for (const OutboundRequest& o : *out) {
    auto in = decode_request(kFollower, kLeader, 5, o.request);
    REQUIRE(in.ok());
    CHECK(in->cluster_id == options.cluster_id);
    n += in->requests.size();
    // Grouped by topic on the wire; each entry keeps its own Raft correlation id and fields.
    for (size_t i = 0; i < in->requests.size(); ++i) {
      const auto& entry = o.outstanding.groups[i];
      const GroupMessage& original = sent[size_t(entry.correlation_id - 1)];
      CHECK(original.group == in->requests[i].group);
      GroupMessage expect = original;
      expect.message.correlation_id = 5;
      CHECK(eq(expect, in->requests[i]));
    }
    auto back = decode_response(o.outstanding, kFollower, encode_response(*in, answer(*in))->body);
    REQUIRE(back.ok());
    CHECK(back->size() == in->requests.size());
  }
  CHECK(n == sent.size());
}

// Bytes written out by hand from FetchRequest.json v12 (flexible): a schema-level check the self round trips
// above cannot give.
TEST_CASE("FetchRequestV12BytesMatchTheSchema") {
  WireOptions options;
  options.fetch_max_wait_ms = 500;
  options.fetch_min_bytes = 1;
  options.fetch_max_bytes = 0x800000;
  options.fetch_partition_max_bytes = 0x100000;
  auto out = encode_requests(
      kLeader, {gm(GroupId{"t", 0}, kFollower, kLeader, 1, raft::FetchRequest{kFollower, 3, 10, 2, 0})}, options);
  REQUIRE(out.ok());
  CHECK(hex(out->at(0).request.body) ==
        "00000002"  // ReplicaId
        "000001f4"  // MaxWaitMs 500
        "00000001"  // MinBytes
        "00800000"  // MaxBytes
        "00"        // IsolationLevel
        "00000000"  // SessionId
        "ffffffff"  // SessionEpoch -1
        "02"
        "0274"              // Topics [1]: Topic "t"
        "02"                // Partitions [1]
        "00000000"          // Partition
        "00000003"          // CurrentLeaderEpoch
        "000000000000000a"  // FetchOffset
        "00000002"          // LastFetchedEpoch
        "0000000000000000"  // LogStartOffset
        "00100000"          // PartitionMaxBytes
        "00"
        "00"    // partition, topic tagged fields
        "01"    // ForgottenTopicsData []
        "01"    // RackId ""
        "00");  // tagged fields (ClusterId null: absent)
}

// A VoteResponse v0 written by hand, with streamctl's PreVote tag (115) on the first partition.
TEST_CASE("VoteResponseBytesFromTheSchemaDecodeWithPreVote") {
  const Bytes body = unhex(
      "0000"  // ErrorCode
      "02"
      "0274"  // Topics [1]: "t"
      "03"    // Partitions [2]
      "00000000"
      "0000"
      "00000001"
      "00000004"
      "01"  // p0: error 0, leader 1, epoch 4, granted
      "01"
      "73"
      "01"
      "01"  // tags: 1 field, tag 115, size 1, value 1 (PreVote)
      "00000001"
      "004a"
      "ffffffff"
      "00000005"
      "00"  // p1: FENCED_LEADER_EPOCH, leader -1, epoch 5, not granted
      "00"  // no tags
      "00"
      "00");  // topic, message tags
  OutstandingRequest o{52, 0, kLeader, {{GroupId{"t", 0}, 5, kFollower}, {GroupId{"t", 1}, 6, kFollower}}};
  auto back = decode_response(o, kFollower, body);
  REQUIRE_MESSAGE(back.ok(), test::error_text(back));
  REQUIRE(back->size() == 2);
  const auto& v0 = std::get<raft::VoteResponse>(back->at(0).message.body);
  CHECK(v0.vote_granted);
  CHECK(v0.pre_vote);
  CHECK(v0.current_leader.leader_id == 1);
  CHECK(v0.current_leader.leader_epoch == 4);
  CHECK(back->at(0).message.correlation_id == 5);
  CHECK(back->at(0).message.source == kLeader);
  const auto& v1 = std::get<raft::VoteResponse>(back->at(1).message.body);
  CHECK(v1.error_code == raft::kFencedLeaderEpoch);
  CHECK_FALSE(v1.pre_vote);
  CHECK_FALSE(v1.vote_granted);
  CHECK(v1.current_leader.leader_id == -1);
  CHECK(back->at(1).message.correlation_id == 6);
}

// A FetchResponse v12 written by hand from FetchResponse.json: DivergingEpoch (tag 0) and CurrentLeader (tag 1)
// are tagged fields after Records; Records holds one RecordBatch.
TEST_CASE("FetchResponseV12BytesFromTheSchemaDecode") {
  const std::string records = batch(10, 3, 2);
  REQUIRE(records.size() + 1 < 128);  // one-byte uvarint length
  const Bytes prefix = unhex(
      "00000000"  // ThrottleTimeMs
      "0000"      // ErrorCode
      "00000000"  // SessionId
      "02"
      "0274"              // Responses [1]: Topic "t"
      "02"                // Partitions [1]
      "00000000"          // PartitionIndex
      "0000"              // ErrorCode
      "0000000000000014"  // HighWatermark 20
      "ffffffffffffffff"  // LastStableOffset
      "0000000000000002"  // LogStartOffset
      "01"                // AbortedTransactions []
      "ffffffff");        // PreferredReadReplica
  Bytes body = prefix;
  body.push_back(std::byte(records.size() + 1));  // Records: compact bytes
  for (char c : records) body.push_back(std::byte(c));
  const Bytes tail = unhex(
      "02"  // 2 tagged fields
      "00"
      "0d"
      "00000003"
      "000000000000000e"
      "00"  // tag 0, 13 bytes: DivergingEpoch {Epoch 3, EndOffset 14}
      "01"
      "09"
      "00000001"
      "00000005"
      "00"  // tag 1, 9 bytes: CurrentLeader {LeaderId 1, LeaderEpoch 5}
      "00"
      "00");  // topic, message tags
  body.insert(body.end(), tail.begin(), tail.end());
  OutstandingRequest o{1, kFetchVersion, kLeader, {{GroupId{"t", 0}, 41, kFollower}}};
  auto back = decode_response(o, kFollower, body);
  REQUIRE_MESSAGE(back.ok(), test::error_text(back));
  REQUIRE(back->size() == 1);
  CHECK(back->at(0).message.correlation_id == 41);
  const auto& r = std::get<raft::FetchResponse>(back->at(0).message.body);
  CHECK(r.high_watermark == 20);
  CHECK(r.log_start_offset == 2);
  CHECK(r.diverging_epoch == raft::OffsetAndEpoch{14, 3});
  CHECK(r.current_leader.leader_id == 1);
  CHECK(r.current_leader.leader_epoch == 5);
  CHECK(r.snapshot_id == raft::SnapshotId{});
  CHECK(r.records_base_offset == 10);
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0].bytes == records);
  CHECK(r.records[0].epoch == 3);
  CHECK(r.records[0].record_count == 2);
}

TEST_CASE("DescribeQuorumRoundTripsAtV0AndV1") {
  const std::vector<GroupId> groups = {kMeta, kT0};
  auto req = encode_describe_quorum_request(groups);
  REQUIRE(req.ok());
  CHECK(req->api_key == 55);
  CHECK(req->api_version == 1);
  CHECK_FALSE(encode_describe_quorum_request(groups, 2).ok());
  auto decoded = decode_describe_quorum_request(*req);
  REQUIRE(decoded.ok());
  CHECK(*decoded == groups);

  QuorumDescription q;
  q.group = kMeta;
  q.leader_id = 1;
  q.leader_epoch = 7;
  q.high_watermark = 1000;
  q.voters = {{1, 1010, -1, 1700000000500}, {2, 1000, 1700000000400, 1700000000300}, {3, -1, -1, -1}};
  q.observers = {{9, 990, 1700000000100, -1}};
  QuorumDescription other;
  other.group = kT0;
  other.error_code = raft::kNotLeaderOrFollower;
  auto v1 = encode_describe_quorum_response({q, other}, 1);
  REQUIRE(v1.ok());
  auto back = decode_describe_quorum_response(*v1);
  REQUIRE(back.ok());
  CHECK(*back == std::vector<QuorumDescription>{q, other});
  // v0 drops the timestamps (-1 after decoding).
  auto v0 = encode_describe_quorum_response({q}, 0);
  REQUIRE(v0.ok());
  auto back0 = decode_describe_quorum_response(*v0);
  REQUIRE(back0.ok());
  QuorumDescription q0 = q;
  for (auto* list : {&q0.voters, &q0.observers}) {
    for (auto& r : *list) r.last_fetch_timestamp = r.last_caught_up_timestamp = -1;
  }
  CHECK(back0->at(0) == q0);
  for (size_t n = 0; n < v1->body.size(); ++n) {
    KafkaMessage cut = *v1;
    cut.body.resize(n);
    CHECK_FALSE(decode_describe_quorum_response(cut).ok());
  }
}

// ---- errors

TEST_CASE("MalformedInputIsAnErrorNamingTheApi") {
  SUBCASE("garbage request bodies of every API") {
    for (int16_t key : {52, 53, 54, 1, 59}) {
      KafkaMessage m{key, key == 1 ? kFetchVersion : int16_t(0), unhex("ffffffffffffffffff")};
      auto in = decode_request(kFollower, kLeader, 1, m);
      REQUIRE_FALSE(in.ok());
      CHECK(in.error().code == ErrorCode::kCorruption);
      CHECK(in.error().message.find("Request") != std::string::npos);
    }
  }
  SUBCASE("old Fetch, consumer Fetch, APIs without Raft messages") {
    CHECK(decode_request(kFollower, kLeader, 1, KafkaMessage{1, 11, {}}).error().code == ErrorCode::kNotSupported);
    p::FetchRequest consumer;
    consumer.replica_id = -1;
    KafkaMessage m{1, kFetchVersion, {}};
    REQUIRE(p::encode_message(consumer, kFetchVersion, m.body).ok());
    CHECK_FALSE(decode_request(kFollower, kLeader, 1, m).ok());
    CHECK_FALSE(decode_request(kFollower, kLeader, 1, KafkaMessage{3, 0, {}}).ok());
  }
  SUBCASE("a corrupt batch in a Fetch response") {
    InboundRequest in{kFollower,
                      7,
                      1,
                      kFetchVersion,
                      std::nullopt,
                      {gm(kT0, kFollower, kLeader, 7, raft::FetchRequest{kFollower, 3, 10, 3, 0})}};
    raft::FetchResponse f;
    f.records_base_offset = 10;
    f.records = {raft_batch(10, 3, 2)};
    auto resp = encode_response(in, {gm(kT0, kLeader, kFollower, 7, f)});
    REQUIRE(resp.ok());
    Bytes body = resp->body;
    body[body.size() - 10] ^= std::byte{0x5a};  // inside the last record: the CRC no longer matches
    OutstandingRequest o{1, kFetchVersion, kLeader, {{kT0, 1, kFollower}}};
    auto back = decode_response(o, kFollower, body);
    REQUIRE_FALSE(back.ok());
    CHECK(back.error().code == ErrorCode::kCorruption);
    CHECK(back.error().message.find("orders-0") != std::string::npos);
  }
  SUBCASE("batches with a gap are an error, a partial trailing batch is dropped") {
    OutstandingRequest o{1, kFetchVersion, kLeader, {{kT0, 1, kFollower}}};
    // Hand-built Records (encode_response refuses both): [10, 12) then [13, 14) -- offset 12 is missing.
    p::FetchResponse m;
    auto& part = m.responses.emplace_back().partitions.emplace_back();
    m.responses[0].topic = kT0.topic;
    const std::string gap = batch(10, 3, 2) + batch(13, 3, 1);
    part.records = Bytes(reinterpret_cast<const std::byte*>(gap.data()),
                         reinterpret_cast<const std::byte*>(gap.data()) + gap.size());
    Bytes body;
    REQUIRE(p::encode_message(m, kFetchVersion, body).ok());
    auto back = decode_response(o, kFollower, body);
    REQUIRE_FALSE(back.ok());
    CHECK(back.error().message.find("expected 12") != std::string::npos);
    // Two whole batches and the first 30 bytes of a third.
    const std::string cut = batch(10, 3, 2) + batch(12, 3, 1) + batch(13, 3, 1).substr(0, 30);
    part.records = Bytes(reinterpret_cast<const std::byte*>(cut.data()),
                         reinterpret_cast<const std::byte*>(cut.data()) + cut.size());
    body.clear();
    REQUIRE(p::encode_message(m, kFetchVersion, body).ok());
    back = decode_response(o, kFollower, body);
    REQUIRE(back.ok());
    CHECK(std::get<raft::FetchResponse>(back->at(0).message.body).records.size() == 2);
  }
  SUBCASE("a partition that was not asked, a top-level error") {
    InboundRequest in{
        kFollower, 7, 54, 0, std::nullopt, {gm(kT0, kFollower, kLeader, 7, raft::EndQuorumEpochRequest{1, 1, {}})}};
    auto resp = encode_response(in, {gm(kT0, kLeader, kFollower, 7, raft::EndQuorumEpochResponse{})});
    REQUIRE(resp.ok());
    OutstandingRequest o{54, 0, kLeader, {{kT1, 1, kFollower}}};
    auto back = decode_response(o, kFollower, resp->body);
    REQUIRE_FALSE(back.ok());
    CHECK(back.error().message.find("orders-0") != std::string::npos);
    p::EndQuorumEpochResponse failed;
    failed.error_code = 35;  // INCONSISTENT_CLUSTER_ID-like: the request failed as a whole
    Bytes body;
    REQUIRE(p::encode_message(failed, 0, body).ok());
    CHECK_FALSE(decode_response(o, kFollower, body).ok());
  }
  SUBCASE("misuse: responses to encode_requests, answers of another request, batches that lie") {
    CHECK_FALSE(encode_requests(kLeader, {gm(kT0, kFollower, kLeader, 1, raft::VoteResponse{})}).ok());
    CHECK_FALSE(encode_requests(3, {gm(kT0, kFollower, kLeader, 1, raft::VoteRequest{})}).ok());
    InboundRequest in{kFollower,
                      7,
                      1,
                      kFetchVersion,
                      std::nullopt,
                      {gm(kT0, kFollower, kLeader, 7, raft::FetchRequest{kFollower, 3, 10, 3, 0})}};
    CHECK_FALSE(encode_response(in, {gm(kT1, kLeader, kFollower, 7, raft::FetchResponse{})}).ok());
    CHECK_FALSE(encode_response(in, {gm(kT0, kLeader, kFollower, 8, raft::FetchResponse{})}).ok());
    CHECK_FALSE(encode_response(in, {gm(kT0, kLeader, kFollower, 7, raft::VoteResponse{})}).ok());
    raft::FetchResponse lying;
    lying.records_base_offset = 10;
    lying.records = {raft_batch(10, 3, 2)};
    lying.records[0].epoch = 4;  // header says 3
    CHECK_FALSE(encode_response(in, {gm(kT0, kLeader, kFollower, 7, lying)}).ok());
    lying.records = {raft::Batch{3, 1, false, "opaque bytes"}};
    CHECK_FALSE(encode_response(in, {gm(kT0, kLeader, kFollower, 7, lying)}).ok());
  }
  SUBCASE("a garbled PreVote tag") {
    p::VoteRequest v;
    auto& part = v.topics.emplace_back().partitions.emplace_back();
    part.unknown_tagged_fields.push_back(p::RawTaggedField{kPreVoteTag, unhex("0203")});
    KafkaMessage m{52, 0, {}};
    REQUIRE(p::encode_message(v, 0, m.body).ok());
    auto in = decode_request(kFollower, kLeader, 1, m);
    REQUIRE_FALSE(in.ok());
    CHECK(in.error().message.find("PreVote") != std::string::npos);
  }
}

TEST_CASE("RandomlyGarbledRequestsAndResponsesNeverCrash") {
  std::vector<GroupMessage> sent = {
      gm(kT0, kFollower, kLeader, 1, raft::FetchRequest{kFollower, 3, 40, 2, 0}),
      gm(kT1, kFollower, kLeader, 2, raft::VoteRequest{4, kFollower, 3, 9, true}),
      gm(kMeta, kFollower, kLeader, 3, raft::FetchSnapshotRequest{kFollower, 6, {500, 5}, 0}),
      gm(kU0, kFollower, kLeader, 4, raft::BeginQuorumEpochRequest{1, kFollower}),
      gm(kT0, kFollower, kLeader, 5, raft::EndQuorumEpochRequest{1, kFollower, {3}}),
  };
  auto out = encode_requests(kLeader, sent);
  REQUIRE(out.ok());
  std::mt19937 rng(12345);
  int decoded = 0, rejected = 0;
  for (const OutboundRequest& o : *out) {
    auto in = decode_request(kFollower, kLeader, 9, o.request);
    REQUIRE(in.ok());
    auto resp = encode_response(*in, answer(*in));
    REQUIRE(resp.ok());
    for (int round = 0; round < 300; ++round) {
      for (Bytes* body : {&resp->body}) {
        Bytes garbled = *body;
        const int flips = 1 + int(rng() % 4);
        for (int f = 0; f < flips; ++f) garbled[rng() % garbled.size()] = std::byte(rng() & 0xff);
        (decode_response(o.outstanding, kFollower, garbled).ok() ? decoded : rejected)++;
      }
      KafkaMessage req = o.request;
      req.body[rng() % req.body.size()] = std::byte(rng() & 0xff);
      (decode_request(kFollower, kLeader, 9, req).ok() ? decoded : rejected)++;
    }
  }
  MESSAGE(decoded << " garbled inputs still decoded, " << rejected << " rejected");
  CHECK(rejected > 0);
}

}  // namespace
}  // namespace streamctl::cluster
