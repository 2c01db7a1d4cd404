// Compaction (cleanup.policy=compact): the latest record per key survives with its offset and timestamp,
// tombstones go after delete.retention.ms, and a crash at any step leaves either the old or the new segment.
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "engine/file_names.h"
#include "engine/log.h"
#include "tests/engine/log_test_helpers.h"
#include "base/fault_fs.h"
#include "tests/support/manual_clock.h"
#include "base/mem_fs.h"

using namespace streamctl;
using namespace streamctl::engine;
using namespace streamctl::test;

namespace {

constexpr const char* kDir = "/data/c-0";

LogConfig compact_config(int64_t segment_bytes = 400) {
  LogConfig c = small_config(segment_bytes);
  c.cleanup_policy = CleanupPolicy::kCompact;
  c.delete_retention_ms = 60'000;
  return c;
}

// Appends key=value records one batch per call (value nullopt = tombstone).
AppendResult put(Log& log, const std::string& key, std::optional<std::string> value, Compression compression = Compression::kNone) {
  std::vector<Record> rs{make_record(key, std::move(value))};
  BatchBuildOptions o;
  o.compression = compression;
  auto r = log.append(rs, o);
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
  return *r;
}

// key -> (offset, value) of the latest record for each key, as a reader of the whole log sees it.
std::map<std::string, std::pair<int64_t, std::optional<std::string>>> latest_by_key(const std::vector<Record>& records) {
  std::map<std::string, std::pair<int64_t, std::optional<std::string>>> out;
  for (const auto& r : records) {
    if (r.key) out[*r.key] = {r.offset.value, r.value};
  }
  return out;
}

}  // namespace

TEST_CASE("CompactionKeepsOnlyTheLatestRecordPerKeyWithItsOffsetAndTimestamp") {
  MemFileSystem fs;
  ManualClock clock;
  auto log = open_log(log_options(&fs, &clock, kDir, compact_config()));
  std::map<std::string, int64_t> expected_offset;
  std::map<std::string, Timestamp> expected_ts;
  for (int i = 0; i < 60; ++i) {
    clock.advance_ms(10);
    std::string key = tag("key-", i % 7);
    auto r = put(*log, key, tag("value-", i));
    expected_offset[key] = r.base_offset.value;
    expected_ts[key] = clock.now();
  }
  const auto before = read_all(*log);
  const uint64_t size_before = log->size_bytes();
  REQUIRE(log->segments().size() >= 4);
  auto reclaimed = log->compact();
  REQUIRE(reclaimed.ok());
  CHECK(*reclaimed > 0);
  CHECK(log->size_bytes() == size_before - *reclaimed);
  CHECK(log->log_end_offset() == Offset(60));
  auto after = read_all(*log);
  // The latest value of every key is unchanged, at its original offset, with its original timestamp.
  CHECK(latest_by_key(after) == latest_by_key(before));
  for (const auto& r : after) {
    if (r.offset.value == expected_offset[*r.key]) CHECK(r.timestamp == expected_ts[*r.key]);
  }
  // Closed segments hold no superseded record; offsets only increase (gaps are normal).
  std::set<std::string> seen_in_closed;
  const Offset active_base = log->segments().back().base_offset;
  for (size_t i = 0; i < after.size(); ++i) {
    if (i > 0) CHECK(after[i].offset > after[i - 1].offset);
    if (after[i].offset < active_base) {
      CHECK(after[i].offset.value == expected_offset[*after[i].key]);
      CHECK(seen_in_closed.insert(*after[i].key).second);
    }
  }
  CHECK(after.size() < before.size());
  // It is all still there after a reopen, and appends continue at the log end offset.
  log.reset();
  log = open_log(log_options(&fs, &clock, kDir, compact_config()));
  CHECK(latest_by_key(read_all(*log)) == latest_by_key(before));
  CHECK(put(*log, "key-0", "newest").base_offset == Offset(60));
  // Reading from an offset that was compacted away starts at the next surviving record.
  auto gap = log->read(Offset(1), 1 << 20);
  REQUIRE(gap.ok());
  CHECK(decode_all(gap->records).front().offset >= Offset(1));
}

TEST_CASE("KeysWhoseLatestRecordIsInTheActiveSegmentAreRemovedFromClosedOnes") {
  MemFileSystem fs;
  ManualClock clock;
  auto log = open_log(log_options(&fs, &clock, kDir, compact_config(/*segment_bytes=*/250)));
  for (int i = 0; i < 20; ++i) put(*log, "hot", tag("old-", i));
  put(*log, "hot", "current");
  REQUIRE(log->compact().ok());
  auto after = read_all(*log);
  REQUIRE(!after.empty());
  const Offset active_base = log->segments().back().base_offset;
  for (const auto& r : after) CHECK(r.offset >= active_base);
  CHECK(after.back().value == "current");
}

