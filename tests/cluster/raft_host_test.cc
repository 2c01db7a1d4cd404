// RaftHost on one node, driven step by step: a manual clock, engine logs on an in-memory (fault-injecting)
// file system, an io_context run by the test thread and a transport that records what the host sends.
// Checks the host's contract: quorum state durable before messages, messages of all groups coalesced per
// destination, group commit, append-and-wait, storage errors stopping a group, and the status API.
#include "cluster/raft_host.h"

#include <doctest/doctest.h>

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <memory>
#include <string>
#include <vector>

#include "base/fault_fs.h"
#include "base/mem_fs.h"
#include "cluster/quorum_state_file.h"
#include "engine/log.h"
#include "tests/engine/log_test_helpers.h"
#include "tests/support/manual_clock.h"

using namespace streamctl;
using namespace std::chrono_literals;
using streamctl::cluster::GroupId;
using streamctl::cluster::GroupMessage;
using streamctl::cluster::RaftHost;
using streamctl::raft::Role;

namespace {

// Records every send; checks at send time that each VoteRequest's campaign is already in the sender's
// quorum-state file (durable before the message leaves).
class RecordingTransport final : public cluster::PeerTransport {
 public:
  struct Send {
    raft::NodeId to;
    std::vector<GroupMessage> messages;
  };
  explicit RecordingTransport(FileSystem* fs) : fs_(fs) {}
  void set_handler(Handler handler) override { handler_ = std::move(handler); }
  void send(raft::NodeId to, std::vector<GroupMessage> messages) override {
    for (const GroupMessage& m : messages) {
      CHECK(m.message.destination == to);
      if (auto* vote = std::get_if<raft::VoteRequest>(&m.message.body); vote && !vote->pre_vote) {
        auto durable = cluster::read_quorum_state(*fs_, "/data/" + m.group.topic + "-0/quorum-state");
        REQUIRE(durable.ok());
        CHECK(durable->leader_epoch == vote->replica_epoch);
        CHECK(durable->voted_id == vote->replica_id);
        durable_votes_checked++;
      }
    }
    sends.push_back(Send{to, std::move(messages)});
  }
  Handler handler_;
  std::vector<Send> sends;
  int durable_votes_checked = 0;

 private:
  FileSystem* fs_;
};

constexpr int64_t kElectionMs = 100;

raft::Batch value(const std::string& v) {
  raft::Batch b;
  b.bytes = v;
  return b;
}

// One node's host with groups named "g<i>" on engine logs in /data/g<i>-0.
struct HostFixture {
  MemFileSystem mem;
  FaultInjectionFileSystem fs{&mem};
  test::ManualClock clock;
  asio::io_context io;
  RecordingTransport transport{&fs};
  std::vector<std::unique_ptr<engine::Log>> logs;
  std::vector<std::unique_ptr<cluster::EngineRaftLog>> adapters;
  std::unique_ptr<RaftHost> host;

