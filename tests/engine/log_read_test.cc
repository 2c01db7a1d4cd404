// Log::read_into: the reusable-buffer read path (same batches as read/read_up_to, no fresh buffer per call),
// its limits, and when it re-checks CRCs of bytes this Log has already checked.
#include <doctest/doctest.h>

#include "engine/log.h"
#include "tests/engine/log_test_helpers.h"
#include "tests/support/manual_clock.h"
#include "base/mem_fs.h"

using namespace streamctl;
using namespace streamctl::engine;
using namespace streamctl::test;

namespace {

constexpr const char* kDir = "/data/r-0";

// Batches of 1..5 records with values of varying size over a few segments and a dense index, so reads
// start mid-segment, skip batches before `from` and cross segment boundaries.
std::unique_ptr<Log> filled_log(MemFileSystem& fs, ManualClock& clock, int batches = 60) {
  auto log = open_log(log_options(&fs, &clock, kDir, small_config(/*segment_bytes=*/2048, /*index_interval_bytes=*/100)));
  for (int i = 0; i < batches; ++i) {
    std::vector<std::string> values;
    for (int k = 0; k <= i % 5; ++k) values.push_back(tag("v", i * 10 + k, std::string(size_t(i % 7) * 9, '.')));
    append_values(*log, values);
  }
  return log;
}

Bytes read_bytes(Log& log, Offset from, size_t max_bytes, Offset max_offset, bool min_one_batch) {
  auto r = log.read_up_to(from, max_bytes, max_offset, min_one_batch);
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
  return Bytes(r->records.begin(), r->records.end());
}

// Positions of the batches in one segment file.
std::vector<uint64_t> batch_positions(ByteSpan segment) {
  std::vector<uint64_t> out;
  BatchIterator it(segment);
  while (it.next()) out.push_back(it.position());
  return out;
}

}  // namespace

TEST_CASE("ReadIntoWithOneReusedBufferReturnsTheSameBytesAsRead") {
  MemFileSystem fs;
  ManualClock clock;
  auto log = filled_log(fs, clock);
  REQUIRE(log->segments().size() >= 3);
  const Offset end = log->log_end_offset();
  ReadResult r;
  // Big reads first, so later small ones reuse a buffer with stale bytes past what they return.
  for (size_t max_bytes : {size_t(1) << 20, size_t(5000), size_t(700), size_t(1), size_t(64), size_t(300)}) {
    for (int64_t from = 0; from < end.value; from += 3) {
      for (bool min_one : {true, false}) {
        CAPTURE(max_bytes);
        CAPTURE(from);
        CAPTURE(min_one);
        Status s = log->read_into(Offset(from), max_bytes, end, min_one, r);
        REQUIRE_MESSAGE(s.ok(), s.error().to_string());
        auto expected = log->read_up_to(Offset(from), max_bytes, end, min_one);
        REQUIRE(expected.ok());
        CHECK(r.records == expected->records);
        CHECK(r.next_offset == expected->next_offset);
        CHECK(r.high_watermark == expected->high_watermark);
        CHECK(r.log_end_offset == expected->log_end_offset);
        CHECK(r.log_start_offset == expected->log_start_offset);
      }
    }
  }
}

TEST_CASE("ReadIntoKeepsItsBufferAcrossCallsAndVisitsEveryRecordOnce") {
  MemFileSystem fs;
  ManualClock clock;
  auto log = filled_log(fs, clock);
  ReadResult r;
  REQUIRE(log->read_into(Offset(0), 1 << 20, log->high_watermark(), true, r).ok());
  const size_t capacity = r.records.capacity();
  const std::byte* data = r.records.data();
  REQUIRE(capacity >= r.records.size());
  // Same result as read(), then stepping through the log in small reads reuses the same allocation.
  CHECK(Bytes(r.records.begin(), r.records.end()) == read_bytes(*log, Offset(0), 1 << 20, log->high_watermark(), true));
  std::vector<Record> seen;
  Offset next(0);
  while (next < log->high_watermark()) {
    REQUIRE(log->read_into(next, 400, log->high_watermark(), true, r).ok());
    REQUIRE_FALSE(r.records.empty());
    CHECK(r.records.capacity() == capacity);
    CHECK(r.records.data() == data);
    for (auto& rec : decode_all(r.records)) {
      if (rec.offset >= next) seen.push_back(std::move(rec));
    }
    REQUIRE(r.next_offset > next);
    next = r.next_offset;
  }
  CHECK(values_of(seen) == values_of(read_all(*log)));
  CHECK(offsets_of(seen).front() == 0);
  CHECK(offsets_of(seen).back() == log->log_end_offset().value - 1);
}

