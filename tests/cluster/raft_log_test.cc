// The raft::RaftLog contract (raft/log.h), run against both implementations: the simulator's in-memory log
// and EngineRaftLog over an engine::Log on a fault-injecting file system. Plus what only the engine adapter
// does: Kafka RecordBatch v2 storage (epoch in partitionLeaderEpoch, a real LeaderChange control batch) and
// byte-identical re-append of what read() returns.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "base/fault_fs.h"
#include "base/mem_fs.h"
#include "cluster/raft_log.h"
#include "engine/log.h"
#include "kafka/format/record_batch.h"
#include "raft/sim/memory_log.h"
#include "tests/cluster/engine_store.h"
#include "tests/engine/log_test_helpers.h"

using namespace streamctl;
using streamctl::cluster::EngineRaftLog;
using streamctl::test::EngineStore;
using streamctl::test::tag;
using streamctl::raft::Batch;
using streamctl::raft::OffsetAndEpoch;

namespace {

struct MemoryFixture {
  raft::sim::MemoryLog log;
  raft::RaftLog& raft_log() { return log; }
  std::string payload(const Batch& b) const { return b.bytes; }
  void flush() { log.mark_flushed(log.end_offset()); }
  void crash() { log.crash(); }
};

// The engine adapter: an EngineStore opened at once, and reopened after a crash.
struct EngineFixture : EngineStore {
  EngineFixture() { open(); }
  raft::RaftLog& raft_log() { return *adapter; }
  std::string payload(const Batch& b) const { return EngineRaftLog::payload(b); }
  void flush() { EngineStore::flush(); }
  // Power loss: what was not flushed is gone; the log is reopened from the file system.
  void crash() {
    EngineStore::crash();
    open();
  }
};

Batch data(raft::Epoch epoch, const std::string& bytes, int32_t records = 1) {
  Batch b;
  b.epoch = epoch;
  b.record_count = records;
  b.bytes = bytes;
  return b;
}

Batch leader_change(raft::Epoch epoch, int id) {
  Batch b;
  b.epoch = epoch;
  b.control = true;
  b.bytes = "LeaderChange:" + std::to_string(id);
  return b;
}

template <typename F>
std::vector<Batch> read_all(F& f) {
  return streamctl::test::read_batches(f.raft_log(), /*per_read=*/3);
}

template <typename F>
std::vector<std::string> payloads(F& f) {
  std::vector<std::string> out;
  for (const Batch& b : read_all(f)) out.push_back(b.control ? "<control>" : f.payload(b));
  return out;
}

}  // namespace

TEST_CASE_TEMPLATE("an empty log: offsets 0, epoch 0, no epochs, no snapshot", F, MemoryFixture, EngineFixture) {
  F f;
  raft::RaftLog& log = f.raft_log();
  CHECK(log.start_offset() == 0);
  CHECK(log.end_offset() == 0);
  CHECK(log.last_epoch() == 0);
  CHECK(log.end_offset_for_epoch(1) == OffsetAndEpoch{});
  std::vector<Batch> out;
  CHECK(log.read(0, 10, &out) == 0);
  CHECK(out.empty());
  CHECK(log.latest_snapshot() == OffsetAndEpoch{});
}

TEST_CASE_TEMPLATE("appends take consecutive offsets and read back whole, from any offset inside a batch", F,
                   MemoryFixture, EngineFixture) {
  F f;
  raft::RaftLog& log = f.raft_log();
  CHECK(log.append(leader_change(1, 0)) == 0);
  CHECK(log.append(data(1, "a")) == 1);
  CHECK(log.append(data(1, "bcd", 3)) == 2);
  CHECK(log.append(data(2, "e")) == 5);
  CHECK(log.end_offset() == 6);
  CHECK(log.last_epoch() == 2);
  CHECK(payloads(f) == std::vector<std::string>{"<control>", "a", "bcd", "e"});
  std::vector<Batch> out;
  CHECK(log.read(3, 1, &out) == 2);  // offset 3 lies in the batch [2, 4]
  REQUIRE(out.size() == 1);
  CHECK(out[0].record_count == 3);
  CHECK(out[0].epoch == 1);
  CHECK(f.payload(out[0]) == "bcd");
  out.clear();
  CHECK(log.read(0, 2, &out) == 0);
  REQUIRE(out.size() == 2);
  CHECK(out[0].control);
  CHECK_FALSE(out[1].control);
  out.clear();
  CHECK(log.read(6, 2, &out) == 6);
  CHECK(out.empty());
}

