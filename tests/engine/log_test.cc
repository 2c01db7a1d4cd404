// Log: append, roll, read, offsets, truncation and delete-records on one process (MemFileSystem unless noted).
#include "engine/log.h"

#include <doctest/doctest.h>

#include <random>

#include "kafka/format/compression.h"
#include "engine/file_names.h"
#include "tests/engine/log_test_helpers.h"
#include "tests/support/manual_clock.h"
#include "base/mem_fs.h"
#include "tests/support/temp_dir.h"

using namespace streamctl;
using namespace streamctl::engine;
using namespace streamctl::test;

namespace {

constexpr const char* kDir = "/data/t-0";

struct LogFixture {
  MemFileSystem fs;
  ManualClock clock;
  LogConfig config = small_config();
  std::unique_ptr<Log> log;

  LogFixture() { reopen(); }
  explicit LogFixture(const LogConfig& c) : config(c) { reopen(); }
  void reopen() {
    log.reset();
    log = open_log(log_options(&fs, &clock, kDir, config));
  }
  std::vector<std::string> log_files() {
    std::vector<std::string> out;
    auto names = fs.list_dir(kDir);
    REQUIRE(names.ok());
    for (const auto& name : *names) {
      auto p = parse_segment_file_name(name);
      if (p && p->kind == SegmentFileKind::kLog && p->staging == StagingSuffix::kNone) out.push_back(name);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

Compression batch_codec(const Bytes& batch) {
  BatchIterator it(batch);
  REQUIRE(it.next());
  return it.header().compression();
}

Bytes request_of(const std::vector<Bytes>& batches) {
  Bytes out;
  for (const auto& b : batches) out.insert(out.end(), b.begin(), b.end());
  return out;
}

}  // namespace

TEST_CASE("OpeningAnEmptyDirectoryCreatesTheFirstSegment") {
  LogFixture f;
  CHECK(f.log->log_start_offset() == Offset(0));
  CHECK(f.log->log_end_offset() == Offset(0));
  CHECK(f.log->high_watermark() == Offset(0));
  CHECK(f.log->latest_epoch() == kNoLeaderEpoch);
  CHECK(f.log_files() == std::vector<std::string>{"00000000000000000000.log"});
  CHECK(f.fs.exists(segment_path(kDir, 0, SegmentFileKind::kOffsetIndex)).value());
  CHECK(f.fs.exists(segment_path(kDir, 0, SegmentFileKind::kTimeIndex)).value());
  CHECK(f.log->recovery_report().segments == 1);
  CHECK(f.log->recovery_report().dropped_bytes == 0);
  auto r = f.log->read(Offset(0), 1000);
  REQUIRE(r.ok());
  CHECK(r->records.empty());
  CHECK(r->next_offset == Offset(0));
}

TEST_CASE("AppendAssignsConsecutiveOffsetsAndReadReturnsThem") {
  LogFixture f;
  auto a = append_values(*f.log, {"a", "b", "c"});
  CHECK(a.base_offset == Offset(0));
  CHECK(a.last_offset == Offset(2));
  CHECK(a.record_count == 3);
  CHECK(a.log_start_offset == Offset(0));
  CHECK(a.log_append_time == kNoTimestamp);
  auto b = append_values(*f.log, {"d"});
  CHECK(b.base_offset == Offset(3));
  CHECK(f.log->log_end_offset() == Offset(4));
  CHECK(f.log->high_watermark() == Offset(4));
  auto all = read_all(*f.log);
  CHECK(values_of(all) == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK(offsets_of(all) == std::vector<int64_t>{0, 1, 2, 3});
  // Records appended without a timestamp get the clock's time.
  CHECK(all[0].timestamp == f.clock.now());
  // Reading from the middle of a batch returns the whole batch.
  auto mid = f.log->read(Offset(1), 1 << 20);
  REQUIRE(mid.ok());
  auto records = decode_all(mid->records);
  CHECK(records.front().offset == Offset(0));
  CHECK(mid->next_offset == Offset(4));
  CHECK(mid->log_end_offset == Offset(4));
}

TEST_CASE("AppendKeepsKeysHeadersNullsAndTimestamps") {
  LogFixture f;
  std::vector<Record> records{make_record("k1", "v1", Timestamp(123)), make_record(std::nullopt, std::nullopt, Timestamp(456)),
                              make_record("k3", "", Timestamp(789))};
  records[0].headers.push_back(RecordHeader{"h", std::nullopt});
  REQUIRE(f.log->append(records, BatchBuildOptions{}).ok());
  auto all = read_all(*f.log);
  REQUIRE(all.size() == 3);
  CHECK(all[0].key == "k1");
  CHECK(all[0].headers == records[0].headers);
  CHECK(all[0].timestamp == Timestamp(123));
  CHECK_FALSE(all[1].key.has_value());
  CHECK_FALSE(all[1].value.has_value());
  CHECK(all[2].value == "");
}

TEST_CASE("SegmentsRollWhenTheNextBatchWouldExceedSegmentBytes") {
  LogFixture f(small_config(/*segment_bytes=*/400));
  for (int i = 0; i < 30; ++i) append_values(*f.log, {tag("value-number-", i, std::string(40, 'x'))});
  auto segments = f.log->segments();
  REQUIRE(segments.size() > 3);
  for (size_t i = 0; i < segments.size(); ++i) {
    CHECK(segments[i].size_bytes <= 400);
    if (i + 1 < segments.size()) CHECK(segments[i].next_offset == segments[i + 1].base_offset);
  }
  CHECK(segments.front().base_offset == Offset(0));
  CHECK(segments.back().next_offset == Offset(30));
  CHECK(f.log_files().size() == segments.size());
  CHECK(f.log_files()[1] == log_file_name(segments[1].base_offset));
  CHECK(read_all(*f.log, Offset(0), 100).size() == 30);
}

TEST_CASE("ABatchLargerThanSegmentBytesStillGetsItsOwnSegment") {
  LogFixture f(small_config(/*segment_bytes=*/100));
  append_values(*f.log, {std::string(300, 'a')});
  append_values(*f.log, {std::string(300, 'b')});
  auto segments = f.log->segments();
  REQUIRE(segments.size() == 2);
  CHECK(segments[1].base_offset == Offset(1));
  CHECK(read_all(*f.log).size() == 2);
}

TEST_CASE("SegmentsRollOnSegmentMsByTheInjectedClock") {
  LogConfig c = small_config(1 << 20);
  c.segment_ms = 60'000;
  LogFixture f(c);
  append_values(*f.log, {"a"});
  f.clock.advance_ms(59'000);
  append_values(*f.log, {"b"});
  CHECK(f.log->segments().size() == 1);
  f.clock.advance_ms(2'000);  // the first batch is now 61 s old
  append_values(*f.log, {"c"});
  auto segments = f.log->segments();
  REQUIRE(segments.size() == 2);
  CHECK(segments[1].base_offset == Offset(2));
  // The new segment's age counts from its own first batch.
  f.clock.advance_ms(30'000);
  append_values(*f.log, {"d"});
  CHECK(f.log->segments().size() == 2);
  // And it survives a reopen: the first batch's timestamp is on disk.
  f.reopen();
  f.clock.advance_ms(31'000);
  append_values(*f.log, {"e"});
  CHECK(f.log->segments().size() == 3);
}

TEST_CASE("SegmentsRollWhenTheIndexIsFull") {
  LogConfig c = small_config(1 << 20, /*index_interval_bytes=*/0);
  c.segment_index_bytes = 8 * 4;  // room for 4 offset index entries
  LogFixture f(c);
  for (int i = 0; i < 20; ++i) append_values(*f.log, {tag("v", i)});
  auto segments = f.log->segments();
  CHECK(segments.size() >= 3);
  CHECK(read_all(*f.log).size() == 20);
}

TEST_CASE("ReadByOffsetCrossesSegmentsAndHonoursMaxBytes") {
  LogFixture f(small_config(/*segment_bytes=*/300));
  for (int i = 0; i < 50; ++i) append_values(*f.log, {tag("r", i)});
  REQUIRE(f.log->segments().size() > 5);
  for (int64_t from : {0, 7, 23, 49}) {
    auto r = f.log->read(Offset(from), 1 << 20);
    REQUIRE(r.ok());
    auto records = decode_all(r->records);
    REQUIRE_FALSE(records.empty());
    CHECK(records.front().offset == Offset(from));  // one record per batch here
    CHECK(records.back().offset == Offset(49));     // continues into later segments
    CHECK(r->next_offset == Offset(50));
  }
  // max_bytes: only whole batches that fit.
  auto one = f.log->read(Offset(10), 1);
  REQUIRE(one.ok());
  CHECK(decode_all(one->records).size() == 1);  // min_one_batch
  CHECK(one->next_offset == Offset(11));
  auto none = f.log->read(Offset(10), 1, /*min_one_batch=*/false);
  REQUIRE(none.ok());
  CHECK(none->records.empty());
  auto some = f.log->read(Offset(10), 200);
  REQUIRE(some.ok());
  CHECK(some->records.size() <= 200);
  CHECK(decode_all(some->records).size() >= 2);
  // Reading in small steps visits every record once.
  auto stepped = read_all(*f.log, Offset(0), 150);
  CHECK(stepped.size() == 50);
}

TEST_CASE("ReadOutsideTheLogIsOffsetOutOfRange") {
  LogFixture f;
  append_values(*f.log, {"a", "b"});
  auto past = f.log->read(Offset(3), 100);
  REQUIRE_FALSE(past.ok());
  CHECK(past.error().code == ErrorCode::kOffsetOutOfRange);
  CHECK(past.error().message.find("log end offset 2") != std::string::npos);
  CHECK(f.log->read(Offset(-1), 100).error().code == ErrorCode::kOffsetOutOfRange);
  auto end = f.log->read(Offset(2), 100);
  REQUIRE(end.ok());
  CHECK(end->records.empty());
}

TEST_CASE("ReadsStopAtTheHighWatermark") {
  LogFixture f(small_config(300));
  for (int i = 0; i < 10; ++i) append_values(*f.log, {tag("x", i)});
  f.log->set_high_watermark(Offset(4));
  CHECK(f.log->high_watermark() == Offset(4));
  auto all = read_all(*f.log);
  CHECK(all.size() == 4);
  auto r = f.log->read_up_to(Offset(0), 1 << 20, Offset(7));
  REQUIRE(r.ok());
  CHECK(decode_all(r->records).back().offset == Offset(6));
  f.log->set_high_watermark(Offset(100));  // clamped to the log end offset
  CHECK(f.log->high_watermark() == Offset(10));
}

TEST_CASE("OffsetForTimestampFindsTheFirstRecordAtOrAfterIt") {
  LogFixture f(small_config(/*segment_bytes=*/300, /*index_interval_bytes=*/32));
  for (int i = 0; i < 40; ++i) {
    std::vector<Record> rs{make_record(std::nullopt, tag("t", i), Timestamp(10'000 + 100 * i))};
    REQUIRE(f.log->append(rs, BatchBuildOptions{}).ok());
  }
  REQUIRE(f.log->segments().size() > 3);
  CHECK(f.log->offset_for_timestamp(Timestamp(0)).value() == Offset(0));
  CHECK(f.log->offset_for_timestamp(Timestamp(10'000)).value() == Offset(0));
  CHECK(f.log->offset_for_timestamp(Timestamp(10'001)).value() == Offset(1));
  CHECK(f.log->offset_for_timestamp(Timestamp(12'550)).value() == Offset(26));
  CHECK(f.log->offset_for_timestamp(Timestamp(13'900)).value() == Offset(39));
  CHECK(f.log->offset_for_timestamp(Timestamp(13'901)).value() == Offset(40));  // none: log end
  // Within a batch, the exact record.
  std::vector<Record> batch{make_record(std::nullopt, "p", Timestamp(20'000)), make_record(std::nullopt, "q", Timestamp(20'500)),
                            make_record(std::nullopt, "r", Timestamp(21'000))};
  REQUIRE(f.log->append(batch, BatchBuildOptions{}).ok());
  CHECK(f.log->offset_for_timestamp(Timestamp(20'400)).value() == Offset(41));
  // It survives a reopen (time indexes of closed segments loaded lazily).
  f.reopen();
  CHECK(f.log->offset_for_timestamp(Timestamp(12'550)).value() == Offset(26));
}

TEST_CASE("TruncateToFollowsRedpandasWorkedExample") {
  // segment: {[10,10][11,30][31,100][101,103]}; truncate at offset (31) leaves {[10,10][11,30]}.
  LogFixture f(small_config(/*segment_bytes=*/1000));
  append_values(*f.log, std::vector<std::string>(10, "pre"));  // 0..9
  REQUIRE(f.log->delete_records_before(Offset(10)).ok());
  auto batch_of = [&](int n, const std::string& tag) {
    std::vector<std::string> v;
    for (int i = 0; i < n; ++i) v.push_back(tag + std::to_string(i));
    return append_values(*f.log, v);
  };
  CHECK(batch_of(1, "a").base_offset == Offset(10));
  CHECK(batch_of(20, "b").base_offset == Offset(11));
  CHECK(batch_of(70, "c").base_offset == Offset(31));
  CHECK(batch_of(3, "d").last_offset == Offset(103));
  const size_t segments_before = f.log->segments().size();
  REQUIRE(segments_before >= 2);

  Status inside = f.log->truncate_to(Offset(50));
  REQUIRE_FALSE(inside.ok());
  CHECK(inside.error().code == ErrorCode::kInvalidArgument);
  CHECK(f.log->log_end_offset() == Offset(104));

  REQUIRE(f.log->truncate_to(Offset(31)).ok());
  CHECK(f.log->log_end_offset() == Offset(31));
  CHECK(f.log->high_watermark() == Offset(31));
  auto kept = read_all(*f.log);
  REQUIRE(kept.size() == 21);
  CHECK(kept.front().offset == Offset(10));
  CHECK(kept.back().offset == Offset(30));
  CHECK(f.log->segments().size() <= segments_before);
  // Appends continue at the cut, and all of it survives a reopen.
  CHECK(append_values(*f.log, {"new"}).base_offset == Offset(31));
  f.reopen();
  CHECK(f.log->log_end_offset() == Offset(32));
  CHECK(read_all(*f.log).back().value == "new");
  CHECK(f.log->truncate_to(Offset(500)).ok());  // past the end: nothing to do
  CHECK(f.log->log_end_offset() == Offset(32));
}

TEST_CASE("TruncateToRemovesLaterSegmentsAndTheirIndexes") {
  LogFixture f(small_config(/*segment_bytes=*/250));
  for (int i = 0; i < 30; ++i) append_values(*f.log, {tag("x", i)});
  auto before = f.log->segments();
  REQUIRE(before.size() >= 4);
  Offset cut = before[1].base_offset + 1;
  REQUIRE(f.log->truncate_to(cut).ok());
  auto after = f.log->segments();
  REQUIRE(after.size() == 2);
  CHECK(after.back().next_offset == cut);
  for (size_t i = 2; i < before.size(); ++i) {
    CHECK_FALSE(f.fs.exists(before[i].path).value());
    CHECK_FALSE(f.fs.exists(segment_path(kDir, before[i].base_offset.value, SegmentFileKind::kOffsetIndex)).value());
  }
  f.reopen();
  CHECK(f.log->log_end_offset() == cut);
  CHECK(read_all(*f.log).size() == size_t(cut.value));
}

TEST_CASE("TruncateBelowTheLogStartStartsAnEmptyLogThere") {
  LogFixture f(small_config(250));
  for (int i = 0; i < 20; ++i) append_values(*f.log, {tag("x", i)});
  REQUIRE(f.log->delete_records_before(Offset(15)).ok());
  REQUIRE(f.log->truncate_to(Offset(12)).ok());
  CHECK(f.log->log_start_offset() == Offset(12));
  CHECK(f.log->log_end_offset() == Offset(12));
  CHECK(append_values(*f.log, {"y"}).base_offset == Offset(12));
  f.reopen();
  CHECK(f.log->log_start_offset() == Offset(12));
  CHECK(values_of(read_all(*f.log)) == std::vector<std::string>{"y"});
}

TEST_CASE("DeleteRecordsBeforeMovesTheLogStartAndDeletesWholeSegments") {
  LogFixture f(small_config(/*segment_bytes=*/250));
  for (int i = 0; i < 30; ++i) append_values(*f.log, {tag("x", i)});
  auto before = f.log->segments();
  REQUIRE(before.size() >= 4);
  Offset target = before[2].base_offset + 1;  // inside the third segment
  REQUIRE(f.log->delete_records_before(target).ok());
  CHECK(f.log->log_start_offset() == target);
  auto after = f.log->segments();
  CHECK(after.front().base_offset == before[2].base_offset);
  CHECK_FALSE(f.fs.exists(before[0].path).value());
  CHECK_FALSE(f.fs.exists(before[1].path).value());
  CHECK(f.log->read(target - 1, 100).error().code == ErrorCode::kOffsetOutOfRange);
  auto rest = read_all(*f.log);
  CHECK(rest.front().offset == target);
  CHECK(rest.size() == size_t(30 - target.value));
  // Persisted: a reopen keeps the log start inside the segment.
  f.reopen();
  CHECK(f.log->log_start_offset() == target);
  // Backwards is a no-op, beyond the high watermark an error.
  CHECK(f.log->delete_records_before(Offset(1)).ok());
  CHECK(f.log->log_start_offset() == target);
  CHECK(f.log->delete_records_before(Offset(31)).error().code == ErrorCode::kOffsetOutOfRange);
  REQUIRE(f.log->delete_records_before(Offset(30)).ok());
  CHECK(f.log->log_start_offset() == Offset(30));
  CHECK(f.log->read(Offset(30), 100).value().records.empty());
}

TEST_CASE("AppendSplitsRecordsIntoBatchesBelowMaxMessageBytes") {
  LogConfig c = small_config(1 << 20);
  c.max_message_bytes = 1000;
  LogFixture f(c);
  std::vector<Record> records = make_records(100, "value-", 20);
  auto a = f.log->append(records, BatchBuildOptions{});
  REQUIRE(a.ok());
  CHECK(a->record_count == 100);
  CHECK(a->last_offset == Offset(99));
  auto r = f.log->read(Offset(0), 1 << 20);
  REQUIRE(r.ok());
  BatchIterator it(r->records);
  int batches = 0;
  while (it.next()) {
    ++batches;
    CHECK(it.batch().size() <= 1000);
  }
  CHECK(batches >= 3);
  CHECK(read_all(*f.log).size() == 100);
}

TEST_CASE("ARecordTooLargeForMaxMessageBytesIsRejectedWithSizeAndLimit") {
  LogConfig c = small_config(1 << 20);
  c.max_message_bytes = 500;
  LogFixture f(c);
  std::vector<Record> records{make_record(std::nullopt, "small"), make_record(std::nullopt, std::string(600, 'x'))};
  auto a = f.log->append(records, BatchBuildOptions{});
  REQUIRE_FALSE(a.ok());
  CHECK(a.error().code == ErrorCode::kRecordTooLarge);
  CHECK(a.error().message.find("500") != std::string::npos);
  CHECK(f.log->log_end_offset() == Offset(0));  // nothing appended
}

TEST_CASE("AppendBatchesRewritesBaseOffsetAndLeaderEpoch") {
  LogFixture f;
  append_values(*f.log, {"first"});
  Bytes request = request_of({make_batch(make_records(3, "a")), make_batch(make_records(2, "b"))});
  auto a = f.log->append_batches(request, /*leader_epoch=*/5);
  REQUIRE(a.ok());
  CHECK(a->base_offset == Offset(1));
  CHECK(a->last_offset == Offset(5));
  CHECK(a->record_count == 5);
  CHECK(a->bytes == request.size());
  CHECK(f.log->latest_epoch() == 5);
  auto r = f.log->read(Offset(1), 1 << 20);
  REQUIRE(r.ok());
  BatchIterator it(r->records);
  REQUIRE(it.next());
  CHECK(it.header().base_offset == Offset(1));
  CHECK(it.header().leader_epoch == 5);
  REQUIRE(it.next());
  CHECK(it.header().base_offset == Offset(4));
  // Stored bytes = client bytes except baseOffset and partitionLeaderEpoch.
  ByteSpan stored = it.batch();
  Bytes original = make_batch(make_records(2, "b"));
  REQUIRE(stored.size() == original.size());
  CHECK(std::equal(stored.begin() + 17, stored.end(), original.begin() + 17));
}

TEST_CASE("AppendBatchesIsAllOrNothing") {
  LogFixture f;
  Bytes good = make_batch(make_records(2, "g"));
  Bytes bad = make_batch(make_records(2, "h"));
  bad[bad.size() - 1] ^= std::byte{1};  // CRC no longer matches
  auto r = f.log->append_batches(request_of({good, bad}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kCorruption);
  CHECK(r.error().message.find("crc") != std::string::npos);
  CHECK(f.log->log_end_offset() == Offset(0));
  // A partial trailing batch.
  Bytes torn = request_of({good, good});
  torn.resize(torn.size() - 3);
  CHECK(f.log->append_batches(torn).error().code == ErrorCode::kCorruption);
  // Inconsistent record count / lastOffsetDelta.
  Bytes lying = make_batch(make_records(3, "l"));
  put_be32(lying.data() + 23, 7);  // lastOffsetDelta 7 with 3 records
  put_be32(lying.data() + 17, compute_batch_crc(lying));
  CHECK(f.log->append_batches(request_of({good, lying})).error().code == ErrorCode::kInvalidArgument);
  CHECK(f.log->log_end_offset() == Offset(0));
}

// A batch flagged gzip/zstd (or uncompressed) whose records section does not decode, with a valid CRC:
// stored, it would stop every reader of the partition (issue 14 item 2).
Bytes with_records_section(Compression codec, Bytes payload) {
  Bytes b = make_batch(make_records(2, "p"));
  b.resize(kBatchHeaderSize);
  b.insert(b.end(), payload.begin(), payload.end());
  put_be32(b.data() + kBatchLengthOffset, uint32_t(b.size() - kLogOverhead));
  uint16_t attributes = uint16_t(get_be16(b.data() + kAttributesOffset) & ~uint16_t(7)) | uint16_t(codec);
  put_be16(b.data() + kAttributesOffset, attributes);
  put_be32(b.data() + kCrcOffset, compute_batch_crc(b));
  REQUIRE(validate_batch(b).ok());
  return b;
}

TEST_CASE("AppendBatchesRefusesBatchesWhoseRecordsDoNotDecodeAndStoresNothing") {
  LogFixture f;
  Bytes good = make_batch(make_records(2, "g"));
  std::mt19937 rng(14);
  Bytes random(300);
  for (auto& byte : random) byte = std::byte(rng());
  for (Compression codec : {Compression::kGzip, Compression::kZstd, Compression::kLz4, Compression::kSnappy,
                            Compression::kNone}) {
    CAPTURE(compression_name(codec));
    auto r = f.log->append_batches(request_of({good, with_records_section(codec, random)}));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kCorruption);
    CHECK(r.error().message.find("record batch at byte " + std::to_string(good.size())) != std::string::npos);
    CHECK(f.log->log_end_offset() == Offset(0));
  }
  // Well-formed compressed records that do not match the header's recordCount are refused too.
  auto compressed = compress(Compression::kGzip, ByteSpan(make_batch(make_records(1, "x"))).subspan(kBatchHeaderSize), -1);
  REQUIRE(compressed.ok());
  auto r = f.log->append_batches(with_records_section(Compression::kGzip, *compressed));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kCorruption);
  // A real compressed batch still goes in.
  BatchBuildOptions o;
  o.compression = Compression::kZstd;
  o.append_time = Timestamp(1000);
  auto real = build_batch(make_records(3, "z"), Offset(0), o);
  REQUIRE(real.ok());
  REQUIRE(f.log->append_batches(*real).ok());
  CHECK(read_all(*f.log).size() == 3);
}

TEST_CASE("AppendBatchesRejectsABatchOverMaxMessageBytes") {
  LogConfig c = small_config(1 << 20);
  c.max_message_bytes = 200;
  LogFixture f(c);
  Bytes big = make_batch({make_record(std::nullopt, std::string(300, 'z'))});
  auto r = f.log->append_batches(big);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kRecordTooLarge);
  CHECK(r.error().message.find("200") != std::string::npos);
}

TEST_CASE("AppendBatchesRecompressesToTheTopicsCompressionType") {
  std::vector<Record> records = make_records(50, "r");
  records[3].headers.push_back({"h", std::string("v")});
  records[7].key = "k7";
  records[9].value.reset();
  for (size_t i = 0; i < records.size(); ++i) records[i].timestamp = Timestamp(1'000 + int64_t(i) * 3);
  BatchBuildOptions client;
  client.producer_id = 77;
  client.producer_epoch = 2;
  client.base_sequence = 40;
  auto plain = build_batch(records, Offset(0), client);
  REQUIRE(plain.ok());
  client.compression = Compression::kGzip;
  auto gzipped = build_batch(records, Offset(0), client);
  REQUIRE(gzipped.ok());

  // What one batch becomes on a topic with compression.type = `type`.
  auto stored_after = [&](const std::string& type, const Bytes& batch) {
    LogConfig c = small_config(1 << 20);
    c.compression_type = type;
    LogFixture f(c);
    auto a = f.log->append_batches(batch);
    REQUIRE_MESSAGE(a.ok(), a.error().message);
    CHECK(a->record_count == 50);
    auto r = f.log->read(Offset(0), 1 << 20);
    REQUIRE(r.ok());
    return Bytes(r->records.begin(), r->records.end());
  };
  for (const auto& [type, batch, codec] : std::vector<std::tuple<std::string, Bytes, Compression>>{
           {"zstd", *plain, Compression::kZstd},
           {"lz4", *gzipped, Compression::kLz4},
           {"uncompressed", *gzipped, Compression::kNone},
           {"producer", *gzipped, Compression::kGzip},
           {"gzip", *gzipped, Compression::kGzip}}) {
    CAPTURE(type);
    Bytes stored = stored_after(type, batch);
    BatchIterator it(stored);  // CRC checked
    REQUIRE(it.next());
    CHECK(it.header().compression() == codec);
    CHECK(it.header().producer_id == 77);
    CHECK(it.header().producer_epoch == 2);
    CHECK(it.header().base_sequence == 40);
    CHECK(it.header().record_count == 50);
    CHECK(it.header().max_timestamp == Timestamp(1'000 + 49 * 3));
    auto decoded = decode_records(it.batch());
    REQUIRE(decoded.ok());
    REQUIRE(decoded->size() == records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      CHECK((*decoded)[i].offset == Offset(int64_t(i)));
      CHECK((*decoded)[i].timestamp == records[i].timestamp);
      CHECK((*decoded)[i].key == records[i].key);
      CHECK((*decoded)[i].value == records[i].value);
      CHECK((*decoded)[i].headers == records[i].headers);
    }
    CHECK_FALSE(it.next());
    // A batch already in the topic's codec (or any, for "producer") is stored as sent.
    if (codec == batch_codec(batch)) CHECK(std::equal(stored.begin() + 17, stored.end(), batch.begin() + 17));
  }

  // max.message.bytes applies to what is stored: a small gzip batch that would be too large uncompressed.
  LogConfig c = small_config(1 << 20);
  c.compression_type = "uncompressed";
  c.max_message_bytes = 1000;
  LogFixture f(c);
  std::vector<Record> big{make_record(std::nullopt, std::string(5000, 'z'))};
  BatchBuildOptions gz;
  gz.compression = Compression::kGzip;
  gz.append_time = Timestamp(5);
  auto small = build_batch(big, Offset(0), gz);
  REQUIRE(small.ok());
  REQUIRE(small->size() < 1000);
  auto r = f.log->append_batches(*small);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kRecordTooLarge);
}

TEST_CASE("LogAppendTimeTopicsStampTheBrokerTimeAndKeepAValidCrc") {
  LogConfig c = small_config(1 << 20);
  c.message_timestamp_type = TimestampType::kLogAppendTime;
  LogFixture f(c);
  f.clock.set_now(Timestamp(5'000'000));
  auto a = f.log->append_batches(make_batch(make_records(3, "l"), Timestamp(42)));
  REQUIRE(a.ok());
  CHECK(a->log_append_time == Timestamp(5'000'000));
  std::vector<Record> own{make_record(std::nullopt, "m", Timestamp(7))};
  auto b = f.log->append(own, BatchBuildOptions{});
  REQUIRE(b.ok());
  auto r = f.log->read(Offset(0), 1 << 20);
  REQUIRE(r.ok());
  BatchIterator it(r->records);  // checks every CRC
  int n = 0;
  while (it.next()) {
    CHECK(it.header().timestamp_type() == TimestampType::kLogAppendTime);
    CHECK(it.header().max_timestamp == Timestamp(5'000'000));
    ++n;
  }
  CHECK(it.status().ok());
  CHECK(n == 2);
  for (const auto& rec : decode_all(r->records)) CHECK(rec.timestamp == Timestamp(5'000'000));
}

TEST_CASE("FlushWritesTheRecoveryCheckpointAndFlushMessagesFlushesByItself") {
  LogConfig c = small_config(1 << 20);
  c.flush_messages = 5;
  LogFixture f(c);
  const std::string checkpoint = join_path(kDir, std::string(kRecoveryCheckpointFileName));
  append_values(*f.log, {"a", "b"});
  CHECK_FALSE(f.fs.exists(checkpoint).value());
  append_values(*f.log, {"c", "d", "e"});  // 5 unflushed records: flushes
  REQUIRE(f.fs.exists(checkpoint).value());
  Bytes first = file_bytes(f.fs, checkpoint);
  append_values(*f.log, {"f"});
  CHECK(file_bytes(f.fs, checkpoint) == first);
  REQUIRE(f.log->flush().ok());
  CHECK(file_bytes(f.fs, checkpoint) != first);
}

TEST_CASE("FlushMsFlushesWhenTheOldestUnflushedAppendIsOldEnough") {
  LogConfig c = small_config(1 << 20);
  c.flush_ms = 1000;
  LogFixture f(c);
  const std::string checkpoint = join_path(kDir, std::string(kRecoveryCheckpointFileName));
  append_values(*f.log, {"a"});
  f.clock.advance_ms(500);
  append_values(*f.log, {"b"});
  CHECK_FALSE(f.fs.exists(checkpoint).value());
  f.clock.advance_ms(600);
  append_values(*f.log, {"c"});
  CHECK(f.fs.exists(checkpoint).value());
}

TEST_CASE("AClosedLogRefusesWork") {
  LogFixture f;
  append_values(*f.log, {"a"});
  REQUIRE(f.log->close().ok());
  CHECK(f.log->close().ok());
  CHECK(f.log->append(make_records(1), BatchBuildOptions{}).error().code == ErrorCode::kUnavailable);
  CHECK(f.log->read(Offset(0), 10).error().code == ErrorCode::kUnavailable);
  f.reopen();
  CHECK(read_all(*f.log).size() == 1);
}

TEST_CASE("ReopeningKeepsOffsetsEpochAndData") {
  LogFixture f(small_config(300));
  for (int i = 0; i < 25; ++i) {
    BatchBuildOptions o;
    o.leader_epoch = 3;
    REQUIRE(f.log->append(make_records(2, tag("e", i, "-")), o).ok());
  }
  f.reopen();
  CHECK(f.log->log_end_offset() == Offset(50));
  CHECK(f.log->latest_epoch() == 3);
  CHECK(read_all(*f.log).size() == 50);
  CHECK(f.log->recovery_report().scanned_bytes == 0);  // close() flushed: nothing to scan
}

TEST_CASE("UpdateConfigTakesEffectForLaterAppends") {
  LogFixture f(small_config(1 << 20));
  append_values(*f.log, {std::string(100, 'a')});
  LogConfig c = f.config;
  c.segment_bytes = 150;
  f.log->update_config(c);
  CHECK(f.log->config().segment_bytes == 150);
  append_values(*f.log, {std::string(100, 'b')});
  CHECK(f.log->segments().size() == 2);
}

TEST_CASE("SizeBytesCountsEverySegment") {
  LogFixture f(small_config(300));
  for (int i = 0; i < 20; ++i) append_values(*f.log, {tag("s", i)});
  uint64_t sum = 0;
  for (const auto& s : f.log->segments()) sum += s.size_bytes;
  CHECK(f.log->size_bytes() == sum);
  f.reopen();
  CHECK(f.log->size_bytes() == sum);
}

TEST_CASE("TheLogWorksOnThePosixFileSystem") {
  TempDir tmp("streamctl-log");
  ManualClock clock;
  std::string dir = tmp.join("orders-0");
  {
    auto log = open_log(log_options(posix_file_system(), &clock, dir, small_config(400)));
    for (int i = 0; i < 40; ++i) append_values(*log, {tag("p", i)});
    REQUIRE(log->flush().ok());
  }
  auto log = open_log(log_options(posix_file_system(), &clock, dir, small_config(400)));
  CHECK(log->log_end_offset() == Offset(40));
  CHECK(values_of(read_all(*log)).back() == "p39");
  CHECK(posix_file_system()->exists(join_path(dir, ".lock")).value());
}
