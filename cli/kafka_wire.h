// The Kafka wire protocol spoken directly, for what librdkafka cannot do fast enough or cannot be asked
// safely: one TCP connection to one broker (BrokerSocket: framed writes with a deadline, frames read as
// they arrive), synchronous request/response round trips encoded with server/protocol's generated codec
// (call), and the ApiVersions probe (api_versions, probe_api_versions).
//
// Users: the native produce path (cli/wire_producer.h) sends its Produce requests over BrokerSocket; group
// administration (cli/remote_group.h) probes a broker before asking librdkafka for an API that librdkafka
// 2.0 aborts on when the broker lacks it (OffsetDelete).
//
// Errors: kUnavailable (resolve, connect, read/write failures, connection closed), kTimeout (no answer or
// no room to write before the deadline), kCorruption (impossible frame size, wrong correlation id,
// undecodable response), kNotSupported (ApiVersions refused).
// Thread-compatible: a BrokerSocket has one user at a time.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <sys/uio.h>

#include "base/coding.h"
#include "base/result.h"
#include "kafka/protocol/header.h"
#include "kafka/protocol/wire.h"

namespace streamctl::cli {

// CLOCK_MONOTONIC in nanoseconds (the deadlines below).
int64_t mono_ns();

// The largest response frame accepted (a larger size prefix is kCorruption).
inline constexpr int32_t kMaxResponseBytes = 100 << 20;

// One TCP connection to a broker (non-blocking, TCP_NODELAY); closed on destruction.
class BrokerSocket {
 public:
  ~BrokerSocket();
  BrokerSocket(const BrokerSocket&) = delete;
  BrokerSocket& operator=(const BrokerSocket&) = delete;

  // Connects to the first address of host:port that answers within timeout_ms (each).
  static Result<std::unique_ptr<BrokerSocket>> connect(const std::string& host, int port, int timeout_ms);

  int fd() const { return fd_; }
  const std::string& name() const { return name_; }  // "host:port", for messages

  // Writes every byte of `iov` (modified), waiting for room until deadline_ns (mono_ns()).
  Status write_all(std::vector<struct iovec>& iov, int64_t deadline_ns);

  // Reads what has arrived without blocking; calls on_frame(frame bytes after the size prefix) for each
  // complete frame, in order (an error it returns stops the reading and is returned). kUnavailable when
  // the broker closed the connection, kCorruption for an impossible frame size.
  template <typename F>
  Status read_available(F&& on_frame);

  // Waits up to timeout_ms for one frame (synchronous round trips only: nothing else is in flight).
  Result<Bytes> read_frame(int timeout_ms);

 private:
  explicit BrokerSocket(int fd) : fd_(fd) {}
  // One read(2) into the buffer: bytes read, 0 when nothing is available (errors as read_available).
  Result<size_t> read_some();

  int fd_;
  std::string name_;
  Bytes in_;
  size_t in_used_ = 0;
};

// A request frame (size + header v1/v2 + body) of API `key` at `version`.
template <typename Message>
Result<Bytes> request_frame(int16_t key, int16_t version, int32_t correlation_id,
                                            const std::string& client_id, const Message& body);

// Sends one request and waits up to timeout_ms for its response, which it decodes. REQUIRES: nothing else
// in flight on `sock`.
template <typename Response, typename Request>
Result<Response> call(BrokerSocket& sock, int16_t key, int16_t version, int32_t correlation_id,
                              const std::string& client_id, const Request& request, int timeout_ms);

// A broker's supported versions: API key -> [min, max].
using VersionTable = std::map<int16_t, std::pair<int16_t, int16_t>>;

// Whether a security.protocol value means a plain TCP connection (what BrokerSocket speaks), case-insensitive.
bool is_plaintext_protocol(const std::string& security_protocol);

// True if the broker supports API `key` at `version`.
bool supports(const VersionTable& versions, int16_t key, int16_t version);

// Asks the broker on `sock` which APIs it supports (ApiVersions v3, v0 if it refuses v3). Uses correlation
// ids 1 and 2.
Result<VersionTable> api_versions(BrokerSocket& sock, const std::string& client_id, int timeout_ms);

// Connects to host:port, asks ApiVersions, disconnects.
Result<VersionTable> probe_api_versions(const std::string& host, int port, const std::string& client_id,
                                                int timeout_ms);

// ---- implementation of the templates

template <typename F>
Status BrokerSocket::read_available(F&& on_frame) {
  for (;;) {
    auto n = read_some();
    if (!n.ok()) return std::move(n).error();
    if (*n == 0) break;
    size_t at = 0;
    while (in_used_ - at >= 4) {
      const int32_t size = int32_t(get_be32(in_.data() + at));
      if (size < 4 || size > kMaxResponseBytes) {
        return Error{streamctl::ErrorCode::kCorruption,
                             "broker " + name_ + " sent a frame of " + std::to_string(size) + " bytes"};
      }
      if (in_used_ - at < 4 + size_t(size)) break;
      auto st = on_frame(ByteSpan(in_.data() + at + 4, size_t(size)));
      if (!st.ok()) return st;
      at += 4 + size_t(size);
    }
    if (at > 0) {
      std::memmove(in_.data(), in_.data() + at, in_used_ - at);
      in_used_ -= at;
    }
    if (*n < 65536) break;  // drained (a short read)
  }
  return ok_status();
}

template <typename Message>
Result<Bytes> request_frame(int16_t key, int16_t version, int32_t correlation_id,
                                            const std::string& client_id, const Message& body) {
  Bytes out(4);
  kafka::protocol::RequestHeader h;
  h.api_key = key;
  h.api_version = version;
  h.correlation_id = correlation_id;
  h.client_id = client_id;
  auto st = kafka::protocol::encode_request_header(h, out);
  if (st.ok()) st = kafka::protocol::encode_message(body, version, out);
  if (!st.ok()) return std::move(st).error();
  put_be32(out.data(), uint32_t(out.size() - 4));
  return out;
}

template <typename Response, typename Request>
Result<Response> call(BrokerSocket& sock, int16_t key, int16_t version, int32_t correlation_id,
                              const std::string& client_id, const Request& request, int timeout_ms) {
  auto frame = request_frame(key, version, correlation_id, client_id, request);
  if (!frame.ok()) return std::move(frame).error();
  std::vector<struct iovec> iov{{frame->data(), frame->size()}};
  auto st = sock.write_all(iov, mono_ns() + int64_t(timeout_ms) * 1'000'000);
  if (!st.ok()) return std::move(st).error();
  auto reply = sock.read_frame(timeout_ms);
  if (!reply.ok()) return std::move(reply).error();
  size_t body_at = 0;
  auto header = kafka::protocol::decode_response_header(
      *reply, kafka::protocol::response_header_version(key, version), &body_at);
  if (!header.ok()) return std::move(header).error();
  if (header->correlation_id != correlation_id) {
    return Error::corruption("broker " + sock.name() + " answered correlation id " +
                                     std::to_string(header->correlation_id) + ", expected " +
                                     std::to_string(correlation_id));
  }
  return kafka::protocol::decode_message<Response>(ByteSpan(*reply).subspan(body_at), version);
}

}  // namespace streamctl::cli
