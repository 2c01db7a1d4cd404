// Strong integer types shared by every layer: a value that only mixes with its own kind, and Timestamp.
// Plain values, thread-compatible.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace streamctl {

// A 64-bit integer that only mixes with itself (and with plain deltas for +/-).
template <typename Tag>
struct StrongInt {
  int64_t value = 0;

  constexpr StrongInt() = default;
  constexpr explicit StrongInt(int64_t v) : value(v) {}

  constexpr auto operator<=>(const StrongInt&) const = default;
  constexpr StrongInt operator+(int64_t delta) const { return StrongInt(value + delta); }
  constexpr StrongInt operator-(int64_t delta) const { return StrongInt(value - delta); }
  constexpr int64_t operator-(StrongInt other) const { return value - other.value; }
  constexpr StrongInt& operator+=(int64_t delta) { value += delta; return *this; }
  constexpr StrongInt& operator++() { ++value; return *this; }
};

struct TimestampTag {};

// Milliseconds since the Unix epoch (Kafka record timestamps).
using Timestamp = StrongInt<TimestampTag>;

// Kafka's special "no timestamp" value.
inline constexpr Timestamp kNoTimestamp{-1};

}  // namespace streamctl

template <typename Tag>
struct std::hash<streamctl::StrongInt<Tag>> {
  size_t operator()(const streamctl::StrongInt<Tag>& v) const noexcept {
    return std::hash<int64_t>()(v.value);
  }
};
