#include "kafka/client/errors.h"

#include "kafka/protocol/error_codes.h"

namespace streamctl::kafka::client {

using K = kafka::protocol::ErrorCode;

ErrorCode status_code_for(int16_t kafka_error_code) {
  switch (K(kafka_error_code)) {
    case K::kNone: return ErrorCode::kOk;
    case K::kUnknownTopicOrPartition:
    case K::kGroupIdNotFound:
      return ErrorCode::kNotFound;
    case K::kTopicAlreadyExists:
      return ErrorCode::kAlreadyExists;
    case K::kInvalidConfig:
    case K::kInvalidPartitions:
    case K::kInvalidReplicationFactor:
    case K::kInvalidRequest:
    case K::kInvalidTopicException:
    case K::kInvalidGroupId:
    case K::kPolicyViolation:
      return ErrorCode::kInvalidArgument;
    case K::kMessageTooLarge:
    case K::kRecordListTooLarge:
      return ErrorCode::kRecordTooLarge;
    case K::kNonEmptyGroup:
    case K::kRebalanceInProgress:
    case K::kCoordinatorLoadInProgress:
      return ErrorCode::kBusy;
    case K::kRequestTimedOut:
      return ErrorCode::kTimeout;
    case K::kLeaderNotAvailable:
    case K::kNotLeaderOrFollower:
    case K::kCoordinatorNotAvailable:
    case K::kNotCoordinator:
    case K::kBrokerNotAvailable:
      return ErrorCode::kUnavailable;
    case K::kUnsupportedVersion:
      return ErrorCode::kNotSupported;
    case K::kTopicAuthorizationFailed:
    case K::kGroupAuthorizationFailed:
    case K::kClusterAuthorizationFailed:
    case K::kSaslAuthenticationFailed:
      return ErrorCode::kPermissionDenied;
    default:
      return ErrorCode::kIoError;
  }
}

std::string broker_error_text(int16_t kafka_error_code, const std::string& message) {
  const std::string_view name = kafka::protocol::error_code_name(K(kafka_error_code));
  // append(), not operator+: GCC 12 reports a false -Wrestrict for `"literal" + str` inlined here.
  std::string text = "broker error ";
  text.append(name);
  if (name == "UNKNOWN_ERROR_CODE") text.append(" ").append(std::to_string(kafka_error_code));
  if (!message.empty()) text.append(" (").append(message).append(")");
  return text;
}

Error broker_error(int16_t kafka_error_code, const std::string& context, const std::string& message) {
  const std::string text = broker_error_text(kafka_error_code, message);
  return Error{status_code_for(kafka_error_code), context.empty() ? text : context + ": " + text};
}

}  // namespace streamctl::kafka::client
