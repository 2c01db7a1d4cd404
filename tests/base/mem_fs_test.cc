// MemFileSystem must behave like PosixFileSystem wherever the engine can tell: the same conformance checks run
// against both (the posix one in a TempDir), then MemFileSystem's own extras (capacity, locks across threads).
#include "base/mem_fs.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "tests/support/temp_dir.h"

using namespace streamctl;
using streamctl::MemFileSystem;
using streamctl::normalize_path;
using streamctl::test::TempDir;

namespace {

std::string read_string(FileSystem& fs, const std::string& path) {
  auto bytes = read_file(fs, path);
  REQUIRE_MESSAGE(bytes.ok(), bytes.error().to_string());
  return std::string(as_string_view(*bytes));
}

std::vector<std::string> sorted_listing(FileSystem& fs, const std::string& dir) {
  auto names = fs.list_dir(dir);
  REQUIRE_MESSAGE(names.ok(), names.error().to_string());
  std::sort(names->begin(), names->end());
  return *names;
}

// Checks the FileSystem contract on `fs` under the existing, empty directory `root`.
void check_conformance(FileSystem& fs, const std::string& root) {
  const std::string dir = join_path(root, "a/b");
  const std::string file = join_path(dir, "f");

  SUBCASE("CreatingAFileInAMissingDirectoryFailsWithNotFound") {
    auto f = fs.open(file, OpenMode::kCreate);
    REQUIRE_FALSE(f.ok());
    CHECK(f.error().code == ErrorCode::kNotFound);
    CHECK(f.error().message.find(file) != std::string::npos);
  }

  REQUIRE(fs.create_dirs(dir).ok());
  REQUIRE(fs.create_dirs(dir).ok());  // idempotent

  SUBCASE("OpenModesFollowPosix") {
    auto missing = fs.open(file, OpenMode::kRead);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code == ErrorCode::kNotFound);
    CHECK(fs.open(file, OpenMode::kReadWrite).error().code == ErrorCode::kNotFound);

    auto created = fs.open(file, OpenMode::kCreateExclusive);
    REQUIRE(created.ok());
    REQUIRE((*created)->append(as_byte_span("hello")).ok());
    REQUIRE((*created)->close().ok());
    CHECK(fs.open(file, OpenMode::kCreateExclusive).error().code == ErrorCode::kAlreadyExists);

    auto kept = fs.open(file, OpenMode::kCreate);
    REQUIRE(kept.ok());
    CHECK(*(*kept)->size() == 5);
    auto truncated = fs.open(file, OpenMode::kCreateTruncate);
    REQUIRE(truncated.ok());
    CHECK(*(*truncated)->size() == 0);
    CHECK(*fs.file_size(file) == 0);

    auto reader = fs.open(file, OpenMode::kRead);
    REQUIRE(reader.ok());
    CHECK_FALSE((*reader)->append(as_byte_span("x")).ok());
  }

  SUBCASE("WritesReadBackAndWritePastEndZeroFills") {
    auto f = fs.open(file, OpenMode::kCreate);
    REQUIRE(f.ok());
    REQUIRE((*f)->append(as_byte_span("abc")).ok());
    REQUIRE((*f)->write_at(5, as_byte_span("z")).ok());
    REQUIRE((*f)->sync().ok());
    CHECK(*(*f)->size() == 6);
    Bytes buf(10);
    auto n = (*f)->read_at(0, buf);
    REQUIRE(n.ok());
    CHECK(*n == 6);  // short only at end of file
    CHECK(std::string(as_string_view(ByteSpan(buf).first(6))) == std::string("abc\0\0z", 6));
    auto past = (*f)->read_at(100, buf);
    REQUIRE(past.ok());
    CHECK(*past == 0);
    REQUIRE((*f)->truncate(2).ok());
    CHECK(read_string(fs, file) == "ab");
    REQUIRE((*f)->close().ok());
    CHECK_FALSE((*f)->append(as_byte_span("x")).ok());  // closed
  }

