// Log::append_built: batches built by BatchBuilder go to the segment without a copy and are stored as
// Log::append stores the same records (byte for byte), with the same limits and topic configs applied.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "base/mem_fs.h"
#include "engine/log.h"
#include "tests/engine/log_test_helpers.h"
#include "tests/support/manual_clock.h"

using namespace streamctl;
using namespace streamctl::engine;
using namespace streamctl::test;

namespace {

std::vector<Record> lines(int n) {
  std::vector<Record> out;
  for (int i = 0; i < n; ++i) {
    Record r = make_record(i % 3 == 0 ? std::optional<std::string>(tag("k", i)) : std::nullopt,
                           tag("line ", i, std::string(size_t(i % 50), '.')));
    r.timestamp = Timestamp(1'000 + i);
    out.push_back(r);
  }
  return out;
}

void add_all(BatchBuilder& b, const std::vector<Record>& records) {
  for (const Record& r : records) {
    std::optional<std::string_view> key, value;
    if (r.key) key = *r.key;
    if (r.value) value = *r.value;
    b.add(key, value, r.headers, r.timestamp);
  }
  b.seal();
}

}  // namespace

TEST_CASE("AppendBuiltStoresTheBytesAppendStoresForTheSameRecordsAcrossRolls") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config = small_config(/*segment_bytes=*/8192);
  config.max_message_bytes = 2000;
  auto by_records = open_log(log_options(&fs, &clock, "/data/a-0", config));
  auto by_builder = open_log(log_options(&fs, &clock, "/data/b-0", config));
  auto records = lines(500);
  auto expected = by_records->append(records, BatchBuildOptions{});
  REQUIRE(expected.ok());
  BatchBuilder b(BatchBuildOptions{}, size_t(config.max_message_bytes));
  add_all(b, records);
  auto got = by_builder->append_built(b.sealed());
  REQUIRE_MESSAGE(got.ok(), got.error().to_string());
  CHECK(got->base_offset == expected->base_offset);
  CHECK(got->last_offset == expected->last_offset);
  CHECK(got->record_count == expected->record_count);
  CHECK(got->bytes == expected->bytes);
  auto segs_a = by_records->segments();
  auto segs_b = by_builder->segments();
  REQUIRE(segs_a.size() == segs_b.size());
  CHECK(segs_a.size() > 1);
  for (size_t i = 0; i < segs_a.size(); ++i) CHECK(file_bytes(fs, segs_a[i].path) == file_bytes(fs, segs_b[i].path));
  // Offsets go on from where they are; the builder is reused.
  b.clear();
  add_all(b, lines(3));
  auto more = by_builder->append_built(b.sealed());
  REQUIRE(more.ok());
  CHECK(more->base_offset == Offset(500));
  auto all = read_all(*by_builder);
  REQUIRE(all.size() == 503);
  CHECK(all[502].offset == Offset(502));
  CHECK(all[502].value == lines(3)[2].value);
}

TEST_CASE("AppendBuiltRefusesABatchOverMaxMessageBytesAndAppendsNothing") {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config = small_config(1 << 20);
  config.max_message_bytes = 300;
  auto log = open_log(log_options(&fs, &clock, "/data/t-0", config));
  BatchBuilder b(BatchBuildOptions{}, 100000);  // built with a larger limit than the topic's
  add_all(b, lines(20));
  auto r = log->append_built(b.sealed());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kRecordTooLarge);
  CHECK(log->log_end_offset() == Offset(0));
  CHECK(log->size_bytes() == 0);
}

TEST_CASE("AppendBuiltHonoursTheTopicsCompressionTypeAndLogAppendTime") {
  MemFileSystem fs;
  ManualClock clock(Timestamp(5'000'000));
  LogConfig config = small_config(1 << 20);
  config.compression_type = "zstd";
  config.message_timestamp_type = TimestampType::kLogAppendTime;
  auto log = open_log(log_options(&fs, &clock, "/data/t-0", config));
  BatchBuilder b(BatchBuildOptions{}, 1 << 20);
  auto records = lines(50);
  add_all(b, records);
  auto r = log->append_built(b.sealed());
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
  auto read = log->read(Offset(0), 1 << 20);
  REQUIRE(read.ok());
  BatchIterator it(read->records);
  REQUIRE(it.next());
  CHECK(it.header().compression() == Compression::kZstd);
  CHECK(it.header().timestamp_type() == TimestampType::kLogAppendTime);
  CHECK(it.header().max_timestamp == Timestamp(5'000'000));
  CHECK(values_of(read_all(*log)) == values_of(records));
}
