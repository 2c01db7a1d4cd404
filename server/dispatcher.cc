#include "server/dispatcher.h"

#include "server/handlers/handlers.h"
#include "base/logging.h"
#include "kafka/protocol/api_keys.h"
#include "kafka/protocol/frame.h"
#include "kafka/protocol/generated/messages.h"

namespace streamctl::server {

namespace p = kafka::protocol;

namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// Encodes size prefix + header + body; records fields listed in `files` are left to splices.
Reply encode_reply(int16_t api_key, int16_t version, int32_t correlation_id, const p::ResponseBody& body,
                   std::vector<handlers::FetchAnswer::FileRecords>* files = nullptr) {
  Reply reply;
  p::ExternalRecords external;
  if (files != nullptr) {
    for (const auto& f : *files) {
      uint64_t length = 0;
      for (const auto& s : f.slices) length += s.length;
      external.fields.push_back({f.partition, length, 0});
    }
  }
  auto st = p::encode_response_frame(correlation_id, version, body, reply.frame,
                                     external.fields.empty() ? nullptr : &external);
  if (st.ok()) {
    for (size_t i = 0; i < external.fields.size(); ++i) {
      for (auto& s : (*files)[i].slices) reply.splices.push_back({external.fields[i].position, std::move(s)});
    }
  } else {
    reply.action = Reply::Action::kClose;
    reply.frame.clear();
    reply.reason = "cannot encode the response: " + st.error().message;
    log_error("cannot encode response").kv("api", p::api_name(api_key)).kv("version", version)
        .kv("error", st.error().message);
  }
  return reply;
}

// With --authorizer, checks the resources a request names before its handler runs (Produce, Fetch and
// Metadata are checked per topic in their handlers). All or nothing: one denied resource answers the whole
// request with Kafka's code for it (TOPIC_/GROUP_/CLUSTER_AUTHORIZATION_FAILED) in every error field, where
// Kafka would answer per item. Returns kNone when allowed.
p::ErrorCode request_authorization(const RequestContext& ctx, const p::RequestBody& body) {
  using security::AclOperation;
  using security::ResourceType;
  if (ctx.services->authorizer == nullptr) return p::ErrorCode::kNone;
  p::ErrorCode denied = p::ErrorCode::kNone;
  auto need = [&](AclOperation op, ResourceType type, const std::string& name) {
    if (denied != p::ErrorCode::kNone || ctx.allowed(op, type, name)) return;
    denied = type == ResourceType::kTopic   ? p::ErrorCode::kTopicAuthorizationFailed
             : type == ResourceType::kGroup ? p::ErrorCode::kGroupAuthorizationFailed
                                            : p::ErrorCode::kClusterAuthorizationFailed;
  };
  auto topic = [&](AclOperation op, const std::string& name) { need(op, ResourceType::kTopic, name); };
  auto group = [&](AclOperation op, const std::string& name) { need(op, ResourceType::kGroup, name); };
  // Config resources: 2 = topic, 4 = broker (the cluster).
  auto config = [&](AclOperation op, int8_t type, const std::string& name) {
    if (type == 2) topic(op, name);
    if (type == 4) need(op, ResourceType::kCluster, "kafka-cluster");
  };
  const AclOperation kRead = AclOperation::kRead;
  if (auto* r = std::get_if<p::JoinGroupRequest>(&body)) group(kRead, r->group_id);
  if (auto* r = std::get_if<p::SyncGroupRequest>(&body)) group(kRead, r->group_id);
  if (auto* r = std::get_if<p::HeartbeatRequest>(&body)) group(kRead, r->group_id);
  if (auto* r = std::get_if<p::LeaveGroupRequest>(&body)) group(kRead, r->group_id);
  if (auto* r = std::get_if<p::OffsetCommitRequest>(&body)) {
    group(kRead, r->group_id);
    for (const auto& t : r->topics) topic(kRead, t.name);
  }
  if (auto* r = std::get_if<p::OffsetFetchRequest>(&body)) {
    if (ctx.api_version() < 8) group(AclOperation::kDescribe, r->group_id);
    for (const auto& g : r->groups) group(AclOperation::kDescribe, g.group_id);
  }
  if (auto* r = std::get_if<p::FindCoordinatorRequest>(&body)) {
    if (r->key_type == 0) {
      if (ctx.api_version() < 4) group(AclOperation::kDescribe, r->key);
      for (const auto& k : r->coordinator_keys) group(AclOperation::kDescribe, k);
    }
  }
  if (auto* r = std::get_if<p::DescribeGroupsRequest>(&body)) {
    for (const auto& g : r->groups) group(AclOperation::kDescribe, g);
  }
  if (auto* r = std::get_if<p::DeleteGroupsRequest>(&body)) {
    for (const auto& g : r->groups_names) group(AclOperation::kDelete, g);
  }
  if (auto* r = std::get_if<p::OffsetDeleteRequest>(&body)) {
    group(AclOperation::kDelete, r->group_id);
    for (const auto& t : r->topics) topic(kRead, t.name);
  }
  if (auto* r = std::get_if<p::ListOffsetsRequest>(&body)) {
    for (const auto& t : r->topics) topic(AclOperation::kDescribe, t.name);
  }
  if (auto* r = std::get_if<p::CreateTopicsRequest>(&body)) {
    if (!ctx.allowed(AclOperation::kCreate, ResourceType::kCluster, "kafka-cluster")) {
      for (const auto& t : r->topics) topic(AclOperation::kCreate, t.name);
    }
  }
  if (auto* r = std::get_if<p::DeleteTopicsRequest>(&body)) {
    for (const auto& n : r->topic_names) topic(AclOperation::kDelete, n);
    for (const auto& t : r->topics) {
      if (t.name) topic(AclOperation::kDelete, *t.name);
    }
  }
  if (auto* r = std::get_if<p::DeleteRecordsRequest>(&body)) {
    for (const auto& t : r->topics) topic(AclOperation::kDelete, t.name);
  }
  if (auto* r = std::get_if<p::CreatePartitionsRequest>(&body)) {
    for (const auto& t : r->topics) topic(AclOperation::kAlter, t.name);
  }
  if (auto* r = std::get_if<p::AlterConfigsRequest>(&body)) {
    for (const auto& c : r->resources) config(AclOperation::kAlterConfigs, c.resource_type, c.resource_name);
  }
  if (auto* r = std::get_if<p::IncrementalAlterConfigsRequest>(&body)) {
    for (const auto& c : r->resources) config(AclOperation::kAlterConfigs, c.resource_type, c.resource_name);
  }
  // ACL administration, as Kafka's AclAuthorizer: DESCRIBE on the cluster to list, ALTER to change.
  if (std::holds_alternative<p::DescribeAclsRequest>(body)) {
    need(AclOperation::kDescribe, ResourceType::kCluster, security::kClusterResourceName);
  }
  if (std::holds_alternative<p::CreateAclsRequest>(body) || std::holds_alternative<p::DeleteAclsRequest>(body)) {
    need(AclOperation::kAlter, ResourceType::kCluster, security::kClusterResourceName);
  }
  if (auto* r = std::get_if<p::DescribeConfigsRequest>(&body)) {
    for (const auto& c : r->resources) config(AclOperation::kDescribeConfigs, c.resource_type, c.resource_name);
  }
  return denied;
}

Reply close_reply(std::string reason) {
  Reply r;
  r.action = Reply::Action::kClose;
  r.reason = std::move(reason);
  return r;
}

}  // namespace

