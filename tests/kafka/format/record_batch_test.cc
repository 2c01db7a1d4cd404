#include "kafka/format/record_batch.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kafka/format/compression.h"
#include "base/crc32c.h"

using namespace streamctl;

namespace {

constexpr Compression kAllCodecs[] = {Compression::kNone, Compression::kGzip, Compression::kSnappy,
                                      Compression::kLz4, Compression::kZstd};

uint64_t test_seed() {
  static const uint64_t seed = [] {
    const char* env = std::getenv("STREAMCTL_TEST_SEED");
    uint64_t s = env ? std::strtoull(env, nullptr, 0) : std::random_device{}();
    std::printf("record_batch_test: seed %llu (override with STREAMCTL_TEST_SEED)\n",
                static_cast<unsigned long long>(s));
    return s;
  }();
  return seed;
}

Bytes from_hex(const std::string& hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(std::byte(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

Bytes bytes_of(std::initializer_list<int> v) {
  Bytes out;
  for (int b : v) out.push_back(std::byte(b));
  return out;
}

void append(Bytes& out, const Bytes& more) {
  const size_t at = out.size();
  out.resize(at + more.size());
  if (!more.empty()) std::memcpy(out.data() + at, more.data(), more.size());
}

// Concatenation without `"literal" + std::string` (GCC 12 -O3 reports a false -Wrestrict on that).
std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

// Reads tests/data/batches/<name>.hex (one line of hex).
Bytes golden_batch(const std::string& name) {
  std::string path = std::string(STREAMCTL_SOURCE_DIR) + "/tests/data/batches/" + name + ".hex";
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  std::string hex;
  std::getline(in, hex);
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) hex.pop_back();
  REQUIRE(hex.size() % 2 == 0);
  return from_hex(hex);
}

Record make_record(int64_t ts, std::optional<std::string> key, std::optional<std::string> value,
                   std::vector<RecordHeader> headers = {}) {
  Record r;
  r.timestamp = Timestamp(ts);
  r.key = std::move(key);
  r.value = std::move(value);
  r.headers = std::move(headers);
  return r;
}

Bytes build_ok(std::span<const Record> records, Offset base = Offset(0), BatchBuildOptions options = {}) {
  auto b = build_batch(records, base, options);
  REQUIRE_MESSAGE(b.ok(), b.error().to_string());
  return std::move(b).value();
}

std::vector<Record> decode_ok(ByteSpan batch) {
  auto r = decode_records(batch);
  REQUIRE_MESSAGE(r.ok(), r.error().to_string());
  return std::move(r).value();
}

void check_same_records(const std::vector<Record>& got, const std::vector<Record>& want, Offset base) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i].offset == base + int64_t(i));
    CHECK(got[i].timestamp == want[i].timestamp);
    CHECK(got[i].key == want[i].key);
    CHECK(got[i].value == want[i].value);
    CHECK(got[i].headers == want[i].headers);
  }
}

// Recomputes the CRC after a test edits a header field.
void fix_crc(Bytes& batch) { put_be32(batch.data() + kCrcOffset, compute_batch_crc(batch)); }

// Wraps an arbitrary records section in a v2 header with a correct CRC (for malformed-record tests).
Bytes wrap_records(const Bytes& records, int32_t record_count, int32_t last_offset_delta, int16_t attributes = 0) {
  Bytes b(kBatchHeaderSize);
  put_be64(b.data(), 500);                                       // baseOffset
  put_be32(b.data() + 8, uint32_t(49 + records.size()));          // batchLength
  put_be32(b.data() + 12, 0);                                     // partitionLeaderEpoch
  b[16] = std::byte{2};                                           // magic
  put_be16(b.data() + 21, uint16_t(attributes));                  // attributes
  put_be32(b.data() + 23, uint32_t(last_offset_delta));           // lastOffsetDelta
  put_be64(b.data() + 27, 1000);                                  // baseTimestamp
  put_be64(b.data() + 35, 1000);                                  // maxTimestamp
  put_be64(b.data() + 43, uint64_t(-1));                          // producerId
  put_be16(b.data() + 51, uint16_t(-1));                          // producerEpoch
  put_be32(b.data() + 53, uint32_t(-1));                          // baseSequence
  put_be32(b.data() + 57, uint32_t(record_count));                // recordCount
  append(b, records);
  fix_crc(b);
  return b;
}

std::string error_of(ByteSpan batch) {
  auto r = decode_records(batch);
  REQUIRE_FALSE(r.ok());
  return r.error().message;
}

std::string kcat_value(int i) {
  std::string v = cat({"v", std::to_string(i), "-"});
  for (int k = 0; k < 8; ++k) v += "abcdefgh";
  return v;
}

}  // namespace

TEST_CASE("CompressionNamesRoundTripAndUnknownNamesListTheChoices") {
  for (Compression c : kAllCodecs) {
    auto parsed = parse_compression(compression_name(c));
    REQUIRE(parsed.ok());
    CHECK(*parsed == c);
  }
  CHECK(std::string(compression_name(Compression::kLz4)) == "lz4");
  auto bad = parse_compression("brotli");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == ErrorCode::kInvalidArgument);
  CHECK(bad.error().message.find("brotli") != std::string::npos);
  CHECK(bad.error().message.find("none, gzip, snappy, lz4, zstd") != std::string::npos);
}

