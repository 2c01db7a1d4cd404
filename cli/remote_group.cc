#include "cli/remote_group.h"

#include <algorithm>

#include "cli/wire_producer.h"
#include "kafka/client/connection.h"

namespace streamctl::cli {

namespace {

// The first error in a group result (or its partitions), named after the group.
Status group_result_status(const KafkaClient& client, const rd_kafka_group_result_t* res,
                                   const std::string& doing) {
  const std::string group = rd_kafka_group_result_name(res);
  if (const rd_kafka_error_t* err = rd_kafka_group_result_error(res)) {
    rd_kafka_resp_err_t code = rd_kafka_error_code(err);
    if (code == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND) {
      return Error::not_found("consumer group '" + group + "' does not exist on " +
                                      client.settings().brokers);
    }
    if (code == RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP || code == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID) {
      return Error::busy("consumer group '" + group + "' is not empty (it has active members); " + doing +
                                 " needs an inactive group");
    }
    Error e = client.request_error(code, doing + " of consumer group '" + group + "'");
    e.message += std::string(" (") + rd_kafka_error_string(err) + ")";
    return e;
  }
  if (const rd_kafka_topic_partition_list_t* parts = rd_kafka_group_result_partitions(res)) {
    for (int i = 0; i < parts->cnt; ++i) {
      const rd_kafka_topic_partition_t& tp = parts->elems[i];
      if (tp.err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      if (tp.err == RD_KAFKA_RESP_ERR_GROUP_SUBSCRIBED_TO_TOPIC) {
        return Error::busy("consumer group '" + group + "' has active members subscribed to topic '" +
                                   tp.topic + "'; " + doing + " needs an inactive group");
      }
      if (tp.err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID || tp.err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS ||
          tp.err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION) {
        return Error::busy("consumer group '" + group + "' has active members; " + doing +
                                   " needs an inactive group");
      }
      return client.request_error(tp.err, doing + " of consumer group '" + group + "', " + tp.topic + "-" +
                                              std::to_string(tp.partition));
    }
  }
  return ok_status();
}

const char* state_name(rd_kafka_consumer_group_state_t s) {
  switch (s) {
    case RD_KAFKA_CONSUMER_GROUP_STATE_PREPARING_REBALANCE: return "PreparingRebalance";
    case RD_KAFKA_CONSUMER_GROUP_STATE_COMPLETING_REBALANCE: return "CompletingRebalance";
    case RD_KAFKA_CONSUMER_GROUP_STATE_STABLE: return "Stable";
    case RD_KAFKA_CONSUMER_GROUP_STATE_DEAD: return "Dead";
    case RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY: return "Empty";
    default: return "Unknown";
  }
}

// A group's committed offsets of `partitions` (nullptr: all, as far as the client and broker honour that).
Result<std::map<TopicPartition, engine::CommittedOffset>> list_offsets(
    const KafkaClient& client, const std::string& group, const rd_kafka_topic_partition_list_t* partitions) {
  rd_kafka_ListConsumerGroupOffsets_t* req = rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), partitions);
  auto ev = client.admin(
      RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS,
      [&](rd_kafka_queue_t* q, rd_kafka_AdminOptions_t* opts) {
        rd_kafka_ListConsumerGroupOffsets(client.handle(), &req, 1, opts, q);
      },
      "committed offsets of consumer group '" + group + "'");
  rd_kafka_ListConsumerGroupOffsets_destroy(req);
  if (!ev.ok()) return std::move(ev).error();
  size_t n = 0;
  const rd_kafka_group_result_t** results = rd_kafka_ListConsumerGroupOffsets_result_groups(
      rd_kafka_event_ListConsumerGroupOffsets_result(ev->get()), &n);
  std::map<TopicPartition, engine::CommittedOffset> out;
  for (size_t i = 0; i < n; ++i) {
    const rd_kafka_topic_partition_list_t* parts = rd_kafka_group_result_partitions(results[i]);
    for (int p = 0; parts != nullptr && p < parts->cnt; ++p) {
      const rd_kafka_topic_partition_t& tp = parts->elems[p];
      if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR || tp.offset < 0) continue;
      engine::CommittedOffset c;
      c.offset = Offset(tp.offset);
      if (tp.metadata != nullptr) c.metadata.assign(static_cast<const char*>(tp.metadata), tp.metadata_size);
      out[TopicPartition{tp.topic, tp.partition}] = c;
    }
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> remote_list_groups(const KafkaClient& client) {
  auto ev = client.admin(
      RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS,
      [&](rd_kafka_queue_t* q, rd_kafka_AdminOptions_t* opts) { rd_kafka_ListConsumerGroups(client.handle(), opts, q); },
      "listing consumer groups");
  if (!ev.ok()) return std::move(ev).error();
  const rd_kafka_ListConsumerGroups_result_t* res = rd_kafka_event_ListConsumerGroups_result(ev->get());
  size_t n = 0;
  const rd_kafka_ConsumerGroupListing_t** valid = rd_kafka_ListConsumerGroups_result_valid(res, &n);
  std::vector<std::string> names;
  for (size_t i = 0; i < n; ++i) names.push_back(rd_kafka_ConsumerGroupListing_group_id(valid[i]));
  std::sort(names.begin(), names.end());
  return names;
}

Result<RemoteGroup> remote_describe_group(const KafkaClient& client, const std::string& group) {
  RemoteGroup out;
  out.name = group;
  const char* groups[] = {group.c_str()};
  auto ev = client.admin(
      RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS,
      [&](rd_kafka_queue_t* q, rd_kafka_AdminOptions_t* opts) {
        rd_kafka_DescribeConsumerGroups(client.handle(), groups, 1, opts, q);
      },
      "describing consumer group '" + group + "'");
  if (!ev.ok()) return std::move(ev).error();
  size_t n = 0;
  const rd_kafka_ConsumerGroupDescription_t** descs =
      rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(ev->get()), &n);
  for (size_t i = 0; i < n; ++i) {
    if (const rd_kafka_error_t* err = rd_kafka_ConsumerGroupDescription_error(descs[i])) {
      if (rd_kafka_error_code(err) == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND) continue;
      return client.request_error(rd_kafka_error_code(err), "describing consumer group '" + group + "'");
    }
    out.state = state_name(rd_kafka_ConsumerGroupDescription_state(descs[i]));
    size_t members = rd_kafka_ConsumerGroupDescription_member_count(descs[i]);
    for (size_t m = 0; m < members; ++m) {
      const rd_kafka_MemberDescription_t* md = rd_kafka_ConsumerGroupDescription_member(descs[i], m);
      MemberInfo info;
      info.member_id = rd_kafka_MemberDescription_consumer_id(md);
      info.client_id = rd_kafka_MemberDescription_client_id(md);
      info.host = rd_kafka_MemberDescription_host(md);
      // streamctl's group consumers use client id "streamctl-<pid>" (remote_consume.cc).
      if (info.client_id.rfind("streamctl-", 0) == 0) {
        const std::string digits = info.client_id.substr(10);
        if (!digits.empty() && digits.size() < 10 && digits.find_first_not_of("0123456789") == std::string::npos) {
          info.pid = std::stoll(digits);
        }
      }
      const rd_kafka_topic_partition_list_t* parts =
          rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(md));
      for (int p = 0; parts != nullptr && p < parts->cnt; ++p) {
        out.owners[TopicPartition{parts->elems[p].topic, parts->elems[p].partition}] = info.member_id;
      }
      out.members.push_back(std::move(info));
    }
    std::sort(out.members.begin(), out.members.end(),
              [](const MemberInfo& a, const MemberInfo& b) { return a.member_id < b.member_id; });
  }
  // Committed offsets: every partition the group has. A null partition list means "all" in the protocol,
  // but librdkafka 2.0 sends it as an empty list, which brokers answer with nothing; so when that comes
  // back empty, ask again naming every partition of every topic in the cluster.
  auto committed = list_offsets(client, group, nullptr);
  if (!committed.ok()) return std::move(committed).error();
  if (committed->empty()) {
    auto md = client.metadata(nullptr);
    if (!md.ok()) return std::move(md).error();
    rd_kafka_topic_partition_list_t* all = rd_kafka_topic_partition_list_new(0);
    for (const auto& t : md->topics) {
      if (t.name.rfind("__", 0) == 0) continue;
      for (const auto& p : t.partitions) rd_kafka_topic_partition_list_add(all, t.name.c_str(), p.id);
    }
    if (all->cnt > 0) committed = list_offsets(client, group, all);
    rd_kafka_topic_partition_list_destroy(all);
    if (!committed.ok()) return std::move(committed).error();
  }
  out.committed = std::move(committed).value();
  return out;
}

