// Raft replicas whose logs are engine partition logs (EngineRaftLog over engine::Log), each on its own
// fault-injecting in-memory disk, driven by the raft tests' deterministic message loop (tests/raft/harness.h:
// campaign, deliver, tick, stabilize) over an engine store.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
#include <memory>
#include <string>
#include <vector>

#include "base/fault_fs.h"
#include "base/mem_fs.h"
#include "cluster/raft_log.h"
#include "engine/log.h"
#include "kafka/format/record_batch.h"
#include "raft/raft.h"
#include "tests/cluster/engine_store.h"
#include "tests/engine/log_test_helpers.h"
#include "tests/raft/harness.h"

using namespace streamctl;
using streamctl::cluster::EngineRaftLog;
using streamctl::test::tag;
using streamctl::raft::Batch;
using streamctl::raft::kNoNode;
using streamctl::raft::NodeId;
using streamctl::raft::OffsetAndEpoch;
using streamctl::raft::Raft;
using streamctl::raft::Role;

namespace {

using EngineHarness = streamctl::raft::test::BasicHarness<streamctl::test::EngineStore>;

// Every batch of `id`'s log, in order.
std::vector<Batch> batches(EngineHarness& h, NodeId id) { return streamctl::test::read_batches(h.log(id)); }

// The stored batches of `id`'s log, byte for byte.
std::vector<std::string> stored(EngineHarness& h, NodeId id) {
  std::vector<std::string> out;
  for (Batch& b : batches(h, id)) out.push_back(std::move(b.bytes));
  return out;
}

// The payloads of the data batches of `id`'s log.
std::vector<std::string> values(EngineHarness& h, NodeId id) {
  std::vector<std::string> out;
  for (const Batch& b : batches(h, id))
    if (!b.control) out.push_back(EngineRaftLog::payload(b));
  return out;
}

engine::Log& engine_log(EngineHarness& h, NodeId id) { return *h.store(id).engine_log; }

// Appends `n` values on `leader`, runs until they commit, and records them as acknowledged.
void append_committed(EngineHarness& h, NodeId leader, int n, const std::string& prefix,
                      std::vector<std::string>* acknowledged) {
  raft::Offset last = -1;
  for (int i = 0; i < n; ++i) {
    auto r = h.append(leader, tag(prefix, i));
    REQUIRE(r);
    last = r->offset;
    acknowledged->push_back(tag(prefix, i));
  }
  h.run(100);
  REQUIRE(h.node(leader).high_watermark() > last);
}

// Every acknowledged append is in `id`'s log exactly once, and no value is there twice.
void check_committed_exactly_once(EngineHarness& h, NodeId id, const std::vector<std::string>& acknowledged) {
  CAPTURE(id);
  std::map<std::string, int> count;
  for (const std::string& v : values(h, id)) count[v]++;
  for (const std::string& v : acknowledged) {
    CAPTURE(v);
    CHECK(count[v] == 1);
  }
  for (const auto& [v, c] : count) {
    CAPTURE(v);
    CHECK(c == 1);
  }
}

}  // namespace

TEST_CASE("three replicas on engine logs elect, replicate byte for byte, and keep the epochs beside each log") {
  EngineHarness c(3);
  std::vector<std::string> acked;
  c.campaign(0);
  REQUIRE(c.node(0).role() == Role::kLeader);
  append_committed(c, 0, 20, "a", &acked);
  c.run(200);
  for (NodeId id : {0, 1, 2}) {
    CAPTURE(id);
    CHECK(c.node(id).high_watermark() == c.log(0).end_offset());
    CHECK(stored(c, id) == stored(c, 0));  // the leader's batches, unchanged
    CHECK(engine_log(c, id).leader_epochs() == std::vector<engine::EpochEntry>{{1, Offset(0)}});
    CHECK(engine_log(c, id).segments().size() > 1);
    check_committed_exactly_once(c, id, acked);
  }
  // The stored batches are Kafka's: the first is the LeaderChange control batch of epoch 1.
  auto r = engine_log(c, 1).read_up_to(Offset(0), 1 << 20, engine_log(c, 1).log_end_offset());
  REQUIRE(r.ok());
  BatchIterator it(r->records);
  REQUIRE(it.next());
  CHECK(it.header().is_control());
  CHECK(it.header().leader_epoch == 1);
  REQUIRE(it.next());
  CHECK(it.header().leader_epoch == 1);
  CHECK_FALSE(it.header().is_control());
}

