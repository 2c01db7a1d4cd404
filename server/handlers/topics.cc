// CreateTopics, DeleteTopics, CreatePartitions, DeleteRecords: topic administration through the
// LogManager. Every change holds topics_mu exclusively, so no produce/fetch holds a Log* of a topic being
// deleted. Errors carry Kafka's codes and a message naming the topic (v1+ error_message fields).
#include <set>

#include "engine/group_store.h"
#include "engine/log_config.h"
#include "server/handlers/handlers.h"
#include "base/logging.h"

namespace streamctl::server::handlers {

using kafka::protocol::ErrorCode;
using kafka::protocol::to_int16;

namespace {

struct ItemError {
  ErrorCode code = ErrorCode::kNone;
  std::string message;
  bool ok() const { return code == ErrorCode::kNone; }
};

ItemError topic_error(const Error& e, ErrorCode invalid_argument_code) {
  switch (e.code) {
    case streamctl::ErrorCode::kNotFound: return {ErrorCode::kUnknownTopicOrPartition, e.message};
    case streamctl::ErrorCode::kAlreadyExists: return {ErrorCode::kTopicAlreadyExists, e.message};
    case streamctl::ErrorCode::kInvalidArgument: return {invalid_argument_code, e.message};
    default: return {kafka::protocol::to_kafka_error(e), e.message};
  }
}

// Each replica list of a manual assignment must be exactly this node.
bool single_node_assignment(const std::vector<int32_t>& brokers, int32_t node_id) {
  return brokers.size() == 1 && brokers[0] == node_id;
}

}  // namespace

int32_t partition_count(BrokerServices& s, const std::string& topic) {
  auto md = s.logs->describe_topic(topic);
  return md.ok() ? md->partitions : -1;
}

void forget_topic_offsets(engine::GroupStore& store, const std::string& topic) {
  auto groups = store.list_groups();
  if (!groups.ok()) return;
  for (const auto& g : *groups) {
    auto offsets = store.fetch(g);
    if (!offsets.ok()) continue;
    std::vector<TopicPartition> drop;
    for (const auto& [tp, _] : *offsets) {
      if (tp.topic == topic) drop.push_back(tp);
    }
    if (!drop.empty()) (void)store.delete_offsets(g, drop);
  }
}

kafka::protocol::CreateTopicsResponse handle_create_topics(RequestContext& ctx, const kafka::protocol::CreateTopicsRequest& req) {
  BrokerServices& s = *ctx.services;
  const int16_t version = ctx.api_version();
  kafka::protocol::CreateTopicsResponse resp;
  std::map<std::string, int> name_count;
  for (const auto& t : req.topics) ++name_count[t.name];

  std::unique_lock<std::shared_mutex> topics_lock(s.topics_mu);
  for (const auto& t : req.topics) {
    kafka::protocol::CreateTopicsResponse::CreatableTopicResult r;
    r.name = t.name;
    r.error_message = std::nullopt;
    r.configs = std::nullopt;
    ItemError err;
    int32_t partitions = t.num_partitions;
    const int16_t replication = t.replication_factor == -1 ? 1 : t.replication_factor;
    std::map<std::string, std::string> configs;
    if (name_count[t.name] > 1) {
      err = {ErrorCode::kInvalidRequest, "topic '" + t.name + "' appears more than once in the request"};
    } else if (auto st = engine::LogManager::validate_topic_name(t.name); !st.ok()) {
      err = {ErrorCode::kInvalidTopicException, st.error().message};
    } else if (!t.assignments.empty()) {
      if (t.num_partitions != -1 || t.replication_factor != -1) {
        err = {ErrorCode::kInvalidRequest,
               "both manual assignments and num_partitions/replication_factor were given"};
      } else {
        partitions = int32_t(t.assignments.size());
        std::set<int32_t> seen;
        for (const auto& a : t.assignments) {
          seen.insert(a.partition_index);
          if (!single_node_assignment(a.broker_ids, s.node_id)) {
            err = {ErrorCode::kInvalidReplicaAssignment,
                   "partition " + std::to_string(a.partition_index) + " must be assigned to broker " +
                       std::to_string(s.node_id) + " only (single-node server)"};
            break;
          }
        }
        if (err.ok() && (seen.size() != t.assignments.size() || *seen.begin() != 0 ||
                         *seen.rbegin() != partitions - 1)) {
          err = {ErrorCode::kInvalidReplicaAssignment, "partition indexes must be 0.." + std::to_string(partitions - 1)};
        }
      }
    } else {
      if (partitions == -1) partitions = s.config->default_partitions;
      if (partitions <= 0) {
        err = {ErrorCode::kInvalidPartitions, "number of partitions must be larger than 0, got " +
                                                  std::to_string(t.num_partitions)};
      } else if (replication <= 0) {
        err = {ErrorCode::kInvalidReplicationFactor, "replication factor must be larger than 0"};
      } else if (replication > 1) {
        err = {ErrorCode::kInvalidReplicationFactor, "replication factor: " + std::to_string(replication) +
                                                         " larger than available brokers: 1"};
      }
    }
    if (err.ok()) {
      for (const auto& c : t.configs) {
        if (!c.value) continue;  // null = use the default
        if (auto st = engine::validate_topic_config(c.name, *c.value); !st.ok()) {
          err = {ErrorCode::kInvalidConfig, st.error().message};
          break;
        }
        configs[c.name] = *c.value;
      }
    }
    if (err.ok()) {
      if (auto existing = s.logs->describe_topic(t.name); existing.ok()) {
        err = {ErrorCode::kTopicAlreadyExists, "topic '" + t.name + "' already exists"};
      }
    }
    if (err.ok() && !req.validate_only) {
      auto created = s.logs->create_topic(t.name, partitions, configs);
      if (!created.ok()) {
        err = topic_error(created.error(), ErrorCode::kInvalidConfig);
      } else {
        if (auto id = kafka::protocol::Uuid::from_string(created->topic_id); id.ok()) r.topic_id = *id;
        log_info("topic created").kv("topic", t.name).kv("partitions", partitions)
            .kv("client_id", ctx.client_id());
      }
    }
    r.error_code = to_int16(err.code);
    if (!err.ok()) {
      if (version >= 1) r.error_message = err.message;
    } else {
      r.num_partitions = partitions;
      r.replication_factor = 1;
    }
    resp.topics.push_back(std::move(r));
  }
  return resp;
}

kafka::protocol::DeleteTopicsResponse handle_delete_topics(RequestContext& ctx, const kafka::protocol::DeleteTopicsRequest& req) {
  BrokerServices& s = *ctx.services;
  kafka::protocol::DeleteTopicsResponse resp;
  std::vector<std::pair<std::optional<std::string>, kafka::protocol::Uuid>> targets;
  if (ctx.api_version() >= 6) {
    for (const auto& t : req.topics) targets.emplace_back(t.name, t.topic_id);
  } else {
    for (const auto& n : req.topic_names) targets.emplace_back(n, kafka::protocol::Uuid{});
  }
  std::vector<std::string> deleted;
  {
    std::unique_lock<std::shared_mutex> topics_lock(s.topics_mu);
    for (const auto& [name, id] : targets) {
      kafka::protocol::DeleteTopicsResponse::DeletableTopicResult r;
      r.name = name;
      r.topic_id = id;
      r.error_message = std::nullopt;
      if (!name) {
        r.error_code = to_int16(ErrorCode::kUnknownTopicId);
        resp.responses.push_back(std::move(r));
        continue;
      }
      auto st = s.logs->delete_topic(*name);
      if (!st.ok()) {
        ItemError e = topic_error(st.error(), ErrorCode::kInvalidTopicException);
        r.error_code = to_int16(e.code);
        r.error_message = e.message;
      } else {
        deleted.push_back(*name);
        log_info("topic deleted").kv("topic", *name).kv("client_id", ctx.client_id());
      }
      resp.responses.push_back(std::move(r));
    }
  }
  for (const auto& name : deleted) {
    s.producers->remove_topic(name);
    forget_topic_offsets(s.logs->groups(), name);
  }
  // Long-polling fetches on a deleted topic answer now (with UNKNOWN_TOPIC_OR_PARTITION).
  if (!deleted.empty()) s.appends->notify_all();
  return resp;
}

kafka::protocol::CreatePartitionsResponse handle_create_partitions(RequestContext& ctx,
                                                            const kafka::protocol::CreatePartitionsRequest& req) {
  BrokerServices& s = *ctx.services;
  kafka::protocol::CreatePartitionsResponse resp;
  std::unique_lock<std::shared_mutex> topics_lock(s.topics_mu);
  for (const auto& t : req.topics) {
    kafka::protocol::CreatePartitionsResponse::CreatePartitionsTopicResult r;
    r.name = t.name;
    r.error_message = std::nullopt;
    ItemError err;
    auto md = s.logs->describe_topic(t.name);
    if (!md.ok()) {
      err = topic_error(md.error(), ErrorCode::kInvalidRequest);
    } else if (t.count <= md->partitions) {
      err = {ErrorCode::kInvalidPartitions, "topic currently has " + std::to_string(md->partitions) +
                                                " partitions, which is not fewer than the requested " +
                                                std::to_string(t.count)};
    } else if (t.assignments) {
      if (int32_t(t.assignments->size()) != t.count - md->partitions) {
        err = {ErrorCode::kInvalidReplicaAssignment, "expected " + std::to_string(t.count - md->partitions) +
                                                         " assignments, got " +
                                                         std::to_string(t.assignments->size())};
      }
      for (const auto& a : *t.assignments) {
        if (err.ok() && !single_node_assignment(a.broker_ids, s.node_id)) {
          err = {ErrorCode::kInvalidReplicaAssignment,
                 "new partitions must be assigned to broker " + std::to_string(s.node_id) + " only"};
        }
      }
    }
    if (err.ok() && !req.validate_only) {
      auto st = s.logs->add_partitions(t.name, t.count);
      if (!st.ok()) {
        err = topic_error(st.error(), ErrorCode::kInvalidPartitions);
      } else {
        log_info("partitions added").kv("topic", t.name).kv("partitions", t.count);
      }
    }
    r.error_code = to_int16(err.code);
    if (!err.ok()) r.error_message = err.message;
    resp.results.push_back(std::move(r));
  }
  return resp;
}

kafka::protocol::DeleteRecordsResponse handle_delete_records(RequestContext& ctx, const kafka::protocol::DeleteRecordsRequest& req) {
  BrokerServices& s = *ctx.services;
  kafka::protocol::DeleteRecordsResponse resp;
  std::shared_lock<std::shared_mutex> topics_lock(s.topics_mu);
  for (const auto& t : req.topics) {
    kafka::protocol::DeleteRecordsResponse::DeleteRecordsTopicResult tr;
    tr.name = t.name;
    for (const auto& p : t.partitions) {
      kafka::protocol::DeleteRecordsResponse::DeleteRecordsPartitionResult pr;
      pr.partition_index = p.partition_index;
      pr.low_watermark = -1;
      auto log_r = s.logs->log(t.name, p.partition_index);
      if (!log_r.ok()) {
        pr.error_code = to_int16(ErrorCode::kUnknownTopicOrPartition);
        tr.partitions.push_back(pr);
        continue;
      }
      engine::Log& log = **log_r;
      int64_t offset = p.offset == -1 ? log.high_watermark().value : p.offset;
      if (offset < 0 || offset > log.high_watermark().value) {
        pr.error_code = to_int16(ErrorCode::kOffsetOutOfRange);
        pr.low_watermark = log.log_start_offset().value;
        tr.partitions.push_back(pr);
        continue;
      }
      auto st = offset > log.log_start_offset().value ? log.delete_records_before(Offset(offset))
                                                      : ok_status();
      if (!st.ok()) {
        pr.error_code = to_int16(kafka::protocol::to_kafka_error(st.error()));
        log_warn("delete records failed").kv("topic", t.name).kv("partition", p.partition_index)
            .kv("error", st.error().to_string());
      } else if (offset > 0) {
        log_info("records deleted").kv("topic", t.name).kv("partition", p.partition_index)
            .kv("before_offset", offset);
      }
      pr.low_watermark = log.log_start_offset().value;
      tr.partitions.push_back(pr);
    }
    resp.topics.push_back(std::move(tr));
  }
  return resp;
}

}  // namespace streamctl::server::handlers