Status remote_commit_offsets(const KafkaClient& client, const std::string& group,
                                     const std::map<TopicPartition, int64_t>& offsets) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(int(offsets.size()));
  for (const auto& [tp, offset] : offsets) {
    rd_kafka_topic_partition_list_add(list, tp.topic.c_str(), tp.partition)->offset = offset;
  }
  rd_kafka_AlterConsumerGroupOffsets_t* req = rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), list);
  rd_kafka_topic_partition_list_destroy(list);
  auto ev = client.admin(
      RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS,
      [&](rd_kafka_queue_t* q, rd_kafka_AdminOptions_t* opts) {
        rd_kafka_AlterConsumerGroupOffsets(client.handle(), &req, 1, opts, q);
      },
      "resetting offsets of consumer group '" + group + "'");
  rd_kafka_AlterConsumerGroupOffsets_destroy(req);
  if (!ev.ok()) return std::move(ev).error();
  size_t n = 0;
  const rd_kafka_group_result_t** results = rd_kafka_AlterConsumerGroupOffsets_result_groups(
      rd_kafka_event_AlterConsumerGroupOffsets_result(ev->get()), &n);
  for (size_t i = 0; i < n; ++i) {
    auto st = group_result_status(client, results[i], "resetting offsets");
    if (!st.ok()) return st;
  }
  return ok_status();
}

