// Crash recovery of a partition: torn tails at every byte, corrupt bytes, lost or garbage indexes and
// checkpoints, the cost of opening, and injected I/O errors (EIO, ENOSPC) on append, flush and roll.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "engine/file_names.h"
#include "engine/log.h"
#include "engine/segment.h"
#include "tests/engine/log_test_helpers.h"
#include "base/fault_fs.h"
#include "tests/support/manual_clock.h"
#include "base/mem_fs.h"
#include "tests/support/temp_dir.h"

using namespace streamctl;
using namespace streamctl::engine;
using namespace streamctl::test;

namespace {

constexpr const char* kDir = "/data/t-0";

std::string checkpoint_path(const std::string& dir) { return join_path(dir, std::string(kRecoveryCheckpointFileName)); }

std::string last_segment_path(FileSystem& fs, const std::string& dir) {
  auto names = fs.list_dir(dir);
  REQUIRE(names.ok());
  std::string best;
  for (const auto& n : *names) {
    auto p = parse_segment_file_name(n);
    if (p && p->kind == SegmentFileKind::kLog && p->staging == StagingSuffix::kNone && n > best) best = n;
  }
  REQUIRE_FALSE(best.empty());
  return join_path(dir, best);
}

void truncate_file(FileSystem& fs, const std::string& path, uint64_t size) {
  auto f = fs.open(path, OpenMode::kReadWrite);
  REQUIRE(f.ok());
  REQUIRE((*f)->truncate(size).ok());
}

}  // namespace

TEST_CASE("TornTailBatchIsTruncatedOnRecoveryAtEveryByteBoundary") {
  // Crash model: batches 1..k-1 were flushed (checkpoint), then batch k was being written and only its first
  // `cut` bytes reached the disk. Recovery must keep exactly the complete batches and report `cut` dropped bytes.
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config = small_config(1 << 20, /*index_interval_bytes=*/32);
  uint64_t flushed_size = 0;
  uint64_t last_batch_size = 0;
  Bytes checkpoint_before;
  Bytes full_log;
  Bytes full_index;
  Bytes full_time_index;
  {
    auto log = open_log(log_options(&fs, &clock, kDir, config));
    for (int b = 0; b < 6; ++b) append_values(*log, {tag("a", b), tag("b", b), tag("c", b)});
    REQUIRE(log->flush().ok());
    checkpoint_before = file_bytes(fs, checkpoint_path(kDir));
    flushed_size = log->size_bytes();
    append_values(*log, {"x-last-1", "x-last-2", "x-last-3"});
    last_batch_size = log->size_bytes() - flushed_size;
  }
  full_log = file_bytes(fs, segment_path(kDir, 0));
  full_index = file_bytes(fs, segment_path(kDir, 0, SegmentFileKind::kOffsetIndex));
  full_time_index = file_bytes(fs, segment_path(kDir, 0, SegmentFileKind::kTimeIndex));
  REQUIRE(full_log.size() == flushed_size + last_batch_size);
  for (uint64_t cut = 0; cut < last_batch_size; ++cut) {
    CAPTURE(cut);
    // Put the crashed state on disk: the old checkpoint, the log cut inside the last batch, and indexes that
    // may already describe the lost batch (they were written after it, without a sync).
    write_bytes(fs, segment_path(kDir, 0), ByteSpan(full_log.data(), flushed_size + cut));
    write_bytes(fs, segment_path(kDir, 0, SegmentFileKind::kOffsetIndex), full_index);
    write_bytes(fs, segment_path(kDir, 0, SegmentFileKind::kTimeIndex), full_time_index);
    write_bytes(fs, checkpoint_path(kDir), checkpoint_before);
    auto log = open_log(log_options(&fs, &clock, kDir, config));
    const RecoveryReport& report = log->recovery_report();
    CHECK(report.dropped_bytes == cut);
    CHECK(report.scanned_bytes == cut);  // only the bytes after the checkpoint were validated
    if (cut > 0) CHECK(report.detail.find("00000000000000000000.log") != std::string::npos);
    CHECK(log->log_end_offset() == Offset(18));
    auto all = read_all(*log);
    REQUIRE(all.size() == 18);
    CHECK(all.back().value == "c5");
    // The next append takes the first lost offset, and everything is consistent after another reopen.
    CHECK(append_values(*log, {"after"}).base_offset == Offset(18));
    log.reset();
    auto again = open_log(log_options(&fs, &clock, kDir, config));
    CHECK(again->recovery_report().dropped_bytes == 0);
    CHECK(read_all(*again).back().value == "after");
    CHECK(again->offset_for_timestamp(clock.now()).value() == Offset(0));
  }
}