  HostFixture() {
    cluster::RaftHostOptions o;
    o.node_id = 1;
    o.fs = &fs;
    o.clock = &clock;
    o.tick_interval = 5ms;
    o.seed = 7;
    host = std::make_unique<RaftHost>(io.get_executor(), &transport, o);
  }
  GroupId add(const std::string& topic, std::vector<raft::NodeId> voters) {
    engine::LogOptions lo;
    lo.dir = "/data/" + topic + "-0";
    lo.tp = TopicPartition{topic, 0};
    lo.fs = &fs;
    lo.clock = &clock;
    auto log = engine::Log::open(lo);
    REQUIRE(log.ok());
    logs.push_back(std::move(log).value());
    adapters.push_back(std::make_unique<cluster::EngineRaftLog>(logs.back().get(), &clock));
    cluster::GroupOptions g;
    g.raft.id = 1;
    g.raft.voters = std::move(voters);
    g.raft.election_timeout_ms = kElectionMs;
    g.raft.fetch_timeout_ms = 2 * kElectionMs;
    g.quorum_state_path = lo.dir + "/quorum-state";
    GroupId id{topic, 0};
    REQUIRE(host->add_group(id, cluster::engine_group_log(adapters.back().get()), g).ok());
    return id;
  }
  // Runs the executor until `done` holds (bounded by iterations, not by time).
  template <typename Pred>
  bool run_until(Pred done, int iterations = 400) {
    for (int i = 0; i < iterations; ++i) {
      io.restart();
      io.run_for(2ms);
      if (done()) return true;
    }
    return false;
  }
  Role role(const GroupId& g) { return host->status(g)->role; }
  // Appends through the host and runs the executor until the append settles.
  Result<raft::OffsetAndEpoch> append_wait(const GroupId& g, const std::string& v) {
    std::optional<Result<raft::OffsetAndEpoch>> got;
    host->append(g, value(v), std::chrono::seconds(60), [&](Result<raft::OffsetAndEpoch> r) { got = std::move(r); });
    REQUIRE(run_until([&] { return got.has_value(); }));
    return std::move(*got);
  }
  // Makes every group time out at the next tick.
  void expire() { clock.advance_ms(3 * kElectionMs); }
  // Node 2 grants every pre-vote request in `requests` (node 2 has epoch 0 and knows no leader).
  void grant_prevotes(const std::vector<GroupMessage>& requests) {
    for (const GroupMessage& m : requests) {
      raft::VoteResponse r;
      r.pre_vote = true;
      r.vote_granted = true;
      r.current_leader = {raft::kNoNode, 0};
      deliver(GroupMessage{m.group, raft::Message{2, 1, m.message.correlation_id, r}});
    }
  }
  void deliver(GroupMessage m) {
    asio::post(io, [this, m = std::move(m)]() mutable { transport.handler_(std::move(m)); });
  }
  ~HostFixture() {
    host.reset();  // before the io_context and the logs
  }
};

}  // namespace

TEST_CASE("the messages of every group in one step reach a peer in one send, votes only once durable") {
  HostFixture f;
  GroupId a = f.add("ga", {1, 2});
  GroupId b = f.add("gb", {1, 2});
  f.host->start();
  f.expire();
  REQUIRE(f.run_until([&] { return !f.transport.sends.empty(); }));
  // One tick timed both groups out: both pre-votes went to node 2 in ONE send.
  REQUIRE(f.transport.sends.size() == 1);
  const auto& first = f.transport.sends[0];
  CHECK(first.to == 2);
  REQUIRE(first.messages.size() == 2);
  CHECK_FALSE(first.messages[0].group == first.messages[1].group);
  for (const GroupMessage& m : first.messages) CHECK(std::get<raft::VoteRequest>(m.message.body).pre_vote);

  // Node 2 grants both pre-votes in one batch: both groups campaign, each vote request leaves only after its
  // quorum-state file holds the new epoch and the self-vote (checked by the transport at send time).
  f.grant_prevotes(first.messages);
  REQUIRE(f.run_until([&] { return f.transport.durable_votes_checked == 2; }));
  CHECK(f.role(a) == Role::kCandidate);
  CHECK(f.role(b) == Role::kCandidate);
  CHECK(f.host->status(a)->voted_for == 1);
  CHECK(f.host->stats().quorum_state_writes >= 2);
}

TEST_CASE("a single-voter group commits appends with one flush for many (group commit) and reports the offsets") {
  HostFixture f;
  GroupId g = f.add("solo", {1});
  std::vector<std::pair<GroupId, cluster::GroupStatus>> changes;
  f.host->set_change_callback([&](const GroupId& id, const cluster::GroupStatus& s) { changes.emplace_back(id, s); });
  f.host->start();
  f.expire();
  REQUIRE(f.run_until([&] { return f.role(g) == Role::kLeader && f.host->status(g)->high_watermark > 0; }));
  CHECK(f.host->status(g)->leader == 1);
  CHECK(changes.back().second.role == Role::kLeader);

  const auto before = f.host->stats();
  std::vector<Result<raft::OffsetAndEpoch>> results;
  for (int i = 0; i < 10; ++i)
    f.host->append(g, value(test::tag("v", i)), 60s,
                   [&](Result<raft::OffsetAndEpoch> r) { results.push_back(std::move(r)); });
  REQUIRE(f.run_until([&] { return results.size() == 10; }));
  raft::Offset last = -1;
  for (auto& r : results) {
    REQUIRE(r.ok());
    CHECK(r->offset > last);
    CHECK(r->epoch == f.host->status(g)->epoch);
    last = r->offset;
  }
  CHECK(f.host->status(g)->high_watermark > last);
  const auto after = f.host->stats();
  CHECK(after.flush_requests - before.flush_requests >= 10);
  CHECK(after.flushes - before.flushes < 10);  // the ten appends queued together: one fsync covers them
  // The data is in the engine log, durable.
  REQUIRE(f.fs.crash().ok());
  auto reopened = [&] {
    engine::LogOptions lo;
    lo.dir = "/data/solo-0";
    lo.tp = TopicPartition{"solo", 0};
    lo.fs = &f.fs;
    lo.clock = &f.clock;
    return engine::Log::open(lo);
  }();
  REQUIRE(reopened.ok());
  CHECK((*reopened)->log_end_offset().value > last);
}

