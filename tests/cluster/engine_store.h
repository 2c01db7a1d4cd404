// EngineStore: one replica's disk for the cluster tests: an engine partition log (small segments) on a
// fault-injecting in-memory file system, with the EngineRaftLog over it. Satisfies the Store interface of
// tests/raft/harness.h (BasicHarness) and serves the RaftLog contract tests.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "base/fault_fs.h"
#include "base/mem_fs.h"
#include "cluster/raft_log.h"
#include "engine/log.h"
#include "tests/support/manual_clock.h"

namespace streamctl::test {

// One node's disk: an engine partition log on a fault-injecting in-memory file system. A crash powers the
// disk off (the Log cannot flush on its way out), drops what was not fsynced, and the next open() reopens the
// Log from the file system (recovery, leader-epoch-checkpoint and all).
struct EngineStore {
  using Log = cluster::EngineRaftLog;
  MemFileSystem mem;
  FaultInjectionFileSystem fs{&mem};
  ManualClock clock;
  std::unique_ptr<engine::Log> engine_log;
  std::unique_ptr<cluster::EngineRaftLog> adapter;

  Log& log() { return *adapter; }
  void open() {
    engine::LogOptions o;
    o.dir = "/data/p-0";
    o.tp = TopicPartition{"p", 0};
    o.config.segment_bytes = 400;  // several segments per node
    o.config.index_interval_bytes = 64;
    o.config.retention_ms = -1;
    o.fs = &fs;
    o.clock = &clock;
    auto opened = engine::Log::open(o);
    if (!opened.ok()) FAIL(opened.error().to_string());
    engine_log = std::move(opened).value();
    adapter = std::make_unique<cluster::EngineRaftLog>(engine_log.get(), &clock);
  }
  // Makes the whole log durable; returns the durable end (Store::flush).
  raft::Offset flush(raft::Offset = 0) {
    auto durable = adapter->flush();
    if (!durable.ok()) FAIL(durable.error().to_string());
    return *durable;
  }
  void crash() {
    fs.set_active(false);
    adapter.reset();
    engine_log.reset();
    REQUIRE(fs.crash().ok());
  }
  ~EngineStore() {
    if (adapter && !adapter->error().ok()) FAIL_CHECK(adapter->error().error().to_string());
  }
};

// Every batch of `log` from its start, read `per_read` batches at a time (REQUIREs progress).
inline std::vector<raft::Batch> read_batches(raft::RaftLog& log, size_t per_read = 64) {
  std::vector<raft::Batch> out;
  raft::Offset from = log.start_offset();
  while (from < log.end_offset()) {
    std::vector<raft::Batch> got;
    raft::Offset base = log.read(from, per_read, &got);
    REQUIRE_FALSE(got.empty());
    for (raft::Batch& b : got) {
      base += b.record_count;
      out.push_back(std::move(b));
    }
    from = base;
  }
  return out;
}

}  // namespace streamctl::test