TEST_CASE("TornTailIsTruncatedWithoutACheckpointByScanningEverything") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config = small_config(/*segment_bytes=*/300);
  uint64_t total = 0;
  {
    auto log = open_log(log_options(&fs, &clock, kDir, config));
    for (int i = 0; i < 20; ++i) append_values(*log, {tag("v", i)});
    total = log->size_bytes();
  }
  REQUIRE(fs.remove_file(checkpoint_path(kDir)).ok());
  std::string last = last_segment_path(fs, kDir);
  uint64_t last_size = fs.file_size(last).value();
  truncate_file(fs, last, last_size - 3);
  auto log = open_log(log_options(&fs, &clock, kDir, config));
  CHECK(log->recovery_report().scanned_bytes == total - 3);
  CHECK(log->log_end_offset() == Offset(19));
  CHECK(read_all(*log).size() == 19);
  CHECK(log->recovery_report().dropped_bytes > 0);
}

TEST_CASE("ATornSegmentBeforeTheLastEndsTheLogAndLaterUnflushedSegmentsAreRemoved") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config = small_config(/*segment_bytes=*/300);
  Bytes checkpoint_before;
  std::vector<SegmentInfo> segments;
  {
    auto log = open_log(log_options(&fs, &clock, kDir, config));
    append_values(*log, {"flushed"});
    REQUIRE(log->flush().ok());
    checkpoint_before = file_bytes(fs, checkpoint_path(kDir));
    for (int i = 0; i < 30; ++i) append_values(*log, {tag("u", i)});
    segments = log->segments();
  }
  REQUIRE(segments.size() >= 4);
  write_bytes(fs, checkpoint_path(kDir), checkpoint_before);
  // The second segment lost its last 10 bytes; the ones after it were written later.
  truncate_file(fs, segments[1].path, segments[1].size_bytes - 10);
  uint64_t later = 0;
  for (size_t i = 2; i < segments.size(); ++i) later += segments[i].size_bytes;
  auto log = open_log(log_options(&fs, &clock, kDir, config));
  const RecoveryReport& report = log->recovery_report();
  auto after = log->segments();
  REQUIRE(after.size() == 2);
  // Dropped: the torn end of the second segment, then every later segment whole.
  CHECK(report.dropped_bytes == (segments[1].size_bytes - 10 - after.back().size_bytes) + later);
  CHECK(log->log_end_offset() < segments[1].next_offset);
  CHECK(log->log_end_offset() >= segments[1].base_offset);
  for (size_t i = 2; i < segments.size(); ++i) CHECK_FALSE(fs.exists(segments[i].path).value());
  auto all = read_all(*log);
  CHECK(all.size() == size_t(log->log_end_offset().value));
}

