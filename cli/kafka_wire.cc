#include "cli/kafka_wire.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "kafka/protocol/generated/api_versions.h"
#include "kafka/protocol/error_codes.h"

namespace streamctl::cli {

namespace {

namespace proto = kafka::protocol;

constexpr int16_t kApiVersionsKey = 18;

std::string errno_text(int e) { return std::strerror(e); }

}  // namespace

int64_t mono_ns() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

BrokerSocket::~BrokerSocket() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<BrokerSocket>> BrokerSocket::connect(const std::string& host, int port, int timeout_ms) {
  const std::string where = host + ":" + std::to_string(port);
  struct addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) return Error{ErrorCode::kUnavailable, "cannot resolve broker " + where + ": " + ::gai_strerror(rc)};
  std::string last = "no address";
  for (struct addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = errno_text(errno);
      continue;
    }
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = errno_text(errno);
      ::close(fd);
      continue;
    }
    struct pollfd pfd{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    int ready = ::poll(&pfd, 1, timeout_ms);
    if (ready <= 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      last = ready == 0 ? "timed out" : errno_text(err != 0 ? err : errno);
      ::close(fd);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::freeaddrinfo(res);
    auto s = std::unique_ptr<BrokerSocket>(new BrokerSocket(fd));
    s->name_ = where;
    return s;
  }
  ::freeaddrinfo(res);
  return Error{ErrorCode::kUnavailable, "cannot connect to broker " + where + ": " + last};
}

Status BrokerSocket::write_all(std::vector<struct iovec>& iov, int64_t deadline_ns) {
  size_t at = 0;
  while (at < iov.size()) {
    struct msghdr msg{};
    msg.msg_iov = iov.data() + at;
    msg.msg_iovlen = std::min<size_t>(iov.size() - at, 1024);
    ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        return Error{ErrorCode::kUnavailable, "writing to broker " + name_ + ": " + errno_text(errno)};
      }
      const int64_t left_ms = (deadline_ns - mono_ns()) / 1'000'000;
      if (left_ms <= 0) return Error{ErrorCode::kTimeout, "writing to broker " + name_ + ": timed out"};
      struct pollfd pfd{fd_, POLLOUT, 0};
      ::poll(&pfd, 1, int(std::min<int64_t>(left_ms, 1000)));
      continue;
    }
    size_t left = size_t(n);
    while (at < iov.size() && left >= iov[at].iov_len) left -= iov[at++].iov_len;
    if (at < iov.size()) {
      iov[at].iov_base = static_cast<char*>(iov[at].iov_base) + left;
      iov[at].iov_len -= left;
    }
  }
  return ok_status();
}

Result<size_t> BrokerSocket::read_some() {
  for (;;) {
    if (in_.size() - in_used_ < 65536) in_.resize(in_used_ + 65536);
    ssize_t n = ::read(fd_, in_.data() + in_used_, in_.size() - in_used_);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return size_t(0);
      return Error{ErrorCode::kUnavailable, "reading from broker " + name_ + ": " + errno_text(errno)};
    }
    if (n == 0) return Error{ErrorCode::kUnavailable, "broker " + name_ + " closed the connection"};
    in_used_ += size_t(n);
    return size_t(n);
  }
}

Result<Bytes> BrokerSocket::read_frame(int timeout_ms) {
  const int64_t deadline = mono_ns() + int64_t(timeout_ms) * 1'000'000;
  std::optional<Bytes> got;
  while (!got) {
    const int64_t left_ms = (deadline - mono_ns()) / 1'000'000;
    if (left_ms <= 0) return Error{ErrorCode::kTimeout, "no answer from broker " + name_ + " within " +
                                                            std::to_string(timeout_ms / 1000) + " s"};
    struct pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, int(left_ms)) <= 0) continue;
    auto st = read_available([&](ByteSpan frame) {
      if (!got) got.emplace(frame.begin(), frame.end());
      return ok_status();
    });
    if (!st.ok()) return std::move(st).error();
  }
  return std::move(*got);
}

bool is_plaintext_protocol(const std::string& security_protocol) {
  std::string lower = security_protocol;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower == "plaintext";
}

bool supports(const VersionTable& versions, int16_t key, int16_t version) {
  auto it = versions.find(key);
  return it != versions.end() && it->second.first <= version && version <= it->second.second;
}

Result<VersionTable> api_versions(BrokerSocket& sock, const std::string& client_id, int timeout_ms) {
  proto::ApiVersionsRequest req;
  // std::string temporaries: GCC 12 reports a false -Wrestrict for `str = "literal"` inlined here.
  req.client_software_name = std::string("streamctl");
  req.client_software_version = std::string("1");
  // v3 first (what current clients send); a broker that does not know it answers UNSUPPORTED_VERSION in v0.
  auto resp = call<proto::ApiVersionsResponse>(sock, kApiVersionsKey, 3, 1, client_id, req, timeout_ms);
  if (!resp.ok() && resp.error().code != ErrorCode::kCorruption) return std::move(resp).error();
  if (!resp.ok() || resp->error_code == proto::to_int16(proto::ErrorCode::kUnsupportedVersion)) {
    resp = call<proto::ApiVersionsResponse>(sock, kApiVersionsKey, 0, 2, client_id, req, timeout_ms);
    if (!resp.ok()) return std::move(resp).error();
  }
  if (resp->error_code != 0) {
    return Error{ErrorCode::kNotSupported, "broker " + sock.name() + " refused ApiVersions (error " +
                                               std::to_string(resp->error_code) + ")"};
  }
  VersionTable t;
  for (const auto& k : resp->api_keys) t[k.api_key] = {k.min_version, k.max_version};
  return t;
}

Result<VersionTable> probe_api_versions(const std::string& host, int port, const std::string& client_id,
                                        int timeout_ms) {
  auto sock = BrokerSocket::connect(host, port, timeout_ms);
  if (!sock.ok()) return std::move(sock).error();
  return api_versions(**sock, client_id, timeout_ms);
}

}  // namespace streamctl::cli
