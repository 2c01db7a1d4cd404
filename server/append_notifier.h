// AppendNotifier: wakes long-polling Fetch requests when records are appended to a partition they wait on.
//
// A Fetch that cannot be answered yet (fewer than min_bytes available) registers a one-shot watch on its
// partitions, then re-reads; Produce calls notify(tp) after each append. Registering before the re-read
// means an append between the two is never missed. A watch fires at most once and is removed when it fires
// or is cancelled. Callbacks run outside the notifier's lock, on the thread that called notify().
// notify() on a partition nobody watches costs one relaxed atomic load.
// Thread-safety: thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <vector>

#include "kafka/format/types.h"

namespace streamctl::server {

class AppendNotifier {
 public:
  using Callback = std::function<void()>;

  // Fires `cb` once, on the next notify() of any of `partitions` (or notify_all()). Returns the watch id.
  uint64_t watch(const std::vector<TopicPartition>& partitions, Callback cb);
  // Removes a watch that has not fired (no-op otherwise). The callback will not run after this returns,
  // unless it is already running on another thread.
  void cancel(uint64_t id);
  // Fires every watch on tp.
  void notify(const TopicPartition& tp);
  // Fires every watch (shutdown, topic deletion).
  void notify_all();
  size_t watch_count() const;

 private:
  struct Watch {
    std::vector<TopicPartition> partitions;
    Callback cb;
  };
  void remove_locked(uint64_t id, std::vector<Callback>* fired);

  mutable std::mutex mu_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Watch> watches_;
  std::map<TopicPartition, std::set<uint64_t>> by_partition_;
  std::atomic<size_t> count_{0};
};

}  // namespace streamctl::server
