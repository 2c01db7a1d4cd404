// FaultInjectionFileSystem: wraps any FileSystem to break it on purpose (RocksDB's
// FaultInjectionTestFS, SQLite's test6.c crash VFS).
//
// Crash model (what crash() undoes; everything else survives):
//   * File data: each file's size and bytes as of its last File::sync(). Unsynced appends are dropped,
//     unsynced overwrites and truncations are rolled back. Files that existed before they were first opened
//     through this wrapper count as synced.
//   * Directory entries: files and directories created, removed or renamed since the last sync_dir() of their
//     parent (for a rename: the parent of the destination) are put back as they were: new names vanish,
//     removed files come back with their synced bytes, a rename over an existing file restores the old file.
// Faults: fail the Nth matching operation (sticky or once), fail each matching operation with a seeded
// probability 1/N, or go inactive (every operation fails: the test's "system reset"), immediately or after N
// operations. Injected errors carry the real errno text (EIO, ENOSPC, EACCES) prefixed with "injected".
// Thread-safety: thread-safe. The base file system is not owned and must outlive this one.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "base/fs.h"

namespace streamctl {

// Operation classes for fault filters (bit masks; combine with |).
struct FsOp {
  static constexpr uint32_t kOpen = 1u << 0;       // FileSystem::open
  static constexpr uint32_t kRead = 1u << 1;       // File::read_at
  static constexpr uint32_t kWrite = 1u << 2;      // File::write_at, File::append
  static constexpr uint32_t kSync = 1u << 3;       // File::sync
  static constexpr uint32_t kTruncate = 1u << 4;   // File::truncate
  static constexpr uint32_t kClose = 1u << 5;      // File::close
  static constexpr uint32_t kRename = 1u << 6;     // FileSystem::rename
  static constexpr uint32_t kRemove = 1u << 7;     // remove_file, remove_dir
  static constexpr uint32_t kCreateDir = 1u << 8;  // create_dirs
  static constexpr uint32_t kSyncDir = 1u << 9;    // sync_dir
  static constexpr uint32_t kListDir = 1u << 10;   // list_dir
  static constexpr uint32_t kStat = 1u << 11;      // exists, file_size, free_space, File::size
  static constexpr uint32_t kLock = 1u << 12;      // FileSystem::lock
  static constexpr uint32_t kAll = (1u << 13) - 1;
  // Operations that change the file system (what a disk-full or read-only disk refuses).
  static constexpr uint32_t kMutating =
      kOpen | kWrite | kSync | kTruncate | kRename | kRemove | kCreateDir | kSyncDir | kLock;
};

// "write", "sync", ... for one FsOp bit.
const char* fs_op_name(uint32_t op);

class FaultInjectionFileSystem final : public FileSystem {
 public:
  // base: not owned, must outlive this object and every File/FileLock opened through it.
  explicit FaultInjectionFileSystem(FileSystem* base);
  ~FaultInjectionFileSystem() override;
  FaultInjectionFileSystem(const FaultInjectionFileSystem&) = delete;
  FaultInjectionFileSystem& operator=(const FaultInjectionFileSystem&) = delete;

  // ---- fault injection
  // After `n` more operations matching `ops` succeed, the next matching one fails with `code`
  // (kIoError -> EIO, kNoSpace -> ENOSPC, kPermissionDenied -> EACCES; other codes as given). With sticky,
  // every later matching operation fails too (a full disk stays full); otherwise only that one.
  void fail_after(uint64_t n, streamctl::ErrorCode code, uint32_t ops = FsOp::kAll, bool sticky = true);
  // Each operation matching `ops` fails with probability 1/one_in, from a generator seeded with `seed`.
  void fail_randomly(uint64_t seed, uint32_t one_in, streamctl::ErrorCode code, uint32_t ops = FsOp::kMutating);
  // After `n` more operations matching `ops` succeed, the file system goes inactive (see set_active).
  void deactivate_after(uint64_t n, uint32_t ops = FsOp::kAll);
  // Removes every armed fault (not the inactive state).
  void clear_faults();
  // Inactive: every operation fails with kIoError, as if the machine had lost power.
  void set_active(bool active);
  bool active() const;
  // When a write fails by injection, first write the first half of its bytes (a torn write).
  void set_torn_writes(bool torn);

