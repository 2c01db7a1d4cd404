#include "engine/segment.h"

#include <doctest/doctest.h>

#include "tests/engine/log_test_helpers.h"
#include "base/mem_fs.h"

using namespace streamctl;
using namespace streamctl::engine;
using streamctl::MemFileSystem;
using streamctl::test::tag;

namespace {

constexpr const char* kDir = "/seg";

struct SegmentFixture {
  MemFileSystem fs;
  Segment::Options options{64, 1 << 20};
  SegmentFixture() { REQUIRE(fs.create_dirs(kDir).ok()); }

  std::unique_ptr<Segment> make(int64_t base = 100) {
    return std::make_unique<Segment>(&fs, kDir, Offset(base), options);
  }

  // Appends one batch of `n` records "<tag>i" at the segment's next offset with timestamp ts.
  BatchInfo append(Segment& seg, int n, const std::string& prefix, int64_t ts = 1000) {
    std::vector<Record> records;
    for (int i = 0; i < n; ++i) records.push_back(streamctl::test::make_record(std::nullopt, tag(prefix, i), Timestamp(ts)));
    auto built = build_batch(records, seg.next_offset(), BatchBuildOptions{});
    REQUIRE(built.ok());
    BatchInfo info{uint32_t(built->size()), seg.next_offset(), seg.next_offset() + (n - 1), Timestamp(ts), 7};
    set_batch_leader_epoch(*built, 7);
    REQUIRE(seg.append(*built, std::span<const BatchInfo>(&info, 1)).ok());
    return info;
  }
};

std::vector<Record> read_segment(Segment& seg, Offset from, size_t max_bytes = 1 << 20) {
  Bytes out;
  Offset next = from;
  auto r = seg.read(from, max_bytes, Offset(1'000'000'000), true, &out, &next);
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
  return streamctl::test::decode_all(out);
}

}  // namespace

TEST_CASE("SegmentAppendsAndReadsBatchesByOffset") {
  SegmentFixture f;
  auto seg = f.make();
  REQUIRE(seg->create().ok());
  CHECK(seg->empty());
  CHECK(seg->next_offset() == Offset(100));
  for (int b = 0; b < 20; ++b) f.append(*seg, 3, tag("b", b, "-"), 1000 + b);
  CHECK(seg->next_offset() == Offset(160));
  CHECK(seg->max_timestamp() == Timestamp(1019));
  CHECK(seg->first_batch_timestamp() == Timestamp(1000));
  CHECK(seg->last_epoch() == 7);
  CHECK(seg->offset_index().entries() > 3);  // one entry per >64 bytes
  auto records = read_segment(*seg, Offset(131));
  REQUIRE_FALSE(records.empty());
  // The read starts with the batch holding 131 (offsets 130..132).
  CHECK(records.front().offset == Offset(130));
  CHECK(records.front().value == "b10-0");
  CHECK(records.back().offset == Offset(159));
}

TEST_CASE("SegmentReadStopsAtMaxBytesButReturnsAtLeastOneBatch") {
  SegmentFixture f;
  auto seg = f.make();
  REQUIRE(seg->create().ok());
  BatchInfo first = f.append(*seg, 5, "x");
  f.append(*seg, 5, "y");
  Bytes out;
  Offset next = Offset(100);
  auto stopped = seg->read(Offset(100), 10, Offset(1000), /*min_one_batch=*/true, &out, &next);
  REQUIRE(stopped.ok());
  CHECK(*stopped);
  CHECK(out.size() == first.size);
  CHECK(next == Offset(105));
  Bytes none;
  auto strict = seg->read(Offset(100), 10, Offset(1000), /*min_one_batch=*/false, &none, &next);
  REQUIRE(strict.ok());
  CHECK(none.empty());
  // max_offset stops before a batch reaching it.
  Bytes capped;
  REQUIRE(seg->read(Offset(100), 1 << 20, Offset(107), true, &capped, &next).ok());
  CHECK(capped.size() == first.size);
}

TEST_CASE("SegmentLoadRebuildsAMissingIndexFromTheLog") {
  SegmentFixture f;
  {
    auto seg = f.make();
    REQUIRE(seg->create().ok());
    for (int b = 0; b < 10; ++b) f.append(*seg, 4, "r", 2000 + b);
  }
  REQUIRE(f.fs.remove_file(streamctl::test::segment_path(kDir, 100, SegmentFileKind::kOffsetIndex)).ok());
  auto seg = f.make();
  auto report = seg->load(true, true);
  REQUIRE(report.ok());
  CHECK(report->rebuilt_index);
  CHECK(report->detail.find("missing") != std::string::npos);
  CHECK(seg->next_offset() == Offset(140));
  CHECK(seg->max_timestamp() == Timestamp(2009));
  CHECK(seg->offset_index().entries() > 0);
  CHECK(f.fs.exists(streamctl::test::segment_path(kDir, 100, SegmentFileKind::kOffsetIndex)).value());
  CHECK(read_segment(*seg, Offset(120)).front().offset == Offset(120));
}

TEST_CASE("SegmentLoadRebuildsAStaleIndexThatDoesNotMatchTheLog") {
  SegmentFixture f;
  Bytes stale_index;
  {
    auto seg = f.make();
    REQUIRE(seg->create().ok());
    for (int b = 0; b < 10; ++b) f.append(*seg, 2, "long-value-", 3000);
    stale_index = streamctl::test::file_bytes(f.fs, streamctl::test::segment_path(kDir, 100, SegmentFileKind::kOffsetIndex));
  }
  REQUIRE(stale_index.size() >= 16);
  // Rewrite the log with differently sized batches: the old index's positions no longer start batches.
  {
    auto seg = f.make();
    REQUIRE(seg->create().ok());
    for (int b = 0; b < 10; ++b) f.append(*seg, 2, "s", 3000);
  }
  streamctl::test::write_bytes(f.fs, streamctl::test::segment_path(kDir, 100, SegmentFileKind::kOffsetIndex), stale_index);
  auto seg = f.make();
  auto report = seg->load(false, false);
  REQUIRE(report.ok());
  CHECK(report->rebuilt_index);
  CHECK(seg->next_offset() == Offset(120));
  auto records = read_segment(*seg, Offset(111));
  REQUIRE_FALSE(records.empty());
  CHECK(records.front().offset == Offset(110));
}

TEST_CASE("SegmentRecoverTruncatesATornTailAndReportsTheDroppedBytes") {
  SegmentFixture f;
  uint64_t good_size = 0;
  {
    auto seg = f.make();
    REQUIRE(seg->create().ok());
    f.append(*seg, 3, "a");
    f.append(*seg, 3, "b");
    good_size = seg->size();
    f.append(*seg, 3, "c");
  }
  const std::string log = streamctl::test::segment_path(kDir, 100);
  Bytes bytes = streamctl::test::file_bytes(f.fs, log);
  bytes.resize(bytes.size() - 5);  // the last batch loses its end
  streamctl::test::write_bytes(f.fs, log, bytes);
  auto seg = f.make();
  auto report = seg->recover(0, 0, 0);
  REQUIRE(report.ok());
  CHECK(report->dropped_bytes == bytes.size() - good_size);
  CHECK(report->detail.find(log) != std::string::npos);
  CHECK(report->detail.find(tag("position ", good_size)) != std::string::npos);
  CHECK(seg->size() == good_size);
  CHECK(seg->next_offset() == Offset(106));
  CHECK(f.fs.file_size(log).value() == good_size);
}

TEST_CASE("SegmentTruncateToCutsAtABatchBoundaryAndRefusesMidBatch") {
  SegmentFixture f;
  auto seg = f.make();
  REQUIRE(seg->create().ok());
  f.append(*seg, 1, "a", 10);   // 100
  f.append(*seg, 20, "b", 20);  // 101..120
  f.append(*seg, 70, "c", 30);  // 121..190
  f.append(*seg, 3, "d", 40);   // 191..193
  Status mid = seg->truncate_to(Offset(150));
  REQUIRE_FALSE(mid.ok());
  CHECK(mid.error().code == ErrorCode::kInvalidArgument);
  CHECK(mid.error().message.find("121..190") != std::string::npos);
  REQUIRE(seg->truncate_to(Offset(121)).ok());
  CHECK(seg->next_offset() == Offset(121));
  CHECK(seg->max_timestamp() == Timestamp(20));
  auto records = read_segment(*seg, Offset(100));
  CHECK(records.size() == 21);
  CHECK(records.back().offset == Offset(120));
  // Appending continues from the cut.
  f.append(*seg, 2, "e", 50);
  CHECK(seg->next_offset() == Offset(123));
  auto again = f.make();
  REQUIRE(again.get() != nullptr);
  REQUIRE(again->load(false, false).ok());
  CHECK(again->next_offset() == Offset(123));
}

TEST_CASE("SegmentCatchUpAdoptsAnotherWritersStamp") {
  SegmentFixture f;
  auto writer = f.make();
  REQUIRE(writer->create().ok());
  f.append(*writer, 2, "a");
  auto reader = f.make();
  REQUIRE(reader->load(false, false).ok());
  CHECK(reader->next_offset() == Offset(102));
  for (int i = 0; i < 10; ++i) f.append(*writer, 2, tag("b", i), 5000 + i);
  auto report = reader->catch_up(writer->tail(), false);
  REQUIRE(report.ok());
  CHECK(reader->tail() == writer->tail());
  CHECK(read_segment(*reader, Offset(119)).back().offset == Offset(121));
  // A stamp behind what the reader knows is refused.
  SegmentTail behind = writer->tail();
  behind.size = 10;
  CHECK(reader->catch_up(behind, false).error().code == ErrorCode::kCorruption);
}

TEST_CASE("SegmentReadReportsACorruptBatchWithFileAndPosition") {
  SegmentFixture f;
  uint64_t second = 0;
  {
    auto seg = f.make();
    REQUIRE(seg->create().ok());
    f.append(*seg, 3, "a");
    second = seg->size();
    f.append(*seg, 3, "b");
    f.append(*seg, 3, "c");
  }
  const std::string log = streamctl::test::segment_path(kDir, 100);
  Bytes bytes = streamctl::test::file_bytes(f.fs, log);
  bytes[second + 70] ^= std::byte{0xff};  // inside the second batch's records
  streamctl::test::write_bytes(f.fs, log, bytes);
  auto seg = f.make();
  REQUIRE(seg->load(false, false).ok());  // trusted load checks only the tail after the last index entry
  Bytes out;
  Offset next = Offset(100);
  auto r = seg->read(Offset(103), 1 << 20, Offset(1000), true, &out, &next);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kCorruption);
  CHECK(r.error().message.find(log) != std::string::npos);
  CHECK(r.error().message.find(tag("position ", second)) != std::string::npos);
  // The batch before it is still readable.
  auto first = read_segment(*seg, Offset(100));
  CHECK(first.size() == 3);
}
