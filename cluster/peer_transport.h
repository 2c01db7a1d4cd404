// The seam between a node's Raft host (many Raft groups: the metadata quorum and one group per replicated
// partition) and the network between nodes.
//
// raft::Message carries no group: on the wire the group is the (topic, partition) of the Kafka quorum API
// (Vote, BeginQuorumEpoch, EndQuorumEpoch, Fetch with a replica id, FetchSnapshot all name a topic and a
// partition). A GroupMessage is one raft::Message of one group. The host hands the transport every message
// its groups emitted in one step for one node together, so the transport can coalesce them: all FetchRequests
// to one leader become ONE Kafka Fetch (one long poll per node pair, never one request per partition), the
// votes of one election round go out as one Vote request, and so on.
//
// Implementations: an in-process loopback (tests, many hosts in one process) and the Kafka-protocol one
// (kafka/client connections out, the server's listener in).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "raft/types.h"

namespace streamctl::cluster {

// A Raft group = one Kafka partition. The metadata quorum is ("__cluster_metadata", 0).
struct GroupId {
  std::string topic;
  int32_t partition = 0;
  bool operator==(const GroupId&) const = default;
};

inline const GroupId& metadata_group() {
  static const GroupId id{"__cluster_metadata", 0};
  return id;
}

struct GroupIdHash {
  size_t operator()(const GroupId& g) const noexcept {
    return std::hash<std::string>()(g.topic) * 31u + std::hash<int32_t>()(g.partition);
  }
};

struct GroupMessage {
  GroupId group;
  raft::Message message;  // message.source / destination are node ids
};

class PeerTransport {
 public:
  // Called for every message that arrived for this node, on the host's executor (never concurrently).
  using Handler = std::function<void(GroupMessage)>;

  virtual ~PeerTransport() = default;

  // Set once, before the first send().
  virtual void set_handler(Handler handler) = 0;

  // Sends `messages` (all with message.destination == to) best effort: the protocol tolerates loss, delay and
  // duplication, so an unreachable peer only drops them (and the transport reconnects in the background).
  // Requests and responses may be mixed; a response carries its request's correlation_id. Never blocks.
  virtual void send(raft::NodeId to, std::vector<GroupMessage> messages) = 0;
};

}  // namespace streamctl::cluster
