#include "net/handshake.h"

#include <doctest/doctest.h>

using namespace streamctl::net;
using namespace std::chrono_literals;

TEST_CASE("LogRateLimiterAllowsABurstThenTheRate") {
  LogRateLimiter limiter(/*per_second=*/2, /*burst=*/3);
  auto t = std::chrono::steady_clock::time_point{} + 100s;
  CHECK(limiter.allow(t));
  CHECK(limiter.allow(t));
  CHECK(limiter.allow(t));
  CHECK_FALSE(limiter.allow(t));
  CHECK_FALSE(limiter.allow(t + 100ms));
  CHECK(limiter.take_suppressed() == 2);
  CHECK(limiter.take_suppressed() == 0);
  CHECK(limiter.allow(t + 600ms));  // 0.6 s at 2/s refilled one token (and a bit)
  CHECK_FALSE(limiter.allow(t + 600ms));
  CHECK(limiter.allow(t + 1h));
  CHECK(limiter.allow(t + 1h));
  CHECK(limiter.allow(t + 1h));
  CHECK_FALSE(limiter.allow(t + 1h));  // refill capped at the burst
}
