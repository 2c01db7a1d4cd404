#include "raft/sim/simulator.h"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <queue>
#include <sstream>

#include "raft/sim/memory_log.h"

namespace streamctl::raft::sim {

void SimStats::add(const SimStats& o) {
  events += o.events;
  elections += o.elections;
  crashes += o.crashes;
  crashes_losing_data += o.crashes_losing_data;
  lost_offsets += o.lost_offsets;
  truncations += o.truncations;
  snapshots_installed += o.snapshots_installed;
  partitions += o.partitions;
  resignations += o.resignations;
  messages_sent += o.messages_sent;
  messages_dropped += o.messages_dropped;
  appends_committed += o.appends_committed;
  max_epoch = std::max(max_epoch, o.max_epoch);
}

const std::vector<MutationInfo>& mutations() {
  static const std::vector<MutationInfo> list = {
      {"commit-without-majority", Mutation::kCommitWithoutMajority, "the leader advances the HW from its own log alone"},
      {"vote-twice", Mutation::kVoteTwice, "a voter grants a second candidate in the same epoch"},
      {"skip-divergence-truncation", Mutation::kSkipDivergenceCheck,
       "the leader ignores LastFetchedEpoch, so diverging follower tails are never truncated"},
      {"count-unflushed-leader", Mutation::kCountUnflushedLeaderLog,
       "the leader counts its unflushed log end toward the HW"},
      {"grant-stale-log", Mutation::kGrantStaleLog, "votes are granted to a candidate whose log is behind"},
      {"forget-vote-on-restart", Mutation::kForgetVoteOnRestart, "the quorum state loses the vote on restart"},
  };
  return list;
}

const MutationInfo* find_mutation(const std::string& name) {
  for (const auto& m : mutations())
    if (name == m.name) return &m;
  return nullptr;
}

namespace {

const char* body_name(const MessageBody& b) {
  static const char* names[] = {"VoteRequest", "VoteResponse", "BeginQuorumEpochRequest",
                                "BeginQuorumEpochResponse", "EndQuorumEpochRequest", "EndQuorumEpochResponse",
                                "FetchRequest", "FetchResponse", "FetchSnapshotRequest",
                                "FetchSnapshotResponse"};
  return names[b.index()];
}

std::string describe(const Message& m) {
  std::ostringstream s;
  s << m.source << "->" << m.destination << " " << body_name(m.body);
  if (auto* v = std::get_if<VoteRequest>(&m.body))
    s << "{epoch=" << v->replica_epoch << " last=" << v->last_offset_epoch << "/" << v->last_offset
      << (v->pre_vote ? " pre" : "") << "}";
  else if (auto* v = std::get_if<VoteResponse>(&m.body))
    s << "{granted=" << v->vote_granted << " epoch=" << v->current_leader.leader_epoch << (v->pre_vote ? " pre" : "")
      << "}";
  else if (auto* f = std::get_if<FetchRequest>(&m.body))
    s << "{epoch=" << f->current_leader_epoch << " offset=" << f->fetch_offset << " last=" << f->last_fetched_epoch
      << "}";
  else if (auto* f = std::get_if<FetchResponse>(&m.body))
    s << "{err=" << f->error_code << " hw=" << f->high_watermark << " base=" << f->records_base_offset
      << " n=" << f->records.size() << " div=" << f->diverging_epoch.epoch << "/" << f->diverging_epoch.offset
      << " snap=" << f->snapshot_id.offset << " leader=" << f->current_leader.leader_id << "@"
      << f->current_leader.leader_epoch << "}";
  else if (auto* b = std::get_if<BeginQuorumEpochRequest>(&m.body))
    s << "{epoch=" << b->leader_epoch << "}";
  else if (auto* e = std::get_if<EndQuorumEpochRequest>(&m.body))
    s << "{epoch=" << e->leader_epoch << "}";
  return s.str();
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull ^ 0xD1B54A32D192ED03ull) { next(); }
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int64_t range(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1)); }
  bool chance(double p) { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0) < p; }

 private:
  uint64_t s_;
};

constexpr int64_t kTickMs = 25;
constexpr int64_t kHealBoundMs = 40000;

struct Violation {
  std::string invariant;
  std::string detail;
};

