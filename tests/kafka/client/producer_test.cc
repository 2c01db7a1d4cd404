// kafka::client::Producer against an in-process streamctl broker on loopback: what it writes is what was
// produced (keys, null values, headers, timestamps, in order per partition) in idempotent batches
// (producer id, consecutive sequences) with pipelined requests and the counters right; acks=1 without
// idempotence; broker errors mapped ("broker error MESSAGE_TOO_LARGE", kRecordTooLarge); a partition
// without a leader failing after the delivery timeout (kTimeout, with the last error).
#include "kafka/client/producer.h"

#include <doctest/doctest.h>

#include <map>

#include "engine/log_manager.h"
#include "kafka/client/errors.h"
#include "kafka/client/partitioner.h"
#include "tests/kafka/client/test_broker.h"

namespace streamctl::kafka::client {
namespace {

using test::TestBroker;

// Every record of topic `t` partition p in the broker's data dir (the broker stopped), with the batch headers.
struct Stored {
  std::vector<Record> records;
  std::vector<RecordBatchHeader> headers;
};

Stored read_partition(const std::string& data_dir, const std::string& topic, int p) {
  engine::LogManagerOptions lo;
  lo.data_dir = data_dir;
  lo.create_if_missing = false;
  auto lm = engine::LogManager::open(lo);
  REQUIRE_MESSAGE(lm.ok(), lm.error().message);
  auto log = (*lm)->log(topic, p);
  REQUIRE(log.ok());
  auto read = (*log)->read(Offset{0}, size_t(64) << 20);
  REQUIRE(read.ok());
  Stored out;
  BatchIterator it(ByteSpan(read->records.data(), read->records.size()));
  while (it.next()) {
    out.headers.push_back(it.header());
    auto records = decode_records(it.batch());
    REQUIRE(records.ok());
    for (auto& r : *records) out.records.push_back(std::move(r));
  }
  CHECK(it.status().ok());
  return out;
}

TEST_CASE("Producer: idempotent, pipelined batches in order, counters right") {
  TestBroker b;
  test::create_topic(b, "t", 3);
  ProducerOptions options;
  options.max_batch_bytes = 4096;  // many batches: sequences must chain across them
  std::vector<std::string> log;
  options.log = [&](const std::string& m) { log.push_back(m); };
  auto producer = Producer::open({b.address()}, "t", 3, options);
  REQUIRE_MESSAGE(producer.ok(), producer.error().message);
  Producer& pr = **producer;
  CHECK(pr.producer_id() >= 0);
  REQUIRE_FALSE(log.empty());
  CHECK(log[0].find("idempotent producer id") != std::string::npos);

  constexpr int kRecords = 6000;
  std::map<int, std::vector<std::string>> expected;  // partition -> values in order
  uint64_t payload = 0;
  for (int i = 0; i < kRecords; ++i) {
    const PartitionId p = i % 3;
    Record& r = *pr.slot(p);
    r.key = std::string(1, 'k').append(std::to_string(i % 7));
    r.value = i % 100 == 99 ? std::nullopt : std::optional<std::string>(std::string("value-").append(std::to_string(i)));
    r.headers.clear();
    if (i % 10 == 0) r.headers.push_back({"h", std::string("x")});
    r.timestamp = Timestamp{1'700'000'000'000 + i};
    expected[p].push_back(r.value.value_or("<null>"));
    const size_t bytes = r.key->size() + (r.value ? r.value->size() : 0);
    payload += bytes;
    REQUIRE(pr.added(p, bytes).ok());
  }
  CHECK(pr.has_pending());
  auto flushed = pr.flush();
  REQUIRE_MESSAGE(flushed.ok(), flushed.error().message);
  CHECK_FALSE(pr.has_pending());
  const ProducerStats& s = pr.stats();
  CHECK(s.records_handed == kRecords);
  CHECK(s.records_delivered == kRecords);
  CHECK(s.bytes_delivered == payload);
  CHECK(s.records_failed == 0);
  CHECK(s.requests_sent > 3);
  CHECK(s.max_in_flight_seen >= 1);
  CHECK(s.max_in_flight_seen <= 5);  // Kafka's cap for an idempotent producer
  MESSAGE("requests " << s.requests_sent << ", most in flight on one connection " << s.max_in_flight_seen);
  producer->reset();
  b.stop();

  for (int p = 0; p < 3; ++p) {
    Stored stored = read_partition(b.config.data_dir, "t", p);
    CHECK(stored.headers.size() > 1);
    int32_t next_sequence = 0;
    for (const auto& h : stored.headers) {
      CHECK(h.producer_id == stored.headers[0].producer_id);
      CHECK(h.producer_id >= 0);
      CHECK(h.base_sequence == next_sequence);  // consecutive: nothing lost, nothing twice
      next_sequence += h.record_count;
    }
    std::vector<std::string> got;
    for (const auto& r : stored.records) {
      got.push_back(r.value.value_or("<null>"));
      CHECK(r.timestamp.value >= 1'700'000'000'000);
      if (r.value && std::stoi(r.value->substr(6)) % 10 == 0) {
        REQUIRE(r.headers.size() == 1);
        CHECK(r.headers[0].key == "h");
      }
    }
    CHECK(got == expected[p]);
  }
}

TEST_CASE("Producer: the broker restarting mid-stream: batches retried, nothing lost, nothing twice") {
  TestBroker b;
  test::create_topic(b, "t", 1);
  ProducerOptions options;
  options.max_batch_bytes = 2048;
  options.retry_backoff_ms = 20;
  options.delivery_timeout_ms = 60000;  // a regression fails in a minute instead of five
  auto producer = Producer::open({b.address()}, "t", 1, options);
  REQUIRE_MESSAGE(producer.ok(), producer.error().message);
  std::vector<std::string> expected;
  auto produce = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      expected.push_back(std::string("value-").append(std::to_string(i)));
      test::add(**producer, 0, std::nullopt, expected.back(), 1'700'000'000'000 + i);
    }
  };
  produce(0, 500);
  REQUIRE((*producer)->flush().ok());
  const int port = b.port();
  b.stop();
  produce(500, 1000);  // sent into a closed connection, or not at all: held for retry
  REQUIRE((*producer)->send_all().ok());
  CHECK((*producer)->has_pending());
  b.restart(port);
  auto st = (*producer)->flush();
  REQUIRE_MESSAGE(st.ok(), st.error().message);
  CHECK((*producer)->stats().records_delivered == 1000);
  CHECK((*producer)->stats().batches_retried > 0);
  producer->reset();
  b.stop();
  Stored stored = read_partition(b.config.data_dir, "t", 0);
  std::vector<std::string> got;
  for (const auto& r : stored.records) got.push_back(r.value.value_or("<null>"));
  CHECK(got == expected);
  int32_t next_sequence = 0;
  for (const auto& h : stored.headers) {
    CHECK(h.base_sequence == next_sequence);
    next_sequence += h.record_count;
  }
}

