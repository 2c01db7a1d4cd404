// SaslGate: the SASL side of one connection on a SASL_PLAINTEXT or SASL_SSL listener. The Connection hands
// it every frame before dispatch; it answers SaslHandshake (17) and SaslAuthenticate (36) itself, from a
// security::SaslSession (security/sasl.h), and lets a request through only when the session allows it:
// before authentication that is ApiVersions alone; any other request closes the connection, as Kafka does.
// After a SaslHandshake v0 the next frame is a raw SASL token (no request header).
//
// Failures (wrong password, unknown user, unknown mechanism, frames out of order or oversized) are
// answered with Kafka's error (SASL_AUTHENTICATION_FAILED 58, UNSUPPORTED_SASL_MECHANISM 33,
// ILLEGAL_SASL_STATE 34) and the connection closes after that answer. Each failure is counted in
// Metrics::sasl_authentication_failures and logged with the peer address, rate-limited per broker
// (SecurityAudit). Only this connection is affected.
//
// Thread-safety: a SaslGate is used on its connection's strand only; SecurityAudit is thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "base/coding.h"
#include "kafka/protocol/header.h"
#include "net/handshake.h"
#include "security/credential_store.h"
#include "security/sasl.h"
#include "server/dispatcher.h"
#include "server/metrics.h"

namespace streamctl::server {

// The users of SASL listeners (security::CredentialStore on <data dir>/__meta/users.json), re-read when the
// file changes (`streamctl user create` while serving): every lookup stats the file and reopens it when its
// inode, size or mtime differ. A file that no longer parses is logged and the previous users stay.
class ReloadingCredentials {
 public:
  static Result<std::unique_ptr<ReloadingCredentials>> open(std::string path);
  security::ScramCredentialLookup lookup_function();  // this must outlive it
  size_t user_count();

 private:
  explicit ReloadingCredentials(std::string path) : path_(std::move(path)) {}
  std::shared_ptr<security::CredentialStore> current();
  std::string stamp() const;  // "ino:size:mtime_ns", "" when missing

  std::string path_;
  std::mutex mu_;
  std::shared_ptr<security::CredentialStore> store_;  // GUARDED_BY(mu_)
  std::string stamp_;                                 // GUARDED_BY(mu_)
};

// The broker's shared part: counters and the rate limit of failure log lines (SASL and TLS handshakes).
class SecurityAudit {
 public:
  explicit SecurityAudit(Metrics& metrics) : metrics_(metrics), limiter_(1.0, 10.0) {}
  Metrics& metrics() { return metrics_; }
  void failure(const std::string& peer, const std::string& mechanism, const std::string& reason);
  // A TLS handshake that failed or timed out: counted, logged rate-limited with the peer.
  void tls_failure(const std::string& peer, const std::string& reason);
  void success(const std::string& peer, const std::string& principal, const std::string& mechanism);

 private:
  bool allow_log(uint64_t& suppressed);

  Metrics& metrics_;
  std::mutex mu_;
  net::LogRateLimiter limiter_;  // GUARDED_BY(mu_)
};

class SaslGate {
 public:
  SaslGate(security::SaslConfig config, SecurityAudit& audit, std::string peer);

  struct Outcome {
    enum class Verdict { kDispatch, kAnswered, kClose };
    Verdict verdict = Verdict::kDispatch;
    Reply reply;               // kAnswered: the frame to send (may be empty: nothing to send)
    bool close_after = false;  // kAnswered: close once it is written
    std::string reason;        // kClose / close_after: for the log line
  };

  // True when the next frame is a raw token (after SaslHandshake v0).
  bool expects_raw_token() const { return session_.expects_raw_token(); }
  Outcome on_raw_token(ByteSpan frame);
  // A frame with a decoded header: SASL requests are answered here, others pass or close.
  Outcome on_request(const kafka::protocol::RequestHeader& header, ByteSpan body);

  bool authenticated() const { return session_.authenticated(); }
  // "User:<name>" once authenticated, else "User:ANONYMOUS".
  const std::string& principal() const;

 private:
  void note_failure(int16_t error_code);

  security::SaslSession session_;
  SecurityAudit& audit_;
  std::string peer_;
  std::string requested_mechanism_;
};

}  // namespace streamctl::server