class Simulation {
 public:
  explicit Simulation(const SimOptions& o) : opt_(o), rng_(o.seed) {}
  SimResult run();

 private:
  enum class Kind { kDeliver, kFlushDone, kTick, kFault, kClient, kBounce, kRestart };
  struct Event {
    int64_t time;
    uint64_t seq;
    Kind kind;
    int node;
    int64_t lifetime;
    Message message;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.time != b.time ? a.time > b.time : a.seq > b.seq;
    }
  };
  struct Node {
    NodeId id = 0;
    bool voter = true;
    std::unique_ptr<MemoryLog> log;
    std::unique_ptr<Raft> raft;
    QuorumState durable;
    bool up = true;
    int64_t lifetime = 0;
    bool slow_disk = false;
    bool flush_inflight = false;
    Offset flush_requested = 0;
    Offset flush_target = 0;
    Offset flush_clamp = INT64_MAX;
    Offset hw_seen = 0;
    Epoch max_epoch = 0;
    Offset mem_ok = 0;  // prefix of the log known equal to the committed data
    Stats last_stats;
  };
  struct Pending {
    std::string value;
    Offset offset = -1;
    Epoch epoch = -1;
    bool acked = false;
  };

  void schedule(int64_t at, Kind kind, int node, Message m = {}) {
    queue_.push(Event{at, seq_++, kind, node, node >= 0 ? nodes_[node].lifetime : 0, std::move(m)});
  }
  void trace(const std::string& line) {
    if (opt_.trace_lines == 0) return;
    trace_.push_back("t=" + std::to_string(now_) + " " + line);
    if (trace_.size() > opt_.trace_lines) trace_.pop_front();
  }
  Config config_for(int i) const {
    Config c;
    c.id = nodes_[i].id;
    c.voters = voter_ids_;
    c.election_timeout_ms = 500;
    c.fetch_timeout_ms = 1000;
    c.request_timeout_ms = 200;
    c.fetch_max_wait_ms = 100;
    c.fetch_max_batches = 64;
    c.seed = opt_.seed * 1000003ull + static_cast<uint64_t>(i) * 7919ull + static_cast<uint64_t>(nodes_[i].lifetime);
    c.mutation = opt_.mutation;
    return c;
  }
  void start_node(int i);
  void drain(int i);
  void send(const Message& m);
  void request_flush(int i, Offset target);
  void start_flush(int i);
  void handle(Event& e);
  void fault();
  void client();
  void crash(int i);
  bool check(Violation* v);
  void resolve_pending();
  int leader_index() const;
  bool healed_and_done() const;
  Violation final_checks();

  SimOptions opt_;
  Rng rng_;
  int64_t now_ = 0;
  uint64_t seq_ = 0;
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
  std::vector<Node> nodes_;
  std::vector<NodeId> voter_ids_;
  std::vector<std::vector<bool>> blocked_;  // blocked_[a][b]: a -> b dropped
  double drop_ = 0, duplicate_ = 0, long_delay_ = 0;
  bool faults_ = true;
  std::vector<Batch> committed_;
  std::map<Epoch, NodeId> leaders_;
  std::vector<Pending> pending_;
  std::deque<size_t> to_submit_;
  std::map<Offset, std::vector<size_t>> assigned_;
  std::deque<std::string> trace_;
  SimStats stats_;
};

void Simulation::start_node(int i) {
  Node& n = nodes_[i];
  QuorumState qs = n.durable;
  if (opt_.mutation == Mutation::kForgetVoteOnRestart) qs.voted_id = kNoNode;
  n.raft = std::make_unique<Raft>(config_for(i), n.log.get(), qs, now_);
  n.up = true;
  n.hw_seen = n.raft->high_watermark();
  n.flush_inflight = false;
  n.flush_requested = n.log->flushed();
  n.last_stats = Stats{};
  schedule(now_ + rng_.range(1, kTickMs), Kind::kTick, i);
  drain(i);
}

void Simulation::send(const Message& m) {
  stats_.messages_sent++;
  int a = m.source, b = m.destination;
  if (b < 0 || b >= static_cast<int>(nodes_.size()) || blocked_[a][b] || rng_.chance(drop_)) {
    stats_.messages_dropped++;
    return;
  }
  int copies = rng_.chance(duplicate_) ? 2 : 1;
  for (int c = 0; c < copies; ++c) {
    int64_t delay = rng_.chance(long_delay_) ? rng_.range(100, 600) : rng_.range(1, 15);
    queue_.push(Event{now_ + delay, seq_++, Kind::kDeliver, b, 0, m});
  }
}

