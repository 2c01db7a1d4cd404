// Retention: whole closed segments deleted by age (retention.ms against their largest timestamp, by the
// injected clock) or by partition size (retention.bytes), crash-safely, moving the log start offset.
#include <doctest/doctest.h>

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

constexpr const char* kDir = "/data/r-0";

struct RetentionFixture {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config;
  std::unique_ptr<Log> log;

  explicit RetentionFixture(LogConfig c) : config(c) { log = open_log(log_options(&fs, &clock, kDir, config)); }
  void reopen() {
    log.reset();
    log = open_log(log_options(&fs, &clock, kDir, config));
  }
  // One record per append; the clock moves `step_ms` before each.
  void append_n(int n, int64_t step_ms, const std::string& prefix = "v") {
    for (int i = 0; i < n; ++i) {
      clock.advance_ms(step_ms);
      append_values(*log, {tag(prefix, i, std::string(30, '.'))});
    }
  }
};

}  // namespace

TEST_CASE("RetentionByTimeDeletesSegmentsWhoseNewestRecordIsOlderThanRetentionMs") {
  LogConfig c = small_config(/*segment_bytes=*/300);
  c.retention_ms = 10'000;
  RetentionFixture f(c);
  f.append_n(30, 1'000);  // 30 s of records, ~5 per segment
  auto before = f.log->segments();
  REQUIRE(before.size() >= 5);
  // Now: the last record is 0 s old; segments whose max timestamp is more than 10 s old must go.
  const Timestamp now = f.clock.now();
  size_t expired = 0;
  while (expired + 1 < before.size() && now.value - before[expired].max_timestamp.value > 10'000) ++expired;
  REQUIRE(expired >= 2);
  auto deleted = f.log->apply_retention();
  REQUIRE(deleted.ok());
  CHECK(*deleted == int(expired));
  auto after = f.log->segments();
  CHECK(after.size() == before.size() - expired);
  CHECK(after.front().base_offset == before[expired].base_offset);
  CHECK(f.log->log_start_offset() == before[expired].base_offset);
  for (size_t i = 0; i < expired; ++i) {
    CHECK_FALSE(f.fs.exists(before[i].path).value());
    CHECK_FALSE(f.fs.exists(before[i].path + ".deleted").value());
    CHECK_FALSE(f.fs.exists(segment_path(kDir, before[i].base_offset.value, SegmentFileKind::kTimeIndex)).value());
  }
  // Nothing more to do until time passes; the log start survives a reopen.
  CHECK(f.log->apply_retention().value() == 0);
  f.reopen();
  CHECK(f.log->log_start_offset() == before[expired].base_offset);
  CHECK(read_all(*f.log).front().offset == before[expired].base_offset);
}

TEST_CASE("RetentionByTimeNeverDeletesTheActiveSegment") {
  LogConfig c = small_config(/*segment_bytes=*/300);
  c.retention_ms = 1'000;
  RetentionFixture f(c);
  f.append_n(20, 10);
  f.clock.advance_ms(1'000'000);  // everything is ancient
  auto deleted = f.log->apply_retention();
  REQUIRE(deleted.ok());
  auto after = f.log->segments();
  REQUIRE(after.size() == 1);
  CHECK(*deleted >= 3);
  CHECK(f.log->log_end_offset() == Offset(20));
  CHECK(f.log->log_start_offset() == after.front().base_offset);
  CHECK(append_values(*f.log, {"new"}).base_offset == Offset(20));
}

TEST_CASE("RetentionByBytesDeletesOldestSegmentsWhileThePartitionIsTooBig") {
  LogConfig c = small_config(/*segment_bytes=*/300);
  c.retention_bytes = 1000;
  RetentionFixture f(c);
  f.append_n(40, 0);
  auto before = f.log->segments();
  uint64_t total = f.log->size_bytes();
  REQUIRE(total > 2000);
  // Kafka's rule: delete the oldest segment while the size without it stays >= retention.bytes.
  size_t expected = 0;
  uint64_t remaining = total;
  while (expected + 1 < before.size() && remaining - before[expected].size_bytes >= 1000) {
    remaining -= before[expected].size_bytes;
    ++expected;
  }
  auto deleted = f.log->apply_retention();
  REQUIRE(deleted.ok());
  CHECK(*deleted == int(expected));
  CHECK(f.log->size_bytes() == remaining);
  CHECK(f.log->size_bytes() >= 1000);
  CHECK(f.log->size_bytes() < 1000 + 300);
  CHECK(f.log->log_start_offset() == before[expected].base_offset);
}

TEST_CASE("RetentionKeepsSegmentsAboveTheHighWatermark") {
  LogConfig c = small_config(/*segment_bytes=*/300);
  c.retention_ms = 1;
  RetentionFixture f(c);
  f.append_n(30, 1);
  auto before = f.log->segments();
  REQUIRE(before.size() >= 4);
  f.log->set_high_watermark(before[2].base_offset);
  f.clock.advance_ms(1'000);
  auto deleted = f.log->apply_retention();
  REQUIRE(deleted.ok());
  CHECK(*deleted == 2);  // only the two segments wholly below the high watermark
  CHECK(f.log->log_start_offset() == before[2].base_offset);
}

TEST_CASE("CompactedTopicsAreNotDeletedByRetention") {
  LogConfig c = small_config(/*segment_bytes=*/300);
  c.retention_ms = 1;
  c.retention_bytes = 1;
  c.cleanup_policy = CleanupPolicy::kCompact;
  RetentionFixture f(c);
  f.append_n(20, 1);
  f.clock.advance_ms(10'000);
  CHECK(f.log->apply_retention().value() == 0);
  CHECK(f.log->log_start_offset() == Offset(0));
}

TEST_CASE("RetentionDisabledWithMinusOneKeepsEverything") {
  LogConfig c = small_config(/*segment_bytes=*/300);
  c.retention_ms = -1;
  c.retention_bytes = -1;
  RetentionFixture f(c);
  f.append_n(20, 1'000'000);
  CHECK(f.log->apply_retention().value() == 0);
  CHECK(read_all(*f.log).size() == 20);
}

TEST_CASE("LeftoverDeletedFilesFromACrashDuringRetentionAreRemovedOnOpen") {
  LogConfig c = small_config(/*segment_bytes=*/300);
  RetentionFixture f(c);
  f.append_n(20, 1);
  auto before = f.log->segments();
  REQUIRE(before.size() >= 3);
  f.log.reset();
  // A crash after the first segment's .log was renamed to .deleted, before its indexes were.
  REQUIRE(f.fs.rename(before[0].path, before[0].path + ".deleted").ok());
  f.reopen();
  CHECK_FALSE(f.fs.exists(before[0].path + ".deleted").value());
  CHECK_FALSE(f.fs.exists(segment_path(kDir, 0, SegmentFileKind::kOffsetIndex)).value());  // orphan index removed
  CHECK(f.log->log_start_offset() == before[1].base_offset);
  CHECK(read_all(*f.log).size() == size_t(20 - before[1].base_offset.value));
}

TEST_CASE("RetentionInterruptedAtAnyStepLeavesAConsistentLog") {
  int none_deleted = 0;
  int some_deleted = 0;
  bool finished = false;
  for (uint64_t n = 0; !finished; ++n) {
    REQUIRE(n < 1000);
    CAPTURE(n);
    MemFileSystem mem;
    FaultInjectionFileSystem fs(&mem);
    ManualClock clock;
    LogConfig c = small_config(/*segment_bytes=*/300);
    c.retention_ms = 5'000;
    std::vector<SegmentInfo> before;
    {
      auto log = open_log(log_options(&fs, &clock, kDir, c));
      for (int i = 0; i < 30; ++i) {
        clock.advance_ms(1'000);
        append_values(*log, {tag("k", i, std::string(30, '.'))});
      }
      REQUIRE(log->flush().ok());
      before = log->segments();
      fs.deactivate_after(n, FsOp::kMutating);
      auto r = log->apply_retention();
      finished = r.ok();
      if (finished) CHECK(*r > 0);
    }
    REQUIRE(fs.crash().ok());
    auto log = open_log(log_options(&fs, &clock, kDir, c));
    // Whatever was deleted, what is left is a suffix of the log, readable from the log start to the end.
    CHECK(log->log_end_offset() == Offset(30));
    auto rest = read_all(*log);
    REQUIRE_FALSE(rest.empty());
    CHECK(rest.front().offset == log->log_start_offset());
    CHECK(rest.back().offset == Offset(29));
    CHECK(rest.size() == size_t(30 - log->log_start_offset().value));
    bool at_boundary = false;
    for (const auto& s : before) at_boundary = at_boundary || s.base_offset == log->log_start_offset();
    CHECK(at_boundary);
    (log->log_start_offset() == Offset(0) ? none_deleted : some_deleted) += 1;
  }
  CHECK(none_deleted > 0);
  CHECK(some_deleted > 0);
}
