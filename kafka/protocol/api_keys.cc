#include "kafka/protocol/api_keys.h"

#include <algorithm>
#include <array>

#include "kafka/protocol/generated/begin_quorum_epoch.h"
#include "kafka/protocol/generated/describe_quorum.h"
#include "kafka/protocol/generated/end_quorum_epoch.h"
#include "kafka/protocol/generated/fetch_snapshot.h"
#include "kafka/protocol/generated/messages.h"
#include "kafka/protocol/generated/vote.h"

namespace streamctl::kafka::protocol {

namespace {

// Decodable range: the intersection of the generated request and response ranges (they are equal).
template <typename Request, typename Response>
constexpr VersionRange decodable() {
  static_assert(Request::kApiKey == Response::kApiKey);
  static_assert(Request::kFirstFlexibleVersion == Response::kFirstFlexibleVersion);
  return VersionRange{std::max(Request::kMinVersion, Response::kMinVersion),
                      std::min(Request::kMaxVersion, Response::kMaxVersion)};
}

template <typename Request, typename Response>
constexpr ApiInfo api(const char* name, VersionRange advertised) {
  return ApiInfo{static_cast<ApiKey>(Request::kApiKey), name, advertised,
                 decodable<Request, Response>(), Request::kFirstFlexibleVersion};
}

// THE table. Advertised ranges: COMPAT.md §1 (see api_keys.h for the constraints they satisfy).
constexpr std::array kApis = {
    api<ProduceRequest, ProduceResponse>("Produce", {0, 7}),
    // Produce v0-v2 and Fetch v0-v3 use message formats v0/v1: converted to and from RecordBatch v2
    // (kafka/format/legacy_records.h), as Kafka 3.x brokers do.
    api<FetchRequest, FetchResponse>("Fetch", {0, 11}),
    api<ListOffsetsRequest, ListOffsetsResponse>("ListOffsets", {0, 5}),
    api<MetadataRequest, MetadataResponse>("Metadata", {0, 8}),
    api<OffsetCommitRequest, OffsetCommitResponse>("OffsetCommit", {0, 7}),
    api<OffsetFetchRequest, OffsetFetchResponse>("OffsetFetch", {0, 5}),
    api<FindCoordinatorRequest, FindCoordinatorResponse>("FindCoordinator", {0, 2}),
    api<JoinGroupRequest, JoinGroupResponse>("JoinGroup", {0, 5}),
    api<HeartbeatRequest, HeartbeatResponse>("Heartbeat", {0, 3}),
    api<LeaveGroupRequest, LeaveGroupResponse>("LeaveGroup", {0, 3}),
    api<SyncGroupRequest, SyncGroupResponse>("SyncGroup", {0, 3}),
    api<DescribeGroupsRequest, DescribeGroupsResponse>("DescribeGroups", {0, 4}),
    api<ListGroupsRequest, ListGroupsResponse>("ListGroups", {0, 2}),
    // Advertised on every listener, as Kafka does (a PLAINTEXT listener answers ILLEGAL_SASL_STATE);
    // librdkafka picks SaslHandshake v1 (tokens in SaslAuthenticate) when it sees them.
    api<SaslHandshakeRequest, SaslHandshakeResponse>("SaslHandshake", {0, 1}),
    api<ApiVersionsRequest, ApiVersionsResponse>("ApiVersions", {0, 3}),
    api<CreateTopicsRequest, CreateTopicsResponse>("CreateTopics", {0, 4}),
    api<DeleteTopicsRequest, DeleteTopicsResponse>("DeleteTopics", {0, 3}),
    api<DeleteRecordsRequest, DeleteRecordsResponse>("DeleteRecords", {0, 1}),
    // Only non-idempotent producers until idempotence is implemented; v2+ is flexible.
    api<InitProducerIdRequest, InitProducerIdResponse>("InitProducerId", {0, 1}),
    // ACL administration (serve --authorizer; SECURITY_DISABLED without). Every version: v2+ is flexible
    // (librdkafka 2.0 and kafka-python pick v1; Kafka's own admin client v2/v3).
    api<DescribeAclsRequest, DescribeAclsResponse>("DescribeAcls", {0, 3}),
    api<CreateAclsRequest, CreateAclsResponse>("CreateAcls", {0, 3}),
    api<DeleteAclsRequest, DeleteAclsResponse>("DeleteAcls", {0, 3}),
    api<DescribeConfigsRequest, DescribeConfigsResponse>("DescribeConfigs", {0, 2}),
    // Replaces a topic's whole override set (librdkafka 2.0's Admin API has no IncrementalAlterConfigs);
    // v2+ is flexible.
    api<AlterConfigsRequest, AlterConfigsResponse>("AlterConfigs", {0, 1}),
    api<SaslAuthenticateRequest, SaslAuthenticateResponse>("SaslAuthenticate", {0, 2}),
    api<CreatePartitionsRequest, CreatePartitionsResponse>("CreatePartitions", {0, 1}),
    api<DeleteGroupsRequest, DeleteGroupsResponse>("DeleteGroups", {0, 1}),
    api<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse>("IncrementalAlterConfigs",
                                                                         {0, 0}),
    // Deletes committed offsets of an inactive group, or of topics no active member subscribes to.
    api<OffsetDeleteRequest, OffsetDeleteResponse>("OffsetDelete", {0, 0}),
    // KRaft quorum APIs (peer to peer, cluster/raft_wire.h): not advertised until the server handles them.
    api<VoteRequest, VoteResponse>("Vote", kNotAdvertised),
    api<BeginQuorumEpochRequest, BeginQuorumEpochResponse>("BeginQuorumEpoch", kNotAdvertised),
    api<EndQuorumEpochRequest, EndQuorumEpochResponse>("EndQuorumEpoch", kNotAdvertised),
    api<DescribeQuorumRequest, DescribeQuorumResponse>("DescribeQuorum", kNotAdvertised),
    api<FetchSnapshotRequest, FetchSnapshotResponse>("FetchSnapshot", kNotAdvertised),
    // Flexible from v0: no client in scope sends it; decodable for tests and future use.
    api<DescribeClusterRequest, DescribeClusterResponse>("DescribeCluster", kNotAdvertised),
};

constexpr bool sorted_by_key() {
  for (size_t i = 1; i < kApis.size(); ++i) {
    if (static_cast<int16_t>(kApis[i - 1].key) >= static_cast<int16_t>(kApis[i].key)) return false;
  }
  return true;
}
static_assert(sorted_by_key(), "kApis must be sorted by API key");

constexpr bool advertised_within_decodable() {
  for (const ApiInfo& a : kApis) {
    if (a.advertised.empty()) continue;
    if (a.advertised.min < a.decodable.min || a.advertised.max > a.decodable.max) return false;
  }
  return true;
}
static_assert(advertised_within_decodable(), "every advertised version must be decodable");

}  // namespace

std::span<const ApiInfo> api_table() { return kApis; }

const ApiInfo* find_api(int16_t api_key) {
  auto it = std::lower_bound(kApis.begin(), kApis.end(), api_key, [](const ApiInfo& a, int16_t k) {
    return static_cast<int16_t>(a.key) < k;
  });
  if (it == kApis.end() || static_cast<int16_t>(it->key) != api_key) return nullptr;
  return &*it;
}

bool is_quorum_api(int16_t api_key) {
  switch (static_cast<ApiKey>(api_key)) {
    case ApiKey::kVote:
    case ApiKey::kBeginQuorumEpoch:
    case ApiKey::kEndQuorumEpoch:
    case ApiKey::kDescribeQuorum:
    case ApiKey::kFetchSnapshot:
      return true;
    default:
      return false;
  }
}

const char* api_name(int16_t api_key) {
  const ApiInfo* a = find_api(api_key);
  return a != nullptr ? a->name : "Unknown";
}

bool is_advertised(int16_t api_key, int16_t version) {
  const ApiInfo* a = find_api(api_key);
  return a != nullptr && a->advertised.contains(version);
}

bool is_flexible_version(int16_t api_key, int16_t version) {
  const ApiInfo* a = find_api(api_key);
  return a != nullptr && a->first_flexible >= 0 && version >= a->first_flexible;
}

ApiVersionsResponse make_api_versions_response(ErrorCode error) {
  ApiVersionsResponse resp;
  resp.error_code = to_int16(error);
  for (const ApiInfo& a : kApis) {
    if (a.advertised.empty()) continue;
    ApiVersionsResponse::ApiVersion v;
    v.api_key = static_cast<int16_t>(a.key);
    v.min_version = a.advertised.min;
    v.max_version = a.advertised.max;
    resp.api_keys.push_back(std::move(v));
  }
  return resp;
}

ApiVersionsResponse make_unsupported_api_versions_response() {
  ApiVersionsResponse resp;
  resp.error_code = to_int16(ErrorCode::kUnsupportedVersion);
  const ApiInfo* self = find_api(static_cast<int16_t>(ApiKey::kApiVersions));
  ApiVersionsResponse::ApiVersion v;
  v.api_key = static_cast<int16_t>(ApiKey::kApiVersions);
  v.min_version = self->advertised.min;
  v.max_version = self->advertised.max;
  resp.api_keys.push_back(std::move(v));
  return resp;
}

}  // namespace streamctl::kafka::protocol
