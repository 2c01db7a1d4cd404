// A deterministic fault simulator for the Raft core: one thread, a seeded PRNG, a virtual clock, 1-5 voters
// and 0-2 observers over a network that delays, drops, duplicates and reorders messages and partitions nodes;
// crash-restarts that lose unflushed data, slow disks, snapshots, graceful resignations, client appends
// throughout. Invariants are checked after every event (names as in Kafka's RaftEventSimulationTest):
//   SingleLeader, MonotonicEpoch, MonotonicHighWatermark, MajorityReachedHighWatermark,
//   ConsistentCommittedData, CommittedExactlyOnce, Liveness.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "raft/raft.h"

namespace streamctl::raft::sim {

struct SimOptions {
  uint64_t seed = 1;
  int voters = 3;         // 1-5
  int observers = -1;     // 0-2; -1 = chosen by the seed
  int64_t events = 20000;  // events in the fault phase (then faults heal and liveness is checked)
  Mutation mutation = Mutation::kNone;
  size_t trace_lines = 0;  // keep the last N event lines (0 = none)
};

struct SimStats {
  int64_t events = 0;
  int64_t elections = 0;          // a node became leader
  int64_t crashes = 0;
  int64_t crashes_losing_data = 0;  // crashes that lost unflushed offsets
  int64_t lost_offsets = 0;
  int64_t truncations = 0;        // divergent tails truncated by followers
  int64_t snapshots_installed = 0;
  int64_t partitions = 0;
  int64_t resignations = 0;
  int64_t messages_sent = 0;
  int64_t messages_dropped = 0;
  int64_t appends_committed = 0;
  int64_t max_epoch = 0;
  void add(const SimStats& o);
};

struct SimResult {
  bool ok = true;
  std::string invariant;  // the violated invariant's name
  std::string detail;
  std::vector<std::string> trace;  // the last trace_lines events
  SimStats stats;
};

SimResult run_simulation(const SimOptions& options);

struct MutationInfo {
  const char* name;
  Mutation mutation;
  const char* description;
};
const std::vector<MutationInfo>& mutations();
// nullptr if unknown.
const MutationInfo* find_mutation(const std::string& name);

}  // namespace streamctl::raft::sim
