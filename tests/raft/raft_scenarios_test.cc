// Interaction tests of the Raft core for the named scenarios (campaign, deliver, tick, stabilize).
#include <doctest/doctest.h>

#include "tests/raft/harness.h"

using namespace streamctl::raft;
using streamctl::raft::test::Harness;

namespace {

// Appends `n` values on the leader and runs until they are committed.
void append_committed(Harness& h, NodeId leader, int n, const std::string& prefix) {
  Offset last = -1;
  for (int i = 0; i < n; ++i) {
    auto r = h.append(leader, prefix + std::to_string(i));
    REQUIRE(r);
    last = r->offset;
  }
  h.run(100);
  REQUIRE(h.node(leader).high_watermark() > last);
}

}  // namespace

TEST_CASE("initial election: a campaign makes a leader whose LeaderChange batch commits on every voter") {
  Harness h(3);
  h.campaign(0);
  CHECK(h.node(0).role() == Role::kLeader);
  CHECK(h.node(0).epoch() == 1);
  h.run(50);
  for (NodeId i = 1; i < 3; ++i) {
    CHECK(h.node(i).role() == Role::kFollower);
    CHECK(h.node(i).leader() == 0);
    CHECK(h.node(i).epoch() == 1);
    CHECK(h.node(i).high_watermark() == 1);
    CHECK(h.durable(i).leader_id == 0);
  }
  REQUIRE(h.log(1).batch_at(0));
  CHECK(h.log(1).batch_at(0)->control);
  CHECK(h.durable(0) == QuorumState{1, 0, 0});
}

TEST_CASE("initial election without a campaign: randomized timeouts elect exactly one leader") {
  Harness h(5);
  NodeId l = h.run_until_leader(5000);
  REQUIRE(l != kNoNode);
  h.run(200);
  int leaders = 0;
  for (NodeId i = 0; i < 5; ++i) leaders += h.node(i).role() == Role::kLeader;
  CHECK(leaders == 1);
}

TEST_CASE("an observer replicates and is never counted toward the high watermark") {
  Harness h(1, 1);
  h.campaign(0);
  append_committed(h, 0, 5, "v");
  h.run(300);
  CHECK(h.node(1).role() == Role::kFollower);
  CHECK(h.node(1).high_watermark() == h.node(0).high_watermark());
  CHECK(h.values(1, h.log(1).end_offset()) == h.values(0, h.log(0).end_offset()));
}

TEST_CASE("leader killed: the others elect a new leader in a higher epoch and keep the committed data") {
  Harness h(3);
  h.campaign(0);
  append_committed(h, 0, 10, "a");
  h.crash(0);
  NodeId l = h.run_until_leader(5000);
  REQUIRE(l != kNoNode);
  CHECK(l != 0);
  CHECK(h.node(l).epoch() > 1);
  append_committed(h, l, 5, "b");
  auto v = h.values(l, h.node(l).high_watermark());
  REQUIRE(v.size() == 15);
  CHECK(v[0] == "a0");
  CHECK(v[14] == "b4");
}

TEST_CASE("graceful resign: EndQuorumEpoch makes the preferred successor lead well before a timeout") {
  Harness h(3);
  h.campaign(0);
  append_committed(h, 0, 3, "a");
  int64_t t0 = h.now();
  h.node(0).resign(h.now());
  CHECK(h.node(0).role() == Role::kResigned);
  CHECK(h.append(0, "refused") == std::nullopt);
  NodeId l = kNoNode;
  for (int i = 0; i < 100 && (l == kNoNode || l == 0); ++i) {
    h.run(10);
    l = h.leader();
  }
  REQUIRE(l != kNoNode);
  CHECK(l != 0);
  CHECK(h.now() - t0 < Harness::kElection);  // faster than any election timeout
  h.run(100);
  CHECK(h.node(0).role() == Role::kFollower);
  CHECK(h.node(0).leader() == l);
}

TEST_CASE("all killed, then a majority restarted: a leader is elected and the committed data survives") {
  Harness h(5);
  h.campaign(2);
  append_committed(h, 2, 20, "x");
  Offset hw = h.node(2).high_watermark();
  for (NodeId i = 0; i < 5; ++i) h.crash(i);
  for (NodeId i : {0, 1, 4}) h.restart(i);
  NodeId l = h.run_until_leader(10000);
  REQUIRE(l != kNoNode);
  append_committed(h, l, 1, "y");
  CHECK(h.node(l).high_watermark() > hw);
  auto v = h.values(l, hw);
  REQUIRE(v.size() == 20);
  CHECK(v[19] == "x19");
}