TEST_CASE("Producer: acks=1 is not idempotent; keyed records follow murmur2") {
  TestBroker b;
  test::create_topic(b, "keys", 4);
  ProducerOptions options;
  options.acks = 1;
  auto producer = Producer::open({b.address()}, "keys", 4, options);
  REQUIRE_MESSAGE(producer.ok(), producer.error().message);
  CHECK((*producer)->producer_id() == -1);
  StickyPartitioner partitioner(4, kDefaultBatchBytes, 1);
  std::map<int, std::vector<std::string>> expected;
  for (int i = 0; i < 200; ++i) {
    const std::string key = std::string("user-").append(std::to_string(i % 13));
    const PartitionId p = partitioner.partition(key, key.size() + 8);
    CHECK(p == partition_for_key(key, 4));
    expected[p].push_back(key);
    test::add(**producer, p, key, std::string("v").append(std::to_string(i)));
  }
  REQUIRE((*producer)->flush().ok());
  CHECK((*producer)->stats().records_delivered == 200);
  producer->reset();
  b.stop();
  for (int p = 0; p < 4; ++p) {
    Stored stored = read_partition(b.config.data_dir, "keys", p);
    for (const auto& h : stored.headers) CHECK(h.producer_id == -1);
    std::vector<std::string> got;
    for (const auto& r : stored.records) got.push_back(*r.key);
    CHECK(got == expected[p]);
  }
}