TEST_CASE("ACorruptByteInAFlushedSegmentIsAClearReadErrorAndEarlierRecordsStayReadable") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config = small_config(/*segment_bytes=*/600);
  std::vector<SegmentInfo> segments;
  {
    auto log = open_log(log_options(&fs, &clock, kDir, config));
    for (int i = 0; i < 40; ++i) append_values(*log, {tag("value-", i, "-padding-padding")});
    segments = log->segments();
  }
  REQUIRE(segments.size() >= 3);
  // Flip a byte in the middle of the first segment (a closed, fsynced one).
  Bytes bytes = file_bytes(fs, segments[0].path);
  // The batch in the middle of the segment; flip a byte of its records (covered by the CRC).
  BatchIterator it(bytes);
  std::vector<std::pair<uint64_t, Offset>> batches;
  while (it.next()) batches.emplace_back(it.position(), it.header().base_offset);
  REQUIRE(batches.size() >= 3);
  const uint64_t bad_batch = batches[batches.size() / 2].first;
  const Offset bad_base = batches[batches.size() / 2].second;
  bytes[bad_batch + kBatchHeaderSize + 3] ^= std::byte{0x5a};
  write_bytes(fs, segments[0].path, bytes);

  auto log = open_log(log_options(&fs, &clock, kDir, config));
  CHECK(log->recovery_report().dropped_bytes == 0);  // flushed data is not rescanned at open
  // Reading from the start returns every record before the bad batch, then the error.
  std::vector<Record> before;
  Offset from(0);
  for (;;) {
    auto step = log->read(from, 1 << 20);
    if (!step.ok()) break;
    auto records = decode_all(step->records);
    before.insert(before.end(), records.begin(), records.end());
    from = step->next_offset;
  }
  CHECK(before.size() == size_t(bad_base.value));
  CHECK(from == bad_base);
  auto r = log->read(bad_base, 1 << 20);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kCorruption);
  CHECK(r.error().message.find(segments[0].path) != std::string::npos);
  CHECK(r.error().message.find(tag("position ", int64_t(bad_batch))) != std::string::npos);
  // Later segments are unaffected.
  auto later = log->read(segments[1].base_offset, 1 << 20);
  REQUIRE(later.ok());
  CHECK_FALSE(later->records.empty());

  // baseOffset is outside the CRC: a flipped bit there is caught by the offset checks instead.
  log.reset();
  Bytes second = file_bytes(fs, segments[1].path);
  second[2] ^= std::byte{0x10};  // the first batch's baseOffset
  write_bytes(fs, segments[1].path, second);
  auto reopened = open_log(log_options(&fs, &clock, kDir, config));
  auto bad = reopened->read(segments[1].base_offset, 1 << 20);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == ErrorCode::kCorruption);
  CHECK(bad.error().message.find(segments[1].path + ": batch at position 0") != std::string::npos);
}

// Appends "kept", flushes, then appends `more` records ("after0", ...), flushing each when flush_each; finally
// puts the checkpoint of the first flush back (what the disk holds when the later ones never reached it).
// Returns the size of the log after "kept".
static uint64_t kept_then_more(MemFileSystem& fs, ManualClock& clock, const LogConfig& config, int more, bool flush_each) {
  auto log = open_log(log_options(&fs, &clock, kDir, config));
  append_values(*log, {"kept"});
  REQUIRE(log->flush().ok());
  Bytes checkpoint_before = file_bytes(fs, checkpoint_path(kDir));
  const uint64_t flushed = log->size_bytes();
  for (int i = 0; i < more; ++i) {
    append_values(*log, {tag("after", i)});
    if (flush_each) REQUIRE(log->flush().ok());
  }
  log.reset();
  write_bytes(fs, checkpoint_path(kDir), checkpoint_before);
  return flushed;
}

TEST_CASE("ACorruptByteInTheUnflushedTailIsTruncatedWithFileAndPositionReported") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config = small_config(1 << 20);
  const uint64_t flushed = kept_then_more(fs, clock, config, 5, /*flush_each=*/false);
  Bytes bytes = file_bytes(fs, segment_path(kDir, 0));
  bytes[flushed + 30] ^= std::byte{1};
  // A crash tears the end of what was written: the batch after the bad one is cut short too (a bad batch
  // followed by a valid one is corruption, see AnUnflushedBadBatchFollowedByAValidOneIsCorruptionNotATornTail).
  const uint64_t first_lost = get_be32(bytes.data() + flushed + kBatchLengthOffset) + 12;
  bytes.resize(flushed + first_lost + 20);
  write_bytes(fs, segment_path(kDir, 0), bytes);
  auto log = open_log(log_options(&fs, &clock, kDir, config));
  CHECK(log->recovery_report().dropped_bytes == bytes.size() - flushed);
  CHECK(log->recovery_report().detail.find(tag("position ", int64_t(flushed))) != std::string::npos);
  CHECK(values_of(read_all(*log)) == std::vector<std::string>{"kept"});
}

TEST_CASE("AnUnflushedBadBatchFollowedByAValidOneIsCorruptionNotATornTail") {
  // The checkpoint on disk may lag behind what was fsynced (it is moved forward in place without an fsync):
  // a bad batch past it is cut as a torn tail only when nothing valid follows it, so fsynced batches after a
  // lagging checkpoint are never cut because of a bad byte before them.
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config = small_config(1 << 20);
  // Every later checkpoint move never reached the disk.
  const uint64_t flushed = kept_then_more(fs, clock, config, 3, /*flush_each=*/true);
  Bytes bytes = file_bytes(fs, segment_path(kDir, 0));
  bytes[flushed + 30] ^= std::byte{1};
  write_bytes(fs, segment_path(kDir, 0), bytes);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto reopened = Log::open(log_options(&fs, &clock, kDir, config));
    REQUIRE_FALSE(reopened.ok());
    CHECK(reopened.error().code == ErrorCode::kCorruption);
    CHECK(reopened.error().message.find("corrupt batch at position " + std::to_string(flushed)) != std::string::npos);
    CHECK(reopened.error().message.find("followed by valid batches") != std::string::npos);
    CHECK(reopened.error().message.find("nothing was truncated") != std::string::npos);
    CHECK(file_bytes(fs, segment_path(kDir, 0)) == bytes);
  }
}