TEST_CASE("TombstonesAreKeptUntilDeleteRetentionMsThenDropped") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig c = compact_config(/*segment_bytes=*/250);
  auto log = open_log(log_options(&fs, &clock, kDir, c));
  put(*log, "gone", "v1");
  put(*log, "kept", "v1");
  put(*log, "gone", std::nullopt);  // tombstone
  for (int i = 0; i < 15; ++i) put(*log, tag("filler-", i), "x");  // push the tombstone into a closed segment
  REQUIRE(log->segments().size() >= 2);
  REQUIRE(log->compact().ok());
  auto young = latest_by_key(read_all(*log));
  REQUIRE(young.count("gone"));
  CHECK_FALSE(young["gone"].second.has_value());  // the tombstone itself survives for now
  CHECK(young["gone"].first == 2);
  clock.advance_ms(c.delete_retention_ms + 1);
  REQUIRE(log->compact().ok());
  auto old = latest_by_key(read_all(*log));
  CHECK_FALSE(old.count("gone"));
  CHECK(old.count("kept"));
}

TEST_CASE("NullKeyRecordsSurviveCompaction") {
  MemFileSystem fs;
  ManualClock clock;
  auto log = open_log(log_options(&fs, &clock, kDir, compact_config(/*segment_bytes=*/250)));
  std::vector<Record> rs{make_record(std::nullopt, "keyless-1"), make_record("k", "a"), make_record("k", "b"),
                         make_record(std::nullopt, "keyless-2")};
  REQUIRE(log->append(rs, BatchBuildOptions{}).ok());
  for (int i = 0; i < 10; ++i) put(*log, "k", tag("later-", i));
  REQUIRE(log->compact().ok());
  auto after = read_all(*log);
  std::vector<std::string> keyless;
  for (const auto& r : after) {
    if (!r.key) keyless.push_back(*r.value);
  }
  CHECK(keyless == std::vector<std::string>{"keyless-1", "keyless-2"});
  // The partially kept batch keeps its offsets: keyless-2 stays at offset 3.
  for (const auto& r : after) {
    if (r.value == "keyless-2") CHECK(r.offset == Offset(3));
  }
}

TEST_CASE("CompressedBatchesAreCompactedWithOffsetsPreserved") {
  MemFileSystem fs;
  ManualClock clock;
  auto log = open_log(log_options(&fs, &clock, kDir, compact_config(/*segment_bytes=*/300)));
  std::vector<Record> rs;
  for (int i = 0; i < 12; ++i) rs.push_back(make_record(tag("c", i % 4), tag("z", i)));
  BatchBuildOptions o;
  o.compression = Compression::kGzip;
  REQUIRE(log->append(rs, o).ok());  // offsets 0..11 in one gzip batch
  for (int i = 0; i < 10; ++i) put(*log, "other", tag("o", i), Compression::kGzip);
  const auto before = read_all(*log);
  REQUIRE(log->compact().ok());
  auto after = read_all(*log);
  CHECK(latest_by_key(after) == latest_by_key(before));
  std::vector<int64_t> first_batch;
  for (const auto& r : after) {
    if (r.key && r.key->rfind("c", 0) == 0) first_batch.push_back(r.offset.value);
  }
  CHECK(first_batch == std::vector<int64_t>{8, 9, 10, 11});
  // The rewritten batches are still gzip.
  auto r = log->read(Offset(8), 1 << 20);
  REQUIRE(r.ok());
  BatchIterator it(r->records);
  REQUIRE(it.next());
  CHECK(it.header().compression() == Compression::kGzip);
}

TEST_CASE("MinCompactionLagKeepsRecentSegmentsUncompacted") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig c = compact_config(/*segment_bytes=*/250);
  c.min_compaction_lag_ms = 60'000;
  auto log = open_log(log_options(&fs, &clock, kDir, c));
  for (int i = 0; i < 20; ++i) put(*log, "k", tag("v", i));
  CHECK(log->compact().value() == 0);
  clock.advance_ms(60'001);
  CHECK(log->compact().value() > 0);
}

TEST_CASE("DeletePolicyTopicsAreNotCompacted") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig c = compact_config(250);
  c.cleanup_policy = CleanupPolicy::kDelete;
  auto log = open_log(log_options(&fs, &clock, kDir, c));
  for (int i = 0; i < 20; ++i) put(*log, "k", tag("v", i));
  CHECK(log->compact().value() == 0);
  CHECK(read_all(*log).size() == 20);
}

