// The CLI's side of streamctl's own Kafka producer (cli/wire_producer.h): which -X settings it takes (the
// rest go to librdkafka), and the RecordWriter over kafka::client::Producer against librdkafka's mock Kafka
// cluster (Kafka's broker behaviour as librdkafka's authors model it, not streamctl's): three brokers,
// partitions led by different brokers, a leader moving and injected produce errors mid-stream. The
// producer against a real in-process `serve` Broker is tested in tests/kafka/client/producer_test.cc.
#include "cli/wire_producer.h"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <chrono>
#include <map>
#include <thread>

#include "cli/kafka_client.h"
#include "cli/offset_spec.h"
#include "cli/remote_consume.h"
#include "cli/remote_produce.h"

// After cli/kafka_client.h: librdkafka's mock cluster (linked directly into this test; the CLI never uses it).
#include <librdkafka/rdkafka_mock.h>

namespace streamctl::cli {
namespace {

using Props = std::map<std::string, std::string>;

std::optional<ProducerOptions> config_of(const Props& props, const std::string& compression = "",
                                            std::string* why = nullptr) {
  std::string ignored;
  auto c = wire_producer_config(props, compression, why != nullptr ? why : &ignored);
  REQUIRE_MESSAGE(c.ok(), c.error().message);
  return *c;
}

TEST_CASE("WireProducerConfig: defaults are Kafka's safe producer (acks=all, idempotent, 5 in flight)") {
  ::unsetenv("STREAMCTL_KAFKA_PRODUCER");
  auto c = config_of({});
  REQUIRE(c);
  CHECK(c->acks == -1);
  CHECK(c->idempotence);
  CHECK(c->max_in_flight == 5);
  CHECK(c->max_batch_bytes == 1000000);
  CHECK(c->compression == Compression::kNone);
}

TEST_CASE("WireProducerConfig: the properties it implements") {
  ::unsetenv("STREAMCTL_KAFKA_PRODUCER");
  auto c = config_of({{"acks", "1"},
                      {"batch.size", "65536"},
                      {"compression.codec", "zstd"},
                      {"compression.level", "3"},
                      {"client.id", "cron-7"},
                      {"request.timeout.ms", "5000"},
                      {"message.timeout.ms", "0"},
                      {"linger.ms", "50"},
                      {"security.protocol", "PLAINTEXT"},
                      {"max.in.flight", "9"}});
  REQUIRE(c);
  CHECK(c->acks == 1);
  CHECK_FALSE(c->idempotence);  // only with acks=all
  CHECK(c->max_in_flight == 9);  // not idempotent: not capped at 5
  CHECK(c->max_batch_bytes == 65536);
  CHECK(c->compression == Compression::kZstd);
  CHECK(c->compression_level == 3);
  CHECK(c->client_id == "cron-7");
  CHECK(c->request_timeout_ms == 5000);
  CHECK(c->delivery_timeout_ms > int64_t(1) << 40);  // 0 = no limit, as in librdkafka

  CHECK(config_of({{"acks", "all"}, {"max.in.flight.requests.per.connection", "20"}})->max_in_flight == 5);
  CHECK(config_of({{"request.required.acks", "0"}})->acks == 0);
  CHECK(config_of({}, "lz4")->compression == Compression::kLz4);
  // -X wins over --compression, as with librdkafka (the flag is a default property there).
  CHECK(config_of({{"compression.type", "gzip"}}, "lz4")->compression == Compression::kGzip);
  CHECK_FALSE(config_of({{"enable.idempotence", "false"}})->idempotence);
}

TEST_CASE("WireProducerConfig: settings it does not implement leave produce to librdkafka, saying which") {
  ::unsetenv("STREAMCTL_KAFKA_PRODUCER");
  std::string why;
  CHECK_FALSE(config_of({{"security.protocol", "SASL_SSL"}}, "", &why));
  CHECK(why == "-X security.protocol=SASL_SSL");
  CHECK_FALSE(config_of({{"sasl.username", "app"}}, "", &why));
  CHECK(why == "-X sasl.username");
  CHECK_FALSE(config_of({{"debug", "all"}}, "", &why));
  CHECK(why == "-X debug");

  ::setenv("STREAMCTL_KAFKA_PRODUCER", "librdkafka", 1);
  CHECK_FALSE(config_of({}, "", &why));
  CHECK(why == "STREAMCTL_KAFKA_PRODUCER=librdkafka");
  ::setenv("STREAMCTL_KAFKA_PRODUCER", "native", 1);
  CHECK(config_of({}));
  ::setenv("STREAMCTL_KAFKA_PRODUCER", "fast", 1);
  auto bad = wire_producer_config({}, "", &why);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("STREAMCTL_KAFKA_PRODUCER=fast") != std::string::npos);
  ::unsetenv("STREAMCTL_KAFKA_PRODUCER");
}

TEST_CASE("WireProducerConfig: malformed values are errors naming the property") {
  ::unsetenv("STREAMCTL_KAFKA_PRODUCER");
  std::string why;
  for (const auto& [k, v] : Props{{"acks", "2"},
                                  {"batch.size", "0"},
                                  {"batch.size", "1MB"},
                                  {"request.timeout.ms", "-5"},
                                  {"enable.idempotence", "yes"},
                                  {"compression.codec", "brotli"}}) {
    auto c = wire_producer_config({{k, v}}, "", &why);
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().code == streamctl::ErrorCode::kInvalidArgument);
    CHECK_MESSAGE(c.error().message.find(k + "=" + v) != std::string::npos, c.error().message);
  }
  auto c = wire_producer_config({{"acks", "1"}, {"enable.idempotence", "true"}}, "", &why);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().message.find("needs acks=all") != std::string::npos);
}

