// Three RaftHosts in one process, each on its own io_context thread with real engine logs in temp dirs,
// talking through KafkaPeerTransport over TCP on 127.0.0.1 (every Raft message crosses a real socket as a Kafka
// quorum API request or response; the inbound side is tests/cluster/peer_acceptor.h in the server's role):
// election and byte-identical replication of the metadata group, failover after a node's sockets are closed,
// and reconnection once it is back.
//
// Every wait is bounded by a generous kWait (the suite also runs under ASan on a loaded 2-core machine) and
// asserts only the outcome.
#include <doctest/doctest.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <algorithm>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cluster/kafka_peer_transport.h"
#include "cluster/raft_host.h"
#include "engine/log.h"
#include "tests/cluster/engine_store.h"
#include "tests/cluster/peer_acceptor.h"
#include "tests/engine/log_test_helpers.h"
#include "tests/support/temp_dir.h"

using namespace streamctl;
using namespace std::chrono_literals;
using streamctl::cluster::GroupId;
using streamctl::cluster::KafkaPeerTransport;
using streamctl::cluster::RaftHost;
using streamctl::raft::kNoNode;
using streamctl::raft::NodeId;
using streamctl::raft::Role;
using streamctl::test::PeerAcceptor;
using streamctl::test::read_batches;
using streamctl::test::tag;
using streamctl::test::TempDir;

