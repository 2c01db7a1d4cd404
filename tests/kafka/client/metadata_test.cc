// Native Metadata against an in-process streamctl broker, and bootstrap failover: a dead first address
// is skipped, and when every address is dead the error lists each one with its reason.
#include "kafka/client/metadata.h"

#include <doctest/doctest.h>

#include "kafka/protocol/error_codes.h"
#include "tests/kafka/client/test_broker.h"

namespace streamctl::kafka::client {
namespace {

namespace p = kafka::protocol;
using test::TestBroker;

TEST_CASE("fetch_metadata: brokers, the topic's partitions and leaders; an unknown topic's error") {
  TestBroker b([](server::BrokerConfig& c) { c.auto_create_topics = false; });
  auto c = BrokerConnection::connect(b.address(), {});
  REQUIRE_MESSAGE(c.ok(), c.error().message);
  REQUIRE(test::create_topic(**c, "orders", 3) == 0);

  const std::vector<std::string> topics{"orders", "missing"};
  auto md = fetch_metadata(**c, &topics);
  REQUIRE_MESSAGE(md.ok(), md.error().message);
  REQUIRE(md->brokers.size() == 1);
  const BrokerMetadata& broker = md->brokers[0];
  CHECK(broker.port == b.port());
  CHECK(md->broker(broker.id) == &broker);
  CHECK(md->controller_id == broker.id);
  const TopicMetadata* orders = md->topic("orders");
  REQUIRE(orders != nullptr);
  CHECK(orders->error_code == 0);
  REQUIRE(orders->partitions.size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(orders->partitions[size_t(i)].id == i);
    CHECK(orders->partitions[size_t(i)].leader == broker.id);
  }
  const TopicMetadata* missing = md->topic("missing");
  REQUIRE(missing != nullptr);
  CHECK(missing->error_code == p::to_int16(p::ErrorCode::kUnknownTopicOrPartition));
  CHECK(missing->partitions.empty());

  // Every topic (null list at v1+).
  auto every = fetch_metadata(**c, nullptr);
  REQUIRE(every.ok());
  CHECK(every->topic("orders") != nullptr);
  CHECK(every->topic("missing") == nullptr);
}

TEST_CASE("bootstrap: a dead first address is skipped; all dead lists each address tried") {
  TestBroker b;
  const int dead = test::dead_port();
  const BrokerAddress dead_address{"127.0.0.1", dead};
  ConnectionOptions options;
  options.connect_timeout_ms = 2000;

  auto conn = connect_bootstrap({dead_address, b.address()}, options);
  REQUIRE_MESSAGE(conn.ok(), conn.error().message);
  CHECK((*conn)->peer() == b.address().text());

  auto md = bootstrap_metadata({dead_address, b.address()}, options, nullptr);
  REQUIRE_MESSAGE(md.ok(), md.error().message);
  CHECK(md->brokers.at(0).port == b.port());

  const int dead2 = test::dead_port();
  auto none = connect_bootstrap({dead_address, {"127.0.0.1", dead2}}, options);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code == ErrorCode::kUnavailable);
  CHECK(none.error().message == "cannot reach any bootstrap broker (cannot connect to broker 127.0.0.1:" +
                                    std::to_string(dead) + ": Connection refused; cannot connect to broker 127.0.0.1:" +
                                    std::to_string(dead2) + ": Connection refused)");
  auto none_md = bootstrap_metadata({dead_address}, options, nullptr);
  REQUIRE_FALSE(none_md.ok());
  CHECK(none_md.error().message.find("127.0.0.1:" + std::to_string(dead)) != std::string::npos);
  CHECK_FALSE(connect_bootstrap({}, options).ok());
}

}  // namespace
}  // namespace streamctl::kafka::client
