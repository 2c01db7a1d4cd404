// NodeConfig: the --peers list in both forms, its validation errors, and the cluster identity file
// (meta.properties) a data dir keeps.
#include "cluster/node_config.h"

#include <doctest/doctest.h>

#include <string>

#include "base/fault_fs.h"
#include "base/mem_fs.h"

using namespace streamctl;
using streamctl::cluster::ClusterIdentity;
using streamctl::cluster::NodeConfig;
using streamctl::cluster::open_identity;
using streamctl::cluster::parse_peers;
using streamctl::cluster::read_identity;

namespace {

// The error message of a parse that must fail.
std::string error_of(std::string_view peers, std::string_view advertise, std::optional<int32_t> node_id = {}) {
  auto r = parse_peers(peers, advertise, node_id);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  return r.error().message;
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a host:port list numbers the nodes 1..N and finds this node by its advertise address") {
  auto c = parse_peers("127.0.0.1:9092, 127.0.0.1:9093,127.0.0.1:9094", "127.0.0.1:9093", {});
  REQUIRE(c.ok());
  CHECK(c->node_id == 2);
  REQUIRE(c->peers.size() == 3);
  CHECK(c->peers[0].id == 1);
  CHECK(c->peers[2].id == 3);
  CHECK(c->peers[2].address.port == 9094);
  CHECK(c->self().address.to_string() == "127.0.0.1:9093");
  CHECK(c->voters() == std::vector<int32_t>{1, 2, 3});
  // A --node-id that agrees with the position is accepted.
  CHECK(parse_peers("a:1,b:2", "b:2", 2).ok());
}

TEST_CASE("the id@host:port form takes the ids as given and this node from --node-id") {
  auto c = parse_peers("7@h1:9092,3@h2:9092,[::1]:9092", "", 3);
  CHECK_FALSE(c.ok());  // mixed forms
  c = parse_peers("7@h1:9092,3@h2:9092,9@[::1]:9092", "", 3);
  REQUIRE(c.ok());
  CHECK(c->node_id == 3);
  CHECK(c->find(9)->address.host == "::1");
  CHECK(c->find(9)->address.to_string() == "[::1]:9092");
  CHECK(c->find(1) == nullptr);
}

TEST_CASE("the first five peers vote, the others observe") {
  auto c = parse_peers("h:1,h:2,h:3,h:4,h:5,h:6,h:7", "h:7", {});
  REQUIRE(c.ok());
  CHECK(c->voters() == std::vector<int32_t>{1, 2, 3, 4, 5});
  CHECK_FALSE(c->self().voter);
  CHECK(c->find(6)->voter == false);
}

TEST_CASE("bad --peers lists are refused with the entry and the fix") {
  CHECK(contains(error_of("", "h:1"), "--peers is empty"));
  CHECK(contains(error_of("h:1,,h:2", "h:1"), "entry 2 is empty"));
  CHECK(contains(error_of("h:1,h:1", "h:1"), "'h:1' is listed twice"));
  CHECK(contains(error_of("1@h:1,1@h:2", "", 1), "node id 1 is used twice"));
  CHECK(contains(error_of("h:1,h", "h:1"), "entry 2: address 'h' has no port"));
  CHECK(contains(error_of("h:1,h:70000", "h:1"), "bad port '70000'"));
  CHECK(contains(error_of("h:1,h:0", "h:1"), "bad port '0'"));
  CHECK(contains(error_of("h:1,h:x", "h:1"), "bad port 'x'"));
  CHECK(contains(error_of("::1:9092", "h:1"), "IPv6 address in brackets"));
  CHECK(contains(error_of("1@h:1,h:2", "", 1), "entry 2 'h:2' mixes the two forms"));
  CHECK(contains(error_of("x@h:1", "", 1), "bad node id 'x'"));
  CHECK(contains(error_of("h:1,h:2", "h:3"), "this node's address h:3 is not in --peers"));
  CHECK(contains(error_of("h:1,h:2", ""), "pass --advertise"));
  CHECK(contains(error_of("h:1,h:2", "h:2", 1), "--node-id 1 contradicts --peers"));
  CHECK(contains(error_of("1@h:1,2@h:2", ""), "needs --node-id"));
  CHECK(contains(error_of("1@h:1,2@h:2", "", 3), "--node-id 3 is not in --peers"));
  CHECK(contains(error_of("1@h:1,2@h:2", "h:2", 1), "the address of node 2"));
}

TEST_CASE("a data dir keeps its cluster identity and refuses another node or another cluster") {
  MemFileSystem fs;
  CHECK_FALSE(read_identity(fs, "/d")->has_value());
  auto first = open_identity(fs, "/d", 2);
  REQUIRE(first.ok());
  CHECK(first->node_id == 2);
  CHECK(first->cluster_id.size() == 22);
  CHECK(first->cluster_id.front() != '-');
  auto again = open_identity(fs, "/d", 2);
  REQUIRE(again.ok());
  CHECK(*again == *first);
  CHECK(open_identity(fs, "/d", 2, first->cluster_id).ok());

  auto other_node = open_identity(fs, "/d", 3);
  REQUIRE_FALSE(other_node.ok());
  CHECK(contains(other_node.error().message, "belongs to node 2"));
  CHECK(contains(other_node.error().message, "/d/meta.properties"));
  CHECK(contains(other_node.error().message, "its own --data-dir"));

  auto other_cluster = open_identity(fs, "/d", 2, std::string("AAAAAAAAAAAAAAAAAAAAAA"));
  REQUIRE_FALSE(other_cluster.ok());
  CHECK(contains(other_cluster.error().message, "belongs to cluster " + first->cluster_id));
  CHECK(contains(other_cluster.error().message, "AAAAAAAAAAAAAAAAAAAAAA"));

  // Joining a known cluster writes that cluster's id.
  auto joined = open_identity(fs, "/e", 4, std::string("BBBBBBBBBBBBBBBBBBBBBB"));
  REQUIRE(joined.ok());
  CHECK(**read_identity(fs, "/e") == ClusterIdentity{"BBBBBBBBBBBBBBBBBBBBBB", 4});
}

TEST_CASE("a damaged meta.properties is an error naming the file, never a new identity") {
  MemFileSystem fs;
  REQUIRE(fs.create_dirs("/d").ok());
  auto write = [&](std::string_view text) {
    REQUIRE(write_file_atomically(fs, "/d/meta.properties", as_byte_span(text)).ok());
  };
  write("version=1\ncluster.id=abc\n");
  auto r = open_identity(fs, "/d", 1);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kCorruption);
  CHECK(contains(r.error().message, "/d/meta.properties: node.id"));
  write("garbage");
  CHECK(read_identity(fs, "/d").error().code == ErrorCode::kCorruption);
  write("version=2\ncluster.id=abc\nnode.id=1\n");
  CHECK(contains(read_identity(fs, "/d").error().message, "version must be 1"));
}

TEST_CASE("the identity is written atomically: a crash before the rename leaves no identity, after it the whole") {
  MemFileSystem mem;
  FaultInjectionFileSystem fs(&mem);
  REQUIRE(fs.create_dirs("/d").ok());
  REQUIRE(fs.sync_dir("/").ok());
  fs.fail_after(0, ErrorCode::kIoError, FsOp::kRename);
  CHECK_FALSE(open_identity(fs, "/d", 1).ok());
  fs.clear_faults();
  REQUIRE(fs.crash().ok());
  CHECK_FALSE(read_identity(fs, "/d")->has_value());
  auto made = open_identity(fs, "/d", 1);
  REQUIRE(made.ok());
  REQUIRE(fs.crash().ok());  // everything was synced, the directory entry included
  CHECK(**read_identity(fs, "/d") == *made);
}
