// The "consumer" group protocol's embedded payloads: JoinGroup protocol metadata (a
// ConsumerProtocolSubscription) and SyncGroup assignments (a ConsumerProtocolAssignment).
//
// Byte layout (Kafka's ConsumerProtocol.java): int16 version, then the struct at that version in
// classic (non-flexible) encoding. Readers are forward compatible as in Kafka: a version above the
// highest known (3) is read as 3 and trailing bytes are ignored (newer clients append fields). A
// negative version, or bytes too short for the version, are kCorruption. The broker passes metadata
// through, reading subscriptions only for OffsetDelete (GROUP_SUBSCRIBED_TO_TOPIC); they also serve
// DescribeGroups output, the CLI and tests.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>

#include "base/coding.h"
#include "base/result.h"
#include "kafka/protocol/generated/consumer_protocol.h"

namespace streamctl::kafka::protocol {

struct VersionedSubscription {
  int16_t version = 0;  // as written by the client (may exceed the highest known version)
  ConsumerProtocolSubscription subscription;
};

struct VersionedAssignment {
  int16_t version = 0;
  ConsumerProtocolAssignment assignment;
};

Result<VersionedSubscription> decode_subscription(ByteSpan metadata);
Result<VersionedAssignment> decode_assignment(ByteSpan assignment);

// Append `version` then the struct. kNotSupported for a version outside 0-3, kInvalidArgument for a
// value the version cannot carry (`out` unchanged then).
Status encode_subscription(const ConsumerProtocolSubscription& subscription, int16_t version,
                                   Bytes& out);
Status encode_assignment(const ConsumerProtocolAssignment& assignment, int16_t version,
                                 Bytes& out);

}  // namespace streamctl::kafka::protocol