TEST_CASE("MissingIndexesAreRebuiltFromTheLog") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config = small_config(/*segment_bytes=*/500, /*index_interval_bytes=*/40);
  std::vector<SegmentInfo> segments;
  {
    auto log = open_log(log_options(&fs, &clock, kDir, config));
    for (int i = 0; i < 60; ++i) {
      std::vector<Record> rs{make_record(std::nullopt, tag("m", i), Timestamp(1'000'000 + i * 10))};
      REQUIRE(log->append(rs, BatchBuildOptions{}).ok());
    }
    segments = log->segments();
  }
  REQUIRE(segments.size() >= 3);
  for (const auto& s : {segments[0], segments.back()}) {
    REQUIRE(fs.remove_file(segment_path(kDir, s.base_offset.value, SegmentFileKind::kOffsetIndex)).ok());
    REQUIRE(fs.remove_file(segment_path(kDir, s.base_offset.value, SegmentFileKind::kTimeIndex)).ok());
  }
  auto log = open_log(log_options(&fs, &clock, kDir, config));
  CHECK(log->recovery_report().rebuilt_indexes >= 1);  // the active segment's, at open
  CHECK(read_all(*log).size() == 60);
  CHECK(log->recovery_report().rebuilt_indexes >= 2);  // the first segment's, when first read
  CHECK(log->offset_for_timestamp(Timestamp(1'000'000 + 5 * 10)).value() == Offset(5));
  CHECK(log->offset_for_timestamp(Timestamp(1'000'000 + 59 * 10)).value() == Offset(59));
  // The rebuilt index was written back.
  CHECK(fs.exists(segment_path(kDir, 0, SegmentFileKind::kOffsetIndex)).value());
  CHECK(fs.file_size(segment_path(kDir, 0, SegmentFileKind::kOffsetIndex)).value() > 0);
  auto mid = log->read(Offset(7), 1);
  REQUIRE(mid.ok());
  CHECK(decode_all(mid->records).front().offset == Offset(7));
}

TEST_CASE("GarbageAndStaleIndexesAreDetectedAndRebuilt") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config = small_config(/*segment_bytes=*/500, /*index_interval_bytes=*/40);
  std::vector<SegmentInfo> segments;
  {
    auto log = open_log(log_options(&fs, &clock, kDir, config));
    for (int i = 0; i < 60; ++i) append_values(*log, {tag("g", i)});
    segments = log->segments();
  }
  REQUIRE(segments.size() >= 3);
  // Garbage in the first segment's indexes.
  std::mt19937 rng(42);
  Bytes garbage(64);
  for (auto& b : garbage) b = std::byte(rng());
  write_bytes(fs, segment_path(kDir, segments[0].base_offset.value, SegmentFileKind::kOffsetIndex), garbage);
  write_bytes(fs, segment_path(kDir, segments[0].base_offset.value, SegmentFileKind::kTimeIndex), garbage);
  // A stale index for the third: plausible entries (increasing, inside the file) that no longer point at
  // batch starts, as if the log had been rewritten after the index.
  const std::string third = segment_path(kDir, segments[2].base_offset.value, SegmentFileKind::kOffsetIndex);
  Bytes stale = file_bytes(fs, third);
  REQUIRE(stale.size() >= 16);
  for (size_t i = 0; i < stale.size(); i += 8) put_be32(stale.data() + i + 4, get_be32(stale.data() + i + 4) + 3);
  write_bytes(fs, third, stale);
  auto log = open_log(log_options(&fs, &clock, kDir, config));
  for (int64_t from = 0; from < 60; from += 7) {
    auto r = log->read(Offset(from), 1);
    REQUIRE_MESSAGE(r.ok(), r.error().to_string());
    CHECK(decode_all(r->records).front().offset == Offset(from));
  }
  CHECK(read_all(*log).size() == 60);
  CHECK(log->recovery_report().rebuilt_indexes >= 2);
}

