// The fault simulator: regression seeds, a seed sweep, and proof that each planted bug is caught.
#include <doctest/doctest.h>

#include <string>

#include "raft/sim/simulator.h"

using namespace streamctl::raft;
using namespace streamctl::raft::sim;

namespace {

SimResult run(uint64_t seed, int voters, Mutation m = Mutation::kNone, int64_t events = 20000) {
  SimOptions o;
  o.seed = seed;
  o.events = events;
  o.voters = voters;
  o.mutation = m;
  return run_simulation(o);
}

}  // namespace

TEST_CASE("regression seeds that once failed now hold every invariant") {
  // {seed, voters, events}: each found a bug during development (see raft/README.md, "Regressions").
  struct Seed {
    uint64_t seed;
    int voters;
    int64_t events;
  };
  const Seed seeds[] = {
      {3, 4, 3000},    // a restarted leader advertised itself while campaigning: no leader after the heal
      {9, 4, 3000},    // followers of a dead leader re-followed it from third-party hints: election livelock
      {13, 5, 3000},   // same livelock with five voters
      {237, 3, 20000}, // a follower whose last epoch predates the leader's snapshot was told to truncate
                       // below its high watermark
      {124798, 4, 20000},  // after a crash-restart, correlation ids began at 1 again: a late duplicate
      {129952, 3, 20000},  // FetchSnapshot response of the earlier lifetime replaced a longer log
  };
  for (const Seed& s : seeds) {
    CAPTURE(s.seed);
    SimResult r = run(s.seed, s.voters, Mutation::kNone, s.events);
    CHECK_MESSAGE(r.ok, r.invariant << ": " << r.detail);
  }
}

TEST_CASE("a seed sweep over 1-5 voters exercises every fault and holds every invariant") {
  SimStats total;
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    SimResult r = run(seed, static_cast<int>(seed % 5) + 1);
    CAPTURE(seed);
    REQUIRE_MESSAGE(r.ok, r.invariant << ": " << r.detail);
    total.add(r.stats);
  }
  // The schedule really produces what the invariants are about.
  CHECK(total.elections > 500);
  CHECK(total.crashes_losing_data > 50);
  CHECK(total.truncations > 50);
  CHECK(total.snapshots_installed > 10);
  CHECK(total.partitions > 500);
  CHECK(total.resignations > 50);
  CHECK(total.max_epoch > 10);
  CHECK(total.appends_committed > 10000);
}

TEST_CASE("the simulator is deterministic: a seed replays to the same run") {
  SimResult a = run(42, 3), b = run(42, 3);
  CHECK(a.stats.events == b.stats.events);
  CHECK(a.stats.messages_sent == b.stats.messages_sent);
  CHECK(a.stats.appends_committed == b.stats.appends_committed);
}

TEST_SUITE("mutations") {
  TEST_CASE("every planted bug is caught within 2000 seeds") {
    for (const MutationInfo& m : mutations()) {
      CAPTURE(m.name);
      uint64_t caught_at = 0;
      std::string invariant;
      for (uint64_t seed = 1; seed <= 2000 && caught_at == 0; ++seed) {
        SimResult r = run(seed, static_cast<int>(seed % 5) + 1, m.mutation);
        if (!r.ok) {
          caught_at = seed;
          invariant = r.invariant;
        }
      }
      MESSAGE(std::string(m.name) << " caught at seed " << caught_at << " by " << invariant);
      CHECK(caught_at != 0);
      CHECK(invariant != "Liveness");  // a safety invariant, not a stall, must catch these
    }
  }
}
