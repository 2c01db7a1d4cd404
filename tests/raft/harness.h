// An interaction-test harness for the Raft core in the style of etcd's raft tests: campaign, deliver,
// tick, stabilize. Messages are delivered in FIFO order; flushes complete at once unless a node's disk is
// held. Crashes lose what the node's log had not flushed.
//
// BasicHarness<Store> runs over any log: a Store is one node's disk and log, with
//   using Log = ...;  Log& log();  void open();  (creates the log, or reopens it after a crash)
//   Offset flush(Offset requested);  (makes the log durable, returns the durable end)  void crash();
// Harness (the simulator's MemoryLog) is the one the raft tests use; tests/cluster runs engine logs.
#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "raft/raft.h"
#include "raft/sim/memory_log.h"

namespace streamctl::raft::test {

// One node's disk: the simulator's in-memory log.
struct MemoryStore {
  using Log = sim::MemoryLog;
  sim::MemoryLog memory;
  Log& log() { return memory; }
  void open() {}
  Offset flush(Offset requested) {
    memory.mark_flushed(requested);
    return memory.flushed();
  }
  void crash() { memory.crash(); }
};

template <typename Store>
class BasicHarness {
 public:
  static constexpr int64_t kElection = 500;
  static constexpr int64_t kFetch = 1000;

  explicit BasicHarness(int voters, int observers = 0) {
    for (int i = 0; i < voters; ++i) voters_.push_back(i);
    nodes_.resize(voters + observers);
    for (int i = 0; i < voters + observers; ++i) {
      nodes_[i].store = std::make_unique<Store>();
      start(i);
    }
  }

  Raft& node(NodeId id) { return *nodes_[id].raft; }
  typename Store::Log& log(NodeId id) { return nodes_[id].store->log(); }
  Store& store(NodeId id) { return *nodes_[id].store; }
  bool up(NodeId id) const { return nodes_[id].up; }
  int64_t now() const { return now_; }
  const QuorumState& durable(NodeId id) const { return nodes_[id].durable; }

  // Makes `id` time out now (only it is ticked) and delivers until quiet.
  void campaign(NodeId id) {
    now_ += 2 * kElection + 1;
    node(id).tick(now_);
    drain(id);
    stabilize();
  }
  // Delivers messages and completes flushes until nothing is left.
  void stabilize() {
    for (int guard = 0; guard < 100000; ++guard) {
      bool progress = false;
      for (size_t i = 0; i < nodes_.size(); ++i) progress |= complete_flush(static_cast<NodeId>(i));
      if (!queue_.empty()) {
        Message m = std::move(queue_.front());
        queue_.pop_front();
        deliver(std::move(m));
        progress = true;
      }
      if (!progress) return;
    }
  }
  // Advances time by `ms`, ticking every up node every 10 ms and stabilizing in between.
  void run(int64_t ms) {
    for (int64_t end = now_ + ms; now_ < end;) {
      now_ += 10;
      for (size_t i = 0; i < nodes_.size(); ++i)
        if (nodes_[i].up) {
          node(static_cast<NodeId>(i)).tick(now_);
          drain(static_cast<NodeId>(i));
        }
      stabilize();
    }
  }
  // Runs until some node leads (at most `ms`); returns it or kNoNode.
  NodeId run_until_leader(int64_t ms) {
    for (int64_t end = now_ + ms; now_ < end;) {
      run(10);
      if (NodeId l = leader(); l != kNoNode) return l;
    }
    return kNoNode;
  }

  std::optional<OffsetAndEpoch> append(NodeId id, const std::string& value) {
    Batch b;
    b.bytes = value;
    auto r = node(id).append(std::move(b));
    drain(id);
    return r;
  }
  // The up leader with the highest epoch, or kNoNode.
  NodeId leader() const {
    NodeId best = kNoNode;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      const auto& n = nodes_[i];
      if (n.up && n.raft->role() == Role::kLeader && (best == kNoNode || n.raft->epoch() > nodes_[best].raft->epoch()))
        best = static_cast<NodeId>(i);
    }
    return best;
  }