void Simulation::request_flush(int i, Offset target) {
  Node& n = nodes_[i];
  n.flush_requested = std::max(n.flush_requested, target);
  if (!n.flush_inflight) start_flush(i);
}

void Simulation::start_flush(int i) {
  Node& n = nodes_[i];
  n.flush_inflight = true;
  n.flush_target = std::min(n.flush_requested, n.log->end_offset());
  n.flush_clamp = INT64_MAX;
  schedule(now_ + (n.slow_disk ? rng_.range(50, 400) : rng_.range(0, 4)), Kind::kFlushDone, i);
}

void Simulation::drain(int i) {
  Node& n = nodes_[i];
  Effects& e = n.raft->effects();
  Offset t = n.log->take_lowest_truncation();
  if (t != INT64_MAX) {
    n.flush_clamp = std::min(n.flush_clamp, t);
    n.mem_ok = std::min(n.mem_ok, t);
  }
  if (e.quorum_state) n.durable = *e.quorum_state;  // synchronous and durable in the simulator
  for (const Message& m : e.messages) {
    if (opt_.trace_lines) trace("send " + describe(m));
    // Targeted fault: crash-restart a voter right after it granted a vote (is the vote remembered?).
    if (auto* v = std::get_if<VoteResponse>(&m.body); v && v->vote_granted && !v->pre_vote && faults_ &&
                                                      rng_.chance(0.3))
      schedule(now_ + rng_.range(0, 3), Kind::kBounce, i);
    send(m);
  }
  if (e.flush_to) request_flush(i, *e.flush_to);
  if (e.role_changed) {
    trace("node " + std::to_string(n.id) + " -> " + role_name(n.raft->role()) + " epoch " +
          std::to_string(n.raft->epoch()));
  }
  e.clear();
  const Stats& s = n.raft->stats();
  stats_.elections += s.elections_won - n.last_stats.elections_won;
  stats_.truncations += s.truncations - n.last_stats.truncations;
  stats_.snapshots_installed += s.snapshots_installed - n.last_stats.snapshots_installed;
  stats_.resignations += s.resignations - n.last_stats.resignations;
  n.last_stats = s;
}

void Simulation::crash(int i) {
  Node& n = nodes_[i];
  Offset lost = n.log->crash();
  stats_.crashes++;
  if (lost > 0) stats_.crashes_losing_data++;
  stats_.lost_offsets += lost;
  n.mem_ok = std::min(n.mem_ok, n.log->take_lowest_truncation());
  n.raft.reset();
  n.up = false;
  n.lifetime++;
  n.flush_inflight = false;
  trace("crash node " + std::to_string(n.id) + " lost " + std::to_string(lost));
}

int Simulation::leader_index() const {
  int best = -1;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    if (n.up && n.raft->role() == Role::kLeader && (best < 0 || n.raft->epoch() > nodes_[best].raft->epoch()))
      best = static_cast<int>(i);
  }
  return best;
}

