// RequestBudget: the bytes of large requests being read, across every connection (Kafka's
// queued.max.request.bytes). A connection reads a frame that does not fit its small read buffer only once
// the frame's size is admitted here, so N sockets each holding a half-sent 90 MiB request cannot make the
// broker hold N x 90 MiB: the rest wait (without reading, so TCP pushes back on their clients) until bytes
// are released. A frame larger than the whole budget is admitted when nothing else is (it is already
// bounded by max-request-bytes), so no request waits forever. Thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <vector>

namespace streamctl::server {

class RequestBudget {
 public:
  explicit RequestBudget(size_t capacity) : capacity_(capacity) {}
  RequestBudget(const RequestBudget&) = delete;
  RequestBudget& operator=(const RequestBudget&) = delete;

  // Admits `n` bytes and returns true, or returns false and calls `wake` once, later, from the thread of a
  // release() (the caller then tries again). REQUIRES: n > 0.
  bool acquire_or_wait(size_t n, std::function<void()> wake);
  // Gives back bytes admitted by acquire_or_wait and wakes every waiter.
  void release(size_t n);
  size_t in_use() const;
  size_t capacity() const { return capacity_; }
  size_t waiting() const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  size_t used_ = 0;
  std::vector<std::function<void()>> waiters_;
};

}  // namespace streamctl::server
