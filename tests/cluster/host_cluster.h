// HostCluster: RaftHosts in one process, each on its own io_context thread, with real engine logs in a temp dir
// and real time, over a pluggable Network (the in-process LoopbackHub, or KafkaPeerTransport over TCP). Nodes
// 1..voters vote, the next `observers` replicate without voting; every group is on every node. Helpers wait
// (bounded by kWait: the suite also runs under ASan on a loaded 2-core machine) for an agreed leader and for
// commits, append through the leader with retries across leadership changes, and read a stopped node's log.
#pragma once

#include <doctest/doctest.h>

#include <asio/any_io_executor.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cluster/raft_host.h"
#include "engine/log.h"
#include "tests/cluster/engine_store.h"
#include "tests/engine/log_test_helpers.h"
#include "tests/support/temp_dir.h"

namespace streamctl::test {

using namespace std::chrono_literals;
using cluster::GroupId;
using cluster::RaftHost;
using raft::kNoNode;
using raft::NodeId;
using raft::Role;

inline constexpr auto kWait = 30s;  // bound on any wait; normally reached in well under a second

template <typename Pred>
inline bool wait_until(Pred pred, std::chrono::milliseconds bound = kWait) {
  auto end = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

// How the hosts reach each other: connect() makes node `id`'s transport (its handler runs on `executor`);
// disconnect() cuts it off (a dying process: nothing more is sent or received) before the node is torn down.
class Network {
 public:
  virtual ~Network() = default;
  virtual std::unique_ptr<cluster::PeerTransport> connect(NodeId id, asio::any_io_executor executor) = 0;
  virtual void disconnect(NodeId id) = 0;
};

class HostCluster {
 public:
  // Nodes 1..voters vote; the next `observers` nodes replicate without voting.
  HostCluster(Network* network, std::vector<GroupId> groups, int voters = 3, int observers = 0)
      : network_(network), groups_(std::move(groups)) {
    for (NodeId id = 1; id <= voters + observers; ++id) {
      all_.push_back(id);
      if (id <= voters) voters_.push_back(id);
    }
    for (NodeId id : all_) start(id);
  }
  ~HostCluster() {
    for (NodeId id : all_)
      if (up(id)) kill(id);
  }

  // Opens node `id`'s logs and host from its data dir (quorum state included) without running it.
  void open(NodeId id) {
    Node& n = nodes_[id];
    REQUIRE(n.host == nullptr);
    n.io = std::make_unique<asio::io_context>();
    n.transport = network_->connect(id, n.io->get_executor());
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
    network_->disconnect(id);
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
  Network* network_;
  std::vector<GroupId> groups_;
  std::vector<NodeId> voters_;
  std::vector<NodeId> all_;  // voters, then observers
  std::map<NodeId, Node> nodes_;
};

}  // namespace streamctl::test
