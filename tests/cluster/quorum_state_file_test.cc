// The quorum-state file: Kafka's JSON round trip, a damaged file is an error naming it, and a write that fails
// at any step (then a crash) leaves the old state or the new one, never a mix and never "no vote".
#include "cluster/quorum_state_file.h"

#include <doctest/doctest.h>

#include <string>

#include "base/fault_fs.h"
#include "base/mem_fs.h"

using namespace streamctl;
using streamctl::cluster::read_quorum_state;
using streamctl::cluster::write_quorum_state;
using streamctl::raft::QuorumState;

namespace {
const std::string kPath = "/data/orders-0/quorum-state";
}

TEST_CASE("the quorum state reads back as written, in Kafka's QuorumStateData fields") {
  MemFileSystem fs;
  REQUIRE(fs.create_dirs("/data/orders-0").ok());
  auto none = read_quorum_state(fs, kPath);
  REQUIRE(none.ok());
  CHECK(*none == QuorumState{});
  QuorumState s{7, 3, 2};
  REQUIRE(write_quorum_state(fs, kPath, s, {1, 2, 3}).ok());
  CHECK(*read_quorum_state(fs, kPath) == s);
  std::string text(as_string_view(*read_file(fs, kPath)));
  CHECK(text ==
        "{\"clusterId\":\"\",\"leaderId\":2,\"leaderEpoch\":7,\"votedId\":3,\"appliedOffset\":0,"
        "\"currentVoters\":[{\"voterId\":1},{\"voterId\":2},{\"voterId\":3}],\"data_version\":0}\n");
  QuorumState none_known{8, raft::kNoNode, raft::kNoNode};
  REQUIRE(write_quorum_state(fs, kPath, none_known, {1}).ok());
  CHECK(*read_quorum_state(fs, kPath) == none_known);
}

TEST_CASE("a damaged quorum-state file is an error naming it, never the zero state") {
  MemFileSystem fs;
  REQUIRE(fs.create_dirs("/data/orders-0").ok());
  for (std::string_view bad : {std::string_view(""), std::string_view("{\"leaderId\":2,\"leaderEp"),
                               std::string_view("[]"), std::string_view("{\"leaderId\":2,\"votedId\":1,\"data_version\":0}"),
                               std::string_view("{\"leaderId\":2,\"leaderEpoch\":\"7\",\"votedId\":1,\"data_version\":0}"),
                               std::string_view("{\"leaderId\":2,\"leaderEpoch\":-1,\"votedId\":1,\"data_version\":0}"),
                               std::string_view("{\"leaderId\":2,\"leaderEpoch\":1,\"votedId\":1,\"data_version\":5}")}) {
    CAPTURE(bad);
    REQUIRE(write_file_atomically(fs, kPath, as_byte_span(bad)).ok());
    auto r = read_quorum_state(fs, kPath);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kCorruption);
    CHECK(r.error().message.find(kPath) != std::string::npos);
  }
  // Kafka's data_version 1 file (votedDirectoryId, no currentVoters) is read.
  std::string_view v1 = "{\"leaderId\":1,\"leaderEpoch\":4,\"votedId\":1,\"votedDirectoryId\":\"AAAAAAAAAAAAAAAAAAAAAA\","
                        "\"data_version\":1}";
  REQUIRE(write_file_atomically(fs, kPath, as_byte_span(v1)).ok());
  CHECK(*read_quorum_state(fs, kPath) == QuorumState{4, 1, 1});
}

TEST_CASE("a write that fails at any step and then a crash leaves the old state or the new one") {
  const QuorumState old_state{3, 1, 1};
  const QuorumState new_state{4, 2, raft::kNoNode};
  int saw_old = 0, saw_new = 0;
  for (uint64_t n = 0; n < 12; ++n) {
    CAPTURE(n);
    MemFileSystem mem;
    FaultInjectionFileSystem fs(&mem);
    REQUIRE(fs.create_dirs("/data/orders-0").ok());
    REQUIRE(fs.sync_dir("/data").ok());
    REQUIRE(fs.sync_dir("/").ok());
    REQUIRE(write_quorum_state(fs, kPath, old_state, {1, 2, 3}).ok());
    fs.deactivate_after(n);  // the power goes at the n-th operation of the next write
    Status s = write_quorum_state(fs, kPath, new_state, {1, 2, 3});
    fs.set_active(true);
    REQUIRE(fs.crash().ok());
    auto back = read_quorum_state(fs, kPath);
    REQUIRE(back.ok());
    CHECK((*back == old_state || *back == new_state));
    if (s.ok()) CHECK(*back == new_state);  // durable on return
    (*back == old_state ? saw_old : saw_new)++;
  }
  CHECK(saw_old > 0);
  CHECK(saw_new > 0);
}
