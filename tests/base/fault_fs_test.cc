// FaultInjectionFileSystem: the crash model (unsynced data and directory entries are lost, synced ones are
// not) and the fault switches (Nth operation, seeded random, inactive), over MemFileSystem and the real disk.
#include "base/fault_fs.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "base/mem_fs.h"
#include "tests/support/temp_dir.h"

using namespace streamctl;
using streamctl::FaultInjectionFileSystem;
using streamctl::FsOp;
using streamctl::MemFileSystem;
using streamctl::test::TempDir;

namespace {

std::string contents(FileSystem& fs, const std::string& path) {
  auto bytes = read_file(fs, path);
  REQUIRE_MESSAGE(bytes.ok(), bytes.error().to_string());
  return std::string(as_string_view(*bytes));
}

std::unique_ptr<File> open_file(FileSystem& fs, const std::string& path, OpenMode mode) {
  auto f = fs.open(path, mode);
  REQUIRE_MESSAGE(f.ok(), f.error().to_string());
  return std::move(f).value();
}

// A MemFileSystem with a durable directory /d, wrapped.
struct Fixture {
  Fixture() : fault(&mem) { REQUIRE(mem.create_dirs("/d").ok()); }
  MemFileSystem mem;
  FaultInjectionFileSystem fault;
};

}  // namespace

TEST_CASE("UnsyncedAppendsAreDroppedByACrashAndSyncedOnesSurvive") {
  Fixture f;
  auto file = open_file(f.fault, "/d/log", OpenMode::kCreate);
  REQUIRE(f.fault.sync_dir("/d").ok());
  REQUIRE(file->append(as_byte_span("durable")).ok());
  REQUIRE(file->sync().ok());
  REQUIRE(file->append(as_byte_span("-volatile")).ok());
  CHECK(contents(f.mem, "/d/log") == "durable-volatile");
  REQUIRE(f.fault.crash().ok());
  CHECK(contents(f.mem, "/d/log") == "durable");
}

TEST_CASE("UnsyncedOverwritesAndTruncationsOfSyncedBytesAreRolledBack") {
  Fixture f;
  auto file = open_file(f.fault, "/d/x", OpenMode::kCreate);
  REQUIRE(f.fault.sync_dir("/d").ok());
  REQUIRE(file->append(as_byte_span("0123456789")).ok());
  REQUIRE(file->sync().ok());
  REQUIRE(file->write_at(2, as_byte_span("AB")).ok());
  REQUIRE(file->write_at(3, as_byte_span("CDE")).ok());
  REQUIRE(file->truncate(4).ok());
  REQUIRE(file->append(as_byte_span("tail")).ok());
  CHECK(contents(f.mem, "/d/x") == "01ACtail");
  REQUIRE(f.fault.crash().ok());
  CHECK(contents(f.mem, "/d/x") == "0123456789");
}

TEST_CASE("FilesThatExistedBeforeWrappingCountAsDurable") {
  MemFileSystem mem;
  REQUIRE(mem.create_dirs("/d").ok());
  REQUIRE(write_file_atomically(mem, "/d/old", as_byte_span("old")).ok());
  FaultInjectionFileSystem fault(&mem);
  auto file = open_file(fault, "/d/old", OpenMode::kCreateTruncate);
  REQUIRE(file->append(as_byte_span("new content")).ok());
  REQUIRE(fault.crash().ok());
  CHECK(contents(mem, "/d/old") == "old");
}

TEST_CASE("AFileCreatedWithoutSyncingItsDirectoryVanishesOnCrash") {
  Fixture f;
  auto file = open_file(f.fault, "/d/new", OpenMode::kCreate);
  REQUIRE(file->append(as_byte_span("data")).ok());
  REQUIRE(file->sync().ok());  // data durable, but the name is not
  REQUIRE(f.fault.crash().ok());
  CHECK_FALSE(*f.mem.exists("/d/new"));
}

TEST_CASE("AFileCreatedAndDirSyncedSurvivesACrash") {
  Fixture f;
  auto file = open_file(f.fault, "/d/new", OpenMode::kCreate);
  REQUIRE(file->append(as_byte_span("data")).ok());
  REQUIRE(file->sync().ok());
  REQUIRE(f.fault.sync_dir("/d").ok());
  REQUIRE(f.fault.crash().ok());
  CHECK(contents(f.mem, "/d/new") == "data");
}

TEST_CASE("ARenameWithoutADirSyncIsUndoneAndTheOldTargetComesBack") {
  Fixture f;
  REQUIRE(write_file_atomically(f.fault, "/d/state", as_byte_span("v1")).ok());
  // write_file_atomically without its final sync_dir:
  auto tmp = open_file(f.fault, "/d/state.tmp", OpenMode::kCreateTruncate);
  REQUIRE(tmp->write_at(0, as_byte_span("v2")).ok());
  REQUIRE(tmp->sync().ok());
  REQUIRE(tmp->close().ok());
  REQUIRE(f.fault.rename("/d/state.tmp", "/d/state").ok());
  CHECK(contents(f.mem, "/d/state") == "v2");
  REQUIRE(f.fault.crash().ok());
  CHECK(contents(f.mem, "/d/state") == "v1");
  CHECK_FALSE(*f.mem.exists("/d/state.tmp"));
}