void Simulation::fault() {
  int n = static_cast<int>(nodes_.size());
  int v = static_cast<int>(voter_ids_.size());
  int i = static_cast<int>(rng_.range(0, n - 1));
  int leader = leader_index();
  switch (rng_.range(0, 11)) {
    case 0:
    case 1:
      if (nodes_[i].up) crash(i);
      break;
    case 2:
      if (leader >= 0) crash(leader);
      break;
    case 3:
    case 4:
      for (int k = 0; k < n; ++k)
        if (!nodes_[k].up) {
          trace("restart node " + std::to_string(k));
          start_node(k);
        }
      break;
    case 5: {  // isolate one node (often the leader) both ways
      int x = (leader >= 0 && rng_.chance(0.5)) ? leader : i;
      for (int k = 0; k < n; ++k) blocked_[x][k] = blocked_[k][x] = k != x;
      stats_.partitions++;
      trace("partition: isolate " + std::to_string(x));
      break;
    }
    case 6: {  // one-way
      int a = static_cast<int>(rng_.range(0, n - 1)), b = static_cast<int>(rng_.range(0, n - 1));
      if (a != b) {
        blocked_[a][b] = true;
        stats_.partitions++;
        trace("partition: one-way " + std::to_string(a) + "-/->" + std::to_string(b));
      }
      break;
    }
    case 7: {  // split the voters into a minority and a majority (3/2 with five)
      std::vector<int> side(n);
      for (int k = 0; k < n; ++k) side[k] = static_cast<int>(rng_.range(0, 1));
      for (int k = 0; k < v; ++k) side[k] = k < v / 2 ? 0 : 1;
      std::swap(side[0], side[static_cast<size_t>(rng_.range(0, v - 1))]);
      for (int a = 0; a < n; ++a)
        for (int b = 0; b < n; ++b) blocked_[a][b] = side[a] != side[b];
      stats_.partitions++;
      trace("partition: split");
      break;
    }
    case 8:
    case 9:
      for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
      trace("heal network");
      break;
    case 10:
      nodes_[i].slow_disk = !nodes_[i].slow_disk;
      break;
    case 11:
      if (leader >= 0 && rng_.chance(0.5)) {
        trace("resign " + std::to_string(leader));
        nodes_[leader].raft->resign(now_);
        drain(leader);
      } else if (nodes_[i].up && nodes_[i].raft->high_watermark() > nodes_[i].log->start_offset() + 8) {
        nodes_[i].log->compact(nodes_[i].raft->high_watermark() - rng_.range(0, 4));
        trace("snapshot node " + std::to_string(i) + " at " + std::to_string(nodes_[i].log->start_offset()));
      }
      break;
  }
}

void Simulation::client() {
  if (faults_) {
    pending_.push_back(Pending{"v" + std::to_string(pending_.size())});
    to_submit_.push_back(pending_.size() - 1);
  }
  int l = leader_index();
  if (l < 0) return;
  Node& n = nodes_[l];
  for (int k = 0; k < 8 && !to_submit_.empty(); ++k) {
    size_t id = to_submit_.front();
    Batch b;
    b.bytes = pending_[id].value;
    auto r = n.raft->append(std::move(b));
    if (!r) break;
    to_submit_.pop_front();
    pending_[id].offset = r->offset;
    pending_[id].epoch = r->epoch;
    assigned_[r->offset].push_back(id);
  }
  drain(l);
}

void Simulation::resolve_pending() {
  if (committed_.empty()) return;
  Epoch last = committed_.back().epoch;
  for (auto it = assigned_.begin(); it != assigned_.end();) {
    Offset o = it->first;
    bool decided = o < static_cast<Offset>(committed_.size());
    std::vector<size_t> keep;
    for (size_t id : it->second) {
      Pending& p = pending_[id];
      if (decided && committed_[o].epoch == p.epoch && committed_[o].bytes == p.value) {
        p.acked = true;
        stats_.appends_committed++;
      } else if (decided || p.epoch < last) {
        // Lost: another batch committed at its offset, or a later epoch committed (it never can be).
        to_submit_.push_back(id);
      } else {
        keep.push_back(id);
      }
    }
    if (keep.empty()) it = assigned_.erase(it);
    else it++->second = std::move(keep);
  }
}

