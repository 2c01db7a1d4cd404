// ManualClock: a Clock that moves only when the test says so (segment roll, retention, flush.ms, session
// timeouts are driven with advance() instead of sleep()).
// Wall time starts at 2023-11-14T22:13:20Z (1'700'000'000'000 ms) unless given; monotonic time starts at
// 1'000'000 ms. advance() moves both. Thread-safe (atomics); not durable, not shared across fork().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "base/clock.h"
#include "base/result.h"

namespace streamctl::test {

class ManualClock final : public Clock {
 public:
  static constexpr int64_t kDefaultNowMs = 1'700'000'000'000;
  static constexpr int64_t kDefaultMonotonicMs = 1'000'000;

  explicit ManualClock(Timestamp now = Timestamp(kDefaultNowMs),
                       int64_t monotonic_ms = kDefaultMonotonicMs)
      : now_ms_(now.value), monotonic_ms_(monotonic_ms) {}

  Timestamp now() const override { return Timestamp(now_ms_.load()); }
  int64_t monotonic_ms() const override { return monotonic_ms_.load(); }

  // Sets wall time only (it may go backwards, as a real wall clock can); monotonic time is untouched.
  void set_now(Timestamp now) { now_ms_.store(now.value); }
  // Sets monotonic time. REQUIRES: not earlier than the current value (monotonic means monotonic).
  void set_monotonic_ms(int64_t ms) {
    STREAMCTL_CHECK(ms >= monotonic_ms_.load(), "monotonic time moved backwards to %lld",
                    static_cast<long long>(ms));
    monotonic_ms_.store(ms);
  }
  // Moves wall and monotonic time forward together. REQUIRES: ms >= 0.
  void advance_ms(int64_t ms) {
    STREAMCTL_CHECK(ms >= 0, "cannot advance a clock by %lld ms", static_cast<long long>(ms));
    now_ms_.fetch_add(ms);
    monotonic_ms_.fetch_add(ms);
  }
  void advance(std::chrono::milliseconds d) { advance_ms(d.count()); }

 private:
  std::atomic<int64_t> now_ms_;
  std::atomic<int64_t> monotonic_ms_;
};

}  // namespace streamctl::test
