// Error answers for any request (Kafka's AbstractRequest.getErrorResponse), and the "did this response
// carry an error" test behind the per-API error counters.
#include "server/handlers/handlers.h"
#include "kafka/protocol/api_keys.h"

namespace streamctl::server::handlers {

namespace p = kafka::protocol;
using p::ErrorCode;
using p::to_int16;

namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace

p::ResponseBody make_error_response(const p::RequestBody& request, int16_t version, ErrorCode error) {
  const int16_t e = to_int16(error);
  return std::visit(
      Overloaded{
          [&](const p::ProduceRequest& r) -> p::ResponseBody {
            p::ProduceResponse out;
            for (const auto& t : r.topic_data) {
              p::ProduceResponse::TopicProduceResponse tr;
              tr.name = t.name;
              for (const auto& pd : t.partition_data) {
                p::ProduceResponse::PartitionProduceResponse pr;
                pr.index = pd.index;
                pr.error_code = e;
                pr.base_offset = -1;
                tr.partition_responses.push_back(pr);
              }
              out.responses.push_back(std::move(tr));
            }
            return out;
          },
          [&](const p::FetchRequest& r) -> p::ResponseBody {
            p::FetchResponse out;
            out.error_code = e;
            for (const auto& t : r.topics) {
              p::FetchResponse::FetchableTopicResponse tr;
              tr.topic = t.topic;
              for (const auto& fp : t.partitions) {
                p::FetchResponse::PartitionData pd;
                pd.partition_index = fp.partition;
                pd.error_code = e;
                pd.high_watermark = -1;
                tr.partitions.push_back(std::move(pd));
              }
              out.responses.push_back(std::move(tr));
            }
            return out;
          },
          [&](const p::ListOffsetsRequest& r) -> p::ResponseBody {
            p::ListOffsetsResponse out;
            for (const auto& t : r.topics) {
              p::ListOffsetsResponse::ListOffsetsTopicResponse tr;
              tr.name = t.name;
              for (const auto& lp : t.partitions) {
                p::ListOffsetsResponse::ListOffsetsPartitionResponse pr;
                pr.partition_index = lp.partition_index;
                pr.error_code = e;
                tr.partitions.push_back(std::move(pr));
              }
              out.topics.push_back(std::move(tr));
            }
            return out;
          },
          [&](const p::MetadataRequest& r) -> p::ResponseBody {
            p::MetadataResponse out;
            if (r.topics) {
              for (const auto& t : *r.topics) {
                p::MetadataResponse::MetadataResponseTopic mt;
                mt.error_code = e;
                mt.name = t.name;
                mt.topic_id = t.topic_id;
                out.topics.push_back(std::move(mt));
              }
            }
            return out;
          },
          [&](const p::OffsetCommitRequest& r) -> p::ResponseBody {
            p::OffsetCommitResponse out;
            for (const auto& t : r.topics) {
              p::OffsetCommitResponse::OffsetCommitResponseTopic tr;
              tr.name = t.name;
              for (const auto& cp : t.partitions) tr.partitions.push_back({cp.partition_index, e, {}});
              out.topics.push_back(std::move(tr));
            }
            return out;
          },
          [&](const p::OffsetFetchRequest& r) -> p::ResponseBody {
            p::OffsetFetchResponse out;
            out.error_code = e;
            if (r.topics) {
              for (const auto& t : *r.topics) {
                p::OffsetFetchResponse::OffsetFetchResponseTopic tr;
                tr.name = t.name;
                for (int32_t idx : t.partition_indexes) {
                  p::OffsetFetchResponse::OffsetFetchResponsePartition pr;
                  pr.partition_index = idx;
                  pr.committed_offset = -1;
                  pr.error_code = e;
                  tr.partitions.push_back(std::move(pr));
                }
                out.topics.push_back(std::move(tr));
              }
            }
            for (const auto& g : r.groups) {
              p::OffsetFetchResponse::OffsetFetchResponseGroup gr;
              gr.group_id = g.group_id;
              gr.error_code = e;
              out.groups.push_back(std::move(gr));
            }
            return out;
          },
          [&](const p::FindCoordinatorRequest& r) -> p::ResponseBody {
            p::FindCoordinatorResponse out;
            if (version < 4) {  // v4+ answers per key only
              out.error_code = e;
              out.node_id = -1;
              out.port = -1;
            }
            for (const auto& k : r.coordinator_keys) {
              p::FindCoordinatorResponse::Coordinator c;
              c.key = k;
              c.node_id = -1;
              c.port = -1;
              c.error_code = e;
              out.coordinators.push_back(std::move(c));
            }
            return out;
          },
          [&](const p::JoinGroupRequest& r) -> p::ResponseBody {
            p::JoinGroupResponse out;
            out.error_code = e;
            out.member_id = r.member_id;
            return out;
          },
          [&](const p::HeartbeatRequest&) -> p::ResponseBody {
            p::HeartbeatResponse out;
            out.error_code = e;
            return out;
          },
          [&](const p::LeaveGroupRequest& r) -> p::ResponseBody {
            p::LeaveGroupResponse out;
            out.error_code = e;
            for (const auto& m : r.members) {
              p::LeaveGroupResponse::MemberResponse mr;
              mr.member_id = m.member_id;
              mr.group_instance_id = m.group_instance_id;
              mr.error_code = e;
              out.members.push_back(std::move(mr));
            }
            return out;
          },
          [&](const p::SyncGroupRequest&) -> p::ResponseBody {
            p::SyncGroupResponse out;
            out.error_code = e;
            return out;
          },
          [&](const p::DescribeGroupsRequest& r) -> p::ResponseBody {
            p::DescribeGroupsResponse out;
            for (const auto& g : r.groups) {
              p::DescribeGroupsResponse::DescribedGroup dg;
              dg.error_code = e;
              dg.group_id = g;
              out.groups.push_back(std::move(dg));
            }
            return out;
          },
          [&](const p::ListGroupsRequest&) -> p::ResponseBody {
            p::ListGroupsResponse out;
            out.error_code = e;
            return out;
          },
          [&](const p::ApiVersionsRequest&) -> p::ResponseBody { return p::make_api_versions_response(error); },
          [&](const p::CreateTopicsRequest& r) -> p::ResponseBody {
            p::CreateTopicsResponse out;
            for (const auto& t : r.topics) {
              p::CreateTopicsResponse::CreatableTopicResult tr;
              tr.name = t.name;
              tr.error_code = e;
              tr.error_message = std::nullopt;
              tr.configs = std::nullopt;
              out.topics.push_back(std::move(tr));
            }
            return out;
          },
          [&](const p::DeleteTopicsRequest& r) -> p::ResponseBody {
            p::DeleteTopicsResponse out;
            for (const auto& n : r.topic_names) {
              p::DeleteTopicsResponse::DeletableTopicResult tr;
              tr.name = n;
              tr.error_code = e;
              out.responses.push_back(std::move(tr));
            }
            for (const auto& t : r.topics) {
              p::DeleteTopicsResponse::DeletableTopicResult tr;
              tr.name = t.name;
              tr.topic_id = t.topic_id;
              tr.error_code = e;
              out.responses.push_back(std::move(tr));
            }
            return out;
          },
          [&](const p::DeleteRecordsRequest& r) -> p::ResponseBody {
            p::DeleteRecordsResponse out;
            for (const auto& t : r.topics) {
              p::DeleteRecordsResponse::DeleteRecordsTopicResult tr;
              tr.name = t.name;
              for (const auto& dp : t.partitions) tr.partitions.push_back({dp.partition_index, -1, e, {}});
              out.topics.push_back(std::move(tr));
            }
            return out;
          },
          [&](const p::InitProducerIdRequest&) -> p::ResponseBody {
            p::InitProducerIdResponse out;
            out.error_code = e;
            out.producer_id = -1;
            out.producer_epoch = -1;
            return out;
          },
          [&](const p::DescribeConfigsRequest& r) -> p::ResponseBody {
            p::DescribeConfigsResponse out;
            for (const auto& res : r.resources) {
              p::DescribeConfigsResponse::DescribeConfigsResult rr;
              rr.error_code = e;
              rr.error_message = std::nullopt;
              rr.resource_type = res.resource_type;
              rr.resource_name = res.resource_name;
              out.results.push_back(std::move(rr));
            }
            return out;
          },
          [&](const p::AlterConfigsRequest& r) -> p::ResponseBody {
            p::AlterConfigsResponse out;
            for (const auto& res : r.resources) {
              p::AlterConfigsResponse::AlterConfigsResourceResponse rr;
              rr.error_code = e;
              rr.error_message = std::nullopt;
              rr.resource_type = res.resource_type;
              rr.resource_name = res.resource_name;
              out.responses.push_back(std::move(rr));
            }
            return out;
          },
          [&](const p::CreatePartitionsRequest& r) -> p::ResponseBody {
            p::CreatePartitionsResponse out;
            for (const auto& t : r.topics) {
              p::CreatePartitionsResponse::CreatePartitionsTopicResult tr;
              tr.name = t.name;
              tr.error_code = e;
              out.results.push_back(std::move(tr));
            }
            return out;
          },
          [&](const p::DeleteGroupsRequest& r) -> p::ResponseBody {
            p::DeleteGroupsResponse out;
            for (const auto& g : r.groups_names) out.results.push_back({g, e, {}});
            return out;
          },
          [&](const p::IncrementalAlterConfigsRequest& r) -> p::ResponseBody {
            p::IncrementalAlterConfigsResponse out;
            for (const auto& res : r.resources) {
              p::IncrementalAlterConfigsResponse::AlterConfigsResourceResponse rr;
              rr.error_code = e;
              rr.error_message = std::nullopt;
              rr.resource_type = res.resource_type;
              rr.resource_name = res.resource_name;
              out.responses.push_back(std::move(rr));
            }
            return out;
          },
          [&](const p::OffsetDeleteRequest&) -> p::ResponseBody {
            p::OffsetDeleteResponse out;  // Kafka: the top-level error only
            out.error_code = e;
            return out;
          },
          [&](const p::DescribeClusterRequest&) -> p::ResponseBody {
            p::DescribeClusterResponse out;
            out.error_code = e;
            return out;
          },
          [&](const p::DescribeAclsRequest&) -> p::ResponseBody {
            p::DescribeAclsResponse out;
            out.error_code = e;
            out.error_message = std::nullopt;
            return out;
          },
          [&](const p::CreateAclsRequest& r) -> p::ResponseBody {
            p::CreateAclsResponse out;
            for (size_t i = 0; i < r.creations.size(); ++i) {
              auto& x = out.results.emplace_back();
              x.error_code = e;
              x.error_message = std::nullopt;
            }
            return out;
          },
          [&](const p::DeleteAclsRequest& r) -> p::ResponseBody {
            p::DeleteAclsResponse out;
            for (size_t i = 0; i < r.filters.size(); ++i) {
              auto& x = out.filter_results.emplace_back();
              x.error_code = e;
              x.error_message = std::nullopt;
            }
            return out;
          },
          [&](const p::SaslHandshakeRequest&) -> p::ResponseBody {
            p::SaslHandshakeResponse out;
            out.error_code = e;
            return out;
          },
          [&](const p::SaslAuthenticateRequest&) -> p::ResponseBody {
            p::SaslAuthenticateResponse out;
            out.error_code = e;
            out.error_message = std::nullopt;
            return out;
          },
      },
      request);
}

bool response_has_error(const p::ResponseBody& response) {
  return std::visit(
      Overloaded{
          [](const p::ProduceResponse& r) {
            for (const auto& t : r.responses)
              for (const auto& pr : t.partition_responses)
                if (pr.error_code) return true;
            return false;
          },
          [](const p::FetchResponse& r) {
            if (r.error_code) return true;
            for (const auto& t : r.responses)
              for (const auto& pd : t.partitions)
                if (pd.error_code) return true;
            return false;
          },
          [](const p::ListOffsetsResponse& r) {
            for (const auto& t : r.topics)
              for (const auto& pr : t.partitions)
                if (pr.error_code) return true;
            return false;
          },
          [](const p::MetadataResponse& r) {
            for (const auto& t : r.topics)
              if (t.error_code) return true;
            return false;
          },
          [](const p::OffsetCommitResponse& r) {
            for (const auto& t : r.topics)
              for (const auto& pr : t.partitions)
                if (pr.error_code) return true;
            return false;
          },
          [](const p::OffsetFetchResponse& r) {
            if (r.error_code) return true;
            for (const auto& g : r.groups)
              if (g.error_code) return true;
            for (const auto& t : r.topics)
              for (const auto& pr : t.partitions)
                if (pr.error_code) return true;
            return false;
          },
          [](const p::FindCoordinatorResponse& r) {
            if (r.error_code) return true;
            for (const auto& c : r.coordinators)
              if (c.error_code) return true;
            return false;
          },
          [](const p::LeaveGroupResponse& r) {
            if (r.error_code) return true;
            for (const auto& m : r.members)
              if (m.error_code) return true;
            return false;
          },
          [](const p::DescribeGroupsResponse& r) {
            for (const auto& g : r.groups)
              if (g.error_code) return true;
            return false;
          },
          [](const p::CreateTopicsResponse& r) {
            for (const auto& t : r.topics)
              if (t.error_code) return true;
            return false;
          },
          [](const p::DeleteTopicsResponse& r) {
            for (const auto& t : r.responses)
              if (t.error_code) return true;
            return false;
          },
          [](const p::DeleteRecordsResponse& r) {
            for (const auto& t : r.topics)
              for (const auto& pr : t.partitions)
                if (pr.error_code) return true;
            return false;
          },
          [](const p::DescribeConfigsResponse& r) {
            for (const auto& x : r.results)
              if (x.error_code) return true;
            return false;
          },
          [](const p::AlterConfigsResponse& r) {
            for (const auto& x : r.responses)
              if (x.error_code) return true;
            return false;
          },
          [](const p::CreatePartitionsResponse& r) {
            for (const auto& x : r.results)
              if (x.error_code) return true;
            return false;
          },
          [](const p::DeleteGroupsResponse& r) {
            for (const auto& x : r.results)
              if (x.error_code) return true;
            return false;
          },
          [](const p::IncrementalAlterConfigsResponse& r) {
            for (const auto& x : r.responses)
              if (x.error_code) return true;
            return false;
          },
          [](const p::OffsetDeleteResponse& r) {
            if (r.error_code) return true;
            for (const auto& t : r.topics)
              for (const auto& pr : t.partitions)
                if (pr.error_code) return true;
            return false;
          },
          [](const p::CreateAclsResponse& r) {
            for (const auto& x : r.results)
              if (x.error_code) return true;
            return false;
          },
          [](const p::DeleteAclsResponse& r) {
            for (const auto& x : r.filter_results)
              if (x.error_code) return true;
            return false;
          },
          // JoinGroup, Heartbeat, SyncGroup, ListGroups, ApiVersions, InitProducerId, DescribeCluster,
          // DescribeAcls.
          [](const auto& r) { return r.error_code != 0; },
      },
      response);
}

}  // namespace streamctl::server::handlers