TEST_CASE("append on a node that does not lead fails at once, naming the group") {
  HostFixture f;
  GroupId g = f.add("pair", {1, 2});
  f.host->start();
  auto got = f.append_wait(g, "x");
  REQUIRE_FALSE(got.ok());
  CHECK(got.error().code == ErrorCode::kUnavailable);
  CHECK(got.error().message.find("not the leader of pair-0") != std::string::npos);
  CHECK(f.append_wait(GroupId{"nope", 3}, "x").error().code == ErrorCode::kNotFound);
}

TEST_CASE("an append that cannot reach a majority times out instead of hanging") {
  HostFixture f;
  GroupId g = f.add("pair", {1, 2});
  f.host->start();
  // Win the election with node 2's votes, then node 2 goes silent.
  f.expire();
  for (int round = 0; round < 2; ++round) {
    size_t seen = f.transport.sends.size();
    REQUIRE(f.run_until([&] { return f.transport.sends.size() > seen; }));
    const GroupMessage& m = f.transport.sends.back().messages.at(0);
    const auto& req = std::get<raft::VoteRequest>(m.message.body);
    raft::VoteResponse r;
    r.pre_vote = req.pre_vote;
    r.vote_granted = true;
    r.current_leader = {raft::kNoNode, req.pre_vote ? 0 : req.replica_epoch};
    f.deliver(GroupMessage{g, raft::Message{2, 1, m.message.correlation_id, r}});
  }
  REQUIRE(f.run_until([&] { return f.role(g) == Role::kLeader; }));
  std::optional<Result<raft::OffsetAndEpoch>> got;
  f.host->append(g, value("x"), 50ms, [&](Result<raft::OffsetAndEpoch> r) { got = std::move(r); });
  REQUIRE(f.run_until([&] { return f.host->status(g)->log_end_offset > 1; }));
  f.clock.advance_ms(60);  // past the append's deadline, not yet the check-quorum timeout
  REQUIRE(f.run_until([&] { return got.has_value(); }));
  REQUIRE_FALSE(got->ok());
  CHECK(got->error().code == ErrorCode::kTimeout);
  CHECK(f.role(g) == Role::kLeader);
  CHECK(f.host->status(g)->leader == 1);
  // Check-quorum: no fetch from node 2 within the fetch timeout; the leader resigns and stops naming itself.
  f.clock.advance_ms(3 * kElectionMs);
  REQUIRE(f.run_until([&] { return f.role(g) == Role::kResigned; }));
  CHECK(f.host->status(g)->leader == raft::kNoNode);
}

TEST_CASE("a storage error stops the group with the error, fails its appends and spares the other groups") {
  HostFixture f;
  GroupId bad = f.add("bad", {1});
  GroupId good = f.add("good", {1});
  f.host->start();
  f.expire();
  REQUIRE(f.run_until([&] {
    return f.role(bad) == Role::kLeader && f.role(good) == Role::kLeader && f.host->status(bad)->high_watermark > 0 &&
           f.host->status(good)->high_watermark > 0;
  }));
  // The next fsync anywhere fails, once: the first group flushed in the pass takes it.
  f.fs.fail_after(0, ErrorCode::kIoError, FsOp::kSync, /*sticky=*/false);
  auto got = f.append_wait(bad, "x");
  REQUIRE_FALSE(got.ok());
  CHECK(got.error().code == ErrorCode::kIoError);
  auto s = f.host->status(bad);
  CHECK(s->stopped);
  CHECK(s->error.find("injected fault: sync /data/bad-0/") != std::string::npos);
  // The other group still commits.
  CHECK(f.append_wait(good, "y").ok());
  // The stopped one refuses.
  got = f.append_wait(bad, "z");
  CHECK(got.error().code == ErrorCode::kUnavailable);
  CHECK(got.error().message.find("stopped") != std::string::npos);
}

