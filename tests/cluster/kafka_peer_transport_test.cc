// Three RaftHosts in one process, each on its own io_context thread with real engine logs in temp dirs,
// talking through KafkaPeerTransport over TCP on 127.0.0.1 (every Raft message crosses a real socket as a Kafka
// quorum API request or response; the inbound side is tests/cluster/peer_acceptor.h in the server's role):
// election and byte-identical replication of the metadata group, failover after a node's sockets are closed,
// and reconnection once it is back.
//
// Every wait is bounded by a generous kWait (the suite also runs under ASan on a loaded 2-core machine) and
// asserts only the outcome.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cluster/kafka_peer_transport.h"
#include "tests/cluster/host_cluster.h"
#include "tests/cluster/peer_acceptor.h"

using namespace streamctl;
using namespace std::chrono_literals;
using streamctl::cluster::GroupId;
using streamctl::cluster::KafkaPeerTransport;
using streamctl::raft::kNoNode;
using streamctl::raft::NodeId;
using streamctl::raft::Role;
using streamctl::test::PeerAcceptor;
using streamctl::test::wait_until;

namespace {

const GroupId kMeta = cluster::metadata_group();
const GroupId kP0{"orders", 0};

// Nodes 1..n, each with a PeerAcceptor on an ephemeral port of 127.0.0.1 (kept across restarts) and a
// KafkaPeerTransport to the others.
class TcpNetwork final : public test::Network {
 public:
  explicit TcpNetwork(int nodes) {
    for (NodeId id = 1; id <= nodes; ++id) {
      acceptors_[id] = std::make_unique<PeerAcceptor>();
      ports_[id] = acceptors_[id]->port();
    }
  }
  std::unique_ptr<cluster::PeerTransport> connect(NodeId id, asio::any_io_executor executor) override {
    if (!acceptors_[id]) acceptors_[id] = std::make_unique<PeerAcceptor>(ports_.at(id));  // the same address
    cluster::KafkaPeerOptions o;
    o.node_id = id;
    for (const auto& [peer, port] : ports_) o.peers[peer] = cluster::PeerAddress{"127.0.0.1", port};
    o.wire.fetch_max_wait_ms = 50;
    o.backoff_min = 20ms;
    o.backoff_max = 200ms;
    auto t = std::make_unique<KafkaPeerTransport>(std::move(executor), o);
    transports_[id] = t.get();
    acceptors_[id]->set_target(t.get());
    return t;
  }
  // The node dies: its listener and every socket close.
  void disconnect(NodeId id) override {
    acceptors_.at(id)->close();
    acceptors_.at(id).reset();
    transports_.at(id)->close();
    transports_.erase(id);
  }
  KafkaPeerTransport& transport(NodeId id) { return *transports_.at(id); }

 private:
  std::map<NodeId, std::unique_ptr<PeerAcceptor>> acceptors_;
  std::map<NodeId, uint16_t> ports_;
  std::map<NodeId, KafkaPeerTransport*> transports_;
};

struct WithTcpNetwork {
  explicit WithTcpNetwork(int nodes) : network(nodes) {}
  TcpNetwork network;
};

class TcpCluster : private WithTcpNetwork, public test::HostCluster {
 public:
  TcpCluster(int nodes, std::vector<GroupId> groups)
      : WithTcpNetwork(nodes), HostCluster(&network, std::move(groups), nodes) {}
  KafkaPeerTransport& transport(NodeId id) { return network.transport(id); }
};

}  // namespace

TEST_CASE("KafkaPeerTransport: the peer client id carries the node id") {
  CHECK(cluster::peer_client_id(7) == "streamctl-peer-7");
  CHECK(cluster::parse_peer_client_id(std::string("streamctl-peer-12")) == 12);
  CHECK_FALSE(cluster::parse_peer_client_id(std::nullopt));
  CHECK_FALSE(cluster::parse_peer_client_id(std::string("streamctl-peer-")));
  CHECK_FALSE(cluster::parse_peer_client_id(std::string("streamctl-peer-1x")));
  CHECK_FALSE(cluster::parse_peer_client_id(std::string("rdkafka")));
  CHECK(cluster::is_peer_api(52));
  CHECK_FALSE(cluster::is_peer_api(1));  // Fetch: only with a replica id, which the server peeks
}

TEST_CASE("KafkaPeerTransport: two nodes over TCP elect a leader and commit on both") {
  TcpCluster c(2, {kMeta});
  NodeId leader = c.wait_leader(kMeta);
  REQUIRE(leader != kNoNode);
  raft::Offset end = c.append_committed(leader, kMeta, 10, "two-");
  REQUIRE(c.wait_committed_everywhere(kMeta, end));
  for (NodeId id : c.nodes()) {
    CAPTURE(id);
    CHECK(c.transport(id).stats().connects >= 1);
    CHECK(c.transport(id).stats().inbound_responses > 0);
  }
  for (NodeId id : c.nodes()) c.kill(id);
  auto reference = c.batches(1, kMeta, end + 1);
  CHECK(reference.size() >= 11);
  CHECK(c.batches(2, kMeta, end + 1) == reference);
}

TEST_CASE("KafkaPeerTransport: three nodes over TCP replicate byte for byte, fail over, and reconnect") {
  TcpCluster c(3, {kMeta, kP0});
  NodeId leader = c.wait_leader(kMeta);
  REQUIRE(leader != kNoNode);
  raft::Offset end = c.append_committed(leader, kMeta, 20, "before-");
  REQUIRE(c.wait_committed_everywhere(kMeta, end));
  NodeId p0_leader = c.wait_leader(kP0);
  REQUIRE(p0_leader != kNoNode);
  raft::Offset p0_end = c.append_committed(p0_leader, kP0, 5, "p0-");
  // The metadata leader's node dies (its sockets close): the other two elect a new leader and go on committing.
  c.kill(leader);
  NodeId next = c.wait_leader(kMeta);
  REQUIRE(next != kNoNode);
  CHECK(next != leader);
  end = c.append_committed(next, kMeta, 10, "after-");
  REQUIRE(c.wait_committed_everywhere(kMeta, end));
  // It comes back on the same address: the others reconnect to it and it catches up.
  c.start(leader);
  REQUIRE(c.wait_committed_everywhere(kMeta, end));
  REQUIRE(c.wait_committed_everywhere(kP0, p0_end));
  CHECK(wait_until([&] { return c.status(leader, kMeta).role == Role::kFollower; }));
  next = c.wait_leader(kMeta);
  REQUIRE(next != kNoNode);
  end = c.append_committed(next, kMeta, 5, "back-");
  REQUIRE(c.wait_committed_everywhere(kMeta, end));
  for (NodeId id : c.nodes())
    if (id != leader) CHECK(c.transport(id).stats().connects >= 2);  // to the old leader, before and after
  for (NodeId id : c.nodes()) c.kill(id);
  auto reference = c.batches(1, kMeta, end + 1);
  CHECK(reference.size() >= 36);  // 35 appends and at least two LeaderChange batches
  for (NodeId id : {2, 3}) CHECK(c.batches(id, kMeta, end + 1) == reference);
  auto p0 = c.batches(1, kP0, p0_end + 1);
  CHECK(p0.size() >= 6);
  for (NodeId id : {2, 3}) CHECK(c.batches(id, kP0, p0_end + 1) == p0);
}
