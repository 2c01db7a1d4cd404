// BatchBuilder: the produce hot path's encoder must write exactly the bytes of encode_batch_prefix /
// build_batch for the same records (so it needs no decoder of its own), split where they split.
#include <doctest/doctest.h>

#include <limits>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "kafka/format/record_batch.h"

using namespace streamctl;

namespace {

std::vector<Record> random_records(std::mt19937_64& rng, size_t n) {
  std::vector<Record> out;
  auto text = [&](size_t max) {
    std::string s(size_t(rng() % (max + 1)), ' ');
    for (char& c : s) c = char('a' + rng() % 26);
    return s;
  };
  int64_t ts = 1'700'000'000'000;
  for (size_t i = 0; i < n; ++i) {
    Record r;
    ts += int64_t(rng() % 2000) - 500;  // not monotonic: negative deltas too
    r.timestamp = Timestamp(ts);
    if (rng() % 3 != 0) r.key = text(8);
    switch (rng() % 5) {
      case 0: break;  // null value (tombstone)
      case 1: r.value = std::string(); break;
      default: r.value = text(rng() % 4 == 0 ? 300 : 60);
    }
    for (size_t h = rng() % 3; h > 0; --h) {
      RecordHeader header;
      header.key = text(5);
      if (rng() % 4 != 0) header.value = text(10);
      r.headers.push_back(header);
    }
    out.push_back(r);
  }
  return out;
}

std::optional<std::string_view> view(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  return std::string_view(*s);
}

Bytes built_by_builder(const std::vector<Record>& records, const BatchBuildOptions& options, size_t max_bytes) {
  BatchBuilder b(options, max_bytes);
  for (const Record& r : records) b.add(view(r.key), view(r.value), r.headers, r.timestamp);
  b.seal();
  CHECK(b.records() == records.size());
  return Bytes(b.sealed().begin(), b.sealed().end());
}

Bytes built_by_encoder(const std::vector<Record>& records, const BatchBuildOptions& options, size_t max_bytes) {
  Bytes buf;
  size_t total = 0;
  std::span<const Record> rest(records);
  while (!rest.empty()) {
    auto e = encode_batch_prefix(rest, Offset(0), options, max_bytes, buf, total);
    REQUIRE(e.ok());
    total += e->bytes;
    rest = rest.subspan(e->records);
  }
  buf.resize(total);
  return buf;
}

}  // namespace

TEST_CASE("BatchBuilderWritesTheBytesOfBuildBatchForOneBatch") {
  std::mt19937_64 rng(17);
  for (size_t n : {1, 2, 7, 100, 1000}) {
    CAPTURE(n);
    auto records = random_records(rng, n);
    BatchBuildOptions options;
    auto expected = build_batch(records, Offset(0), options);
    REQUIRE(expected.ok());
    CHECK(built_by_builder(records, options, std::numeric_limits<size_t>::max()) == *expected);
  }
}

TEST_CASE("BatchBuilderSplitsWhereEncodeBatchPrefixSplitsAndTheBatchesDecodeToTheRecords") {
  std::mt19937_64 rng(1717);
  auto records = random_records(rng, 600);
  for (size_t max_bytes : {size_t(1), size_t(200), size_t(1000), size_t(4096), size_t(1) << 20}) {
    CAPTURE(max_bytes);
    BatchBuildOptions options;
    Bytes got = built_by_builder(records, options, max_bytes);
    CHECK(got == built_by_encoder(records, options, max_bytes));
    std::vector<Record> decoded;
    std::vector<int64_t> offsets;  // every batch has base offset 0 (the log assigns offsets)
    BatchIterator it(got);
    size_t batches = 0;
    while (it.next()) {
      ++batches;
      if (max_bytes > 1000) CHECK(it.batch().size() <= max_bytes);
      auto rs = decode_records(it.batch());
      REQUIRE(rs.ok());
      decoded.insert(decoded.end(), rs->begin(), rs->end());
      for (int64_t o = 0; o < int64_t(rs->size()); ++o) offsets.push_back(o);
    }
    CHECK(it.status().ok());
    CHECK(it.valid_bytes() == got.size());
    if (max_bytes == 1) CHECK(batches == records.size());  // every record alone, as encode_batch_prefix does
    REQUIRE(decoded.size() == records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      CHECK(decoded[i].offset == Offset(offsets[i]));
      CHECK(decoded[i].timestamp == records[i].timestamp);
      CHECK(decoded[i].key == records[i].key);
      CHECK(decoded[i].value == records[i].value);
      CHECK(decoded[i].headers == records[i].headers);
    }
  }
}

TEST_CASE("BatchBuilderCarriesTheOptionsHeaderFieldsAndIsReusableAfterClear") {
  std::mt19937_64 rng(3);
  auto records = random_records(rng, 50);
  BatchBuildOptions options;
  options.timestamp_type = TimestampType::kLogAppendTime;
  options.producer_id = 42;
  options.producer_epoch = 3;
  options.base_sequence = 9;
  options.leader_epoch = LeaderEpoch(5);
  BatchBuilder b(options, std::numeric_limits<size_t>::max());
  for (int round = 0; round < 2; ++round) {
    b.clear();
    CHECK(b.empty());
    for (const Record& r : records) b.add(view(r.key), view(r.value), r.headers, r.timestamp);
    CHECK(b.sealed().empty());  // nothing sealed yet
    b.seal();
    b.seal();  // nothing open: no-op
    auto v = validate_batch(b.sealed());
    REQUIRE(v.ok());
    CHECK(v->timestamp_type() == TimestampType::kLogAppendTime);
    CHECK(v->producer_id == 42);
    CHECK(v->producer_epoch == 3);
    CHECK(v->base_sequence == 9);
    CHECK(v->leader_epoch == LeaderEpoch(5));
    CHECK(v->record_count == 50);
    CHECK(b.size_bytes() == b.sealed().size());
  }
}
