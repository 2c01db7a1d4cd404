// MemFileSystem: an in-memory FileSystem for tests (leveldb's helpers/memenv).
//
// Implements every method of base/fs.h with POSIX-like semantics and errors (ENOENT, EEXIST, ENOTDIR,
// EISDIR, ENOTEMPTY, ENOSPC, EBADF built with Error::from_errno, so codes and messages match PosixFileSystem):
// files are inodes shared by open handles (an unlinked file stays readable through its handles), rename is
// atomic, directories must exist before entries are created in them, and lock() has flock semantics within
// the process (each FileLock is its own open file description; shared/exclusive; wait or kBusy).
// Durability: nothing is ever lost here; wrap it in FaultInjectionFileSystem (fault_fs.h) to simulate crashes.
// Thread-safety: thread-safe (one mutex); Files are thread-compatible like the interface says. Not shared
// across fork(): a child gets a copy.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/fs.h"

namespace streamctl {

class MemFileSystem final : public FileSystem {
 public:
  // capacity_bytes: total bytes all files may hold; a write that would exceed it fails with kNoSpace.
  explicit MemFileSystem(uint64_t capacity_bytes = uint64_t{1} << 40);
  ~MemFileSystem() override;
  MemFileSystem(const MemFileSystem&) = delete;
  MemFileSystem& operator=(const MemFileSystem&) = delete;

  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override;
  Result<bool> exists(const std::string& path) override;
  Result<uint64_t> file_size(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& dir) override;
  Status create_dirs(const std::string& dir) override;
  Status remove_file(const std::string& path) override;
  Status remove_dir(const std::string& dir) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status sync_dir(const std::string& dir) override;
  Result<uint64_t> free_space(const std::string& path) override;
  Result<std::unique_ptr<FileLock>> lock(const std::string& path, LockMode mode,
                                                         bool wait) override;

  // ---- test helpers
  // Changes the capacity (e.g. to the bytes used now, to make the next growing write fail with ENOSPC).
  void set_capacity(uint64_t capacity_bytes);
  // Bytes held by all files, including unlinked files that are still open.
  uint64_t used_bytes() const;
  // Number of successful File::sync() and sync_dir() calls so far.
  uint64_t sync_count() const;

  // Shared with open Files and FileLocks, so a handle that outlives the file system stays safe to use.
  struct State;

 private:
  std::shared_ptr<State> state_;
};

// "a//b/./c/" -> "a/b/c"; "/" stays "/". ".." is kept as a name (tests never need it resolved).
std::string normalize_path(const std::string& path);

}  // namespace streamctl
