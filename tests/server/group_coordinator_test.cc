// GroupCoordinator: the classic rebalance protocol driven by hand (ManualClock + tick()), offsets in a
// GroupStore on an in-memory file system.
#include <doctest/doctest.h>

#include <optional>

#include "engine/group_store.h"
#include "server/group_coordinator.h"
#include "base/logging.h"
#include "kafka/protocol/group_member_metadata.h"
#include "tests/support/manual_clock.h"
#include "base/mem_fs.h"

namespace streamctl::server {
namespace {


Bytes bytes(const std::string& s) { return to_bytes(s); }

struct Fixture {
  MemFileSystem fs;
  test::ManualClock clock;
  engine::GroupStore store{&fs, &clock, "/data/__meta/groups"};
  GroupCoordinatorConfig config;
  std::unique_ptr<GroupCoordinator> gc;

  explicit Fixture(int64_t initial_delay_ms = 0) {
    set_log_level(LogLevel::kWarn);
    REQUIRE(fs.create_dirs("/data/__meta").ok());
    config.initial_rebalance_delay_ms = initial_delay_ms;
    gc = std::make_unique<GroupCoordinator>(store, clock, config);
  }

  JoinGroupParams params(const std::string& member_id, std::vector<std::string> protocols = {"range"},
                         std::optional<std::string> instance = std::nullopt) {
    JoinGroupParams p;
    // std::string temporaries: GCC 12 reports a false -Wrestrict for `str = "literal"` inlined here.
    p.group_id = std::string("g");
    p.member_id = member_id;
    p.group_instance_id = instance;
    p.client_id = std::string("client");
    p.client_host = std::string("/127.0.0.1");
    p.session_timeout_ms = 10000;
    p.rebalance_timeout_ms = 30000;
    p.protocol_type = std::string("consumer");
    for (const auto& name : protocols) {
      std::string md = "md-";
      md.append(name).append("-").append(member_id);
      p.protocols.emplace_back(name, bytes(md));
    }
    return p;
  }

  // Joins and returns the result if the coordinator answered at once.
  std::shared_ptr<std::optional<JoinGroupResult>> join(const JoinGroupParams& p) {
    auto out = std::make_shared<std::optional<JoinGroupResult>>();
    gc->join_group(p, [out](JoinGroupResult r) { *out = std::move(r); });
    return out;
  }
  std::shared_ptr<std::optional<SyncGroupResult>> sync(const std::string& member, int32_t generation,
                                                       std::vector<std::pair<std::string, Bytes>> assignments = {},
                                                       std::optional<std::string> instance = std::nullopt) {
    SyncGroupParams p;
    p.group_id = "g";
    p.member_id = member;
    p.generation_id = generation;
    p.group_instance_id = instance;
    p.assignments = std::move(assignments);
    auto out = std::make_shared<std::optional<SyncGroupResult>>();
    gc->sync_group(p, [out](SyncGroupResult r) { *out = std::move(r); });
    return out;
  }

