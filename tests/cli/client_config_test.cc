#include "cli/client_config.h"

#include <doctest/doctest.h>

#include "cli/kafka_client.h"

using namespace streamctl::cli;
using streamctl::ErrorCode;

namespace {

const char* kConfig = R"(# streamctl profiles
[local]
brokers = 127.0.0.1:9092

[prod]
; TLS + SASL
bootstrap.servers = k1:9093,k2:9093
security.protocol = SASL_SSL
sasl.username = app
acks = all

[props-only]
linger.ms = 5
)";

ClientProfiles parsed() {
  auto p = parse_client_config(kConfig, "/cfg");
  REQUIRE(p.ok());
  return *p;
}

}  // namespace

TEST_CASE("ConfigFileSectionsHoldBrokersAndClientProperties") {
  ClientProfiles p = parsed();
  REQUIRE(p.size() == 3);
  CHECK(p["local"].brokers == "127.0.0.1:9092");
  CHECK(p["local"].properties.empty());
  CHECK(p["prod"].brokers == "k1:9093,k2:9093");  // bootstrap.servers is an alias of brokers
  CHECK(p["prod"].properties.at("security.protocol") == "SASL_SSL");
  CHECK(p["prod"].properties.at("acks") == "all");
  CHECK(p["props-only"].brokers.empty());
}

TEST_CASE("ConfigFileErrorsNameFileAndLine") {
  auto outside = parse_client_config("brokers = x:1\n", "/cfg");
  REQUIRE(!outside.ok());
  CHECK(outside.error().code == ErrorCode::kInvalidArgument);
  CHECK(outside.error().message.find("/cfg:1:") == 0);
  auto junk = parse_client_config("[a]\n\nthis is not a setting\n", "/cfg");
  REQUIRE(!junk.ok());
  CHECK(junk.error().message.find("/cfg:3:") == 0);
  CHECK(!parse_client_config("[a\n", "/cfg").ok());
  CHECK(!parse_client_config("[]\n", "/cfg").ok());
  CHECK(!parse_client_config("[a]\n= v\n", "/cfg").ok());
}

TEST_CASE("NoBrokersAnywhereMeansEmbedded") {
  ConnectionRequest req;
  auto s = resolve_connection(req, parsed(), "/cfg");
  REQUIRE(s.ok());
  CHECK(s->brokers.empty());
}

TEST_CASE("BrokersFlagBeatsEnvironmentBeatsProfile") {
  ConnectionRequest req;
  req.profile_flag = "local";
  req.env_brokers = "env:1";
  req.brokers_flag = "flag:1";
  auto s = resolve_connection(req, parsed(), "/cfg");
  REQUIRE(s.ok());
  CHECK(s->brokers == "flag:1");
  CHECK(s->brokers_source == "--brokers");

  req.brokers_flag.clear();
  s = resolve_connection(req, parsed(), "/cfg");
  REQUIRE(s.ok());
  CHECK(s->brokers == "env:1");
  CHECK(s->brokers_source == "STREAMCTL_BROKERS");

  req.env_brokers.reset();
  s = resolve_connection(req, parsed(), "/cfg");
  REQUIRE(s.ok());
  CHECK(s->brokers == "127.0.0.1:9092");
  CHECK(s->profile == "local");
}

TEST_CASE("ProfileFlagBeatsProfileEnvironment") {
  ConnectionRequest req;
  req.env_profile = "prod";
  auto s = resolve_connection(req, parsed(), "/cfg");
  REQUIRE(s.ok());
  CHECK(s->brokers == "k1:9093,k2:9093");
  req.profile_flag = "local";
  s = resolve_connection(req, parsed(), "/cfg");
  REQUIRE(s.ok());
  CHECK(s->brokers == "127.0.0.1:9092");
}

TEST_CASE("DashXOverridesProfileProperties") {
  ConnectionRequest req;
  req.profile_flag = "prod";
  req.properties = {{"acks", "1"}, {"linger.ms", "7"}};
  auto s = resolve_connection(req, parsed(), "/cfg");
  REQUIRE(s.ok());
  CHECK(s->properties.at("acks") == "1");
  CHECK(s->properties.at("linger.ms") == "7");
  CHECK(s->properties.at("security.protocol") == "SASL_SSL");
}

TEST_CASE("UnknownProfileListsTheKnownOnes") {
  ConnectionRequest req;
  req.profile_flag = "staging";
  auto s = resolve_connection(req, parsed(), "/cfg");
  REQUIRE(!s.ok());
  CHECK(s.error().code == ErrorCode::kNotFound);
  CHECK(s.error().message.find("profiles: local, prod, props-only") != std::string::npos);
  auto missing_file = resolve_connection(req, std::nullopt, "/nope/config");
  REQUIRE(!missing_file.ok());
  CHECK(missing_file.error().message.find("/nope/config") != std::string::npos);
}

TEST_CASE("ProfileWithoutBrokersIsAnErrorUnlessSomethingElseNamesThem") {
  ConnectionRequest req;
  req.profile_flag = "props-only";
  auto s = resolve_connection(req, parsed(), "/cfg");
  REQUIRE(!s.ok());
  CHECK(s.error().code == ErrorCode::kInvalidArgument);
  req.env_brokers = "env:1";
  s = resolve_connection(req, parsed(), "/cfg");
  REQUIRE(s.ok());
  CHECK(s->brokers == "env:1");
  CHECK(s->properties.at("linger.ms") == "5");
}

TEST_CASE("KafkaErrorsMapToTheEmbeddedExitCodes") {
  CHECK(error_code_for(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) == ErrorCode::kNotFound);
  CHECK(exit_code_for(error_code_for(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)) == ExitCode::kNotFound);
  CHECK(error_code_for(RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND) == ErrorCode::kNotFound);
  CHECK(error_code_for(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) == ErrorCode::kAlreadyExists);
  CHECK(exit_code_for(error_code_for(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)) == ExitCode::kError);
  CHECK(error_code_for(RD_KAFKA_RESP_ERR_INVALID_CONFIG) == ErrorCode::kInvalidArgument);
  CHECK(exit_code_for(error_code_for(RD_KAFKA_RESP_ERR_INVALID_PARTITIONS)) == ExitCode::kUsage);
  CHECK(error_code_for(RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP) == ErrorCode::kBusy);
  CHECK(error_code_for(RD_KAFKA_RESP_ERR__TRANSPORT) == ErrorCode::kUnavailable);
  CHECK(error_code_for(RD_KAFKA_RESP_ERR__TIMED_OUT) == ErrorCode::kTimeout);
  CHECK(error_code_for(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) == ErrorCode::kRecordTooLarge);
  auto e = kafka_error(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, "topic 'x'");
  CHECK(e.message.find("topic 'x': ") == 0);
}