TEST_CASE("AGarbledCheckpointIsIgnoredAndEverySegmentIsScanned") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config = small_config(/*segment_bytes=*/400);
  uint64_t total = 0;
  {
    auto log = open_log(log_options(&fs, &clock, kDir, config));
    for (int i = 0; i < 30; ++i) append_values(*log, {tag("c", i)});
    total = log->size_bytes();
  }
  Bytes cp = file_bytes(fs, checkpoint_path(kDir));
  cp[10] ^= std::byte{0x40};
  write_bytes(fs, checkpoint_path(kDir), cp);
  auto log = open_log(log_options(&fs, &clock, kDir, config));
  CHECK(log->recovery_report().detail.find("garbled") != std::string::npos);
  CHECK(log->recovery_report().scanned_bytes == total);
  CHECK(log->recovery_report().dropped_bytes == 0);
  CHECK(read_all(*log).size() == 30);
  // The checkpoint was rewritten: the next open scans nothing.
  log.reset();
  auto again = open_log(log_options(&fs, &clock, kDir, config));
  CHECK(again->recovery_report().scanned_bytes == 0);
  CHECK(again->recovery_report().detail.empty());
}

TEST_CASE("OpenTouchesOnlyTheTailNotOldSegments") {
  // The same partition shape at two sizes: opening must not do more file operations for the bigger one.
  auto ops_to_open = [](int records) {
    MemFileSystem mem;
    FaultInjectionFileSystem fs(&mem);
    ManualClock clock;
    LogConfig config = small_config(/*segment_bytes=*/2000);
    {
      auto log = open_log(log_options(&fs, &clock, kDir, config));
      std::vector<std::string> values;
      for (int i = 0; i < records; ++i) {
        values.push_back(tag("open-cost-", i));
        if (values.size() == 20) {
          append_values(*log, values);
          values.clear();
        }
      }
      if (!values.empty()) append_values(*log, values);
    }
    fs.reset_counters();
    auto log = open_log(log_options(&fs, &clock, kDir, config));
    const uint64_t ops = fs.op_count();
    CHECK(log->recovery_report().scanned_bytes == 0);
    CHECK(log->log_end_offset() == Offset(records));
    return std::make_pair(ops, log->segments().size());
  };
  auto small = ops_to_open(200);
  auto big = ops_to_open(20000);
  CHECK(big.second > 10 * small.second);
  CHECK(big.first <= small.first + 2);
}

TEST_CASE("AppendThatHitsEnospcFailsAndLeavesTheLogConsistent") {
  MemFileSystem mem;
  FaultInjectionFileSystem fs(&mem);
  ManualClock clock;
  auto log = open_log(log_options(&fs, &clock, kDir, small_config(1 << 20)));
  append_values(*log, {"a", "b"});
  fs.set_torn_writes(true);
  fs.fail_after(0, ErrorCode::kNoSpace, FsOp::kWrite, /*sticky=*/true);
  auto r = log->append(make_records(3, "x"), BatchBuildOptions{});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kNoSpace);
  fs.clear_faults();
  CHECK(log->log_end_offset() == Offset(2));
  CHECK(read_all(*log).size() == 2);
  CHECK(append_values(*log, {"c"}).base_offset == Offset(2));
  CHECK(values_of(read_all(*log)) == std::vector<std::string>{"a", "b", "c"});
  log.reset();
  auto again = open_log(log_options(&fs, &clock, kDir, small_config(1 << 20)));
  CHECK(values_of(read_all(*again)) == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("FlushThatHitsEioFailsAndSucceedsOnceTheDiskRecovers") {
  MemFileSystem mem;
  FaultInjectionFileSystem fs(&mem);
  ManualClock clock;
  auto log = open_log(log_options(&fs, &clock, kDir, small_config(1 << 20)));
  append_values(*log, {"a"});
  fs.fail_after(0, ErrorCode::kIoError, FsOp::kSync, /*sticky=*/false);
  Status s = log->flush();
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::kIoError);
  CHECK(read_all(*log).size() == 1);
  REQUIRE(log->flush().ok());
  // Durable now: a crash keeps it.
  fs.set_active(false);
  log.reset();
  REQUIRE(fs.crash().ok());
  auto again = open_log(log_options(&fs, &clock, kDir, small_config(1 << 20)));
  CHECK(values_of(read_all(*again)) == std::vector<std::string>{"a"});
}

