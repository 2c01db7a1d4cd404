#include "engine/log_config.h"

#include <doctest/doctest.h>

#include <set>

using namespace streamctl;
using namespace streamctl::engine;

namespace {

LogConfig parse_ok(const std::map<std::string, std::string>& overrides) {
  auto c = LogConfig::from_overrides(overrides);
  REQUIRE_MESSAGE(c.ok(), c.error().to_string());
  return *c;
}

std::string parse_error(const std::map<std::string, std::string>& overrides) {
  auto c = LogConfig::from_overrides(overrides);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().code == ErrorCode::kInvalidArgument);
  return c.error().message;
}

bool accepted(const std::string& name, const std::string& value) {
  bool one = validate_topic_config(name, value).ok();
  bool all = LogConfig::from_overrides({{name, value}}).ok();
  CHECK(one == all);
  return one;
}

}  // namespace

TEST_CASE("DefaultsAreKafkas") {
  LogConfig c = parse_ok({});
  CHECK(c.segment_bytes == 1073741824);
  CHECK(c.segment_ms == 604800000);
  CHECK(c.retention_ms == 604800000);
  CHECK(c.retention_bytes == -1);
  CHECK(c.cleanup_policy == CleanupPolicy::kDelete);
  CHECK(c.max_message_bytes == 1048588);
  CHECK(c.flush_messages == kInfinite);
  CHECK(c.flush_ms == kInfinite);
  CHECK(c.min_insync_replicas == 1);
  CHECK(c.compression_type == "producer");
  CHECK(c.message_timestamp_type == TimestampType::kCreateTime);
  CHECK(c.min_cleanable_dirty_ratio == 0.5);
  CHECK(c.max_compaction_lag_ms == kInfinite);
  CHECK_FALSE(c.unclean_leader_election_enable);
}

TEST_CASE("EveryPrintedDefaultParsesToTheBuiltInDefault") {
  const LogConfig defaults;
  for (const auto& def : topic_config_defs()) {
    CAPTURE(def.name);
    CHECK_FALSE(def.doc.empty());
    LogConfig c = parse_ok({{def.name, def.default_value}});
    CHECK(c.segment_bytes == defaults.segment_bytes);
    CHECK(c.segment_ms == defaults.segment_ms);
    CHECK(c.segment_index_bytes == defaults.segment_index_bytes);
    CHECK(c.index_interval_bytes == defaults.index_interval_bytes);
    CHECK(c.retention_ms == defaults.retention_ms);
    CHECK(c.retention_bytes == defaults.retention_bytes);
    CHECK(c.cleanup_policy == defaults.cleanup_policy);
    CHECK(c.delete_retention_ms == defaults.delete_retention_ms);
    CHECK(c.min_compaction_lag_ms == defaults.min_compaction_lag_ms);
    CHECK(c.max_message_bytes == defaults.max_message_bytes);
    CHECK(c.message_timestamp_type == defaults.message_timestamp_type);
    CHECK(c.flush_messages == defaults.flush_messages);
    CHECK(c.flush_ms == defaults.flush_ms);
    CHECK(c.min_insync_replicas == defaults.min_insync_replicas);
    CHECK(c.compression_type == defaults.compression_type);
    CHECK(c.file_delete_delay_ms == defaults.file_delete_delay_ms);
    CHECK(c.segment_jitter_ms == defaults.segment_jitter_ms);
    CHECK(c.max_compaction_lag_ms == defaults.max_compaction_lag_ms);
    CHECK(c.min_cleanable_dirty_ratio == defaults.min_cleanable_dirty_ratio);
    CHECK(c.message_timestamp_before_max_ms == defaults.message_timestamp_before_max_ms);
    CHECK(c.message_timestamp_after_max_ms == defaults.message_timestamp_after_max_ms);
    CHECK(c.compression_gzip_level == defaults.compression_gzip_level);
    CHECK(c.compression_lz4_level == defaults.compression_lz4_level);
    CHECK(c.compression_zstd_level == defaults.compression_zstd_level);
    CHECK(c.preallocate == defaults.preallocate);
    CHECK(c.unclean_leader_election_enable == defaults.unclean_leader_election_enable);
  }
}

