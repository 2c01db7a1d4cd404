// FileSystem: the engine's only door to the OS (leveldb's Env, RocksDB's FileSystem).
//
// Engine code never calls open/pwrite/fsync directly; it goes through these interfaces so tests can swap in
// MemFileSystem (base/mem_fs.h) or FaultInjectionFileSystem (base/fault_fs.h: drops unsynced
// data on a simulated crash, injects EIO/ENOSPC on the Nth operation).
//
// Durability contract (what callers may rely on):
//   * File::append/write_at return once the bytes are in the OS page cache (visible to other processes
//     that read the file), NOT durable. File::sync() makes the file's data and size durable.
//   * A new, renamed or removed directory entry is durable only after sync_dir() on its parent.
// Thread-safety: a FileSystem is thread-safe; a File is thread-compatible (callers serialise writes;
// concurrent read_at calls are fine). Every error names the path.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/coding.h"
#include "base/result.h"

namespace streamctl {

enum class OpenMode {
  kRead,            // existing file, read only
  kReadWrite,       // existing file, read and write
  kCreate,          // read/write; create if missing, keep contents
  kCreateTruncate,  // read/write; create or truncate to 0
  kCreateExclusive, // read/write; fail with kAlreadyExists if it exists
};

// An open file. Copy is forbidden (it owns a descriptor).
class File {
 public:
  File() = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  virtual ~File() = default;

  // Reads up to dst.size() bytes at offset; returns the count read (short only at end of file).
  virtual Result<size_t> read_at(uint64_t offset, std::span<std::byte> dst) = 0;
  // Writes all of data at offset (page cache, not durable).
  virtual Status write_at(uint64_t offset, ByteSpan data) = 0;
  // Writes all of data at the current end of file (page cache, not durable).
  virtual Status append(ByteSpan data) = 0;
  // Durably stores the file's data and size (fdatasync).
  virtual Status sync() = 0;
  // A hint: start writing [offset, offset + length) back to the device now, without waiting (Linux
  // sync_file_range(SYNC_FILE_RANGE_WRITE)), so that a later sync() has less left to wait for. Guarantees
  // nothing about durability; failures are ignored (sync() reports real I/O errors). Default: nothing.
  virtual void start_writeback(uint64_t offset, uint64_t length) {
    (void)offset;
    (void)length;
  }
  virtual Status truncate(uint64_t size) = 0;
  virtual Result<uint64_t> size() = 0;
  // Frees the descriptor; later calls fail. Destruction closes too (errors then are ignored).
  virtual Status close() = 0;
  // The OS descriptor when there is one (for sendfile/inotify), else -1.
  virtual int native_handle() const { return -1; }
  virtual const std::string& path() const = 0;
};

// A byte range of an open file, for sending without copying (sendfile of segment bytes to a socket). The
// shared_ptr keeps the descriptor open while the range is in use: the owner releasing the file, or the file
// being renamed or unlinked (retention, compaction), leaves the range readable. Only a truncation of the same
// file in place shortens it; whoever sends it must treat a short file as an error.
struct FileSlice {
  std::shared_ptr<File> file;
  uint64_t position = 0;
  uint64_t length = 0;
};

// A held advisory lock; released when destroyed. Locks are per open file description (flock semantics):
// they exclude other processes and other FileLock objects in this process alike.
class FileLock {
 public:
  FileLock() = default;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  virtual ~FileLock() = default;
  // The lock file itself, open read/write (small state may be kept in it while the lock is held). A shared
  // lock on a file this process may not write (read-only mount, no write permission) is taken through a
  // read-only descriptor: then writes to file() fail.
  virtual File& file() = 0;
};

enum class LockMode { kShared, kExclusive };

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  virtual Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) = 0;
  virtual Result<bool> exists(const std::string& path) = 0;
  virtual Result<uint64_t> file_size(const std::string& path) = 0;
  // Names (not paths) of the entries in dir, unsorted, without "." and "..".
  virtual Result<std::vector<std::string>> list_dir(const std::string& dir) = 0;
  // Creates dir and any missing parents; ok if it exists.
  virtual Status create_dirs(const std::string& dir) = 0;
  virtual Status remove_file(const std::string& path) = 0;
  // Removes an empty directory.
  virtual Status remove_dir(const std::string& dir) = 0;
  // Atomically replaces `to` with `from` (rename(2)).
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  // Makes the directory's entries (creations, renames, removals) durable.
  virtual Status sync_dir(const std::string& dir) = 0;
  virtual Result<uint64_t> free_space(const std::string& path) = 0;
  // Takes an advisory lock on path (created if missing). With wait=false returns kBusy if it is held.
  // kShared on a path that cannot be opened for writing falls back to a read-only descriptor (see FileLock);
  // then a missing file is kNotFound (it cannot be created), and no writer can hold a lock on it.
  virtual Result<std::unique_ptr<FileLock>> lock(const std::string& path, LockMode mode, bool wait) = 0;
  // Whether this file system is the real OS one (native handles usable with sendfile/inotify).
  virtual bool is_posix() const { return false; }
};

// The process-wide real file system.
FileSystem* posix_file_system();

// This process's limit on open file descriptors (RLIMIT_NOFILE); 0 when unlimited or unknown.
struct OpenFilesLimit {
  uint64_t soft = 0;
  uint64_t hard = 0;
};
// Raises the soft RLIMIT_NOFILE to the hard limit (every partition holds a few descriptors; the common soft
// default of 1024 is far below what the hard limit allows). Returns the limits now in force.
OpenFilesLimit raise_open_files_limit();
OpenFilesLimit open_files_limit();

// ---- helpers built on the interface

// Writes a small state file atomically: path.tmp, sync, rename over path, sync the directory.
Status write_file_atomically(FileSystem& fs, const std::string& path, ByteSpan contents);
// Reads a whole (small) file.
Result<Bytes> read_file(FileSystem& fs, const std::string& path);
// Removes dir and everything below it.
Status remove_all(FileSystem& fs, const std::string& dir);
// "a/b" + "c" -> "a/b/c".
std::string join_path(const std::string& dir, const std::string& name);
// "a/b/c" -> "a/b" ("." when there is no slash).
std::string parent_path(const std::string& path);

}  // namespace streamctl
