// LogConfig: the per-topic settings the log obeys, with Kafka's names and defaults.
//
// Topic configs are kept as Kafka-named string overrides (e.g. {"retention.ms": "3600000"}) in the topic's
// metadata file (engine/log_manager.h); LogConfig is their parsed, validated form. Anything not overridden
// takes the Kafka default below. Validation follows Kafka's LogConfig (types, ranges, allowed values, and
// min.compaction.lag.ms <= max.compaction.lag.ms). Values are plain; the config table is immutable, so every
// function here is thread-safe. Nothing here touches the disk.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "kafka/format/record_batch.h"
#include "base/result.h"
#include "kafka/format/types.h"

namespace streamctl::engine {

inline constexpr int64_t kInfinite = std::numeric_limits<int64_t>::max();

enum class CleanupPolicy { kDelete, kCompact, kCompactDelete };

// "delete", "compact", "compact,delete" (as Kafka prints cleanup.policy).
const char* cleanup_policy_name(CleanupPolicy policy);

struct LogConfig {
  int64_t segment_bytes = 1073741824;                     // segment.bytes
  int64_t segment_ms = 604800000;                         // segment.ms (7 days)
  int64_t segment_index_bytes = 10485760;                 // segment.index.bytes
  int64_t index_interval_bytes = 4096;                    // index.interval.bytes
  int64_t retention_ms = 604800000;                       // retention.ms (-1 = forever)
  int64_t retention_bytes = -1;                           // retention.bytes (-1 = no limit), per partition
  CleanupPolicy cleanup_policy = CleanupPolicy::kDelete;  // cleanup.policy: delete | compact | compact,delete
  int64_t delete_retention_ms = 86400000;  // delete.retention.ms: tombstones kept this long after compaction
  int64_t min_compaction_lag_ms = 0;       // min.compaction.lag.ms
  int64_t max_message_bytes = 1048588;     // max.message.bytes (largest batch accepted)
  TimestampType message_timestamp_type = TimestampType::kCreateTime;  // message.timestamp.type
  int64_t flush_messages = kInfinite;         // flush.messages: fsync after this many unflushed records
  int64_t flush_ms = kInfinite;               // flush.ms: fsync when the oldest unflushed append is this old
  int32_t min_insync_replicas = 1;            // min.insync.replicas
  std::string compression_type = "producer";  // compression.type: producer|uncompressed|gzip|snappy|lz4|zstd
  int64_t file_delete_delay_ms = 60000;       // file.delete.delay.ms

  // Accepted, validated and kept so Kafka tooling and scripts work unchanged; available to the layers that
  // may act on them (ConfigDef::enforced says which ones the engine acts on today).
  int64_t segment_jitter_ms = 0;              // segment.jitter.ms
  int64_t max_compaction_lag_ms = kInfinite;  // max.compaction.lag.ms
  double min_cleanable_dirty_ratio = 0.5;     // min.cleanable.dirty.ratio, 0..1
  // message.timestamp.before/after.max.ms; when left at the default they take the deprecated
  // message.timestamp.difference.max.ms, as in Kafka 3.6+.
  int64_t message_timestamp_before_max_ms = kInfinite;
  int64_t message_timestamp_after_max_ms = kInfinite;
  int32_t compression_gzip_level = -1;          // compression.gzip.level: -1 (codec default) or 1..9
  int32_t compression_lz4_level = 9;            // compression.lz4.level: 1..17
  int32_t compression_zstd_level = 3;           // compression.zstd.level: -131072..22
  bool preallocate = false;                     // preallocate
  bool unclean_leader_election_enable = false;  // unclean.leader.election.enable

  // Whether cleanup.policy includes compact / delete.
  bool compacts() const { return cleanup_policy != CleanupPolicy::kDelete; }
  bool deletes() const { return cleanup_policy != CleanupPolicy::kCompact; }

  // Parses Kafka-named overrides on top of the defaults. Unknown names and bad values are
  // kInvalidArgument naming the key, the value and what is allowed, e.g.
  //   invalid value 'abc' for config 'retention.ms': expected an integer number of milliseconds (-1 for unlimited)
  //   unknown topic config 'retention.msx' (did you mean 'retention.ms'?)
  // Values are trimmed of surrounding whitespace; booleans and enum names are case-insensitive.
  static Result<LogConfig> from_overrides(const std::map<std::string, std::string>& overrides);
};

// One config name the project knows, with its default as Kafka prints it and a one-line description.
struct ConfigDef {
  std::string name;
  std::string default_value;
  std::string doc;
  std::string valid_values;  // as Kafka's docs print them, e.g. "[14,...]" or "[delete, compact]"
  bool enforced = true;      // false: accepted and stored for compatibility, not acted on by the engine
};

// Every topic-level config name accepted by from_overrides, sorted by name.
const std::vector<ConfigDef>& topic_config_defs();
// The definition of one name, or nullptr when it is not a topic config.
const ConfigDef* find_topic_config(const std::string& name);
// Validates one name=value pair (same rules as from_overrides, except the cross-config
// min.compaction.lag.ms <= max.compaction.lag.ms check, which needs both).
Status validate_topic_config(const std::string& name, const std::string& value);

}  // namespace streamctl::engine
