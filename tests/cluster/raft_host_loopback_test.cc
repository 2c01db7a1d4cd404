// Three RaftHosts in one process, each on its own io_context thread, with real engine logs in temp dirs and
// real time, talking through the in-process LoopbackHub: elections of the metadata group and two partition
// groups, replication byte for byte, failover after a host dies, append-and-wait failing on an isolated
// leader, and quorum state surviving a restart.
//
// Timeouts are short (election 150 ms) so each case runs in about a second; every wait is bounded by a
// generous kWait (the suite also runs under ASan on a loaded 2-core machine) and asserts only the outcome.
#include <doctest/doctest.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <algorithm>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cluster/quorum_state_file.h"
#include "cluster/raft_host.h"
#include "engine/log.h"
#include "tests/cluster/engine_store.h"
#include "tests/cluster/loopback_transport.h"
#include "tests/engine/log_test_helpers.h"
#include "tests/support/temp_dir.h"

using namespace streamctl;
using namespace std::chrono_literals;
using streamctl::cluster::GroupId;
using streamctl::cluster::RaftHost;
using streamctl::raft::kNoNode;
using streamctl::raft::NodeId;
using streamctl::raft::Role;
using streamctl::test::LoopbackHub;
using streamctl::test::read_batches;
using streamctl::test::tag;
using streamctl::test::TempDir;