TEST_CASE("a follower that crashes with unflushed data recovers its engine log and catches up, nothing twice") {
  EngineHarness c(3);
  std::vector<std::string> acked;
  c.campaign(0);
  append_committed(c, 0, 5, "a", &acked);
  // Node 2's disk stops completing flushes: what it fetches next stays in its page cache.
  c.hold_disk(2, true);
  append_committed(c, 0, 6, "b", &acked);  // commits with nodes 0 and 1
  CHECK(c.log(2).end_offset() > c.node(2).flushed_end());
  const raft::Offset durable = c.node(2).flushed_end();
  c.crash(2);
  c.hold_disk(2, false);
  c.restart(2);
  CHECK(c.log(2).end_offset() == durable);  // the unflushed batches are gone from its engine log
  append_committed(c, 0, 4, "c", &acked);
  c.run(500);
  CHECK(c.node(2).role() == Role::kFollower);
  CHECK(c.log(2).end_offset() == c.log(0).end_offset());
  CHECK(stored(c, 2) == stored(c, 0));
  CHECK(engine_log(c, 2).leader_epochs() == engine_log(c, 0).leader_epochs());
  for (NodeId id : {0, 1, 2}) check_committed_exactly_once(c, id, acked);
}

TEST_CASE("divergent tail: the old leader truncates its engine log to the end of its epoch (DivergingEpoch)") {
  EngineHarness c(3);
  std::vector<std::string> acked;
  c.campaign(0);
  append_committed(c, 0, 3, "base", &acked);
  c.isolate(0);  // node 0 still leads epoch 1 alone: its appends never commit
  REQUIRE(c.append(0, "lost0"));
  REQUIRE(c.append(0, "lost1"));
  REQUIRE(c.append(0, "lost2"));
  c.stabilize();  // flushed on node 0: durable there, but only there
  const raft::Offset old_end = c.log(0).end_offset();
  c.heal();
  c.isolate(0);
  c.campaign(1);
  REQUIRE(c.node(1).role() == Role::kLeader);
  REQUIRE(c.node(1).epoch() == 2);
  append_committed(c, 1, 4, "new", &acked);
  c.heal();
  c.run(3000);
  CHECK(c.node(0).role() == Role::kFollower);
  CHECK(c.node(0).stats().truncations >= 1);
  CHECK(c.log(0).end_offset() == c.log(1).end_offset());
  CHECK(stored(c, 0) == stored(c, 1));
  std::vector<std::string> v = values(c, 0);
  CHECK(std::find(v.begin(), v.end(), "lost0") == v.end());
  // Its epochs now say what the leader's say: epoch 1 ends where node 1's epoch 2 starts.
  CHECK(engine_log(c, 0).leader_epochs() == engine_log(c, 1).leader_epochs());
  REQUIRE(engine_log(c, 0).leader_epochs().size() == 2);
  CHECK(engine_log(c, 0).leader_epochs()[1].epoch == 2);
  CHECK(engine_log(c, 0).leader_epochs()[1].start_offset.value < old_end);
  for (NodeId id : {0, 1, 2}) check_committed_exactly_once(c, id, acked);
  // And it survives a power loss of every node: each reopened log (and its epoch file) agrees.
  c.run(200);
  for (NodeId id : {0, 1, 2}) {
    c.crash(id);
    c.restart(id);
  }
  c.run(3000);
  NodeId l = c.leader();
  REQUIRE(l != kNoNode);
  append_committed(c, l, 2, "after", &acked);
  c.run(300);
  for (NodeId id : {0, 1, 2}) {
    CAPTURE(id);
    CHECK(stored(c, id) == stored(c, l));
    CHECK(engine_log(c, id).leader_epochs() == engine_log(c, l).leader_epochs());
    CHECK(engine_log(c, id).recovery_report().detail.find("rebuilt the leader epochs") == std::string::npos);
    check_committed_exactly_once(c, id, acked);
  }
}

