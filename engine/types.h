// Kafka's vocabulary as types, shared by every layer.
//
// Glossary (Kafka's words; use them, don't invent synonyms):
//   base offset       first offset of a batch or segment.
//   last offset       last offset of a batch (inclusive): base offset + last offset delta.
//   log start offset  first offset still readable in a partition (moves on retention / delete-records).
//   log end offset    next offset to assign (one past the last offset appended); "LEO".
//   high watermark    offsets below it are committed (replicated); single-node: = log end offset.
//   leader epoch      Raft term / Kafka partitionLeaderEpoch stamped on each batch.
// Invariant: log start offset <= high watermark <= log end offset.
// Offsets are a strong type so that Offset + Timestamp does not compile; plain values, thread-compatible.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>

namespace streamctl::engine {

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

struct OffsetTag {};
struct TimestampTag {};

// A position in a partition's log.
using Offset = StrongInt<OffsetTag>;
// Milliseconds since the Unix epoch (Kafka record timestamps).
using Timestamp = StrongInt<TimestampTag>;

// Kafka's special "no timestamp" value.
inline constexpr Timestamp kNoTimestamp{-1};

using LeaderEpoch = int32_t;
inline constexpr LeaderEpoch kNoLeaderEpoch = -1;

using PartitionId = int32_t;

struct TopicPartition {
  std::string topic;
  PartitionId partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
  // "topic-3", Kafka's directory name for the partition.
  std::string to_string() const { return topic + "-" + std::to_string(partition); }
};

// Which timestamp a topic stores (message.timestamp.type).
enum class TimestampType : int8_t { kCreateTime = 0, kLogAppendTime = 1 };

}  // namespace streamctl::engine

template <typename Tag>
struct std::hash<streamctl::engine::StrongInt<Tag>> {
  size_t operator()(const streamctl::engine::StrongInt<Tag>& v) const noexcept {
    return std::hash<int64_t>()(v.value);
  }
};

template <>
struct std::hash<streamctl::engine::TopicPartition> {
  size_t operator()(const streamctl::engine::TopicPartition& tp) const noexcept {
    return std::hash<std::string>()(tp.topic) * 31 + static_cast<size_t>(tp.partition);
  }
};
