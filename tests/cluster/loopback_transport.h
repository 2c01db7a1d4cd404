// LoopbackHub: an in-process network between RaftHosts for tests. Each node connects with its executor; a
// send() is posted to the destination node's executor, where the node's handler gets the messages in order.
// Switches: isolate(node) cuts every link to and from it, drop_all(true) loses every message, heal() undoes
// both. A disconnected node (stopped, or killed) gets nothing more, and nothing is posted to its executor
// after disconnect() returns (so its io_context may then be destroyed). Thread-safe.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/post.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "cluster/peer_transport.h"

namespace streamctl::test {

class LoopbackHub {
 public:
  struct Stats {
    int64_t sends = 0;
    int64_t delivered_messages = 0;
    int64_t dropped_messages = 0;
    size_t max_groups_per_send = 0;  // distinct groups in one send: evidence of cross-group coalescing
  };

  // The transport of node `id`, whose handler runs on `executor`. Replaces an earlier connection of `id`.
  std::unique_ptr<cluster::PeerTransport> connect(raft::NodeId id, asio::any_io_executor executor) {
    auto ep = std::make_shared<Endpoint>();
    ep->executor = std::move(executor);
    {
      std::lock_guard<std::mutex> lock(mu_);
      endpoints_[id] = ep;
    }
    return std::make_unique<Transport>(this, id, ep);
  }
  void disconnect(raft::NodeId id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = endpoints_.find(id);
    if (it == endpoints_.end()) return;
    it->second->connected = false;
    endpoints_.erase(it);
  }
  void isolate(raft::NodeId id) {
    std::lock_guard<std::mutex> lock(mu_);
    isolated_.insert(id);
  }
  void drop_all(bool drop) {
    std::lock_guard<std::mutex> lock(mu_);
    drop_all_ = drop;
  }
  void heal() {
    std::lock_guard<std::mutex> lock(mu_);
    isolated_.clear();
    drop_all_ = false;
  }
  Stats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

 private:
  struct Endpoint {
    asio::any_io_executor executor;
    cluster::PeerTransport::Handler handler;
    std::atomic<bool> connected{true};
  };

  class Transport final : public cluster::PeerTransport {
   public:
    Transport(LoopbackHub* hub, raft::NodeId id, std::shared_ptr<Endpoint> ep) : hub_(hub), id_(id), ep_(std::move(ep)) {}
    void set_handler(Handler handler) override { ep_->handler = std::move(handler); }
    void send(raft::NodeId to, std::vector<cluster::GroupMessage> messages) override {
      hub_->deliver(id_, to, std::move(messages));
    }

   private:
    LoopbackHub* hub_;
    raft::NodeId id_;
    std::shared_ptr<Endpoint> ep_;
  };

  void deliver(raft::NodeId from, raft::NodeId to, std::vector<cluster::GroupMessage> messages) {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.sends++;
    std::set<std::pair<std::string, int32_t>> groups;
    for (const auto& m : messages) groups.insert({m.group.topic, m.group.partition});
    stats_.max_groups_per_send = std::max(stats_.max_groups_per_send, groups.size());
    auto it = endpoints_.find(to);
    if (drop_all_ || it == endpoints_.end() || isolated_.count(from) || isolated_.count(to)) {
      stats_.dropped_messages += int64_t(messages.size());
      return;
    }
    stats_.delivered_messages += int64_t(messages.size());
    std::shared_ptr<Endpoint> ep = it->second;
    asio::post(ep->executor, [ep, messages = std::move(messages)]() mutable {
      for (auto& m : messages) {
        if (!ep->connected) return;
        ep->handler(std::move(m));
      }
    });
  }

  mutable std::mutex mu_;
  std::map<raft::NodeId, std::shared_ptr<Endpoint>> endpoints_;
  std::set<raft::NodeId> isolated_;
  bool drop_all_ = false;
  Stats stats_;
};

}  // namespace streamctl::test
