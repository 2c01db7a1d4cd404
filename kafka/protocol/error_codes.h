// Kafka protocol error codes (the int16 ErrorCode fields of responses) and the one mapping from
// engine errors to them.
//
// Numbers and one-line meanings follow Apache Kafka's org.apache.kafka.common.protocol.Errors (3.8).
// The engine knows nothing of Kafka codes (STYLE.md item 1); handlers turn an Error into a
// code with to_kafka_error() and pick a more specific code themselves where the request gives one
// (e.g. INVALID_TOPIC_EXCEPTION for a bad topic name, INVALID_CONFIG for a bad config value).
// Constant data and pure functions; thread-safe.
#pragma once

#include <cstdint>

#include "base/result.h"

namespace streamctl::kafka::protocol {

enum class ErrorCode : int16_t {
  // The server experienced an unexpected error when processing the request.
  kUnknownServerError = -1,
  // No error.
  kNone = 0,
  // The requested offset is not within the range of offsets maintained by the server.
  kOffsetOutOfRange = 1,
  // This message has failed its CRC checksum, exceeds the valid size, has a null key for a
  // compacted topic, or is otherwise corrupt.
  kCorruptMessage = 2,
  // This server does not host this topic-partition.
  kUnknownTopicOrPartition = 3,
  // The requested fetch size is invalid.
  kInvalidFetchSize = 4,
  // There is no leader for this topic-partition as we are in the middle of a leadership election.
  kLeaderNotAvailable = 5,
  // For requests intended only for the leader, this broker is not the current leader; for requests
  // intended for any replica, this broker is not a replica of the topic partition.
  kNotLeaderOrFollower = 6,
  // The request timed out.
  kRequestTimedOut = 7,
  // The broker is not available.
  kBrokerNotAvailable = 8,
  // The replica is not available for the requested topic-partition.
  kReplicaNotAvailable = 9,
  // The request included a message larger than the max message size the server will accept.
  kMessageTooLarge = 10,
  // The controller moved to another broker.
  kStaleControllerEpoch = 11,
  // The metadata field of the offset request was too large.
  kOffsetMetadataTooLarge = 12,
  // The server disconnected before a response was received.
  kNetworkException = 13,
  // The coordinator is loading and hence can't process requests.
  kCoordinatorLoadInProgress = 14,
  // The coordinator is not available.
  kCoordinatorNotAvailable = 15,
  // This is not the correct coordinator.
  kNotCoordinator = 16,
  // The request attempted to perform an operation on an invalid topic.
  kInvalidTopicException = 17,
  // The request included message batch larger than the configured segment size on the server.
  kRecordListTooLarge = 18,
  // Messages are rejected since there are fewer in-sync replicas than required.
  kNotEnoughReplicas = 19,
  // Messages are written to the log, but to fewer in-sync replicas than required.
  kNotEnoughReplicasAfterAppend = 20,
  // Produce request specified an invalid value for required acks.
  kInvalidRequiredAcks = 21,
  // Specified group generation id is not valid.
  kIllegalGeneration = 22,
  // The group member's supported protocols are incompatible with those of existing members or first
  // group member tried to join with empty protocol type or empty protocol list.
  kInconsistentGroupProtocol = 23,
  // The configured groupId is invalid.
  kInvalidGroupId = 24,
  // The coordinator is not aware of this member.
  kUnknownMemberId = 25,
  // The session timeout is not within the range allowed by the broker (group.min.session.timeout.ms
  // and group.max.session.timeout.ms).
  kInvalidSessionTimeout = 26,
  // The group is rebalancing, so a rejoin is needed.
  kRebalanceInProgress = 27,
  // The committing offset data size is not valid.
  kInvalidCommitOffsetSize = 28,
  // Topic authorization failed.
  kTopicAuthorizationFailed = 29,
  // Group authorization failed.
  kGroupAuthorizationFailed = 30,
  // Cluster authorization failed.
  kClusterAuthorizationFailed = 31,
  // The timestamp of the message is out of acceptable range.
  kInvalidTimestamp = 32,
  // The broker does not support the requested SASL mechanism.
  kUnsupportedSaslMechanism = 33,
  // Request is not valid given the current SASL state.
  kIllegalSaslState = 34,
  // The version of API is not supported.
  kUnsupportedVersion = 35,
  // Topic with this name already exists.
  kTopicAlreadyExists = 36,
  // Number of partitions is below 1.
  kInvalidPartitions = 37,
  // Replication factor is below 1 or larger than the number of available brokers.
  kInvalidReplicationFactor = 38,
  // Replica assignment is invalid.
  kInvalidReplicaAssignment = 39,
  // Configuration is invalid.
  kInvalidConfig = 40,
  // This is not the correct controller for this cluster.
  kNotController = 41,
  // The request is malformed or was sent to an incompatible broker; see the broker logs.
  kInvalidRequest = 42,
  // The message format version on the broker does not support the request.
  kUnsupportedForMessageFormat = 43,
  // Request parameters do not satisfy the configured policy.
  kPolicyViolation = 44,
  // The broker received an out of order sequence number.
  kOutOfOrderSequenceNumber = 45,
  // The broker received a duplicate sequence number.
  kDuplicateSequenceNumber = 46,
  // Producer attempted to produce with an old epoch.
  kInvalidProducerEpoch = 47,
  // The producer attempted a transactional operation in an invalid state.
  kInvalidTxnState = 48,
  // The producer attempted to use a producer id which is not currently assigned to its
  // transactional id.
  kInvalidProducerIdMapping = 49,
  // The transaction timeout is larger than the maximum value allowed by the broker
  // (transaction.max.timeout.ms).
  kInvalidTransactionTimeout = 50,
  // The producer attempted to update a transaction while another concurrent operation on the same
  // transaction was ongoing.
  kConcurrentTransactions = 51,
  // The transaction coordinator sending a WriteTxnMarker is no longer the current coordinator for a
  // given producer.
  kTransactionCoordinatorFenced = 52,
  // Transactional Id authorization failed.
  kTransactionalIdAuthorizationFailed = 53,
  // Security features are disabled.
  kSecurityDisabled = 54,
  // The broker did not attempt to execute this operation (other operations of a batched request
  // failed).
  kOperationNotAttempted = 55,
  // Disk error when trying to access log file on the disk.
  kKafkaStorageError = 56,
  // The user-specified log directory is not found in the broker config.
  kLogDirNotFound = 57,
  // SASL Authentication failed.
  kSaslAuthenticationFailed = 58,
  // The broker could not locate the producer metadata associated with the producerId in question.
  kUnknownProducerId = 59,
  // A partition reassignment is in progress.
  kReassignmentInProgress = 60,
  // Delegation Token feature is not enabled.
  kDelegationTokenAuthDisabled = 61,
  // Delegation Token is not found on server.
  kDelegationTokenNotFound = 62,
  // Specified Principal is not valid Owner/Renewer.
  kDelegationTokenOwnerMismatch = 63,
  // Delegation Token requests are not allowed on PLAINTEXT/1-way SSL channels and on delegation
  // token authenticated channels.
  kDelegationTokenRequestNotAllowed = 64,
  // Delegation Token authorization failed.
  kDelegationTokenAuthorizationFailed = 65,
  // Delegation Token is expired.
  kDelegationTokenExpired = 66,
  // Supplied principalType is not supported.
  kInvalidPrincipalType = 67,
  // The group is not empty.
  kNonEmptyGroup = 68,
  // The group id does not exist.
  kGroupIdNotFound = 69,
  // The fetch session ID was not found.
  kFetchSessionIdNotFound = 70,
  // The fetch session epoch is invalid.
  kInvalidFetchSessionEpoch = 71,
  // There is no listener on the leader broker that matches the listener on which metadata request
  // was processed.
  kListenerNotFound = 72,
  // Topic deletion is disabled.
  kTopicDeletionDisabled = 73,
  // The leader epoch in the request is older than the epoch on the broker.
  kFencedLeaderEpoch = 74,
  // The leader epoch in the request is newer than the epoch on the broker.
  kUnknownLeaderEpoch = 75,
  // The requesting client does not support the compression type of given partition.
  kUnsupportedCompressionType = 76,
  // Broker epoch has changed.
  kStaleBrokerEpoch = 77,
  // The leader high watermark has not caught up from a recent leader election so the offsets cannot
  // be guaranteed to be monotonically increasing.
  kOffsetNotAvailable = 78,
  // The group member needs to have a valid member id before actually entering a consumer group.
  kMemberIdRequired = 79,
  // The preferred leader was not available.
  kPreferredLeaderNotAvailable = 80,
  // The consumer group has reached its max size.
  kGroupMaxSizeReached = 81,
  // The broker rejected this static consumer since another consumer with the same group.instance.id
  // has registered with a different member.id.
  kFencedInstanceId = 82,
  // Eligible topic partition leaders are not available.
  kEligibleLeadersNotAvailable = 83,
  // Leader election not needed for topic partition.
  kElectionNotNeeded = 84,
  // No partition reassignment is in progress.
  kNoReassignmentInProgress = 85,
  // Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it.
  kGroupSubscribedToTopic = 86,
  // This record has failed the validation on broker and hence will be rejected.
  kInvalidRecord = 87,
  // There are unstable offsets that need to be cleared.
  kUnstableOffsetCommit = 88,
  // The throttling quota has been exceeded.
  kThrottlingQuotaExceeded = 89,
  // There is a newer producer with the same transactionalId which fences the current one.
  kProducerFenced = 90,
  // A request illegally referred to a resource that does not exist.
  kResourceNotFound = 91,
  // A request illegally referred to the same resource twice.
  kDuplicateResource = 92,
  // Requested credential would not meet criteria for acceptability.
  kUnacceptableCredential = 93,
  // Either the sender or recipient of a voter-only request is not one of the expected voters.
  kInconsistentVoterSet = 94,
  // The given update version was invalid.
  kInvalidUpdateVersion = 95,
  // Unable to update finalized features due to an unexpected server error.
  kFeatureUpdateFailed = 96,
  // Request principal deserialization failed during forwarding.
  kPrincipalDeserializationFailure = 97,
  // Requested snapshot was not found.
  kSnapshotNotFound = 98,
  // Requested position is not greater than or equal to zero, and less than the size of the
  // snapshot.
  kPositionOutOfRange = 99,
  // This server does not host this topic ID.
  kUnknownTopicId = 100,
  // This broker ID is already in use.
  kDuplicateBrokerRegistration = 101,
  // The given broker ID was not registered.
  kBrokerIdNotRegistered = 102,
  // The log's topic ID did not match the topic ID in the request.
  kInconsistentTopicId = 103,
  // The clusterId in the request does not match that found on the server.
  kInconsistentClusterId = 104,
  // The transactionalId could not be found.
  kTransactionalIdNotFound = 105,
  // The fetch session encountered inconsistent topic ID usage.
  kFetchSessionTopicIdError = 106,
  // The new ISR contains at least one ineligible replica.
  kIneligibleReplica = 107,
  // The AlterPartition request successfully updated the partition state but the leader has changed.
  kNewLeaderElected = 108,
  // The requested offset is moved to tiered storage.
  kOffsetMovedToTieredStorage = 109,
  // The member epoch is fenced by the group coordinator; the member must abandon all its partitions
  // and rejoin.
  kFencedMemberEpoch = 110,
  // The instance ID is still used by another member in the consumer group; that member must leave
  // first.
  kUnreleasedInstanceId = 111,
  // The assignor or its version range is not supported by the consumer group.
  kUnsupportedAssignor = 112,
  // The member epoch is stale; the member must retry after receiving its updated member epoch.
  kStaleMemberEpoch = 113,
  // The request was sent to an endpoint of the wrong type.
  kMismatchedEndpointType = 114,
  // This endpoint type is not supported yet.
  kUnsupportedEndpointType = 115,
  // This controller ID is not known.
  kUnknownControllerId = 116,
  // Client sent a push telemetry request with an invalid or outdated subscription ID.
  kUnknownSubscriptionId = 117,
  // Client sent a push telemetry request larger than the maximum size the broker will accept.
  kTelemetryTooLarge = 118,
  // The controller has considered the broker registration to be invalid.
  kInvalidRegistration = 119,
};

// Kafka's name of the code ("UNKNOWN_TOPIC_OR_PARTITION"), or "UNKNOWN_ERROR_CODE" for a value that is
// not an enumerator.
const char* error_code_name(ErrorCode code);

// The wire value.
constexpr int16_t to_int16(ErrorCode code) { return static_cast<int16_t>(code); }

// Maps an engine error to the Kafka code a client should see:
//   kOk -> NONE, kNotFound -> UNKNOWN_TOPIC_OR_PARTITION, kAlreadyExists -> TOPIC_ALREADY_EXISTS,
//   kInvalidArgument -> INVALID_REQUEST, kCorruption -> CORRUPT_MESSAGE,
//   kIoError / kNoSpace / kPermissionDenied -> KAFKA_STORAGE_ERROR (retriable for clients),
//   kOffsetOutOfRange -> OFFSET_OUT_OF_RANGE, kRecordTooLarge -> MESSAGE_TOO_LARGE,
//   kNotSupported -> INVALID_REQUEST, kBusy / kTimeout -> REQUEST_TIMED_OUT (retriable),
//   kUnavailable -> NOT_LEADER_OR_FOLLOWER (clients refresh metadata and retry),
//   anything else -> UNKNOWN_SERVER_ERROR.
// Group and topic handlers override where Kafka has a specific code (GROUP_ID_NOT_FOUND,
// INVALID_TOPIC_EXCEPTION, INVALID_CONFIG, UNSUPPORTED_COMPRESSION_TYPE, ...).
ErrorCode to_kafka_error(const Error& error);

}  // namespace streamctl::kafka::protocol