  SUBCASE("ListDirNamesEntriesWithoutDotsAndRejectsFiles") {
    REQUIRE(write_file_atomically(fs, file, as_byte_span("1")).ok());
    REQUIRE(fs.create_dirs(join_path(dir, "sub")).ok());
    CHECK(sorted_listing(fs, dir) == std::vector<std::string>{"f", "sub"});
    CHECK(sorted_listing(fs, join_path(root, "a")) == std::vector<std::string>{"b"});
    CHECK_FALSE(fs.list_dir(file).ok());
    CHECK(fs.list_dir(join_path(root, "nope")).error().code == ErrorCode::kNotFound);
    CHECK(*fs.exists(dir));
    CHECK(*fs.exists(file));
    CHECK_FALSE(*fs.exists(join_path(root, "nope")));
  }

  SUBCASE("CreateDirsOverAFileIsRejected") {
    REQUIRE(write_file_atomically(fs, file, as_byte_span("1")).ok());
    CHECK_FALSE(fs.create_dirs(join_path(file, "x")).ok());
    CHECK_FALSE(fs.create_dirs(file).ok());
  }

  SUBCASE("RenameReplacesTheTargetAndOpenHandlesKeepTheirFile") {
    REQUIRE(write_file_atomically(fs, file, as_byte_span("old")).ok());
    auto old_handle = fs.open(file, OpenMode::kRead);
    REQUIRE(old_handle.ok());
    std::string other = join_path(dir, "g");
    REQUIRE(write_file_atomically(fs, other, as_byte_span("new!")).ok());
    REQUIRE(fs.rename(other, file).ok());
    CHECK(read_string(fs, file) == "new!");
    CHECK_FALSE(*fs.exists(other));
    Bytes buf(3);
    auto n = (*old_handle)->read_at(0, buf);
    REQUIRE(n.ok());
    CHECK(as_string_view(buf) == "old");
    CHECK(fs.rename(join_path(dir, "missing"), file).error().code == ErrorCode::kNotFound);
  }

  SUBCASE("RenamingADirectoryMovesItsContents") {
    REQUIRE(write_file_atomically(fs, file, as_byte_span("x")).ok());
    std::string moved = join_path(root, "c");
    REQUIRE(fs.rename(join_path(root, "a"), moved).ok());
    CHECK(read_string(fs, join_path(moved, "b/f")) == "x");
    CHECK_FALSE(*fs.exists(dir));
  }

  SUBCASE("RemovedFileStaysReadableThroughAnOpenHandle") {
    REQUIRE(write_file_atomically(fs, file, as_byte_span("kept")).ok());
    auto handle = fs.open(file, OpenMode::kRead);
    REQUIRE(handle.ok());
    REQUIRE(fs.remove_file(file).ok());
    CHECK_FALSE(*fs.exists(file));
    Bytes buf(4);
    CHECK(*(*handle)->read_at(0, buf) == 4);
    CHECK(fs.remove_file(file).error().code == ErrorCode::kNotFound);
  }

  SUBCASE("RemoveDirRefusesANonEmptyDirectoryAndRemoveAllEmptiesIt") {
    REQUIRE(write_file_atomically(fs, file, as_byte_span("x")).ok());
    auto s = fs.remove_dir(dir);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message.find(dir) != std::string::npos);
    REQUIRE(remove_all(fs, join_path(root, "a")).ok());
    CHECK_FALSE(*fs.exists(join_path(root, "a")));
    CHECK(remove_all(fs, join_path(root, "a")).ok());  // already gone is fine
  }

  SUBCASE("SyncDirAndFreeSpaceNeedAnExistingPath") {
    CHECK(fs.sync_dir(dir).ok());
    CHECK(fs.sync_dir(join_path(root, "nope")).error().code == ErrorCode::kNotFound);
    auto free = fs.free_space(dir);
    REQUIRE(free.ok());
    CHECK(*free > 0);
  }

  SUBCASE("AnExclusiveLockExcludesEveryOtherLockInTheSameProcess") {
    std::string lock_path = join_path(dir, "x.lock");
    auto first = fs.lock(lock_path, LockMode::kExclusive, false);
    REQUIRE(first.ok());
    CHECK(*fs.exists(lock_path));
    auto second = fs.lock(lock_path, LockMode::kExclusive, false);
    REQUIRE_FALSE(second.ok());
    CHECK(second.error().code == ErrorCode::kBusy);
    CHECK(second.error().message.find(lock_path) != std::string::npos);
    CHECK(fs.lock(lock_path, LockMode::kShared, false).error().code == ErrorCode::kBusy);
    // The lock file is usable for small state while held.
    REQUIRE((*first)->file().write_at(0, as_byte_span("pid")).ok());
    first->reset();
    auto shared1 = fs.lock(lock_path, LockMode::kShared, false);
    auto shared2 = fs.lock(lock_path, LockMode::kShared, false);
    CHECK(shared1.ok());
    CHECK(shared2.ok());
    CHECK(fs.lock(lock_path, LockMode::kExclusive, false).error().code == ErrorCode::kBusy);
  }

  SUBCASE("AWaitingLockIsGrantedWhenTheHolderReleasesIt") {
    std::string lock_path = join_path(dir, "w.lock");
    auto held = fs.lock(lock_path, LockMode::kExclusive, false);
    REQUIRE(held.ok());
    std::atomic<bool> acquired{false};
    std::thread waiter([&] {
      auto l = fs.lock(lock_path, LockMode::kExclusive, true);
      acquired = l.ok();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK_FALSE(acquired.load());
    held->reset();
    waiter.join();
    CHECK(acquired.load());
  }
}

}  // namespace