TEST_CASE("ARemovedFileComesBackWithItsSyncedBytesUnlessTheDirectoryWasSynced") {
  Fixture f;
  REQUIRE(write_file_atomically(f.fault, "/d/a", as_byte_span("keep")).ok());
  REQUIRE(write_file_atomically(f.fault, "/d/b", as_byte_span("gone")).ok());
  auto a = open_file(f.fault, "/d/a", OpenMode::kReadWrite);
  REQUIRE(a->append(as_byte_span("+unsynced")).ok());
  REQUIRE(f.fault.remove_file("/d/a").ok());
  REQUIRE(f.fault.crash().ok());
  CHECK(contents(f.mem, "/d/a") == "keep");

  REQUIRE(f.fault.remove_file("/d/b").ok());
  REQUIRE(f.fault.sync_dir("/d").ok());
  REQUIRE(f.fault.crash().ok());
  CHECK_FALSE(*f.mem.exists("/d/b"));
}

TEST_CASE("DirectoriesCreatedWithoutSyncingTheirParentVanishOnCrash") {
  Fixture f;
  REQUIRE(f.fault.create_dirs("/d/x/y").ok());
  REQUIRE(write_file_atomically(f.fault, "/d/x/y/file", as_byte_span("1")).ok());
  REQUIRE(f.fault.crash().ok());
  CHECK_FALSE(*f.mem.exists("/d/x"));

  REQUIRE(f.fault.create_dirs("/d/x/y").ok());
  REQUIRE(f.fault.sync_dir("/d").ok());
  REQUIRE(f.fault.sync_dir("/d/x").ok());
  REQUIRE(write_file_atomically(f.fault, "/d/x/y/file", as_byte_span("1")).ok());
  REQUIRE(f.fault.crash().ok());
  CHECK(contents(f.mem, "/d/x/y/file") == "1");
}

TEST_CASE("HandlesOpenedBeforeACrashAreStale") {
  Fixture f;
  auto file = open_file(f.fault, "/d/x", OpenMode::kCreate);
  REQUIRE(f.fault.crash().ok());
  auto s = file->append(as_byte_span("late"));
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message.find("simulated crash") != std::string::npos);
}

TEST_CASE("FailAfterFailsTheNthMatchingOperationOnly") {
  Fixture f;
  auto file = open_file(f.fault, "/d/x", OpenMode::kCreate);
  f.fault.fail_after(2, ErrorCode::kIoError, FsOp::kWrite, /*sticky=*/false);
  REQUIRE(file->append(as_byte_span("a")).ok());
  REQUIRE(file->sync().ok());  // not a write: not counted
  REQUIRE(file->append(as_byte_span("b")).ok());
  auto third = file->append(as_byte_span("c"));
  REQUIRE_FALSE(third.ok());
  CHECK(third.error().code == ErrorCode::kIoError);
  CHECK(third.error().message.find("injected fault: write /d/x") != std::string::npos);
  CHECK(third.error().message.find("Input/output error") != std::string::npos);
  CHECK(file->append(as_byte_span("d")).ok());  // not sticky
  CHECK(contents(f.mem, "/d/x") == "abd");
  CHECK(f.fault.injected_count() == 1);
}

TEST_CASE("AStickyNoSpaceFaultKeepsFailingAndReportsNoFreeSpace") {
  Fixture f;
  auto file = open_file(f.fault, "/d/x", OpenMode::kCreate);
  f.fault.fail_after(0, ErrorCode::kNoSpace, FsOp::kWrite);
  for (int i = 0; i < 3; ++i) {
    auto s = file->append(as_byte_span("a"));
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == ErrorCode::kNoSpace);
    CHECK(s.error().message.find("No space left on device") != std::string::npos);
  }
  CHECK(*f.fault.free_space("/d") == 0);
  CHECK(file->sync().ok());
  f.fault.clear_faults();
  CHECK(file->append(as_byte_span("a")).ok());
  CHECK(*f.fault.free_space("/d") > 0);
}

TEST_CASE("APermissionFaultLooksLikeEacces") {
  Fixture f;
  f.fault.fail_after(0, ErrorCode::kPermissionDenied, FsOp::kOpen);
  auto r = f.fault.open("/d/x", OpenMode::kCreate);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kPermissionDenied);
  CHECK(r.error().message.find("Permission denied") != std::string::npos);
}

TEST_CASE("AnInactiveFileSystemFailsEveryOperationUntilReactivated") {
  Fixture f;
  f.fault.set_active(false);
  CHECK_FALSE(f.fault.exists("/d").ok());
  CHECK_FALSE(f.fault.list_dir("/d").ok());
  CHECK_FALSE(f.fault.open("/d/x", OpenMode::kCreate).ok());
  CHECK_FALSE(f.fault.lock("/d/l", LockMode::kExclusive, false).ok());
  f.fault.set_active(true);
  CHECK(f.fault.open("/d/x", OpenMode::kCreate).ok());
}

