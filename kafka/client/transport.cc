#include "kafka/client/transport.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace streamctl::kafka::client {

namespace {

std::string errno_text(int e) { return std::strerror(e); }

// Milliseconds left until deadline_ns, at least 0, at most a second (poll slices re-check the clock).
int poll_slice_ms(int64_t deadline_ns) {
  const int64_t left = (deadline_ns - mono_ns() + 999'999) / 1'000'000;
  return int(std::clamp<int64_t>(left, 0, 1000));
}

}  // namespace

std::string host_port_text(const std::string& host, int port) {
  // append(), not operator+: GCC 12 reports a false -Wrestrict for `"[" + str` inlined here.
  std::string out;
  const bool v6 = host.find(':') != std::string::npos;
  if (v6) out.append("[");
  out.append(host);
  if (v6) out.append("]");
  out.append(":").append(std::to_string(port));
  return out;
}

int64_t mono_ns() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

PlainTransport::~PlainTransport() { close(); }

void PlainTransport::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<std::unique_ptr<Transport>> PlainTransport::connect(const std::string& host, int port, int timeout_ms) {
  const std::string where = host_port_text(host, port);
  struct addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) return Error{ErrorCode::kUnavailable, "cannot resolve broker " + where + ": " + ::gai_strerror(rc)};
  std::string last = "no address";
  bool timed_out = false;
  for (struct addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = errno_text(errno);
      continue;
    }
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = errno_text(errno);
      timed_out = false;
      ::close(fd);
      continue;
    }
    struct pollfd pfd{fd, POLLOUT, 0};
    int ready;
    do {
      ready = ::poll(&pfd, 1, timeout_ms);
    } while (ready < 0 && errno == EINTR);
    int err = 0;
    socklen_t len = sizeof err;
    if (ready <= 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      timed_out = ready == 0;
      last = timed_out ? "timed out after " + std::to_string(timeout_ms) + " ms" : errno_text(err != 0 ? err : errno);
      ::close(fd);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::freeaddrinfo(res);
    return std::unique_ptr<Transport>(new PlainTransport(fd, where));
  }
  ::freeaddrinfo(res);
  return Error{timed_out ? ErrorCode::kTimeout : ErrorCode::kUnavailable,
               "cannot connect to broker " + where + ": " + last};
}

Status PlainTransport::write_all(std::span<struct iovec> iov, int64_t deadline_ns) {
  if (fd_ < 0) return Error{ErrorCode::kUnavailable, "writing to broker " + peer_ + ": connection closed"};
  size_t at = 0;
  while (at < iov.size()) {
    struct msghdr msg{};
    msg.msg_iov = iov.data() + at;
    msg.msg_iovlen = std::min<size_t>(iov.size() - at, 1024);
    const ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        return Error{ErrorCode::kUnavailable, "writing to broker " + peer_ + ": " + errno_text(errno)};
      }
      if (mono_ns() >= deadline_ns) return Error{ErrorCode::kTimeout, "writing to broker " + peer_ + ": timed out"};
      struct pollfd pfd{fd_, POLLOUT, 0};
      ::poll(&pfd, 1, poll_slice_ms(deadline_ns));
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

Result<size_t> PlainTransport::read_some(std::span<std::byte> buf) {
  if (fd_ < 0) return Error{ErrorCode::kUnavailable, "reading from broker " + peer_ + ": connection closed"};
  for (;;) {
    const ssize_t n = ::read(fd_, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return size_t(0);
      return Error{ErrorCode::kUnavailable, "reading from broker " + peer_ + ": " + errno_text(errno)};
    }
    if (n == 0) return Error{ErrorCode::kUnavailable, "broker " + peer_ + " closed the connection"};
    return size_t(n);
  }
}

Result<bool> PlainTransport::wait_readable(int64_t deadline_ns) {
  if (fd_ < 0) return Error{ErrorCode::kUnavailable, "reading from broker " + peer_ + ": connection closed"};
  for (;;) {
    struct pollfd pfd{fd_, POLLIN, 0};
    const int slice = poll_slice_ms(deadline_ns);
    const int ready = ::poll(&pfd, 1, slice);
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) {
      return Error{ErrorCode::kUnavailable, "waiting for broker " + peer_ + ": " + errno_text(errno)};
    }
    if (mono_ns() >= deadline_ns) return false;
  }
}

}  // namespace streamctl::kafka::client
