// Serverless group membership (cli/membership.h): fair shares, handover, stale members, kill -9.
#include "cli/membership.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include <doctest/doctest.h>

#include "tests/support/temp_dir.h"

using streamctl::cli::GroupMembership;
using streamctl::cli::RebalanceResult;
using streamctl::TopicPartition;
using streamctl::test::TempDir;

namespace {

std::vector<TopicPartition> partitions(const std::string& topic, int n) {
  std::vector<TopicPartition> out;
  for (int p = 0; p < n; ++p) out.push_back({topic, p});
  return out;
}

std::unique_ptr<GroupMembership> join(const TempDir& dir, const std::string& group = "g") {
  auto m = GroupMembership::join(streamctl::posix_file_system(), streamctl::system_clock(),
                                 dir.path(), group, "test");
  REQUIRE_MESSAGE(m.ok(), m.error().to_string());
  return std::move(m).value();
}

RebalanceResult step(GroupMembership& m, const std::vector<TopicPartition>& subscribed) {
  auto r = m.rebalance(subscribed);
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
  return std::move(r).value();
}

// Runs rebalance steps on every member (releasing excess the way the consume loop does) until nothing moves.
void settle(std::vector<GroupMembership*> members, const std::vector<TopicPartition>& subscribed) {
  for (int round = 0; round < 20; ++round) {
    bool moved = false;
    for (auto* m : members) {
      auto r = step(*m, subscribed);
      for (const auto& tp : r.excess) m->release(tp);
      moved = moved || !r.acquired.empty() || !r.excess.empty();
    }
    if (!moved) return;
  }
  FAIL("membership did not settle in 20 rounds");
}

}  // namespace

TEST_CASE("GroupFileNameKeepsSafeCharactersAndEscapesTheRest") {
  CHECK(streamctl::cli::group_file_name("nightly-report_v2.1") == "nightly-report_v2.1");
  CHECK(streamctl::cli::group_file_name("ops/nightly") == "ops%2Fnightly");
  CHECK(streamctl::cli::group_file_name(".hidden") == "%2Ehidden");
  CHECK(streamctl::cli::group_file_name("a b%") == "a%20b%25");
  CHECK(streamctl::cli::group_file_name("a%2F") != streamctl::cli::group_file_name("a/"));
}

TEST_CASE("SingleMemberClaimsEveryPartition") {
  TempDir dir;
  auto m = join(dir);
  auto r = step(*m, partitions("logs", 4));
  CHECK(r.live_members == 1);
  CHECK(r.fair_share == 4);
  CHECK(r.acquired.size() == 4);
  CHECK(r.excess.empty());
  CHECK(m->owned() == partitions("logs", 4));
  // A second step changes nothing.
  auto again = step(*m, partitions("logs", 4));
  CHECK(again.acquired.empty());
  CHECK(again.excess.empty());
}

TEST_CASE("ThreeMembersSplitSixPartitionsWithoutOverlap") {
  TempDir dir;
  auto subscribed = partitions("logs", 6);
  auto a = join(dir);
  settle({a.get()}, subscribed);
  CHECK(a->owned().size() == 6);

  auto b = join(dir);
  auto c = join(dir);
  settle({a.get(), b.get(), c.get()}, subscribed);
  std::set<TopicPartition> all;
  for (auto* m : {a.get(), b.get(), c.get()}) {
    CHECK(m->owned().size() == 2);
    for (const auto& tp : m->owned()) CHECK(all.insert(tp).second);  // owned by exactly one member
  }
  CHECK(all.size() == 6);
}

TEST_CASE("ExcessIsReportedButKeptUntilReleased") {
  TempDir dir;
  auto subscribed = partitions("logs", 4);
  auto a = join(dir);
  settle({a.get()}, subscribed);
  auto b = join(dir);
  auto rb = step(*b, subscribed);
  CHECK(rb.live_members == 2);
  CHECK(rb.acquired.empty());  // a still holds everything
  auto ra = step(*a, subscribed);
  CHECK(ra.excess.size() == 2);
  CHECK(a->owned().size() == 4);  // nothing is released before the caller commits and says so
  for (const auto& tp : ra.excess) a->release(tp);
  auto rb2 = step(*b, subscribed);
  CHECK(rb2.acquired.size() == 2);
  for (const auto& tp : rb2.acquired) CHECK(!a->owns(tp));
}

TEST_CASE("LeavingMemberHandsItsPartitionsOver") {
  TempDir dir;
  auto subscribed = partitions("logs", 6);
  auto a = join(dir);
  auto b = join(dir);
  settle({a.get(), b.get()}, subscribed);
  CHECK(a->owned().size() == 3);
  REQUIRE(a->leave().ok());
  auto r = step(*b, subscribed);
  CHECK(r.live_members == 1);
  CHECK(r.acquired.size() == 3);
  CHECK(b->owned().size() == 6);
}

