// Broker: `streamctl serve` as an object. Owns the data directory (serve.lock + serve.json, see
// engine/advert.h), the engine (LogManager), the group coordinator, producer state, the Kafka listener,
// the optional HTTP endpoint, and the threads that run them.
//
// Lifecycle:
//   start()  validates the config, takes the data directory, opens and recovers the logs, binds the
//            listener (port 0 = a free port; the real one is logged as `msg="listening" ... port=N`,
//            returned by port() and written to --port-file), advertises itself, starts `threads` io
//            threads and one maintenance thread (retention every retention_check_interval_ms, producer-state
//            expiry, and an fsync of every log every flush_interval_ms when that is set).
//   stop()   (any thread, idempotent) begins a clean shutdown: stop accepting, answer held requests
//            (long polls return what they have, held joins get COORDINATOR_NOT_AVAILABLE), let every
//            request already read finish and its response be written (up to shutdown_timeout_ms), close
//            connections, flush every log, release the directory.
//   wait()   blocks until that is done; the Status reports a failed final flush.
// Durability (Kafka's single-node semantics): acknowledged produce data is in the page cache when answered,
// so it survives kill -9 of this process; it is fsynced per the topic's flush.messages/flush.ms, every
// flush_interval_ms when set, and on shutdown. acks=all equals acks=1 on one node.
// Thread-safety: start/wait from one thread; stop() from any thread (including a signal-watching one).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "server/broker_config.h"

namespace streamctl::server {

class Broker {
 public:
  static Result<std::unique_ptr<Broker>> start(const BrokerConfig& config);
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;
  // Stops (if still running) and waits.
  ~Broker();

  void stop();
  Status wait();
  // True once shutdown has completed (wait() would not block).
  bool stopped() const;

  // Re-reads --tls-cert/--tls-key/--tls-ca (SIGHUP): new TLS connections use the new files, existing ones
  // keep theirs; on error the old ones stay and the error is returned (and logged). No-op without TLS.
  Status reload_tls();
  // Re-reads <data dir>/__meta/acls.json now (SIGHUP) if it changed; with --authorizer the broker also checks
  // it by itself at most once a second (`streamctl acl add` on the data dir). A file that does not parse is
  // logged and the previous ACLs stay. No-op without --authorizer.
  Status reload_acls();

  uint16_t port() const;                 // the real Kafka listener port
  uint16_t http_port() const;            // 0 when --http is off
  std::string advertised_address() const;  // "host:port" handed to clients

 private:
  Broker();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamctl::server