Status remote_delete_group(const KafkaClient& client, const std::string& group) {
  rd_kafka_DeleteGroup_t* dg = rd_kafka_DeleteGroup_new(group.c_str());
  auto ev = client.admin(
      RD_KAFKA_ADMIN_OP_DELETEGROUPS,
      [&](rd_kafka_queue_t* q, rd_kafka_AdminOptions_t* opts) { rd_kafka_DeleteGroups(client.handle(), &dg, 1, opts, q); },
      "deleting consumer group '" + group + "'");
  rd_kafka_DeleteGroup_destroy(dg);
  if (!ev.ok()) return std::move(ev).error();
  size_t n = 0;
  const rd_kafka_group_result_t** results =
      rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev->get()), &n);
  for (size_t i = 0; i < n; ++i) {
    auto st = group_result_status(client, results[i], "deleting");
    if (!st.ok()) return st;
  }
  return ok_status();
}

namespace {

constexpr int16_t kOffsetDeleteKey = 47;

// Whether the cluster's brokers serve OffsetDelete (API 47 v0), asked of one broker over a plain connection
// (ApiVersions). kNotSupported when that connection cannot be made in plaintext (TLS or SASL configured).
Result<bool> supports_offset_delete(const KafkaClient& client) {
  auto proto = client.settings().properties.find("security.protocol");
  if (proto != client.settings().properties.end() && !is_plaintext_protocol(proto->second)) {
    return Error::not_supported("-X security.protocol=" + proto->second);
  }
  auto md = client.metadata(nullptr);
  if (!md.ok()) return std::move(md).error();
  if (md->brokers.empty()) return Error{streamctl::ErrorCode::kUnavailable, "the cluster named no brokers"};
  const BrokerMetadata& b = md->brokers.front();
  kafka::client::ConnectionOptions options;
  options.request_timeout_ms = int32_t(client.request_timeout().count());
  options.connect_timeout_ms = options.request_timeout_ms;
  auto conn = kafka::client::BrokerConnection::connect({b.host, b.port}, options);
  if (!conn.ok()) return std::move(conn).error();
  return kafka::client::highest_common_version((*conn)->versions(), kOffsetDeleteKey, 0, 0).has_value();
}

// OffsetDelete through librdkafka's DeleteConsumerGroupOffsets: one request, atomic at the coordinator.
Status delete_offsets_at_coordinator(const KafkaClient& client, const std::string& group,
                                             const std::vector<TopicPartition>& partitions) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(int(partitions.size()));
  for (const auto& tp : partitions) rd_kafka_topic_partition_list_add(list, tp.topic.c_str(), tp.partition);
  rd_kafka_DeleteConsumerGroupOffsets_t* req = rd_kafka_DeleteConsumerGroupOffsets_new(group.c_str(), list);
  rd_kafka_topic_partition_list_destroy(list);
  auto ev = client.admin(
      RD_KAFKA_ADMIN_OP_DELETECONSUMERGROUPOFFSETS,
      [&](rd_kafka_queue_t* q, rd_kafka_AdminOptions_t* opts) {
        rd_kafka_DeleteConsumerGroupOffsets(client.handle(), &req, 1, opts, q);
      },
      "deleting offsets of consumer group '" + group + "'");
  rd_kafka_DeleteConsumerGroupOffsets_destroy(req);
  if (!ev.ok()) return std::move(ev).error();
  size_t n = 0;
  const rd_kafka_group_result_t** results = rd_kafka_DeleteConsumerGroupOffsets_result_groups(
      rd_kafka_event_DeleteConsumerGroupOffsets_result(ev->get()), &n);
  for (size_t i = 0; i < n; ++i) {
    auto st = group_result_status(client, results[i], "deleting offsets");
    if (!st.ok()) return st;
  }
  return ok_status();
}