TEST_CASE("ARollThatFailsLeavesNoHalfCreatedSegment") {
  MemFileSystem mem;
  FaultInjectionFileSystem fs(&mem);
  ManualClock clock;
  auto log = open_log(log_options(&fs, &clock, kDir, small_config(/*segment_bytes=*/200)));
  append_values(*log, {std::string(150, 'a')});
  fs.fail_after(0, ErrorCode::kNoSpace, FsOp::kOpen, /*sticky=*/false);
  auto r = log->append(make_records(1, std::string(150, 'b')), BatchBuildOptions{});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kNoSpace);
  CHECK(log->segments().size() == 1);
  CHECK(log->log_end_offset() == Offset(1));
  CHECK(append_values(*log, {std::string(150, 'c')}).base_offset == Offset(1));
  CHECK(log->segments().size() == 2);
  CHECK(read_all(*log).size() == 2);
}

TEST_CASE("NoFlushedRecordIsLostWhenEveryOperationMayFailAndTheMachineCrashes") {
  int failed_appends = 0;
  int failed_flushes = 0;
  // For each N: the Nth mutating file operation fails (EIO), the workload carries on until the end, then power
  // is lost. Every record whose append and a later flush both succeeded must survive, in order, with its
  // offset; nothing may appear that was not appended.
  for (uint64_t n = 0; n < 120; n += 3) {
    CAPTURE(n);
    MemFileSystem mem;
    FaultInjectionFileSystem fs(&mem);
    ManualClock clock;
    LogConfig config = small_config(/*segment_bytes=*/300);
    std::vector<std::pair<int64_t, std::string>> durable;   // offset, value: appended, then flushed
    std::vector<std::pair<int64_t, std::string>> appended;  // acknowledged by append
    std::vector<std::string> attempted;
    {
      auto opened = Log::open(log_options(&fs, &clock, kDir, config));
      if (!opened.ok()) continue;
      std::unique_ptr<Log> log = std::move(opened).value();
      fs.fail_after(n, ErrorCode::kIoError, FsOp::kMutating, /*sticky=*/false);
      for (int i = 0; i < 25; ++i) {
        attempted.push_back(tag("d", i, "0"));
        auto r = log->append(make_records(1, tag("d", i)), BatchBuildOptions{});
        if (r.ok()) {
          appended.emplace_back(r->base_offset.value, attempted.back());
        } else {
          ++failed_appends;
        }
        if (i % 4 == 3) {
          if (log->flush().ok()) {
            durable = appended;
          } else {
            ++failed_flushes;
          }
        }
      }
      fs.set_active(false);
    }
    REQUIRE(fs.crash().ok());
    auto log = open_log(log_options(&fs, &clock, kDir, config));
    auto all = read_all(*log);
    REQUIRE(all.size() >= durable.size());
    for (size_t i = 0; i < durable.size(); ++i) {
      CHECK(all[i].offset.value == durable[i].first);
      CHECK(all[i].value == durable[i].second);
    }
    // Offsets are dense, values come from the workload in its order, and acknowledged ones kept their offset.
    size_t next_attempt = 0;
    for (size_t i = 0; i < all.size(); ++i) {
      CHECK(all[i].offset == Offset(int64_t(i)));
      while (next_attempt < attempted.size() && attempted[next_attempt] != all[i].value) ++next_attempt;
      CHECK(next_attempt < attempted.size());
      for (const auto& a : appended) {
        if (a.second == all[i].value) CHECK(a.first == all[i].offset.value);
      }
    }
    CHECK(log->log_end_offset() == Offset(int64_t(all.size())));
  }
  CHECK(failed_appends > 0);
  CHECK(failed_flushes > 0);
}

TEST_CASE("UnflushedRollsVanishInAPowerLossAndTheLogStillOpens") {
  // Power loss right after rolls that were never flushed: the new segment files may vanish entirely.
  MemFileSystem mem;
  FaultInjectionFileSystem fs(&mem);
  ManualClock clock;
  LogConfig config = small_config(/*segment_bytes=*/200);
  {
    auto log = open_log(log_options(&fs, &clock, kDir, config));
    append_values(*log, {"durable"});
    REQUIRE(log->flush().ok());
    for (int i = 0; i < 20; ++i) append_values(*log, {tag("volatile-", i, std::string(50, '.'))});
    fs.set_active(false);
  }
  REQUIRE(fs.crash().ok());
  auto log = open_log(log_options(&fs, &clock, kDir, config));
  CHECK(values_of(read_all(*log)) == std::vector<std::string>{"durable"});
  CHECK(log->log_end_offset() == Offset(1));
  CHECK(append_values(*log, {"next"}).base_offset == Offset(1));
}

