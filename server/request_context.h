// RequestContext: what a request handler sees: the decoded request header, who sent it, and the broker's
// services (engine, group coordinator, producer state, append notifier, metrics, scheduler, config).
//
// Handlers (server/handlers/*.cc) are request -> response functions over a RequestContext. They never
// touch a socket: a synchronous handler returns its response; an asynchronous one (Fetch long poll,
// JoinGroup, SyncGroup) calls its completion exactly once, from any thread. Connection frames, orders and
// writes the bytes (server/connection.h).
// Ownership: BrokerServices is owned by the Broker and outlives every connection and pending request;
// RequestContext is a small value copied into asynchronous handlers. Thread-safety: every service is
// thread-safe; topics_mu serialises topic creation/deletion against reads and appends.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "kafka/protocol/error_codes.h"
#include "engine/log_manager.h"
#include "server/append_notifier.h"
#include "server/broker_config.h"
#include "server/group_coordinator.h"
#include "server/metrics.h"
#include "server/producer_state.h"
#include "server/request_budget.h"
#include "kafka/protocol/header.h"
#include "security/acl.h"

namespace streamctl::server {

// Timers and deferred work on the broker's io threads (asio in production, a manual queue in tests).
class Scheduler {
 public:
  class Timer {
   public:
    virtual ~Timer() = default;
    // Prevents the callback if it has not started; safe from any thread, idempotent.
    virtual void cancel() = 0;
  };
  virtual ~Scheduler() = default;
  // Runs fn once after delay_ms on an io thread.
  virtual std::shared_ptr<Timer> schedule(int64_t delay_ms, std::function<void()> fn) = 0;
  // Runs fn soon on an io thread (never inline).
  virtual void post(std::function<void()> fn) = 0;
};

struct BrokerServices {
  const BrokerConfig* config = nullptr;
  engine::LogManager* logs = nullptr;
  GroupCoordinator* groups = nullptr;
  ProducerStateManager* producers = nullptr;
  AppendNotifier* appends = nullptr;
  Metrics* metrics = nullptr;
  Scheduler* scheduler = nullptr;
  Clock* clock = nullptr;
  RequestBudget* request_budget = nullptr;  // bytes of large requests being read; null = unbounded
  // --authorizer: Kafka's ACLs (<data dir>/__meta/acls.json); null = everything is allowed.
  security::Authorizer* authorizer = nullptr;

  int32_t node_id = 0;
  std::string advertised_host;  // what Metadata and FindCoordinator hand out (the first listener's)
  int32_t advertised_port = 0;
  // Every listener's advertised address, in --listen order (index = RequestContext::listener). Empty = one
  // listener, advertised_host:advertised_port.
  struct AdvertisedListener {
    std::string name;  // PLAINTEXT, SASL_SSL, ...
    std::string host;
    int32_t port = 0;
  };
  std::vector<AdvertisedListener> listeners;
  std::string cluster_id;

  // Shared by produce/fetch/list-offsets/metadata, exclusive for create/delete topics and partitions
  // (a Log* from LogManager::log stays valid only until its topic is deleted).
  std::shared_mutex topics_mu;
  // Set once shutdown begins: long polls answer at once, new group joins are refused.
  std::atomic<bool> stopping{false};
};

struct RequestContext {
  BrokerServices* services = nullptr;
  kafka::protocol::RequestHeader header;
  std::string client_host;  // peer IP address
  uint64_t connection_id = 0;
  int listener = 0;  // index into BrokerServices::listeners
  // Kafka's principal: "User:<name>" after SASL authentication, "User:ANONYMOUS" otherwise.
  std::string principal = "User:ANONYMOUS";
  // Set for a connection the broker refused (over a connection limit): the request is answered with
  // this error, whatever it asks, and the connection closes.
  std::optional<kafka::protocol::ErrorCode> refuse_with;

  const std::string client_id() const { return header.client_id.value_or(""); }
  int16_t api_version() const { return header.api_version; }
  // Whether this request's principal may do `op` on the resource (always, without --authorizer).
  bool allowed(security::AclOperation op, security::ResourceType type, const std::string& name) const {
    return services->authorizer == nullptr || services->authorizer->authorize(principal, client_host, op, type, name);
  }
  // The address handed to this client: that of the listener it connected through, as Kafka does.
  const std::string& advertised_host() const {
    const auto& l = services->listeners;
    return size_t(listener) < l.size() ? l[size_t(listener)].host : services->advertised_host;
  }
  int32_t advertised_port() const {
    const auto& l = services->listeners;
    return size_t(listener) < l.size() ? l[size_t(listener)].port : services->advertised_port;
  }
};

}  // namespace streamctl::server
