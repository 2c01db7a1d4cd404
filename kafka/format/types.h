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

#include <cstdint>
#include <functional>
#include <string>

#include "base/types.h"

namespace streamctl {

struct OffsetTag {};

// A position in a partition's log.
using Offset = StrongInt<OffsetTag>;

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

}  // namespace streamctl

template <>
struct std::hash<streamctl::TopicPartition> {
  size_t operator()(const streamctl::TopicPartition& tp) const noexcept {
    return std::hash<std::string>()(tp.topic) * 31 + static_cast<size_t>(tp.partition);
  }
};
