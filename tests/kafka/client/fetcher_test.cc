// ListOffsets, Fetch and the Fetcher against an in-process streamctl broker: what the Producer wrote
// comes back, in order, from the earliest offset to the latest, in whole batches even when a partition's
// byte limit is smaller than a batch; a position past the end is OFFSET_OUT_OF_RANGE for the caller.
#include "kafka/client/fetcher.h"

#include <doctest/doctest.h>

#include "kafka/client/producer.h"
#include "kafka/protocol/error_codes.h"
#include "tests/kafka/client/test_broker.h"

namespace streamctl::kafka::client {
namespace {

namespace p = kafka::protocol;
using test::TestBroker;

// Produces `count` records "v<i>" to each partition of `topic`; the values per partition.
std::map<int, std::vector<std::string>> produce(const TestBroker& b, const std::string& topic, int partitions,
                                                int count) {
  ProducerOptions o;
  o.max_batch_bytes = 2048;
  auto producer = Producer::open({b.address()}, topic, partitions, o);
  REQUIRE_MESSAGE(producer.ok(), producer.error().message);
  std::map<int, std::vector<std::string>> values;
  for (int i = 0; i < count * partitions; ++i) {
    const PartitionId part = i % partitions;
    values[part].push_back(std::string("v").append(std::to_string(i)));
    test::add(**producer, part, std::nullopt, values[part].back(), 1'700'000'000'000 + i);
  }
  auto st = (*producer)->flush();
  REQUIRE_MESSAGE(st.ok(), st.error().message);
  return values;
}

std::vector<std::string> values_of(const Bytes& records) {
  std::vector<std::string> out;
  BatchIterator it(ByteSpan(records.data(), records.size()));
  while (it.next()) {
    auto rs = decode_records(it.batch());
    REQUIRE(rs.ok());
    for (const auto& r : *rs) out.push_back(r.value.value_or("<null>"));
  }
  CHECK(it.status().ok());
  CHECK_FALSE(it.truncated_tail());
  return out;
}

TEST_CASE("list_offsets and fetch_once: earliest, latest, records from an offset") {
  TestBroker b;
  test::create_topic(b, "t", 1);
  auto expected = produce(b, "t", 1, 300);
  auto c = BrokerConnection::connect(b.address(), {});
  REQUIRE(c.ok());
  auto earliest = list_offsets(**c, "t", {0}, kEarliestOffset);
  REQUIRE_MESSAGE(earliest.ok(), earliest.error().message);
  CHECK(earliest->at(0) == 0);
  auto latest = list_offsets(**c, "t", {0}, kLatestOffset);
  REQUIRE(latest.ok());
  CHECK(latest->at(0) == 300);
  auto missing = list_offsets(**c, "nope", {0}, kLatestOffset);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("broker error UNKNOWN_TOPIC_OR_PARTITION") != std::string::npos);

  FetchOptions o;
  o.max_wait_ms = 10;
  auto got = fetch_once(**c, "t", {{0, 100}}, o);
  REQUIRE_MESSAGE(got.ok(), got.error().message);
  REQUIRE(got->size() == 1);
  const FetchedPartition& fp = (*got)[0];
  CHECK(fp.error_code == 0);
  CHECK(fp.high_watermark == 300);
  CHECK(fp.fetch_offset == 100);
  CHECK(fp.next_offset > 100);
  // The batch holding offset 100 may start before it: the values from offset 100 are a suffix.
  auto values = values_of(fp.records);
  REQUIRE(values.size() >= size_t(fp.next_offset - 100));
  std::vector<std::string> tail(values.end() - (fp.next_offset - 100), values.end());
  CHECK(tail == std::vector<std::string>(expected[0].begin() + 100, expected[0].begin() + fp.next_offset));

  auto past = fetch_once(**c, "t", {{0, 1000}}, o);
  REQUIRE(past.ok());
  REQUIRE(past->size() == 1);
  CHECK((*past)[0].error_code == p::to_int16(p::ErrorCode::kOffsetOutOfRange));
}

TEST_CASE("Fetcher: every partition from earliest to latest in order, small partition limits included") {
  TestBroker b([](server::BrokerConfig& c) { c.auto_create_topics = false; });
  test::create_topic(b, "t", 3);
  auto expected = produce(b, "t", 3, 500);
  for (int32_t limit : {1 << 20, 100}) {
    CAPTURE(limit);
    FetchOptions o;
    o.max_wait_ms = 10;
    o.partition_max_bytes = limit;  // 100: less than one batch; the broker still sends one whole batch
    auto f = Fetcher::open({b.address()}, "t", {}, o);
    REQUIRE_MESSAGE(f.ok(), f.error().message);
    CHECK((*f)->partitions() == 3);
    REQUIRE((*f)->assign(0, kEarliestOffset).ok());
    REQUIRE((*f)->assign(1, 0).ok());
    REQUIRE((*f)->assign(2, 0).ok());
    CHECK((*f)->position(0) == 0);
    std::map<int, std::vector<std::string>> got;
    for (int round = 0; round < 2000; ++round) {
      if ((*f)->position(0) == 500 && (*f)->position(1) == 500 && (*f)->position(2) == 500) break;
      auto polled = (*f)->poll();
      REQUIRE_MESSAGE(polled.ok(), polled.error().message);
      for (const auto& fp : *polled) {
        REQUIRE(fp.error_code == 0);
        for (auto& v : values_of(fp.records)) got[fp.partition].push_back(v);
      }
    }
    for (int part = 0; part < 3; ++part) {
      CHECK((*f)->position(part) == 500);
      CHECK(got[part] == expected[part]);
    }
    // At the end: nothing more (the broker waits max_wait_ms, then answers empty).
    auto idle = (*f)->poll();
    REQUIRE(idle.ok());
    CHECK(idle->empty());
  }
}

TEST_CASE("Fetcher: latest, out of range, an unknown topic or partition") {
  TestBroker b([](server::BrokerConfig& c) { c.auto_create_topics = false; });
  test::create_topic(b, "t", 1);
  produce(b, "t", 1, 10);
  FetchOptions o;
  o.max_wait_ms = 10;
  auto f = Fetcher::open({b.address()}, "t", {}, o);
  REQUIRE(f.ok());
  REQUIRE((*f)->assign(0, kLatestOffset).ok());
  CHECK((*f)->position(0) == 10);
  CHECK((*f)->position(1) == -1);
  CHECK((*f)->assign(1, 0).error().code == ErrorCode::kInvalidArgument);
  REQUIRE((*f)->assign(0, 50).ok());
  auto polled = (*f)->poll();
  REQUIRE(polled.ok());
  REQUIRE(polled->size() == 1);
  CHECK((*polled)[0].error_code == p::to_int16(p::ErrorCode::kOffsetOutOfRange));
  CHECK((*f)->position(0) == 50);  // left for the caller to decide

  auto unknown = Fetcher::open({b.address()}, "nope", {}, o);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == ErrorCode::kNotFound);
}

}  // namespace
}  // namespace streamctl::kafka::client
