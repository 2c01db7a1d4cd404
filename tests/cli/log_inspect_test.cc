// Offline segment/index inspection (cli/log_inspect.h) on hand-built segments in a MemFileSystem.
#include "cli/log_inspect.h"

#include <doctest/doctest.h>

#include "base/coding.h"
#include "base/mem_fs.h"

using streamctl::cli::BatchReport;
using streamctl::cli::IndexKind;
using streamctl::cli::ScanOptions;
using streamctl::cli::SegmentSummary;
using streamctl::Bytes;
using streamctl::Offset;
using streamctl::Record;
using streamctl::Timestamp;

namespace {

// prefix + decimal n (written out: GCC 12's -Wrestrict misfires on `"literal" + std::to_string(n)` at -O3).
std::string cat(const char* prefix, int64_t n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

// A segment of `batches` batches of 3 records each, starting at offset `base`; positions of each batch.
struct BuiltSegment {
  Bytes bytes;
  std::vector<uint64_t> positions;
  std::vector<Offset> last_offsets;
};

BuiltSegment build_segment(int64_t base, int batches) {
  BuiltSegment seg;
  int64_t next = base;
  for (int b = 0; b < batches; ++b) {
    std::vector<Record> records;
    for (int i = 0; i < 3; ++i) {
      Record r;
      r.timestamp = Timestamp(1700000000000 + next * 10 + i);
      r.key = cat("k", b);
      r.value = cat("value ", next + i);
      records.push_back(std::move(r));
    }
    auto batch = streamctl::build_batch(records, Offset(next), {});
    REQUIRE(batch.ok());
    seg.positions.push_back(seg.bytes.size());
    seg.last_offsets.push_back(Offset(next + 2));
    seg.bytes.insert(seg.bytes.end(), batch->begin(), batch->end());
    next += 3;
  }
  return seg;
}

void write(streamctl::MemFileSystem& fs, const std::string& path, const Bytes& bytes) {
  REQUIRE(fs.create_dirs(streamctl::parent_path(path)).ok());
  REQUIRE(streamctl::write_file_atomically(fs, path, bytes).ok());
}

SegmentSummary scan(streamctl::MemFileSystem& fs, const std::string& path, ScanOptions options = {},
                    std::vector<BatchReport>* reports = nullptr) {
  auto s = streamctl::cli::scan_segment(fs, path, options, [&](const BatchReport& b) {
    if (reports != nullptr) reports->push_back(b);
  });
  REQUIRE_MESSAGE(s.ok(), s.error().to_string());
  return *s;
}

const std::string kSeg = "/d/t-0/00000000000000000100.log";

}  // namespace

TEST_CASE("CleanSegmentIsScannedBatchByBatch") {
  streamctl::MemFileSystem fs;
  auto seg = build_segment(100, 4);
  write(fs, kSeg, seg.bytes);
  std::vector<BatchReport> reports;
  ScanOptions o;
  o.decode_records = true;
  auto s = scan(fs, kSeg, o, &reports);
  CHECK(s.clean());
  CHECK(s.batches == 4);
  CHECK(s.records == 12);
  CHECK(s.first_offset == Offset(100));
  CHECK(s.last_offset == Offset(111));
  CHECK(s.valid_bytes == seg.bytes.size());
  CHECK(s.file_base_offset == Offset(100));
  REQUIRE(reports.size() == 4);
  CHECK(reports[2].position == seg.positions[2]);
  REQUIRE(reports[2].records.size() == 3);
  CHECK(reports[2].records[0].value == "value 106");
}

TEST_CASE("FlippedByteIsReportedAtItsBatchAndScanningGoesOn") {
  streamctl::MemFileSystem fs;
  auto seg = build_segment(100, 4);
  seg.bytes[seg.positions[1] + 70] ^= std::byte{0x40};
  write(fs, kSeg, seg.bytes);
  std::vector<BatchReport> reports;
  auto s = scan(fs, kSeg, {}, &reports);
  CHECK(!s.clean());
  CHECK(s.first_error_position == seg.positions[1]);
  CHECK(s.first_error.find(cat("at byte position ", int64_t(seg.positions[1]))) == 0);
  CHECK(s.batches == 4);
  CHECK(s.invalid_batches == 1);
  CHECK(!reports[1].valid);
  CHECK(reports[2].valid);

  ScanOptions stop;
  stop.stop_at_first_error = true;
  auto first = scan(fs, kSeg, stop);
  CHECK(first.batches == 2);  // stopped right after the bad batch
}

TEST_CASE("TornTailIsNamedWithItsPosition") {
  streamctl::MemFileSystem fs;
  auto seg = build_segment(100, 3);
  seg.bytes.erase(seg.bytes.end() - 5, seg.bytes.end());
  write(fs, kSeg, seg.bytes);
  auto s = scan(fs, kSeg);
  CHECK(s.truncated_tail);
  CHECK(s.first_error_position == seg.positions[2]);
  CHECK(s.first_error.find("torn tail") != std::string::npos);
  CHECK(s.batches == 2);
}

TEST_CASE("BrokenLengthStopsTheScan") {
  streamctl::MemFileSystem fs;
  auto seg = build_segment(100, 3);
  streamctl::put_be32(seg.bytes.data() + seg.positions[1] + 8, 3);  // batchLength 3
  write(fs, kSeg, seg.bytes);
  auto s = scan(fs, kSeg);
  CHECK(s.stopped);
  CHECK(s.batches == 2);
  CHECK(s.first_error.find("batchLength is 3") != std::string::npos);
}

TEST_CASE("BatchBelowTheSegmentBaseOffsetIsInvalid") {
  streamctl::MemFileSystem fs;
  auto seg = build_segment(50, 2);  // offsets 50.. in a file named ...100.log
  write(fs, kSeg, seg.bytes);
  auto s = scan(fs, kSeg);
  CHECK(!s.clean());
  CHECK(s.first_error.find("below the segment's base offset 100") != std::string::npos);
}

TEST_CASE("PreallocatedZerosAfterTheLastBatchAreNotAnError") {
  streamctl::MemFileSystem fs;
  auto seg = build_segment(100, 2);
  const size_t used = seg.bytes.size();
  seg.bytes.resize(used + 4096);
  write(fs, kSeg, seg.bytes);
  auto s = scan(fs, kSeg);
  CHECK(s.clean());
  CHECK(s.zero_tail_bytes == 4096);
  CHECK(s.valid_bytes == used);
}

TEST_CASE("OffsetIndexIsCheckedAgainstTheBatches") {
  streamctl::MemFileSystem fs;
  auto seg = build_segment(100, 4);
  write(fs, kSeg, seg.bytes);
  auto entry = [&](size_t batch, uint32_t position_delta) {
    Bytes e(8);
    streamctl::put_be32(e.data(), uint32_t(seg.last_offsets[batch].value - 100));
    streamctl::put_be32(e.data() + 4, uint32_t(seg.positions[batch]) + position_delta);
    return e;
  };
  const std::string index = "/d/t-0/00000000000000000100.index";

  Bytes good = entry(1, 0);
  Bytes e3 = entry(3, 0);
  good.insert(good.end(), e3.begin(), e3.end());
  write(fs, index, good);
  auto r = streamctl::cli::read_index(fs, index, IndexKind::kOffset, Offset(100));
  REQUIRE(r.ok());
  CHECK(r->entries.size() == 2);
  ScanOptions o;
  o.offset_index = &*r;
  auto s = scan(fs, kSeg, o);
  CHECK(s.clean());
  CHECK(r->clean());

  Bytes bad = entry(1, 5);  // points into the middle of batch 1
  write(fs, index, bad);
  auto rb = streamctl::cli::read_index(fs, index, IndexKind::kOffset, Offset(100));
  REQUIRE(rb.ok());
  o.offset_index = &*rb;
  scan(fs, kSeg, o);
  CHECK(!rb->clean());
  CHECK(rb->first_error_entry == size_t(0));
  CHECK(rb->first_error.find("not the start of a valid batch") != std::string::npos);

  Bytes unordered = entry(3, 0);
  Bytes e1 = entry(1, 0);
  unordered.insert(unordered.end(), e1.begin(), e1.end());
  write(fs, index, unordered);
  auto ru = streamctl::cli::read_index(fs, index, IndexKind::kOffset, Offset(100));
  REQUIRE(ru.ok());
  CHECK(!ru->clean());  // shape alone: offsets go down
  CHECK(ru->first_error.find("does not increase") != std::string::npos);

  Bytes ragged = entry(1, 0);
  ragged.push_back(std::byte{1});
  write(fs, index, ragged);
  auto rr = streamctl::cli::read_index(fs, index, IndexKind::kOffset, Offset(100));
  REQUIRE(rr.ok());
  CHECK(rr->first_error.find("not a whole number") != std::string::npos);
}

TEST_CASE("TimeIndexEntriesMustLieInsideTheSegment") {
  streamctl::MemFileSystem fs;
  auto seg = build_segment(100, 3);
  write(fs, kSeg, seg.bytes);
  const std::string index = "/d/t-0/00000000000000000100.timeindex";
  auto entry = [](int64_t ts, uint32_t rel) {
    Bytes e(12);
    streamctl::put_be64(e.data(), uint64_t(ts));
    streamctl::put_be32(e.data() + 8, rel);
    return e;
  };
  // Batch 1 holds offsets 103..105 with timestamps up to 1700000001032 (see build_segment).
  write(fs, index, entry(1700000001032, 3));
  auto ok = streamctl::cli::read_index(fs, index, IndexKind::kTime, Offset(100));
  REQUIRE(ok.ok());
  ScanOptions o;
  o.time_index = &*ok;
  scan(fs, kSeg, o);
  CHECK(ok->clean());

  write(fs, index, entry(1700000009999, 3));  // a timestamp no record up to offset 103 has
  auto future = streamctl::cli::read_index(fs, index, IndexKind::kTime, Offset(100));
  REQUIRE(future.ok());
  o.time_index = &*future;
  scan(fs, kSeg, o);
  CHECK(future->first_error.find("larger than every record timestamp") != std::string::npos);

  write(fs, index, entry(1700000001032, 50));  // offset 150: past the segment
  auto past = streamctl::cli::read_index(fs, index, IndexKind::kTime, Offset(100));
  REQUIRE(past.ok());
  o.time_index = &*past;
  scan(fs, kSeg, o);
  CHECK(past->first_error.find("past the last valid batch") != std::string::npos);
}

TEST_CASE("MissingIndexIsReportedAsAbsentNotAsAnError") {
  streamctl::MemFileSystem fs;
  auto r = streamctl::cli::read_index(fs, "/d/t-0/00000000000000000000.index", IndexKind::kOffset, Offset(0));
  REQUIRE(r.ok());
  CHECK(!r->exists);
  CHECK(r->clean());
}