TEST_CASE("leader partitioned: the majority elects a new leader, the old one resigns by check-quorum and its "
          "uncommitted tail is truncated after the heal") {
  Harness h(3);
  h.campaign(0);
  append_committed(h, 0, 2, "c");
  h.isolate(0);
  for (int i = 0; i < 4; ++i) REQUIRE(h.append(0, "lost" + std::to_string(i)));  // never committed
  NodeId l = kNoNode;
  for (int i = 0; i < 500 && (l == kNoNode || l == 0); ++i) {
    h.run(10);
    for (NodeId k : {1, 2})
      if (h.node(k).role() == Role::kLeader) l = k;
  }
  REQUIRE((l == 1 || l == 2));
  h.run(Harness::kFetch * 2);
  CHECK(h.node(0).role() != Role::kLeader);  // check-quorum
  append_committed(h, l, 3, "d");
  h.heal();
  h.run(2000);
  CHECK(h.node(0).leader() == l);
  CHECK(h.node(0).stats().truncations >= 1);
  auto v = h.values(0, h.log(0).end_offset());
  CHECK(v == h.values(l, h.log(l).end_offset()));
  for (const auto& s : v) CHECK(s.rfind("lost", 0) != 0);
}

TEST_CASE("3/2 split: the minority side cannot commit, the majority side elects and commits") {
  Harness h(5);
  h.campaign(0);
  append_committed(h, 0, 2, "s");
  h.split({0, 1});  // the leader is in the minority
  Offset hw_before = h.node(0).high_watermark();
  REQUIRE(h.append(0, "minority"));
  NodeId l = kNoNode;
  for (int i = 0; i < 500 && (l == kNoNode || l < 2); ++i) {
    h.run(10);
    for (NodeId k : {2, 3, 4})
      if (h.node(k).role() == Role::kLeader) l = k;
  }
  REQUIRE(l >= 2);
  CHECK(h.node(0).high_watermark() == hw_before);
  append_committed(h, l, 3, "m");
  h.heal();
  h.run(2000);
  for (NodeId i = 0; i < 5; ++i) {
    CHECK(h.node(i).high_watermark() == h.node(l).high_watermark());
    CHECK(h.values(i, h.node(i).high_watermark()) == h.values(l, h.node(l).high_watermark()));
  }
}

TEST_CASE("back-to-back leader failures: each time a new leader takes over and nothing committed is lost") {
  Harness h(5);
  h.campaign(0);
  append_committed(h, 0, 3, "r0-");
  NodeId l = 0;
  for (int round = 1; round <= 2; ++round) {
    h.crash(l);
    NodeId next = h.run_until_leader(10000);
    REQUIRE(next != kNoNode);
    l = next;
    std::string prefix = "r";
    prefix += std::to_string(round);
    prefix += '-';
    append_committed(h, l, 3, prefix);
  }
  auto v = h.values(l, h.node(l).high_watermark());
  REQUIRE(v.size() == 9);
  CHECK(v[0] == "r0-0");
  CHECK(v[8] == "r2-2");
}

TEST_CASE("divergent tail truncation: a follower drops the unflushed-on-majority tail of an old epoch") {
  Harness h(3);
  h.campaign(0);
  append_committed(h, 0, 2, "base");
  h.isolate(2);  // t0, t1 reach node 1 only
  REQUIRE(h.append(0, "t0"));
  REQUIRE(h.append(0, "t1"));
  h.stabilize();  // node 1 got t0,t1 (committed with 2 of 3)
  h.isolate(1);   // now node 0 is alone
  REQUIRE(h.append(0, "tail0"));
  REQUIRE(h.append(0, "tail1"));
  h.stabilize();
  Offset tail_end = h.log(0).end_offset();
  h.heal();
  h.isolate(0);
  h.campaign(1);  // node 1 (has t0, t1) wins with node 2
  REQUIRE(h.node(1).role() == Role::kLeader);
  append_committed(h, 1, 2, "new");
  h.heal();
  h.run(2000);
  CHECK(h.node(0).role() == Role::kFollower);
  CHECK(h.node(0).stats().truncations >= 1);
  CHECK(h.node(0).stats().truncated_offsets >= 2);
  CHECK(h.log(0).end_offset() == h.log(1).end_offset());
  CHECK(h.values(0, h.log(0).end_offset()) == h.values(1, h.log(1).end_offset()));
  CHECK(tail_end > 0);
}

TEST_CASE("snapshot catch-up: a follower behind the leader's log start fetches the snapshot, then the tail") {
  Harness h(3);
  h.campaign(0);
  h.crash(2);
  append_committed(h, 0, 30, "s");
  h.log(0).compact(h.node(0).high_watermark() - 2);
  REQUIRE(h.log(0).start_offset() > 0);
  h.restart(2);
  h.run(1000);
  CHECK(h.node(2).stats().snapshots_installed == 1);
  CHECK(h.log(2).start_offset() == h.log(0).start_offset());
  CHECK(h.node(2).high_watermark() == h.node(0).high_watermark());
  CHECK(h.values(2, h.log(2).end_offset()) == h.values(0, h.log(0).end_offset()));
}

