// Metadata, ApiVersions and DescribeCluster: who the broker is and what it serves.
// This single node is the only broker, the controller and every partition's leader (leader epoch 0),
// with replicas = ISR = [node id]; clients reconnect to the advertised host:port for admin and group
// traffic, so it must be reachable (COMPAT.md §4 rule 5). Metadata auto-creates missing topics (Kafka's
// auto.create.topics.enable) when the request allows it: always for v0-3, per flag for v4+.
#include "server/handlers/handlers.h"
#include "base/logging.h"
#include "kafka/protocol/api_keys.h"

namespace streamctl::server::handlers {

using kafka::protocol::ErrorCode;
using kafka::protocol::MetadataRequest;
using kafka::protocol::MetadataResponse;
using kafka::protocol::to_int16;

namespace {

MetadataResponse::MetadataResponseTopic describe(BrokerServices& s, const engine::TopicMetadata& md) {
  MetadataResponse::MetadataResponseTopic t;
  t.error_code = 0;
  t.name.emplace(md.name);
  if (auto id = kafka::protocol::Uuid::from_string(md.topic_id); id.ok()) t.topic_id = *id;
  t.is_internal = false;
  for (int32_t p = 0; p < md.partitions; ++p) {
    MetadataResponse::MetadataResponsePartition mp;
    mp.error_code = 0;
    mp.partition_index = p;
    mp.leader_id = s.node_id;
    mp.leader_epoch = 0;
    mp.replica_nodes = {s.node_id};
    mp.isr_nodes = {s.node_id};
    t.partitions.push_back(std::move(mp));
  }
  return t;
}

}  // namespace

MetadataResponse handle_metadata(RequestContext& ctx, const MetadataRequest& req) {
  BrokerServices& s = *ctx.services;
  const int16_t version = ctx.api_version();
  MetadataResponse resp;
  MetadataResponse::MetadataResponseBroker b;
  b.node_id = s.node_id;
  b.host = ctx.advertised_host();
  b.port = ctx.advertised_port();
  resp.brokers.push_back(b);
  resp.cluster_id = s.cluster_id;
  resp.controller_id = s.node_id;

  const bool all_topics = !req.topics || (version == 0 && req.topics->empty());
  if (all_topics) {
    auto names = s.logs->list_topics();
    if (names.ok()) {
      for (const auto& name : *names) {
        // Kafka leaves out the topics the principal may not describe.
        if (!ctx.allowed(security::AclOperation::kDescribe, security::ResourceType::kTopic, name)) continue;
        auto md = s.logs->describe_topic(name);
        if (md.ok()) resp.topics.push_back(describe(s, *md));
      }
    } else {
      log_error("metadata: cannot list topics").kv("error", names.error().to_string());
    }
    return resp;
  }
  const bool may_create = s.config->auto_create_topics && (version < 4 || req.allow_auto_topic_creation);
  for (const auto& rt : *req.topics) {
    if (!rt.name) {
      MetadataResponse::MetadataResponseTopic t;
      t.error_code = to_int16(ErrorCode::kUnknownTopicId);
      t.name = std::nullopt;
      t.topic_id = rt.topic_id;
      resp.topics.push_back(std::move(t));
      continue;
    }
    const std::string& name = *rt.name;
    if (!ctx.allowed(security::AclOperation::kDescribe, security::ResourceType::kTopic, name)) {
      MetadataResponse::MetadataResponseTopic t;
      t.name = name;
      t.error_code = to_int16(ErrorCode::kTopicAuthorizationFailed);
      resp.topics.push_back(std::move(t));
      continue;
    }
    auto md = s.logs->describe_topic(name);
    // Auto-creation needs CREATE on the cluster or on the topic (Kafka's rule).
    const bool may_create_this =
        may_create && (ctx.allowed(security::AclOperation::kCreate, security::ResourceType::kCluster, "kafka-cluster") ||
                       ctx.allowed(security::AclOperation::kCreate, security::ResourceType::kTopic, name));
    if (!md.ok() && md.error().code == streamctl::ErrorCode::kNotFound && may_create_this &&
        engine::LogManager::validate_topic_name(name).ok()) {
      std::unique_lock<std::shared_mutex> topics_lock(s.topics_mu);
      auto created = s.logs->create_topic(name, s.config->default_partitions, {});
      if (created.ok()) {
        log_info("topic auto-created").kv("topic", name).kv("partitions", created->partitions)
            .kv("client_id", ctx.client_id());
        md = std::move(created);
      } else if (created.error().code == streamctl::ErrorCode::kAlreadyExists) {
        md = s.logs->describe_topic(name);  // created by someone else meanwhile
      } else {
        log_warn("topic auto-create failed").kv("topic", name).kv("error", created.error().to_string());
      }
    }
    if (md.ok()) {
      resp.topics.push_back(describe(s, *md));
    } else {
      MetadataResponse::MetadataResponseTopic t;
      t.name = name;
      t.error_code = to_int16(engine::LogManager::validate_topic_name(name).ok()
                                  ? ErrorCode::kUnknownTopicOrPartition
                                  : ErrorCode::kInvalidTopicException);
      resp.topics.push_back(std::move(t));
    }
  }
  return resp;
}

kafka::protocol::ApiVersionsResponse handle_api_versions(RequestContext&, const kafka::protocol::ApiVersionsRequest&) {
  return kafka::protocol::make_api_versions_response(ErrorCode::kNone);
}

kafka::protocol::DescribeClusterResponse handle_describe_cluster(RequestContext& ctx,
                                                          const kafka::protocol::DescribeClusterRequest&) {
  BrokerServices& s = *ctx.services;
  kafka::protocol::DescribeClusterResponse resp;
  resp.error_code = 0;
  resp.error_message = std::nullopt;
  resp.cluster_id = s.cluster_id;
  resp.controller_id = s.node_id;
  kafka::protocol::DescribeClusterResponse::DescribeClusterBroker b;
  b.broker_id = s.node_id;
  b.host = ctx.advertised_host();
  b.port = ctx.advertised_port();
  resp.brokers.push_back(b);
  return resp;
}

}  // namespace streamctl::server::handlers