TEST_CASE("ACorruptFlushedLastBatchIsReportedNeverTruncatedAndItsOffsetsAreNotReused") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config = small_config(1 << 20);
  uint64_t last_batch = 0;
  {
    auto log = open_log(log_options(&fs, &clock, kDir, config));
    for (int i = 0; i < 4; ++i) {
      last_batch = log->size_bytes();
      append_values(*log, {tag("durable", i)});
      REQUIRE(log->flush().ok());  // what `produce` does before it exits 0
    }
  }
  const std::string seg = segment_path(kDir, 0);
  Bytes bytes = file_bytes(fs, seg);
  bytes[last_batch + kBatchHeaderSize + 2] ^= std::byte{0x40};  // a record byte of the newest batch
  write_bytes(fs, seg, bytes);

  for (int attempt = 0; attempt < 2; ++attempt) {  // the first failed open must not have changed anything
    auto reopened = Log::open(log_options(&fs, &clock, kDir, config));
    REQUIRE_FALSE(reopened.ok());
    const Error& e = reopened.error();
    CHECK(e.code == ErrorCode::kCorruption);
    CHECK(e.message.find(seg + ": corrupt batch at position " + std::to_string(last_batch)) != std::string::npos);
    CHECK(e.message.find("offsets 3..3, expected to start at 3") != std::string::npos);
    CHECK(e.message.find("nothing was truncated") != std::string::npos);
    CHECK(file_bytes(fs, seg) == bytes);
  }
}

TEST_CASE("SegmentRecoverReportsCorruptionBelowTheCheckpointWithStructuredFieldsAndCutsOnlyAboveIt") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config = small_config(1 << 20);
  std::vector<uint64_t> starts;
  uint64_t total = 0;
  {
    auto log = open_log(log_options(&fs, &clock, kDir, config));
    for (int i = 0; i < 3; ++i) {
      starts.push_back(log->size_bytes());
      append_values(*log, {tag("v", i)});
    }
    total = log->size_bytes();
  }
  const std::string path = segment_path(kDir, 0);
  Bytes bytes = file_bytes(fs, path);
  bytes[starts[1] + kBatchHeaderSize + 2] ^= std::byte{0x40};
  write_bytes(fs, path, bytes);

  Segment::Options options{64, 1 << 20};
  {
    Segment s(&fs, kDir, Offset(0), options);
    auto r = s.recover(/*position=*/total, 0, 0);  // everything fsynced
    REQUIRE_FALSE(r.ok());
    REQUIRE(s.last_corruption().has_value());
    const DurableCorruption& c = *s.last_corruption();
    CHECK(c.file == path);
    CHECK(c.position == starts[1]);
    CHECK(c.durable_position == total);
    CHECK(c.expected_offset == Offset(1));
    CHECK(c.base_offset == Offset(1));
    CHECK(c.last_offset == Offset(1));
    CHECK(fs.file_size(path).value() == total);
  }
  {
    // Only the first batch is known fsynced, but a valid batch follows the bad one: still corruption.
    Segment s(&fs, kDir, Offset(0), options);
    auto r = s.recover(/*position=*/starts[1], 0, 0);
    REQUIRE_FALSE(r.ok());
    REQUIRE(s.last_corruption().has_value());
    CHECK(s.last_corruption()->position == starts[1]);
    CHECK(s.last_corruption()->durable_position == starts[1]);
    CHECK(r.error().message.find("followed by valid batches") != std::string::npos);
    CHECK(fs.file_size(path).value() == total);
  }
  {
    // The third batch torn as well (what a crash leaves): the bad second batch is a torn tail and is cut.
    bytes.resize(total - 5);
    write_bytes(fs, path, bytes);
    Segment s(&fs, kDir, Offset(0), options);
    auto r = s.recover(/*position=*/starts[1], 0, 0);
    REQUIRE(r.ok());
    CHECK(r->dropped_bytes == total - 5 - starts[1]);
    CHECK_FALSE(s.last_corruption().has_value());
    CHECK(s.next_offset() == Offset(1));
  }
}
