// NodeConfig: who the nodes of a cluster are (`serve --peers`), and the cluster identity kept in a data dir.
//
// --peers takes the same list on every node, in one of two forms (never mixed):
//   host:port,host:port,...      node ids are 1..N in list order; this node is the entry equal to its
//                                advertise address (--advertise, default --listen); --node-id, if given,
//                                must agree with that position.
//   1@host:port,2@host:port,...  Kafka's controller.quorum.voters form; this node is --node-id (required).
// The first kMaxVoters entries (list order) vote in the metadata quorum; later ones are observers.
//
// Cluster identity: `<data dir>/meta.properties` (Kafka's file and field names), written once when the node
// first forms or joins a cluster, atomically (tmp + fsync + rename + dir fsync):
//   # streamctl cluster identity (written once; do not edit)
//   version=1
//   cluster.id=<22-char base64url UUID>
//   node.id=<id>
// A node refuses a data dir whose node.id or cluster.id differ from its own. Plain values, thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/fs.h"
#include "base/result.h"
#include "raft/types.h"

namespace streamctl::cluster {

struct PeerAddress {
  std::string host;  // a name or an IP literal (IPv6 without the brackets)
  uint16_t port = 0;
  bool operator==(const PeerAddress&) const = default;
  // "host:port", "[::1]:port" for IPv6 literals.
  std::string to_string() const;
};

// "host:port" or "[v6]:port" -> the address; kInvalidArgument naming `text` otherwise.
Result<PeerAddress> parse_peer_address(std::string_view text);

struct Peer {
  raft::NodeId id = raft::kNoNode;
  PeerAddress address;
  bool voter = true;
};

struct NodeConfig {
  // Voters of the metadata quorum: at most this many (Kafka recommends 3 or 5); later peers are observers.
  static constexpr size_t kMaxVoters = 5;

  raft::NodeId node_id = raft::kNoNode;
  std::vector<Peer> peers;  // list order; exactly one has id == node_id

  const Peer& self() const;
  std::vector<raft::NodeId> voters() const;
  // nullptr when `id` is not a peer.
  const Peer* find(raft::NodeId id) const;
};

// Parses --peers. `advertise` is this node's advertised host:port (empty: unknown); `node_id` is --node-id.
// Errors (kInvalidArgument) name the offending entry and say how to fix it.
Result<NodeConfig> parse_peers(std::string_view peers, std::string_view advertise,
                               std::optional<raft::NodeId> node_id);

struct ClusterIdentity {
  std::string cluster_id;
  raft::NodeId node_id = raft::kNoNode;
  bool operator==(const ClusterIdentity&) const = default;
};

inline constexpr std::string_view kMetaPropertiesFile = "meta.properties";

// The identity stored in `data_dir`, nullopt when there is none yet; kCorruption naming the file when it
// cannot be parsed.
Result<std::optional<ClusterIdentity>> read_identity(FileSystem& fs, const std::string& data_dir);
// Writes it atomically (tmp + fsync + rename + dir fsync).
Status write_identity(FileSystem& fs, const std::string& data_dir, const ClusterIdentity& identity);

// Opens the identity of node `node_id` in `data_dir`: the stored one when it matches, or a new one (a fresh
// cluster id unless `cluster_id` names the cluster being joined) written at first formation. Refuses
// (kInvalidArgument, naming the file, both values and the fix) a data dir of another node id, or of another
// cluster than `cluster_id` when one is given.
Result<ClusterIdentity> open_identity(FileSystem& fs, const std::string& data_dir, raft::NodeId node_id,
                                      const std::optional<std::string>& cluster_id = std::nullopt);

// A new cluster id: Kafka's Uuid.randomUuid text (22-char base64url, never starting with '-').
std::string new_cluster_id();

}  // namespace streamctl::cluster
