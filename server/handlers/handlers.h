// Request handlers: one function per Kafka API, request struct in, response struct out, over a
// RequestContext (server/request_context.h). They never touch a socket; the dispatcher
// (server/dispatcher.h) decodes the request, calls the handler and encodes what it returns.
//
// Synchronous handlers return their response. Asynchronous ones (Fetch long poll, JoinGroup, SyncGroup)
// take a completion that they call exactly once, possibly later and from another io thread.
// Files, one per API family: produce.cc, fetch.cc, list_offsets.cc, metadata.cc (Metadata, ApiVersions,
// DescribeCluster), topics.cc (CreateTopics, DeleteTopics, CreatePartitions, DeleteRecords), configs.cc
// (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs), groups.cc (FindCoordinator, JoinGroup,
// SyncGroup, Heartbeat, LeaveGroup, ListGroups, DescribeGroups, DeleteGroups, OffsetDelete), offsets.cc (OffsetCommit,
// OffsetFetch), producer_id.cc (InitProducerId), acls.cc (DescribeAcls, CreateAcls, DeleteAcls), error_response.cc (an error answer for any request).
// Thread-safety: handlers may run concurrently on different connections; they rely on the services' own
// locking.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/fs.h"
#include "kafka/format/record_batch.h"
#include "kafka/protocol/generated/messages.h"
#include "server/request_context.h"

