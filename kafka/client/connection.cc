#include "kafka/client/connection.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "kafka/protocol/error_codes.h"
#include "kafka/protocol/generated/api_versions.h"

namespace streamctl::kafka::client {

namespace proto = kafka::protocol;

std::string BrokerAddress::text() const { return host_port_text(host, port); }

Result<std::vector<BrokerAddress>> parse_bootstrap(const std::string& list) {
  std::vector<BrokerAddress> out;
  size_t at = 0;
  while (at <= list.size()) {
    size_t comma = list.find(',', at);
    if (comma == std::string::npos) comma = list.size();
    std::string entry = list.substr(at, comma - at);
    at = comma + 1;
    const auto first = entry.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    entry = entry.substr(first, entry.find_last_not_of(" \t") - first + 1);
    if (auto scheme = entry.find("://"); scheme != std::string::npos) entry = entry.substr(scheme + 3);
    BrokerAddress a;
    std::string port;
    if (!entry.empty() && entry[0] == '[') {
      const auto close = entry.find(']');
      if (close == std::string::npos) return Error::invalid_argument("broker '" + entry + "': missing ']'");
      a.host = entry.substr(1, close - 1);
      if (close + 1 < entry.size()) {
        if (entry[close + 1] != ':') return Error::invalid_argument("broker '" + entry + "': expected :port");
        port = entry.substr(close + 2);
      }
    } else if (auto colon = entry.rfind(':'); colon != std::string::npos && entry.find(':') == colon) {
      a.host = entry.substr(0, colon);
      port = entry.substr(colon + 1);
    } else {
      a.host = entry;  // a name, or an IPv6 literal without port
    }
    if (a.host.empty()) return Error::invalid_argument("broker '" + entry + "': no host");
    if (!port.empty() || entry.back() == ':') {
      char* end = nullptr;
      const long p = std::strtol(port.c_str(), &end, 10);
      if (port.empty() || *end != '\0' || p < 1 || p > 65535) {
        return Error::invalid_argument("broker '" + entry + "': bad port '" + port + "'");
      }
      a.port = int(p);
    }
    out.push_back(std::move(a));
  }
  if (out.empty()) return Error::invalid_argument("no broker address in '" + list + "'");
  return out;
}

std::optional<int16_t> highest_common_version(const VersionTable& broker, int16_t key, int16_t ours_min,
                                              int16_t ours_max) {
  auto it = broker.find(key);
  if (it == broker.end()) return std::nullopt;
  const int16_t hi = std::min(it->second.max, ours_max);
  const int16_t lo = std::max(it->second.min, ours_min);
  if (hi < lo) return std::nullopt;
  return hi;
}

Result<std::unique_ptr<BrokerConnection>> BrokerConnection::connect(const BrokerAddress& address,
                                                                    const ConnectionOptions& options) {
  auto t = options.dial ? options.dial(address, options.connect_timeout_ms)
                        : PlainTransport::connect(address.host, address.port, options.connect_timeout_ms);
  if (!t.ok()) return std::move(t).error();
  return open(std::move(t).value(), options);
}

Result<std::unique_ptr<BrokerConnection>> BrokerConnection::open(std::unique_ptr<Transport> transport,
                                                                 const ConnectionOptions& options) {
  std::unique_ptr<BrokerConnection> c(new BrokerConnection(std::move(transport), options));
  auto st = c->handshake();
  if (!st.ok()) return std::move(st).error();
  return c;
}

Status BrokerConnection::handshake() {
  constexpr auto kKey = int16_t(proto::ApiKey::kApiVersions);
  proto::ApiVersionsRequest req;
  // std::string temporaries: GCC 12 reports a false -Wrestrict for `str = "literal"` inlined here.
  req.client_software_name = std::string("streamctl");
  req.client_software_version = std::string("1");
  // v3 first (what current clients send); a broker that does not know it answers UNSUPPORTED_VERSION in a
  // v0 body (which a v3 decode refuses as kCorruption): then v0.
  int16_t version = std::min<int16_t>(3, proto::ApiVersionsRequest::kMaxVersion);
  auto resp = call<proto::ApiVersionsResponse>(kKey, version, req);
  if (!resp.ok() && resp.error().code != ErrorCode::kCorruption) return std::move(resp).error();
  if (!resp.ok() || resp->error_code == proto::to_int16(proto::ErrorCode::kUnsupportedVersion)) {
    version = 0;
    resp = call<proto::ApiVersionsResponse>(kKey, version, req);
    if (!resp.ok()) return std::move(resp).error();
  }
  if (resp->error_code != 0) {
    return Error{ErrorCode::kNotSupported, "broker " + peer() + " refused ApiVersions (error " +
                                               std::to_string(resp->error_code) + ")"};
  }
  api_versions_version_ = version;
  versions_.clear();
  for (const auto& k : resp->api_keys) versions_[k.api_key] = {k.min_version, k.max_version};
  return ok_status();
}

Result<int16_t> BrokerConnection::negotiate(proto::ApiKey key) const {
  const proto::ApiInfo* info = proto::find_api(int16_t(key));
  if (info == nullptr) return Error::not_supported("API key " + std::to_string(int16_t(key)) + " unknown to the codec");
  return negotiate(key, info->decodable.min, info->decodable.max);
}

Result<int16_t> BrokerConnection::negotiate(proto::ApiKey key, int16_t min, int16_t max) const {
  if (auto v = highest_common_version(versions_, int16_t(key), min, max)) return *v;
  auto it = versions_.find(int16_t(key));
  std::string theirs = "none";
  if (it != versions_.end()) {
    theirs = std::to_string(it->second.min);  // append(): GCC 12's false -Wrestrict on `"v" + str`
    theirs.insert(0, 1, 'v').append("-").append(std::to_string(it->second.max));
  }
  return Error::not_supported("broker " + peer() + " and streamctl share no version of " +
                              proto::api_name(int16_t(key)) + " (broker: " + theirs + ", streamctl: v" +
                              std::to_string(min) + "-" + std::to_string(max) + ")");
}

Result<int32_t> BrokerConnection::send_raw(int16_t api_key, int16_t version, std::vector<struct iovec> body,
                                           bool expect_response, int64_t deadline_ns) {
  const int32_t id = next_correlation_id_;
  next_correlation_id_ = next_correlation_id_ == INT32_MAX ? 1 : next_correlation_id_ + 1;
  head_.assign(4, std::byte{0});
  proto::RequestHeader h;
  h.api_key = api_key;
  h.api_version = version;
  h.correlation_id = id;
  h.client_id = options_.client_id;
  auto st = proto::encode_request_header(h, head_);
  if (!st.ok()) return std::move(st).error();
  size_t total = head_.size() - 4;
  for (const auto& v : body) total += v.iov_len;
  if (total > size_t(INT32_MAX)) return Error::invalid_argument("request of " + std::to_string(total) + " bytes");
  put_be32(head_.data(), uint32_t(total));
  body.insert(body.begin(), {head_.data(), head_.size()});
  // Pending before the write: a partial write breaks the connection, whose caller then retries all.
  if (expect_response) in_flight_.push_back({id, api_key, version});
  st = transport_->write_all(body, deadline_ns);
  if (!st.ok()) {
    transport_->close();
    return std::move(st).error();
  }
  return id;
}

Result<size_t> BrokerConnection::read_some() {
  if (in_.size() - in_used_ < 65536) in_.resize(in_used_ + 65536);
  auto n = transport_->read_some(std::span<std::byte>(in_.data() + in_used_, in_.size() - in_used_));
  if (n.ok()) in_used_ += *n;
  return n;
}

Status BrokerConnection::read_available(const std::function<Status(const Pending&, ByteSpan)>& on_response) {
  for (;;) {
    auto n = read_some();
    if (!n.ok()) return std::move(n).error();
    if (*n == 0 && !transport_->buffered()) break;
    size_t at = 0;
    Status st;
    while (st.ok() && in_used_ - at >= 4) {
      const int32_t size = int32_t(get_be32(in_.data() + at));
      if (size < 4 || size > kMaxResponseBytes) {
        return Error{ErrorCode::kCorruption,
                     "broker " + peer() + " sent a frame of " + std::to_string(size) + " bytes"};
      }
      if (in_used_ - at < 4 + size_t(size)) break;
      const ByteSpan frame(in_.data() + at + 4, size_t(size));
      at += 4 + size_t(size);
      if (in_flight_.empty()) return Error::corruption("broker " + peer() + " answered a request never sent");
      const Pending p = in_flight_.front();
      size_t body_at = 0;
      auto header = proto::decode_response_header(frame, proto::response_header_version(p.api_key, p.api_version),
                                                  &body_at);
      if (!header.ok()) return std::move(header).error();
      if (header->correlation_id != p.correlation_id) {
        return Error::corruption("broker " + peer() + " answered out of order (correlation id " +
                                 std::to_string(header->correlation_id) + ", expected " +
                                 std::to_string(p.correlation_id) + ")");
      }
      in_flight_.pop_front();
      st = on_response(p, frame.subspan(body_at));
    }
    if (at > 0) {
      std::memmove(in_.data(), in_.data() + at, in_used_ - at);
      in_used_ -= at;
    }
    if (!st.ok()) return st;
    if (*n < 65536 && !transport_->buffered()) break;  // drained (a short read)
  }
  return ok_status();
}

Result<Bytes> BrokerConnection::wait_response(int32_t correlation_id, int64_t deadline_ns) {
  const int64_t start = mono_ns();
  for (;;) {
    if (auto it = arrived_.find(correlation_id); it != arrived_.end()) {
      Bytes body = std::move(it->second);
      arrived_.erase(it);
      return body;
    }
    const bool pending = std::any_of(in_flight_.begin(), in_flight_.end(),
                                     [&](const Pending& p) { return p.correlation_id == correlation_id; });
    if (!pending) {
      return Error::invalid_argument("no request with correlation id " + std::to_string(correlation_id) +
                                     " in flight to broker " + peer());
    }
    auto readable = transport_->buffered() ? Result<bool>(true) : transport_->wait_readable(deadline_ns);
    if (!readable.ok()) return std::move(readable).error();
    if (!*readable) {
      const int64_t waited_ms = (mono_ns() - start) / 1'000'000;
      return Error{ErrorCode::kTimeout, "no answer from broker " + peer() + " within " +
                                            std::to_string((waited_ms + 500) / 1000) + " s"};
    }
    auto st = read_available([&](const Pending& p, ByteSpan body) {
      arrived_[p.correlation_id] = Bytes(body.begin(), body.end());
      return ok_status();
    });
    if (!st.ok()) return std::move(st).error();
  }
}

}  // namespace streamctl::kafka::client