TEST_CASE("HandBuiltBatchFromTheByteTableEqualsBuildBatch") {
  // Two records, built field by field from the byte table in record_batch.h.
  //   record 0: ts 1000, key "k", value "hello", header h=v
  //   record 1: ts 1005, null key, empty value, no headers
  Bytes expected = bytes_of({
      0, 0, 0, 0, 0, 0, 0, 100,    // baseOffset 100
      0, 0, 0, 73,                 // batchLength: 85 total - 12
      0, 0, 0, 3,                  // partitionLeaderEpoch 3
      2,                           // magic
      0, 0, 0, 0,                  // crc (filled in below)
      0, 0,                        // attributes: no compression, CreateTime
      0, 0, 0, 1,                  // lastOffsetDelta 1
      0, 0, 0, 0, 0, 0, 0x03, 0xe8,  // baseTimestamp 1000
      0, 0, 0, 0, 0, 0, 0x03, 0xed,  // maxTimestamp 1005
      0, 0, 0, 0, 0, 0, 0, 7,      // producerId 7
      0, 1,                        // producerEpoch 1
      0, 0, 0, 5,                  // baseSequence 5
      0, 0, 0, 2,                  // recordCount 2
      // record 0
      0x20,                        // length 16 (zigzag 32)
      0x00,                        // attributes
      0x00,                        // timestampDelta 0
      0x00,                        // offsetDelta 0
      0x02, 'k',                   // key length 1, "k"
      0x0a, 'h', 'e', 'l', 'l', 'o',  // value length 5, "hello"
      0x02,                        // header count 1
      0x02, 'h', 0x02, 'v',        // header key "h", value "v"
      // record 1
      0x0c,                        // length 6
      0x00,                        // attributes
      0x0a,                        // timestampDelta 5
      0x02,                        // offsetDelta 1
      0x01,                        // key length -1 (null)
      0x00,                        // value length 0 (empty)
      0x00,                        // header count 0
  });
  REQUIRE(expected.size() == 85);
  put_be32(expected.data() + 17, crc32c(ByteSpan(expected).subspan(21)));

  std::vector<Record> records = {make_record(1000, "k", "hello", {{"h", "v"}}),
                                 make_record(1005, std::nullopt, "")};
  BatchBuildOptions options;
  options.producer_id = 7;
  options.producer_epoch = 1;
  options.base_sequence = 5;
  options.leader_epoch = 3;
  Bytes built = build_ok(records, Offset(100), options);
  CHECK(built == expected);

  auto h = validate_batch(expected);
  REQUIRE_MESSAGE(h.ok(), h.error().to_string());
  CHECK(h->base_offset == Offset(100));
  CHECK(h->batch_length == 73);
  CHECK(h->leader_epoch == 3);
  CHECK(h->last_offset_delta == 1);
  CHECK(h->base_timestamp == Timestamp(1000));
  CHECK(h->max_timestamp == Timestamp(1005));
  CHECK(h->producer_id == 7);
  CHECK(h->producer_epoch == 1);
  CHECK(h->base_sequence == 5);
  CHECK(h->record_count == 2);
  CHECK(h->size_bytes() == 85);
  CHECK(h->last_offset() == Offset(101));
  CHECK(h->next_offset() == Offset(102));
  check_same_records(decode_ok(expected), records, Offset(100));
}

TEST_CASE("HandBuiltLogAppendTimeBatchWithNullsEqualsBuildBatch") {
  // One record: empty (not null) key, null value, header "n" with a null value; LogAppendTime.
  Bytes expected = bytes_of({
      0, 0, 0, 0, 0, 0, 0, 0,      // baseOffset 0
      0, 0, 0, 59,                 // batchLength: 71 total - 12
      0xff, 0xff, 0xff, 0xff,      // partitionLeaderEpoch -1
      2,                           // magic
      0, 0, 0, 0,                  // crc
      0, 0x08,                     // attributes: bit 3 = LogAppendTime
      0, 0, 0, 0,                  // lastOffsetDelta 0
      0, 0, 0x01, 0x90, 0x00, 0x00, 0x00, 0x00,  // baseTimestamp 0x0190_0000_0000
      0, 0, 0x01, 0x90, 0x00, 0x00, 0x00, 0x00,  // maxTimestamp
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // producerId -1
      0xff, 0xff,                  // producerEpoch -1
      0xff, 0xff, 0xff, 0xff,      // baseSequence -1
      0, 0, 0, 1,                  // recordCount 1
      0x12,                        // length 9
      0x00, 0x00, 0x00,            // attributes, timestampDelta 0, offsetDelta 0
      0x00,                        // key length 0 (empty key)
      0x01,                        // value length -1 (null value)
      0x02,                        // header count 1
      0x02, 'n', 0x01,             // header key "n", value null
  });
  REQUIRE(expected.size() == 71);
  put_be32(expected.data() + 17, crc32c(ByteSpan(expected).subspan(21)));

  const int64_t ts = int64_t(0x0190) << 32;
  std::vector<Record> records = {make_record(ts, "", std::nullopt, {{"n", std::nullopt}})};
  BatchBuildOptions options;
  options.timestamp_type = TimestampType::kLogAppendTime;
  CHECK(build_ok(records, Offset(0), options) == expected);
  auto h = validate_batch(expected);
  REQUIRE(h.ok());
  CHECK(h->timestamp_type() == TimestampType::kLogAppendTime);
  CHECK(h->compression() == Compression::kNone);
  CHECK_FALSE(h->is_transactional());
  CHECK_FALSE(h->is_control());
  auto decoded = decode_ok(expected);
  REQUIRE(decoded.size() == 1);
  CHECK(decoded[0].key == std::optional<std::string>(""));
  CHECK_FALSE(decoded[0].value.has_value());
  CHECK(decoded[0].headers == std::vector<RecordHeader>{{"n", std::nullopt}});
}