TEST_CASE("ReadIntoReturnsWholeBatchesWithinMaxBytesAndOneBatchWhenAsked") {
  MemFileSystem fs;
  ManualClock clock;
  auto log = filled_log(fs, clock, 20);
  ReadResult r;
  // Fill the buffer with a large read first: a later smaller result must not keep any of it.
  REQUIRE(log->read_into(Offset(0), 1 << 20, log->high_watermark(), true, r).ok());
  const size_t everything = r.records.size();
  for (size_t max_bytes : {size_t(1), size_t(61), size_t(150), size_t(333), size_t(1000)}) {
    CAPTURE(max_bytes);
    REQUIRE(log->read_into(Offset(3), max_bytes, log->high_watermark(), true, r).ok());
    BatchIterator it(r.records);
    size_t batches = 0;
    while (it.next()) ++batches;
    CHECK(it.status().ok());
    CHECK_FALSE(it.truncated_tail());
    CHECK(it.valid_bytes() == r.records.size());
    CHECK(batches >= 1);  // min_one_batch: at least one, even when larger than max_bytes
    if (batches > 1) CHECK(r.records.size() <= max_bytes);
    CHECK(r.records.size() < everything);
    // Without min_one_batch nothing is returned when the first batch alone exceeds max_bytes.
    REQUIRE(log->read_into(Offset(3), max_bytes, log->high_watermark(), false, r).ok());
    CHECK(r.records.size() <= max_bytes);
    if (r.records.empty()) CHECK(r.next_offset == Offset(3));
  }
}

TEST_CASE("ReadIntoStopsBeforeTheBatchHoldingMaxOffset") {
  MemFileSystem fs;
  ManualClock clock;
  auto log = filled_log(fs, clock);
  const int64_t end = log->log_end_offset().value;
  ReadResult r;
  for (int64_t max_offset : {int64_t(1), int64_t(7), int64_t(40), int64_t(77), end - 1, end}) {
    CAPTURE(max_offset);
    REQUIRE(log->read_into(Offset(0), 1 << 20, Offset(max_offset), true, r).ok());
    auto records = decode_all(r.records);
    for (const auto& rec : records) CHECK(rec.offset < Offset(max_offset));
    // Only the batch holding max_offset (and later ones) is left out: the next read starts with it.
    CHECK(r.next_offset <= Offset(max_offset));
    if (!records.empty()) CHECK(r.next_offset == records.back().offset + 1);
    auto rest = log->read_up_to(r.next_offset, 1 << 20, log->log_end_offset(), true);
    REQUIRE(rest.ok());
    if (max_offset < end) {
      auto next_records = decode_all(rest->records);
      REQUIRE_FALSE(next_records.empty());
      CHECK(next_records.front().offset <= Offset(max_offset));  // its batch reaches max_offset
    }
    CHECK(Bytes(r.records.begin(), r.records.end()) == read_bytes(*log, Offset(0), 1 << 20, Offset(max_offset), true));
  }
  // Beyond the high watermark: never, whatever max_offset says.
  log->set_high_watermark(Offset(10));
  REQUIRE(log->read_into(Offset(0), 1 << 20, Offset(1000), true, r).ok());
  CHECK(r.high_watermark == Offset(10));
  auto last = decode_all(r.records).back().offset;
  CHECK(last < log->log_end_offset());
  REQUIRE(log->read_into(Offset(0), 1 << 20, log->high_watermark(), true, r).ok());
  for (const auto& rec : decode_all(r.records)) CHECK(rec.offset < Offset(10));
}

