// RecordAccumulator: records become RecordBatches of at most max_batch_bytes, in order, when a batch is
// full or on encode(all); released batches leave the count; without a producer id nothing is stamped.
#include "kafka/client/accumulator.h"

#include <doctest/doctest.h>

#include <string>

namespace streamctl::kafka::client {
namespace {

// Adds `count` records "r<i>" of ~100 bytes to partition p; true if any add reported a full batch.
bool add_records(RecordAccumulator& acc, PartitionId p, int from, int count) {
  bool full = false;
  for (int i = from; i < from + count; ++i) {
    Record& r = *acc.slot(p);
    r.key.reset();
    r.value = std::string("r").append(std::to_string(i)).append(std::string(96, '.'));
    r.headers.clear();
    r.timestamp = Timestamp{1'700'000'000'000 + i};
    full |= acc.added(p, r.value->size());
  }
  return full;
}

TEST_CASE("RecordAccumulator: batches of at most max_batch_bytes, in order, released one by one") {
  for (Compression c : {Compression::kNone, Compression::kZstd}) {
    CAPTURE(int(c));
    RecordAccumulator acc(2, 2048, c, -1);
    Idempotence none(2);  // never initialised: not idempotent
    CHECK_FALSE(acc.has_pending());
    CHECK_FALSE(add_records(acc, 0, 0, 5));  // ~560 bytes: not full yet
    CHECK(acc.has_pending());
    REQUIRE(acc.encode(0, /*all=*/false, none).ok());
    CHECK(acc.buffered_batches() == 0);  // nothing full: nothing encoded
    CHECK(add_records(acc, 0, 5, 100));
    REQUIRE(acc.encode(0, /*all=*/false, none).ok());
    const int full_batches = acc.buffered_batches();
    CHECK(full_batches >= 1);
    REQUIRE(acc.encode(0, /*all=*/true, none).ok());
    CHECK(acc.buffered_batches() >= full_batches);
    if (c == Compression::kNone) CHECK(acc.buffered_batches() >= 6);  // 105 records of ~112 bytes, 2 KiB each
    std::vector<std::string> values;
    for (const auto& b : acc.batches(0)) {
      CHECK(b->partition == 0);
      CHECK(b->size <= 2048);
      BatchIterator it(ByteSpan(b->bytes.data(), b->size));
      REQUIRE(it.next());
      CHECK(it.header().producer_id == -1);
      CHECK(it.header().record_count == b->records);
      CHECK(it.header().compression() == c);
      auto records = decode_records(it.batch());
      REQUIRE(records.ok());
      for (const auto& r : *records) values.push_back(r.value->substr(0, r.value->find('.')));
      CHECK_FALSE(it.next());
    }
    REQUIRE(values.size() == 105);
    for (int i = 0; i < 105; ++i) CHECK(values[size_t(i)] == std::string("r").append(std::to_string(i)));
    CHECK(acc.batches(1).empty());
    while (!acc.batches(0).empty()) acc.release(*acc.batches(0).front());
    CHECK(acc.buffered_batches() == 0);
    CHECK_FALSE(acc.has_pending());
  }
}

TEST_CASE("Idempotence: nothing stamped before a producer id") {
  Idempotence none(1);
  BatchBuildOptions o;
  none.stamp(0, o);
  none.advance(0, 10);
  CHECK_FALSE(none.enabled());
  CHECK(o.producer_id == -1);
  CHECK(o.base_sequence == -1);
}

}  // namespace
}  // namespace streamctl::kafka::client
