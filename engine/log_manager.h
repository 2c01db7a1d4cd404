// LogManager: owns a data directory: its topics (metadata + configs), their partition Logs, and the
// GroupStore. The one object the CLI's embedded backend and the server hold.
//
// Data directory tree (see engine/README.md):
//   <data>/<topic>-<partition>/...     one Log per partition (engine/log.h), plus Kafka's `partition.metadata`
//                                      ("version: 0\ntopic_id: <id>\n") naming the topic id that owns it
//   <data>/__meta/topics/<topic>.json  topic metadata: id, partition count, config overrides (atomic writes)
//   <data>/__meta/topics.lock          advisory lock held while a topic is created, deleted or altered
//   <data>/__meta/groups/...           committed consumer-group offsets (engine/group_store.h)
// Several processes may open the same data directory at once (no data-directory lock is taken, by design):
// topic changes take <data>/__meta/topics.lock, and metadata is re-read from disk when asked for (another
// process may have created, altered or deleted a topic). Thread-safety: thread-safe.
//
// Durability and crash safety: the metadata file is the commit point. create/add_partitions make the
// partition directories (with partition.metadata) durable first, then write the metadata atomically;
// delete removes the metadata durably first, then the directories. A crash in between leaves directories
// that no metadata claims; they are never read as part of a topic, are removed when a topic of that name is
// created again, and are swept by run_retention() (only directories whose partition.metadata proves they are
// ours; anything else in the data directory is never deleted).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/fs.h"
#include "engine/log.h"
#include "engine/log_config.h"
#include "base/result.h"

namespace streamctl::engine {

class GroupStore;

struct LogManagerOptions {
  std::string data_dir;
  FileSystem* fs = nullptr;  // default: posix_file_system(); not owned
  Clock* clock = nullptr;    // default: system_clock(); not owned
  bool create_if_missing = true;
  // How long log() may trust a topic's cached metadata (partition count, id, configs) before re-reading it
  // from disk, in monotonic ms. 0 (default) re-reads on every call, which is right when several processes
  // share the directory; a server that owns its directory may raise it.
  int64_t metadata_max_age_ms = 0;
};

struct TopicMetadata {
  std::string name;
  std::string topic_id;  // 22-char base64url UUID, as Kafka prints topic ids
  int32_t partitions = 0;
  std::map<std::string, std::string> overrides;  // config overrides only; defaults come from LogConfig
  int64_t created_ms = 0;
};

class LogManager {
 public:
  // Largest partition count accepted (each partition is a directory; Kafka has no hard limit).
  static constexpr int32_t kMaxPartitions = 100000;

  // Opens the data directory (creating it when create_if_missing; kNotFound otherwise). Nothing inside it is
  // created or read until needed, so a read-only directory can be opened for reading.
  static Result<std::unique_ptr<LogManager>> open(const LogManagerOptions& options);
  LogManager(const LogManager&) = delete;
  LogManager& operator=(const LogManager&) = delete;
  ~LogManager();

  // Kafka's name rules: [a-zA-Z0-9._-]{1,249}, not "." or "..". kInvalidArgument with the rule otherwise.
  static Status validate_topic_name(const std::string& name);
  // A new random topic id: 16 bytes (UUID v4 bits), base64url without padding (22 chars), never starting
  // with '-' (Kafka's Uuid.randomUuid rule, so ids are safe as command-line arguments).
  static std::string new_topic_id();

  // Creates a topic with `partitions` (1..kMaxPartitions) partitions and config overrides (validated; the
  // config error is returned as is). kAlreadyExists if it exists; kInvalidArgument if the name collides with
  // an existing topic's by '.' versus '_' (Kafka's rule: "a.b" and "a_b" clash in metric names).
  Result<TopicMetadata> create_topic(const std::string& name, int32_t partitions,
                                     const std::map<std::string, std::string>& overrides);
  // Deletes the topic's metadata and partition directories, and (best effort, as Kafka does) the topic's
  // committed offsets in every group, so a topic re-created under the name starts clean. kNotFound if
  // missing. Log pointers of the topic handed out by this manager stay valid but refer to a closed Log.
  Status delete_topic(const std::string& name);
  // Sorted topic names.
  Result<std::vector<std::string>> list_topics();
  // Metadata as currently on disk. kNotFound naming the topic when missing.
  Result<TopicMetadata> describe_topic(const std::string& name);
  // Grows the topic to `total_partitions` (must be larger than now).
  Status add_partitions(const std::string& name, int32_t total_partitions);
  // Sets and removes config overrides (validated as a whole before anything is written). Removing a config
  // that is not overridden is a no-op; an unknown name is kInvalidArgument. Open Logs of the topic in this
  // process get the new config at once; other processes' on their next log() call.
  Status alter_configs(const std::string& name, const std::map<std::string, std::string>& set,
                       const std::vector<std::string>& remove);
  // The parsed config of a topic (defaults + overrides).
  Result<LogConfig> topic_config(const std::string& name);

  // The partition's Log, opened (and recovered) on first use and cached. kNotFound for an unknown topic or
  // partition. The pointer stays valid until the manager is destroyed; after the topic is deleted (or deleted
  // and re-created by another process) it refers to a closed Log and log() returns a new one.
  Result<Log*> log(const std::string& topic, PartitionId partition);

  GroupStore& groups();

  // Retention (and compaction for compact topics) over every partition of every topic on disk (opening the
  // Logs not open yet), then a sweep of partition directories left behind by interrupted deletes. Keeps
  // going after a failure and returns the first one (with a count of the others).
  Status run_retention();
  // fsyncs every open log.
  Status flush_all();

  const std::string& data_dir() const;
  // <data>/<topic>-<partition>.
  std::string partition_dir(const std::string& topic, PartitionId partition) const;
  FileSystem& fs() const;
  Clock& clock() const;

 private:
  LogManager() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamctl::engine