namespace streamctl::server::handlers {

template <typename Response>
using Respond = std::function<void(Response)>;

// Produce's outcome: acks=0 requests get no response; if such a request fails the connection is closed
// instead (as Kafka does, so the client notices and refreshes its metadata).
struct ProduceOutcome {
  std::optional<kafka::protocol::ProduceResponse> response;
  bool close_connection = false;
  std::string close_reason;
};

ProduceOutcome handle_produce(RequestContext& ctx, const kafka::protocol::ProduceRequest& req);

// Fetch's answer: the response, and the partitions whose records stay in their segment files until the
// connection sends them (sendfile): their `records` value in `response` is empty, and `partition` counts the
// response's partitions in order, across topics (the records field's ordinal, kafka::protocol::ExternalRecords).
struct FetchAnswer {
  struct FileRecords {
    size_t partition = 0;
    std::vector<FileSlice> slices;  // the records bytes, in order
  };
  kafka::protocol::FetchResponse response;
  std::vector<FileRecords> file_records;  // ascending `partition`
};
// Records of a partition smaller than this are copied into the response: a separate sendfile costs more.
inline constexpr uint64_t kMinSendfileBytes = 32 * 1024;
void handle_fetch(const RequestContext& ctx, kafka::protocol::FetchRequest req, Respond<FetchAnswer> done);
kafka::protocol::ListOffsetsResponse handle_list_offsets(RequestContext& ctx, const kafka::protocol::ListOffsetsRequest& req);

kafka::protocol::MetadataResponse handle_metadata(RequestContext& ctx, const kafka::protocol::MetadataRequest& req);
kafka::protocol::ApiVersionsResponse handle_api_versions(RequestContext& ctx, const kafka::protocol::ApiVersionsRequest& req);
kafka::protocol::DescribeClusterResponse handle_describe_cluster(RequestContext& ctx,
                                                          const kafka::protocol::DescribeClusterRequest& req);

kafka::protocol::CreateTopicsResponse handle_create_topics(RequestContext& ctx, const kafka::protocol::CreateTopicsRequest& req);
kafka::protocol::DeleteTopicsResponse handle_delete_topics(RequestContext& ctx, const kafka::protocol::DeleteTopicsRequest& req);
kafka::protocol::CreatePartitionsResponse handle_create_partitions(RequestContext& ctx,
                                                            const kafka::protocol::CreatePartitionsRequest& req);
kafka::protocol::DeleteRecordsResponse handle_delete_records(RequestContext& ctx,
                                                      const kafka::protocol::DeleteRecordsRequest& req);

kafka::protocol::DescribeConfigsResponse handle_describe_configs(RequestContext& ctx,
                                                          const kafka::protocol::DescribeConfigsRequest& req);
kafka::protocol::AlterConfigsResponse handle_alter_configs(RequestContext& ctx, const kafka::protocol::AlterConfigsRequest& req);
kafka::protocol::IncrementalAlterConfigsResponse handle_incremental_alter_configs(
    RequestContext& ctx, const kafka::protocol::IncrementalAlterConfigsRequest& req);

kafka::protocol::FindCoordinatorResponse handle_find_coordinator(RequestContext& ctx,
                                                          const kafka::protocol::FindCoordinatorRequest& req);
void handle_join_group(const RequestContext& ctx, const kafka::protocol::JoinGroupRequest& req,
                       Respond<kafka::protocol::JoinGroupResponse> done);
void handle_sync_group(const RequestContext& ctx, const kafka::protocol::SyncGroupRequest& req,
                       Respond<kafka::protocol::SyncGroupResponse> done);
kafka::protocol::HeartbeatResponse handle_heartbeat(RequestContext& ctx, const kafka::protocol::HeartbeatRequest& req);
kafka::protocol::LeaveGroupResponse handle_leave_group(RequestContext& ctx, const kafka::protocol::LeaveGroupRequest& req);
kafka::protocol::ListGroupsResponse handle_list_groups(RequestContext& ctx, const kafka::protocol::ListGroupsRequest& req);
kafka::protocol::DescribeGroupsResponse handle_describe_groups(RequestContext& ctx,
                                                        const kafka::protocol::DescribeGroupsRequest& req);
kafka::protocol::DeleteGroupsResponse handle_delete_groups(RequestContext& ctx, const kafka::protocol::DeleteGroupsRequest& req);
kafka::protocol::OffsetDeleteResponse handle_offset_delete(RequestContext& ctx, const kafka::protocol::OffsetDeleteRequest& req);

kafka::protocol::OffsetCommitResponse handle_offset_commit(RequestContext& ctx, const kafka::protocol::OffsetCommitRequest& req);
kafka::protocol::OffsetFetchResponse handle_offset_fetch(RequestContext& ctx, const kafka::protocol::OffsetFetchRequest& req);

// acls.cc: ACL administration over ctx.services->authorizer (SECURITY_DISABLED when there is none).
kafka::protocol::DescribeAclsResponse handle_describe_acls(RequestContext& ctx, const kafka::protocol::DescribeAclsRequest& req);
kafka::protocol::CreateAclsResponse handle_create_acls(RequestContext& ctx, const kafka::protocol::CreateAclsRequest& req);
kafka::protocol::DeleteAclsResponse handle_delete_acls(RequestContext& ctx, const kafka::protocol::DeleteAclsRequest& req);

kafka::protocol::InitProducerIdResponse handle_init_producer_id(RequestContext& ctx,
                                                         const kafka::protocol::InitProducerIdRequest& req);

// A response to `req` carrying `error` everywhere a per-item or top-level error code fits (Kafka's
// AbstractRequest.getErrorResponse): used for versions we can decode but do not advertise.
kafka::protocol::ResponseBody make_error_response(const kafka::protocol::RequestBody& req, int16_t version, kafka::protocol::ErrorCode error);

// True if any error code in the response is not NONE (for the per-API error counters).
bool response_has_error(const kafka::protocol::ResponseBody& resp);

// ---- helpers shared by the handler files

// Reads the batch headers of the last `max_offsets` offsets of a partition (producer-state rebuild).
Result<std::vector<RecordBatchHeader>> read_tail_headers(engine::LogManager& logs,
                                                                         const TopicPartition& tp,
                                                                         int64_t max_offsets);

// Number of partitions of a topic, or -1 when it does not exist.
int32_t partition_count(BrokerServices& s, const std::string& topic);

// Removes a deleted topic's committed offsets from every group (Kafka does this on topic deletion).
void forget_topic_offsets(engine::GroupStore& store, const std::string& topic);

}  // namespace streamctl::server::handlers
