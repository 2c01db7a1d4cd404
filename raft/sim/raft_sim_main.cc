// raft_sim: runs the deterministic Raft fault simulator over a range of seeds.
//   raft_sim --seeds N [--start S] [--voters V] [--events E] [--mutation NAME] [--trace L]
//   raft_sim --list-mutations
// --voters 0 (the default) cycles 1..5 voters over the seeds. Exit 0 if no invariant was violated, 1 on the
// first violation (printed with the seed, the invariant, the event trace tail and the replay command), 2 on
// bad usage.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "raft/sim/simulator.h"

using namespace streamctl::raft;
using namespace streamctl::raft::sim;

namespace {

int usage(const char* error) {
  if (error) std::fprintf(stderr, "raft_sim: %s\n", error);
  std::fprintf(stderr,
               "usage: raft_sim --seeds N [--start S] [--voters 0-5] [--events E] [--mutation NAME] [--trace L]\n"
               "       raft_sim --list-mutations\n");
  return 2;
}

bool parse(const char* s, int64_t* out) {
  char* end = nullptr;
  long long v = std::strtoll(s, &end, 10);
  if (!s[0] || *end || v < 0) return false;
  *out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t seeds = 100, start = 1, voters = 0, events = 20000, trace_lines = 40;
  std::string mutation_name;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--list-mutations") {
      for (const auto& m : mutations()) std::printf("%-28s %s\n", m.name, m.description);
      return 0;
    }
    if (i + 1 >= argc) return usage(("missing value for " + a).c_str());
    const char* v = argv[++i];
    int64_t* target = a == "--seeds" ? &seeds : a == "--start" ? &start : a == "--voters" ? &voters
                    : a == "--events" ? &events : a == "--trace" ? &trace_lines : nullptr;
    if (a == "--mutation") {
      mutation_name = v;
      if (!find_mutation(v)) return usage(("unknown mutation '" + mutation_name + "' (see --list-mutations)").c_str());
    } else if (!target) {
      return usage(("unknown option " + a).c_str());
    } else if (!parse(v, target)) {
      return usage(("bad number for " + a + ": " + v).c_str());
    }
  }
  if (voters > 5) return usage("--voters must be 0 (cycle 1-5) or 1-5");
  Mutation mutation = mutation_name.empty() ? Mutation::kNone : find_mutation(mutation_name)->mutation;

  auto t0 = std::chrono::steady_clock::now();
  SimStats total;
  for (int64_t s = start; s < start + seeds; ++s) {
    SimOptions o;
    o.seed = static_cast<uint64_t>(s);
    o.voters = voters ? static_cast<int>(voters) : static_cast<int>(s % 5) + 1;
    o.events = events;
    o.mutation = mutation;
    SimResult r = run_simulation(o);
    total.add(r.stats);
    if (!r.ok) {
      o.trace_lines = static_cast<size_t>(trace_lines);
      SimResult traced = run_simulation(o);  // deterministic: the same run, with its trace kept
      std::printf("VIOLATION seed %lld (%d voters): %s: %s\n", static_cast<long long>(s), o.voters,
                  r.invariant.c_str(), r.detail.c_str());
      std::printf("last %zu events:\n", traced.trace.size());
      for (const auto& line : traced.trace) std::printf("  %s\n", line.c_str());
      std::printf("replay: raft_sim --seeds 1 --start %lld --voters %d --events %lld%s%s\n", static_cast<long long>(s),
                  o.voters, static_cast<long long>(events), mutation_name.empty() ? "" : " --mutation ",
                  mutation_name.c_str());
      std::printf("%lld seeds, %lld events, 1 violations\n", static_cast<long long>(s - start + 1),
                  static_cast<long long>(total.events));
      return 1;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%lld seeds, %lld events, 0 violations\n", static_cast<long long>(seeds),
              static_cast<long long>(total.events));
  std::printf("elections %lld, max epoch %lld, crashes %lld (%lld lost unflushed data, %lld offsets), "
              "truncations %lld, snapshots installed %lld, partitions %lld, resignations %lld, "
              "messages %lld (%lld dropped), appends committed %lld, %.1f s\n",
              (long long)total.elections, (long long)total.max_epoch, (long long)total.crashes,
              (long long)total.crashes_losing_data, (long long)total.lost_offsets, (long long)total.truncations,
              (long long)total.snapshots_installed, (long long)total.partitions, (long long)total.resignations,
              (long long)total.messages_sent, (long long)total.messages_dropped, (long long)total.appends_committed,
              secs);
  return 0;
}
