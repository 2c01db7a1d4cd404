// Topic configs: Kafka's names, defaults and validators (org.apache.kafka.storage.internals.log.LogConfig),
// as one table. Each entry parses a string value into LogConfig or says what it expected.
#include "engine/log_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <string_view>

namespace streamctl::engine {
namespace {

constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();
constexpr const char* kLongMaxText = "9223372036854775807";

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Error bad_value(const std::string& name, const std::string& value, const std::string& expected) {
  return Error::invalid_argument("invalid value '" + value + "' for config '" + name + "': expected " + expected);
}

// A whole trimmed string as a signed 64-bit integer (Java's Long.parseLong: optional sign, digits only).
bool parse_int64(std::string_view s, int64_t* out) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool parse_double(std::string_view s, double* out) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool parse_bool(std::string_view s, bool* out) {
  std::string v = lower(trim(s));
  if (v == "true") {
    *out = true;
    return true;
  }
  if (v == "false") {
    *out = false;
    return true;
  }
  return false;
}

// A comma-separated list, entries trimmed; an empty string is an empty list.
std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  s = trim(s);
  if (s.empty()) return out;
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    out.emplace_back(trim(s.substr(start, comma == std::string_view::npos ? s.npos : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

using Apply = std::function<Status(const std::string& value, LogConfig& config)>;

struct Entry {
  ConfigDef def;
  Apply apply;
};

// An integer config stored in `field` that must lie in [min, max].
template <typename Field>
Entry integer(std::string name, std::string default_value, std::string doc, int64_t min, int64_t max,
              std::string expected, Field LogConfig::*field, bool enforced = true) {
  std::string valid = max == kInfinite || max == kIntMax
                          ? "[" + std::to_string(min) + ",...]"
                          : "[" + std::to_string(min) + ",...," + std::to_string(max) + "]";
  Apply apply = [name, min, max, expected, field](const std::string& value, LogConfig& config) -> Status {
    int64_t v;
    if (!parse_int64(value, &v) || v < min || v > max) return bad_value(name, value, expected);
    config.*field = static_cast<Field>(v);
    return Status();
  };
  return Entry{ConfigDef{std::move(name), std::move(default_value), std::move(doc), valid, enforced},
               std::move(apply)};
}

Entry boolean(std::string name, bool default_value, std::string doc, bool LogConfig::*field,
              bool enforced = false) {
  Apply apply = [name, field](const std::string& value, LogConfig& config) -> Status {
    bool v;
    if (!parse_bool(value, &v)) return bad_value(name, value, "true or false");
    if (field != nullptr) config.*field = v;
    return Status();
  };
  return Entry{ConfigDef{std::move(name), default_value ? "true" : "false", std::move(doc), "", enforced},
               std::move(apply)};
}

Entry custom(std::string name, std::string default_value, std::string doc, std::string valid, bool enforced,
             Apply apply) {
  return Entry{ConfigDef{std::move(name), std::move(default_value), std::move(doc), std::move(valid), enforced},
               std::move(apply)};
}

// Kafka's ThrottledReplicaListValidator: "", "*", or "partition:broker" pairs separated by commas.
Status validate_throttled_replicas(const std::string& name, const std::string& value) {
  auto entries = split_list(value);
  if (entries.size() == 1 && entries[0] == "*") return Status();
  for (const auto& e : entries) {
    size_t colon = e.find(':');
    if (colon == std::string::npos || !all_digits(trim(std::string_view(e).substr(0, colon))) ||
        !all_digits(trim(std::string_view(e).substr(colon + 1)))) {
      return bad_value(name, value, "'*' or a comma-separated list of partition:broker pairs (e.g. 0:101,1:102)");
    }
  }
  return Status();
}

std::vector<Entry> build_entries() {
  std::vector<Entry> e;
  const std::string ms = "an integer number of milliseconds";

  e.push_back(
      custom("cleanup.policy", "delete",
             "delete: drop old segments by retention.ms/retention.bytes; compact: keep the latest record per key; "
             "both may be given as compact,delete",
             "[compact, delete]", true, [](const std::string& value, LogConfig& c) -> Status {
               bool compact = false;
               bool del = false;
               auto entries = split_list(value);
               for (const auto& p : entries) {
                 std::string v = lower(p);
                 if (v == "compact") {
                   compact = true;
                 } else if (v == "delete") {
                   del = true;
                 } else {
                   return bad_value("cleanup.policy", value, "delete, compact or compact,delete");
                 }
               }
               if (entries.empty()) return bad_value("cleanup.policy", value, "delete, compact or compact,delete");
               c.cleanup_policy = compact && del ? CleanupPolicy::kCompactDelete
                                                 : (compact ? CleanupPolicy::kCompact : CleanupPolicy::kDelete);
               return Status();
             }));
  e.push_back(custom("compression.gzip.level", "-1", "gzip level for compression.type=gzip", "[1,...,9] or -1",
                     false, [](const std::string& value, LogConfig& c) -> Status {
                       int64_t v;
                       if (!parse_int64(value, &v) || !(v == -1 || (v >= 1 && v <= 9))) {
                         return bad_value("compression.gzip.level", value,
                                          "-1 (codec default) or an integer from 1 to 9");
                       }
                       c.compression_gzip_level = static_cast<int32_t>(v);
                       return Status();
                     }));
  e.push_back(integer("compression.lz4.level", "9", "lz4 level for compression.type=lz4", 1, 17,
                      "an integer from 1 to 17", &LogConfig::compression_lz4_level, false));
  e.push_back(custom(
      "compression.type", "producer",
      "codec of stored batches: producer keeps the producer's codec; uncompressed, gzip, snappy, lz4 and zstd "
      "recompress",
      "[uncompressed, zstd, lz4, snappy, gzip, producer]", true,
      [](const std::string& value, LogConfig& c) -> Status {
        std::string v = lower(trim(value));
        for (const char* ok : {"producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"}) {
          if (v == ok) {
            c.compression_type = v;
            return Status();
          }
        }
        return bad_value("compression.type", value, "one of producer, uncompressed, gzip, snappy, lz4, zstd");
      }));
  e.push_back(integer("compression.zstd.level", "3", "zstd level for compression.type=zstd", -131072, 22,
                      "an integer from -131072 to 22", &LogConfig::compression_zstd_level, false));
  e.push_back(integer("delete.retention.ms", "86400000",
                      "how long tombstones stay readable after compaction (compacted topics)", 0, kInfinite,
                      ms + " >= 0", &LogConfig::delete_retention_ms));
  e.push_back(integer("file.delete.delay.ms", "60000", "delay before a deleted segment's files are removed", 0,
                      kInfinite, ms + " >= 0", &LogConfig::file_delete_delay_ms));
  e.push_back(integer("flush.messages", kLongMaxText,
                      "fsync after this many unflushed records (default: leave flushing to the OS)", 1, kInfinite,
                      "an integer number of records >= 1", &LogConfig::flush_messages));
  e.push_back(integer("flush.ms", kLongMaxText, "fsync when the oldest unflushed append is this old", 0, kInfinite,
                      ms + " >= 0", &LogConfig::flush_ms));
  e.push_back(custom("follower.replication.throttled.replicas", "",
                     "replicas to throttle on the follower side (partition:broker list or *)",
                     "[partitionId]:[brokerId],...", false, [](const std::string& value, LogConfig&) {
                       return validate_throttled_replicas("follower.replication.throttled.replicas", value);
                     }));
  e.push_back(integer("index.interval.bytes", "4096", "bytes of log between two offset-index entries", 0, kIntMax,
                      "an integer number of bytes from 0 to 2147483647", &LogConfig::index_interval_bytes));
  e.push_back(custom("leader.replication.throttled.replicas", "",
                     "replicas to throttle on the leader side (partition:broker list or *)",
                     "[partitionId]:[brokerId],...", false, [](const std::string& value, LogConfig&) {
                       return validate_throttled_replicas("leader.replication.throttled.replicas", value);
                     }));
  e.push_back(custom("local.retention.bytes", "-2", "local bytes kept with tiered storage (-2: retention.bytes)",
                     "[-2,...]", false, [](const std::string& value, LogConfig&) -> Status {
                       int64_t v;
                       if (!parse_int64(value, &v) || v < -2) {
                         return bad_value("local.retention.bytes", value,
                                          "an integer number of bytes >= -2 (-2 follows retention.bytes)");
                       }
                       return Status();
                     }));
  e.push_back(custom("local.retention.ms", "-2", "local time kept with tiered storage (-2: retention.ms)",
                     "[-2,...]", false, [ms](const std::string& value, LogConfig&) -> Status {
                       int64_t v;
                       if (!parse_int64(value, &v) || v < -2) {
                         return bad_value("local.retention.ms", value, ms + " >= -2 (-2 follows retention.ms)");
                       }
                       return Status();
                     }));
  e.push_back(integer("max.compaction.lag.ms", kLongMaxText,
                      "longest time a record may stay uncompacted (compacted topics)", 1, kInfinite, ms + " >= 1",
                      &LogConfig::max_compaction_lag_ms, false));
  e.push_back(integer("max.message.bytes", "1048588", "largest record batch the topic accepts, in bytes", 0,
                      kIntMax, "an integer number of bytes from 0 to 2147483647", &LogConfig::max_message_bytes));
  e.push_back(boolean("message.downconversion.enable", true,
                      "down-convert batches for old fetch versions (only magic 2 is served)", nullptr));
  e.push_back(custom("message.format.version", "3.0-IV1", "deprecated; ignored since Kafka 3.0 (always magic 2)",
                     "[0.8.0, ..., 3.0-IV1]", false, [](const std::string& value, LogConfig&) -> Status {
                       // "2.8", "0.10.2", "3.0-IV1": dotted numbers, optional -IV<n>.
                       std::string_view v = trim(value);
                       size_t dash = v.find("-IV");
                       std::string_view dotted = v.substr(0, dash);
                       bool ok = !dotted.empty() && dotted.front() != '.' && dotted.back() != '.' &&
                                 dotted.find("..") == dotted.npos && dotted.find('.') != dotted.npos &&
                                 std::all_of(dotted.begin(), dotted.end(),
                                             [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
                       if (ok && dash != std::string_view::npos) ok = all_digits(v.substr(dash + 3));
                       if (!ok)
                         return bad_value("message.format.version", value, "a Kafka version such as 3.0-IV1");
                       return Status();
                     }));
  e.push_back(integer("message.timestamp.after.max.ms", kLongMaxText,
                      "how far a record's CreateTime may be ahead of the broker's clock", 0, kInfinite,
                      ms + " >= 0", &LogConfig::message_timestamp_after_max_ms, false));
  e.push_back(integer("message.timestamp.before.max.ms", kLongMaxText,
                      "how far a record's CreateTime may be behind the broker's clock", 0, kInfinite, ms + " >= 0",
                      &LogConfig::message_timestamp_before_max_ms, false));
  e.push_back(custom("message.timestamp.difference.max.ms", kLongMaxText,
                     "deprecated: sets message.timestamp.before.max.ms and .after.max.ms when they are not set",
                     "[0,...]", false, [ms](const std::string& value, LogConfig&) -> Status {
                       int64_t v;
                       if (!parse_int64(value, &v) || v < 0) {
                         return bad_value("message.timestamp.difference.max.ms", value, ms + " >= 0");
                       }
                       return Status();  // applied after all overrides (see from_overrides)
                     }));
  e.push_back(custom("message.timestamp.type", "CreateTime",
                     "CreateTime keeps the producer's timestamps; LogAppendTime stamps records on append",
                     "[CreateTime, LogAppendTime]", true, [](const std::string& value, LogConfig& c) -> Status {
                       std::string v = lower(trim(value));
                       if (v == "createtime") {
                         c.message_timestamp_type = TimestampType::kCreateTime;
                       } else if (v == "logappendtime") {
                         c.message_timestamp_type = TimestampType::kLogAppendTime;
                       } else {
                         return bad_value("message.timestamp.type", value, "CreateTime or LogAppendTime");
                       }
                       return Status();
                     }));
  e.push_back(custom("min.cleanable.dirty.ratio", "0.5",
                     "share of the log that must be uncompacted before compaction runs", "[0,...,1]", false,
                     [](const std::string& value, LogConfig& c) -> Status {
                       double v;
                       if (!parse_double(value, &v) || !(v >= 0.0 && v <= 1.0)) {
                         return bad_value("min.cleanable.dirty.ratio", value, "a number from 0 to 1");
                       }
                       c.min_cleanable_dirty_ratio = v;
                       return Status();
                     }));
  e.push_back(integer("min.compaction.lag.ms", "0", "shortest time a record stays uncompacted", 0, kInfinite,
                      ms + " >= 0", &LogConfig::min_compaction_lag_ms));
  e.push_back(integer("min.insync.replicas", "1", "replicas that must acknowledge an acks=all produce", 1, kIntMax,
                      "an integer number of replicas from 1 to 2147483647", &LogConfig::min_insync_replicas));
  e.push_back(
      boolean("preallocate", false, "preallocate segment files to segment.bytes", &LogConfig::preallocate));
  e.push_back(custom("remote.storage.enable", "false", "tiered storage (not available in streamctl)", "", false,
                     [](const std::string& value, LogConfig&) -> Status {
                       bool v;
                       if (!parse_bool(value, &v))
                         return bad_value("remote.storage.enable", value, "true or false");
                       if (v) {
                         return Error::invalid_argument(
                             "config 'remote.storage.enable' cannot be true: streamctl has no tiered storage; "
                             "leave it false");
                       }
                       return Status();
                     }));
  e.push_back(integer("retention.bytes", "-1",
                      "largest size a partition may grow to before old segments are deleted (-1: no limit)",
                      std::numeric_limits<int64_t>::min(), kInfinite,
                      "an integer number of bytes (-1 for unlimited)", &LogConfig::retention_bytes));
  e.back().def.valid_values = "";  // any long, as in Kafka (negative = no limit)
  e.push_back(integer("retention.ms", "604800000",
                      "how long a segment is kept after its newest record (-1: forever)", -1, kInfinite,
                      ms + " (-1 for unlimited)", &LogConfig::retention_ms));
  e.push_back(integer("segment.bytes", "1073741824", "size at which the active segment is rolled", 14, kIntMax,
                      "an integer number of bytes from 14 to 2147483647", &LogConfig::segment_bytes));
  e.push_back(integer("segment.index.bytes", "10485760", "maximum size of a segment's offset index", 4, kIntMax,
                      "an integer number of bytes from 4 to 2147483647", &LogConfig::segment_index_bytes));
  e.push_back(integer("segment.jitter.ms", "0", "random delay subtracted from segment.ms per segment", 0,
                      kInfinite, ms + " >= 0", &LogConfig::segment_jitter_ms, false));
  e.push_back(integer("segment.ms", "604800000", "age at which the active segment is rolled", 1, kInfinite,
                      ms + " >= 1", &LogConfig::segment_ms));
  e.push_back(boolean("unclean.leader.election.enable", false,
                      "let an out-of-sync replica become leader (may lose data)",
                      &LogConfig::unclean_leader_election_enable));

  std::sort(e.begin(), e.end(), [](const Entry& a, const Entry& b) { return a.def.name < b.def.name; });
  return e;
}

const std::vector<Entry>& entries() {
  static const std::vector<Entry> table = build_entries();
  return table;
}

const Entry* find_entry(const std::string& name) {
  const auto& table = entries();
  auto it = std::lower_bound(table.begin(), table.end(), name,
                             [](const Entry& e, const std::string& n) { return e.def.name < n; });
  if (it == table.end() || it->def.name != name) return nullptr;
  return &*it;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1);
  std::vector<size_t> cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

Error unknown_config(const std::string& name) {
  // Broker-level names ("log.retention.ms") map to the topic-level name without the "log." prefix.
  std::string key = lower(trim(name));
  if (key.rfind("log.", 0) == 0 && find_entry(key.substr(4)) != nullptr) key = key.substr(4);
  if (find_entry(key) != nullptr) {
    return Error::invalid_argument("unknown topic config '" + name + "' (did you mean '" + key + "'?)");
  }
  const Entry* best = nullptr;
  size_t best_distance = std::string::npos;
  for (const auto& e : entries()) {
    size_t d = edit_distance(key, e.def.name);
    if (d < best_distance) {
      best_distance = d;
      best = &e;
    }
  }
  size_t allowed = std::max<size_t>(2, key.size() / 4);
  if (best != nullptr && best_distance <= allowed) {
    return Error::invalid_argument("unknown topic config '" + name + "' (did you mean '" + best->def.name + "'?)");
  }
  std::string known;
  for (const auto& e : entries()) known += (known.empty() ? "" : ", ") + e.def.name;
  return Error::invalid_argument("unknown topic config '" + name + "'; topic configs are: " + known);
}

}  // namespace

const char* cleanup_policy_name(CleanupPolicy policy) {
  switch (policy) {
    case CleanupPolicy::kDelete: return "delete";
    case CleanupPolicy::kCompact: return "compact";
    case CleanupPolicy::kCompactDelete: return "compact,delete";
  }
  return "delete";
}

Result<LogConfig> LogConfig::from_overrides(const std::map<std::string, std::string>& overrides) {
  LogConfig config;
  for (const auto& [name, value] : overrides) {
    const Entry* entry = find_entry(name);
    if (entry == nullptr) return unknown_config(name);
    STREAMCTL_TRY(entry->apply(value, config));
  }
  // Kafka 3.6+: the deprecated difference applies to whichever of before/after is left at its default.
  auto diff = overrides.find("message.timestamp.difference.max.ms");
  if (diff != overrides.end()) {
    int64_t v = 0;
    if (parse_int64(diff->second, &v)) {
      if (config.message_timestamp_before_max_ms == kInfinite) config.message_timestamp_before_max_ms = v;
      if (config.message_timestamp_after_max_ms == kInfinite) config.message_timestamp_after_max_ms = v;
    }
  }
  if (config.min_compaction_lag_ms > config.max_compaction_lag_ms) {
    return Error::invalid_argument("conflicting topic configs: min.compaction.lag.ms (" +
                                   std::to_string(config.min_compaction_lag_ms) + ") > max.compaction.lag.ms (" +
                                   std::to_string(config.max_compaction_lag_ms) +
                                   "); lower the first or raise "
                                   "the second");
  }
  return config;
}

const std::vector<ConfigDef>& topic_config_defs() {
  static const std::vector<ConfigDef> defs = [] {
    std::vector<ConfigDef> out;
    for (const auto& e : entries()) out.push_back(e.def);
    return out;
  }();
  return defs;
}

const ConfigDef* find_topic_config(const std::string& name) {
  const Entry* e = find_entry(name);
  return e == nullptr ? nullptr : &e->def;
}

Status validate_topic_config(const std::string& name, const std::string& value) {
  const Entry* entry = find_entry(name);
  if (entry == nullptr) return unknown_config(name);
  LogConfig scratch;
  return entry->apply(value, scratch);
}

}  // namespace streamctl::engine