// Collects consumed values per partition, in order.
class CollectingSink final : public RecordSink {
 public:
  bool write(const RecordView& r) override {
    values[r.partition].emplace_back(r.value.value_or("<null>"));
    return true;
  }
  Status flush() override { return ok_status(); }
  std::map<int, std::vector<std::string>> values;
};

TEST_CASE("WireWriter against librdkafka's mock Kafka cluster: three brokers, a leader moving, produce errors") {
  ::unsetenv("STREAMCTL_KAFKA_PRODUCER");
  REQUIRE(rdkafka_load().ok());
  char errstr[256];
  rd_kafka_t* mock_owner = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), errstr, sizeof errstr);
  REQUIRE_MESSAGE(mock_owner != nullptr, errstr);
  rd_kafka_mock_cluster_t* mock = rd_kafka_mock_cluster_new(mock_owner, 3);
  REQUIRE(mock != nullptr);
  constexpr int kPartitions = 4;
  REQUIRE(rd_kafka_mock_topic_create(mock, "t", kPartitions, 3) == RD_KAFKA_RESP_ERR_NO_ERROR);
  for (int p = 0; p < kPartitions; ++p) rd_kafka_mock_partition_set_leader(mock, "t", p, 1 + p % 3);

  GlobalOptions global;
  global.verbosity = -1;
  ConnectionSettings settings;
  settings.brokers = rd_kafka_mock_cluster_bootstraps(mock);
  std::map<int, std::vector<std::string>> expected;
  {
    // Partition 3 starts without a leader: its first records wait until one is elected.
    rd_kafka_mock_partition_set_leader(mock, "t", 3, -1);
    std::thread elect_first([mock] {
      std::this_thread::sleep_for(std::chrono::milliseconds(700));
      rd_kafka_mock_partition_set_leader(mock, "t", 3, 1);
    });
    ProducerOptions config;
    config.max_batch_bytes = 2048;
    config.retry_backoff_ms = 20;
    // One request in flight a connection: librdkafka's mock broker does not check idempotent sequences
    // (it takes a batch after a gap), which is what keeps order with 5 in flight against Kafka and serve
    // (remote_client.sh checks order across a kill -9 of serve with 5 in flight).
    config.max_in_flight = 1;
    config.delivery_timeout_ms = 20000;  // a regression fails in 20 s instead of hanging for 300
    auto writer = open_wire_writer(settings.brokers, "t", kPartitions, config, StickyPartitioner(kPartitions, 16384, 1),
                                   global);
    REQUIRE_MESSAGE(writer.ok(), writer.error().message);
    auto produce = [&](int from, int to) {
      for (int i = from; i < to; ++i) {
        const PartitionId p = i % kPartitions;
        auto slot = (*writer)->slot(p);
        REQUIRE(slot.ok());
        Record& r = **slot;
        r.key.reset();
        r.value = std::string("m-").append(std::to_string(i));
        r.headers.clear();
        r.timestamp = Timestamp{1'700'000'000'000 + i};
        expected[p].push_back(*r.value);
        REQUIRE((*writer)->added(p, r.value->size()).ok());
      }
    };
    produce(0, 3000);
    auto first = (*writer)->flush_touched();
    elect_first.join();
    REQUIRE_MESSAGE(first.ok(), first.error().message);
    // Partition 0 moves to broker 3 (the producer finds out from NOT_LEADER_OR_FOLLOWER), and the next
    // produce requests fail with retriable errors; all of them must be retried into place.
    rd_kafka_mock_partition_set_leader(mock, "t", 0, 3);
    rd_kafka_mock_push_request_errors(mock, 0 /* Produce */, 3, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE);
    produce(3000, 6000);
    auto flushed = (*writer)->flush_touched();
    REQUIRE_MESSAGE(flushed.ok(), flushed.error().message);
    CHECK((*writer)->records_written() == 6000);
    // Partition 1 loses its leader; its records wait (metadata asked again) until a leader appears.
    rd_kafka_mock_partition_set_leader(mock, "t", 1, -1);
    std::thread elect([mock] {
      std::this_thread::sleep_for(std::chrono::milliseconds(700));
      rd_kafka_mock_partition_set_leader(mock, "t", 1, 2);
    });
    produce(6000, 8000);
    flushed = (*writer)->flush_touched();
    elect.join();
    REQUIRE_MESSAGE(flushed.ok(), flushed.error().message);
    CHECK((*writer)->records_written() == 8000);
  }

  RemoteConsumeRequest req;
  req.topic = "t";
  auto spec = parse_offset_spec("beginning", Timestamp{0});
  REQUIRE(spec.ok());
  req.spec = *spec;
  CollectingSink sink;
  auto stats = run_remote_consume(settings, global, req, sink);
  REQUIRE_MESSAGE(stats.ok(), stats.error().message);
  CHECK(stats->records_written == 8000);
  for (int p = 0; p < kPartitions; ++p) {
    const auto& got = sink.values[p];
    size_t first_diff = 0;
    while (first_diff < got.size() && first_diff < expected[p].size() && got[first_diff] == expected[p][first_diff]) {
      ++first_diff;
    }
    INFO("partition " << p << ": " << got.size() << " records, expected " << expected[p].size()
                      << "; first difference at " << first_diff << ": "
                      << (first_diff < got.size() ? got[first_diff] : "(end)") << " vs "
                      << (first_diff < expected[p].size() ? expected[p][first_diff] : "(end)"));
    CHECK(got == expected[p]);  // each record once, in order
  }
  rd_kafka_mock_cluster_destroy(mock);
  rd_kafka_destroy(mock_owner);
}

}  // namespace
}  // namespace streamctl::cli
