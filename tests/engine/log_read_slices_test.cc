// Log::read_slices: the zero-copy read (segment file ranges for sendfile). Same batches, limits and offsets
// as read_into; copies instead when it cannot slice (no OS descriptors, bytes this Log has not CRC-checked);
// the slices stay readable after their segment is deleted or the Log closed.
#include <doctest/doctest.h>

#include "engine/log.h"
#include "tests/engine/log_test_helpers.h"
#include "tests/support/manual_clock.h"
#include "base/mem_fs.h"
#include "tests/support/temp_dir.h"

using namespace streamctl;
using namespace streamctl::engine;
using namespace streamctl::test;

namespace {

// Batches of 1..5 records of varying size over several 2 KiB segments, indexed every 100 bytes, so reads
// start mid-segment, skip indexed batches and cross segment boundaries.
std::unique_ptr<Log> filled_log(FileSystem& fs, ManualClock& clock, const std::string& dir, int batches = 60,
                                LogConfig config = small_config(2048, 100)) {
  auto log = open_log(log_options(&fs, &clock, dir, config));
  for (int i = 0; i < batches; ++i) {
    std::vector<std::string> values;
    for (int k = 0; k <= i % 5; ++k) values.push_back(tag("v", i * 10 + k, std::string(size_t(i % 7) * 9, '.')));
    append_values(*log, values);
  }
  return log;
}

// The bytes a ReadResult stands for: its records, or what its slices hold now.
Bytes materialize(const ReadResult& r) {
  Bytes out(r.records.begin(), r.records.end());
  for (const FileSlice& s : r.slices) {
    REQUIRE(s.file != nullptr);
    Bytes part(size_t(s.length));
    auto n = s.file->read_at(s.position, part);
    REQUIRE_MESSAGE(n.ok(), n.error().to_string());
    REQUIRE(*n == s.length);
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

}  // namespace

TEST_CASE("ReadSlicesReturnsTheBatchesReadIntoReturnsAsFileRanges") {
  TempDir dir("read-slices");
  ManualClock clock;
  auto log = filled_log(*posix_file_system(), clock, dir.join("r-0"));
  REQUIRE(log->segments().size() >= 3);
  const Offset end = log->log_end_offset();
  ReadResult sliced, copied;
  for (size_t max_bytes : {size_t(1) << 20, size_t(5000), size_t(700), size_t(1), size_t(64), size_t(300)}) {
    for (int64_t from = 0; from <= end.value; from += 3) {
      for (Offset max_offset : {end, Offset(from + 7), Offset(end.value / 2)}) {
        for (bool min_one : {true, false}) {
          CAPTURE(max_bytes);
          CAPTURE(from);
          CAPTURE(max_offset.value);
          CAPTURE(min_one);
          Status s = log->read_slices(Offset(from), max_bytes, max_offset, min_one, sliced);
          REQUIRE_MESSAGE(s.ok(), s.error().to_string());
          REQUIRE(log->read_into(Offset(from), max_bytes, max_offset, min_one, copied).ok());
          CHECK(sliced.records.empty());  // everything was appended, so checked, by this Log
          CHECK(materialize(sliced) == Bytes(copied.records.begin(), copied.records.end()));
          // No compaction gaps here: the next offset is exactly read_into's.
          CHECK(sliced.next_offset == copied.next_offset);
          CHECK(sliced.high_watermark == copied.high_watermark);
          CHECK(sliced.log_end_offset == copied.log_end_offset);
          CHECK(sliced.log_start_offset == copied.log_start_offset);
          CHECK(sliced.slices.size() <= log->segments().size());
        }
      }
    }
  }
  CHECK_FALSE(log->read_slices(end + 1, 100, end, true, sliced).ok());
  CHECK(log->read_slices(end + 1, 100, end, true, sliced).error().code == ErrorCode::kOffsetOutOfRange);
}

TEST_CASE("ReadSlicesCopiesOnAFileSystemWithoutDescriptors") {
  MemFileSystem fs;
  ManualClock clock;
  auto log = filled_log(fs, clock, "/data/r-0");
  ReadResult sliced, copied;
  REQUIRE(log->read_slices(Offset(3), 5000, log->high_watermark(), true, sliced).ok());
  REQUIRE(log->read_into(Offset(3), 5000, log->high_watermark(), true, copied).ok());
  CHECK(sliced.slices.empty());
  CHECK(!sliced.records.empty());
  CHECK(sliced.records == copied.records);
  CHECK(sliced.next_offset == copied.next_offset);
}

TEST_CASE("BytesThisLogHasNotCheckedAreCopiedAndCheckedThenSliced") {
  TempDir dir("read-slices");
  ManualClock clock;
  const std::string path = dir.join("r-0");
  auto writer = filled_log(*posix_file_system(), clock, path, 20);
  // Another Log on the directory ("another process") appends: the reader adopts those bytes on refresh
  // without checking them, so its first read of them copies (and checks) them, and later ones slice them.
  auto reader = open_log(log_options(posix_file_system(), &clock, path, small_config(2048, 100)));
  const Offset before = reader->log_end_offset();
  append_values(*writer, {"late-1", "late-2", "late-3"});
  REQUIRE(reader->refresh().ok());
  REQUIRE(reader->log_end_offset() == before + 3);
  ReadResult r;
  REQUIRE(reader->read_slices(before, 1 << 20, reader->high_watermark(), true, r).ok());
  CHECK(r.slices.empty());
  CHECK(values_of(decode_all(r.records)) == std::vector<std::string>{"late-1", "late-2", "late-3"});
  const Bytes first(r.records.begin(), r.records.end());
  REQUIRE(reader->read_slices(before, 1 << 20, reader->high_watermark(), true, r).ok());
  CHECK(r.records.empty());
  CHECK(r.slices.size() == 1);
  CHECK(materialize(r) == first);
}

TEST_CASE("SlicesStayReadableAfterRetentionDeletesTheirSegmentAndTheLogCloses") {
  TempDir dir("read-slices");
  ManualClock clock;
  auto log = filled_log(*posix_file_system(), clock, dir.join("r-0"));
  auto segments = log->segments();
  REQUIRE(segments.size() >= 3);
  ReadResult r;
  REQUIRE(log->read_slices(Offset(0), 1 << 20, log->high_watermark(), true, r).ok());
  REQUIRE(r.slices.size() == segments.size());
  const Bytes before = materialize(r);
  // Everything below the second segment goes: its file is unlinked while the slice still refers to it.
  REQUIRE(log->delete_records_before(segments[1].base_offset).ok());
  REQUIRE(log->segments().front().base_offset == segments[1].base_offset);
  CHECK_FALSE(posix_file_system()->exists(segments[0].path).value());
  REQUIRE(log->close().ok());
  log.reset();
  CHECK(materialize(r) == before);
  CHECK(values_of(decode_all(before)).front() == "v0");
}
