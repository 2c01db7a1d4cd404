// LogConfig: the per-topic settings the log obeys, with Kafka's names and defaults.
//
// Topic configs are kept as Kafka-named string overrides (e.g. {"retention.ms": "3600000"}); LogConfig is
// their parsed, validated form. Anything not overridden takes the Kafka default below. Values are plain.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "engine/record_batch.h"
#include "engine/result.h"
#include "engine/types.h"

namespace streamctl::engine {

inline constexpr int64_t kInfinite = std::numeric_limits<int64_t>::max();

enum class CleanupPolicy { kDelete, kCompact, kCompactDelete };

struct LogConfig {
  int64_t segment_bytes = 1073741824;          // segment.bytes
  int64_t segment_ms = 604800000;              // segment.ms (7 days)
  int64_t segment_index_bytes = 10485760;      // segment.index.bytes
  int64_t index_interval_bytes = 4096;         // index.interval.bytes
  int64_t retention_ms = 604800000;            // retention.ms (-1 = forever)
  int64_t retention_bytes = -1;                // retention.bytes (-1 = no limit), per partition
  CleanupPolicy cleanup_policy = CleanupPolicy::kDelete;  // cleanup.policy: delete | compact | compact,delete
  int64_t delete_retention_ms = 86400000;      // delete.retention.ms: tombstones kept this long after compaction
  int64_t min_compaction_lag_ms = 0;           // min.compaction.lag.ms
  int64_t max_message_bytes = 1048588;         // max.message.bytes (largest batch accepted)
  TimestampType message_timestamp_type = TimestampType::kCreateTime;  // message.timestamp.type
  int64_t flush_messages = kInfinite;          // flush.messages: fsync after this many unflushed records
  int64_t flush_ms = kInfinite;                // flush.ms: fsync when the oldest unflushed append is this old
  int32_t min_insync_replicas = 1;             // min.insync.replicas
  std::string compression_type = "producer";   // compression.type: producer|uncompressed|gzip|snappy|lz4|zstd
  int64_t file_delete_delay_ms = 60000;        // file.delete.delay.ms

  // Parses Kafka-named overrides on top of the defaults. Unknown names and bad values are
  // kInvalidArgument naming the key, the value and what is allowed.
  static Result<LogConfig> from_overrides(const std::map<std::string, std::string>& overrides);
};

// One config name the project knows, with its default as Kafka prints it and a one-line description.
struct ConfigDef {
  std::string name;
  std::string default_value;
  std::string doc;
};

// Every topic-level config name accepted by from_overrides, sorted by name.
const std::vector<ConfigDef>& topic_config_defs();
// Validates one name=value pair (same rules as from_overrides).
Status validate_topic_config(const std::string& name, const std::string& value);

}  // namespace streamctl::engine