bool Simulation::check(Violation* v) {
  auto fail = [&](const char* name, const std::string& detail) {
    v->invariant = name;
    v->detail = detail;
    return false;
  };
  size_t before = committed_.size();
  for (Node& n : nodes_) {
    Offset t = n.log->take_lowest_truncation();
    if (t != INT64_MAX) {
      n.mem_ok = std::min(n.mem_ok, t);
      n.flush_clamp = std::min(n.flush_clamp, t);
    }
    Offset limit = std::min<Offset>(static_cast<Offset>(committed_.size()), n.log->end_offset());
    while (n.mem_ok < limit) {
      const Batch* b = n.log->batch_at(n.mem_ok);
      const Batch& c = committed_[n.mem_ok];
      if (!b || b->epoch != c.epoch || b->bytes != c.bytes) break;
      n.mem_ok++;
    }
    if (!n.up) continue;
    const Raft& r = *n.raft;
    if (r.epoch() < n.max_epoch)
      return fail("MonotonicEpoch", "node " + std::to_string(n.id) + " epoch " + std::to_string(r.epoch()) +
                                        " < " + std::to_string(n.max_epoch));
    n.max_epoch = r.epoch();
    stats_.max_epoch = std::max<int64_t>(stats_.max_epoch, r.epoch());
    if (r.high_watermark() < n.hw_seen)
      return fail("MonotonicHighWatermark", "node " + std::to_string(n.id) + " hw " +
                                                std::to_string(r.high_watermark()) + " < " + std::to_string(n.hw_seen));
    n.hw_seen = r.high_watermark();
    if (r.role() == Role::kLeader) {
      auto [it, inserted] = leaders_.emplace(r.epoch(), n.id);
      if (!inserted && it->second != n.id)
        return fail("SingleLeader", "epoch " + std::to_string(r.epoch()) + " has leaders " +
                                        std::to_string(it->second) + " and " + std::to_string(n.id));
    }
    Offset hw = r.high_watermark();
    if (hw > n.mem_ok && n.mem_ok < static_cast<Offset>(committed_.size()))
      return fail("ConsistentCommittedData", "node " + std::to_string(n.id) + " differs from the committed log at offset " +
                                                 std::to_string(n.mem_ok) + " below its high watermark " +
                                                 std::to_string(hw));
    if (hw > static_cast<Offset>(committed_.size())) {
      for (Offset o = static_cast<Offset>(committed_.size()); o < hw; ++o) committed_.push_back(*n.log->batch_at(o));
      n.mem_ok = hw;
    }
  }
  if (committed_.size() != before) {
    for (Node& n : nodes_) {  // extend the others against the new committed data
      Offset limit = std::min<Offset>(static_cast<Offset>(committed_.size()), n.log->end_offset());
      while (n.mem_ok < limit) {
        const Batch* b = n.log->batch_at(n.mem_ok);
        if (!b || b->epoch != committed_[n.mem_ok].epoch || b->bytes != committed_[n.mem_ok].bytes) break;
        n.mem_ok++;
      }
    }
    resolve_pending();
  }
  size_t durable = 0;
  for (Node& n : nodes_)
    if (n.voter && std::min(n.mem_ok, n.log->flushed()) >= static_cast<Offset>(committed_.size())) durable++;
  if (durable < voter_ids_.size() / 2 + 1)
    return fail("MajorityReachedHighWatermark", "committed offsets [0, " + std::to_string(committed_.size()) +
                                                    ") are durable on only " + std::to_string(durable) + " of " +
                                                    std::to_string(voter_ids_.size()) + " voters");
  return true;
}

bool Simulation::healed_and_done() const {
  int l = leader_index();
  if (l < 0 || !to_submit_.empty() || !assigned_.empty()) return false;
  if (nodes_[l].raft->high_watermark() < nodes_[l].log->end_offset()) return false;
  return true;
}

Violation Simulation::final_checks() {
  std::map<std::string, int> seen;
  for (const Batch& b : committed_)
    if (!b.control && ++seen[b.bytes] > 1) return {"CommittedExactlyOnce", b.bytes + " committed twice"};
  for (const Pending& p : pending_) {
    if (!p.acked) return {"Liveness", p.value + " not committed " + std::to_string(kHealBoundMs) + " ms after the faults healed"};
    if (seen[p.value] != 1) return {"CommittedExactlyOnce", p.value + " acknowledged but not in the committed log"};
  }
  int l = leader_index();
  const MemoryLog& log = *nodes_[l].log;
  for (size_t o = 0; o < committed_.size(); ++o) {
    const Batch* b = log.batch_at(static_cast<Offset>(o));
    if (!b || b->epoch != committed_[o].epoch || b->bytes != committed_[o].bytes)
      return {"ConsistentCommittedData", "final leader log differs at committed offset " + std::to_string(o)};
  }
  return {};
}

