// StateFile: a private offsets file for `streamctl consume --state-file PATH`, so a cron job reads
// "everything since the last run" without a consumer group.
//
// PATH holds one JSON object, rewritten atomically on every commit (PATH.tmp, fsync, rename, fsync dir):
//   {"version": 1, "updated_ms": <ms since epoch>,
//    "offsets": {"<topic>": {"<partition>": <next offset to consume>, ...}, ...}}
// Offsets are "next offset to consume", like Kafka's committed offsets. A missing PATH is an empty state (the
// first run starts at `-o`). While open, the StateFile holds an exclusive flock on PATH.lock, so two runs of the
// same job cannot both read the same position and emit the same records twice: the second one fails at once
// (kBusy) instead of waiting. Thread-safety: thread-compatible. Copy is forbidden (it holds the lock).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/fs.h"
#include "base/result.h"
#include "kafka/format/types.h"

namespace streamctl::cli {

class StateFile {
 public:
  // Locks PATH.lock (kBusy naming PATH when another process holds it) and loads PATH. A PATH that is not a
  // valid state file is kCorruption naming it (never silently reset: that would re-emit everything).
  // `fs` and `clock` are not owned and must outlive the StateFile.
  static Result<std::unique_ptr<StateFile>> open(FileSystem* fs, Clock* clock,
                                                         const std::string& path);
  StateFile(const StateFile&) = delete;
  StateFile& operator=(const StateFile&) = delete;

  // The stored next offset of a partition, if any.
  std::optional<Offset> position(const TopicPartition& tp) const;
  // Merges `positions` into the state and writes PATH atomically; durable when it returns.
  Status commit(const std::map<TopicPartition, Offset>& positions);

  const std::map<TopicPartition, Offset>& positions() const { return positions_; }
  const std::string& path() const { return path_; }

  // Serialization, exposed for tests and `--json` tooling.
  static std::string encode(const std::map<TopicPartition, Offset>& positions,
                            int64_t updated_ms);
  static Result<std::map<TopicPartition, Offset>> decode(const std::string& text,
                                                                                 const std::string& path);

 private:
  StateFile(FileSystem* fs, Clock* clock, std::string path,
            std::unique_ptr<FileLock> lock)
      : fs_(fs), clock_(clock), path_(std::move(path)), lock_(std::move(lock)) {}

  FileSystem* fs_;
  Clock* clock_;
  std::string path_;
  std::unique_ptr<FileLock> lock_;
  std::map<TopicPartition, Offset> positions_;
};

}  // namespace streamctl::cli
