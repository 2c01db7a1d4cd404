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
#include <mutex>
#include <thread>
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

// One node's transport with a handler that records what arrives (on its own io_context thread).
class RecordingNode {
 public:
  RecordingNode(NodeId id, std::map<NodeId, uint16_t> ports, std::chrono::milliseconds inbound_timeout = 2000ms)
      : work_(io_.get_executor()) {
    cluster::KafkaPeerOptions o;
    o.node_id = id;
    for (const auto& [peer, port] : ports) o.peers[peer] = cluster::PeerAddress{"127.0.0.1", port};
    o.backoff_min = 10ms;
    o.backoff_max = 50ms;
    o.inbound_timeout = inbound_timeout;
    transport = std::make_unique<KafkaPeerTransport>(io_.get_executor(), o);
    transport->set_handler([this](cluster::GroupMessage m) {
      std::lock_guard<std::mutex> lock(mu_);
      got_.push_back(std::move(m));
    });
    thread_ = std::thread([this] { io_.run(); });
  }
  ~RecordingNode() {
    transport->close();
    work_.reset();
    thread_.join();
  }
  std::vector<cluster::GroupMessage> got() {
    std::lock_guard<std::mutex> lock(mu_);
    return got_;
  }
  std::unique_ptr<KafkaPeerTransport> transport;

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::mutex mu_;
  std::vector<cluster::GroupMessage> got_;
  std::thread thread_;
};

cluster::GroupMessage vote_request(NodeId from, NodeId to, int32_t correlation, const GroupId& g) {
  raft::VoteRequest v;
  v.replica_epoch = 3;
  v.replica_id = from;
  v.last_offset_epoch = 2;
  v.last_offset = 17;
  return {g, raft::Message{from, to, correlation, v}};
}

cluster::GroupMessage vote_response(NodeId from, NodeId to, int32_t correlation, const GroupId& g) {
  raft::VoteResponse v;
  v.current_leader = {kNoNode, 3};
  v.vote_granted = true;
  return {g, raft::Message{from, to, correlation, v}};
}

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
  for (NodeId id : c.nodes()) {
    auto st = c.transport(id).stats();
    if (id != leader) CHECK(st.connects >= 2);  // to the old leader, before and after
    MESSAGE("node " << id << ": " << st.connects << " connects, " << st.requests_sent << " requests sent, "
                    << st.responses_received << " responses received, " << st.inbound_requests << " requests in, "
                    << st.inbound_responses << " answered, " << st.dropped_messages << " messages dropped");
  }
  for (NodeId id : c.nodes()) c.kill(id);
  auto reference = c.batches(1, kMeta, end + 1);
  CHECK(reference.size() >= 36);  // 35 appends and at least two LeaderChange batches
  for (NodeId id : {2, 3}) CHECK(c.batches(id, kMeta, end + 1) == reference);
  auto p0 = c.batches(1, kP0, p0_end + 1);
  CHECK(p0.size() >= 6);
  for (NodeId id : {2, 3}) CHECK(c.batches(id, kP0, p0_end + 1) == p0);
}

TEST_CASE("KafkaPeerTransport: a peer that is down drops messages without blocking; once it listens, requests "
          "and responses cross with their Raft correlation ids") {
  uint16_t port = 0;
  { port = PeerAcceptor().port(); }  // a free port nobody listens on (for now)
  RecordingNode one(1, {{2, port}});
  for (int i = 0; i < 20; ++i) one.transport->send(2, {vote_request(1, 2, 100 + i, kMeta)});
  CHECK(wait_until([&] { return one.transport->stats().dropped_messages >= 1; }));
  CHECK(one.transport->stats().connects == 0);

  PeerAcceptor acceptor(port);
  RecordingNode two(2, {{1, 0}});
  acceptor.set_target(two.transport.get());
  // Node 1 reconnects in the background; its next votes (two groups in one step) arrive as one Kafka request.
  int32_t next = 1000;
  REQUIRE(wait_until([&] {
    one.transport->send(2, {vote_request(1, 2, next, kMeta), vote_request(1, 2, next + 1, kP0)});
    next += 2;
    std::this_thread::sleep_for(20ms);
    return two.got().size() >= 2;
  }));
  auto in = two.got();
  CHECK(one.transport->stats().connects == 1);
  CHECK(std::get<raft::VoteRequest>(in[0].message.body).last_offset == 17);
  CHECK(in[0].message.source == 1);
  CHECK(in[0].group == kMeta);
  CHECK(in[1].group == kP0);
  const int32_t kafka_correlation = in[0].message.correlation_id;  // the Kafka one, shared by the request
  CHECK(in[1].message.correlation_id == kafka_correlation);
  // Answering one group does not answer the request yet; answering both does, and node 1 gets both responses
  // back under the Raft correlation ids its requests went out with.
  two.transport->send(1, {vote_response(2, 1, kafka_correlation, kP0)});
  two.transport->send(1, {vote_response(2, 1, kafka_correlation, kMeta)});
  REQUIRE(wait_until([&] { return one.got().size() >= 2; }));
  auto back = one.got();
  REQUIRE(back.size() == 2);
  std::map<std::string, int32_t> ids;
  for (const auto& m : back) {
    CHECK(std::get<raft::VoteResponse>(m.message.body).vote_granted);
    CHECK(m.message.source == 2);
    CHECK(m.message.destination == 1);
    ids[m.group.topic] = m.message.correlation_id;
  }
  CHECK(ids["orders"] == ids["__cluster_metadata"] + 1);
  CHECK(ids["__cluster_metadata"] >= 1000);
  CHECK(two.transport->stats().inbound_responses >= 1);
}

TEST_CASE("KafkaPeerTransport: a request answered only in part is answered with that part after the timeout; "
          "a client id that is not a peer's is refused") {
  PeerAcceptor acceptor;
  RecordingNode two(2, {{1, 0}}, /*inbound_timeout=*/100ms);
  acceptor.set_target(two.transport.get());
  RecordingNode one(1, {{2, acceptor.port()}});
  REQUIRE(wait_until([&] {
    one.transport->send(2, {vote_request(1, 2, 7, kMeta), vote_request(1, 2, 8, kP0)});
    std::this_thread::sleep_for(20ms);
    return two.got().size() >= 2;
  }));
  const int32_t kafka_correlation = two.got()[0].message.correlation_id;
  two.transport->send(1, {vote_response(2, 1, kafka_correlation, kP0)});
  REQUIRE(wait_until([&] { return !one.got().empty(); }));
  auto back = one.got();
  REQUIRE(back.size() == 1);
  CHECK(back[0].group == kP0);
  CHECK(back[0].message.correlation_id == 8);

  kafka::protocol::RequestHeader h;
  h.api_key = 52;
  h.correlation_id = 1;
  h.client_id = "rdkafka";
  auto st = two.transport->handle_request(1, h, {}, [](Bytes) { FAIL("answered a refused request"); });
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("streamctl-peer-") != std::string::npos);
}
