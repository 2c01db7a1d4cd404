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
// OffsetFetch), producer_id.cc (InitProducerId), error_response.cc (an error answer for any request).
// Thread-safety: handlers may run concurrently on different connections; they rely on the services' own
// locking.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/fs.h"
#include "engine/record_batch.h"
#include "server/protocol/messages.h"
#include "server/request_context.h"

namespace streamctl::server::handlers {

template <typename Response>
using Respond = std::function<void(Response)>;

// Produce's outcome: acks=0 requests get no response; if such a request fails the connection is closed
// instead (as Kafka does, so the client notices and refreshes its metadata).
struct ProduceOutcome {
  std::optional<protocol::ProduceResponse> response;
  bool close_connection = false;
  std::string close_reason;
};

ProduceOutcome handle_produce(RequestContext& ctx, const protocol::ProduceRequest& req);

// Fetch's answer: the response, and the partitions whose records stay in their segment files until the
// connection sends them (sendfile): their `records` value in `response` is empty, and `partition` counts the
// response's partitions in order, across topics (the records field's ordinal, protocol::ExternalRecords).
struct FetchAnswer {
  struct FileRecords {
    size_t partition = 0;
    std::vector<engine::FileSlice> slices;  // the records bytes, in order
  };
  protocol::FetchResponse response;
  std::vector<FileRecords> file_records;  // ascending `partition`
};
// Records of a partition smaller than this are copied into the response: a separate sendfile costs more.
inline constexpr uint64_t kMinSendfileBytes = 32 * 1024;
void handle_fetch(const RequestContext& ctx, protocol::FetchRequest req, Respond<FetchAnswer> done);
protocol::ListOffsetsResponse handle_list_offsets(RequestContext& ctx, const protocol::ListOffsetsRequest& req);

protocol::MetadataResponse handle_metadata(RequestContext& ctx, const protocol::MetadataRequest& req);
protocol::ApiVersionsResponse handle_api_versions(RequestContext& ctx, const protocol::ApiVersionsRequest& req);
protocol::DescribeClusterResponse handle_describe_cluster(RequestContext& ctx,
                                                          const protocol::DescribeClusterRequest& req);

protocol::CreateTopicsResponse handle_create_topics(RequestContext& ctx, const protocol::CreateTopicsRequest& req);
protocol::DeleteTopicsResponse handle_delete_topics(RequestContext& ctx, const protocol::DeleteTopicsRequest& req);
protocol::CreatePartitionsResponse handle_create_partitions(RequestContext& ctx,
                                                            const protocol::CreatePartitionsRequest& req);
protocol::DeleteRecordsResponse handle_delete_records(RequestContext& ctx,
                                                      const protocol::DeleteRecordsRequest& req);

protocol::DescribeConfigsResponse handle_describe_configs(RequestContext& ctx,
                                                          const protocol::DescribeConfigsRequest& req);
protocol::AlterConfigsResponse handle_alter_configs(RequestContext& ctx, const protocol::AlterConfigsRequest& req);
protocol::IncrementalAlterConfigsResponse handle_incremental_alter_configs(
    RequestContext& ctx, const protocol::IncrementalAlterConfigsRequest& req);

protocol::FindCoordinatorResponse handle_find_coordinator(RequestContext& ctx,
                                                          const protocol::FindCoordinatorRequest& req);
void handle_join_group(const RequestContext& ctx, const protocol::JoinGroupRequest& req,
                       Respond<protocol::JoinGroupResponse> done);
void handle_sync_group(const RequestContext& ctx, const protocol::SyncGroupRequest& req,
                       Respond<protocol::SyncGroupResponse> done);
protocol::HeartbeatResponse handle_heartbeat(RequestContext& ctx, const protocol::HeartbeatRequest& req);
protocol::LeaveGroupResponse handle_leave_group(RequestContext& ctx, const protocol::LeaveGroupRequest& req);
protocol::ListGroupsResponse handle_list_groups(RequestContext& ctx, const protocol::ListGroupsRequest& req);
protocol::DescribeGroupsResponse handle_describe_groups(RequestContext& ctx,
                                                        const protocol::DescribeGroupsRequest& req);
protocol::DeleteGroupsResponse handle_delete_groups(RequestContext& ctx, const protocol::DeleteGroupsRequest& req);
protocol::OffsetDeleteResponse handle_offset_delete(RequestContext& ctx, const protocol::OffsetDeleteRequest& req);

protocol::OffsetCommitResponse handle_offset_commit(RequestContext& ctx, const protocol::OffsetCommitRequest& req);
protocol::OffsetFetchResponse handle_offset_fetch(RequestContext& ctx, const protocol::OffsetFetchRequest& req);

protocol::InitProducerIdResponse handle_init_producer_id(RequestContext& ctx,
                                                         const protocol::InitProducerIdRequest& req);

// A response to `req` carrying `error` everywhere a per-item or top-level error code fits (Kafka's
// AbstractRequest.getErrorResponse): used for versions we can decode but do not advertise.
protocol::ResponseBody make_error_response(const protocol::RequestBody& req, int16_t version, protocol::ErrorCode error);

// True if any error code in the response is not NONE (for the per-API error counters).
bool response_has_error(const protocol::ResponseBody& resp);

// ---- helpers shared by the handler files

// Reads the batch headers of the last `max_offsets` offsets of a partition (producer-state rebuild).
engine::Result<std::vector<engine::RecordBatchHeader>> read_tail_headers(engine::LogManager& logs,
                                                                         const engine::TopicPartition& tp,
                                                                         int64_t max_offsets);

// Number of partitions of a topic, or -1 when it does not exist.
int32_t partition_count(BrokerServices& s, const std::string& topic);

// Removes a deleted topic's committed offsets from every group (Kafka does this on topic deletion).
void forget_topic_offsets(engine::GroupStore& store, const std::string& topic);

}  // namespace streamctl::server::handlers
