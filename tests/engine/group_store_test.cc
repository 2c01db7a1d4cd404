#include "engine/group_store.h"

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "base/crc32c.h"
#include "base/fault_fs.h"
#include "tests/support/manual_clock.h"
#include "base/mem_fs.h"
#include "tests/support/temp_dir.h"

using namespace streamctl;
using namespace streamctl::engine;
using streamctl::FaultInjectionFileSystem;
using streamctl::FsOp;
using streamctl::test::ManualClock;
using streamctl::MemFileSystem;
using streamctl::test::TempDir;

namespace {

using Offsets = std::map<TopicPartition, CommittedOffset>;

const std::string kDir = "/data/__meta/groups";

CommittedOffset at(int64_t offset, std::string metadata = "", LeaderEpoch epoch = kNoLeaderEpoch,
                   int64_t commit_ms = 1000) {
  return CommittedOffset{Offset(offset), epoch, std::move(metadata), Timestamp(commit_ms)};
}

Offsets fetch_ok(GroupStore& store, const std::string& group) {
  auto r = store.fetch(group);
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
  return *r;
}

void commit_ok(GroupStore& store, const std::string& group, const Offsets& offsets) {
  auto s = store.commit(group, offsets);
  REQUIRE_MESSAGE(s.ok(), s.error().to_string());
}

std::vector<std::string> groups_ok(GroupStore& store) {
  auto r = store.list_groups();
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
  return *r;
}

Bytes read_ok(FileSystem& fs, const std::string& path) {
  auto r = read_file(fs, path);
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
  return *r;
}

// A fresh store on an in-memory file system.
struct Fixture {
  MemFileSystem fs;
  ManualClock clock;
  GroupStore store{&fs, &clock, kDir};
};

}  // namespace

TEST_CASE("CommittedOffsetsRoundTrip") {
  Fixture f;
  Offsets offsets{{{"orders", 0}, at(42, "from-host-a", 3, 1234)},
                  {{"orders", 1}, at(0)},
                  {{"payments", 7}, at(9000000000LL, std::string("bin\0ary", 7))}};
  commit_ok(f.store, "billing", offsets);
  CHECK(fetch_ok(f.store, "billing") == offsets);
  // A second store on the same directory (another process, or after a restart) reads the same.
  GroupStore again(&f.fs, &f.clock, kDir);
  CHECK(fetch_ok(again, "billing") == offsets);
}

TEST_CASE("AMissingCommitTimeIsTakenFromTheClock") {
  Fixture f;
  CommittedOffset co;
  co.offset = Offset(5);
  commit_ok(f.store, "g", {{{"t", 0}, co}});
  CHECK(fetch_ok(f.store, "g").at({"t", 0}).commit_time == f.clock.now());
}

TEST_CASE("CommitsMergeWithWhatIsStored") {
  Fixture f;
  commit_ok(f.store, "g", {{{"t", 0}, at(10)}});
  commit_ok(f.store, "g", {{{"t", 1}, at(20)}});
  commit_ok(f.store, "g", {{{"t", 0}, at(11, "again")}, {{"u", 0}, at(1)}});
  Offsets want{{{"t", 0}, at(11, "again")}, {{"t", 1}, at(20)}, {{"u", 0}, at(1)}};
  CHECK(fetch_ok(f.store, "g") == want);
  // Groups are independent.
  CHECK(fetch_ok(f.store, "other").empty());
}

TEST_CASE("GroupsAreListedSortedAndCanBeDeleted") {
  Fixture f;
  CHECK(groups_ok(f.store).empty());  // no directory yet
  commit_ok(f.store, "zeta", {{{"t", 0}, at(1)}});
  commit_ok(f.store, "alpha", {{{"t", 0}, at(1)}});
  CHECK(groups_ok(f.store) == std::vector<std::string>{"alpha", "zeta"});
  REQUIRE(f.store.delete_group("zeta").ok());
  CHECK(groups_ok(f.store) == std::vector<std::string>{"alpha"});
  CHECK(fetch_ok(f.store, "zeta").empty());
  auto again = f.store.delete_group("zeta");
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::kNotFound);
  CHECK(again.error().message == "group 'zeta' has no committed offsets");
  // A deleted group can start over.
  commit_ok(f.store, "zeta", {{{"t", 0}, at(2)}});
  CHECK(fetch_ok(f.store, "zeta").at({"t", 0}).offset == Offset(2));
}