TEST_CASE("CrcCorruptionIsDetectedAtEveryBytePositionOfTheCrcRange") {
  std::vector<Record> records = {make_record(5, "key", "value", {{"a", "b"}}), make_record(6, std::nullopt, "x")};
  Bytes batch = build_ok(records, Offset(42));
  REQUIRE(validate_batch(batch).ok());
  for (size_t pos = kAttributesOffset; pos < batch.size(); ++pos) {
    for (uint8_t flip : {0x01, 0x80, 0xff}) {
      Bytes bad = batch;
      bad[pos] ^= std::byte(flip);
      auto r = validate_batch(bad);
      if (r.ok()) FAIL("flipping byte " << pos << " with " << int(flip) << " went undetected");
      CHECK(r.error().code == ErrorCode::kCorruption);
      bool named = r.error().message.find("base offset 42") != std::string::npos;
      if (!named) FAIL("message does not name the base offset: " << r.error().message);
    }
  }
  // The stored CRC itself.
  for (size_t pos = kCrcOffset; pos < kAttributesOffset; ++pos) {
    Bytes bad = batch;
    bad[pos] ^= std::byte{0x10};
    auto r = validate_batch(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("crc mismatch") != std::string::npos);
  }
  // A CRC error names both values.
  Bytes bad = batch;
  bad[batch.size() - 1] ^= std::byte{1};
  auto r = validate_batch(bad);
  REQUIRE_FALSE(r.ok());
  char stored[16], computed[16];
  std::snprintf(stored, sizeof stored, "0x%08x", get_be32(batch.data() + kCrcOffset));
  std::snprintf(computed, sizeof computed, "0x%08x", compute_batch_crc(bad));
  CHECK(r.error().message.find(stored) != std::string::npos);
  CHECK(r.error().message.find(computed) != std::string::npos);
}

TEST_CASE("BaseOffsetAndLeaderEpochRewritesKeepTheCrcValid") {
  std::vector<Record> records = {make_record(1, "a", "b")};
  Bytes batch = build_ok(records);
  uint32_t crc_before = get_be32(batch.data() + kCrcOffset);
  set_batch_base_offset(batch, Offset(123456789012345));
  set_batch_leader_epoch(batch, 77);
  auto h = validate_batch(batch);
  REQUIRE_MESSAGE(h.ok(), h.error().to_string());
  CHECK(h->base_offset == Offset(123456789012345));
  CHECK(h->leader_epoch == 77);
  CHECK(h->crc == crc_before);
  auto decoded = decode_ok(batch);
  REQUIRE(decoded.size() == 1);
  CHECK(decoded[0].offset == Offset(123456789012345));
}

TEST_CASE("BatchLengthMismatchNamesExpectedAndFoundValues") {
  std::vector<Record> records = {make_record(1, "a", "b")};
  Bytes batch = build_ok(records, Offset(9));
  const int32_t length = int32_t(batch.size() - kLogOverhead);

  Bytes longer = batch;
  longer.push_back(std::byte{0});
  auto r = validate_batch(longer);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kCorruption);
  CHECK(r.error().message.find("base offset 9") != std::string::npos);
  CHECK(r.error().message.find("batchLength is " + std::to_string(length) + ", expected " +
                               std::to_string(length + 1)) != std::string::npos);

  auto shorter = validate_batch(ByteSpan(batch).first(batch.size() - 1));
  REQUIRE_FALSE(shorter.ok());
  CHECK(shorter.error().message.find("batchLength is " + std::to_string(length)) != std::string::npos);

  Bytes tiny = batch;
  put_be32(tiny.data() + kBatchLengthOffset, 48);
  auto t = validate_batch(tiny);
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().message.find("batchLength is 48, expected >= 49") != std::string::npos);

  auto too_short = validate_batch(ByteSpan(batch).first(10));
  REQUIRE_FALSE(too_short.ok());
  CHECK(too_short.error().code == ErrorCode::kCorruption);
}

TEST_CASE("LegacyMagicIsNotSupportedAndUnknownMagicIsCorruption") {
  std::vector<Record> records = {make_record(1, "a", "b")};
  Bytes batch = build_ok(records, Offset(3));
  for (int magic : {0, 1}) {
    Bytes old = batch;
    old[kMagicOffset] = std::byte(magic);
    auto r = validate_batch(old);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kNotSupported);
    CHECK(r.error().message.find("magic is " + std::to_string(magic) + ", expected 2") != std::string::npos);
    BatchIterator it(old);
    CHECK_FALSE(it.next());
    CHECK(it.status().error().code == ErrorCode::kNotSupported);
  }
  Bytes weird = batch;
  weird[kMagicOffset] = std::byte{7};
  auto r = validate_batch(weird);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kCorruption);
  CHECK(r.error().message.find("magic is 7, expected 2") != std::string::npos);
}

TEST_CASE("NegativeCountsAndImpossibleHeaderFieldsAreRejected") {
  std::vector<Record> records = {make_record(1, "a", "b"), make_record(2, "c", "d")};
  Bytes batch = build_ok(records, Offset(11));
  struct Case {
    size_t offset;
    uint32_t value;
    ErrorCode code;
    const char* message;
  };
  for (const Case& c : {Case{57, uint32_t(-1), ErrorCode::kCorruption, "recordCount is -1, expected >= 0"},
                        Case{23, uint32_t(-2), ErrorCode::kCorruption, "lastOffsetDelta is -2, expected >= 0"},
                        Case{57, 3, ErrorCode::kCorruption, "recordCount is 3, expected <= 2"}}) {
    Bytes bad = batch;
    put_be32(bad.data() + c.offset, c.value);
    fix_crc(bad);
    auto r = validate_batch(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == c.code);
    CHECK_MESSAGE(r.error().message.find(c.message) != std::string::npos, r.error().message);
    CHECK(r.error().message.find("base offset 11") != std::string::npos);
  }
  Bytes codec = batch;
  put_be16(codec.data() + kAttributesOffset, 5);
  fix_crc(codec);
  auto r = validate_batch(codec);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kNotSupported);
  CHECK(r.error().message.find("compression codec id in attributes is 5") != std::string::npos);
}

