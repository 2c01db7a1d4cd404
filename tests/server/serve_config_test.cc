// serve's settings file, flag names and validation; the logfmt escaping of structured log lines; the
// data-directory advertisement round trip.
#include <doctest/doctest.h>
#include <unistd.h>

#include "engine/advert.h"
#include "server/config_file.h"
#include "base/logging.h"
#include "base/mem_fs.h"

namespace streamctl::server {
namespace {

TEST_CASE("ConfigFileLinesSetTheSameSettingsAsTheFlags") {
  auto entries = parse_config_text(
      "# a comment\n"
      "listen = 127.0.0.1:19092\n"
      "\n"
      "  advertise=broker.lan:19092  \n"
      "node_id = 3\n"
      "http = \"127.0.0.1:9644\"\n"
      "max-connections = 50\n"
      "auto-create-topics = false\n"
      "log-level = warn\n",
      "serve.conf");
  REQUIRE(entries.ok());
  CHECK(entries->size() == 7);
  CHECK((*entries)[2].key == "node-id");
  CHECK((*entries)[2].line == 5);
  BrokerConfig c;
  c.data_dir = "/tmp/x";
  REQUIRE(apply_config_entries(c, *entries, "serve.conf").ok());
  CHECK(c.listen == "127.0.0.1:19092");
  CHECK(c.advertise == "broker.lan:19092");
  CHECK(c.node_id == 3);
  CHECK(c.http == "127.0.0.1:9644");
  CHECK(c.max_connections == 50);
  CHECK_FALSE(c.auto_create_topics);
  CHECK(c.log_level == "warn");
  CHECK(validate_broker_config(c).ok());
}

TEST_CASE("BadConfigLinesNameTheFileLineAndKey") {
  auto no_eq = parse_config_text("listen 127.0.0.1:1\n", "f.conf");
  REQUIRE_FALSE(no_eq.ok());
  CHECK(no_eq.error().message.find("f.conf:1") != std::string::npos);
  BrokerConfig c;
  auto unknown = apply_config_entries(c, *parse_config_text("\nlisten_port = 1\n", "f.conf"), "f.conf");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message.find("f.conf:2") != std::string::npos);
  CHECK(unknown.error().message.find("listen-port") != std::string::npos);
  CHECK_FALSE(apply_config_setting(c, "threads", "zero").ok());
  CHECK_FALSE(apply_config_setting(c, "threads", "0").ok());
  CHECK_FALSE(apply_config_setting(c, "log-level", "loud").ok());
  CHECK_FALSE(apply_config_setting(c, "auto-create-topics", "maybe").ok());
}

TEST_CASE("ValidationCatchesBadAddressesAndInconsistentLimits") {
  BrokerConfig c;
  CHECK_FALSE(validate_broker_config(c).ok());  // no data dir
  c.data_dir = "/d";
  CHECK(validate_broker_config(c).ok());
  c.listen = "nohostport";
  CHECK_FALSE(validate_broker_config(c).ok());
  c.listen = "127.0.0.1:70000";
  CHECK_FALSE(validate_broker_config(c).ok());
  c.listen = "[::1]:0";
  CHECK(validate_broker_config(c).ok());
  c.advertise = "host:0";
  CHECK_FALSE(validate_broker_config(c).ok());
  c.advertise = "";
  c.initial_max_request_bytes = c.max_request_bytes + 1;
  CHECK_FALSE(validate_broker_config(c).ok());
  auto hp = parse_host_port("[::1]:9092", "x");
  REQUIRE(hp.ok());
  CHECK(hp->first == "::1");
  CHECK(hp->second == 9092);
}

TEST_CASE("LogfmtValuesAreQuotedOnlyWhenNeeded") {
  CHECK(logfmt_value("plain") == "plain");
  CHECK(logfmt_value("127.0.0.1:9092") == "127.0.0.1:9092");
  CHECK(logfmt_value("") == "\"\"");
  CHECK(logfmt_value("two words") == "\"two words\"");
  CHECK(logfmt_value("a=b") == "\"a=b\"");
  CHECK(logfmt_value("say \"hi\"\n") == "\"say \\\"hi\\\"\\n\"");
  CHECK(logfmt_value(std::string("\x01", 1)) == "\"\\x01\"");
  LogLevel l;
  CHECK(parse_log_level("debug", &l));
  CHECK(l == LogLevel::kDebug);
  CHECK_FALSE(parse_log_level("verbose", &l));
}

TEST_CASE("AdvertisementRoundTripsAndAFreeLockMeansNoOwner") {
  engine::ServerAdvert a;
  a.pid = 1234;
  a.listen = "127.0.0.1:9092";
  a.advertised = "broker:9092";
  a.http = "127.0.0.1:9644";
  a.node_id = 2;
  a.start_ms = 1700000000000;
  auto back = engine::advert_from_json(engine::advert_to_json(a));
  REQUIRE(back.ok());
  CHECK(back->pid == 1234);
  CHECK(back->advertised == "broker:9092");
  CHECK(back->node_id == 2);
  CHECK(engine::served_by_message("/d", a) == "/d is served by streamctl serve (pid 1234) on broker:9092; use --brokers broker:9092");
  CHECK_FALSE(engine::advert_from_json("not json").ok());

  MemFileSystem fs;
  REQUIRE(fs.create_dirs("/d").ok());
  auto none = engine::check_data_dir_owner(fs, "/d");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  {
    auto own = engine::DataDirOwnership::acquire(fs, "/d");
    REQUIRE(own.ok());
    auto starting = engine::check_data_dir_owner(fs, "/d");
    REQUIRE(starting.ok());
    REQUIRE(starting->has_value());
    CHECK((*starting)->starting);
    engine::ServerAdvert mine = a;
    mine.pid = ::getpid();  // an advertisement counts only if it is the lock holder's
    REQUIRE((*own)->publish(mine).ok());
    auto live = engine::check_data_dir_owner(fs, "/d");
    REQUIRE(live.ok());
    REQUIRE(live->has_value());
    CHECK((*live)->advertised == "broker:9092");
    auto second = engine::DataDirOwnership::acquire(fs, "/d");
    REQUIRE_FALSE(second.ok());
    CHECK(second.error().code == streamctl::ErrorCode::kBusy);
  }
  // Released: serve.json is gone and nobody owns the directory.
  CHECK_FALSE(*fs.exists(engine::serve_advert_path("/d")));
  CHECK_FALSE(engine::check_data_dir_owner(fs, "/d")->has_value());
}

TEST_CASE("ConnectionOverridesParseKafkasFormat") {
  auto m = parse_connection_overrides("127.0.0.1:2000, 10.0.0.7:0,::1:5,[fe80::1]:6,");
  REQUIRE(m.ok());
  CHECK(m->size() == 4);
  CHECK(m->at("127.0.0.1") == 2000);
  CHECK(m->at("10.0.0.7") == 0);
  CHECK(m->at("::1") == 5);
  CHECK(m->at("fe80::1") == 6);
  CHECK(parse_connection_overrides("")->empty());
  auto bad = parse_connection_overrides("127.0.0.1");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("'127.0.0.1' is not address:count") != std::string::npos);
  CHECK_FALSE(parse_connection_overrides("127.0.0.1:x").ok());
  CHECK_FALSE(parse_connection_overrides("127.0.0.1:-1").ok());
  BrokerConfig c;
  auto st = apply_config_setting(c, "max-connections-per-ip-overrides", "a:b");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.rfind("max-connections-per-ip-overrides: ", 0) == 0);
  CHECK(apply_config_setting(c, "max-connections-per-ip", "7").ok());
  CHECK(c.max_connections_per_ip == 7);
}

}  // namespace
}  // namespace streamctl::server
