#include "cluster/raft_wire.h"

#include <algorithm>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "kafka/format/record_batch.h"
#include "kafka/protocol/api_keys.h"
#include "kafka/protocol/generated/begin_quorum_epoch.h"
#include "kafka/protocol/generated/describe_quorum.h"
#include "kafka/protocol/generated/end_quorum_epoch.h"
#include "kafka/protocol/generated/fetch.h"
#include "kafka/protocol/generated/fetch_snapshot.h"
#include "kafka/protocol/generated/vote.h"

namespace streamctl::cluster {
namespace {

namespace p = kafka::protocol;

constexpr int16_t key(p::ApiKey k) { return static_cast<int16_t>(k); }

std::string group_name(const GroupId& g) { return g.topic + "-" + std::to_string(g.partition); }

// ---- PreVote as a tagged field (see raft_wire.h).

void set_pre_vote(std::vector<p::RawTaggedField>& tags, bool pre_vote) {
  if (pre_vote) tags.push_back(p::RawTaggedField{kPreVoteTag, Bytes{std::byte{1}}});
}

Result<bool> take_pre_vote(std::vector<p::RawTaggedField>& tags, const char* api) {
  bool pre_vote = false;
  for (auto it = tags.begin(); it != tags.end();) {
    if (it->tag != kPreVoteTag) {
      ++it;
      continue;
    }
    if (it->data.size() != 1 || uint8_t(it->data[0]) > 1) {
      return Error::corruption(std::string(api) + ": PreVote tagged field: expected one byte 0 or 1");
    }
    pre_vote = it->data[0] == std::byte{1};
    it = tags.erase(it);
  }
  return pre_vote;
}

// ---- Coalescing: one Kafka message per API, partitions appended per (topic) entry.

// Topic name -> index in the topics vector of one message being built (requests name thousands of groups:
// every lookup here is hashed, never a scan).
using TopicIndex = std::unordered_map<std::string, size_t>;
using GroupSet = std::unordered_set<GroupId, GroupIdHash>;

// The entry of `topics` named `name` (appended when missing); Topic names its topic in member `field`.
template <typename Topic, typename Name>
Topic& topic_entry(std::vector<Topic>& topics, TopicIndex& index, const std::string& name, Name Topic::*field) {
  auto [it, inserted] = index.try_emplace(name, topics.size());
  if (inserted) topics.emplace_back().*field = name;
  return topics[it->second];
}

// The body of `m` at `version`, as the Kafka message of its API.
template <typename M>
Result<KafkaMessage> encode_kafka(const M& m, int16_t version) {
  KafkaMessage out;
  out.api_key = M::kApiKey;
  out.api_version = version;
  STREAMCTL_TRY(p::encode_message(m, version, out.body));
  return out;
}

// One Kafka request being built: its body and which groups it carries.
template <typename M>
struct Pending {
  M body;
  OutstandingRequest outstanding;
  GroupSet groups;
  TopicIndex topics;
  bool has(const GroupId& g) const { return groups.count(g) != 0; }
  void add(OutstandingRequest::Entry entry) {
    groups.insert(entry.group);
    outstanding.groups.push_back(std::move(entry));
  }
};

// The first pending request of `list` that can take group `g` (and satisfies `fits`), appending one if none.
template <typename M, typename Fits>
Pending<M>& slot(std::vector<Pending<M>>& list, const GroupId& g, raft::NodeId to, int16_t version, Fits fits,
                 const WireOptions& options) {
  for (Pending<M>& pending : list) {
    if (!pending.has(g) && fits(pending.body)) return pending;
  }
  Pending<M>& pending = list.emplace_back();
  pending.outstanding.api_key = M::kApiKey;
  pending.outstanding.api_version = version;
  pending.outstanding.destination = to;
  if constexpr (requires { pending.body.cluster_id; }) pending.body.cluster_id = options.cluster_id;
  return pending;
}

const auto kAlwaysFits = [](const auto&) { return true; };

// Raft batches -> the Records field: checks each batch is one whole RecordBatch whose header agrees with the
// Batch (so decoding gives the same Batch back) and that they follow each other from base_offset.
Status append_records(const GroupId& g, const raft::FetchResponse& r, Bytes& out) {
  raft::Offset next = r.records_base_offset;
  for (size_t i = 0; i < r.records.size(); ++i) {
    const raft::Batch& b = r.records[i];
    const auto where = [&] { return "Fetch response of " + group_name(g) + ": batch " + std::to_string(i); };
    if (b.bytes.size() < kBatchHeaderSize) return Error::invalid_argument(where() + " is not a RecordBatch");
    const RecordBatchHeader h = parse_batch_header(as_byte_span(b.bytes));
    if (h.magic != 2 || h.size_bytes() != b.bytes.size()) {
      return Error::invalid_argument(where() + " is not exactly one RecordBatch v2");
    }
    if (h.base_offset.value != next || h.leader_epoch != b.epoch || h.last_offset_delta + 1 != b.record_count ||
        h.is_control() != b.control) {
      return Error::invalid_argument(
          where() + ": header (base offset " + std::to_string(h.base_offset.value) + ", epoch " +
          std::to_string(h.leader_epoch) + ", " + std::to_string(h.last_offset_delta + 1) +
          " offsets) disagrees with the Batch (expected base offset " + std::to_string(next) + ", epoch " +
          std::to_string(b.epoch) + ", " + std::to_string(b.record_count) + " offsets)");
    }
    next = h.next_offset().value;
    const auto bytes = as_byte_span(b.bytes);
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  return ok_status();
}

// The Records field -> Raft batches. A trailing partial batch (a leader cut at max bytes) is dropped, as
// Kafka's fetchers do; anything else malformed (a bad CRC, a gap or overlap between batches: the follower
// appends them at records_base_offset one after the other) is kCorruption.
Status split_records(const GroupId& g, ByteSpan records, raft::FetchResponse& r) {
  BatchIterator it(records, /*verify_crc=*/true);
  raft::Offset next = 0;
  while (it.next()) {
    const RecordBatchHeader& h = it.header();
    if (r.records.empty()) {
      r.records_base_offset = h.base_offset.value;
    } else if (h.base_offset.value != next) {
      return Error::corruption("FetchResponse Records of " + group_name(g) + ": batch " +
                               std::to_string(r.records.size()) + " starts at offset " +
                               std::to_string(h.base_offset.value) + ", expected " + std::to_string(next));
    }
    next = h.next_offset().value;
    raft::Batch b;
    b.epoch = h.leader_epoch;
    b.record_count = h.last_offset_delta + 1;
    b.control = h.is_control();
    b.bytes.assign(reinterpret_cast<const char*>(it.batch().data()), it.batch().size());
    r.records.push_back(std::move(b));
  }
  if (!it.status().ok()) {
    return Error::corruption("FetchResponse Records of " + group_name(g) + ": " + it.status().error().message);
  }
  return ok_status();
}

raft::LeaderIdAndEpoch leader(int32_t id, int32_t epoch) { return raft::LeaderIdAndEpoch{id, epoch}; }

Error unexpected(const char* what, const GroupId& g) {
  return Error::corruption(std::string(what) + ": partition " + group_name(g) + " was not in the request");
}

Error top_level_error(const char* api, int16_t code) {
  return Error::invalid_argument(std::string(api) + " failed: top-level error code " + std::to_string(code) + " (" +
                                 p::error_code_name(p::ErrorCode(code)) + ")");
}

template <typename Body>
const Body* body_of(const GroupMessage& m) {
  return std::get_if<Body>(&m.message.body);
}

GroupMessage make(const GroupId& g, raft::NodeId from, raft::NodeId to, int32_t correlation, raft::MessageBody body) {
  return GroupMessage{g, raft::Message{from, to, correlation, std::move(body)}};
}

// For each partition of a decoded per-topic message: f(topic name, partition).
template <typename Topics, typename NameField, typename F>
void each_partition(Topics& topics, NameField name, F&& f) {
  for (auto& t : topics) {
    for (auto& part : t.partitions) f(t.*name, part);
  }
}

}  // namespace

bool is_request(const raft::MessageBody& body) {
  return std::holds_alternative<raft::VoteRequest>(body) ||
         std::holds_alternative<raft::BeginQuorumEpochRequest>(body) ||
         std::holds_alternative<raft::EndQuorumEpochRequest>(body) ||
         std::holds_alternative<raft::FetchRequest>(body) || std::holds_alternative<raft::FetchSnapshotRequest>(body);
}

// ------------------------------------------------------------------------------------------------------------
// Requests out

Result<std::vector<OutboundRequest>> encode_requests(raft::NodeId to, const std::vector<GroupMessage>& messages,
                                                     const WireOptions& options) {
  std::vector<Pending<p::VoteRequest>> votes;
  std::vector<Pending<p::BeginQuorumEpochRequest>> begins;
  std::vector<Pending<p::EndQuorumEpochRequest>> ends;
  std::vector<Pending<p::FetchRequest>> fetches;
  std::vector<Pending<p::FetchSnapshotRequest>> snapshots;

  for (const GroupMessage& gm : messages) {
    const GroupId& g = gm.group;
    const raft::Message& m = gm.message;
    if (m.destination != to) {
      return Error::invalid_argument("encode_requests: a message of " + group_name(g) + " is for node " +
                                     std::to_string(m.destination) + ", not " + std::to_string(to));
    }
    const OutstandingRequest::Entry entry{g, m.correlation_id, m.source};
    if (const auto* r = std::get_if<raft::VoteRequest>(&m.body)) {
      auto& pending = slot(votes, g, to, kVoteVersion, kAlwaysFits, options);
      auto& part = topic_entry(pending.body.topics, pending.topics, g.topic, &p::VoteRequest::TopicData::topic_name)
                       .partitions.emplace_back();
      part.partition_index = g.partition;
      part.candidate_epoch = r->replica_epoch;
      part.candidate_id = r->replica_id;
      part.last_offset_epoch = r->last_offset_epoch;
      part.last_offset = r->last_offset;
      set_pre_vote(part.unknown_tagged_fields, r->pre_vote);
      pending.add(entry);
    } else if (const auto* r = std::get_if<raft::BeginQuorumEpochRequest>(&m.body)) {
      auto& pending = slot(begins, g, to, kBeginQuorumEpochVersion, kAlwaysFits, options);
      auto& part =
          topic_entry(pending.body.topics, pending.topics, g.topic, &p::BeginQuorumEpochRequest::TopicData::topic_name)
              .partitions.emplace_back();
      part.partition_index = g.partition;
      part.leader_id = r->leader_id;
      part.leader_epoch = r->leader_epoch;
      pending.add(entry);
    } else if (const auto* r = std::get_if<raft::EndQuorumEpochRequest>(&m.body)) {
      auto& pending = slot(ends, g, to, kEndQuorumEpochVersion, kAlwaysFits, options);
      auto& part =
          topic_entry(pending.body.topics, pending.topics, g.topic, &p::EndQuorumEpochRequest::TopicData::topic_name)
              .partitions.emplace_back();
      part.partition_index = g.partition;
      part.leader_id = r->leader_id;
      part.leader_epoch = r->leader_epoch;
      part.preferred_successors = r->preferred_successors;
      pending.add(entry);
    } else if (const auto* r = std::get_if<raft::FetchRequest>(&m.body)) {
      auto& pending = slot(
          fetches, g, to, kFetchVersion, [&](const p::FetchRequest& f) { return f.replica_id == r->replica_id; },
          options);
      if (pending.outstanding.groups.empty()) {
        pending.body.replica_id = r->replica_id;
        pending.body.max_wait_ms = options.fetch_max_wait_ms;
        pending.body.min_bytes = options.fetch_min_bytes;
        pending.body.max_bytes = options.fetch_max_bytes;
        pending.body.session_id = 0;  // full fetch, no incremental session
        pending.body.session_epoch = -1;
      }
      auto& part = topic_entry(pending.body.topics, pending.topics, g.topic, &p::FetchRequest::FetchTopic::topic)
                       .partitions.emplace_back();
      part.partition = g.partition;
      part.current_leader_epoch = r->current_leader_epoch;
      part.fetch_offset = r->fetch_offset;
      part.last_fetched_epoch = r->last_fetched_epoch;
      part.log_start_offset = r->log_start_offset;
      part.partition_max_bytes = options.fetch_partition_max_bytes;
      pending.add(entry);
    } else if (const auto* r = std::get_if<raft::FetchSnapshotRequest>(&m.body)) {
      auto& pending = slot(
          snapshots, g, to, kFetchSnapshotVersion,
          [&](const p::FetchSnapshotRequest& f) { return f.replica_id == r->replica_id; }, options);
      if (pending.outstanding.groups.empty()) {
        pending.body.replica_id = r->replica_id;
        pending.body.max_bytes = options.snapshot_max_bytes;
      }
      auto& part =
          topic_entry(pending.body.topics, pending.topics, g.topic, &p::FetchSnapshotRequest::TopicSnapshot::name)
              .partitions.emplace_back();
      part.partition = g.partition;
      part.current_leader_epoch = r->current_leader_epoch;
      part.snapshot_id.end_offset = r->snapshot_id.offset;
      part.snapshot_id.epoch = r->snapshot_id.epoch;
      part.position = r->position;
      pending.add(entry);
    } else {
      return Error::invalid_argument("encode_requests: a response of " + group_name(g) +
                                     " (responses go out with encode_response)");
    }
  }

  std::vector<OutboundRequest> out;
  Status status;
  auto flush = [&](auto& list) {
    for (auto& pending : list) {
      // The wire groups partitions by topic: put the entries in that order (within a topic, they already are).
      std::stable_sort(pending.outstanding.groups.begin(), pending.outstanding.groups.end(),
                       [&](const OutstandingRequest::Entry& a, const OutstandingRequest::Entry& b) {
                         return pending.topics.at(a.group.topic) < pending.topics.at(b.group.topic);
                       });
      OutboundRequest o;
      auto request = encode_kafka(pending.body, pending.outstanding.api_version);
      if (!request.ok()) {
        if (status.ok()) status = std::move(request).error();
        continue;
      }
      o.request = std::move(request).value();
      o.outstanding = std::move(pending.outstanding);
      out.push_back(std::move(o));
    }
  };
  flush(votes);
  flush(begins);
  flush(ends);
  flush(fetches);
  flush(snapshots);
  if (!status.ok()) return std::move(status).error();
  return out;
}

// ------------------------------------------------------------------------------------------------------------
// Requests in

Result<InboundRequest> decode_request(raft::NodeId from, raft::NodeId self, int32_t correlation_id,
                                      const KafkaMessage& request) {
  InboundRequest in;
  in.source = from;
  in.correlation_id = correlation_id;
  in.api_key = request.api_key;
  in.api_version = request.api_version;
  auto add = [&](const std::string& topic, int32_t partition, raft::MessageBody body) {
    in.requests.push_back(make(GroupId{topic, partition}, from, self, correlation_id, std::move(body)));
  };
  switch (static_cast<p::ApiKey>(request.api_key)) {
    case p::ApiKey::kVote: {
      STREAMCTL_ASSIGN_OR_RETURN(auto m, p::decode_message<p::VoteRequest>(request.body, request.api_version));
      in.cluster_id = m.cluster_id;
      for (auto& t : m.topics) {
        for (auto& part : t.partitions) {
          STREAMCTL_ASSIGN_OR_RETURN(bool pre_vote, take_pre_vote(part.unknown_tagged_fields, "VoteRequest"));
          raft::VoteRequest r;
          r.replica_epoch = part.candidate_epoch;
          r.replica_id = part.candidate_id;
          r.last_offset_epoch = part.last_offset_epoch;
          r.last_offset = part.last_offset;
          r.pre_vote = pre_vote;
          add(t.topic_name, part.partition_index, r);
        }
      }
      break;
    }
    case p::ApiKey::kBeginQuorumEpoch: {
      STREAMCTL_ASSIGN_OR_RETURN(auto m,
                                 p::decode_message<p::BeginQuorumEpochRequest>(request.body, request.api_version));
      in.cluster_id = m.cluster_id;
      each_partition(
          m.topics, &p::BeginQuorumEpochRequest::TopicData::topic_name,
          [&](const std::string& topic, const auto& part) {
            add(topic, part.partition_index, raft::BeginQuorumEpochRequest{part.leader_epoch, part.leader_id});
          });
      break;
    }
    case p::ApiKey::kEndQuorumEpoch: {
      STREAMCTL_ASSIGN_OR_RETURN(auto m,
                                 p::decode_message<p::EndQuorumEpochRequest>(request.body, request.api_version));
      in.cluster_id = m.cluster_id;
      each_partition(m.topics, &p::EndQuorumEpochRequest::TopicData::topic_name,
                     [&](const std::string& topic, const auto& part) {
                       add(topic, part.partition_index,
                           raft::EndQuorumEpochRequest{part.leader_epoch, part.leader_id, part.preferred_successors});
                     });
      break;
    }
    case p::ApiKey::kFetch: {
      if (request.api_version < kFetchVersion) {
        return Error::not_supported("FetchRequest v" + std::to_string(request.api_version) +
                                    " from a peer: Raft needs v12+ (LastFetchedEpoch)");
      }
      STREAMCTL_ASSIGN_OR_RETURN(auto m, p::decode_message<p::FetchRequest>(request.body, request.api_version));
      in.cluster_id = m.cluster_id;
      if (m.replica_id < 0) {
        return Error::invalid_argument("FetchRequest.replica_id " + std::to_string(m.replica_id) +
                                       ": a consumer fetch, not a replica's");
      }
      each_partition(m.topics, &p::FetchRequest::FetchTopic::topic, [&](const std::string& topic, const auto& part) {
        raft::FetchRequest r;
        r.replica_id = m.replica_id;
        r.current_leader_epoch = part.current_leader_epoch;
        r.fetch_offset = part.fetch_offset;
        r.last_fetched_epoch = part.last_fetched_epoch;
        r.log_start_offset = part.log_start_offset;
        add(topic, part.partition, r);
      });
      break;
    }
    case p::ApiKey::kFetchSnapshot: {
      STREAMCTL_ASSIGN_OR_RETURN(auto m, p::decode_message<p::FetchSnapshotRequest>(request.body, request.api_version));
      in.cluster_id = m.cluster_id;
      each_partition(m.topics, &p::FetchSnapshotRequest::TopicSnapshot::name,
                     [&](const std::string& topic, const auto& part) {
                       raft::FetchSnapshotRequest r;
                       r.replica_id = m.replica_id;
                       r.current_leader_epoch = part.current_leader_epoch;
                       r.snapshot_id = raft::SnapshotId{part.snapshot_id.end_offset, part.snapshot_id.epoch};
                       r.position = part.position;
                       add(topic, part.partition, r);
                     });
      break;
    }
    default:
      return Error::not_supported(std::string("decode_request: API ") + p::api_name(request.api_key) + " (key " +
                                  std::to_string(request.api_key) + ") carries no Raft message");
  }
  return in;
}

// ------------------------------------------------------------------------------------------------------------
// Responses out

namespace {

// The responses to `request` of body type Body, last answer per group, in request order.
template <typename Body>
Result<std::vector<std::pair<GroupId, const Body*>>> answers(const InboundRequest& request,
                                                             const std::vector<GroupMessage>& responses,
                                                             const char* api) {
  GroupSet asked;
  for (const GroupMessage& req : request.requests) asked.insert(req.group);
  std::unordered_map<GroupId, const Body*, GroupIdHash> last;
  for (const GroupMessage& resp : responses) {
    if (asked.count(resp.group) == 0 || resp.message.correlation_id != request.correlation_id) {
      return Error::invalid_argument(std::string("encode_response: a response of ") + group_name(resp.group) +
                                     " (correlation id " + std::to_string(resp.message.correlation_id) +
                                     ") does not answer this " + api + " request");
    }
    const Body* body = body_of<Body>(resp);
    if (body == nullptr) {
      return Error::invalid_argument(std::string("encode_response: ") + api + " of " + group_name(resp.group) +
                                     " answered with another message type");
    }
    last[resp.group] = body;
  }
  std::vector<std::pair<GroupId, const Body*>> out;
  for (const GroupMessage& req : request.requests) {
    auto it = last.find(req.group);
    if (it == last.end()) continue;
    out.emplace_back(req.group, it->second);
    last.erase(it);  // a group the request named twice is answered once
  }
  return out;
}

// BeginQuorumEpoch and EndQuorumEpoch responses: per partition an error code and the current leader.
template <typename Response, typename Body>
Result<KafkaMessage> encode_leader_response(const InboundRequest& request, const std::vector<GroupMessage>& responses,
                                            const char* api) {
  STREAMCTL_ASSIGN_OR_RETURN(auto list, answers<Body>(request, responses, api));
  Response m;
  TopicIndex index;
  for (const auto& [g, r] : list) {
    auto& part = topic_entry(m.topics, index, g.topic, &Response::TopicData::topic_name).partitions.emplace_back();
    part.partition_index = g.partition;
    part.error_code = r->error_code;
    part.leader_id = r->current_leader.leader_id;
    part.leader_epoch = r->current_leader.leader_epoch;
  }
  return encode_kafka(m, request.api_version);
}

// add(api, topic, partition, body) -> Status, as in decode_response.
template <typename Response, typename Body, typename Add>
Status decode_leader_response(ByteSpan bytes, int16_t version, const char* api, Add& add) {
  STREAMCTL_ASSIGN_OR_RETURN(auto m, p::decode_message<Response>(bytes, version));
  if (m.error_code != 0) return top_level_error(api, m.error_code);
  for (auto& t : m.topics) {
    for (auto& part : t.partitions) {
      STREAMCTL_TRY(add(Response::kName, t.topic_name, part.partition_index,
                        Body{part.error_code, leader(part.leader_id, part.leader_epoch)}));
    }
  }
  return ok_status();
}

}  // namespace

Result<KafkaMessage> encode_response(const InboundRequest& request, const std::vector<GroupMessage>& responses) {
  switch (static_cast<p::ApiKey>(request.api_key)) {
    case p::ApiKey::kVote: {
      STREAMCTL_ASSIGN_OR_RETURN(auto list, answers<raft::VoteResponse>(request, responses, "Vote"));
      p::VoteResponse m;
      TopicIndex index;
      for (const auto& [g, r] : list) {
        auto& part =
            topic_entry(m.topics, index, g.topic, &p::VoteResponse::TopicData::topic_name).partitions.emplace_back();
        part.partition_index = g.partition;
        part.error_code = r->error_code;
        part.leader_id = r->current_leader.leader_id;
        part.leader_epoch = r->current_leader.leader_epoch;
        part.vote_granted = r->vote_granted;
        set_pre_vote(part.unknown_tagged_fields, r->pre_vote);
      }
      return encode_kafka(m, request.api_version);
    }
    case p::ApiKey::kBeginQuorumEpoch:
      return encode_leader_response<p::BeginQuorumEpochResponse, raft::BeginQuorumEpochResponse>(request, responses,
                                                                                                 "BeginQuorumEpoch");
    case p::ApiKey::kEndQuorumEpoch:
      return encode_leader_response<p::EndQuorumEpochResponse, raft::EndQuorumEpochResponse>(request, responses,
                                                                                             "EndQuorumEpoch");
    case p::ApiKey::kFetch: {
      STREAMCTL_ASSIGN_OR_RETURN(auto list, answers<raft::FetchResponse>(request, responses, "Fetch"));
      p::FetchResponse m;
      TopicIndex index;
      for (const auto& [g, r] : list) {
        auto& part = topic_entry(m.responses, index, g.topic, &p::FetchResponse::FetchableTopicResponse::topic)
                         .partitions.emplace_back();
        part.partition_index = g.partition;
        part.error_code = r->error_code;
        part.high_watermark = r->high_watermark;
        part.log_start_offset = r->log_start_offset;
        part.diverging_epoch.epoch = r->diverging_epoch.epoch;
        part.diverging_epoch.end_offset = r->diverging_epoch.offset;
        part.current_leader.leader_id = r->current_leader.leader_id;
        part.current_leader.leader_epoch = r->current_leader.leader_epoch;
        part.snapshot_id.end_offset = r->snapshot_id.offset;
        part.snapshot_id.epoch = r->snapshot_id.epoch;
        Bytes records;
        STREAMCTL_TRY(append_records(g, *r, records));
        part.records = std::move(records);
      }
      return encode_kafka(m, request.api_version);
    }
    case p::ApiKey::kFetchSnapshot: {
      STREAMCTL_ASSIGN_OR_RETURN(auto list, answers<raft::FetchSnapshotResponse>(request, responses, "FetchSnapshot"));
      p::FetchSnapshotResponse m;
      TopicIndex index;
      for (const auto& [g, r] : list) {
        auto& part = topic_entry(m.topics, index, g.topic, &p::FetchSnapshotResponse::TopicSnapshot::name)
                         .partitions.emplace_back();
        part.index = g.partition;
        part.error_code = r->error_code;
        part.snapshot_id.end_offset = r->snapshot_id.offset;
        part.snapshot_id.epoch = r->snapshot_id.epoch;
        part.current_leader.leader_id = r->current_leader.leader_id;
        part.current_leader.leader_epoch = r->current_leader.leader_epoch;
        part.size = r->size;
        part.position = r->position;
        const auto bytes = as_byte_span(r->unaligned_records);
        part.unaligned_records.assign(bytes.begin(), bytes.end());
      }
      return encode_kafka(m, request.api_version);
    }
    default:
      return Error::invalid_argument(std::string("encode_response: API ") + p::api_name(request.api_key) +
                                     " carries no Raft message");
  }
}

// ------------------------------------------------------------------------------------------------------------
// Responses in

Result<std::vector<GroupMessage>> decode_response(const OutstandingRequest& outstanding, raft::NodeId self,
                                                  ByteSpan body) {
  std::vector<GroupMessage> out;
  // The Raft correlation id each group's request went out with; a partition not asked is kCorruption.
  std::unordered_map<GroupId, int32_t, GroupIdHash> correlations;
  for (const auto& e : outstanding.groups) correlations.emplace(e.group, e.correlation_id);
  auto correlation = [&](const GroupId& g, const char* api) -> Result<int32_t> {
    auto it = correlations.find(g);
    if (it == correlations.end()) return unexpected(api, g);
    return it->second;
  };
  auto add = [&](const char* api, const std::string& topic, int32_t partition, raft::MessageBody b) -> Status {
    GroupId g{topic, partition};
    STREAMCTL_ASSIGN_OR_RETURN(int32_t c, correlation(g, api));
    out.push_back(make(g, outstanding.destination, self, c, std::move(b)));
    return ok_status();
  };
  switch (static_cast<p::ApiKey>(outstanding.api_key)) {
    case p::ApiKey::kVote: {
      STREAMCTL_ASSIGN_OR_RETURN(auto m, p::decode_message<p::VoteResponse>(body, outstanding.api_version));
      if (m.error_code != 0) return top_level_error("Vote", m.error_code);
      for (auto& t : m.topics) {
        for (auto& part : t.partitions) {
          STREAMCTL_ASSIGN_OR_RETURN(bool pre_vote, take_pre_vote(part.unknown_tagged_fields, "VoteResponse"));
          raft::VoteResponse r;
          r.error_code = part.error_code;
          r.current_leader = leader(part.leader_id, part.leader_epoch);
          r.vote_granted = part.vote_granted;
          r.pre_vote = pre_vote;
          STREAMCTL_TRY(add("VoteResponse", t.topic_name, part.partition_index, r));
        }
      }
      break;
    }
    case p::ApiKey::kBeginQuorumEpoch:
      STREAMCTL_TRY((decode_leader_response<p::BeginQuorumEpochResponse, raft::BeginQuorumEpochResponse>(
          body, outstanding.api_version, "BeginQuorumEpoch", add)));
      break;
    case p::ApiKey::kEndQuorumEpoch:
      STREAMCTL_TRY((decode_leader_response<p::EndQuorumEpochResponse, raft::EndQuorumEpochResponse>(
          body, outstanding.api_version, "EndQuorumEpoch", add)));
      break;
    case p::ApiKey::kFetch: {
      STREAMCTL_ASSIGN_OR_RETURN(auto m, p::decode_message<p::FetchResponse>(body, outstanding.api_version));
      if (m.error_code != 0) return top_level_error("Fetch", m.error_code);
      for (auto& t : m.responses) {
        for (auto& part : t.partitions) {
          const GroupId g{t.topic, part.partition_index};
          raft::FetchResponse r;
          r.error_code = part.error_code;
          r.high_watermark = part.high_watermark;
          r.log_start_offset = part.log_start_offset;
          r.diverging_epoch = raft::OffsetAndEpoch{part.diverging_epoch.end_offset, part.diverging_epoch.epoch};
          r.current_leader = leader(part.current_leader.leader_id, part.current_leader.leader_epoch);
          r.snapshot_id = raft::SnapshotId{part.snapshot_id.end_offset, part.snapshot_id.epoch};
          if (part.records) STREAMCTL_TRY(split_records(g, *part.records, r));
          STREAMCTL_TRY(add("FetchResponse", t.topic, part.partition_index, std::move(r)));
        }
      }
      break;
    }
    case p::ApiKey::kFetchSnapshot: {
      STREAMCTL_ASSIGN_OR_RETURN(auto m, p::decode_message<p::FetchSnapshotResponse>(body, outstanding.api_version));
      if (m.error_code != 0) return top_level_error("FetchSnapshot", m.error_code);
      for (auto& t : m.topics) {
        for (auto& part : t.partitions) {
          raft::FetchSnapshotResponse r;
          r.error_code = part.error_code;
          r.current_leader = leader(part.current_leader.leader_id, part.current_leader.leader_epoch);
          r.snapshot_id = raft::SnapshotId{part.snapshot_id.end_offset, part.snapshot_id.epoch};
          r.size = part.size;
          r.position = part.position;
          r.unaligned_records.assign(reinterpret_cast<const char*>(part.unaligned_records.data()),
                                     part.unaligned_records.size());
          STREAMCTL_TRY(add("FetchSnapshotResponse", t.name, part.index, std::move(r)));
        }
      }
      break;
    }
    default:
      return Error::invalid_argument(std::string("decode_response: API ") + p::api_name(outstanding.api_key) +
                                     " carries no Raft message");
  }
  return out;
}

// ------------------------------------------------------------------------------------------------------------
// DescribeQuorum

Result<KafkaMessage> encode_describe_quorum_request(const std::vector<GroupId>& groups, int16_t version) {
  p::DescribeQuorumRequest m;
  TopicIndex index;
  for (const GroupId& g : groups) {
    topic_entry(m.topics, index, g.topic, &p::DescribeQuorumRequest::TopicData::topic_name)
        .partitions.emplace_back()
        .partition_index = g.partition;
  }
  return encode_kafka(m, version);
}

Result<std::vector<GroupId>> decode_describe_quorum_request(const KafkaMessage& request) {
  STREAMCTL_ASSIGN_OR_RETURN(auto m, p::decode_message<p::DescribeQuorumRequest>(request.body, request.api_version));
  std::vector<GroupId> out;
  each_partition(m.topics, &p::DescribeQuorumRequest::TopicData::topic_name,
                 [&](const std::string& topic, const auto& part) {
                   out.push_back(GroupId{topic, part.partition_index});
                 });
  return out;
}

namespace {

std::vector<p::DescribeQuorumResponse::ReplicaState> to_wire(const std::vector<ReplicaDescription>& replicas,
                                                             int16_t version) {
  std::vector<p::DescribeQuorumResponse::ReplicaState> out;
  for (const ReplicaDescription& r : replicas) {
    auto& s = out.emplace_back();
    s.replica_id = r.replica_id;
    s.log_end_offset = r.log_end_offset;
    if (version >= 1) {
      s.last_fetch_timestamp = r.last_fetch_timestamp;
      s.last_caught_up_timestamp = r.last_caught_up_timestamp;
    }
  }
  return out;
}

std::vector<ReplicaDescription> from_wire(const std::vector<p::DescribeQuorumResponse::ReplicaState>& replicas) {
  std::vector<ReplicaDescription> out;
  for (const auto& s : replicas) {
    out.push_back(
        ReplicaDescription{s.replica_id, s.log_end_offset, s.last_fetch_timestamp, s.last_caught_up_timestamp});
  }
  return out;
}

}  // namespace

Result<KafkaMessage> encode_describe_quorum_response(const std::vector<QuorumDescription>& quorums, int16_t version) {
  p::DescribeQuorumResponse m;
  TopicIndex index;
  for (const QuorumDescription& q : quorums) {
    auto& part = topic_entry(m.topics, index, q.group.topic, &p::DescribeQuorumResponse::TopicData::topic_name)
                     .partitions.emplace_back();
    part.partition_index = q.group.partition;
    part.error_code = q.error_code;
    part.leader_id = q.leader_id;
    part.leader_epoch = q.leader_epoch;
    part.high_watermark = q.high_watermark;
    part.current_voters = to_wire(q.voters, version);
    part.observers = to_wire(q.observers, version);
  }
  return encode_kafka(m, version);
}

Result<std::vector<QuorumDescription>> decode_describe_quorum_response(const KafkaMessage& response) {
  STREAMCTL_ASSIGN_OR_RETURN(auto m, p::decode_message<p::DescribeQuorumResponse>(response.body, response.api_version));
  if (m.error_code != 0) return top_level_error("DescribeQuorum", m.error_code);
  std::vector<QuorumDescription> out;
  for (const auto& t : m.topics) {
    for (const auto& part : t.partitions) {
      QuorumDescription q;
      q.group = GroupId{t.topic_name, part.partition_index};
      q.error_code = part.error_code;
      q.leader_id = part.leader_id;
      q.leader_epoch = part.leader_epoch;
      q.high_watermark = part.high_watermark;
      q.voters = from_wire(part.current_voters);
      q.observers = from_wire(part.observers);
      out.push_back(std::move(q));
    }
  }
  return out;
}

}  // namespace streamctl::cluster