namespace {

constexpr auto kWait = 60s;  // bound on any wait; normally reached in well under a second

template <typename Pred>
bool wait_until(Pred pred, std::chrono::milliseconds bound = kWait) {
  auto end = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

const GroupId kMeta = cluster::metadata_group();

class TcpCluster {
 public:
  explicit TcpCluster(int nodes) {
    for (NodeId id = 1; id <= nodes; ++id) {
      all_.push_back(id);
      nodes_[id].acceptor = std::make_unique<PeerAcceptor>();
      ports_[id] = nodes_[id].acceptor->port();
    }
    for (NodeId id : all_) start(id);
  }
  ~TcpCluster() {
    for (NodeId id : all_)
      if (up(id)) kill(id);
  }

  void start(NodeId id) {
    Node& n = nodes_[id];
    REQUIRE(n.host == nullptr);
    if (!n.acceptor) n.acceptor = std::make_unique<PeerAcceptor>(ports_[id]);  // the same address again
    n.io = std::make_unique<asio::io_context>();
    cluster::KafkaPeerOptions po;
    po.node_id = id;
    for (NodeId peer : all_) po.peers[peer] = cluster::PeerAddress{"127.0.0.1", ports_[peer]};
    po.wire.fetch_max_wait_ms = 50;
    po.backoff_min = 20ms;
    po.backoff_max = 200ms;
    n.transport = std::make_unique<KafkaPeerTransport>(n.io->get_executor(), po);
    n.acceptor->set_target(n.transport.get());
    cluster::RaftHostOptions o;
    o.node_id = id;
    o.tick_interval = 10ms;
    o.seed = uint64_t(id) * 1000 + uint64_t(n.starts++) + 1;
    n.host = std::make_unique<RaftHost>(n.io->get_executor(), n.transport.get(), o);
    engine::LogOptions lo;
    lo.dir = dir(id);
    lo.tp = TopicPartition{kMeta.topic, kMeta.partition};
    lo.fs = posix_file_system();
    lo.clock = system_clock();
    lo.cross_process_lock = false;
    REQUIRE(posix_file_system()->create_dirs(lo.dir).ok());
    auto log = engine::Log::open(lo);
    if (!log.ok()) FAIL(log.error().to_string());
    n.log = std::move(log).value();
    n.adapter = std::make_unique<cluster::EngineRaftLog>(n.log.get(), system_clock());
    cluster::GroupOptions go;
    go.raft.id = id;
    go.raft.voters = all_;
    go.raft.election_timeout_ms = 150;
    go.raft.fetch_timeout_ms = 800;
    go.raft.request_timeout_ms = 100;
    go.raft.fetch_max_wait_ms = 50;
    go.quorum_state_path = lo.dir + "/quorum-state";
    REQUIRE(n.host->add_group(kMeta, cluster::engine_group_log(n.adapter.get()), go).ok());
    n.host->start();
    n.work = std::make_unique<Work>(n.io->get_executor());
    n.thread = std::thread([io = n.io.get()] { io->run(); });
  }
  // The node dies: its listener and every socket close, nothing more is sent or received.
  void kill(NodeId id) {
    Node& n = nodes_[id];
    n.acceptor->close();
    n.transport->close();
    n.work.reset();
    n.io->stop();
    if (n.thread.joinable()) n.thread.join();
    n.host.reset();
    n.acceptor.reset();
    n.transport.reset();
    n.adapter.reset();
    n.log.reset();
    n.io.reset();
  }
  bool up(NodeId id) const {
    auto it = nodes_.find(id);
    return it != nodes_.end() && it->second.host != nullptr;
  }
  cluster::GroupStatus status(NodeId id) { return *nodes_.at(id).host->status(kMeta); }
  KafkaPeerTransport& transport(NodeId id) { return *nodes_.at(id).transport; }
  const std::vector<NodeId>& nodes() const { return all_; }
  std::string dir(NodeId id) const { return tmp_.path() + "/node-" + std::to_string(id) + "/meta-0"; }

  NodeId agreed_leader() {
    NodeId leader = kNoNode;
    raft::Epoch epoch = -1;
    for (NodeId id : all_) {
      if (!up(id)) continue;
      cluster::GroupStatus s = status(id);
      if (s.leader == kNoNode || (leader != kNoNode && (s.leader != leader || s.epoch != epoch))) return kNoNode;
      leader = s.leader;
      epoch = s.epoch;
    }
    if (leader == kNoNode || !up(leader) || status(leader).role != Role::kLeader) return kNoNode;
    return leader;
  }
  NodeId wait_leader() {
    NodeId leader = kNoNode;
    wait_until([&] { return (leader = agreed_leader()) != kNoNode; });
    return leader;
  }
  Result<raft::OffsetAndEpoch> append(NodeId id, const std::string& value) {
    auto done = std::make_shared<std::promise<Result<raft::OffsetAndEpoch>>>();
    auto future = done->get_future();
    raft::Batch b;
    b.bytes = value;
    nodes_.at(id).host->append(kMeta, std::move(b), 60s,
                               [done](Result<raft::OffsetAndEpoch> r) { done->set_value(std::move(r)); });
    REQUIRE(future.wait_for(kWait) == std::future_status::ready);
    return future.get();
  }
  // Appends n values, each through the leader of the moment (retried under a new value when leadership moved).
  raft::Offset append_committed(int n, const std::string& prefix) {
    raft::Offset last = -1;
    for (int i = 0; i < n; ++i) {
      Result<raft::OffsetAndEpoch> r = Error{ErrorCode::kUnavailable, "not tried"};
      for (int attempt = 0; !r.ok(); ++attempt) {
        REQUIRE(attempt <= 10);
        if (attempt > 0) REQUIRE(r.error().code == ErrorCode::kUnavailable);
        NodeId leader = wait_leader();
        REQUIRE(leader != kNoNode);
        r = append(leader, tag(tag(prefix, i) + "#", attempt));
      }
      last = std::max(last, r->offset);
    }
    return last;
  }
  bool wait_committed_everywhere(raft::Offset offset) {
    return wait_until([&] {
      for (NodeId id : all_)
        if (up(id) && status(id).high_watermark <= offset) return false;
      return true;
    });
  }
  // The stored batches of [0, end) on node `id`, byte for byte (the node must be down).
  std::vector<std::string> batches(NodeId id, raft::Offset end) {
    REQUIRE_FALSE(up(id));
    engine::LogOptions lo;
    lo.dir = dir(id);
    lo.tp = TopicPartition{kMeta.topic, kMeta.partition};
    lo.fs = posix_file_system();
    lo.clock = system_clock();
    auto log = engine::Log::open(lo);
    REQUIRE(log.ok());
    cluster::EngineRaftLog adapter(log->get(), system_clock());
    std::vector<std::string> out;
    raft::Offset at = 0;
    for (raft::Batch& b : read_batches(adapter)) {
      if (at >= end) break;
      at += b.record_count;
      out.push_back(std::move(b.bytes));
    }
    return out;
  }

 private:
  using Work = asio::executor_work_guard<asio::io_context::executor_type>;
  struct Node {
    std::unique_ptr<PeerAcceptor> acceptor;
    std::unique_ptr<asio::io_context> io;
    std::unique_ptr<Work> work;
    std::thread thread;
    std::unique_ptr<KafkaPeerTransport> transport;
    std::unique_ptr<engine::Log> log;
    std::unique_ptr<cluster::EngineRaftLog> adapter;
    std::unique_ptr<RaftHost> host;
    int starts = 0;
  };

  TempDir tmp_{"streamctl-peer-transport"};
  std::vector<NodeId> all_;
  std::map<NodeId, uint16_t> ports_;
  std::map<NodeId, Node> nodes_;
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
  TcpCluster c(2);
  NodeId leader = c.wait_leader();
  REQUIRE(leader != kNoNode);
  raft::Offset end = c.append_committed(10, "two-");
  REQUIRE(c.wait_committed_everywhere(end));
  for (NodeId id : c.nodes()) {
    CHECK(c.transport(id).stats().connects >= 1);
    CHECK(c.transport(id).stats().inbound_responses > 0);
  }
  for (NodeId id : c.nodes()) c.kill(id);
  auto reference = c.batches(1, end + 1);
  CHECK(reference.size() >= 11);
  CHECK(c.batches(2, end + 1) == reference);
}

TEST_CASE("KafkaPeerTransport: three nodes over TCP replicate byte for byte, fail over, and reconnect") {
  TcpCluster c(3);
  NodeId leader = c.wait_leader();
  REQUIRE(leader != kNoNode);
  raft::Offset end = c.append_committed(20, "before-");
  REQUIRE(c.wait_committed_everywhere(end));
  // The leader's node dies (its sockets close): the other two elect a new leader and go on committing.
  c.kill(leader);
  NodeId next = c.wait_leader();
  REQUIRE(next != kNoNode);
  CHECK(next != leader);
  end = c.append_committed(10, "after-");
  REQUIRE(c.wait_committed_everywhere(end));
  // It comes back on the same address: the others reconnect to it and it catches up.
  c.start(leader);
  REQUIRE(c.wait_committed_everywhere(end));
  CHECK(wait_until([&] { return c.status(leader).role == Role::kFollower; }));
  end = c.append_committed(5, "back-");
  REQUIRE(c.wait_committed_everywhere(end));
  for (NodeId id : c.nodes())
    if (id != leader) CHECK(c.transport(id).stats().connects >= 2);  // to the old leader, before and after
  for (NodeId id : c.nodes()) c.kill(id);
  auto reference = c.batches(1, end + 1);
  CHECK(reference.size() >= 36);  // 35 appends and at least two LeaderChange batches
  for (NodeId id : {2, 3}) CHECK(c.batches(id, end + 1) == reference);
}