TEST_CASE("RoundTripPreservesNullAndEmptyKeysValuesAndHeadersForAllCodecs") {
  std::vector<Record> records = {
      make_record(100, std::nullopt, std::nullopt),
      make_record(101, "", ""),
      make_record(102, "key", std::nullopt, {{"h1", "v1"}, {"h2", std::nullopt}, {"", ""}}),
      make_record(99, std::nullopt, "value-only", {{"dup", "1"}, {"dup", "2"}}),
      make_record(150, std::string("bin\0ary", 7), std::string("\xff\x00\x80", 3), {{"k", std::string(300, 'z')}}),
  };
  for (Compression c : kAllCodecs) {
    CAPTURE(std::string(compression_name(c)));
    BatchBuildOptions options;
    options.compression = c;
    Bytes batch = build_ok(records, Offset(1000), options);
    auto h = validate_batch(batch);
    REQUIRE_MESSAGE(h.ok(), h.error().to_string());
    CHECK(h->compression() == c);
    CHECK(h->record_count == 5);
    CHECK(h->last_offset_delta == 4);
    CHECK(h->base_timestamp == Timestamp(100));  // the first record's, even though a later one is earlier
    CHECK(h->max_timestamp == Timestamp(150));
    check_same_records(decode_ok(batch), records, Offset(1000));
  }
}

TEST_CASE("RoundTripOfManyRecordsForAllCodecs") {
  std::mt19937_64 rng(test_seed());
  std::vector<Record> records;
  const int n = 5000;
  records.reserve(n);
  for (int i = 0; i < n; ++i) {
    Record r;
    r.timestamp = Timestamp(1'700'000'000'000 + int64_t(rng() % 100000));
    if (rng() % 10 != 0) r.key = cat({"key-", std::to_string(rng() % 1000)});
    if (rng() % 20 != 0) {
      std::string v(rng() % 300, '\0');
      for (char& ch : v) ch = char('a' + rng() % 4);  // compressible
      r.value = std::move(v);
    }
    for (uint64_t k = rng() % 3; k > 0; --k) r.headers.push_back({cat({"h", std::to_string(k)}), std::to_string(rng())});
    records.push_back(std::move(r));
  }
  for (Compression c : kAllCodecs) {
    CAPTURE(std::string(compression_name(c)));
    BatchBuildOptions options;
    options.compression = c;
    Bytes batch = build_ok(records, Offset(1) , options);
    REQUIRE(validate_batch(batch).ok());
    check_same_records(decode_ok(batch), records, Offset(1));
  }
}

TEST_CASE("LogAppendTimeBatchReportsMaxTimestampForEveryRecord") {
  std::vector<Record> records = {make_record(10, "a", "1"), make_record(30, "b", "2"), make_record(20, "c", "3")};
  BatchBuildOptions options;
  options.timestamp_type = TimestampType::kLogAppendTime;
  Bytes batch = build_ok(records, Offset(0), options);
  auto h = validate_batch(batch);
  REQUIRE(h.ok());
  CHECK((h->attributes & 0x08) != 0);
  CHECK(h->max_timestamp == Timestamp(30));
  for (const Record& r : decode_ok(batch)) CHECK(r.timestamp == Timestamp(30));
}

TEST_CASE("AppendTimeFillsMissingTimestampsAndAllTimestampsForLogAppendTime") {
  std::vector<Record> records = {make_record(-1, "a", "1"), make_record(50, "b", "2"), make_record(-1, "c", "3")};
  BatchBuildOptions options;
  options.append_time = Timestamp(40);
  std::vector<Record> explicit_times = records;
  explicit_times[0].timestamp = Timestamp(40);
  explicit_times[2].timestamp = Timestamp(40);
  Bytes filled = build_ok(records, Offset(0), options);
  CHECK(filled == build_ok(explicit_times));
  auto h = validate_batch(filled);
  REQUIRE(h.ok());
  CHECK(h->base_timestamp == Timestamp(40));
  CHECK(h->max_timestamp == Timestamp(50));

  options.timestamp_type = TimestampType::kLogAppendTime;
  std::vector<Record> all_now = records;
  for (Record& r : all_now) r.timestamp = Timestamp(40);
  BatchBuildOptions lat;
  lat.timestamp_type = TimestampType::kLogAppendTime;
  Bytes appended = build_ok(records, Offset(0), options);
  CHECK(appended == build_ok(all_now, Offset(0), lat));
  for (const Record& r : decode_ok(appended)) CHECK(r.timestamp == Timestamp(40));
}

TEST_CASE("EncodedRecordSizeMatchesWhatBuildBatchWrites") {
  std::vector<Record> records = {make_record(1000, "key", std::string(200, 'v'), {{"h", "v"}, {"n", std::nullopt}}),
                                 make_record(-5000, std::nullopt, std::nullopt)};
  size_t expected = kBatchHeaderSize;
  for (size_t i = 0; i < records.size(); ++i) {
    expected += encoded_record_size(records[i], records[i].timestamp.value - 1000, int32_t(i));
  }
  CHECK(build_ok(records).size() == expected);
  CHECK(encoded_record_size(make_record(0, std::nullopt, std::nullopt), 0, 0) == 7);
}