void Simulation::handle(Event& e) {
  if (e.kind == Kind::kFault) {
    if (faults_) {
      fault();
      schedule(now_ + rng_.range(50, 800), Kind::kFault, -1);
    }
    return;
  }
  if (e.kind == Kind::kBounce) {
    if (nodes_[e.node].up && e.lifetime == nodes_[e.node].lifetime) {
      crash(e.node);
      schedule(now_ + rng_.range(1, 20), Kind::kRestart, e.node);
    }
    return;
  }
  if (e.kind == Kind::kRestart) {
    if (!nodes_[e.node].up && e.lifetime == nodes_[e.node].lifetime) {
      trace("restart node " + std::to_string(e.node));
      start_node(e.node);
    }
    return;
  }
  if (e.kind == Kind::kClient) {
    client();
    schedule(now_ + rng_.range(5, 40), Kind::kClient, -1);
    return;
  }
  Node& n = nodes_[e.node];
  if (!n.up) return;
  switch (e.kind) {
    case Kind::kDeliver:
      if (blocked_[e.message.source][e.message.destination]) {
        stats_.messages_dropped++;
        return;
      }
      if (opt_.trace_lines) trace("recv " + describe(e.message));
      n.raft->receive(std::move(e.message), now_);
      break;
    case Kind::kTick:
      if (e.lifetime != n.lifetime) return;
      n.raft->tick(now_);
      schedule(now_ + kTickMs, Kind::kTick, e.node);
      break;
    case Kind::kFlushDone: {
      if (e.lifetime != n.lifetime || !n.flush_inflight) return;
      Offset t = n.log->take_lowest_truncation();
      if (t != INT64_MAX) {
        n.flush_clamp = std::min(n.flush_clamp, t);
        n.mem_ok = std::min(n.mem_ok, t);
      }
      n.log->mark_flushed(std::min(n.flush_target, n.flush_clamp));
      n.flush_inflight = false;
      n.raft->on_flushed(n.log->flushed(), now_);
      if (std::min(n.flush_requested, n.log->end_offset()) > n.log->flushed()) start_flush(e.node);
      break;
    }
    default:
      break;
  }
  drain(e.node);
}

SimResult Simulation::run() {
  int voters = std::clamp(opt_.voters, 1, 5);
  int observers = opt_.observers >= 0 ? std::min(opt_.observers, 2) : static_cast<int>(rng_.range(0, 2));
  int total = voters + observers;
  blocked_.assign(total, std::vector<bool>(total, false));
  nodes_.resize(total);
  for (int i = 0; i < total; ++i) {
    nodes_[i].id = i;
    nodes_[i].voter = i < voters;
    nodes_[i].log = std::make_unique<MemoryLog>();
    if (i < voters) voter_ids_.push_back(i);
  }
  drop_ = rng_.range(0, 10) / 100.0;
  duplicate_ = rng_.range(0, 5) / 100.0;
  long_delay_ = rng_.range(0, 10) / 100.0;
  for (int i = 0; i < total; ++i) start_node(i);
  schedule(rng_.range(100, 1500), Kind::kFault, -1);
  schedule(rng_.range(5, 40), Kind::kClient, -1);

  SimResult result;
  Violation v;
  int64_t heal_deadline = -1;
  int64_t processed = 0;
  while (!queue_.empty()) {
    Event e = queue_.top();
    queue_.pop();
    now_ = e.time;
    handle(e);
    processed++;
    if (!check(&v)) break;
    if (faults_ && processed >= opt_.events) {
      // Heal: every node up, the network whole and reliable, disks fast; the client stops adding.
      faults_ = false;
      for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
      drop_ = duplicate_ = long_delay_ = 0;
      for (int i = 0; i < total; ++i) {
        nodes_[i].slow_disk = false;
        if (!nodes_[i].up) start_node(i);
      }
      trace("faults healed");
      heal_deadline = now_ + kHealBoundMs;
    }
    if (!faults_ && (healed_and_done() || now_ > heal_deadline)) {
      if (!check(&v)) break;
      v = healed_and_done() ? final_checks()
                            : Violation{"Liveness", leader_index() < 0
                                                        ? "no leader " + std::to_string(kHealBoundMs) + " ms after the faults healed"
                                                        : std::to_string(to_submit_.size() + assigned_.size()) +
                                                              " appends pending " + std::to_string(kHealBoundMs) +
                                                              " ms after the faults healed"};
      break;
    }
  }
  stats_.events = processed;
  result.stats = stats_;
  if (!v.invariant.empty()) {
    result.ok = false;
    result.invariant = v.invariant;
    result.detail = v.detail;
  }
  result.trace.assign(trace_.begin(), trace_.end());
  return result;
}

}  // namespace

SimResult run_simulation(const SimOptions& options) { return Simulation(options).run(); }

}  // namespace streamctl::raft::sim