  // Operations attempted (matching anything) since construction or reset_counters().
  uint64_t op_count() const;
  // Operations attempted whose class is in `ops` (e.g. FsOp::kSync | FsOp::kSyncDir: every fsync/fdatasync),
  // since construction or reset_counters(). Refused and failed operations count too.
  uint64_t op_count(uint32_t ops) const;
  // Faults injected (including inactive refusals) since construction or reset_counters().
  uint64_t injected_count() const;
  void reset_counters();

  // ---- crash simulation
  // Simulates power loss and reboot: undoes unsynced directory changes and drops unsynced file data (see the
  // file comment), invalidates every File opened before (later calls fail), clears all faults and makes the
  // file system active again. FileLocks stay held until destroyed.
  Status crash();
  // Forgets all tracking: everything on the base file system counts as durable from now on.
  void mark_all_durable();

  // ---- FileSystem
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
  bool is_posix() const override { return false; }

  // Unsynced data of one file, as tracked (for the File wrapper).
  struct FileState {
    uint64_t synced_size = 0;
    // Pre-images of synced bytes overwritten or truncated away since the last sync: {position, bytes}.
    std::vector<std::pair<uint64_t, Bytes>> undo;
  };

 private:
  friend class FaultFile;

  // A directory change not yet made durable by sync_dir(durable_dir).
  struct PendingOp {
    enum Kind { kCreateFile, kCreateDir, kRemoveFile, kRemoveDir, kRename };
    PendingOp(Kind k, std::string p, std::string t, std::string d)
        : kind(k), path(std::move(p)), to(std::move(t)), durable_dir(std::move(d)) {}
    Kind kind;
    std::string path;           // the entry (rename: the source)
    std::string to;             // rename: the destination
    std::string durable_dir;    // the directory whose sync makes this durable
    bool had_previous = false;  // remove / rename-over: an entry existed at `path` (rename: at `to`)
    bool previous_is_dir = false;
    Bytes previous_contents;  // its synced bytes
  };

  // Counts the operation and decides whether to fail it.
  Status check(uint32_t op, const std::string& path);
  Error injected_error(uint32_t op, const std::string& path, streamctl::ErrorCode code) const;
  // REQUIRES: mu_ held.
  std::shared_ptr<FileState> state_for(const std::string& path, uint64_t current_size);
  Result<Bytes> durable_contents(const std::string& path);
  void move_states(const std::string& from, const std::string& to);
  void erase_states(const std::string& path);

  FileSystem* base_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<FileState>> files_;  // by normalized path
  std::vector<PendingOp> pending_;
  uint64_t generation_ = 0;  // bumped by crash(); Files from an older generation fail

  bool active_ = true;
  bool torn_writes_ = false;
  uint64_t op_count_ = 0;
  uint64_t op_counts_[13] = {};  // by FsOp bit
  uint64_t injected_ = 0;

  struct Countdown {
    bool armed = false;
    uint64_t remaining = 0;
    uint32_t ops = 0;
  };
  Countdown deactivate_;
  Countdown fail_;
  streamctl::ErrorCode fail_code_ = streamctl::ErrorCode::kIoError;
  bool fail_sticky_ = true;
  bool fail_triggered_ = false;
  bool no_space_triggered_ = false;

  uint32_t random_one_in_ = 0;
  uint32_t random_ops_ = 0;
  streamctl::ErrorCode random_code_ = streamctl::ErrorCode::kIoError;
  std::mt19937_64 rng_;
};

}  // namespace streamctl