size_t Reply::wire_size() const {
  size_t n = frame.size();
  for (const auto& s : splices) n += size_t(s.slice.length);
  return n;
}

void Dispatcher::dispatch(RequestContext ctx, ByteSpan body, ReplyFn done) {
  const int16_t key = ctx.header.api_key;
  const int16_t version = ctx.header.api_version;
  const int32_t correlation_id = ctx.header.correlation_id;
  Metrics& metrics = *services_.metrics;
  metrics.count_request(key);
  ctx.services = &services_;

  if (key == int16_t(p::ApiKey::kApiVersions) && !p::is_advertised(key, version)) {
    metrics.unsupported_requests.fetch_add(1, std::memory_order_relaxed);
    // Kafka's rule: answer in v0 whatever was asked, so the client can read it and retry lower.
    done(encode_reply(key, 0, correlation_id, p::ResponseBody(p::make_unsupported_api_versions_response())));
    return;
  }
  if (!p::find_api(key)) {
    metrics.unsupported_requests.fetch_add(1, std::memory_order_relaxed);
    done(close_reply("unsupported API key " + std::to_string(key) + " (version " + std::to_string(version) + ")"));
    return;
  }
  auto decoded = p::decode_request_message(key, version, body);
  if (!decoded.ok()) {
    if (decoded.error().code == streamctl::ErrorCode::kNotSupported) {
      metrics.unsupported_requests.fetch_add(1, std::memory_order_relaxed);
      done(close_reply(std::string("unsupported version ") + std::to_string(version) + " of " + p::api_name(key)));
    } else {
      metrics.connections_closed_malformed.fetch_add(1, std::memory_order_relaxed);
      done(close_reply("malformed request: " + decoded.error().message));
    }
    return;
  }
  if (!p::is_advertised(key, version)) {
    metrics.unsupported_requests.fetch_add(1, std::memory_order_relaxed);
    metrics.count_error(key);
    done(encode_reply(key, version, correlation_id, handlers::make_error_response(*decoded, version, p::ErrorCode::kUnsupportedVersion)));
    return;
  }

  if (ctx.refuse_with) {
    metrics.count_error(key);
    done(encode_reply(key, version, correlation_id, handlers::make_error_response(*decoded, version, *ctx.refuse_with)));
    return;
  }

  if (const p::ErrorCode denied = request_authorization(ctx, *decoded); denied != p::ErrorCode::kNone) {
    metrics.count_error(key);
    done(encode_reply(key, version, correlation_id, handlers::make_error_response(*decoded, version, denied)));
    return;
  }

  // Completion for every handler: count errors, encode, hand back.
  Metrics* metrics_ptr = &metrics;
  auto finish = [key, version, correlation_id, metrics_ptr, done](
                    p::ResponseBody resp, std::vector<handlers::FetchAnswer::FileRecords>* files = nullptr) {
    if (handlers::response_has_error(resp)) metrics_ptr->count_error(key);
    done(encode_reply(key, version, correlation_id, resp, files));
  };

  std::visit(
      Overloaded{
          [&](p::ProduceRequest& r) {
            handlers::ProduceOutcome out = handlers::handle_produce(ctx, r);
            if (out.close_connection) {
              metrics.count_error(key);
              done(close_reply(out.close_reason));
            } else if (!out.response) {
              Reply reply;
              reply.action = Reply::Action::kNoResponse;
              done(std::move(reply));
            } else {
              finish(p::ResponseBody(std::move(*out.response)));
            }
          },
          [&](p::FetchRequest& r) {
            handlers::handle_fetch(ctx, std::move(r), [finish](handlers::FetchAnswer a) {
              finish(p::ResponseBody(std::move(a.response)), &a.file_records);
            });
          },
          [&](p::ListOffsetsRequest& r) { finish(handlers::handle_list_offsets(ctx, r)); },
          [&](p::MetadataRequest& r) { finish(handlers::handle_metadata(ctx, r)); },
          [&](p::OffsetCommitRequest& r) { finish(handlers::handle_offset_commit(ctx, r)); },
          [&](p::OffsetFetchRequest& r) { finish(handlers::handle_offset_fetch(ctx, r)); },
          [&](p::FindCoordinatorRequest& r) { finish(handlers::handle_find_coordinator(ctx, r)); },
          [&](p::JoinGroupRequest& r) {
            handlers::handle_join_group(ctx, r, [finish](p::JoinGroupResponse resp) { finish(std::move(resp)); });
          },
          [&](p::HeartbeatRequest& r) { finish(handlers::handle_heartbeat(ctx, r)); },
          [&](p::LeaveGroupRequest& r) { finish(handlers::handle_leave_group(ctx, r)); },
          [&](p::SyncGroupRequest& r) {
            handlers::handle_sync_group(ctx, r, [finish](p::SyncGroupResponse resp) { finish(std::move(resp)); });
          },
          [&](p::DescribeGroupsRequest& r) { finish(handlers::handle_describe_groups(ctx, r)); },
          [&](p::ListGroupsRequest& r) { finish(handlers::handle_list_groups(ctx, r)); },
          [&](p::ApiVersionsRequest& r) { finish(handlers::handle_api_versions(ctx, r)); },
          [&](p::CreateTopicsRequest& r) { finish(handlers::handle_create_topics(ctx, r)); },
          [&](p::DeleteTopicsRequest& r) { finish(handlers::handle_delete_topics(ctx, r)); },
          [&](p::DeleteRecordsRequest& r) { finish(handlers::handle_delete_records(ctx, r)); },
          [&](p::InitProducerIdRequest& r) { finish(handlers::handle_init_producer_id(ctx, r)); },
          [&](p::DescribeConfigsRequest& r) { finish(handlers::handle_describe_configs(ctx, r)); },
          [&](p::AlterConfigsRequest& r) { finish(handlers::handle_alter_configs(ctx, r)); },
          [&](p::CreatePartitionsRequest& r) { finish(handlers::handle_create_partitions(ctx, r)); },
          [&](p::DeleteGroupsRequest& r) { finish(handlers::handle_delete_groups(ctx, r)); },
          [&](p::IncrementalAlterConfigsRequest& r) { finish(handlers::handle_incremental_alter_configs(ctx, r)); },
          [&](p::OffsetDeleteRequest& r) { finish(handlers::handle_offset_delete(ctx, r)); },
          [&](p::DescribeClusterRequest& r) { finish(handlers::handle_describe_cluster(ctx, r)); },
          [&](p::DescribeAclsRequest& r) { finish(handlers::handle_describe_acls(ctx, r)); },
          [&](p::CreateAclsRequest& r) { finish(handlers::handle_create_acls(ctx, r)); },
          [&](p::DeleteAclsRequest& r) { finish(handlers::handle_delete_acls(ctx, r)); },
          // A SASL listener's connection answers these itself (server/sasl_gate.h); reaching here means a
          // listener without SASL or an authenticated session: Kafka's answer is ILLEGAL_SASL_STATE.
          [&](p::SaslHandshakeRequest& r) {
            finish(handlers::make_error_response(p::RequestBody(std::move(r)), version, p::ErrorCode::kIllegalSaslState));
          },
          [&](p::SaslAuthenticateRequest& r) {
            finish(handlers::make_error_response(p::RequestBody(std::move(r)), version, p::ErrorCode::kIllegalSaslState));
          },
      },
      *decoded);
}

}  // namespace streamctl::server