  // A dynamic member joined through MEMBER_ID_REQUIRED (JoinGroup v4+), result of the second join.
  std::shared_ptr<std::optional<JoinGroupResult>> join_new(std::vector<std::string> protocols = {"range"}) {
    auto p = params("", protocols);
    p.require_known_member_id = true;
    auto first = join(p);
    REQUIRE(first->has_value());
    REQUIRE((*first)->error == ErrorCode::kMemberIdRequired);
    REQUIRE(!(*first)->member_id.empty());
    p.member_id = (*first)->member_id;
    return join(p);
  }
};

TEST_CASE("SingleMemberJoinsSyncsAndBecomesStable") {
  Fixture f;
  auto j = f.join(f.params(""));
  REQUIRE(j->has_value());
  const JoinGroupResult& r = **j;
  CHECK(r.error == ErrorCode::kNone);
  CHECK(r.generation_id == 1);
  CHECK(r.protocol_name == "range");
  CHECK(r.leader_id == r.member_id);
  REQUIRE(r.members.size() == 1);
  CHECK(r.members[0].metadata == bytes("md-range-"));
  CHECK(f.gc->describe_group("g").state == GroupState::kCompletingRebalance);

  auto s = f.sync(r.member_id, 1, {{r.member_id, bytes("assign-a")}});
  REQUIRE(s->has_value());
  CHECK((*s)->error == ErrorCode::kNone);
  CHECK((*s)->assignment == bytes("assign-a"));
  CHECK(f.gc->describe_group("g").state == GroupState::kStable);
  CHECK(f.gc->heartbeat("g", 1, r.member_id, std::nullopt) == ErrorCode::kNone);
}

TEST_CASE("JoinGroupV4WithoutMemberIdGetsMemberIdRequiredThenJoins") {
  Fixture f;
  auto j = f.join_new();
  REQUIRE(j->has_value());
  CHECK((*j)->error == ErrorCode::kNone);
  CHECK((*j)->generation_id == 1);
  // An older client (v0-3) is let in directly.
  Fixture g;
  auto direct = g.join(g.params(""));
  REQUIRE(direct->has_value());
  CHECK((*direct)->error == ErrorCode::kNone);
}

TEST_CASE("SecondMemberTriggersRebalanceAndTheLeaderAloneGetsTheMemberList") {
  Fixture f;
  auto a = f.join_new();
  const std::string a_id = (*a)->member_id;
  REQUIRE(f.sync(a_id, 1, {{a_id, bytes("all")}})->has_value());

  auto b = f.join_new();
  CHECK_FALSE(b->has_value());  // held until A rejoins
  CHECK(f.gc->describe_group("g").state == GroupState::kPreparingRebalance);
  CHECK(f.gc->heartbeat("g", 1, a_id, std::nullopt) == ErrorCode::kRebalanceInProgress);

  auto a2 = f.join(f.params(a_id));
  REQUIRE(a2->has_value());
  REQUIRE(b->has_value());
  CHECK((*a2)->generation_id == 2);
  CHECK((*b)->generation_id == 2);
  CHECK((*a2)->leader_id == a_id);
  CHECK((*a2)->members.size() == 2);
  CHECK((*b)->members.empty());
  const std::string b_id = (*b)->member_id;

  // The follower's SyncGroup waits for the leader's assignment.
  auto sb = f.sync(b_id, 2);
  CHECK_FALSE(sb->has_value());
  auto sa = f.sync(a_id, 2, {{a_id, bytes("p0")}, {b_id, bytes("p1")}});
  REQUIRE(sa->has_value());
  REQUIRE(sb->has_value());
  CHECK((*sa)->assignment == bytes("p0"));
  CHECK((*sb)->assignment == bytes("p1"));
  CHECK(f.gc->describe_group("g").state == GroupState::kStable);
  CHECK(f.gc->heartbeat("g", 2, b_id, std::nullopt) == ErrorCode::kNone);
}

TEST_CASE("HeartbeatAndSyncCheckGenerationAndMembership") {
  Fixture f;
  auto a = f.join_new();
  const std::string id = (*a)->member_id;
  CHECK(f.gc->heartbeat("g", 7, id, std::nullopt) == ErrorCode::kIllegalGeneration);
  CHECK(f.gc->heartbeat("g", 1, "nobody", std::nullopt) == ErrorCode::kUnknownMemberId);
  CHECK(f.gc->heartbeat("other", 1, id, std::nullopt) == ErrorCode::kUnknownMemberId);
  auto s = f.sync(id, 5);
  REQUIRE(s->has_value());
  CHECK((*s)->error == ErrorCode::kIllegalGeneration);
  auto u = f.sync("nobody", 1);
  REQUIRE(u->has_value());
  CHECK((*u)->error == ErrorCode::kUnknownMemberId);
  // A join with an unknown (never issued) member id.
  auto j = f.join(f.params("made-up"));
  REQUIRE(j->has_value());
  CHECK((*j)->error == ErrorCode::kUnknownMemberId);
}

TEST_CASE("SessionTimeoutRemovesASilentMemberAndRebalances") {
  Fixture f;
  auto a = f.join_new();
  const std::string a_id = (*a)->member_id;
  f.sync(a_id, 1, {{a_id, bytes("all")}});
  auto b = f.join_new();
  f.join(f.params(a_id));
  REQUIRE(b->has_value());
  const std::string b_id = (*b)->member_id;
  f.sync(b_id, 2);
  f.sync(a_id, 2, {{a_id, bytes("x")}, {b_id, bytes("y")}});
  REQUIRE(f.gc->describe_group("g").state == GroupState::kStable);

  // A keeps heartbeating, B goes silent past its 10 s session timeout.
  for (int i = 0; i < 4; ++i) {
    f.clock.advance_ms(3000);
    CHECK(f.gc->heartbeat("g", 2, a_id, std::nullopt) == ErrorCode::kNone);
    f.gc->tick();
  }
  f.clock.advance_ms(1000);
  f.gc->tick();
  CHECK(f.gc->describe_group("g").state == GroupState::kPreparingRebalance);
  CHECK(f.gc->heartbeat("g", 2, b_id, std::nullopt) == ErrorCode::kUnknownMemberId);
  CHECK(f.gc->heartbeat("g", 2, a_id, std::nullopt) == ErrorCode::kRebalanceInProgress);
  auto a3 = f.join(f.params(a_id));
  REQUIRE(a3->has_value());
  CHECK((*a3)->generation_id == 3);
  CHECK((*a3)->members.size() == 1);
}

TEST_CASE("RebalanceTimeoutDropsMembersThatDoNotRejoin") {
  Fixture f;
  auto a = f.join_new();
  const std::string a_id = (*a)->member_id;
  f.sync(a_id, 1, {{a_id, bytes("all")}});
  auto b = f.join_new();
  f.join(f.params(a_id));
  const std::string b_id = (*b)->member_id;
  f.sync(b_id, 2);
  f.sync(a_id, 2, {});

  auto c = f.join_new();  // a third member: A rejoins; B keeps heartbeating but never rejoins
  CHECK_FALSE(c->has_value());
  auto a3 = f.join(f.params(a_id));
  CHECK_FALSE(a3->has_value());
  for (int i = 0; i < 6; ++i) {
    f.clock.advance_ms(i < 5 ? 5000 : 4999);
    CHECK(f.gc->heartbeat("g", 2, b_id, std::nullopt) == ErrorCode::kRebalanceInProgress);
    f.gc->tick();
  }
  CHECK_FALSE(c->has_value());
  f.clock.advance_ms(1);
  f.gc->tick();
  REQUIRE(c->has_value());
  REQUIRE(a3->has_value());
  CHECK((*a3)->generation_id == 3);
  CHECK((*a3)->members.size() == 2);
  CHECK(f.gc->heartbeat("g", 3, b_id, std::nullopt) == ErrorCode::kUnknownMemberId);
}

TEST_CASE("MembersWithoutACommonProtocolAreRejected") {
  Fixture f;
  auto a = f.join(f.params("", {"range"}));
  REQUIRE((*a)->error == ErrorCode::kNone);
  auto b = f.join(f.params("", {"RoundRobinAssigner"}));
  REQUIRE(b->has_value());
  CHECK((*b)->error == ErrorCode::kInconsistentGroupProtocol);
  auto p = f.params("", {"range"});
  p.protocol_type = "connect";
  auto c = f.join(p);
  REQUIRE(c->has_value());
  CHECK((*c)->error == ErrorCode::kInconsistentGroupProtocol);
}

TEST_CASE("ProtocolIsChosenByVoteAmongThoseEveryMemberSupports") {
  Fixture f;
  auto a = f.join(f.params("", {"range", "roundrobin"}));
  const std::string a_id = (*a)->member_id;
  f.sync(a_id, 1, {});
  auto b = f.join(f.params("", {"roundrobin", "range"}));
  auto c = f.join(f.params("", {"roundrobin", "sticky", "range"}));
  f.join(f.params(a_id, {"range", "roundrobin"}));
  REQUIRE(b->has_value());
  REQUIRE(c->has_value());
  CHECK((*b)->protocol_name == "roundrobin");  // 2 votes to 1
  CHECK((*c)->generation_id == 2);
}

TEST_CASE("StaticMemberRestartKeepsItsAssignmentWithoutARebalance") {
  // A dynamic leader and a static follower ("instance-s"); the follower restarts with a new member id.
  Fixture h;
  auto leader = h.join_new();
  const std::string l_id = (*leader)->member_id;
  h.sync(l_id, 1, {});
  auto s = h.join(h.params("", {"range"}, "instance-s"));
  h.join(h.params(l_id));
  const std::string s_old = (*s)->member_id;
  h.sync(s_old, 2, {}, "instance-s");
  h.sync(l_id, 2, {{l_id, bytes("pl")}, {s_old, bytes("ps")}});
  REQUIRE(h.gc->describe_group("g").state == GroupState::kStable);

  auto again = h.join(h.params("", {"range"}, "instance-s"));
  REQUIRE(again->has_value());
  CHECK((*again)->error == ErrorCode::kNone);
  CHECK((*again)->generation_id == 2);  // no new generation
  CHECK((*again)->member_id != s_old);
  CHECK(h.gc->describe_group("g").state == GroupState::kStable);
  auto sync_again = h.sync((*again)->member_id, 2, {}, "instance-s");
  REQUIRE(sync_again->has_value());
  CHECK((*sync_again)->assignment == bytes("ps"));
  // The old incarnation is fenced out.
  CHECK(h.gc->heartbeat("g", 2, s_old, std::string("instance-s")) == ErrorCode::kFencedInstanceId);
  CHECK(h.gc->heartbeat("g", 2, s_old, std::nullopt) == ErrorCode::kUnknownMemberId);
}

TEST_CASE("LeaveGroupRemovesTheMemberAndTheLastOneEmptiesTheGroup") {
  Fixture f;
  auto a = f.join_new();
  const std::string a_id = (*a)->member_id;
  f.sync(a_id, 1, {});
  auto r = f.gc->leave_group("g", {{a_id, std::nullopt}, {"ghost", std::nullopt}});
  REQUIRE(r.member_errors.size() == 2);
  CHECK(r.member_errors[0] == ErrorCode::kNone);
  CHECK(r.member_errors[1] == ErrorCode::kUnknownMemberId);
  CHECK(f.gc->describe_group("g").state == GroupState::kEmpty);
  auto unknown = f.gc->leave_group("nope", {{"x", std::nullopt}});
  CHECK(unknown.member_errors.at(0) == ErrorCode::kUnknownMemberId);
}

TEST_CASE("OffsetCommitFollowsKafkasGenerationRules") {
  Fixture f;
  const std::map<TopicPartition, engine::CommittedOffset> offsets = {
      {{"t", 0}, {Offset(42), 0, "meta", Timestamp(1)}}};
  // A group nobody joined: "simple" commits with generation -1 (librdkafka assign()).
  OffsetCommitParams simple{"g", -1, "", std::nullopt};
  auto o = f.gc->commit_offsets(simple, offsets);
  CHECK(o.error == ErrorCode::kNone);
  CHECK(o.store_status.ok());
  auto fetched = f.gc->fetch_offsets("g");
  REQUIRE(fetched.ok());
  CHECK(fetched->at({"t", 0}).offset.value == 42);
  CHECK(f.gc->commit_offsets({"other", 3, "m", std::nullopt}, offsets).error == ErrorCode::kIllegalGeneration);

  auto a = f.join_new();
  const std::string id = (*a)->member_id;
  CHECK(f.gc->commit_offsets({"g", 1, id, std::nullopt}, offsets).error == ErrorCode::kRebalanceInProgress);
  f.sync(id, 1, {});
  CHECK(f.gc->commit_offsets({"g", 1, id, std::nullopt}, offsets).error == ErrorCode::kNone);
  CHECK(f.gc->commit_offsets({"g", 2, id, std::nullopt}, offsets).error == ErrorCode::kIllegalGeneration);
  CHECK(f.gc->commit_offsets({"g", 1, "ghost", std::nullopt}, offsets).error == ErrorCode::kUnknownMemberId);
  CHECK(f.gc->commit_offsets(simple, offsets).error == ErrorCode::kUnknownMemberId);
}

TEST_CASE("DeleteGroupsRefusesActiveGroupsAndUnknownOnes") {
  Fixture f;
  auto a = f.join_new();
  CHECK(f.gc->delete_group("g") == ErrorCode::kNonEmptyGroup);
  CHECK(f.gc->delete_group("never") == ErrorCode::kGroupIdNotFound);
  f.gc->leave_group("g", {{(*a)->member_id, std::nullopt}});
  const std::map<TopicPartition, engine::CommittedOffset> offsets = {
      {{"t", 0}, {Offset(1), -1, "", Timestamp(1)}}};
  REQUIRE(f.gc->commit_offsets({"g", -1, "", std::nullopt}, offsets).error == ErrorCode::kNone);
  CHECK(f.gc->delete_group("g") == ErrorCode::kNone);
  CHECK(f.gc->fetch_offsets("g")->empty());
}

TEST_CASE("OffsetDeleteKeepsTopicsActiveMembersSubscribeTo") {
  Fixture f;
  const engine::CommittedOffset one{Offset(1), -1, "", Timestamp(1)};
  REQUIRE(f.gc->commit_offsets({"g", -1, "", std::nullopt}, {{{"t", 0}, one}, {{"t", 1}, one}, {{"u", 0}, one}})
              .error == ErrorCode::kNone);
  CHECK(f.gc->delete_offsets("", {{"t", 0}}).error == ErrorCode::kInvalidGroupId);
  CHECK(f.gc->delete_offsets("never", {{"t", 0}}).error == ErrorCode::kGroupIdNotFound);

  // A member subscribed to "t" (consumer protocol metadata): t's offsets stay, u's go.
  auto p = f.params("");
  kafka::protocol::ConsumerProtocolSubscription sub;
  sub.topics = {"t"};
  Bytes md;
  REQUIRE(kafka::protocol::encode_subscription(sub, 1, md).ok());
  p.protocols[0].second = md;
  auto j = f.join(p);
  REQUIRE(j->has_value());
  const std::string member = (**j).member_id;
  auto out = f.gc->delete_offsets("g", {{"t", 0}, {"u", 0}});
  CHECK(out.error == ErrorCode::kNone);
  CHECK(out.partitions.at({"t", 0}) == ErrorCode::kGroupSubscribedToTopic);
  CHECK(out.partitions.at({"u", 0}) == ErrorCode::kNone);
  auto left = f.gc->fetch_offsets("g");
  REQUIRE(left.ok());
  CHECK(left->size() == 2);
  CHECK(left->count({"t", 0}) == 1);
  CHECK(left->count({"u", 0}) == 0);
  f.gc->leave_group("g", {{member, std::nullopt}});

  // Metadata that is not a consumer subscription counts as subscribing to everything.
  auto garbage = f.join(f.params("", {"range"}));
  REQUIRE(garbage->has_value());
  out = f.gc->delete_offsets("g", {{"t", 1}});
  CHECK(out.partitions.at({"t", 1}) == ErrorCode::kGroupSubscribedToTopic);
  f.gc->leave_group("g", {{(**garbage).member_id, std::nullopt}});

  // An active group of another protocol type is refused as a whole.
  auto connect = f.params("");
  connect.group_id = std::string("c");
  connect.protocol_type = std::string("connect");
  REQUIRE(f.join(connect)->has_value());
  CHECK(f.gc->delete_offsets("c", {{"t", 0}}).error == ErrorCode::kNonEmptyGroup);

  // Inactive: every asked partition is deleted (or had nothing); the group goes with its last offset.
  out = f.gc->delete_offsets("g", {{"t", 0}, {"t", 1}, {"t", 7}});
  CHECK(out.error == ErrorCode::kNone);
  CHECK(out.partitions.size() == 3);
  for (const auto& [tp, e] : out.partitions) CHECK(e == ErrorCode::kNone);
  CHECK(f.gc->fetch_offsets("g")->empty());
  CHECK(f.gc->delete_offsets("g", {{"t", 0}}).error == ErrorCode::kGroupIdNotFound);
  CHECK(f.gc->describe_group("g").state == GroupState::kDead);
}

TEST_CASE("ListAndDescribeCoverActiveAndStoredGroups") {
  Fixture f;
  const std::map<TopicPartition, engine::CommittedOffset> offsets = {
      {{"t", 0}, {Offset(1), -1, "", Timestamp(1)}}};
  REQUIRE(f.gc->commit_offsets({"stored-only", -1, "", std::nullopt}, offsets).error == ErrorCode::kNone);
  auto a = f.join_new();
  f.sync((*a)->member_id, 1, {{(*a)->member_id, bytes("asg")}});
  auto list = f.gc->list_groups();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].group_id == "g");
  CHECK((*list)[0].state == GroupState::kStable);
  CHECK((*list)[1].group_id == "stored-only");
  CHECK((*list)[1].state == GroupState::kEmpty);
  auto d = f.gc->describe_group("g");
  CHECK(d.protocol_name == "range");
  REQUIRE(d.members.size() == 1);
  CHECK(d.members[0].assignment == bytes("asg"));
  CHECK(d.members[0].client_host == "/127.0.0.1");
  CHECK(f.gc->describe_group("unknown").state == GroupState::kDead);
  CHECK(f.gc->describe_group("stored-only").state == GroupState::kEmpty);
}