TEST_CASE("BuildBatchRejectsMissingTimestampsAndEmptyInput") {
  auto empty = build_batch({}, Offset(0), {});
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().code == ErrorCode::kInvalidArgument);
  std::vector<Record> records = {make_record(1, "a", "b"), make_record(-1, "c", "d")};
  auto r = build_batch(records, Offset(0), {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  CHECK(r.error().message.find("record 1") != std::string::npos);
  BatchBuildOptions bad_level;
  bad_level.compression = Compression::kGzip;
  bad_level.compression_level = 42;
  auto l = build_batch(std::span<const Record>(records).first(1), Offset(0), bad_level);
  REQUIRE_FALSE(l.ok());
  CHECK(l.error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("TruncatedBatchIsReportedAsTornTail") {
  std::vector<Record> first = {make_record(1, "a", "first")};
  std::vector<Record> second = {make_record(2, "b", "second"), make_record(3, std::nullopt, "third")};
  Bytes a = build_ok(first, Offset(0));
  Bytes b = build_ok(second, Offset(1));
  Bytes both = a;
  append(both, b);
  // Every truncation of the second batch: the first is returned, then a torn tail, never an error.
  for (size_t len = a.size(); len < both.size(); ++len) {
    CAPTURE(len);
    BatchIterator it(ByteSpan(both).first(len));
    REQUIRE(it.next());
    CHECK(it.position() == 0);
    CHECK(it.batch().size() == a.size());
    CHECK_FALSE(it.next());
    CHECK(it.status().ok());
    CHECK(it.truncated_tail() == (len > a.size()));
    CHECK(it.valid_bytes() == a.size());
    CHECK_FALSE(it.next());  // stays stopped
  }
  // Every truncation of a lone batch.
  for (size_t len = 0; len < b.size(); ++len) {
    CAPTURE(len);
    BatchIterator it(ByteSpan(b).first(len));
    CHECK_FALSE(it.next());
    CHECK(it.status().ok());
    CHECK(it.truncated_tail() == (len > 0));
    CHECK(it.valid_bytes() == 0);
  }
  BatchIterator whole(both);
  REQUIRE(whole.next());
  REQUIRE(whole.next());
  CHECK(whole.position() == a.size());
  CHECK(whole.header().base_offset == Offset(1));
  CHECK(whole.header().record_count == 2);
  CHECK_FALSE(whole.next());
  CHECK_FALSE(whole.truncated_tail());
  CHECK(whole.status().ok());
  CHECK(whole.valid_bytes() == both.size());
}

TEST_CASE("BatchIteratorStopsAtACorruptBatchAndNamesItsPosition") {
  std::vector<Record> records = {make_record(1, "k", "v")};
  Bytes a = build_ok(records, Offset(0));
  Bytes b = build_ok(records, Offset(1));
  Bytes c = build_ok(records, Offset(2));
  Bytes all = a;
  append(all, b);
  append(all, c);
  all[a.size() + b.size() - 1] ^= std::byte{0x40};  // last byte of the middle batch
  BatchIterator it(all);
  REQUIRE(it.next());
  CHECK_FALSE(it.next());
  REQUIRE_FALSE(it.status().ok());
  CHECK(it.status().error().code == ErrorCode::kCorruption);
  CHECK(it.status().error().message.find("at byte position " + std::to_string(a.size())) != std::string::npos);
  CHECK(it.status().error().message.find("crc mismatch") != std::string::npos);
  CHECK(it.position() == a.size());
  CHECK(it.valid_bytes() == a.size());
  CHECK_FALSE(it.truncated_tail());

  // Without CRC checks the flipped byte passes, but a structural error still stops iteration.
  BatchIterator lax(all, /*verify_crc=*/false);
  int seen = 0;
  while (lax.next()) ++seen;
  CHECK(seen == 3);
  CHECK(lax.status().ok());
  Bytes broken = all;
  put_be32(broken.data() + a.size() + 57, uint32_t(-3));  // recordCount of the middle batch
  BatchIterator lax2(broken, false);
  CHECK(lax2.next());
  CHECK_FALSE(lax2.next());
  REQUIRE_FALSE(lax2.status().ok());
  CHECK(lax2.status().error().message.find("recordCount is -3") != std::string::npos);

  // A zero-filled region after the data (e.g. preallocated space) is corruption, not a batch.
  Bytes zeros = a;
  zeros.resize(a.size() + 100);
  BatchIterator z(zeros);
  REQUIRE(z.next());
  CHECK_FALSE(z.next());
  CHECK_FALSE(z.status().ok());
  CHECK(z.valid_bytes() == a.size());
}

TEST_CASE("MalformedRecordsAreReportedWithTheBatchAndRecordIndex") {
  auto rec = [](std::initializer_list<int> body) {
    Bytes out = bytes_of({int(zigzag32(int32_t(body.size())))});
    append(out, bytes_of(body));
    return out;
  };
  // A well-formed record: attributes, ts delta, offset delta d, null key, empty value, 0 headers.
  auto good = [&](int delta) { return rec({0, 0, int(zigzag32(delta)), 1, 0, 0}); };
  {
    Bytes records = good(0);
    append(records, good(1));
    CHECK(decode_records(wrap_records(records, 2, 1)).ok());
  }
  struct Case {
    Bytes records;
    int32_t count;
    int32_t last_delta;
    const char* message;
  };
  std::vector<Case> cases;
  {
    Bytes r = good(0);
    append(r, good(2));
    cases.push_back({r, 2, 1, "record 1 (of 2): offsetDelta is 2"});
  }
  {
    Bytes r = good(0);
    append(r, good(0));
    cases.push_back({r, 2, 1, "record 1 (of 2): offsetDelta is 0"});
  }
  cases.push_back({good(0), 2, 1, "recordCount is 2, but the records section holds only 1 records"});
  {
    Bytes r = good(0);
    append(r, good(1));
    cases.push_back({r, 1, 1, "bytes follow the last of 1 records"});
  }
  cases.push_back({rec({0, 0, 0, 3, 0, 0}), 1, 0, "key length is -2, expected >= -1"});
  cases.push_back({rec({0, 0, 0, 0, 0x14, 'a', 0}), 1, 0, "value length is 10, but the record has only 2 bytes left"});
  cases.push_back({rec({0, 0, 0, 1, 1, 0, 0}), 1, 0, "length is 7, but its fields end after 6 bytes"});
  cases.push_back({bytes_of({0x40, 0, 0, 0}), 1, 0, "length is 32, but 3 bytes remain"});
  cases.push_back({rec({0, 0, 0, 1, 1, 0x7e}), 1, 0, "header count is 63"});
  cases.push_back({rec({0, 0, 0, 1, 1, 2, 1, 1, 1}), 1, 0, "header 0 key length is -1, expected >= 0"});
  cases.push_back({bytes_of({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}), 1, 0,
                   "malformed length varint"});
  for (const Case& c : cases) {
    CAPTURE(c.message);
    std::string msg = error_of(wrap_records(c.records, c.count, c.last_delta));
    CHECK_MESSAGE(msg.find(c.message) != std::string::npos, msg);
    CHECK_MESSAGE(msg.find("record batch at base offset 500") != std::string::npos, msg);
  }
}

TEST_CASE("CorruptCompressedPayloadIsReportedNotCrashed") {
  std::vector<Record> records = {make_record(1, "k", std::string(1000, 'x'))};
  for (Compression c : {Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd}) {
    CAPTURE(std::string(compression_name(c)));
    BatchBuildOptions options;
    options.compression = c;
    Bytes batch = build_ok(records, Offset(8), options);
    Bytes truncated(batch.begin(), batch.end() - 5);
    put_be32(truncated.data() + kBatchLengthOffset, uint32_t(truncated.size() - kLogOverhead));
    fix_crc(truncated);
    REQUIRE(validate_batch(truncated).ok());
    auto r = decode_records(truncated);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kCorruption);
    CHECK(r.error().message.find("record batch at base offset 8: records section: ") != std::string::npos);
  }
}

TEST_CASE("DecompressionBombIsStoppedByTheDecodeCap") {
  std::vector<Record> records;
  for (int i = 0; i < 64; ++i) records.push_back(make_record(1, std::nullopt, std::string(64 * 1024, '\0')));
  for (Compression c : {Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd}) {
    CAPTURE(std::string(compression_name(c)));
    BatchBuildOptions options;
    options.compression = c;
    Bytes batch = build_ok(records, Offset(0), options);
    CHECK(batch.size() < 300 * 1024);  // ~4 MiB of zeros compresses well with every codec
    auto r = decode_records(batch, 1 << 20);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kRecordTooLarge);
    CHECK(r.error().message.find("1048576") != std::string::npos);
    CHECK(decode_records(batch, 8 << 20).ok());
  }
}

TEST_CASE("RandomBytesNeverCrashValidateDecodeOrIterate") {
  const uint64_t seed = test_seed();
  std::mt19937_64 rng(seed);
  std::vector<Record> records = {make_record(7, "key", "value", {{"h", "v"}}), make_record(9, std::nullopt, ""),
                                 make_record(8, "k2", std::string(200, 'q'), {{"x", std::nullopt}})};
  std::vector<Bytes> seeds;
  for (Compression c : kAllCodecs) {
    BatchBuildOptions options;
    options.compression = c;
    seeds.push_back(build_ok(records, Offset(0), options));
  }
  int decoded_ok = 0, rejected = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    Bytes b;
    switch (iter % 4) {
      case 0: {  // pure noise
        b.resize(rng() % 200);
        for (auto& x : b) x = std::byte(rng());
        break;
      }
      case 1:    // mutated valid batch, CRC left stale
      case 2: {  // mutated valid batch, CRC fixed and length kept consistent so decoding goes deep
        b = seeds[rng() % seeds.size()];
        for (int k = 1 + int(rng() % 4); k > 0; --k) {
          size_t pos = (iter % 4 == 2) ? kBatchHeaderSize + rng() % (b.size() - kBatchHeaderSize) : rng() % b.size();
          b[pos] = std::byte(rng());
        }
        if (iter % 4 == 2) fix_crc(b);
        break;
      }
      case 3: {  // valid header, random records section of random length, random count
        Bytes section(rng() % 120);
        for (auto& x : section) x = std::byte(rng());
        int32_t count = int32_t(rng() % 5);
        b = wrap_records(section, count, count + int32_t(rng() % 3), int16_t(rng() % 5));
        break;
      }
    }
    auto v = validate_batch(b);
    auto d = decode_records(b, 1 << 20);
    if (d.ok()) {
      ++decoded_ok;
      REQUIRE(d->size() <= size_t(std::max(0, parse_batch_header(b).record_count)));
    } else {
      ++rejected;
      CHECK(!d.error().message.empty());
    }
    BatchIterator it(b);
    while (it.next()) {
    }
    if (!v.ok()) {
      // An invalid batch is never reported as a range of valid batches covering it all.
      const bool all_valid = it.status().ok() && it.valid_bytes() == b.size() && !it.truncated_tail() && !b.empty();
      CHECK_FALSE(all_valid);
    }
  }
  MESSAGE("seed " << seed << ": " << decoded_ok << " decoded, " << rejected << " rejected");
  CHECK(rejected > 0);
}