TEST_CASE("ReadIntoOutOfRangeOrClosedLeavesAnEmptyBuffer") {
  MemFileSystem fs;
  ManualClock clock;
  auto log = filled_log(fs, clock, 5);
  ReadResult r;
  REQUIRE(log->read_into(Offset(0), 1 << 20, log->high_watermark(), true, r).ok());
  REQUIRE_FALSE(r.records.empty());
  Status past = log->read_into(Offset(log->log_end_offset().value + 1), 100, log->high_watermark(), true, r);
  REQUIRE_FALSE(past.ok());
  CHECK(past.error().code == ErrorCode::kOffsetOutOfRange);
  CHECK(r.records.empty());
  REQUIRE(log->read_into(log->log_end_offset(), 100, log->high_watermark(), true, r).ok());
  CHECK(r.records.empty());
  CHECK(r.next_offset == log->log_end_offset());
  REQUIRE(log->close().ok());
  REQUIRE_FALSE(log->read_into(Offset(0), 100, Offset(100), true, r).ok());
  CHECK(r.records.empty());
}

TEST_CASE("ACorruptBatchThisLogHasNotCheckedIsReportedWithFileAndPositionAfterTheGoodOnes") {
  MemFileSystem fs;
  ManualClock clock;
  std::string path;
  {
    auto log = filled_log(fs, clock, 12);
    path = log->segments().front().path;
  }
  Bytes bytes = file_bytes(fs, path);
  std::vector<uint64_t> positions = batch_positions(bytes);
  REQUIRE(positions.size() >= 4);
  const uint64_t bad = positions[2];
  bytes[bad + kBatchHeaderSize + 2] ^= std::byte{0x21};  // inside the records: only the CRC can tell
  write_bytes(fs, path, bytes);

  // A new Log trusts the flushed bytes for recovery but checks each batch's CRC the first time it reads it.
  auto log = open_log(log_options(&fs, &clock, kDir, small_config(2048, 100)));
  ReadResult r;
  REQUIRE(log->read_into(Offset(0), 1 << 20, log->high_watermark(), true, r).ok());
  CHECK(r.records.size() == bad);  // the two batches before the bad one
  Status s = log->read_into(r.next_offset, 1 << 20, log->high_watermark(), true, r);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::kCorruption);
  CHECK(s.error().message.find(path) != std::string::npos);
  CHECK(s.error().message.find(tag("position ", int64_t(bad))) != std::string::npos);
  CHECK(r.records.empty());
  // read() says the same (offsets 3..5 are the third batch: batches hold 1, 2, 3, ... records).
  auto again = log->read(Offset(3), 1 << 20);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().message.find(tag("position ", int64_t(bad))) != std::string::npos);
}

TEST_CASE("BytesRewrittenAfterAnotherProcessChangedTheLogAreCrcCheckedAgain") {
  MemFileSystem fs;
  ManualClock clock;
  auto log = filled_log(fs, clock, 30);  // every batch appended (so checked) by this Log
  REQUIRE(log->segments().size() >= 2);
  // Flushed: the other Log below opens from the checkpoint and does not rescan (or cut) the bad batch.
  REQUIRE(log->flush().ok());
  const std::string path = log->segments().front().path;
  Bytes bytes = file_bytes(fs, path);
  std::vector<uint64_t> positions = batch_positions(bytes);
  REQUIRE(positions.size() >= 4);
  const uint64_t bad = positions[2];
  bytes[bad + kBatchHeaderSize + 2] ^= std::byte{0x21};
  write_bytes(fs, path, bytes);

  // Another Log on the directory ("another process") changes its shape: the stamp's generation moves, so
  // this Log no longer trusts what it checked before and checks every CRC again (until it refreshes).
  auto other = open_log(log_options(&fs, &clock, kDir, small_config(2048, 100)));
  REQUIRE(other->recovery_report().dropped_bytes == 0);
  REQUIRE(file_bytes(fs, path) == bytes);
  ReadResult r;
  Status first = log->read_into(Offset(0), 1 << 20, log->high_watermark(), true, r);
  REQUIRE(first.ok());
  CHECK(r.records.size() == bad);
  Status s = log->read_into(r.next_offset, 1 << 20, log->high_watermark(), true, r);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::kCorruption);
  CHECK(s.error().message.find(tag("position ", int64_t(bad))) != std::string::npos);
}