TEST_CASE("pre-vote: a voter back from a partition does not disturb a healthy leader") {
  Harness h(3);
  h.campaign(0);
  h.isolate(2);
  h.run(5000);  // node 2 keeps failing pre-votes; its epoch does not grow
  CHECK(h.node(2).epoch() == 1);
  h.heal();
  h.run(500);
  CHECK(h.node(0).role() == Role::kLeader);
  CHECK(h.node(0).epoch() == 1);
  CHECK(h.node(2).leader() == 0);
}

TEST_CASE("a vote survives a restart: the voter does not grant another candidate in the same epoch") {
  Harness h(3);
  h.isolate(2);
  h.campaign(0);  // node 1 votes for 0 in epoch 1
  REQUIRE(h.node(0).role() == Role::kLeader);
  CHECK(h.durable(1).voted_id == 0);
  h.crash(1);
  h.restart(1);
  CHECK(h.node(1).voted_for() == 0);
  Message m{2, 1, 7, VoteRequest{1, 2, 0, 0, false}};
  h.node(1).receive(m, h.now());
  auto& out = h.node(1).effects().messages;
  REQUIRE(out.size() == 1);
  CHECK_FALSE(std::get<VoteResponse>(out[0].body).vote_granted);
}

TEST_CASE("votes are refused to a candidate whose log is behind (last epoch, end offset)") {
  Harness h(3);
  h.campaign(0);
  append_committed(h, 0, 3, "u");
  Epoch e = h.node(1).epoch();
  Message stale{2, 1, 1, VoteRequest{e + 1, 2, 1, 1, false}};  // last epoch 1, end offset 1: behind
  h.node(1).receive(stale, h.now());
  auto& out = h.node(1).effects().messages;
  REQUIRE(!out.empty());
  CHECK_FALSE(std::get<VoteResponse>(out.back().body).vote_granted);
  CHECK(h.node(1).epoch() == e + 1);  // the higher epoch is still adopted
}

TEST_CASE("the leader counts its own log toward the high watermark only once flushed") {
  Harness h(1);
  h.campaign(0);
  h.run(50);
  Offset hw = h.node(0).high_watermark();
  h.hold_disk(0, true);
  auto r = h.append(0, "waiting");
  REQUIRE(r);
  h.run(100);
  CHECK(h.node(0).high_watermark() == hw);
  h.hold_disk(0, false);
  h.run(20);
  CHECK(h.node(0).high_watermark() > r->offset);
}

TEST_CASE("partition catch-up without a snapshot: a follower behind the leader's deleted prefix restarts at "
          "the leader's log start") {
  Harness h(3);
  h.campaign(0);
  h.crash(2);
  append_committed(h, 0, 30, "p");
  h.log(0).compact(h.node(0).high_watermark() - 2, /*snapshot=*/false);  // retention, not a snapshot
  h.log(1).compact(h.node(1).high_watermark() - 2, /*snapshot=*/false);
  REQUIRE(h.log(0).latest_snapshot().epoch == -1);
  Offset start = h.log(0).start_offset();
  REQUIRE(start > 0);
  h.restart(2);
  h.run(1000);
  CHECK(h.node(2).stats().snapshots_installed == 0);
  CHECK(h.log(2).start_offset() == start);
  CHECK(h.log(2).end_offset() == h.log(0).end_offset());
  CHECK(h.node(2).high_watermark() == h.node(0).high_watermark());
  for (Offset o = start; o < h.log(0).end_offset(); ++o) CHECK(h.log(2).batch_at(o)->bytes == h.log(0).batch_at(o)->bytes);
  append_committed(h, 0, 2, "q");
  CHECK(h.node(2).high_watermark() == h.node(0).high_watermark());
}

TEST_CASE("a prospective voter that hears from the leader of its epoch follows it at once (liveness)") {
  // Node 2 loses its leader (partition), becomes prospective while keeping leader 0 in mind, and keeps
  // retrying pre-votes that the others reject (they have a live leader). Once healed, the leader's own
  // pre-vote answer proves it is alive: node 2 must follow it instead of campaigning forever.
  Harness h(3);
  h.campaign(0);
  append_committed(h, 0, 3, "a");
  h.isolate(2);
  h.run(Harness::kFetch + 100);
  REQUIRE(h.node(2).role() == Role::kProspective);
  REQUIRE(h.node(2).epoch() == 1);
  h.heal();
  // One vote-retry interval (request timeout 200 ms): the pre-votes reach the leader and its answer returns.
  h.run(300);
  CHECK(h.node(2).role() == Role::kFollower);
  CHECK(h.node(2).leader() == 0);
  CHECK(h.node(2).epoch() == 1);
  CHECK(h.node(0).role() == Role::kLeader);
  // And it replicates again: a new append commits and reaches node 2.
  append_committed(h, 0, 2, "b");
  h.run(200);
  CHECK(h.values(2, h.log(2).end_offset()) == h.values(0, h.log(0).end_offset()));
  CHECK(h.log(2).end_offset() == h.log(0).end_offset());
}