TEST_CASE("ConfigDefsAreSortedUniqueAndFindable") {
  const auto& defs = topic_config_defs();
  REQUIRE(defs.size() >= 30);
  std::set<std::string> seen;
  for (size_t i = 0; i < defs.size(); ++i) {
    if (i > 0) CHECK(defs[i - 1].name < defs[i].name);
    CHECK(seen.insert(defs[i].name).second);
    const ConfigDef* found = find_topic_config(defs[i].name);
    REQUIRE(found != nullptr);
    CHECK(found->default_value == defs[i].default_value);
  }
  CHECK(find_topic_config("retention.msx") == nullptr);
  for (const char* name : {"retention.ms", "segment.bytes", "cleanup.policy", "max.message.bytes"}) {
    REQUIRE(find_topic_config(name) != nullptr);
    CHECK(find_topic_config(name)->enforced);
  }
  CHECK_FALSE(find_topic_config("segment.jitter.ms")->enforced);
  CHECK(find_topic_config("segment.bytes")->valid_values == "[14,...]");
}

TEST_CASE("OverridesReplaceTheDefaults") {
  LogConfig c = parse_ok({{"retention.ms", "3600000"},
                          {"retention.bytes", "1048576"},
                          {"segment.bytes", " 1024 "},
                          {"cleanup.policy", "compact"},
                          {"compression.type", "ZSTD"},
                          {"message.timestamp.type", "LogAppendTime"},
                          {"flush.messages", "+1"},
                          {"min.insync.replicas", "2"},
                          {"unclean.leader.election.enable", "TRUE"},
                          {"min.cleanable.dirty.ratio", "0.25"}});
  CHECK(c.retention_ms == 3600000);
  CHECK(c.retention_bytes == 1048576);
  CHECK(c.segment_bytes == 1024);
  CHECK(c.cleanup_policy == CleanupPolicy::kCompact);
  CHECK(c.compacts());
  CHECK_FALSE(c.deletes());
  CHECK(c.compression_type == "zstd");
  CHECK(c.message_timestamp_type == TimestampType::kLogAppendTime);
  CHECK(c.flush_messages == 1);
  CHECK(c.min_insync_replicas == 2);
  CHECK(c.unclean_leader_election_enable);
  CHECK(c.min_cleanable_dirty_ratio == 0.25);
}

TEST_CASE("CleanupPolicyAcceptsBothOrdersAndRejectsOthers") {
  CHECK(parse_ok({{"cleanup.policy", "compact,delete"}}).cleanup_policy == CleanupPolicy::kCompactDelete);
  CHECK(parse_ok({{"cleanup.policy", " delete , compact "}}).cleanup_policy == CleanupPolicy::kCompactDelete);
  CHECK(parse_ok({{"cleanup.policy", "delete"}}).cleanup_policy == CleanupPolicy::kDelete);
  CHECK(parse_error({{"cleanup.policy", "archive"}}) ==
        "invalid value 'archive' for config 'cleanup.policy': expected delete, compact or compact,delete");
  CHECK_FALSE(accepted("cleanup.policy", ""));
  CHECK(std::string(cleanup_policy_name(CleanupPolicy::kCompactDelete)) == "compact,delete");
}

TEST_CASE("AnInvalidNumberNamesTheValueTheConfigAndWhatIsExpected") {
  CHECK(parse_error({{"retention.ms", "abc"}}) ==
        "invalid value 'abc' for config 'retention.ms': expected an integer number of milliseconds (-1 for "
        "unlimited)");
  CHECK(
      parse_error({{"segment.bytes", "1e6"}}) ==
      "invalid value '1e6' for config 'segment.bytes': expected an integer number of bytes from 14 to 2147483647");
  CHECK_FALSE(accepted("retention.ms", ""));
  CHECK_FALSE(accepted("retention.ms", "12 34"));
  CHECK_FALSE(accepted("retention.ms", "99999999999999999999"));  // overflows a long
}

TEST_CASE("RangesFollowKafkasValidators") {
  CHECK_FALSE(accepted("segment.bytes", "13"));
  CHECK(accepted("segment.bytes", "14"));
  CHECK(accepted("segment.bytes", "2147483647"));
  CHECK_FALSE(accepted("segment.bytes", "2147483648"));  // an INT in Kafka
  CHECK_FALSE(accepted("max.message.bytes", "-1"));
  CHECK(accepted("max.message.bytes", "0"));
  CHECK_FALSE(accepted("retention.ms", "-2"));
  CHECK(accepted("retention.ms", "-1"));
  CHECK(accepted("retention.bytes", "-5"));  // any long: negative means no limit
  CHECK_FALSE(accepted("segment.ms", "0"));
  CHECK(accepted("segment.ms", "1"));
  CHECK_FALSE(accepted("flush.messages", "0"));
  CHECK(accepted("flush.ms", "0"));
  CHECK_FALSE(accepted("min.insync.replicas", "0"));
  CHECK_FALSE(accepted("segment.index.bytes", "3"));
  CHECK(accepted("index.interval.bytes", "0"));
  CHECK_FALSE(accepted("delete.retention.ms", "-1"));
  CHECK_FALSE(accepted("max.compaction.lag.ms", "0"));
  CHECK_FALSE(accepted("min.cleanable.dirty.ratio", "1.5"));
  CHECK_FALSE(accepted("min.cleanable.dirty.ratio", "nan"));
  CHECK(accepted("min.cleanable.dirty.ratio", "1"));
  CHECK_FALSE(accepted("compression.gzip.level", "0"));
  CHECK(accepted("compression.gzip.level", "-1"));
  CHECK(accepted("compression.zstd.level", "-5"));
  CHECK_FALSE(accepted("compression.lz4.level", "18"));
  CHECK(accepted("local.retention.ms", "-2"));
  CHECK_FALSE(accepted("local.retention.bytes", "-3"));
}

