#include "net/listener.h"

#include <doctest/doctest.h>

using namespace streamctl::net;

TEST_CASE("ListenersParseKafkaFormAndBareHostPort") {
  auto l = parse_listeners("PLAINTEXT://127.0.0.1:9092,SASL_SSL://0.0.0.0:9093,SSL://[::1]:9094,SASL_PLAINTEXT://:9095");
  REQUIRE(l.ok());
  REQUIRE(l->size() == 4);
  CHECK((*l)[0].protocol == SecurityProtocol::kPlaintext);
  CHECK((*l)[0].host == "127.0.0.1");
  CHECK((*l)[0].port == 9092);
  CHECK((*l)[1].protocol == SecurityProtocol::kSaslSsl);
  CHECK(uses_tls((*l)[1].protocol));
  CHECK(uses_sasl((*l)[1].protocol));
  CHECK((*l)[2].host == "::1");
  CHECK((*l)[2].to_string() == "SSL://[::1]:9094");
  CHECK((*l)[3].host.empty());
  auto bare = parse_listeners("localhost:9092");
  REQUIRE(bare.ok());
  CHECK(bare->at(0).name == "PLAINTEXT");
  CHECK(bare->at(0).to_string() == "PLAINTEXT://localhost:9092");
  CHECK(parse_listeners("PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0").ok());  // port 0 may repeat
}

TEST_CASE("BadListenersNameTheProblem") {
  struct Case {
    const char* text;
    const char* expect;
  };
  for (const Case& c : {Case{"", "no listener"}, Case{"HTTP://1.2.3.4:80", "unknown security protocol 'HTTP'"},
                        Case{"plaintext://h:1", "unknown security protocol"}, Case{"127.0.0.1", "expected host:port"},
                        Case{"h:99999", "0..65535"}, Case{"h:", "port ''"}, Case{"h:12ab", "port '12ab'"},
                        Case{"::1:9092", "needs brackets"}, Case{"[::1:9092", "[IPv6]:port"},
                        Case{"[nothex]:1", "not an IPv6 address"}, Case{"ho st:1", "invalid character"},
                        Case{"PLAINTEXT://a:1,PLAINTEXT://b:2", "used twice"}, Case{"a:1,SSL://b:1", "port 1"},
                        Case{"a:1,,b:2", "empty listener"}}) {
    CAPTURE(c.text);
    auto r = parse_listeners(c.text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find(c.expect) != std::string::npos);
  }
}

TEST_CASE("LoopbackDetection") {
  CHECK(is_loopback_host("127.0.0.1"));
  CHECK(is_loopback_host("127.1.2.3"));
  CHECK(is_loopback_host("::1"));
  CHECK(is_loopback_host("localhost"));
  CHECK_FALSE(is_loopback_host(""));
  CHECK_FALSE(is_loopback_host("0.0.0.0"));
  CHECK_FALSE(is_loopback_host("::"));
  CHECK_FALSE(is_loopback_host("10.0.0.1"));
  CHECK_FALSE(is_loopback_host("example.com"));
}

TEST_CASE("NonLoopbackPlaintextNeedsAllowPlaintext") {
  auto open = parse_listeners("PLAINTEXT://0.0.0.0:9092").value();
  auto st = check_plaintext_allowed(open, false);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("--allow-plaintext") != std::string::npos);
  CHECK(st.error().message.find("PLAINTEXT://0.0.0.0:9092") != std::string::npos);
  CHECK(check_plaintext_allowed(open, true).ok());
  CHECK_FALSE(check_plaintext_allowed(parse_listeners("SASL_PLAINTEXT://10.0.0.1:9092").value(), false).ok());
  CHECK_FALSE(check_plaintext_allowed(parse_listeners(":9092").value(), false).ok());  // all interfaces
  CHECK(check_plaintext_allowed(parse_listeners("127.0.0.1:9092,SASL_SSL://0.0.0.0:9093").value(), false).ok());
  CHECK(check_plaintext_allowed(parse_listeners("SSL://0.0.0.0:9093,PLAINTEXT://[::1]:1").value(), false).ok());
}

TEST_CASE("AdvertisedAddressesAreResolvedPerListener") {
  auto listeners = parse_listeners("PLAINTEXT://127.0.0.1:9092,SASL_SSL://0.0.0.0:9093").value();
  auto same = resolve_advertised(listeners, "");
  REQUIRE(same.ok());
  CHECK(same->at(1).to_string() == "SASL_SSL://0.0.0.0:9093");
  auto adv = resolve_advertised(listeners, "SASL_SSL://broker1.example.com:19093");
  REQUIRE(adv.ok());
  CHECK(adv->at(0).to_string() == "PLAINTEXT://127.0.0.1:9092");
  CHECK(adv->at(1).to_string() == "SASL_SSL://broker1.example.com:19093");
  struct Case {
    const char* text;
    const char* expect;
  };
  for (const Case& c : {Case{"SSL://h:1", "no listener named SSL"}, Case{"SASL_SSL://0.0.0.0:1", "wildcard"},
                        Case{"SASL_SSL://:1", "wildcard"}, Case{"SASL_SSL://h:0", "port 0"},
                        Case{"SASL_SSL://h:1,SASL_SSL://i:2", "used twice"}, Case{"nonsense", "--advertise"}}) {
    CAPTURE(c.text);
    auto r = resolve_advertised(listeners, c.text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find(c.expect) != std::string::npos);
  }
}
