// OffsetCommit and OffsetFetch: committed consumer positions, validated against the group's generation by
// the GroupCoordinator and stored durably in engine::GroupStore (shared with embedded consumers).
// OffsetFetch for a partition with nothing committed answers offset -1 with no error (Kafka's rule).
#include "server/handlers/handlers.h"
#include "base/logging.h"

namespace streamctl::server::handlers {

using kafka::protocol::ErrorCode;
using kafka::protocol::to_int16;

namespace {

constexpr size_t kMaxMetadataBytes = 4096;  // Kafka offset.metadata.max.bytes

}  // namespace

kafka::protocol::OffsetCommitResponse handle_offset_commit(RequestContext& ctx, const kafka::protocol::OffsetCommitRequest& req) {
  BrokerServices& s = *ctx.services;
  const int16_t version = ctx.api_version();
  OffsetCommitParams params;
  params.group_id = req.group_id;
  params.generation_id = version >= 1 ? req.generation_id_or_member_epoch : -1;
  params.member_id = version >= 1 ? req.member_id : "";
  params.group_instance_id = version >= 7 ? req.group_instance_id : std::nullopt;

  // Per-partition checks first; valid partitions go to the store together.
  std::map<TopicPartition, engine::CommittedOffset> offsets;
  std::map<TopicPartition, ErrorCode> item_errors;
  const Timestamp now = s.clock->now();
  for (const auto& t : req.topics) {
    const int32_t partitions = partition_count(s, t.name);
    for (const auto& p : t.partitions) {
      TopicPartition tp{t.name, p.partition_index};
      const std::string metadata = p.committed_metadata.value_or("");
      if (p.partition_index < 0 || p.partition_index >= partitions) {
        item_errors[tp] = ErrorCode::kUnknownTopicOrPartition;
      } else if (metadata.size() > kMaxMetadataBytes) {
        item_errors[tp] = ErrorCode::kOffsetMetadataTooLarge;
      } else {
        engine::CommittedOffset co;
        co.offset = Offset(p.committed_offset);
        co.leader_epoch = version >= 6 ? p.committed_leader_epoch : kNoLeaderEpoch;
        co.metadata = metadata;
        co.commit_time = now;
        offsets[tp] = co;
      }
    }
  }
  OffsetCommitOutcome outcome = s.groups->commit_offsets(params, offsets);
  ErrorCode common = outcome.error;
  if (common == ErrorCode::kNone && !outcome.store_status.ok()) {
    common = kafka::protocol::to_kafka_error(outcome.store_status.error());
    log_error("offset commit failed").kv("group", req.group_id).kv("error", outcome.store_status.error().to_string());
  }

  kafka::protocol::OffsetCommitResponse resp;
  for (const auto& t : req.topics) {
    kafka::protocol::OffsetCommitResponse::OffsetCommitResponseTopic tr;
    tr.name = t.name;
    for (const auto& p : t.partitions) {
      TopicPartition tp{t.name, p.partition_index};
      auto it = item_errors.find(tp);
      kafka::protocol::OffsetCommitResponse::OffsetCommitResponsePartition pr;
      pr.partition_index = p.partition_index;
      pr.error_code = to_int16(it != item_errors.end() ? it->second : common);
      tr.partitions.push_back(pr);
    }
    resp.topics.push_back(std::move(tr));
  }
  return resp;
}

namespace {

// One group's offsets for the requested partitions (all committed ones when `topics` is null).
template <typename Topic, typename TopicResp, typename PartResp>
std::vector<TopicResp> fetch_group_offsets(BrokerServices& s, const std::string& group,
                                           const std::optional<std::vector<Topic>>& topics, int16_t version,
                                           ErrorCode* group_error) {
  std::vector<TopicResp> out;
  auto stored = s.groups->fetch_offsets(group);
  *group_error = ErrorCode::kNone;
  if (!stored.ok()) {
    *group_error = kafka::protocol::to_kafka_error(stored.error());
    log_error("offset fetch failed").kv("group", group).kv("error", stored.error().to_string());
  }
  auto fill = [&](PartResp& pr, const TopicPartition& tp) {
    pr.partition_index = tp.partition;
    pr.committed_offset = -1;
    pr.committed_leader_epoch = -1;
    pr.metadata = "";
    pr.error_code = 0;
    if (!stored.ok()) {
      pr.error_code = to_int16(*group_error);
      return;
    }
    auto it = stored->find(tp);
    if (it == stored->end()) return;
    pr.committed_offset = it->second.offset.value;
    pr.committed_leader_epoch = version >= 5 ? it->second.leader_epoch : -1;
    pr.metadata = it->second.metadata;
  };
  if (!topics) {
    if (!stored.ok()) return out;
    std::map<std::string, TopicResp> by_topic;
    for (const auto& [tp, _] : *stored) {
      TopicResp& tr = by_topic[tp.topic];
      tr.name = tp.topic;
      PartResp pr;
      fill(pr, tp);
      tr.partitions.push_back(std::move(pr));
    }
    for (auto& [_, tr] : by_topic) out.push_back(std::move(tr));
    return out;
  }
  for (const auto& t : *topics) {
    TopicResp tr;
    tr.name = t.name;
    for (int32_t p : t.partition_indexes) {
      PartResp pr;
      fill(pr, TopicPartition{t.name, p});
      tr.partitions.push_back(std::move(pr));
    }
    out.push_back(std::move(tr));
  }
  return out;
}

}  // namespace

kafka::protocol::OffsetFetchResponse handle_offset_fetch(RequestContext& ctx, const kafka::protocol::OffsetFetchRequest& req) {
  BrokerServices& s = *ctx.services;
  const int16_t version = ctx.api_version();
  kafka::protocol::OffsetFetchResponse resp;
  using Resp = kafka::protocol::OffsetFetchResponse;
  using Req = kafka::protocol::OffsetFetchRequest;
  if (version >= 8) {
    for (const auto& g : req.groups) {
      Resp::OffsetFetchResponseGroup gr;
      gr.group_id = g.group_id;
      ErrorCode err;
      gr.topics = fetch_group_offsets<Req::OffsetFetchRequestTopics, Resp::OffsetFetchResponseTopics,
                                      Resp::OffsetFetchResponsePartitions>(s, g.group_id, g.topics, version, &err);
      gr.error_code = to_int16(err);
      resp.groups.push_back(std::move(gr));
    }
    return resp;
  }
  ErrorCode err;
  // v0-1 always name the partitions; a null topic list (all) exists from v2.
  resp.topics = fetch_group_offsets<Req::OffsetFetchRequestTopic, Resp::OffsetFetchResponseTopic,
                                    Resp::OffsetFetchResponsePartition>(s, req.group_id, req.topics, version, &err);
  if (version >= 2) resp.error_code = to_int16(err);
  return resp;
}

}  // namespace streamctl::server::handlers
