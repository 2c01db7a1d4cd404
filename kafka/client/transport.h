// Transport: the byte stream under a Kafka client connection, and the seam where TLS and SASL plug in.
// BrokerConnection (kafka/client/connection.h) speaks the Kafka framing over any Transport; PlainTransport
// is TCP. A TLS transport will wrap the same calls (its read_some returning decrypted bytes, its
// buffered() saying whether decrypted bytes wait although the socket is quiet); clients pick the
// transport through ConnectionOptions::dial (connection.h).
//
// Deadlines are absolute CLOCK_MONOTONIC nanoseconds (mono_ns()). Errors name the peer ("host:port"):
// kUnavailable (resolve, connect, read/write failures, connection closed), kTimeout (deadline passed).
// Thread-compatible: one user at a time.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/result.h"

namespace streamctl::kafka::client {

// CLOCK_MONOTONIC in nanoseconds (every deadline in this module).
int64_t mono_ns();
// The deadline `timeout_ms` from now.
inline int64_t deadline_after_ms(int64_t timeout_ms) { return mono_ns() + timeout_ms * 1'000'000; }

// "host:port", "[::1]:9092" for an IPv6 literal.
std::string host_port_text(const std::string& host, int port);

class Transport {
 public:
  virtual ~Transport() = default;

  // "host:port", for messages.
  virtual const std::string& peer() const = 0;
  // The descriptor to poll for readability (the producer multiplexes several connections).
  virtual int fd() const = 0;
  // Writes every byte of `iov` (the entries are advanced as bytes go), waiting for room until deadline_ns.
  virtual Status write_all(std::span<struct iovec> iov, int64_t deadline_ns) = 0;
  // Reads what has arrived without blocking into `buf`: the byte count, 0 when nothing is available.
  // kUnavailable when the peer closed the connection.
  virtual Result<size_t> read_some(std::span<std::byte> buf) = 0;
  // Waits until bytes can be read or deadline_ns: true if readable, false on timeout.
  virtual Result<bool> wait_readable(int64_t deadline_ns) = 0;
  // Bytes already received and decoded but not yet returned (a TLS record's rest); never for plain TCP.
  virtual bool buffered() const { return false; }
  // Closes the connection (idempotent; the destructor closes too).
  virtual void close() = 0;
};

// TCP: non-blocking, TCP_NODELAY, IPv4 or IPv6 (every address the name resolves to, in order).
class PlainTransport final : public Transport {
 public:
  ~PlainTransport() override;
  PlainTransport(const PlainTransport&) = delete;
  PlainTransport& operator=(const PlainTransport&) = delete;

  // Connects to the first address of host:port that accepts within timeout_ms (each address). Errors:
  // "cannot resolve broker host:port: ...", "cannot connect to broker host:port: <reason>" (kUnavailable;
  // kTimeout when the last attempt timed out).
  static Result<std::unique_ptr<Transport>> connect(const std::string& host, int port, int timeout_ms);

  const std::string& peer() const override { return peer_; }
  int fd() const override { return fd_; }
  Status write_all(std::span<struct iovec> iov, int64_t deadline_ns) override;
  Result<size_t> read_some(std::span<std::byte> buf) override;
  Result<bool> wait_readable(int64_t deadline_ns) override;
  void close() override;

 private:
  PlainTransport(int fd, std::string peer) : fd_(fd), peer_(std::move(peer)) {}

  int fd_;
  std::string peer_;
};

}  // namespace streamctl::kafka::client