TEST_CASE_TEMPLATE("end_offset_for_epoch: where the largest epoch <= the asked one ends", F, MemoryFixture,
                   EngineFixture) {
  F f;
  raft::RaftLog& log = f.raft_log();
  log.append(data(1, "a"));
  log.append(data(1, "b"));
  log.append(data(3, "c"));
  log.append(data(4, "d", 2));
  CHECK(log.end_offset_for_epoch(0) == OffsetAndEpoch{});
  CHECK(log.end_offset_for_epoch(1) == OffsetAndEpoch{2, 1});
  CHECK(log.end_offset_for_epoch(2) == OffsetAndEpoch{2, 1});
  CHECK(log.end_offset_for_epoch(3) == OffsetAndEpoch{3, 3});
  CHECK(log.end_offset_for_epoch(4) == OffsetAndEpoch{5, 4});
  CHECK(log.end_offset_for_epoch(9) == OffsetAndEpoch{5, 4});
}

TEST_CASE_TEMPLATE("truncate_to drops the tail and its epochs; appends continue from the cut", F, MemoryFixture,
                   EngineFixture) {
  F f;
  raft::RaftLog& log = f.raft_log();
  for (int i = 0; i < 4; ++i) log.append(data(1, tag("a", i)));
  for (int i = 0; i < 4; ++i) log.append(data(2, tag("b", i)));
  f.flush();
  log.truncate_to(4);
  CHECK(log.end_offset() == 4);
  CHECK(log.last_epoch() == 1);
  CHECK(log.end_offset_for_epoch(2) == OffsetAndEpoch{4, 1});
  CHECK(log.append(data(3, "c")) == 4);
  CHECK(log.end_offset_for_epoch(2) == OffsetAndEpoch{4, 1});
  CHECK(log.end_offset_for_epoch(3) == OffsetAndEpoch{5, 3});
  CHECK(payloads(f) == std::vector<std::string>{"a0", "a1", "a2", "a3", "c"});
}

TEST_CASE_TEMPLATE("truncate_fully_and_start_at restarts an empty log at the offset, epochs forgotten", F,
                   MemoryFixture, EngineFixture) {
  F f;
  raft::RaftLog& log = f.raft_log();
  for (int i = 0; i < 5; ++i) log.append(data(1, tag("a", i)));
  log.truncate_fully_and_start_at(40);
  CHECK(log.start_offset() == 40);
  CHECK(log.end_offset() == 40);
  CHECK(log.last_epoch() == 0);
  CHECK(log.end_offset_for_epoch(1) == OffsetAndEpoch{});
  CHECK(log.append(data(2, "x")) == 40);
  CHECK(log.end_offset_for_epoch(2) == OffsetAndEpoch{41, 2});
  CHECK(payloads(f) == std::vector<std::string>{"x"});
}

TEST_CASE_TEMPLATE("a crash keeps what was flushed and the epochs of it, nothing after", F, MemoryFixture,
                   EngineFixture) {
  F f;
  f.raft_log().append(data(1, "a"));
  f.raft_log().append(data(2, "b"));
  f.flush();
  f.raft_log().append(data(2, "c"));
  f.raft_log().append(data(5, "d"));
  f.crash();
  raft::RaftLog& log = f.raft_log();
  CHECK(log.end_offset() == 2);
  CHECK(log.last_epoch() == 2);
  CHECK(log.end_offset_for_epoch(5) == OffsetAndEpoch{2, 2});
  CHECK(payloads(f) == std::vector<std::string>{"a", "b"});
  CHECK(log.append(data(6, "e")) == 2);
}

