// raft_bench: appends/s one Raft group (3 voters) sustains in one thread without I/O: the leader takes
// appends in bursts, messages are delivered in memory at once, flushes complete at once. Counts appends
// committed (HW past them) per second of CPU wall time.
//   raft_bench [appends=2000000] [burst=1000]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <vector>

#include "raft/raft.h"
#include "raft/sim/memory_log.h"

using namespace streamctl::raft;

int main(int argc, char** argv) {
  long long total = argc > 1 ? std::atoll(argv[1]) : 2000000;
  long long burst = argc > 2 ? std::atoll(argv[2]) : 1000;
  if (total <= 0 || burst <= 0) {
    std::fprintf(stderr, "usage: raft_bench [appends > 0] [burst > 0]\n");
    return 2;
  }
  const int n = 3;
  std::vector<std::unique_ptr<sim::MemoryLog>> logs;
  std::vector<std::unique_ptr<Raft>> nodes;
  for (int i = 0; i < n; ++i) {
    logs.push_back(std::make_unique<sim::MemoryLog>());
    Config c;
    c.id = i;
    c.voters = {0, 1, 2};
    c.seed = static_cast<uint64_t>(i + 1);
    c.fetch_max_batches = 4096;
    nodes.push_back(std::make_unique<Raft>(c, logs[i].get(), QuorumState{}, 0));
  }
  std::deque<Message> inflight;
  int64_t now = 0;
  auto pump = [&](int i) {
    Effects& e = nodes[i]->effects();
    for (auto& m : e.messages) inflight.push_back(std::move(m));
    if (e.flush_to) {
      logs[i]->mark_flushed(*e.flush_to);
      e.clear();
      nodes[i]->on_flushed(logs[i]->flushed(), now);
      Effects& again = nodes[i]->effects();
      for (auto& m : again.messages) inflight.push_back(std::move(m));
      again.clear();
      return;
    }
    e.clear();
  };
  auto deliver_all = [&]() {
    while (!inflight.empty()) {
      Message m = std::move(inflight.front());
      inflight.pop_front();
      NodeId to = m.destination;
      nodes[to]->receive(std::move(m), now);
      pump(to);
    }
  };
  // Elect node 0.
  while (nodes[0]->role() != Role::kLeader) {
    now += 10;
    nodes[0]->tick(now);
    pump(0);
    deliver_all();
  }
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < n; ++i) nodes[i]->tick(now), pump(i);
    deliver_all();
  }
  Raft& leader = *nodes[0];
  Offset start_hw = leader.high_watermark();
  auto t0 = std::chrono::steady_clock::now();
  long long appended = 0;
  while (appended < total) {
    for (long long k = 0; k < burst && appended < total; ++k, ++appended) {
      Batch b;
      b.bytes = "small-record";
      if (!leader.append(std::move(b))) {
        std::fprintf(stderr, "raft_bench: leader lost leadership\n");
        return 1;
      }
    }
    pump(0);
    deliver_all();
    now += 1;
    for (int i = 0; i < n; ++i) nodes[i]->tick(now), pump(i);
    deliver_all();
  }
  for (int round = 0; round < 100 && leader.high_watermark() < logs[0]->end_offset(); ++round) {
    now += 50;
    for (int i = 0; i < n; ++i) nodes[i]->tick(now), pump(i);
    deliver_all();
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  long long committed = leader.high_watermark() - start_hw;
  std::printf("raft_bench: %lld appends committed on 3 voters in %.3f s: %.0f appends/s (burst %lld)\n", committed,
              secs, committed / secs, burst);
  return committed == total ? 0 : 1;
}