TEST_CASE("a follower behind the leader's deleted prefix restarts its engine log at the leader's log start") {
  EngineHarness c(3);
  std::vector<std::string> acked;
  c.campaign(0);
  c.crash(2);
  append_committed(c, 0, 30, "p", &acked);
  for (NodeId id : {0, 1}) {
    engine::Log& l = engine_log(c, id);
    l.set_high_watermark(Offset(c.node(id).high_watermark()));
    REQUIRE(l.delete_records_before(Offset(c.node(id).high_watermark() - 2)).ok());  // retention
  }
  const raft::Offset start = c.log(0).start_offset();
  REQUIRE(start > 0);
  c.restart(2);
  c.run(1000);
  CHECK(c.log(2).start_offset() == start);
  CHECK(c.log(2).end_offset() == c.log(0).end_offset());
  CHECK(stored(c, 2) == stored(c, 0));
  CHECK(engine_log(c, 2).log_start_offset() == Offset(start));
  append_committed(c, 0, 2, "q", &acked);
  CHECK(c.node(2).high_watermark() == c.node(0).high_watermark());
  CHECK(engine_log(c, 2).leader_epochs() == engine_log(c, 0).leader_epochs());
}

TEST_CASE("random crashes, partitions and slow disks over engine logs: committed appends survive exactly once") {
  // Per seed: 60 random steps (appends on the leader, power loss of a node, isolating one, holding a disk,
  // healing, letting time pass), then everything heals. An append counts as committed when its leader, still
  // leading that epoch, saw the high watermark pass it. At the end every log holds the same bytes, and every
  // committed append is in it exactly once.
  int total_committed = 0;
  int total_crashes = 0;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    auto pick = [&](int n) { return int(rng() % uint64_t(n)); };
    EngineHarness c(3);
    std::vector<std::string> acked;
    struct Pending {
      NodeId node;
      OffsetAndEpoch at;
      std::string value;
    };
    std::vector<Pending> pending;
    const std::string prefix = tag("s", int64_t(seed), "-");
    int next_value = 0;
    auto settle = [&]() {
      for (auto it = pending.begin(); it != pending.end();) {
        const bool gone = !c.up(it->node) || c.node(it->node).epoch() != it->at.epoch ||
                          c.node(it->node).role() != Role::kLeader;
        if (!gone && c.node(it->node).high_watermark() > it->at.offset) {
          acked.push_back(it->value);
          it = pending.erase(it);
        } else if (gone) {
          it = pending.erase(it);  // unknown outcome: may or may not be in the log, but at most once
        } else {
          ++it;
        }
      }
    };
    for (int step = 0; step < 60; ++step) {
      switch (pick(8)) {
        case 0:
        case 1:
        case 2: {
          NodeId l = c.leader();
          if (l == kNoNode) break;
          for (int k = 0; k < 1 + pick(3); ++k) {
            std::string v = tag(prefix, next_value++);
            if (auto r = c.append(l, v)) pending.push_back(Pending{l, *r, v});
          }
          break;
        }
        case 3: {
          NodeId id = pick(3);
          if (c.up(id)) {
            c.crash(id);
            ++total_crashes;
          } else {
            c.restart(id);
          }
          break;
        }
        case 4:
          c.isolate(pick(3));
          break;
        case 5:
          c.hold_disk(pick(3), pick(2) == 0);
          break;
        case 6:
          c.heal();
          break;
        default:
          break;
      }
      c.run(10 * (1 + pick(40)));
      settle();
    }
    c.heal();
    for (NodeId id : {0, 1, 2}) {
      c.hold_disk(id, false);
      if (!c.up(id)) c.restart(id);
    }
    c.run(5000);
    settle();
    NodeId l = c.leader();
    REQUIRE(l != kNoNode);
    append_committed(c, l, 1, "final", &acked);
    c.run(500);
    total_committed += int(acked.size());
    for (NodeId id : {0, 1, 2}) {
      CAPTURE(id);
      CHECK(stored(c, id) == stored(c, l));
      CHECK(engine_log(c, id).leader_epochs() == engine_log(c, l).leader_epochs());
      check_committed_exactly_once(c, id, acked);
    }
  }
  MESSAGE(total_committed << " committed appends, " << total_crashes << " crashes");
  CHECK(total_committed > 100);
  CHECK(total_crashes > 10);
}
