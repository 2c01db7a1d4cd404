// Clock: the engine's only source of time, injected so tests drive segment roll, retention, flush.ms,
// LogAppendTime and session timeouts with a ManualClock (tests/support/manual_clock.h) instead of sleeping.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

#include "base/types.h"

namespace streamctl {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in milliseconds since the Unix epoch (record timestamps, retention).
  virtual Timestamp now() const = 0;
  // Monotonic milliseconds from an arbitrary origin (timeouts, intervals).
  virtual int64_t monotonic_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  Timestamp now() const override {
    using namespace std::chrono;
    return Timestamp(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
  }
  int64_t monotonic_ms() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
  }
};

// The process-wide system clock.
inline Clock* system_clock() {
  static SystemClock clock;
  return &clock;
}

}  // namespace streamctl
