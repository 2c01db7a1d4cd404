// The one table of Kafka APIs streamctl knows: key, name, the versions we advertise and the versions
// the generated codec can decode/encode.
//
// "Advertised" is the contract with clients: ApiVersions announces exactly these ranges, and
// decode_request (frame.h) rejects anything outside them. It follows
// shared/kafka-protocol/COMPAT.md §1: librdkafka <= 2.0.2 turns features on only if a range contains
// an exact version (Produce min 0 and 3 and 7, Fetch 4 and 10, FindCoordinator/JoinGroup/SyncGroup/
// Heartbeat/LeaveGroup 0, ...), and every advertised version is non-flexible except ApiVersions v3.
// Produce v0-2 and Fetch v0-3 carry message formats v0/v1: the handlers convert them to and from the
// RecordBatch v2 the log stores (kafka/format/legacy_records.h), as Kafka 3.x brokers do.
// "Decodable" comes from the generated messages (kMinVersion/kMaxVersion) and is a superset, so that
// widening the advertisement is a one-line change here once a handler supports it.
// Constant data; thread-safe.
#pragma once

#include <cstdint>
#include <span>

#include "kafka/protocol/generated/api_versions.h"
#include "kafka/protocol/error_codes.h"

namespace streamctl::kafka::protocol {

enum class ApiKey : int16_t {
  kProduce = 0,
  kFetch = 1,
  kListOffsets = 2,
  kMetadata = 3,
  kOffsetCommit = 8,
  kOffsetFetch = 9,
  kFindCoordinator = 10,
  kJoinGroup = 11,
  kHeartbeat = 12,
  kLeaveGroup = 13,
  kSyncGroup = 14,
  kDescribeGroups = 15,
  kListGroups = 16,
  kSaslHandshake = 17,
  kApiVersions = 18,
  kCreateTopics = 19,
  kDeleteTopics = 20,
  kDeleteRecords = 21,
  kInitProducerId = 22,
  kDescribeAcls = 29,
  kCreateAcls = 30,
  kDeleteAcls = 31,
  kDescribeConfigs = 32,
  kAlterConfigs = 33,
  kSaslAuthenticate = 36,
  kCreatePartitions = 37,
  kDeleteGroups = 42,
  kIncrementalAlterConfigs = 44,
  kOffsetDelete = 47,
  // KRaft quorum APIs, between the nodes of a cluster (cluster/raft_wire.h); outside RequestBody/ResponseBody.
  kVote = 52,
  kBeginQuorumEpoch = 53,
  kEndQuorumEpoch = 54,
  kDescribeQuorum = 55,
  kFetchSnapshot = 59,
  kDescribeCluster = 60,
};

// Inclusive version range; empty when min > max.
struct VersionRange {
  int16_t min = 0;
  int16_t max = -1;

  constexpr bool empty() const { return min > max; }
  constexpr bool contains(int16_t v) const { return v >= min && v <= max; }
};

inline constexpr VersionRange kNotAdvertised{0, -1};

struct ApiInfo {
  ApiKey key;
  const char* name;             // Kafka's name, e.g. "Produce"
  VersionRange advertised;      // announced in ApiVersions, accepted by decode_request; may be empty
  VersionRange decodable;       // what the generated request/response codecs handle
  int16_t first_flexible;       // Kafka schema's first flexible version (open-ended), -1 if none
};

// Every API the codec knows, ascending by key. The KRaft quorum APIs (is_quorum_api) are in the table but
// not in generated/messages.h's RequestBody/ResponseBody: their codecs are generated/<api>.h, used by the
// peer transport (cluster/raft_wire.h); they stay unadvertised until the server has handlers for them.
std::span<const ApiInfo> api_table();

// Vote, BeginQuorumEpoch, EndQuorumEpoch, DescribeQuorum, FetchSnapshot.
bool is_quorum_api(int16_t api_key);


// The entry for `api_key`, or nullptr if the codec does not know it.
const ApiInfo* find_api(int16_t api_key);

// Kafka's name of the API ("Produce"), or "Unknown" for a key the codec does not know.
const char* api_name(int16_t api_key);

// True if `version` of `api_key` is in the advertised range.
bool is_advertised(int16_t api_key, int16_t version);

// Whether (api_key, version) uses the flexible encoding. Uses the schema's open-ended flexible range,
// so it also answers for versions beyond the codec (needed to parse their request header). Unknown
// keys are treated as non-flexible.
bool is_flexible_version(int16_t api_key, int16_t version);

// The ApiVersions response body announcing the advertised table, with `error` (NONE normally).
// Throttle time 0; no feature lists.
ApiVersionsResponse make_api_versions_response(ErrorCode error = ErrorCode::kNone);

// The answer to an ApiVersions request whose version is not advertised (Kafka's rule, see
// ApiVersionsRequest.java): error UNSUPPORTED_VERSION listing only ApiVersions' own range, to be sent
// with a v0 body and a v0 response header whatever version the client asked for. librdkafka then
// retries with the highest version listed.
ApiVersionsResponse make_unsupported_api_versions_response();

}  // namespace streamctl::kafka::protocol
