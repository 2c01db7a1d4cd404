// Three RaftHosts in one process, each on its own io_context thread, with real engine logs in temp dirs and
// real time, talking through the in-process LoopbackHub: elections of the metadata group and two partition
// groups, replication byte for byte, failover after a host dies, append-and-wait failing on an isolated
// leader, and quorum state surviving a restart.
//
// Timeouts are short (election 150 ms) so each case runs in about a second; every wait is bounded by a
// generous kWait (the suite also runs under ASan on a loaded 2-core machine) and asserts only the outcome.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cluster/quorum_state_file.h"
#include "tests/cluster/host_cluster.h"
#include "tests/cluster/loopback_transport.h"

using namespace streamctl;
using namespace std::chrono_literals;
using streamctl::cluster::GroupId;
using streamctl::raft::kNoNode;
using streamctl::raft::NodeId;
using streamctl::raft::Role;
using streamctl::test::kWait;
using streamctl::test::LoopbackHub;
using streamctl::test::tag;
using streamctl::test::wait_until;

namespace {

// The hosts over the in-process LoopbackHub.
class LoopbackNetwork final : public test::Network {
 public:
  std::unique_ptr<cluster::PeerTransport> connect(NodeId id, asio::any_io_executor executor) override {
    return hub.connect(id, std::move(executor));
  }
  void disconnect(NodeId id) override { hub.disconnect(id); }
  LoopbackHub hub;
};

struct WithLoopbackNetwork {
  LoopbackNetwork network;
};

class LoopbackCluster : private WithLoopbackNetwork, public test::HostCluster {
 public:
  explicit LoopbackCluster(std::vector<GroupId> groups, int voters = 3, int observers = 0)
      : HostCluster(&network, std::move(groups), voters, observers) {}
  LoopbackHub& hub() { return network.hub; }
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