TEST_CASE("DeleteOffsetsDropsPartitionsAndTheGroupWhenNoneAreLeft") {
  Fixture f;
  commit_ok(f.store, "g", {{{"t", 0}, at(1)}, {{"t", 1}, at(2)}, {{"u", 0}, at(3)}});
  REQUIRE(f.store.delete_offsets("g", {{"t", 0}, {"t", 1}, {"t", 99}}).ok());
  CHECK(fetch_ok(f.store, "g") == Offsets{{{"u", 0}, at(3)}});
  REQUIRE(f.store.delete_offsets("g", {{"u", 0}}).ok());
  CHECK(groups_ok(f.store).empty());
  CHECK(f.store.delete_offsets("never-committed", {{"u", 0}}).ok());
}

TEST_CASE("InvalidGroupIdsAndPartitionsAreRejected") {
  Fixture f;
  CHECK(f.store.commit("", {{{"t", 0}, at(1)}}).error().message == "group id must not be empty");
  CHECK(f.store.fetch("").error().code == ErrorCode::kInvalidArgument);
  auto neg = f.store.commit("g", {{{"t", -1}, at(1)}});
  REQUIRE_FALSE(neg.ok());
  CHECK(neg.error().code == ErrorCode::kInvalidArgument);
  CHECK(neg.error().message.find("'t--1'") != std::string::npos);
  CHECK(f.store.commit("g", {{{"", 0}, at(1)}}).error().code == ErrorCode::kInvalidArgument);
  CHECK(f.store.commit(std::string(40000, 'g'), {{{"t", 0}, at(1)}}).error().code == ErrorCode::kInvalidArgument);
  CHECK(groups_ok(f.store).empty());
}

TEST_CASE("GroupIdsAreEscapedIntoSafeFileNames") {
  CHECK(escape_group_id("my-group.v1_x") == "my-group.v1_x");
  CHECK(escape_group_id("a/b") == "a%2Fb");
  CHECK(escape_group_id("..") == "..");
  CHECK(escape_group_id("50%") == "50%25");
  CHECK(escape_group_id("~") == "%7E");
  CHECK(escape_group_id("é") == "%C3%A9");
  std::string long_id(300, '/');
  std::string escaped = escape_group_id(long_id);
  CHECK(escaped.size() == 180 + 1 + 16);
  CHECK(escaped.find('~') == 180);
  CHECK(escape_group_id(long_id + "x") != escaped);
}

TEST_CASE("AnyGroupIdRoundTripsThroughItsFileName") {
  Fixture f;
  std::vector<std::string> ids = {"a/b",
                                  "a%2Fb",
                                  ".",
                                  "..",
                                  "with space",
                                  "tab\tnew\nline",
                                  "é",
                                  std::string("nul\0byte", 8),
                                  std::string(300, '/'),
                                  std::string(300, '/') + "2",
                                  std::string(250, 'x')};
  for (size_t i = 0; i < ids.size(); ++i) commit_ok(f.store, ids[i], {{{"t", 0}, at(int64_t(i))}});
  for (size_t i = 0; i < ids.size(); ++i) {
    CAPTURE(i);
    CHECK(fetch_ok(f.store, ids[i]).at({"t", 0}).offset == Offset(int64_t(i)));
  }
  std::vector<std::string> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  CHECK(groups_ok(f.store) == sorted);
}

TEST_CASE("TheFileFollowsTheDocumentedByteTable") {
  Fixture f;
  commit_ok(f.store, "g1", {{{"t", 2}, at(7, "m", 5, 99)}});
  Bytes want;
  ByteWriter w(want);
  w.be32(0x5347524F);  // "SGRO"
  w.be16(1);
  w.be16(2);
  w.raw("g1");
  w.be32(1);
  w.be16(1);
  w.raw("t");
  w.i32(2);
  w.i64(7);
  w.i32(5);
  w.be32(1);
  w.raw("m");
  w.i64(99);
  w.be32(crc32c(want));
  CHECK(read_ok(f.fs, kDir + "/g1.offsets") == want);
  CHECK(f.store.path_for("g1") == kDir + "/g1.offsets");
}

