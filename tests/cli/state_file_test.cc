// `consume --state-file` storage (cli/state_file.h): round trip, locking, refusal of damaged files.
#include "cli/state_file.h"

#include <unistd.h>

#include <doctest/doctest.h>

#include "base/mem_fs.h"

using streamctl::cli::StateFile;
using streamctl::ErrorCode;
using streamctl::Offset;
using streamctl::TopicPartition;

TEST_CASE("StateFileRoundTripsPositionsAcrossOpens") {
  streamctl::MemFileSystem fs;
  REQUIRE(fs.create_dirs("/jobs").ok());
  {
    auto s = StateFile::open(&fs, streamctl::system_clock(), "/jobs/app.state");
    REQUIRE_MESSAGE(s.ok(), s.error().to_string());
    CHECK(s.value()->positions().empty());
    CHECK(!s.value()->position({"logs", 0}).has_value());
    REQUIRE(s.value()->commit({{{"logs", 0}, Offset(42)}, {{"logs", 1}, Offset(7)}}).ok());
    REQUIRE(s.value()->commit({{{"logs", 1}, Offset(9)}, {{"other", 0}, Offset(1)}}).ok());
  }
  auto s = StateFile::open(&fs, streamctl::system_clock(), "/jobs/app.state");
  REQUIRE(s.ok());
  CHECK(s.value()->position({"logs", 0}) == Offset(42));
  CHECK(s.value()->position({"logs", 1}) == Offset(9));  // later commits win, others are kept
  CHECK(s.value()->position({"other", 0}) == Offset(1));
}

TEST_CASE("SecondOpenOfAStateFileInUseFailsAtOnce") {
  streamctl::MemFileSystem fs;
  REQUIRE(fs.create_dirs("/jobs").ok());
  auto first = StateFile::open(&fs, streamctl::system_clock(), "/jobs/app.state");
  REQUIRE(first.ok());
  auto second = StateFile::open(&fs, streamctl::system_clock(), "/jobs/app.state");
  REQUIRE(!second.ok());
  CHECK(second.error().code == ErrorCode::kBusy);
  CHECK(second.error().message.find("/jobs/app.state") != std::string::npos);
}

TEST_CASE("StateFileInAMissingDirectoryIsNotFound") {
  streamctl::MemFileSystem fs;
  auto s = StateFile::open(&fs, streamctl::system_clock(), "/nope/app.state");
  REQUIRE(!s.ok());
  CHECK(s.error().code == ErrorCode::kNotFound);
}

TEST_CASE("DamagedStateFileIsRefusedNotReset") {
  auto check_bad = [](const std::string& text) {
    auto r = StateFile::decode(text, "x.state");
    CHECK_MESSAGE(!r.ok(), text);
    if (!r.ok()) CHECK(r.error().code == ErrorCode::kCorruption);
  };
  check_bad("");
  check_bad("not json");
  check_bad("[1,2]");
  check_bad(R"({"offsets":{}})");
  check_bad(R"({"version":2,"offsets":{}})");
  check_bad(R"({"version":1,"offsets":{"t":{"x":1}}})");
  check_bad(R"({"version":1,"offsets":{"t":{"0":-1}}})");
  check_bad(R"({"version":1,"offsets":{"t":{"0":"5"}}})");
  auto ok = StateFile::decode(R"({"version":1,"offsets":{"t":{"0":5,"12":0}}})", "x.state");
  REQUIRE(ok.ok());
  CHECK(ok->at(TopicPartition{"t", 0}) == Offset(5));
  CHECK(ok->at(TopicPartition{"t", 12}) == Offset(0));
}

TEST_CASE("EncodeThenDecodeIsIdentity") {
  std::map<TopicPartition, Offset> positions{{{"a.b-c", 0}, Offset(0)}, {{"a.b-c", 3}, Offset(1) + 1234567890123}};
  auto decoded = StateFile::decode(StateFile::encode(positions, 1700000000000), "x");
  REQUIRE(decoded.ok());
  CHECK(*decoded == positions);
}
