// Server-side TLS handshake with a deadline, and a rate limiter for the failure log lines.
//
// async_server_handshake runs the TLS handshake on an accepted socket and calls `done` exactly once:
//   * ({}, principal) on success; principal is "User:<subject>" when the client sent a (verified)
//     certificate, empty otherwise;
//   * (asio::error::timed_out, "") when the handshake did not finish within `timeout` (the socket is closed:
//     a client that connects and sends nothing, or stops mid-handshake, cannot hold the connection);
//   * (the TLS error, "") otherwise: garbage or plaintext to a TLS port, an untrusted client certificate, ...
// The stream must stay alive until `done` runs (the connection owns both). The deadline and the completion
// run on `serial` (the connection's strand), which must serialize every other use of the stream.
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace streamctl::net {

using TlsStream = asio::ssl::stream<asio::ip::tcp::socket>;

void async_server_handshake(TlsStream& stream, const asio::any_io_executor& serial, std::chrono::milliseconds timeout,
                            std::function<void(asio::error_code, std::string principal)> done);

// Allows at most `burst` events, refilled at `per_second`, and counts what it suppressed, so a flood of
// failed handshakes or logins from one peer cannot flood the log. The caller passes the time (testable).
// Thread-compatible.
class LogRateLimiter {
 public:
  LogRateLimiter(double per_second, double burst) : rate_(per_second), burst_(burst), tokens_(burst) {}
  // True if this event may be logged now; otherwise it is counted as suppressed.
  bool allow(std::chrono::steady_clock::time_point now);
  // Events suppressed since the last call (then reset): log "... and N more" with the next allowed line.
  uint64_t take_suppressed();

 private:
  double rate_;
  double burst_;
  double tokens_;
  std::chrono::steady_clock::time_point last_{};
  bool started_ = false;
  uint64_t suppressed_ = 0;
};

}  // namespace streamctl::net