TEST_CASE("DeactivateAfterLetsExactlyNOperationsThrough") {
  Fixture f;
  f.fault.reset_counters();
  f.fault.deactivate_after(3);
  CHECK(f.fault.exists("/d").ok());
  CHECK(f.fault.exists("/d").ok());
  CHECK(f.fault.exists("/d").ok());
  CHECK_FALSE(f.fault.exists("/d").ok());
  CHECK_FALSE(f.fault.active());
  CHECK(f.fault.op_count() == 4);
  REQUIRE(f.fault.crash().ok());
  CHECK(f.fault.active());
  CHECK(f.fault.exists("/d").ok());
}

TEST_CASE("RandomFaultsAreReproducibleFromTheSeed") {
  uint64_t seed = 42;
  if (const char* env = std::getenv("STREAMCTL_TEST_SEED")) seed = std::strtoull(env, nullptr, 10);
  MESSAGE("seed " << seed << " (set STREAMCTL_TEST_SEED to replay)");
  auto pattern = [&] {
    Fixture f;
    f.fault.fail_randomly(seed, 4, ErrorCode::kIoError, FsOp::kStat);
    std::string bits;
    for (int i = 0; i < 200; ++i) bits += f.fault.exists("/d").ok() ? '.' : 'x';
    return bits;
  };
  std::string first = pattern();
  CHECK(first == pattern());
  auto failures = std::count(first.begin(), first.end(), 'x');
  CHECK(failures > 20);  // about 50 expected
  CHECK(failures < 100);
}

TEST_CASE("ATornWriteLeavesHalfOfTheBytes") {
  Fixture f;
  auto file = open_file(f.fault, "/d/x", OpenMode::kCreate);
  f.fault.set_torn_writes(true);
  f.fault.fail_after(0, ErrorCode::kIoError, FsOp::kWrite, false);
  CHECK_FALSE(file->append(as_byte_span("12345678")).ok());
  CHECK(contents(f.mem, "/d/x") == "1234");
}

TEST_CASE("LocksPassThroughAndTheirFilesAreTracked") {
  Fixture f;
  auto held = f.fault.lock("/d/l.lock", LockMode::kExclusive, false);
  REQUIRE(held.ok());
  CHECK(f.fault.lock("/d/l.lock", LockMode::kExclusive, false).error().code == ErrorCode::kBusy);
  CHECK(f.mem.lock("/d/l.lock", LockMode::kShared, false).error().code == ErrorCode::kBusy);
  REQUIRE((*held)->file().append(as_byte_span("state")).ok());
  held->reset();
  REQUIRE(f.fault.crash().ok());
  CHECK_FALSE(*f.mem.exists("/d/l.lock"));  // created, never dir-synced
}

TEST_CASE("WriteFileAtomicallyLeavesTheOldOrTheNewStateWhenCrashedAtEveryStep") {
  // Count the steps once, then crash before each of them in turn.
  uint64_t steps = 0;
  {
    Fixture f;
    REQUIRE(write_file_atomically(f.fault, "/d/s", as_byte_span("old")).ok());
    f.fault.reset_counters();
    REQUIRE(write_file_atomically(f.fault, "/d/s", as_byte_span("new state")).ok());
    steps = f.fault.op_count();
  }
  REQUIRE(steps >= 6);  // open, write, sync, close, rename, sync_dir
  for (uint64_t step = 0; step <= steps; ++step) {
    CAPTURE(step);
    Fixture f;
    REQUIRE(write_file_atomically(f.fault, "/d/s", as_byte_span("old")).ok());
    f.fault.deactivate_after(step);
    Status s = write_file_atomically(f.fault, "/d/s", as_byte_span("new state"));
    CHECK(s.ok() == (step == steps));
    REQUIRE(f.fault.crash().ok());
    std::string after = contents(f.mem, "/d/s");
    CHECK((after == "old" || after == "new state"));
    if (s.ok()) CHECK(after == "new state");
    if (step < steps - 1) CHECK(after == "old");  // before the rename and dir sync, nothing is visible
  }
}

TEST_CASE("TheCrashModelWorksOverTheRealFileSystem") {
  TempDir tmp;
  FaultInjectionFileSystem fault(posix_file_system());
  std::string path = tmp.join("f");
  auto file = open_file(fault, path, OpenMode::kCreate);
  REQUIRE(fault.sync_dir(tmp.path()).ok());
  REQUIRE(file->append(as_byte_span("synced")).ok());
  REQUIRE(file->sync().ok());
  REQUIRE(file->append(as_byte_span("+lost")).ok());
  REQUIRE(write_file_atomically(fault, tmp.join("g"), as_byte_span("g")).ok());
  auto unsynced_name = open_file(fault, tmp.join("h"), OpenMode::kCreate);
  REQUIRE(fault.crash().ok());
  CHECK(contents(*posix_file_system(), path) == "synced");
  CHECK(contents(*posix_file_system(), tmp.join("g")) == "g");
  CHECK_FALSE(*posix_file_system()->exists(tmp.join("h")));
}
