// The durable write path: what a flush syncs (one fdatasync on the steady path, counted), and that a crash at
// any step of a sequence of short-lived producers (open, append, flush, close: embedded `streamctl produce`)
// loses nothing that a flush acknowledged, while the recovery checkpoint lags on disk.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "base/fault_fs.h"
#include "base/mem_fs.h"
#include "engine/file_names.h"
#include "engine/log.h"
#include "tests/engine/log_test_helpers.h"
#include "tests/support/manual_clock.h"

using namespace streamctl;
using namespace streamctl::engine;
using namespace streamctl::test;

namespace {

constexpr const char* kDir = "/data/t-0";
constexpr uint32_t kAnySync = FsOp::kSync | FsOp::kSyncDir;

// One short-lived producer: open, append `value`, flush, close. Syncs it issued, or -1 when it failed.
int64_t produce_one(FaultInjectionFileSystem& fs, Clock& clock, const LogConfig& config, const std::string& value) {
  fs.reset_counters();
  auto log = open_log(log_options(&fs, &clock, kDir, config));
  append_values(*log, {value});
  REQUIRE(log->flush().ok());
  REQUIRE(log->close().ok());
  return int64_t(fs.op_count(kAnySync));
}

}  // namespace

TEST_CASE("AProduceIntoAnExistingPartitionIssuesOneFdatasyncOfTheSegmentAndNothingElse") {
  MemFileSystem mem;
  FaultInjectionFileSystem fs(&mem);
  ManualClock clock;
  LogConfig config = small_config(/*segment_bytes=*/1 << 20, /*index_interval_bytes=*/64);
  // The first produce creates the partition and its checkpoint durably (directory, tmp + rename).
  CHECK(produce_one(fs, clock, config, "first") > 1);
  // Every later one: open + append + flush + close is one fdatasync, of the .log (indexes grow meanwhile).
  for (int i = 0; i < 20; ++i) {
    CAPTURE(i);
    CHECK(produce_one(fs, clock, config, tag("line-", i, std::string(40, '.'))) == 1);
    CHECK(fs.op_count(FsOp::kSync) == 1);
    CHECK(fs.op_count(FsOp::kSyncDir) == 0);
    CHECK(fs.op_count(FsOp::kRename) == 0);
  }
  auto log = open_log(log_options(&fs, &clock, kDir, config));
  CHECK(log->segments().size() == 1);
  CHECK(read_all(*log).size() == 21);
  CHECK(log->recovery_report().scanned_bytes == 0);  // the in-place checkpoint covers everything
}

TEST_CASE("AFlushAfterARollSyncsTheClosedSegmentWholeAndTheDirectoryOnceThenOneFdatasyncAgain") {
  MemFileSystem mem;
  FaultInjectionFileSystem fs(&mem);
  ManualClock clock;
  LogConfig config = small_config(/*segment_bytes=*/400);
  auto log = open_log(log_options(&fs, &clock, kDir, config));
  append_values(*log, {std::string(200, 'a')});
  REQUIRE(log->flush().ok());
  append_values(*log, {std::string(200, 'b')});  // rolls
  REQUIRE(log->segments().size() == 2);
  fs.reset_counters();
  REQUIRE(log->flush().ok());
  // Closed segment: .log, .index, .timeindex; active .log; the directory; the checkpoint's tmp and directory.
  CHECK(fs.op_count(FsOp::kSync) == 5);
  CHECK(fs.op_count(FsOp::kSyncDir) == 2);
  append_values(*log, {"c"});
  REQUIRE(log->segments().size() == 2);
  fs.reset_counters();
  REQUIRE(log->flush().ok());
  CHECK(fs.op_count(kAnySync) == 1);
}

