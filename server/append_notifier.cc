#include "server/append_notifier.h"

namespace streamctl::server {

uint64_t AppendNotifier::watch(const std::vector<TopicPartition>& partitions, Callback cb) {
  std::lock_guard<std::mutex> g(mu_);
  uint64_t id = next_id_++;
  for (const auto& tp : partitions) by_partition_[tp].insert(id);
  watches_.emplace(id, Watch{partitions, std::move(cb)});
  count_.store(watches_.size(), std::memory_order_relaxed);
  return id;
}

void AppendNotifier::remove_locked(uint64_t id, std::vector<Callback>* fired) {
  auto it = watches_.find(id);
  if (it == watches_.end()) return;
  for (const auto& tp : it->second.partitions) {
    auto pit = by_partition_.find(tp);
    if (pit == by_partition_.end()) continue;
    pit->second.erase(id);
    if (pit->second.empty()) by_partition_.erase(pit);
  }
  if (fired) fired->push_back(std::move(it->second.cb));
  watches_.erase(it);
  count_.store(watches_.size(), std::memory_order_relaxed);
}

void AppendNotifier::cancel(uint64_t id) {
  std::lock_guard<std::mutex> g(mu_);
  remove_locked(id, nullptr);
}

void AppendNotifier::notify(const TopicPartition& tp) {
  if (count_.load(std::memory_order_relaxed) == 0) return;
  std::vector<Callback> fired;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto pit = by_partition_.find(tp);
    if (pit == by_partition_.end()) return;
    std::vector<uint64_t> ids(pit->second.begin(), pit->second.end());
    for (uint64_t id : ids) remove_locked(id, &fired);
  }
  for (auto& cb : fired) cb();
}

void AppendNotifier::notify_all() {
  std::vector<Callback> fired;
  {
    std::lock_guard<std::mutex> g(mu_);
    std::vector<uint64_t> ids;
    for (const auto& [id, _] : watches_) ids.push_back(id);
    for (uint64_t id : ids) remove_locked(id, &fired);
  }
  for (auto& cb : fired) cb();
}

size_t AppendNotifier::watch_count() const {
  std::lock_guard<std::mutex> g(mu_);
  return watches_.size();
}

}  // namespace streamctl::server