TEST_CASE("ACorruptFileIsAnErrorNamingTheFileNeverAnEmptyGroup") {
  Fixture f;
  commit_ok(f.store, "g", {{{"t", 0}, at(1)}, {{"t", 1}, at(2)}});
  std::string path = f.store.path_for("g");
  Bytes good = read_ok(f.fs, path);

  SUBCASE("AFlippedByteFailsTheCrc") {
    Bytes bad = good;
    bad[20] ^= std::byte{0x01};
    REQUIRE(write_file_atomically(f.fs, path, bad).ok());
  }
  SUBCASE("ATruncatedFile") { REQUIRE(write_file_atomically(f.fs, path, ByteSpan(good).first(10)).ok()); }
  SUBCASE("TrailingBytes") {
    Bytes bad = good;
    bad.push_back(std::byte{0});
    REQUIRE(write_file_atomically(f.fs, path, bad).ok());
  }
  SUBCASE("AnEmptyFile") { REQUIRE(write_file_atomically(f.fs, path, {}).ok()); }

  auto fetched = f.store.fetch("g");
  REQUIRE_FALSE(fetched.ok());
  CHECK(fetched.error().code == ErrorCode::kCorruption);
  CHECK(fetched.error().message.find("group offsets file " + path + " is corrupt") == 0);
  CHECK(fetched.error().message.find("streamctl group delete 'g'") != std::string::npos);
  // A commit must not paper over it either.
  auto committed = f.store.commit("g", {{{"t", 0}, at(3)}});
  REQUIRE_FALSE(committed.ok());
  CHECK(committed.error().code == ErrorCode::kCorruption);
  // Deleting the group clears it.
  REQUIRE(f.store.delete_group("g").ok());
  commit_ok(f.store, "g", {{{"t", 0}, at(3)}});
  CHECK(fetch_ok(f.store, "g").size() == 1);
}

TEST_CASE("AFileFromANewerVersionIsNotSupportedRatherThanCorrupt") {
  Fixture f;
  commit_ok(f.store, "g", {{{"t", 0}, at(1)}});
  Bytes newer = read_ok(f.fs, f.store.path_for("g"));
  put_be16(newer.data() + 4, 2);
  newer.resize(newer.size() - 4);
  uint32_t crc = crc32c(newer);
  ByteWriter(newer).be32(crc);
  REQUIRE(write_file_atomically(f.fs, f.store.path_for("g"), newer).ok());
  auto r = f.store.fetch("g");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kNotSupported);
  CHECK(r.error().message.find("format version 2") != std::string::npos);
}

TEST_CASE("AFileHoldingAnotherGroupIsCorrupt") {
  Fixture f;
  commit_ok(f.store, "a", {{{"t", 0}, at(1)}});
  REQUIRE(f.fs.rename(f.store.path_for("a"), f.store.path_for("b")).ok());
  auto r = f.store.fetch("b");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("it holds group 'a'") != std::string::npos);
}