// ---- Golden batches captured from real clients (tests/data/README.md).

TEST_CASE("CapturedClientBatchesPassValidation") {
  for (const char* name : {"kcat-none", "kcat-gzip", "kcat-snappy", "kcat-lz4", "kcat-zstd", "kafka-python-none",
                           "kafka-python-gzip", "kafkajs-none", "kafkajs-gzip"}) {
    CAPTURE(name);
    Bytes batch = golden_batch(name);
    auto h = validate_batch(batch);
    REQUIRE_MESSAGE(h.ok(), h.error().to_string());
    CHECK(h->magic == 2);
    CHECK(h->base_offset == Offset(0));
    CHECK(h->timestamp_type() == TimestampType::kCreateTime);
    BatchIterator it(batch);
    CHECK(it.next());
    CHECK_FALSE(it.next());
    CHECK(it.status().ok());
    CHECK(it.valid_bytes() == batch.size());
  }
  CHECK(parse_batch_header(golden_batch("kcat-snappy")).compression() == Compression::kSnappy);
  CHECK(parse_batch_header(golden_batch("kcat-lz4")).compression() == Compression::kLz4);
}

TEST_CASE("CapturedKcatBatchesDecodeToTheProducedRecordsForEveryCodec") {
  // kcat -K: -H h=v with lines k<i>:v<i>-abcdefgh...; the captured partition got messages 1 and 3.
  for (Compression c : kAllCodecs) {
    std::string name = std::string("kcat-") + compression_name(c);
    CAPTURE(name);
    Bytes batch = golden_batch(name);
    RecordBatchHeader h = parse_batch_header(batch);
    CHECK(h.compression() == c);
    CHECK(h.producer_id == -1);
    auto records = decode_ok(batch);
    REQUIRE(records.size() == 2);
    int message_numbers[] = {1, 3};
    for (size_t i = 0; i < 2; ++i) {
      const int m = message_numbers[i];
      CHECK(records[i].offset == Offset(int64_t(i)));
      CHECK(records[i].timestamp == h.base_timestamp);
      CHECK(records[i].key == cat({"k", std::to_string(m)}));
      CHECK(records[i].value == kcat_value(m));
      CHECK(records[i].headers == std::vector<RecordHeader>{{"h", "v"}});
    }
  }
}

