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

#include "engine/coding.h"
#include "engine/result.h"
#include "server/protocol/consumer_protocol.h"

namespace streamctl::server::protocol {

struct VersionedSubscription {
  int16_t version = 0;  // as written by the client (may exceed the highest known version)
  ConsumerProtocolSubscription subscription;
};

struct VersionedAssignment {
  int16_t version = 0;
  ConsumerProtocolAssignment assignment;
};

engine::Result<VersionedSubscription> decode_subscription(engine::ByteSpan metadata);
engine::Result<VersionedAssignment> decode_assignment(engine::ByteSpan assignment);

// Append `version` then the struct. kNotSupported for a version outside 0-3, kInvalidArgument for a
// value the version cannot carry (`out` unchanged then).
engine::Status encode_subscription(const ConsumerProtocolSubscription& subscription, int16_t version,
                                   engine::Bytes& out);
engine::Status encode_assignment(const ConsumerProtocolAssignment& assignment, int16_t version,
                                 engine::Bytes& out);

}  // namespace streamctl::server::protocol
