// Consumer-group administration against a Kafka-protocol cluster (librdkafka Admin API): list, describe
// (members and assignments from the group coordinator, committed offsets), commit offsets for a reset, and
// delete. Results come back in the shapes `streamctl group` prints for embedded groups (cli/membership.h's
// MemberInfo, engine::CommittedOffset), so both backends share the output code in group_cmd.cc.
// What the Kafka protocol does not carry (member pid and join time, commit time) is 0 / kNoTimestamp.
// Thread-compatible; the KafkaClient is not owned.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/kafka_client.h"
#include "cli/membership.h"
#include "engine/group_store.h"
#include "base/result.h"

namespace streamctl::cli {

struct RemoteGroup {
  std::string name;
  std::string state;  // the coordinator's: Empty, Stable, PreparingRebalance, CompletingRebalance, Dead, Unknown
  std::vector<MemberInfo> members;
  std::map<TopicPartition, std::string> owners;  // assigned partition -> member id
  std::map<TopicPartition, engine::CommittedOffset> committed;
};

// Group ids known to the cluster, sorted.
Result<std::vector<std::string>> remote_list_groups(const KafkaClient& client);
// Members, assignments and committed offsets of one group (an unknown group comes back Dead/empty).
Result<RemoteGroup> remote_describe_group(const KafkaClient& client, const std::string& group);
// Sets committed offsets (AlterConsumerGroupOffsets). kBusy when the group has active members.
Status remote_commit_offsets(const KafkaClient& client, const std::string& group,
                                     const std::map<TopicPartition, int64_t>& offsets);
// Deletes a group and its offsets (DeleteGroups). kNotFound / kBusy (non-empty group) as the cluster says.
Status remote_delete_group(const KafkaClient& client, const std::string& group);
// Deletes a group's committed offsets of the given partitions. With OffsetDelete (API 47, which the first
// broker in the cluster's metadata is asked for with ApiVersions): one atomic request; kBusy when a member
// subscribes to one of the topics meanwhile, kNotFound for an unknown group or partition. Brokers without
// it, or clusters that cannot be probed in plaintext (TLS, SASL): deletes the (inactive) group and commits
// the other offsets back (not atomic; commit metadata of the kept offsets is not kept), said with -v.
Status remote_delete_offsets(const KafkaClient& client, const std::string& group,
                                     const std::vector<TopicPartition>& partitions,
                                     const GlobalOptions& global);

}  // namespace streamctl::cli