TEST_CASE("CapturedKafkaPythonAndKafkajsBatchesDecode") {
  struct Case {
    const char* name;
    std::vector<int> messages;
  };
  for (const Case& c : {Case{"kafka-python-none", {1}}, Case{"kafka-python-gzip", {1}},
                        Case{"kafkajs-none", {1, 2}}, Case{"kafkajs-gzip", {1, 2}}}) {
    CAPTURE(c.name);
    auto records = decode_ok(golden_batch(c.name));
    REQUIRE(records.size() == c.messages.size());
    for (size_t i = 0; i < records.size(); ++i) {
      const std::string n = std::to_string(c.messages[i]);
      CHECK(records[i].key == cat({"k", n}));
      CHECK(records[i].value == kcat_value(c.messages[i]));
      CHECK(records[i].headers == std::vector<RecordHeader>{{"h", "v"}, {"n", n}});
    }
  }
}

TEST_CASE("UncompressedCapturedBatchesReEncodeByteIdentical") {
  for (const char* name : {"kcat-none", "kafka-python-none", "kafkajs-none"}) {
    CAPTURE(name);
    Bytes captured = golden_batch(name);
    RecordBatchHeader h = parse_batch_header(captured);
    REQUIRE(h.compression() == Compression::kNone);
    auto records = decode_ok(captured);
    BatchBuildOptions options;
    options.timestamp_type = h.timestamp_type();
    options.producer_id = h.producer_id;
    options.producer_epoch = h.producer_epoch;
    options.base_sequence = h.base_sequence;
    options.leader_epoch = h.leader_epoch;
    Bytes rebuilt = build_ok(records, h.base_offset, options);
    CHECK(rebuilt == captured);
  }
}

TEST_CASE("CompressedCapturedBatchesReEncodeToEquivalentBatches") {
  for (Compression c : {Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd}) {
    std::string name = std::string("kcat-") + compression_name(c);
    CAPTURE(name);
    Bytes captured = golden_batch(name);
    RecordBatchHeader h = parse_batch_header(captured);
    auto records = decode_ok(captured);
    BatchBuildOptions options;
    options.compression = c;
    options.leader_epoch = h.leader_epoch;
    Bytes rebuilt = build_ok(records, h.base_offset, options);
    // Same header apart from the CRC and length (the compressed bytes differ between encoders).
    RecordBatchHeader r = parse_batch_header(rebuilt);
    CHECK(r.attributes == h.attributes);
    CHECK(r.base_timestamp == h.base_timestamp);
    CHECK(r.max_timestamp == h.max_timestamp);
    CHECK(r.record_count == h.record_count);
    CHECK(r.last_offset_delta == h.last_offset_delta);
    auto again = decode_ok(rebuilt);
    REQUIRE(again.size() == records.size());
    for (size_t i = 0; i < again.size(); ++i) {
      CHECK(again[i].key == records[i].key);
      CHECK(again[i].value == records[i].value);
      CHECK(again[i].headers == records[i].headers);
      CHECK(again[i].timestamp == records[i].timestamp);
    }
    // The uncompressed records sections are identical: same record encoding as librdkafka.
    auto ours = decompress(c, ByteSpan(rebuilt).subspan(kBatchHeaderSize), 1 << 20);
    auto theirs = decompress(c, ByteSpan(captured).subspan(kBatchHeaderSize), 1 << 20);
    REQUIRE(ours.ok());
    REQUIRE(theirs.ok());
    CHECK(*ours == *theirs);
  }
}

TEST_CASE("KcatGzipAndLz4BatchesReEncodeByteIdentical") {
  // librdkafka deflates with zlib's defaults and a gzip wrapper (level -1, windowBits 15+16, memLevel 8)
  // and writes LZ4 frames with 64 KiB independent blocks, exactly as compression.cc does, so with the
  // same zlib/liblz4 the whole batch, compressed payload included, comes out identical.
  for (Compression c : {Compression::kGzip, Compression::kLz4}) {
    std::string name = std::string("kcat-") + compression_name(c);
    CAPTURE(name);
    Bytes captured = golden_batch(name);
    RecordBatchHeader h = parse_batch_header(captured);
    BatchBuildOptions options;
    options.compression = c;
    options.leader_epoch = h.leader_epoch;
    options.producer_id = h.producer_id;
    options.producer_epoch = h.producer_epoch;
    options.base_sequence = h.base_sequence;
    CHECK(build_ok(decode_ok(captured), h.base_offset, options) == captured);
  }
}

