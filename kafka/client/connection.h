// BrokerConnection: one Kafka connection to one broker over a Transport. It frames requests (size prefix,
// request header v1/v2 per the API's flexible versions), numbers them (correlation ids from 1), keeps
// several in flight (pipelining: Kafka answers the requests of a connection in the order they were
// sent, so responses are matched against the oldest unanswered one, and a different correlation id is
// kCorruption), and negotiates versions: open() asks ApiVersions (v3, v0 when the broker refuses v3)
// and negotiate() picks the highest version both the broker and kafka/protocol's codec support.
//
//   auto c = BrokerConnection::connect({"localhost", 9092}, options);       // TCP + ApiVersions
//   auto v = (*c)->negotiate(protocol::ApiKey::kMetadata);                 // e.g. 12
//   auto r = (*c)->call<protocol::MetadataResponse>(3, *v, request);        // one round trip
//   int32_t a = *(*c)->send(key, v, req1), b = *(*c)->send(key, v, req2);  // two in flight
//   auto ra = (*c)->wait_response(a, deadline), rb = (*c)->wait_response(b, deadline);
//
// Errors: the Transport's (kUnavailable, kTimeout), kCorruption (impossible frame size, wrong correlation
// id, undecodable response), kNotSupported (ApiVersions refused, no common version).
// Thread-compatible: one user at a time.
#pragma once

#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/coding.h"
#include "base/result.h"
#include "kafka/client/transport.h"
#include "kafka/protocol/api_keys.h"
#include "kafka/protocol/header.h"
#include "kafka/protocol/wire.h"

namespace streamctl::kafka::client {

// The largest response frame accepted (a larger size prefix is kCorruption).
inline constexpr int32_t kMaxResponseBytes = 100 << 20;

// A broker's address. host may be a name, an IPv4 or an IPv6 literal (without brackets).
struct BrokerAddress {
  std::string host;
  int port = 9092;

  std::string text() const;  // "host:port", "[::1]:9092"
  bool operator==(const BrokerAddress&) const = default;
};

// Parses a bootstrap list: comma-separated host[:port] (default 9092), [v6]:port, each optionally with a
// "PLAINTEXT://"-style prefix; spaces around entries are ignored. kInvalidArgument for an empty list, an
// empty host or a bad port.
Result<std::vector<BrokerAddress>> parse_bootstrap(const std::string& list);

// A broker's supported versions: API key -> [min, max].
using VersionTable = std::map<int16_t, protocol::VersionRange>;

// The highest version in both the broker's range for `key` and [ours_min, ours_max]; nullopt if none.
std::optional<int16_t> highest_common_version(const VersionTable& broker, int16_t key, int16_t ours_min,
                                              int16_t ours_max);

// Makes the Transport to a broker: where TLS (and SASL, before the first Kafka request) plug in. Empty:
// PlainTransport::connect.
using Dialer = std::function<Result<std::unique_ptr<Transport>>(const BrokerAddress& address, int timeout_ms)>;

struct ConnectionOptions {
  std::string client_id = "streamctl";
  int32_t connect_timeout_ms = 10000;
  int32_t request_timeout_ms = 30000;  // each synchronous round trip (ApiVersions, call)
  Dialer dial;                         // every connection this client makes goes through it
};

class BrokerConnection {
 public:
  // A request sent and not yet answered.
  struct Pending {
    int32_t correlation_id = 0;
    int16_t api_key = 0;
    int16_t api_version = 0;
  };

  BrokerConnection(const BrokerConnection&) = delete;
  BrokerConnection& operator=(const BrokerConnection&) = delete;

  // options.dial (PlainTransport::connect when empty), then open().
  static Result<std::unique_ptr<BrokerConnection>> connect(const BrokerAddress& address,
                                                           const ConnectionOptions& options);
  // Takes `transport` and asks the broker for its versions (correlation ids 1, and 2 when v3 is refused).
  static Result<std::unique_ptr<BrokerConnection>> open(std::unique_ptr<Transport> transport,
                                                        const ConnectionOptions& options);

  const std::string& peer() const { return transport_->peer(); }
  Transport& transport() { return *transport_; }
  const ConnectionOptions& options() const { return options_; }
  const VersionTable& versions() const { return versions_; }
  // The ApiVersions version the handshake used (3, or 0 against an old broker).
  int16_t api_versions_version() const { return api_versions_version_; }

  // The highest version of `key` the broker and our codec (api_table's decodable range) both support,
  // or the highest in [min, max] when a caller's own encoding narrows it. kNotSupported names the API,
  // the broker's range and ours.
  Result<int16_t> negotiate(protocol::ApiKey key) const;
  Result<int16_t> negotiate(protocol::ApiKey key, int16_t min, int16_t max) const;

  // Sends a request whose body the caller encoded (iovecs, written in place; no copy of the body).
  // expect_response false: Produce with acks=0, nothing will come back. Returns the correlation id.
  Result<int32_t> send_raw(int16_t api_key, int16_t version, std::vector<struct iovec> body,
                           bool expect_response, int64_t deadline_ns);
  // Encodes and sends a request; its correlation id.
  template <typename Request>
  Result<int32_t> send(int16_t api_key, int16_t version, const Request& request, int64_t deadline_ns);

  // Requests in flight, oldest first.
  const std::deque<Pending>& in_flight() const { return in_flight_; }

  // Reads what has arrived without blocking and calls on_response(pending, body) for each complete
  // response, in order (body: the bytes after the response header; valid during the call). An error
  // on_response returns stops the reading and is returned.
  Status read_available(const std::function<Status(const Pending&, ByteSpan)>& on_response);

  // Waits until deadline_ns for the response to `correlation_id` and returns its body. Responses to
  // other requests that arrive first are kept for their own wait_response.
  Result<Bytes> wait_response(int32_t correlation_id, int64_t deadline_ns);

  // send + wait_response + decode, within the request timeout.
  template <typename Response, typename Request>
  Result<Response> call(int16_t api_key, int16_t version, const Request& request);

 private:
  BrokerConnection(std::unique_ptr<Transport> transport, ConnectionOptions options)
      : transport_(std::move(transport)), options_(std::move(options)) {}
  Status handshake();
  Result<size_t> read_some();

  std::unique_ptr<Transport> transport_;
  ConnectionOptions options_;
  VersionTable versions_;
  int16_t api_versions_version_ = -1;
  int32_t next_correlation_id_ = 1;
  std::deque<Pending> in_flight_;
  std::map<int32_t, Bytes> arrived_;  // answered, waiting for wait_response
  Bytes in_;
  size_t in_used_ = 0;
  Bytes head_;
};

// ---- implementation of the templates

template <typename Request>
Result<int32_t> BrokerConnection::send(int16_t api_key, int16_t version, const Request& request,
                                       int64_t deadline_ns) {
  Bytes body;
  auto st = protocol::encode_message(request, version, body);
  if (!st.ok()) return std::move(st).error();
  return send_raw(api_key, version, {{body.data(), body.size()}}, true, deadline_ns);
}

template <typename Response, typename Request>
Result<Response> BrokerConnection::call(int16_t api_key, int16_t version, const Request& request) {
  const int64_t deadline = deadline_after_ms(options_.request_timeout_ms);
  auto id = send(api_key, version, request, deadline);
  if (!id.ok()) return std::move(id).error();
  auto body = wait_response(*id, deadline);
  if (!body.ok()) return std::move(body).error();
  return protocol::decode_message<Response>(*body, version);
}

}  // namespace streamctl::kafka::client