TEST_CASE("MemFileSystemMeetsTheFileSystemContract") {
  MemFileSystem fs;
  REQUIRE(fs.create_dirs("/root").ok());
  check_conformance(fs, "/root");
}

TEST_CASE("PosixFileSystemMeetsTheSameContract") {
  TempDir tmp;
  check_conformance(*posix_file_system(), tmp.path());
}

TEST_CASE("NormalizePathCollapsesSlashesAndDots") {
  CHECK(normalize_path("/a//b/./c/") == "/a/b/c");
  CHECK(normalize_path("/") == "/");
  CHECK(normalize_path("a/b") == "a/b");
  CHECK(normalize_path("./a") == "a");
  CHECK(normalize_path("") == ".");
}

TEST_CASE("MemFileSystemRelativePathsLiveUnderTheCurrentDirectory") {
  MemFileSystem fs;
  REQUIRE(write_file_atomically(fs, "top", as_byte_span("1")).ok());
  REQUIRE(fs.create_dirs("d").ok());
  CHECK(sorted_listing(fs, ".") == std::vector<std::string>{"d", "top"});
}

TEST_CASE("MemFileSystemCapacityTurnsGrowingWritesIntoNoSpace") {
  MemFileSystem fs(10);
  REQUIRE(fs.create_dirs("/d").ok());
  auto f = fs.open("/d/f", OpenMode::kCreate);
  REQUIRE(f.ok());
  REQUIRE((*f)->append(as_byte_span("12345678")).ok());
  CHECK(*fs.free_space("/d") == 2);
  auto full = (*f)->append(as_byte_span("abc"));
  REQUIRE_FALSE(full.ok());
  CHECK(full.error().code == ErrorCode::kNoSpace);
  CHECK(full.error().message.find("/d/f") != std::string::npos);
  CHECK(*(*f)->size() == 8);                            // nothing partial
  REQUIRE((*f)->write_at(0, as_byte_span("xx")).ok());  // overwriting needs no space
  REQUIRE(fs.remove_file("/d/f").ok());
  CHECK(fs.used_bytes() == 8);  // still held by the open handle
  f->reset();
  CHECK(fs.used_bytes() == 0);
  fs.set_capacity(100);
  CHECK(*fs.free_space("/d") == 100);
}

TEST_CASE("MemFileSystemCountsSyncs") {
  MemFileSystem fs;
  REQUIRE(fs.create_dirs("/d").ok());
  uint64_t before = fs.sync_count();
  REQUIRE(write_file_atomically(fs, "/d/x", as_byte_span("1")).ok());
  CHECK(fs.sync_count() == before + 2);  // the file and its directory
}

TEST_CASE("MemFileSystemRenameOfADirectoryIntoItselfIsRejected") {
  MemFileSystem fs;
  REQUIRE(fs.create_dirs("/a/b").ok());
  CHECK(fs.rename("/a", "/a/b/c").error().code == ErrorCode::kInvalidArgument);
  REQUIRE(write_file_atomically(fs, "/a/b/f", as_byte_span("1")).ok());
  REQUIRE(fs.create_dirs("/e").ok());
  CHECK_FALSE(fs.rename("/e", "/a").ok());  // not empty
}