TEST_CASE("MoreMembersThanPartitionsLeavesSomeIdle") {
  TempDir dir;
  auto subscribed = partitions("logs", 2);
  auto a = join(dir);
  auto b = join(dir);
  auto c = join(dir);
  settle({a.get(), b.get(), c.get()}, subscribed);
  size_t total = a->owned().size() + b->owned().size() + c->owned().size();
  CHECK(total == 2);
  CHECK(a->owned().size() <= 1);
  CHECK(b->owned().size() <= 1);
  CHECK(c->owned().size() <= 1);
}

TEST_CASE("StaleMemberFileIsRemovedAndNotCounted") {
  TempDir dir;
  auto a = join(dir);
  std::string stale = streamctl::join_path(a->dir(), "999999-00000000deadbeef.member");
  auto f = streamctl::posix_file_system()->open(stale, streamctl::OpenMode::kCreate);
  REQUIRE(f.ok());
  auto r = step(*a, partitions("logs", 2));
  CHECK(r.live_members == 1);
  CHECK(!streamctl::posix_file_system()->exists(stale).value());
}

TEST_CASE("UnsubscribedPartitionsAreDropped") {
  TempDir dir;
  auto a = join(dir);
  settle({a.get()}, partitions("logs", 3));
  auto r = step(*a, partitions("logs", 2));
  REQUIRE(r.dropped.size() == 1);
  CHECK(r.dropped[0] == TopicPartition{"logs", 2});
  CHECK(a->owned().size() == 2);
}

TEST_CASE("InspectGroupShowsLiveMembersAndOwners") {
  TempDir dir;
  auto a = join(dir, "ops/nightly");
  auto b = join(dir, "ops/nightly");
  settle({a.get(), b.get()}, partitions("logs", 4));
  auto activity = streamctl::cli::inspect_group(*streamctl::posix_file_system(), dir.path(), "ops/nightly");
  REQUIRE(activity.ok());
  CHECK(activity->members.size() == 2);
  for (const auto& m : activity->members) {
    CHECK(m.pid == int64_t(::getpid()));
    CHECK(m.client_id == "test");
  }
  REQUIRE(activity->owners.size() == 4);
  for (const auto& [tp, owner] : activity->owners) {
    CHECK((owner == a->member_id() || owner == b->member_id()));
    CHECK((owner == a->member_id() ? a->owns(tp) : b->owns(tp)));
  }
  auto groups = streamctl::cli::groups_with_members(*streamctl::posix_file_system(), dir.path());
  REQUIRE(groups.ok());
  CHECK(*groups == std::vector<std::string>{"ops/nightly"});

  // Inspecting an unknown group is not an error.
  auto none = streamctl::cli::inspect_group(*streamctl::posix_file_system(), dir.path(), "nope");
  REQUIRE(none.ok());
  CHECK(none->members.empty());
}

TEST_CASE("MembersDirectoryCannotBeRemovedWhileAMemberIsAlive") {
  TempDir dir;
  auto& fs = *streamctl::posix_file_system();
  auto a = join(dir);
  settle({a.get()}, partitions("logs", 2));
  auto busy = streamctl::cli::remove_group_members_dir(fs, dir.path(), "g");
  REQUIRE(!busy.ok());
  CHECK(busy.error().code == streamctl::ErrorCode::kBusy);
  REQUIRE(a->leave().ok());
  CHECK(streamctl::cli::remove_group_members_dir(fs, dir.path(), "g").ok());
  CHECK(!fs.exists(streamctl::cli::group_members_dir(dir.path(), "g")).value());
}

TEST_CASE("KilledMemberPartitionsAreTakenOver") {
  TempDir dir;
  auto subscribed = partitions("logs", 4);
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child claims everything, tells the parent, then waits to be killed.
    auto m = GroupMembership::join(streamctl::posix_file_system(), streamctl::system_clock(),
                                   dir.path(), "g", "child");
    if (!m.ok() || !m.value()->rebalance(subscribed).ok()) ::_exit(1);
    char c = 'x';
    if (::write(ready[1], &c, 1) != 1) ::_exit(1);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  ::close(ready[0]);

  auto a = join(dir);
  auto r = step(*a, subscribed);
  CHECK(r.live_members == 2);
  CHECK(r.acquired.empty());  // the child owns every partition

  REQUIRE(::kill(child, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  auto after = step(*a, subscribed);
  CHECK(after.live_members == 1);
  CHECK(after.acquired.size() == 4);
}