TEST_CASE("EngineRaftLog stores Kafka RecordBatch v2: epoch in partitionLeaderEpoch, a LeaderChange control batch") {
  EngineFixture f;
  raft::RaftLog& log = f.raft_log();
  log.append(leader_change(7, 2));
  log.append(data(7, "payload", 2));
  auto r = f.engine_log->read_up_to(Offset(0), 1 << 20, f.engine_log->log_end_offset());
  REQUIRE(r.ok());
  BatchIterator it(r->records);
  REQUIRE(it.next());
  CHECK(it.header().is_control());
  CHECK(it.header().leader_epoch == 7);
  auto control = decode_records(it.batch());
  REQUIRE(control.ok());
  REQUIRE(control->size() == 1);
  CHECK(*(*control)[0].key == std::string("\0\0\0\2", 4));  // version 0, LEADER_CHANGE
  CHECK(*(*control)[0].value == std::string("\0\0\0\0\0\2\1\1\0", 9));  // v0, LeaderId 2, no voters
  REQUIRE(it.next());
  CHECK_FALSE(it.header().is_control());
  CHECK(it.header().leader_epoch == 7);
  CHECK(it.header().base_offset == Offset(1));
  CHECK(it.header().last_offset_delta == 1);
  auto records = decode_records(it.batch());
  REQUIRE(records.ok());
  CHECK(*(*records)[0].value == "payload");
  CHECK_FALSE(it.next());
  CHECK(f.engine_log->leader_epochs() == std::vector<engine::EpochEntry>{{7, Offset(0)}});
}

TEST_CASE("EngineRaftLog: what read() returns appends byte for byte on another replica (replication)") {
  EngineFixture leader;
  EngineFixture follower;
  leader.raft_log().append(leader_change(3, 1));
  for (int i = 0; i < 6; ++i) leader.raft_log().append(data(3, tag("v", i), 1 + i % 3));
  // A client's own RecordBatch goes in unchanged but for base offset and epoch.
  Record rec;
  rec.value = "from-a-producer";
  rec.timestamp = Timestamp(123);
  auto produced = build_batch(std::span<const Record>(&rec, 1), Offset(0), BatchBuildOptions{});
  REQUIRE(produced.ok());
  leader.raft_log().append(data(3, std::string(reinterpret_cast<const char*>(produced->data()), produced->size())));
  for (Batch& b : read_all(leader)) follower.raft_log().append(std::move(b));
  CHECK(follower.raft_log().end_offset() == leader.raft_log().end_offset());
  std::vector<Batch> a = read_all(leader);
  std::vector<Batch> b = read_all(follower);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].bytes == b[i].bytes);
  CHECK(EngineRaftLog::payload(a.back()) == a.back().bytes);  // not wrapped: the producer's batch as stored
  auto recs = decode_records(as_byte_span(a.back().bytes));
  REQUIRE(recs.ok());
  CHECK(*(*recs)[0].value == "from-a-producer");
  CHECK(follower.engine_log->leader_epochs() == leader.engine_log->leader_epochs());
}

TEST_CASE("EngineRaftLog keeps the first engine error and stops writing") {
  EngineFixture f;
  f.raft_log().append(data(1, "a"));
  f.fs.fail_after(0, ErrorCode::kNoSpace, FsOp::kWrite, /*sticky=*/true);
  CHECK(f.raft_log().append(data(1, "b")) == 1);  // nothing appended: the end offset
  CHECK_FALSE(f.adapter->error().ok());
  CHECK(f.adapter->error().error().code == ErrorCode::kNoSpace);
  f.fs.clear_faults();
  CHECK(f.raft_log().append(data(1, "c")) == 1);  // still stopped
  CHECK(f.raft_log().end_offset() == 1);
  CHECK_FALSE(f.adapter->flush().ok());
  f.adapter.reset();
}
