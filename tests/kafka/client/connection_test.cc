// The transport and BrokerConnection against an in-process streamctl broker: the bootstrap list parser,
// version negotiation from ApiVersions, pipelined requests answered in order, and connect failures that
// name host:port (refused, timed out).
#include "kafka/client/connection.h"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kafka/protocol/generated/api_versions.h"
#include "kafka/protocol/generated/metadata.h"
#include "tests/kafka/client/test_broker.h"

namespace streamctl::kafka::client {
namespace {

namespace p = kafka::protocol;
using test::TestBroker;

TEST_CASE("parse_bootstrap: host:port lists, default port, IPv6 brackets, scheme prefixes, errors") {
  auto a = parse_bootstrap("localhost:9093, 10.0.0.1 ,PLAINTEXT://kafka-2:19092,[::1]:9094,[fe80::1]");
  REQUIRE_MESSAGE(a.ok(), a.error().message);
  REQUIRE(a->size() == 5);
  CHECK((*a)[0] == BrokerAddress{"localhost", 9093});
  CHECK((*a)[1] == BrokerAddress{"10.0.0.1", 9092});
  CHECK((*a)[2] == BrokerAddress{"kafka-2", 19092});
  CHECK((*a)[3] == BrokerAddress{"::1", 9094});
  CHECK((*a)[4] == BrokerAddress{"fe80::1", 9092});
  CHECK((*a)[3].text() == "[::1]:9094");
  CHECK((*a)[0].text() == "localhost:9093");
  for (const char* bad : {"", " , ", "host:", "host:0", "host:70000", "host:x", "[::1", ":9092"}) {
    auto r = parse_bootstrap(bad);
    CHECK_MESSAGE(!r.ok(), bad);
    if (!r.ok()) CHECK(r.error().code == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("highest_common_version: the top of the overlap, none without one") {
  VersionTable broker{{3, {0, 9}}, {0, {3, 11}}, {47, {0, 0}}};
  CHECK(highest_common_version(broker, 3, 0, 12) == 9);   // the broker's max
  CHECK(highest_common_version(broker, 0, 3, 8) == 8);    // ours
  CHECK(highest_common_version(broker, 0, 0, 2) == std::nullopt);
  CHECK(highest_common_version(broker, 47, 0, 0) == 0);
  CHECK(highest_common_version(broker, 22, 0, 4) == std::nullopt);  // the broker lacks the API
}

TEST_CASE("BrokerConnection: ApiVersions handshake, then the highest version both sides support") {
  TestBroker b;
  auto c = BrokerConnection::connect(b.address(), {});
  REQUIRE_MESSAGE(c.ok(), c.error().message);
  CHECK((*c)->peer() == "127.0.0.1:" + std::to_string(b.port()));
  CHECK((*c)->api_versions_version() == 3);
  // What the broker advertised is what kafka/protocol's table advertises (the same code answers).
  for (const auto& info : p::api_table()) {
    if (info.advertised.empty()) continue;
    auto it = (*c)->versions().find(int16_t(info.key));
    REQUIRE_MESSAGE(it != (*c)->versions().end(), info.name);
    CHECK(it->second.min == info.advertised.min);
    CHECK(it->second.max == info.advertised.max);
    // negotiate: min(advertised max, decodable max), within both.
    auto v = (*c)->negotiate(info.key);
    REQUIRE_MESSAGE(v.ok(), v.error().message);
    CHECK(*v == std::min(info.advertised.max, info.decodable.max));
  }
  // A narrower range of our own (the producer's v3-v8 Produce) caps the choice.
  auto produce = (*c)->negotiate(p::ApiKey::kProduce, 3, 8);
  REQUIRE(produce.ok());
  CHECK(*produce == std::min<int16_t>(8, (*c)->versions().at(0).max));
  // No overlap: kNotSupported naming the API and both ranges.
  auto none = (*c)->negotiate(p::ApiKey::kProduce, 100, 101);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code == ErrorCode::kNotSupported);
  CHECK(none.error().message.find("Produce") != std::string::npos);
  CHECK(none.error().message.find("streamctl: v100-101") != std::string::npos);
}

TEST_CASE("BrokerConnection: several requests in flight, answered in order, collected in any order") {
  TestBroker b;
  auto c = BrokerConnection::connect(b.address(), {});
  REQUIRE_MESSAGE(c.ok(), c.error().message);
  BrokerConnection& conn = **c;
  const int16_t v = *conn.negotiate(p::ApiKey::kMetadata);
  const int64_t deadline = deadline_after_ms(10000);
  p::MetadataRequest all;
  all.topics = std::nullopt;
  p::ApiVersionsRequest av;
  auto first = conn.send(int16_t(p::ApiKey::kMetadata), v, all, deadline);
  auto second = conn.send(int16_t(p::ApiKey::kApiVersions), 0, av, deadline);
  auto third = conn.send(int16_t(p::ApiKey::kMetadata), 1, all, deadline);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  REQUIRE(third.ok());
  CHECK(*second == *first + 1);
  CHECK(*third == *second + 1);
  CHECK(conn.in_flight().size() == 3);
  // The last first: the two earlier answers arrive before it and wait for their own wait_response.
  auto r3 = conn.wait_response(*third, deadline);
  REQUIRE_MESSAGE(r3.ok(), r3.error().message);
  CHECK(conn.in_flight().empty());
  auto m3 = p::decode_message<p::MetadataResponse>(*r3, 1);
  REQUIRE_MESSAGE(m3.ok(), m3.error().message);
  CHECK(m3->brokers.size() == 1);
  auto r1 = conn.wait_response(*first, deadline);
  REQUIRE(r1.ok());
  auto m1 = p::decode_message<p::MetadataResponse>(*r1, v);
  REQUIRE_MESSAGE(m1.ok(), m1.error().message);
  CHECK(m1->brokers.at(0).port == b.port());
  auto r2 = conn.wait_response(*second, deadline);
  REQUIRE(r2.ok());
  auto a2 = p::decode_message<p::ApiVersionsResponse>(*r2, 0);
  REQUIRE(a2.ok());
  CHECK(a2->error_code == 0);
  // Nothing in flight under that id any more.
  auto again = conn.wait_response(*second, deadline);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("BrokerConnection: a stopped broker is kUnavailable naming it") {
  TestBroker b;
  auto c = BrokerConnection::connect(b.address(), {});
  REQUIRE(c.ok());
  b.stop();
  p::MetadataRequest req;
  auto r = (*c)->call<p::MetadataResponse>(int16_t(p::ApiKey::kMetadata), 1, req);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(r.error().message.find((*c)->peer()) != std::string::npos);
}

TEST_CASE("PlainTransport: a refused connection names host:port") {
  const int port = test::dead_port();
  auto t = PlainTransport::connect("127.0.0.1", port, 2000);
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().code == ErrorCode::kUnavailable);
  CHECK(t.error().message == "cannot connect to broker 127.0.0.1:" + std::to_string(port) + ": Connection refused");
  auto unresolved = PlainTransport::connect("no-such-host.invalid", 9092, 2000);
  REQUIRE_FALSE(unresolved.ok());
  CHECK(unresolved.error().message.find("cannot resolve broker no-such-host.invalid:9092") == 0);
}

TEST_CASE("PlainTransport: a listener that never accepts times out, kTimeout naming host:port") {
  // listen(0) with its queue filled: the kernel drops further SYNs, so a connect neither succeeds nor fails.
  int port = 0;
  const int lfd = test::bound_loopback_socket(&port);
  REQUIRE(::listen(lfd, 0) == 0);
  std::vector<std::unique_ptr<Transport>> fillers;
  Result<std::unique_ptr<Transport>> t = Error::invalid_argument("not tried");
  for (int i = 0; i < 8; ++i) {  // fill the queue: the first connects that complete stay queued
    t = PlainTransport::connect("127.0.0.1", port, 300);
    if (!t.ok()) break;
    fillers.push_back(std::move(t).value());
  }
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().code == ErrorCode::kTimeout);
  CHECK(t.error().message ==
        "cannot connect to broker 127.0.0.1:" + std::to_string(port) + ": timed out after 300 ms");
  ::close(lfd);
}

TEST_CASE("PlainTransport: IPv6 loopback") {
  const int lfd = ::socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  if (lfd < 0 || ::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (lfd >= 0) ::close(lfd);
    MESSAGE("no IPv6 loopback here: skipped");
    return;
  }
  REQUIRE(::listen(lfd, 4) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  const int port = ntohs(a.sin6_port);
  auto t = PlainTransport::connect("::1", port, 2000);
  REQUIRE_MESSAGE(t.ok(), t.error().message);
  CHECK((*t)->peer() == "[::1]:" + std::to_string(port));
  ::close(lfd);
}

// A Transport that counts what passes through the one it wraps (as a TLS transport would wrap TCP).
class CountingTransport final : public Transport {
 public:
  CountingTransport(std::unique_ptr<Transport> inner, size_t* written) : inner_(std::move(inner)), written_(written) {}
  const std::string& peer() const override { return inner_->peer(); }
  int fd() const override { return inner_->fd(); }
  Status write_all(std::span<struct iovec> iov, int64_t deadline_ns) override {
    for (const auto& v : iov) *written_ += v.iov_len;
    return inner_->write_all(iov, deadline_ns);
  }
  Result<size_t> read_some(std::span<std::byte> buf) override { return inner_->read_some(buf); }
  Result<bool> wait_readable(int64_t deadline_ns) override { return inner_->wait_readable(deadline_ns); }
  void close() override { inner_->close(); }

 private:
  std::unique_ptr<Transport> inner_;
  size_t* written_;
};

TEST_CASE("ConnectionOptions::dial: every connection a client makes goes through the given transport") {
  TestBroker b;
  test::create_topic(b, "t", 2);
  std::vector<std::string> dialled;
  size_t written = 0;
  ProducerOptions o;
  o.dial = [&](const BrokerAddress& a, int timeout_ms) -> Result<std::unique_ptr<Transport>> {
    dialled.push_back(a.text());
    auto t = PlainTransport::connect(a.host, a.port, timeout_ms);
    if (!t.ok()) return std::move(t).error();
    return std::unique_ptr<Transport>(new CountingTransport(std::move(t).value(), &written));
  };
  auto producer = Producer::open({b.address()}, "t", 2, o);
  REQUIRE_MESSAGE(producer.ok(), producer.error().message);
  for (int i = 0; i < 100; ++i) test::add(**producer, i % 2, std::nullopt, std::string(100, 'x'));
  REQUIRE((*producer)->flush().ok());
  // One connection for metadata, one to the leader of both partitions; 10 kB of values went through.
  CHECK(dialled == std::vector<std::string>(2, b.address().text()));
  CHECK(written > 100 * 100);
}

}  // namespace
}  // namespace streamctl::kafka::client