TEST_CASE("SessionTimeoutsOutsideTheBrokerRangeAreRejected") {
  Fixture f;
  auto p = f.params("");
  p.session_timeout_ms = 1000;
  auto r = f.join(p);
  REQUIRE(r->has_value());
  CHECK((*r)->error == ErrorCode::kInvalidSessionTimeout);
  p.session_timeout_ms = 4000000;
  CHECK((*f.join(p))->error == ErrorCode::kInvalidSessionTimeout);
}

TEST_CASE("InitialRebalanceDelayGathersMembersOfANewGroup") {
  Fixture f(3000);
  auto a = f.join(f.params(""));
  f.clock.advance_ms(1000);
  f.gc->tick();
  CHECK_FALSE(a->has_value());
  auto b = f.join(f.params(""));
  CHECK_FALSE(b->has_value());
  f.clock.advance_ms(2000);
  f.gc->tick();
  REQUIRE(a->has_value());
  REQUIRE(b->has_value());
  CHECK((*a)->generation_id == 1);
  CHECK((*b)->generation_id == 1);
  CHECK(((*a)->members.size() + (*b)->members.size()) == 2);
}

TEST_CASE("ShutdownAnswersHeldRequestsWithCoordinatorNotAvailable") {
  Fixture f;
  auto a = f.join_new();
  f.sync((*a)->member_id, 1, {});
  auto b = f.join_new();
  CHECK_FALSE(b->has_value());
  f.gc->shutdown();
  REQUIRE(b->has_value());
  CHECK((*b)->error == ErrorCode::kCoordinatorNotAvailable);
  CHECK(f.gc->heartbeat("g", 1, (*a)->member_id, std::nullopt) == ErrorCode::kCoordinatorNotAvailable);
}

TEST_CASE("PendingMemberIdsExpireAfterTheSessionTimeout") {
  Fixture f;
  auto a = f.join_new();
  f.sync((*a)->member_id, 1, {});
  auto p = f.params("");
  p.require_known_member_id = true;
  auto first = f.join(p);
  REQUIRE((*first)->error == ErrorCode::kMemberIdRequired);
  f.clock.advance_ms(10001);
  f.gc->heartbeat("g", 1, (*a)->member_id, std::nullopt);
  f.gc->tick();
  p.member_id = (*first)->member_id;
  auto late = f.join(p);
  REQUIRE(late->has_value());
  CHECK((*late)->error == ErrorCode::kUnknownMemberId);
}

}  // namespace
}  // namespace streamctl::server