TEST_CASE("LeftoverCleanedFilesAreRolledBackAndSwapFilesFinishedOnOpen") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig c = compact_config(/*segment_bytes=*/250);
  std::vector<SegmentInfo> segments;
  Bytes compacted_first;
  {
    auto log = open_log(log_options(&fs, &clock, kDir, c));
    for (int i = 0; i < 30; ++i) put(*log, tag("k", i % 3), tag("v", i));
    segments = log->segments();
  }
  REQUIRE(segments.size() >= 3);
  const std::string first = segments[0].path;
  const Bytes original_first = file_bytes(fs, first);
  // A .cleaned file is an uncommitted compaction: deleted, the original stays.
  write_bytes(fs, first + ".cleaned", as_byte_span("half-written"));
  {
    auto log = open_log(log_options(&fs, &clock, kDir, c));
    CHECK_FALSE(fs.exists(first + ".cleaned").value());
    CHECK(file_bytes(fs, first) == original_first);
  }
  // A .swap file is a committed one: it replaces the segment (its index is rebuilt if missing).
  {
    auto log = open_log(log_options(&fs, &clock, kDir, c));
    REQUIRE(log->compact().ok());
    compacted_first = file_bytes(fs, first);
  }
  REQUIRE(compacted_first.size() < original_first.size());
  write_bytes(fs, first, original_first);
  write_bytes(fs, first + ".swap", compacted_first);
  auto log = open_log(log_options(&fs, &clock, kDir, c));
  CHECK_FALSE(fs.exists(first + ".swap").value());
  CHECK(file_bytes(fs, first) == compacted_first);
  CHECK(log->recovery_report().detail.find("finished the compaction") != std::string::npos);
  CHECK(read_all(*log).size() > 0);
}

TEST_CASE("ACrashAtAnyStepOfCompactionLeavesTheOldOrTheNewSegmentNeverAMix") {
  int crashed_with_staging_files = 0;
  int fully_compacted = 0;
  int untouched = 0;
  bool finished = false;
  // n = how many mutating operations succeed before the power goes: every step, until compaction completes.
  for (uint64_t n = 0; !finished; ++n) {
    REQUIRE(n < 5000);
    CAPTURE(n);
    MemFileSystem mem;
    FaultInjectionFileSystem fs(&mem);
    ManualClock clock;
    LogConfig c = compact_config(/*segment_bytes=*/300);
    std::vector<Record> before;
    {
      auto log = open_log(log_options(&fs, &clock, kDir, c));
      for (int i = 0; i < 40; ++i) put(*log, tag("k", i % 5), tag("v", i));
      REQUIRE(log->flush().ok());
      before = read_all(*log);
      fs.deactivate_after(n, FsOp::kMutating);
      finished = log->compact().ok();
    }
    REQUIRE(fs.crash().ok());
    {
      auto names = mem.list_dir(kDir);
      REQUIRE(names.ok());
      bool staging = false;
      for (const auto& name : *names) {
        auto p = parse_segment_file_name(name);
        staging = staging || (p && p->staging != StagingSuffix::kNone);
      }
      crashed_with_staging_files += staging ? 1 : 0;
    }
    auto log = open_log(log_options(&fs, &clock, kDir, c));
    CHECK(log->log_end_offset() == Offset(40));
    auto after = read_all(*log);
    if (after.size() == before.size()) ++untouched;
    if (after.size() <= 5 + 10) ++fully_compacted;
    CHECK(latest_by_key(after) == latest_by_key(before));
    // Every surviving record is an original one (same offset, key and value), in offset order, once.
    std::map<int64_t, std::string> original;
    for (const auto& r : before) original[r.offset.value] = *r.value;
    for (size_t i = 0; i < after.size(); ++i) {
      REQUIRE(original.count(after[i].offset.value));
      CHECK(original[after[i].offset.value] == *after[i].value);
      if (i > 0) CHECK(after[i].offset > after[i - 1].offset);
    }
    // No staging file is left behind.
    auto names = mem.list_dir(kDir);
    REQUIRE(names.ok());
    for (const auto& name : *names) {
      auto p = parse_segment_file_name(name);
      if (p) CHECK(p->staging == StagingSuffix::kNone);
    }
  }
  // The sweep covered crashes before, during and after the swap.
  CHECK(crashed_with_staging_files > 0);
  CHECK(fully_compacted > 0);
  CHECK(untouched > 0);
}
