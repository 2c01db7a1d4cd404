// Group APIs: FindCoordinator (this node for every group), and JoinGroup / SyncGroup / Heartbeat /
// LeaveGroup / ListGroups / DescribeGroups / DeleteGroups / OffsetDelete translated to and from the GroupCoordinator
// (server/group_coordinator.h), which holds the state machine.
#include <algorithm>
#include <cctype>

#include "server/handlers/handlers.h"

namespace streamctl::server::handlers {

using kafka::protocol::ErrorCode;
using kafka::protocol::to_int16;

namespace {

constexpr int8_t kKeyTypeGroup = 0;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

kafka::protocol::FindCoordinatorResponse handle_find_coordinator(RequestContext& ctx,
                                                          const kafka::protocol::FindCoordinatorRequest& req) {
  BrokerServices& s = *ctx.services;
  kafka::protocol::FindCoordinatorResponse resp;
  auto answer = [&](const std::string& key, ErrorCode& err, std::string& msg) {
    err = ErrorCode::kNone;
    msg.clear();
    if (req.key_type != kKeyTypeGroup) {
      err = ErrorCode::kCoordinatorNotAvailable;
      msg = "transactions are not supported by streamctl serve";
    } else if (key.empty()) {
      err = ErrorCode::kInvalidRequest;
      msg = "empty group id";
    } else if (s.stopping.load()) {
      err = ErrorCode::kCoordinatorNotAvailable;
      msg = "the server is shutting down";
    }
  };
  if (ctx.api_version() >= 4) {
    for (const auto& key : req.coordinator_keys) {
      kafka::protocol::FindCoordinatorResponse::Coordinator c;
      c.key = key;
      ErrorCode err;
      std::string msg;
      answer(key, err, msg);
      c.error_code = to_int16(err);
      c.error_message = err == ErrorCode::kNone ? std::nullopt : std::optional<std::string>(msg);
      c.node_id = err == ErrorCode::kNone ? s.node_id : -1;
      c.host = err == ErrorCode::kNone ? ctx.advertised_host() : "";
      c.port = err == ErrorCode::kNone ? ctx.advertised_port() : -1;
      resp.coordinators.push_back(std::move(c));
    }
    return resp;
  }
  ErrorCode err;
  std::string msg;
  answer(req.key, err, msg);
  resp.error_code = to_int16(err);
  resp.error_message = err == ErrorCode::kNone ? std::nullopt : std::optional<std::string>(msg);
  resp.node_id = err == ErrorCode::kNone ? s.node_id : -1;
  resp.host = err == ErrorCode::kNone ? ctx.advertised_host() : "";
  resp.port = err == ErrorCode::kNone ? ctx.advertised_port() : -1;
  return resp;
}

void handle_join_group(const RequestContext& ctx, const kafka::protocol::JoinGroupRequest& req,
                       Respond<kafka::protocol::JoinGroupResponse> done) {
  const int16_t version = ctx.api_version();
  JoinGroupParams p;
  p.group_id = req.group_id;
  p.member_id = req.member_id;
  p.group_instance_id = version >= 5 ? req.group_instance_id : std::nullopt;
  p.client_id = ctx.client_id();
  p.client_host = "/" + ctx.client_host;  // Kafka prints client hosts as "/1.2.3.4"
  p.session_timeout_ms = req.session_timeout_ms;
  p.rebalance_timeout_ms = version >= 1 ? req.rebalance_timeout_ms : req.session_timeout_ms;
  p.protocol_type = req.protocol_type;
  for (const auto& pr : req.protocols) p.protocols.emplace_back(pr.name, pr.metadata);
  p.require_known_member_id = version >= 4;
  if (ctx.services->stopping.load()) {
    kafka::protocol::JoinGroupResponse resp;
    resp.error_code = to_int16(ErrorCode::kCoordinatorNotAvailable);
    resp.member_id = req.member_id;
    done(std::move(resp));
    return;
  }
  ctx.services->groups->join_group(p, [done = std::move(done), version](JoinGroupResult r) {
    kafka::protocol::JoinGroupResponse resp;
    resp.error_code = to_int16(r.error);
    resp.generation_id = r.generation_id;
    resp.protocol_type = version >= 7 ? std::optional<std::string>(r.protocol_type) : std::nullopt;
    resp.protocol_name = r.protocol_name;
    resp.leader = r.leader_id;
    resp.member_id = r.member_id;
    for (auto& m : r.members) {
      kafka::protocol::JoinGroupResponse::JoinGroupResponseMember rm;
      rm.member_id = m.member_id;
      rm.group_instance_id = version >= 5 ? m.group_instance_id : std::nullopt;
      rm.metadata = std::move(m.metadata);
      resp.members.push_back(std::move(rm));
    }
    done(std::move(resp));
  });
}

void handle_sync_group(const RequestContext& ctx, const kafka::protocol::SyncGroupRequest& req,
                       Respond<kafka::protocol::SyncGroupResponse> done) {
  const int16_t version = ctx.api_version();
  SyncGroupParams p;
  p.group_id = req.group_id;
  p.generation_id = req.generation_id;
  p.member_id = req.member_id;
  p.group_instance_id = version >= 3 ? req.group_instance_id : std::nullopt;
  for (const auto& a : req.assignments) p.assignments.emplace_back(a.member_id, a.assignment);
  std::optional<std::string> want_type = version >= 5 ? req.protocol_type : std::nullopt;
  std::optional<std::string> want_name = version >= 5 ? req.protocol_name : std::nullopt;
  ctx.services->groups->sync_group(p, [done = std::move(done), version, want_type, want_name](SyncGroupResult r) {
    kafka::protocol::SyncGroupResponse resp;
    if (r.error == ErrorCode::kNone && ((want_type && *want_type != r.protocol_type) ||
                                        (want_name && *want_name != r.protocol_name))) {
      r.error = ErrorCode::kInconsistentGroupProtocol;
      r.assignment.clear();
    }
    resp.error_code = to_int16(r.error);
    if (version >= 5 && r.error == ErrorCode::kNone) {
      resp.protocol_type = r.protocol_type;
      resp.protocol_name = r.protocol_name;
    }
    resp.assignment = std::move(r.assignment);
    done(std::move(resp));
  });
}

kafka::protocol::HeartbeatResponse handle_heartbeat(RequestContext& ctx, const kafka::protocol::HeartbeatRequest& req) {
  kafka::protocol::HeartbeatResponse resp;
  auto instance = ctx.api_version() >= 3 ? req.group_instance_id : std::nullopt;
  resp.error_code = to_int16(ctx.services->groups->heartbeat(req.group_id, req.generation_id, req.member_id, instance));
  return resp;
}

kafka::protocol::LeaveGroupResponse handle_leave_group(RequestContext& ctx, const kafka::protocol::LeaveGroupRequest& req) {
  const int16_t version = ctx.api_version();
  std::vector<LeaveMember> members;
  if (version >= 3) {
    for (const auto& m : req.members) members.push_back({m.member_id, m.group_instance_id});
  } else {
    members.push_back({req.member_id, std::nullopt});
  }
  LeaveGroupResult r = ctx.services->groups->leave_group(req.group_id, members);
  kafka::protocol::LeaveGroupResponse resp;
  if (version >= 3) {
    resp.error_code = to_int16(r.error);
    for (size_t i = 0; i < members.size(); ++i) {
      kafka::protocol::LeaveGroupResponse::MemberResponse mr;
      mr.member_id = members[i].member_id;
      mr.group_instance_id = members[i].group_instance_id;
      mr.error_code = to_int16(r.member_errors[i]);
      resp.members.push_back(std::move(mr));
    }
  } else {
    resp.error_code = to_int16(r.error != ErrorCode::kNone ? r.error : r.member_errors.at(0));
  }
  return resp;
}

kafka::protocol::ListGroupsResponse handle_list_groups(RequestContext& ctx, const kafka::protocol::ListGroupsRequest& req) {
  kafka::protocol::ListGroupsResponse resp;
  auto groups = ctx.services->groups->list_groups();
  if (!groups.ok()) {
    resp.error_code = to_int16(kafka::protocol::to_kafka_error(groups.error()));
    return resp;
  }
  std::vector<std::string> filter;
  if (ctx.api_version() >= 4) {
    for (const auto& st : req.states_filter) filter.push_back(lower(st));
  }
  for (const auto& g : *groups) {
    std::string state = group_state_name(g.state);
    if (!filter.empty() && std::find(filter.begin(), filter.end(), lower(state)) == filter.end()) continue;
    kafka::protocol::ListGroupsResponse::ListedGroup lg;
    lg.group_id = g.group_id;
    lg.protocol_type = g.protocol_type;
    lg.group_state = state;
    resp.groups.push_back(std::move(lg));
  }
  return resp;
}

kafka::protocol::DescribeGroupsResponse handle_describe_groups(RequestContext& ctx,
                                                        const kafka::protocol::DescribeGroupsRequest& req) {
  const int16_t version = ctx.api_version();
  kafka::protocol::DescribeGroupsResponse resp;
  for (const auto& id : req.groups) {
    GroupDescription d = ctx.services->groups->describe_group(id);
    kafka::protocol::DescribeGroupsResponse::DescribedGroup g;
    g.error_code = to_int16(d.error);
    g.group_id = id;
    g.group_state = group_state_name(d.state);
    g.protocol_type = d.protocol_type;
    g.protocol_data = d.protocol_name;
    for (auto& m : d.members) {
      kafka::protocol::DescribeGroupsResponse::DescribedGroupMember dm;
      dm.member_id = m.member_id;
      dm.group_instance_id = version >= 4 ? m.group_instance_id : std::nullopt;
      dm.client_id = m.client_id;
      dm.client_host = m.client_host;
      dm.member_metadata = std::move(m.metadata);
      dm.member_assignment = std::move(m.assignment);
      g.members.push_back(std::move(dm));
    }
    resp.groups.push_back(std::move(g));
  }
  return resp;
}

kafka::protocol::DeleteGroupsResponse handle_delete_groups(RequestContext& ctx, const kafka::protocol::DeleteGroupsRequest& req) {
  kafka::protocol::DeleteGroupsResponse resp;
  for (const auto& id : req.groups_names) {
    kafka::protocol::DeleteGroupsResponse::DeletableGroupResult r;
    r.group_id = id;
    r.error_code = to_int16(ctx.services->groups->delete_group(id));
    resp.results.push_back(std::move(r));
  }
  return resp;
}

// Partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION; the rest go to the coordinator, whose
// group-level error (if any) is the whole answer, as in Kafka.
kafka::protocol::OffsetDeleteResponse handle_offset_delete(RequestContext& ctx, const kafka::protocol::OffsetDeleteRequest& req) {
  BrokerServices& s = *ctx.services;
  std::vector<TopicPartition> known;
  for (const auto& t : req.topics) {
    const int32_t partitions = partition_count(s, t.name);
    for (const auto& p : t.partitions) {
      if (p.partition_index >= 0 && p.partition_index < partitions) known.push_back({t.name, p.partition_index});
    }
  }
  OffsetDeleteOutcome outcome = s.groups->delete_offsets(req.group_id, known);
  kafka::protocol::OffsetDeleteResponse resp;
  if (outcome.error != ErrorCode::kNone) {
    resp.error_code = to_int16(outcome.error);
    return resp;
  }
  for (const auto& t : req.topics) {
    kafka::protocol::OffsetDeleteResponse::OffsetDeleteResponseTopic tr;
    tr.name = t.name;
    for (const auto& p : t.partitions) {
      auto it = outcome.partitions.find(TopicPartition{t.name, p.partition_index});
      kafka::protocol::OffsetDeleteResponse::OffsetDeleteResponsePartition pr;
      pr.partition_index = p.partition_index;
      pr.error_code = to_int16(it != outcome.partitions.end() ? it->second : ErrorCode::kUnknownTopicOrPartition);
      tr.partitions.push_back(pr);
    }
    resp.topics.push_back(std::move(tr));
  }
  return resp;
}

}  // namespace streamctl::server::handlers