// For brokers without OffsetDelete: the group is inactive (the caller checked), so delete it, then commit
// back the offsets being kept. Not atomic: if the commit fails, the kept offsets are lost.
Status delete_and_recommit(const KafkaClient& client, const std::string& group,
                                   const std::vector<TopicPartition>& partitions) {
  auto current = remote_describe_group(client, group);
  if (!current.ok()) return std::move(current).error();
  if (!current->members.empty()) {
    return Error::busy("consumer group '" + group + "' has active members; deleting offsets needs an "
                               "inactive group");
  }
  std::map<TopicPartition, int64_t> keep;
  for (const auto& [tp, c] : current->committed) {
    if (std::find(partitions.begin(), partitions.end(), tp) == partitions.end()) keep[tp] = c.offset.value;
  }
  auto deleted = remote_delete_group(client, group);
  if (!deleted.ok()) return deleted;
  if (keep.empty()) return ok_status();
  return remote_commit_offsets(client, group, keep);
}

}  // namespace

Status remote_delete_offsets(const KafkaClient& client, const std::string& group,
                                     const std::vector<TopicPartition>& partitions,
                                     const GlobalOptions& global) {
  if (partitions.empty()) return ok_status();
  // librdkafka 2.0 aborts on an internal assertion when asked for OffsetDelete by a broker without it:
  // ask the broker first.
  auto supported = supports_offset_delete(client);
  if (!supported.ok() && supported.error().code != streamctl::ErrorCode::kNotSupported) {
    return std::move(supported).error();
  }
  if (supported.ok() && *supported) return delete_offsets_at_coordinator(client, group, partitions);
  debug(global, 1,
        "deleting offsets of consumer group '" + group + "' by deleting the group and committing the kept "
        "offsets back (not atomic): " +
            (supported.ok() ? std::string("the broker does not support OffsetDelete (API 47)")
                            : "cannot ask the broker whether it supports OffsetDelete (" +
                                  supported.error().message + ")"));
  return delete_and_recommit(client, group, partitions);
}

}  // namespace streamctl::cli