  void crash(NodeId id) {
    nodes_[id].raft.reset();
    nodes_[id].store->crash();
    nodes_[id].up = false;
  }
  void restart(NodeId id) { start(id); }
  void hold_disk(NodeId id, bool hold) { nodes_[id].disk_held = hold; }
  void isolate(NodeId id) {
    for (size_t i = 0; i < nodes_.size(); ++i)
      if (static_cast<NodeId>(i) != id) cut_.insert({id, static_cast<NodeId>(i)}), cut_.insert({static_cast<NodeId>(i), id});
  }
  void split(const std::vector<NodeId>& side) {
    for (size_t a = 0; a < nodes_.size(); ++a)
      for (size_t b = 0; b < nodes_.size(); ++b) {
        bool in_a = std::find(side.begin(), side.end(), static_cast<NodeId>(a)) != side.end();
        bool in_b = std::find(side.begin(), side.end(), static_cast<NodeId>(b)) != side.end();
        if (in_a != in_b) cut_.insert({static_cast<NodeId>(a), static_cast<NodeId>(b)});
      }
  }
  void heal() { cut_.clear(); }
  // When set, every delivered message passes through it first (a transport under test); nullopt drops it.
  void set_wire(std::function<std::optional<Message>(Message)> wire) { wire_ = std::move(wire); }

  // The bytes of the non-control batches in [0, end) of `id`'s log (snapshotted part included).
  std::vector<std::string> values(NodeId id, Offset end) const {
    std::vector<std::string> out;
    for (Offset o = 0; o < end; ++o)
      if (const Batch* b = nodes_[id].store->log().batch_at(o); b && !b->control) out.push_back(b->bytes);
    return out;
  }

 private:
  struct Node {
    std::unique_ptr<Store> store;
    std::unique_ptr<Raft> raft;
    QuorumState durable;
    bool up = true;
    bool disk_held = false;
    Offset flush_requested = -1;
  };

  void start(NodeId id) {
    Node& n = nodes_[id];
    Config c;
    c.id = id;
    c.voters = voters_;
    c.election_timeout_ms = kElection;
    c.fetch_timeout_ms = kFetch;
    c.request_timeout_ms = 200;
    c.fetch_max_wait_ms = 100;
    c.seed = static_cast<uint64_t>(id) * 31 + static_cast<uint64_t>(++restarts_);
    n.store->open();
    n.raft = std::make_unique<Raft>(c, &n.store->log(), n.durable, now_);
    n.up = true;
    n.flush_requested = -1;
    drain(id);
  }
  void drain(NodeId id) {
    Node& n = nodes_[id];
    Effects& e = n.raft->effects();
    if (e.quorum_state) n.durable = *e.quorum_state;
    for (auto& m : e.messages) queue_.push_back(std::move(m));
    if (e.flush_to) n.flush_requested = std::max(n.flush_requested, *e.flush_to);
    e.clear();
  }
  bool complete_flush(NodeId id) {
    Node& n = nodes_[id];
    if (!n.up || n.disk_held || n.flush_requested < 0) return false;
    Offset durable = n.store->flush(n.flush_requested);
    n.flush_requested = -1;
    n.raft->on_flushed(durable, now_);
    drain(id);
    return true;
  }
  void deliver(Message m) {
    NodeId to = m.destination;
    if (to < 0 || to >= static_cast<NodeId>(nodes_.size()) || !nodes_[to].up || cut_.count({m.source, to})) return;
    if (wire_) {
      std::optional<Message> through = wire_(std::move(m));
      if (!through) return;
      m = std::move(*through);
    }
    nodes_[to].raft->receive(std::move(m), now_);
    drain(to);
  }

  std::vector<NodeId> voters_;
  std::vector<Node> nodes_;
  std::deque<Message> queue_;
  std::set<std::pair<NodeId, NodeId>> cut_;
  std::function<std::optional<Message>(Message)> wire_;
  int64_t now_ = 0;
  uint64_t restarts_ = 0;
};

using Harness = BasicHarness<MemoryStore>;

}  // namespace streamctl::raft::test