namespace {

constexpr auto kWait = 30s;  // bound on any wait; normally reached in well under a second

template <typename Pred>
bool wait_until(Pred pred, std::chrono::milliseconds bound = kWait) {
  auto end = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

class LoopbackCluster {
 public:
  // Nodes 1..voters vote; the next `observers` nodes replicate without voting.
  explicit LoopbackCluster(std::vector<GroupId> groups, int voters = 3, int observers = 0)
      : groups_(std::move(groups)) {
    for (NodeId id = 1; id <= voters + observers; ++id) {
      all_.push_back(id);
      if (id <= voters) voters_.push_back(id);
    }
    for (NodeId id : all_) start(id);
  }
  ~LoopbackCluster() {
    for (NodeId id : all_)
      if (up(id)) kill(id);
  }

  // Opens node `id`'s logs and host from its data dir (quorum state included) without running it.
  void open(NodeId id) {
    Node& n = nodes_[id];
    REQUIRE(n.host == nullptr);
    n.io = std::make_unique<asio::io_context>();
    n.transport = hub_.connect(id, n.io->get_executor());
    cluster::RaftHostOptions o;
    o.node_id = id;
    o.tick_interval = 10ms;
    o.seed = uint64_t(id) * 1000 + uint64_t(n.starts) + 1;
    n.host = std::make_unique<RaftHost>(n.io->get_executor(), n.transport.get(), o);
    n.starts++;
    for (size_t i = 0; i < groups_.size(); ++i) {
      const GroupId& g = groups_[i];
      engine::LogOptions lo;
      lo.dir = dir(id, g);
      lo.tp = TopicPartition{g.topic, g.partition};
      lo.fs = posix_file_system();
      lo.clock = system_clock();
      lo.cross_process_lock = false;  // the node owns its data dir (the per-append open+flock would dominate)
      REQUIRE(posix_file_system()->create_dirs(lo.dir).ok());
      auto log = engine::Log::open(lo);
      if (!log.ok()) FAIL(log.error().to_string());
      n.logs.push_back(std::move(log).value());
      n.adapters.push_back(std::make_unique<cluster::EngineRaftLog>(n.logs.back().get(), system_clock()));
      cluster::GroupOptions go;
      go.raft.id = id;
      go.raft.voters = voters_;
      go.raft.election_timeout_ms = 150;
      go.raft.fetch_timeout_ms = 800;  // well above a loaded machine's stalls: no spurious elections
      go.raft.request_timeout_ms = 100;
      go.raft.fetch_max_wait_ms = 50;
      go.quorum_state_path = lo.dir + "/quorum-state";
      REQUIRE(n.host->add_group(g, cluster::engine_group_log(n.adapters.back().get()), go).ok());
    }
  }
  void run(NodeId id) {
    Node& n = nodes_[id];
    n.host->start();
    n.work = std::make_unique<Work>(n.io->get_executor());
    n.thread = std::thread([io = n.io.get()] { io->run(); });
  }
  void start(NodeId id) {
    open(id);
    run(id);
  }
  // The process dies: no resignation, nothing more sent or received.
  void kill(NodeId id) {
    Node& n = nodes_[id];
    hub_.disconnect(id);
    n.work.reset();
    n.io->stop();
    if (n.thread.joinable()) n.thread.join();
    n.host.reset();
    n.transport.reset();
    n.adapters.clear();
    n.logs.clear();
    n.io.reset();
  }
  // SIGTERM: leaders resign (EndQuorumEpoch), then the process ends.
  void stop(NodeId id) {
    std::promise<void> stopped;
    nodes_[id].host->stop([&] { stopped.set_value(); });
    REQUIRE(stopped.get_future().wait_for(kWait) == std::future_status::ready);
    kill(id);
  }
  bool up(NodeId id) const {
    auto it = nodes_.find(id);
    return it != nodes_.end() && it->second.host != nullptr;
  }
  RaftHost& host(NodeId id) { return *nodes_.at(id).host; }
  cluster::GroupStatus status(NodeId id, const GroupId& g) { return *host(id).status(g); }
  LoopbackHub& hub() { return hub_; }
  const std::vector<NodeId>& nodes() const { return all_; }
  std::string dir(NodeId id, const GroupId& g) const {
    return tmp_.path() + "/node-" + std::to_string(id) + "/" + g.topic + "-" + std::to_string(g.partition);
  }

  // The leader every up node agrees on (same leader and epoch, and it leads), or kNoNode.
  NodeId agreed_leader(const GroupId& g) {
    NodeId leader = kNoNode;
    raft::Epoch epoch = -1;
    for (NodeId id : all_) {
      if (!up(id)) continue;
      cluster::GroupStatus s = status(id, g);
      if (s.leader == kNoNode || (leader != kNoNode && (s.leader != leader || s.epoch != epoch))) return kNoNode;
      leader = s.leader;
      epoch = s.epoch;
    }
    if (leader == kNoNode || !up(leader) || status(leader, g).role != Role::kLeader) return kNoNode;
    return leader;
  }
  NodeId wait_leader(const GroupId& g) {
    NodeId leader = kNoNode;
    wait_until([&] { return (leader = agreed_leader(g)) != kNoNode; });
    return leader;
  }

  // Appends through `id` and waits (bounded) for the outcome.
  std::future<Result<raft::OffsetAndEpoch>> append_async(NodeId id, const GroupId& g, const std::string& value,
                                                         std::chrono::milliseconds timeout = 60s) {
    auto done = std::make_shared<std::promise<Result<raft::OffsetAndEpoch>>>();
    auto future = done->get_future();
    raft::Batch b;
    b.bytes = value;
    host(id).append(g, std::move(b), timeout, [done](Result<raft::OffsetAndEpoch> r) { done->set_value(std::move(r)); });
    return future;
  }
  Result<raft::OffsetAndEpoch> append(NodeId id, const GroupId& g, const std::string& value) {
    auto f = append_async(id, g, value);
    REQUIRE(f.wait_for(kWait) == std::future_status::ready);
    return f.get();
  }
  // Appends `n` values through `leader` (pipelined) and returns the largest offset. An append that fails
  // because leadership moved (a spurious election on a loaded machine) is retried through the new leader under
  // a new value (value#attempt: the failed one may still commit); `acknowledged` gets the values that committed.
  raft::Offset append_committed(NodeId leader, const GroupId& g, int n, const std::string& prefix,
                                std::vector<std::string>* acknowledged = nullptr) {
    std::vector<std::future<Result<raft::OffsetAndEpoch>>> pending;
    for (int i = 0; i < n; ++i) pending.push_back(append_async(leader, g, tag(prefix, i)));
    raft::Offset last = -1;
    for (int i = 0; i < n; ++i) {
      REQUIRE(pending[i].wait_for(kWait) == std::future_status::ready);
      auto r = pending[i].get();
      std::string value = tag(prefix, i);
      for (int attempt = 1; !r.ok(); ++attempt) {
        CAPTURE(r.error().to_string());
        REQUIRE(r.error().code == ErrorCode::kUnavailable);
        REQUIRE(attempt <= 10);
        NodeId now_leader = wait_leader(g);
        REQUIRE(now_leader != kNoNode);
        value = tag(tag(prefix, i) + "#", attempt);
        r = append(now_leader, g, value);
      }
      last = std::max(last, r->offset);
      if (acknowledged) acknowledged->push_back(value);
    }
    return last;
  }
  // Waits until every up node's high watermark of `g` is past `offset`.
  bool wait_committed_everywhere(const GroupId& g, raft::Offset offset) {
    return wait_until([&] {
      for (NodeId id : all_)
        if (up(id) && status(id, g).high_watermark <= offset) return false;
      return true;
    });
  }
  // The batches of `g` in [0, end) on node `id` (the node must be down: its log is read directly).
  std::vector<raft::Batch> read(NodeId id, const GroupId& g, raft::Offset end) {
    REQUIRE_FALSE(up(id));
    engine::LogOptions lo;
    lo.dir = dir(id, g);
    lo.tp = TopicPartition{g.topic, g.partition};
    lo.fs = posix_file_system();
    lo.clock = system_clock();
    auto log = engine::Log::open(lo);
    REQUIRE(log.ok());
    cluster::EngineRaftLog adapter(log->get(), system_clock());
    std::vector<raft::Batch> out;
    raft::Offset at = 0;
    for (raft::Batch& b : read_batches(adapter)) {
      if (at >= end) break;
      at += b.record_count;
      out.push_back(std::move(b));
    }
    return out;
  }
  // The stored batches, byte for byte.
  std::vector<std::string> batches(NodeId id, const GroupId& g, raft::Offset end) {
    std::vector<std::string> out;
    for (raft::Batch& b : read(id, g, end)) out.push_back(std::move(b.bytes));
    return out;
  }
  // The payloads of the data batches.
  std::vector<std::string> values(NodeId id, const GroupId& g, raft::Offset end) {
    std::vector<std::string> out;
    for (const raft::Batch& b : read(id, g, end))
      if (!b.control) out.push_back(cluster::EngineRaftLog::payload(b));
    return out;
  }

 private:
  using Work = asio::executor_work_guard<asio::io_context::executor_type>;
  struct Node {
    std::unique_ptr<asio::io_context> io;
    std::unique_ptr<Work> work;
    std::thread thread;
    std::unique_ptr<cluster::PeerTransport> transport;
    std::vector<std::unique_ptr<engine::Log>> logs;
    std::vector<std::unique_ptr<cluster::EngineRaftLog>> adapters;
    std::unique_ptr<RaftHost> host;
    int starts = 0;
  };

  TempDir tmp_{"streamctl-raft-host"};
  LoopbackHub hub_;
  std::vector<GroupId> groups_;
  std::vector<NodeId> voters_;
  std::vector<NodeId> all_;  // voters, then observers
  std::map<NodeId, Node> nodes_;
};

const GroupId kMeta = cluster::metadata_group();
const GroupId kP0{"orders", 0};
const GroupId kP1{"orders", 1};

}  // namespace

TEST_CASE("three hosts elect one leader per group and commit appends on all three, byte for byte") {
  LoopbackCluster c({kMeta, kP0, kP1});
  std::map<std::string, raft::Offset> last;
  for (const GroupId& g : {kMeta, kP0, kP1}) {
    CAPTURE(g.topic);
    CAPTURE(g.partition);
    NodeId leader = c.wait_leader(g);
    REQUIRE(leader != kNoNode);
    raft::Offset end = c.append_committed(leader, g, 20, g.topic + "/" + std::to_string(g.partition) + ":");
    REQUIRE(c.wait_committed_everywhere(g, end));
    last[g.topic + std::to_string(g.partition)] = end + 1;
  }
  MESSAGE("most groups in one send: " << c.hub().stats().max_groups_per_send);
  for (NodeId id : c.nodes()) c.kill(id);
  for (const GroupId& g : {kMeta, kP0, kP1}) {
    raft::Offset committed = last[g.topic + std::to_string(g.partition)];
    auto reference = c.batches(1, g, committed);
    CHECK(reference.size() >= 21);  // 20 appends and at least one LeaderChange
    for (NodeId id : {2, 3}) CHECK(c.batches(id, g, committed) == reference);
  }
}

TEST_CASE("when the leader's host dies a new leader is elected and serves, and the old one catches up") {
  LoopbackCluster c({kMeta, kP0});
  NodeId old_leader = c.wait_leader(kMeta);
  REQUIRE(old_leader != kNoNode);
  c.append_committed(old_leader, kMeta, 5, "before-");
  c.kill(old_leader);
  NodeId next = c.wait_leader(kMeta);
  REQUIRE(next != kNoNode);
  CHECK(next != old_leader);
  raft::Offset end = c.append_committed(next, kMeta, 5, "after-");
  c.start(old_leader);
  REQUIRE(c.wait_committed_everywhere(kMeta, end));
  CHECK(wait_until([&] { return c.status(old_leader, kMeta).role == Role::kFollower; }));
  for (NodeId id : c.nodes()) c.kill(id);
  auto reference = c.batches(next, kMeta, end + 1);
  for (NodeId id : c.nodes()) CHECK(c.batches(id, kMeta, end + 1) == reference);
}

TEST_CASE("a gracefully stopped leader hands its groups over (EndQuorumEpoch) and fails its pending appends") {
  LoopbackCluster c({kMeta, kP0});
  NodeId leader = c.wait_leader(kMeta);
  REQUIRE(leader != kNoNode);
  // An append still pending when the stop runs fails (leadership given up) rather than hanging; one that
  // committed first is fine too.
  auto pending = c.append_async(leader, kMeta, "racing the stop", 120s);
  c.stop(leader);
  REQUIRE(pending.wait_for(kWait) == std::future_status::ready);
  if (auto r = pending.get(); !r.ok()) CHECK(r.error().code == ErrorCode::kUnavailable);
  NodeId next = c.wait_leader(kMeta);
  REQUIRE(next != kNoNode);
  CHECK(next != leader);
  c.append_committed(next, kMeta, 1, "x");
}

TEST_CASE("append-and-wait on an isolated leader fails instead of hanging; the majority elects and serves") {
  LoopbackCluster c({kP0});
  NodeId leader = c.wait_leader(kP0);
  REQUIRE(leader != kNoNode);
  c.append_committed(leader, kP0, 3, "ok-");
  c.hub().isolate(leader);
  auto pending = c.append_async(leader, kP0, "lost?", 120s);  // a timeout far beyond the wait below
  REQUIRE(pending.wait_for(kWait) == std::future_status::ready);
  auto r = pending.get();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(r.error().message.find("lost the leadership") != std::string::npos);
  // The other two elect a leader among themselves and commit.
  int attempt = 0;
  CHECK(wait_until([&] {
    NodeId now_leading = kNoNode;
    for (NodeId id : c.nodes())
      if (id != leader && c.status(id, kP0).role == Role::kLeader) now_leading = id;
    return now_leading != kNoNode && c.append(now_leading, kP0, tag("majority-", attempt++)).ok();
  }));
  c.hub().heal();
  REQUIRE(c.wait_leader(kP0) != kNoNode);
}

TEST_CASE("a host restarted from its data dir keeps its quorum state: the vote is not forgotten") {
  LoopbackCluster c({kMeta});
  NodeId leader = c.wait_leader(kMeta);
  REQUIRE(leader != kNoNode);
  raft::Offset end = c.append_committed(leader, kMeta, 3, "v");
  REQUIRE(c.wait_committed_everywhere(kMeta, end));
  // A node that voted in this epoch (a follower that granted the leader's vote, else the leader itself).
  NodeId voter = leader;
  for (NodeId id : c.nodes())
    if (id != leader && c.status(id, kMeta).voted_for != kNoNode) voter = id;
  cluster::GroupStatus before = c.status(voter, kMeta);
  REQUIRE(before.voted_for != kNoNode);
  c.kill(voter);
  auto file = cluster::read_quorum_state(*posix_file_system(), c.dir(voter, kMeta) + "/quorum-state");
  REQUIRE(file.ok());
  CHECK(file->leader_epoch == before.epoch);
  CHECK(file->voted_id == before.voted_for);
  c.open(voter);
  cluster::GroupStatus reopened = c.status(voter, kMeta);
  CHECK(reopened.epoch == before.epoch);
  CHECK(reopened.voted_for == before.voted_for);
  c.run(voter);
  REQUIRE(c.wait_committed_everywhere(kMeta, end));
  CHECK(c.wait_leader(kMeta) != kNoNode);
}


TEST_CASE("an observer replicates committed data but never votes nor counts toward a majority") {
  LoopbackCluster c({kMeta}, /*voters=*/3, /*observers=*/1);
  NodeId leader = c.wait_leader(kMeta);
  REQUIRE(leader != kNoNode);
  CHECK(leader != 4);
  raft::Offset end = c.append_committed(leader, kMeta, 5, "o");
  REQUIRE(c.wait_committed_everywhere(kMeta, end));  // the observer's HW too
  CHECK(wait_until([&] { return c.status(4, kMeta).role == Role::kFollower; }));
  CHECK(c.status(4, kMeta).leader != 4);
  // Two voters gone: the leader and the observer are no majority of the three voters.
  for (NodeId id : {1, 2, 3})
    if (id != leader) c.kill(id);
  auto r = c.append(leader, kMeta, "no majority");
  CHECK_FALSE(r.ok());
  CHECK(c.status(4, kMeta).role != Role::kLeader);
}

TEST_CASE("appends racing a spell of total message loss: every acknowledged one is committed exactly once") {
  LoopbackCluster c({kP0});
  NodeId leader = c.wait_leader(kP0);
  REQUIRE(leader != kNoNode);
  std::vector<std::string> acknowledged;
  c.append_committed(leader, kP0, 10, "before-", &acknowledged);
  // These race the loss: some may commit, the others must fail, none may hang.
  std::vector<std::pair<std::string, std::future<Result<raft::OffsetAndEpoch>>>> pending;
  for (int i = 0; i < 10; ++i) {
    pending.emplace_back(tag("racing-", i), c.append_async(leader, kP0, tag("racing-", i), 120s));
    if (i == 3) c.hub().drop_all(true);
  }
  // Long enough for check-quorum to depose the leader.
  REQUIRE(wait_until([&] { return c.status(leader, kP0).role != Role::kLeader; }));
  c.hub().heal();
  for (auto& [v, f] : pending) {
    REQUIRE(f.wait_for(kWait) == std::future_status::ready);
    auto r = f.get();
    if (r.ok()) acknowledged.push_back(v);
    else CHECK(r.error().code == ErrorCode::kUnavailable);
  }
  NodeId next = c.wait_leader(kP0);
  REQUIRE(next != kNoNode);
  raft::Offset end = c.append_committed(next, kP0, 1, "after-", &acknowledged);
  REQUIRE(c.wait_committed_everywhere(kP0, end));
  for (NodeId id : c.nodes()) c.kill(id);
  auto reference = c.values(1, kP0, end + 1);
  for (NodeId id : c.nodes()) CHECK(c.values(id, kP0, end + 1) == reference);
  std::map<std::string, int> count;
  for (const std::string& v : reference) count[v]++;
  for (const std::string& v : acknowledged) {
    CAPTURE(v);
    CHECK(count[v] == 1);
  }
  for (const auto& [v, n] : count) {
    CAPTURE(v);
    CHECK(n == 1);
  }
}
