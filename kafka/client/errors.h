// Kafka error codes as the client reports them: an Error whose message reads "broker error
// NOT_ENOUGH_REPLICAS" (Kafka's name, from kafka/protocol/error_codes.h) and whose ErrorCode says what
// kind of failure it is, so callers map it to exit codes without knowing Kafka's numbers. Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace streamctl::kafka::client {

// The kind of failure a Kafka error code is: kNotFound (UNKNOWN_TOPIC_OR_PARTITION, GROUP_ID_NOT_FOUND),
// kAlreadyExists, kInvalidArgument (bad config/partitions/replication/request/topic/group, policy),
// kRecordTooLarge, kBusy (rebalance, coordinator loading, non-empty group), kTimeout (REQUEST_TIMED_OUT),
// kUnavailable (no leader, not leader, coordinator moved, broker not available), kNotSupported
// (UNSUPPORTED_VERSION), kPermissionDenied (authorization, SASL); kIoError otherwise; kOk for NONE.
ErrorCode status_code_for(int16_t kafka_error_code);

// "broker error NAME", or "broker error NAME (message)" when the broker sent a message.
std::string broker_error_text(int16_t kafka_error_code, const std::string& message = "");

// The Error for a Kafka error code: status_code_for + broker_error_text, prefixed with "context: ".
Error broker_error(int16_t kafka_error_code, const std::string& context = "", const std::string& message = "");

}  // namespace streamctl::kafka::client
