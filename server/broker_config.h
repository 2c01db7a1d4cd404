// BrokerConfig: every setting of `streamctl serve`, with its default. Filled from a config file
// (server/config_file.h, `key = value` lines named like the flags) and then from flags, which win.
// Plain value type; no asio here so the CLI and the tests can build it without the network layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/clock.h"

namespace streamctl::server {

inline constexpr size_t kDefaultMaxRequestBytes = size_t(100) << 20;       // Kafka socket.request.max.bytes
inline constexpr size_t kDefaultInitialMaxRequestBytes = size_t(2) << 20;  // before the first good request

struct BrokerConfig {
  std::string data_dir;                      // the engine data directory (required)
  // Kafka listeners (net/listener.h): "host:port" (PLAINTEXT) or "NAME://host:port,..." with NAME one of
  // PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL; port 0 = pick a free one.
  std::string listen = "127.0.0.1:9092";
  // host:port given to clients (for the first listener), or NAME://host:port per listener; empty = each
  // listener's host + real port.
  std::string advertise;
  // A PLAINTEXT or SASL_PLAINTEXT listener on a non-loopback address needs this (nothing is encrypted).
  bool allow_plaintext = false;
  // SASL mechanisms offered on SASL listeners, checked against <data dir>/__meta/users.json.
  std::string sasl_mechanisms = "SCRAM-SHA-256,SCRAM-SHA-512,PLAIN";
  // TLS listeners (SSL, SASL_SSL): PEM certificate chain and key (required for them); with a CA, clients
  // must present a certificate it signed (mTLS; on SSL listeners the principal is its subject). Reloaded on
  // SIGHUP (Broker::reload_tls).
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  int64_t tls_handshake_timeout_ms = 10000;
  // Kafka's ACLs from <data dir>/__meta/acls.json (security/acl.h): Produce needs WRITE on the topic, Fetch
  // READ, Metadata DESCRIBE (others are left out), auto-creation CREATE, group requests READ on the group.
  // No matching ACL = denied, unless allow_everyone_if_no_acl_found; super users (principals such as
  // User:admin, comma-separated) may do everything.
  bool authorizer = false;
  std::string super_users;
  bool allow_everyone_if_no_acl_found = false;
  int32_t node_id = 0;                       // broker id in Metadata/FindCoordinator (controller id too)
  std::string http;                          // host:port for GET /metrics and /health; empty = off
  std::string port_file;                     // if set, the first listener's real port is written there once listening
  int threads = 2;                           // io threads (network + request handling)

  // Limits.
  size_t max_connections = 1000;
  // Kafka max.connections.per.ip: 0 = three quarters of max_connections, so that one client (or one host
  // of clients) cannot take every slot. Overrides per address, Kafka's max.connections.per.ip.overrides
  // form: "127.0.0.1:2000,10.0.0.7:50" (the count after the last colon; 0 = that address is refused).
  size_t max_connections_per_ip = 0;
  std::string max_connections_per_ip_overrides;
  size_t max_request_bytes = kDefaultMaxRequestBytes;
  // Limit for the first request on a connection, until one request has been parsed (an unknown peer
  // cannot make us buffer 100 MiB).
  size_t initial_max_request_bytes = kDefaultInitialMaxRequestBytes;
  // Kafka queued.max.request.bytes: bytes of large requests (beyond a connection's 64 KiB read buffer)
  // being read at once across all connections; the rest wait, unread. Two requests of the default
  // max_request_bytes.
  size_t queued_max_request_bytes = size_t(200) << 20;
  size_t max_inflight_requests = 256;        // per connection; reading pauses beyond it (backpressure)
  size_t max_queued_response_bytes = size_t(64) << 20;  // per connection; reading pauses beyond it
  int64_t idle_timeout_ms = 600000;          // Kafka connections.max.idle.ms

  // Background work.
  int64_t retention_check_interval_ms = 300000;  // Kafka log.retention.check.interval.ms
  // fsync every open log this often; 0 (the default, as Kafka) = rely on the OS page cache, fsync per the
  // topic's flush.messages/flush.ms and on shutdown. Note: engine::Log::flush holds the partition's lock
  // during the fsync, so appends and reads of that partition wait for it.
  int64_t flush_interval_ms = 0;
  int64_t shutdown_timeout_ms = 10000;           // time given to in-flight requests on SIGTERM

  // Topics.
  bool auto_create_topics = true;            // Kafka auto.create.topics.enable (Metadata requests)
  int32_t default_partitions = 1;            // Kafka num.partitions

  // Group coordinator (Kafka's group.* broker settings).
  int64_t group_initial_rebalance_delay_ms = 3000;  // Kafka's and Redpanda's default (see the man page)
  int64_t group_min_session_timeout_ms = 6000;
  int64_t group_max_session_timeout_ms = 1800000;

  std::string log_level = "info";            // debug | info | warn | error | off

  Clock* clock = nullptr;            // default: system_clock(); not owned
};

}  // namespace streamctl::server