TEST_CASE("EnumsAndBooleansRejectOtherWords") {
  CHECK(parse_error({{"compression.type", "brotli"}}) ==
        "invalid value 'brotli' for config 'compression.type': expected one of producer, uncompressed, gzip, "
        "snappy, lz4, zstd");
  CHECK_FALSE(accepted("message.timestamp.type", "AppendTime"));
  CHECK(parse_error({{"preallocate", "yes"}}) ==
        "invalid value 'yes' for config 'preallocate': expected true or false");
  CHECK(accepted("message.downconversion.enable", "False"));
}

TEST_CASE("AnUnknownConfigSuggestsTheClosestName") {
  CHECK(parse_error({{"retention.msx", "1"}}) ==
        "unknown topic config 'retention.msx' (did you mean 'retention.ms'?)");
  CHECK(parse_error({{"segment.byte", "1"}}) ==
        "unknown topic config 'segment.byte' (did you mean 'segment.bytes'?)");
  // The broker-level name of a topic config.
  CHECK(parse_error({{"log.retention.ms", "1"}}) ==
        "unknown topic config 'log.retention.ms' (did you mean 'retention.ms'?)");
  std::string far = parse_error({{"zzz", "1"}});
  CHECK(far.find("unknown topic config 'zzz'; topic configs are: cleanup.policy, ") == 0);
  CHECK(validate_topic_config("retention.msx", "1").error().message ==
        "unknown topic config 'retention.msx' (did you mean 'retention.ms'?)");
}

TEST_CASE("TheDeprecatedTimestampDifferenceFillsBeforeAndAfterUnlessTheyAreSet") {
  LogConfig both = parse_ok({{"message.timestamp.difference.max.ms", "5000"}});
  CHECK(both.message_timestamp_before_max_ms == 5000);
  CHECK(both.message_timestamp_after_max_ms == 5000);
  LogConfig one =
      parse_ok({{"message.timestamp.difference.max.ms", "5000"}, {"message.timestamp.after.max.ms", "100"}});
  CHECK(one.message_timestamp_before_max_ms == 5000);
  CHECK(one.message_timestamp_after_max_ms == 100);
  CHECK_FALSE(accepted("message.timestamp.difference.max.ms", "-1"));
}

TEST_CASE("MinCompactionLagAboveMaxCompactionLagIsAConflict") {
  CHECK(accepted("min.compaction.lag.ms", "1000"));
  std::string e = parse_error({{"min.compaction.lag.ms", "1000"}, {"max.compaction.lag.ms", "10"}});
  CHECK(e.find("min.compaction.lag.ms (1000) > max.compaction.lag.ms (10)") != std::string::npos);
}

TEST_CASE("TieredStorageCannotBeEnabled") {
  CHECK(accepted("remote.storage.enable", "false"));
  auto s = validate_topic_config("remote.storage.enable", "true");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message.find("no tiered storage") != std::string::npos);
}

TEST_CASE("ThrottledReplicaListsFollowKafkasSyntax") {
  CHECK(accepted("leader.replication.throttled.replicas", ""));
  CHECK(accepted("leader.replication.throttled.replicas", "*"));
  CHECK(accepted("follower.replication.throttled.replicas", "0:101, 1:102"));
  CHECK_FALSE(accepted("follower.replication.throttled.replicas", "0-101"));
  CHECK_FALSE(accepted("leader.replication.throttled.replicas", "*,0:1"));
}

TEST_CASE("MessageFormatVersionAcceptsKafkaVersionStrings") {
  CHECK(accepted("message.format.version", "3.0-IV1"));
  CHECK(accepted("message.format.version", "0.10.2"));
  CHECK(accepted("message.format.version", "2.8"));
  CHECK_FALSE(accepted("message.format.version", "latest"));
  CHECK_FALSE(accepted("message.format.version", "3..0"));
}