TEST_CASE("a damaged quorum-state file keeps the group out instead of forgetting the vote") {
  HostFixture f;
  REQUIRE(f.fs.create_dirs("/data/g-0").ok());
  std::string_view junk = "{\"leaderEpoch\":";
  REQUIRE(write_file_atomically(f.fs, "/data/g-0/quorum-state", as_byte_span(junk)).ok());
  engine::LogOptions lo;
  lo.dir = "/data/g-0";
  lo.tp = TopicPartition{"g", 0};
  lo.fs = &f.fs;
  lo.clock = &f.clock;
  auto log = engine::Log::open(lo);
  REQUIRE(log.ok());
  cluster::EngineRaftLog adapter(log->get(), &f.clock);
  cluster::GroupOptions g;
  g.raft.id = 1;
  g.raft.voters = {1, 2, 3};
  g.quorum_state_path = "/data/g-0/quorum-state";
  Status s = f.host->add_group(GroupId{"g", 0}, cluster::engine_group_log(&adapter), g);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::kCorruption);
  CHECK(s.error().message.find("/data/g-0/quorum-state") != std::string::npos);
  CHECK_FALSE(f.host->status(GroupId{"g", 0}).has_value());
  g.raft.id = 2;
  CHECK(f.host->add_group(GroupId{"h", 0}, cluster::engine_group_log(&adapter), g).error().code ==
        ErrorCode::kInvalidArgument);
}

TEST_CASE("a removed group fails its pending appends and is no longer hosted") {
  HostFixture f;
  GroupId g = f.add("gone", {1});
  GroupId other = f.add("stays", {1});
  f.host->start();
  f.expire();
  REQUIRE(f.run_until([&] { return f.role(g) == Role::kLeader && f.role(other) == Role::kLeader; }));
  std::optional<Result<raft::OffsetAndEpoch>> pending;
  f.host->append(g, value("x"), 60s, [&](Result<raft::OffsetAndEpoch> r) { pending = std::move(r); });
  // Runs right after the append, before the flush pass that would commit it.
  asio::post(f.io, [&] { CHECK(f.host->remove_group(g).ok()); });
  REQUIRE(f.run_until([&] { return pending.has_value(); }));
  REQUIRE_FALSE(pending->ok());
  CHECK(pending->error().code == ErrorCode::kUnavailable);
  CHECK(pending->error().message.find("removed") != std::string::npos);
  CHECK_FALSE(f.host->status(g).has_value());
  CHECK(f.host->remove_group(g).error().code == ErrorCode::kNotFound);
  CHECK(f.append_wait(g, "y").error().code == ErrorCode::kNotFound);
  CHECK(f.append_wait(other, "z").ok());  // the other group is untouched
}

TEST_CASE("a quorum-state write that fails stops the group before its vote request leaves") {
  HostFixture f;
  GroupId a = f.add("qa", {1, 2});
  GroupId b = f.add("qb", {1, 2});
  f.host->start();
  f.expire();
  REQUIRE(f.run_until([&] { return !f.transport.sends.empty(); }));
  const auto prevotes = f.transport.sends[0].messages;
  REQUIRE(prevotes.size() == 2);
  // The next rename (the first campaign's quorum-state file) fails; the second campaign's write succeeds.
  f.fs.fail_after(0, ErrorCode::kIoError, FsOp::kRename, /*sticky=*/false);
  f.grant_prevotes(prevotes);
  REQUIRE(f.run_until([&] { return f.host->status(a)->stopped || f.host->status(b)->stopped; }));
  REQUIRE(f.run_until([&] { return f.transport.durable_votes_checked == 1; }));
  const GroupId& failed = f.host->status(a)->stopped ? a : b;
  const GroupId& fine = f.host->status(a)->stopped ? b : a;
  CHECK_FALSE(f.host->status(fine)->stopped);
  CHECK(f.host->status(failed)->error.find("quorum-state") != std::string::npos);
  // No vote request of the failed group ever left; the other group's did, after its file was durable.
  for (const auto& send : f.transport.sends)
    for (const GroupMessage& m : send.messages) {
      auto* vote = std::get_if<raft::VoteRequest>(&m.message.body);
      if (vote && !vote->pre_vote) CHECK(m.group == fine);
    }
}