TEST_CASE("Producer: a broker error fails the records with Kafka's name and the matching ErrorCode") {
  TestBroker b;
  test::create_topic(b, "small", 1, {{"max.message.bytes", "1000"}});
  auto producer = Producer::open({b.address()}, "small", 1, {});
  REQUIRE_MESSAGE(producer.ok(), producer.error().message);
  for (int i = 0; i < 3; ++i) {
    test::add(**producer, 0, std::nullopt, std::string(2000, 'x'));
  }
  auto st = (*producer)->flush();
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == ErrorCode::kRecordTooLarge);
  CHECK_MESSAGE(st.error().message.find("3 of 3 records failed delivery to 'small' (first: partition 0: "
                                        "broker error MESSAGE_TOO_LARGE") == 0,
                st.error().message);
  CHECK((*producer)->stats().records_failed == 3);
  CHECK((*producer)->stats().records_delivered == 0);
}

TEST_CASE("Producer: a partition without a leader fails after the delivery timeout with the last error") {
  TestBroker b;
  test::create_topic(b, "one", 1);
  ProducerOptions options;
  options.delivery_timeout_ms = 1500;
  options.retry_backoff_ms = 20;
  // Two partitions asked of a one-partition topic: partition 1 has no leader, ever.
  auto producer = Producer::open({b.address()}, "one", 2, options);
  REQUIRE_MESSAGE(producer.ok(), producer.error().message);
  for (PartitionId p : {0, 1}) {
    test::add(**producer, p, std::nullopt, std::string("v"));
  }
  auto st = (*producer)->flush();
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == ErrorCode::kTimeout);
  CHECK_MESSAGE(st.error().message == "1 of 2 records failed delivery to 'one' (first: partition 1: not delivered "
                                      "within 1 s (last error: the partition has no leader))",
                st.error().message);
  CHECK((*producer)->stats().records_delivered == 1);
}

TEST_CASE("Producer: open fails naming the bootstrap brokers when none answers") {
  const int dead = test::dead_port();
  auto producer = Producer::open({{"127.0.0.1", dead}}, "t", 1, {});
  REQUIRE_FALSE(producer.ok());
  CHECK(producer.error().code == ErrorCode::kUnavailable);
  CHECK(producer.error().message.find("127.0.0.1:" + std::to_string(dead)) != std::string::npos);
}

TEST_CASE("broker_error: Kafka's name, the broker's message, the kind of failure") {
  const Error e = broker_error(19, "producing to t-0");
  CHECK(e.message == "producing to t-0: broker error NOT_ENOUGH_REPLICAS");
  CHECK(e.code == ErrorCode::kIoError);
  CHECK(broker_error_text(10, "too big") == "broker error MESSAGE_TOO_LARGE (too big)");
  CHECK(broker_error_text(12345) == "broker error UNKNOWN_ERROR_CODE 12345");
  CHECK(status_code_for(0) == ErrorCode::kOk);
  CHECK(status_code_for(3) == ErrorCode::kNotFound);
  CHECK(status_code_for(6) == ErrorCode::kUnavailable);
  CHECK(status_code_for(7) == ErrorCode::kTimeout);
  CHECK(status_code_for(10) == ErrorCode::kRecordTooLarge);
  CHECK(status_code_for(29) == ErrorCode::kPermissionDenied);
  CHECK(status_code_for(35) == ErrorCode::kNotSupported);
  CHECK(status_code_for(36) == ErrorCode::kAlreadyExists);
  CHECK(status_code_for(27) == ErrorCode::kBusy);
  CHECK(status_code_for(40) == ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace streamctl::kafka::client
