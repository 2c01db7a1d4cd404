// LogManager: owns a data directory: its topics (metadata + configs), their partition Logs, and the
// GroupStore. The one object the CLI's embedded backend and the server hold.
//
// Data directory tree (see engine/README.md):
//   <data>/<topic>-<partition>/...     one Log per partition (engine/log.h)
//   <data>/__meta/topics/<topic>.json  topic metadata: id, partition count, config overrides (atomic writes)
//   <data>/__meta/groups/...           committed consumer-group offsets (engine/group_store.h)
// Several processes may open the same data directory: topic changes take <data>/__meta/topics.lock, and
// metadata is re-read from disk when asked for (another process may have created or altered a topic).
// Thread-safety: thread-safe.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/fs.h"
#include "engine/log.h"
#include "engine/log_config.h"
#include "engine/result.h"

namespace streamctl::engine {

class GroupStore;

struct LogManagerOptions {
  std::string data_dir;
  FileSystem* fs = nullptr;  // default: posix_file_system(); not owned
  Clock* clock = nullptr;    // default: system_clock(); not owned
  bool create_if_missing = true;
};

struct TopicMetadata {
  std::string name;
  std::string topic_id;        // 22-char base64url UUID, as Kafka prints topic ids
  int32_t partitions = 0;
  std::map<std::string, std::string> overrides;  // config overrides only; defaults come from LogConfig
  int64_t created_ms = 0;
};

class LogManager {
 public:
  static Result<std::unique_ptr<LogManager>> open(const LogManagerOptions& options);
  LogManager(const LogManager&) = delete;
  LogManager& operator=(const LogManager&) = delete;
  ~LogManager();

  // Kafka's name rules: [a-zA-Z0-9._-]{1,249}, not "." or "..". kInvalidArgument with the rule otherwise.
  static Status validate_topic_name(const std::string& name);

  // Creates a topic with `partitions` (>= 1) partitions and config overrides (validated).
  // kAlreadyExists if it exists.
  Result<TopicMetadata> create_topic(const std::string& name, int32_t partitions,
                                     const std::map<std::string, std::string>& overrides);
  // Deletes the topic's metadata and partition directories. kNotFound if missing.
  Status delete_topic(const std::string& name);
  // Sorted topic names.
  Result<std::vector<std::string>> list_topics();
  // Metadata as currently on disk. kNotFound naming the topic when missing.
  Result<TopicMetadata> describe_topic(const std::string& name);
  // Grows the topic to `total_partitions` (must be larger than now).
  Status add_partitions(const std::string& name, int32_t total_partitions);
  // Sets and removes config overrides (validated as a whole before anything is written).
  Status alter_configs(const std::string& name, const std::map<std::string, std::string>& set,
                       const std::vector<std::string>& remove);
  // The parsed config of a topic (defaults + overrides).
  Result<LogConfig> topic_config(const std::string& name);

  // The partition's Log, opened (and recovered) on first use and cached. kNotFound for an unknown topic or
  // partition. The pointer stays valid until the topic is deleted or the manager destroyed.
  Result<Log*> log(const std::string& topic, PartitionId partition);

  GroupStore& groups();

  // Retention (and compaction for compact topics) over every open or on-disk partition.
  Status run_retention();
  // fsyncs every open log.
  Status flush_all();

  const std::string& data_dir() const;
  FileSystem& fs() const;
  Clock& clock() const;

 private:
  LogManager() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamctl::engine