TEST_CASE("ThreadsCommittingDifferentPartitionsOfOneGroupAllSurvive") {
  Fixture f;
  constexpr int kThreads = 4;
  constexpr int kCommits = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      GroupStore own(&f.fs, &f.clock, kDir);
      for (int i = 0; i < kCommits; ++i) {
        if (!own.commit("g", {{{"t", t}, at(i)}}).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures.load() == 0);
  Offsets got = fetch_ok(f.store, "g");
  REQUIRE(got.size() == kThreads);
  for (int t = 0; t < kThreads; ++t) CHECK(got.at({"t", t}).offset == Offset(kCommits - 1));
}

TEST_CASE("TwoProcessesCommittingDifferentPartitionsConcurrentlyBothSurvive") {
  TempDir tmp;
  const std::string dir = tmp.join("__meta/groups");
  constexpr int kCommits = 100;
  std::vector<pid_t> children;
  for (int p = 0; p < 2; ++p) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      GroupStore store(posix_file_system(), system_clock(), dir);
      for (int i = 0; i < kCommits; ++i) {
        if (!store.commit("shared", {{{"t", p}, at(i)}}).ok()) ::_exit(1);
      }
      ::_exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  GroupStore store(posix_file_system(), system_clock(), dir);
  Offsets got = fetch_ok(store, "shared");
  REQUIRE(got.size() == 2);
  CHECK(got.at({"t", 0}).offset == Offset(kCommits - 1));
  CHECK(got.at({"t", 1}).offset == Offset(kCommits - 1));
}

TEST_CASE("ACrashAtEveryStepOfACommitLeavesTheOldOrTheNewOffsets") {
  const Offsets old_state{{{"t", 0}, at(1)}, {{"t", 1}, at(1)}};
  const Offsets update{{{"t", 1}, at(2)}, {{"u", 0}, at(5)}};
  const Offsets new_state{{{"t", 0}, at(1)}, {{"t", 1}, at(2)}, {{"u", 0}, at(5)}};
  uint64_t steps = 0;
  {
    MemFileSystem mem;
    FaultInjectionFileSystem fault(&mem);
    ManualClock clock;
    GroupStore store(&fault, &clock, kDir);
    commit_ok(store, "g", old_state);
    fault.reset_counters();
    commit_ok(store, "g", update);
    steps = fault.op_count();
  }
  REQUIRE(steps > 5);
  int saw_old = 0;
  int saw_new = 0;
  for (uint64_t step = 0; step <= steps; ++step) {
    CAPTURE(step);
    MemFileSystem mem;
    FaultInjectionFileSystem fault(&mem);
    ManualClock clock;
    {
      GroupStore store(&fault, &clock, kDir);
      commit_ok(store, "g", old_state);
      fault.deactivate_after(step);
      Status s = store.commit("g", update);
      CHECK(s.ok() == (step == steps));
      REQUIRE(fault.crash().ok());
      GroupStore after(&fault, &clock, kDir);
      Offsets got = fetch_ok(after, "g");
      bool is_old = got == old_state;
      bool is_new = got == new_state;
      CHECK((is_old || is_new));
      if (s.ok()) CHECK(is_new);
      saw_old += is_old;
      saw_new += is_new;
      CHECK(groups_ok(after) == std::vector<std::string>{"g"});
      // And the store still works after the crash.
      commit_ok(after, "g", {{{"v", 0}, at(9)}});
    }
  }
  CHECK(saw_old > 0);
  CHECK(saw_new > 0);
}

TEST_CASE("TheFirstCommitSurvivesACrashRightAfterIt") {
  MemFileSystem mem;
  REQUIRE(mem.create_dirs("/data").ok());
  FaultInjectionFileSystem fault(&mem);
  ManualClock clock;
  GroupStore store(&fault, &clock, kDir);
  commit_ok(store, "g", {{{"t", 0}, at(1)}});
  REQUIRE(fault.crash().ok());
  CHECK(fetch_ok(store, "g").size() == 1);  // the new directories were made durable too
}

TEST_CASE("DiskFullReturnsAnErrorAndKeepsTheOldOffsets") {
  MemFileSystem mem;
  FaultInjectionFileSystem fault(&mem);
  ManualClock clock;
  GroupStore store(&fault, &clock, kDir);
  commit_ok(store, "g", {{{"t", 0}, at(1)}});

  SUBCASE("OnWrite") { fault.fail_after(0, ErrorCode::kNoSpace, FsOp::kWrite); }
  SUBCASE("OnSync") { fault.fail_after(0, ErrorCode::kNoSpace, FsOp::kSync); }
  SUBCASE("WhenTheMemoryFileSystemIsFull") { mem.set_capacity(mem.used_bytes() + 10); }

  Status s = store.commit("g", {{{"t", 0}, at(2)}});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::kNoSpace);
  CHECK(s.error().message.find("commit offsets of group 'g'") == 0);
  CHECK(s.error().message.find("No space left on device") != std::string::npos);
  fault.clear_faults();
  mem.set_capacity(uint64_t{1} << 30);
  CHECK(fetch_ok(store, "g").at({"t", 0}).offset == Offset(1));
  CHECK(groups_ok(store) == std::vector<std::string>{"g"});
  commit_ok(store, "g", {{{"t", 0}, at(3)}});
  CHECK(fetch_ok(store, "g").at({"t", 0}).offset == Offset(3));
}

TEST_CASE("PermissionDeniedNamesTheFile") {
  MemFileSystem mem;
  FaultInjectionFileSystem fault(&mem);
  ManualClock clock;
  GroupStore store(&fault, &clock, kDir);
  fault.fail_after(0, ErrorCode::kPermissionDenied, FsOp::kCreateDir);
  Status s = store.commit("g", {{{"t", 0}, at(1)}});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::kPermissionDenied);
  CHECK(s.error().message.find(kDir) != std::string::npos);
}