TEST_CASE("RecordReaderYieldsTheSameRecordsAsDecodeRecordsWithoutCopying") {
  std::vector<Record> in(3);
  in[0].key = "k1";
  in[0].value = "v1";
  in[0].timestamp = Timestamp(1000);
  in[0].headers = {{"h", std::string("x")}, {"n", std::nullopt}};
  in[1].value = std::nullopt;  // tombstone with a null key
  in[1].timestamp = Timestamp(1001);
  in[2].key = "";
  in[2].value = std::string(300, 'z');
  in[2].timestamp = Timestamp(999);
  for (Compression c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    BatchBuildOptions o;
    o.compression = c;
    auto batch = build_batch(in, Offset(40), o);
    REQUIRE(batch.ok());
    auto decoded = decode_records(*batch);
    REQUIRE(decoded.ok());
    auto reader = RecordReader::open(*batch);
    REQUIRE(reader.ok());
    RecordView v;
    size_t i = 0;
    for (;; ++i) {
      auto more = reader->next(v);
      REQUIRE(more.ok());
      if (!*more) break;
      REQUIRE(i < decoded->size());
      const Record& d = (*decoded)[i];
      CHECK(v.offset == d.offset);
      CHECK(v.timestamp == d.timestamp);
      CHECK(v.key.has_value() == d.key.has_value());
      if (v.key) CHECK(*v.key == *d.key);
      CHECK(v.value.has_value() == d.value.has_value());
      if (v.value) CHECK(*v.value == *d.value);
      REQUIRE(v.headers.size() == d.headers.size());
      for (size_t k = 0; k < v.headers.size(); ++k) {
        CHECK(v.headers[k].key == d.headers[k].key);
        CHECK(v.headers[k].value.has_value() == d.headers[k].value.has_value());
      }
      if (c == Compression::kNone && v.value && !v.value->empty()) {
        // Uncompressed: the view points into the batch itself.
        const char* begin = reinterpret_cast<const char*>(batch->data());
        CHECK(v.value->data() >= begin);
        CHECK(v.value->data() < begin + batch->size());
      }
    }
    CHECK(i == 3);
  }
}

TEST_CASE("RecordReaderReportsTrailingBytesAfterTheLastRecord") {
  std::vector<Record> in(1);
  in[0].value = "abc";
  in[0].timestamp = Timestamp(5);
  auto batch = build_batch(in, Offset(0), {});
  REQUIRE(batch.ok());
  // Claim one record less than the batch holds by growing the batch with a junk byte and fixing lengths.
  Bytes grown = *batch;
  grown.push_back(std::byte{0});
  put_be32(grown.data() + kBatchLengthOffset, uint32_t(grown.size() - kLogOverhead));
  put_be32(grown.data() + kCrcOffset, compute_batch_crc(grown));
  auto reader = RecordReader::open(grown);
  REQUIRE(reader.ok());
  RecordView v;
  auto first = reader->next(v);
  REQUIRE(first.ok());
  CHECK(*first);
  auto end = reader->next(v);
  CHECK_FALSE(end.ok());
  CHECK(end.error().code == ErrorCode::kCorruption);
}

TEST_CASE("EncodeBatchPrefixSplitsAtTheLimitAndEqualsBuildBatchOfThePrefix") {
  std::vector<Record> records;
  for (int i = 0; i < 50; ++i) {
    Record r;
    r.timestamp = Timestamp(1'700'000'000'000 + i);
    if (i % 3 != 0) r.key = std::to_string(i * 1000);
    r.value = std::string(size_t(10 + 7 * i), char('a' + i % 26));
    if (i % 5 == 0) r.headers.push_back({"h", std::to_string(i * 10)});
    records.push_back(r);
  }
  for (Compression codec : kAllCodecs) {
    CAPTURE(int(codec));
    BatchBuildOptions options;
    options.compression = codec;
    // The buffer already holds other bytes before `at`, and garbage after it from an earlier, larger use.
    Bytes buf(5000, std::byte{0x5a});
    const size_t at = 100;
    size_t i = 0;
    size_t batches = 0;
    while (i < records.size()) {
      std::span<const Record> rest = std::span<const Record>(records).subspan(i);
      auto e = encode_batch_prefix(rest, Offset(int64_t(i)), options, 600, buf, at);
      REQUIRE(e.ok());
      REQUIRE(e->records >= 1);
      // Nothing before `at` was touched.
      for (size_t k = 0; k < at; ++k) REQUIRE(buf[k] == std::byte{0x5a});
      auto expected = build_batch(rest.first(e->records), Offset(int64_t(i)), options);
      REQUIRE(expected.ok());
      CHECK(Bytes(buf.begin() + at, buf.begin() + at + e->bytes) == *expected);
      CHECK(e->max_timestamp == parse_batch_header(*expected).max_timestamp);
      // The prefix is the longest one within the limit (by uncompressed size): one more record exceeds it,
      // unless a single record alone was already over.
      if (codec == Compression::kNone) {
        CHECK((e->bytes <= 600 || e->records == 1));
        if (i + e->records < records.size()) {
          auto longer = build_batch(rest.first(e->records + 1), Offset(0), options);
          REQUIRE(longer.ok());
          CHECK(longer->size() > 600);
        }
      }
      i += e->records;
      ++batches;
    }
    CHECK(batches > 3);
  }
}

TEST_CASE("EncodeBatchPrefixGrowsASmallBufferAndKeepsEarlierBatches") {
  std::vector<Record> records(3);
  for (size_t i = 0; i < records.size(); ++i) {
    records[i].timestamp = Timestamp(42);
    records[i].value = std::string(300, char('x' + i));
  }
  Bytes buf;
  auto first = encode_batch_prefix(std::span<const Record>(records).first(1), Offset(0), {}, SIZE_MAX, buf, 0);
  REQUIRE(first.ok());
  auto second = encode_batch_prefix(std::span<const Record>(records).subspan(1), Offset(1), {}, SIZE_MAX, buf,
                                    first->bytes);
  REQUIRE(second.ok());
  CHECK(second->records == 2);
  REQUIRE(buf.size() >= first->bytes + second->bytes);
  BatchIterator it(ByteSpan(buf.data(), first->bytes + second->bytes));
  std::vector<int64_t> offsets;
  while (it.next()) {
    auto decoded = decode_records(it.batch());
    REQUIRE(decoded.ok());
    for (const Record& r : *decoded) offsets.push_back(r.offset.value);
  }
  CHECK(it.status().ok());
  CHECK(offsets == std::vector<int64_t>{0, 1, 2});
}
