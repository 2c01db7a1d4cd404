// An in-process streamctl broker on 127.0.0.1 (a free port) for the client tests, and small helpers:
// a port nothing listens on, a listener that never accepts (connect timeouts), CreateTopics.
#pragma once

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "base/logging.h"
#include "kafka/client/connection.h"
#include "kafka/client/producer.h"
#include "kafka/protocol/generated/create_topics.h"
#include "server/broker.h"
#include "tests/support/temp_dir.h"

namespace streamctl::kafka::client::test {

struct TestBroker {
  streamctl::test::TempDir dir{"kafka-client-test"};
  server::BrokerConfig config;
  std::unique_ptr<server::Broker> broker;

  explicit TestBroker(std::function<void(server::BrokerConfig&)> tweak = nullptr) {
    set_log_level(LogLevel::kError);
    config.data_dir = dir.join("data");
    config.listen = "127.0.0.1:0";
    config.shutdown_timeout_ms = 3000;
    config.log_level = "error";
    if (tweak) tweak(config);
    auto b = server::Broker::start(config);
    REQUIRE_MESSAGE(b.ok(), b.error().message);
    broker = std::move(*b);
  }
  ~TestBroker() { stop(); }
  void stop() {
    if (!broker) return;
    broker->stop();
    (void)broker->wait();
    broker.reset();
  }
  // Starts the broker again on the same port and data directory. REQUIRES: stop() first.
  void restart(int port) {
    config.listen = "127.0.0.1:" + std::to_string(port);
    auto b = server::Broker::start(config);
    REQUIRE_MESSAGE(b.ok(), b.error().message);
    broker = std::move(*b);
  }
  int port() const { return broker->port(); }
  BrokerAddress address() const { return {"127.0.0.1", port()}; }
};

// A TCP socket bound to 127.0.0.1 on a free port (*port), not listening yet.
inline int bound_loopback_socket(int* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  *port = ntohs(a.sin_port);
  return fd;
}

// A loopback port that was free a moment ago (bound, then closed): connecting is refused.
inline int dead_port() {
  int port = 0;
  ::close(bound_loopback_socket(&port));
  return port;
}

// Creates `name` through CreateTopics (replication 1, `configs`); the response's error code.
inline int16_t create_topic(BrokerConnection& conn, const std::string& name, int32_t partitions,
                            const std::map<std::string, std::string>& configs = {}) {
  namespace p = kafka::protocol;
  p::CreateTopicsRequest req;
  auto& t = req.topics.emplace_back();
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = 1;
  for (const auto& [k, v] : configs) {
    auto& c = t.configs.emplace_back();
    c.name = k;
    c.value = v;
  }
  req.timeout_ms = 10000;
  auto v = conn.negotiate(p::ApiKey::kCreateTopics);
  REQUIRE_MESSAGE(v.ok(), v.error().message);
  auto resp = conn.call<p::CreateTopicsResponse>(int16_t(p::ApiKey::kCreateTopics), *v, req);
  REQUIRE_MESSAGE(resp.ok(), resp.error().message);
  REQUIRE(resp->topics.size() == 1);
  return resp->topics[0].error_code;
}

// Creates `name` on `broker` over a connection of its own; REQUIRES success.
inline void create_topic(const TestBroker& broker, const std::string& name, int32_t partitions,
                         const std::map<std::string, std::string>& configs = {}) {
  auto c = BrokerConnection::connect(broker.address(), {});
  REQUIRE_MESSAGE(c.ok(), c.error().message);
  REQUIRE(create_topic(**c, name, partitions, configs) == 0);
}

// Fills the next record of partition p (no headers) and hands it to the producer.
inline void add(Producer& producer, PartitionId p, std::optional<std::string> key, std::optional<std::string> value,
                int64_t timestamp = 1'700'000'000'000) {
  Record& r = *producer.slot(p);
  r.key = std::move(key);
  r.value = std::move(value);
  r.headers.clear();
  r.timestamp = Timestamp{timestamp};
  REQUIRE(producer.added(p, (r.key ? r.key->size() : 0) + (r.value ? r.value->size() : 0)).ok());
}

}  // namespace streamctl::kafka::client::test