TEST_CASE("NoAcknowledgedRecordIsLostWhenPowerFailsAtAnyStepOfShortLivedProducers") {
  // Each "process" opens the partition, appends one record, flushes (the acknowledgement: produce exits 0)
  // and closes; segments roll every few records. For each N the power fails after N file operations, and
  // the machine reboots: the partition must open (no false corruption), hold every acknowledged record at
  // its offset, in order, and nothing that was not produced.
  int crashed_mid_produce = 0;
  for (uint64_t n = 0; n < 400; n += 2) {
    CAPTURE(n);
    MemFileSystem mem;
    FaultInjectionFileSystem fs(&mem);
    ManualClock clock;
    LogConfig config = small_config(/*segment_bytes=*/400, /*index_interval_bytes=*/64);
    std::vector<std::pair<int64_t, std::string>> acknowledged;
    std::vector<std::string> attempted;
    fs.deactivate_after(n);
    for (int i = 0; i < 12 && fs.active(); ++i) {
      attempted.push_back(tag("p", i, std::string(size_t(20 + 17 * (i % 5)), '.')));
      auto opened = Log::open(log_options(&fs, &clock, kDir, config));
      if (!opened.ok()) break;
      std::vector<Record> one{make_record(std::nullopt, attempted.back())};
      auto r = (*opened)->append(one, BatchBuildOptions{});
      if (!r.ok()) break;
      if (!(*opened)->flush().ok()) break;
      acknowledged.emplace_back(r->base_offset.value, attempted.back());
      (void)(*opened)->close();
    }
    if (!fs.active()) ++crashed_mid_produce;
    fs.set_active(false);
    REQUIRE(fs.crash().ok());
    auto reopened = Log::open(log_options(&fs, &clock, kDir, config));
    REQUIRE_MESSAGE(reopened.ok(), reopened.error().to_string());
    auto all = read_all(**reopened);
    REQUIRE(all.size() >= acknowledged.size());
    for (size_t i = 0; i < acknowledged.size(); ++i) {
      CHECK(all[i].offset.value == acknowledged[i].first);
      CHECK(all[i].value == acknowledged[i].second);
    }
    for (size_t i = 0; i < all.size(); ++i) {
      CHECK(all[i].offset == Offset(int64_t(i)));
      REQUIRE(i < attempted.size());
      CHECK(all[i].value == attempted[i]);
    }
    // The next producer carries on after what survived.
    CHECK(append_values(**reopened, {"next"}).base_offset == Offset(int64_t(all.size())));
  }
  CHECK(crashed_mid_produce > 50);
}

TEST_CASE("AFlushAfterAnotherProcessTruncatedAndThisOneRolledSyncsEverySegmentItsCheckpointCovers") {
  // Two Logs on one directory stand for two processes. A knows a checkpoint in a late segment; B truncates
  // below it (the checkpoint moves back); A then rolls into new segments with lower base offsets than the
  // checkpoint it knew. A's flush must sync those (it re-reads the checkpoint when the shape changed).
  MemFileSystem mem;
  FaultInjectionFileSystem fs(&mem);
  ManualClock clock;
  LogConfig config = small_config(/*segment_bytes=*/400);
  auto a = open_log(log_options(&fs, &clock, kDir, config));
  for (int i = 0; i < 12; ++i) append_values(*a, {tag("a", i, std::string(60, '.'))});
  REQUIRE(a->flush().ok());
  REQUIRE(a->segments().size() > 3);
  {
    auto b = open_log(log_options(&fs, &clock, kDir, config));
    REQUIRE(b->truncate_to(Offset(2)).ok());
  }
  std::vector<std::string> acknowledged{tag("a", 0, std::string(60, '.')), tag("a", 1, std::string(60, '.'))};
  for (int i = 0; i < 8; ++i) {
    acknowledged.push_back(tag("c", i, std::string(60, '.')));
    append_values(*a, {acknowledged.back()});
  }
  REQUIRE(a->flush().ok());
  fs.set_active(false);
  a.reset();
  REQUIRE(fs.crash().ok());
  auto again = open_log(log_options(&fs, &clock, kDir, config));
  CHECK(values_of(read_all(*again)) == acknowledged);
}
