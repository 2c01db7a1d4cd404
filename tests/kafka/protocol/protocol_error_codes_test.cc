// Kafka error codes: wire values, names, and the engine -> Kafka mapping handlers rely on.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "kafka/protocol/error_codes.h"

namespace streamctl::kafka::protocol {
namespace {

TEST_CASE("ErrorCodesHaveKafkasWireValues") {
  // Values clients act on (Apache Kafka Errors.java; librdkafka rdkafka.h RD_KAFKA_RESP_ERR_*).
  CHECK(to_int16(ErrorCode::kUnknownServerError) == -1);
  CHECK(to_int16(ErrorCode::kNone) == 0);
  CHECK(to_int16(ErrorCode::kOffsetOutOfRange) == 1);
  CHECK(to_int16(ErrorCode::kCorruptMessage) == 2);
  CHECK(to_int16(ErrorCode::kUnknownTopicOrPartition) == 3);
  CHECK(to_int16(ErrorCode::kInvalidFetchSize) == 4);
  CHECK(to_int16(ErrorCode::kLeaderNotAvailable) == 5);
  CHECK(to_int16(ErrorCode::kNotLeaderOrFollower) == 6);
  CHECK(to_int16(ErrorCode::kRequestTimedOut) == 7);
  CHECK(to_int16(ErrorCode::kMessageTooLarge) == 10);
  CHECK(to_int16(ErrorCode::kCoordinatorLoadInProgress) == 14);
  CHECK(to_int16(ErrorCode::kCoordinatorNotAvailable) == 15);
  CHECK(to_int16(ErrorCode::kNotCoordinator) == 16);
  CHECK(to_int16(ErrorCode::kInvalidTopicException) == 17);
  CHECK(to_int16(ErrorCode::kRecordListTooLarge) == 18);
  CHECK(to_int16(ErrorCode::kNotEnoughReplicas) == 19);
  CHECK(to_int16(ErrorCode::kInvalidRequiredAcks) == 21);
  CHECK(to_int16(ErrorCode::kIllegalGeneration) == 22);
  CHECK(to_int16(ErrorCode::kInconsistentGroupProtocol) == 23);
  CHECK(to_int16(ErrorCode::kInvalidGroupId) == 24);
  CHECK(to_int16(ErrorCode::kUnknownMemberId) == 25);
  CHECK(to_int16(ErrorCode::kInvalidSessionTimeout) == 26);
  CHECK(to_int16(ErrorCode::kRebalanceInProgress) == 27);
  CHECK(to_int16(ErrorCode::kInvalidCommitOffsetSize) == 28);
  CHECK(to_int16(ErrorCode::kUnsupportedVersion) == 35);
  CHECK(to_int16(ErrorCode::kTopicAlreadyExists) == 36);
  CHECK(to_int16(ErrorCode::kInvalidPartitions) == 37);
  CHECK(to_int16(ErrorCode::kInvalidReplicationFactor) == 38);
  CHECK(to_int16(ErrorCode::kInvalidConfig) == 40);
  CHECK(to_int16(ErrorCode::kNotController) == 41);
  CHECK(to_int16(ErrorCode::kInvalidRequest) == 42);
  CHECK(to_int16(ErrorCode::kPolicyViolation) == 44);
  CHECK(to_int16(ErrorCode::kOutOfOrderSequenceNumber) == 45);
  CHECK(to_int16(ErrorCode::kDuplicateSequenceNumber) == 46);
  CHECK(to_int16(ErrorCode::kInvalidProducerEpoch) == 47);
  CHECK(to_int16(ErrorCode::kKafkaStorageError) == 56);
  CHECK(to_int16(ErrorCode::kUnknownProducerId) == 59);
  CHECK(to_int16(ErrorCode::kNonEmptyGroup) == 68);
  CHECK(to_int16(ErrorCode::kGroupIdNotFound) == 69);
  CHECK(to_int16(ErrorCode::kUnsupportedCompressionType) == 76);
  CHECK(to_int16(ErrorCode::kMemberIdRequired) == 79);
  CHECK(to_int16(ErrorCode::kGroupMaxSizeReached) == 81);
  CHECK(to_int16(ErrorCode::kFencedInstanceId) == 82);
  CHECK(to_int16(ErrorCode::kUnknownTopicId) == 100);
  CHECK(to_int16(ErrorCode::kInvalidRegistration) == 119);
}

TEST_CASE("EveryCodeFromMinusOneTo119HasAUniqueKafkaName") {
  std::set<std::string> names;
  for (int v = -1; v <= 119; ++v) {
    CAPTURE(v);
    std::string name = error_code_name(static_cast<ErrorCode>(v));
    CHECK(name != "UNKNOWN_ERROR_CODE");
    names.insert(name);
  }
  CHECK(names.size() == 121);
  CHECK(std::string(error_code_name(ErrorCode::kNotLeaderOrFollower)) == "NOT_LEADER_OR_FOLLOWER");
  CHECK(std::string(error_code_name(ErrorCode::kUnknownServerError)) == "UNKNOWN_SERVER_ERROR");
  CHECK(std::string(error_code_name(static_cast<ErrorCode>(500))) == "UNKNOWN_ERROR_CODE");
}

TEST_CASE("EngineErrorsMapToTheKafkaCodesClientsExpect") {
  using E = Error;
  CHECK(to_kafka_error(E{streamctl::ErrorCode::kOk, ""}) == ErrorCode::kNone);
  CHECK(to_kafka_error(E::not_found("topic")) == ErrorCode::kUnknownTopicOrPartition);
  CHECK(to_kafka_error(E::already_exists("t")) == ErrorCode::kTopicAlreadyExists);
  CHECK(to_kafka_error(E::invalid_argument("x")) == ErrorCode::kInvalidRequest);
  CHECK(to_kafka_error(E::corruption("crc")) == ErrorCode::kCorruptMessage);
  CHECK(to_kafka_error(E::io_error("eio")) == ErrorCode::kKafkaStorageError);
  CHECK(to_kafka_error(E::no_space("enospc")) == ErrorCode::kKafkaStorageError);
  CHECK(to_kafka_error(E{streamctl::ErrorCode::kPermissionDenied, ""}) ==
        ErrorCode::kKafkaStorageError);
  CHECK(to_kafka_error(E::offset_out_of_range("o")) == ErrorCode::kOffsetOutOfRange);
  CHECK(to_kafka_error(E::record_too_large("big")) == ErrorCode::kMessageTooLarge);
  CHECK(to_kafka_error(E::not_supported("codec 7")) == ErrorCode::kInvalidRequest);
  CHECK(to_kafka_error(E::busy("lock")) == ErrorCode::kRequestTimedOut);
  CHECK(to_kafka_error(E{streamctl::ErrorCode::kTimeout, ""}) == ErrorCode::kRequestTimedOut);
  CHECK(to_kafka_error(E{streamctl::ErrorCode::kUnavailable, ""}) == ErrorCode::kNotLeaderOrFollower);
}

}  // namespace
}  // namespace streamctl::kafka::protocol
